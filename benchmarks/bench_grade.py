"""Grading a class: 20 submissions of the smallest assignment, serial and with ``make grade``'s workers.

Run from the repository root::

    python benchmarks/bench_grade.py [--submissions 20] [--workers N]

In a temporary copy of the course it generates ``00_welcome`` (the assignment that grades
fastest), puts 20 generated submissions in ``submitted/``: of every five, the reference answers,
the untouched release (stubs) and three kept mistakes of ``tests/wrong/00_welcome`` applied to
the reference (each in turn; mistakes that only loop until a cell timeout are left out, since
they measure the timeout, not grading). Then it grades them twice:

- the baseline, serial: ``nbgrader autograde 00_welcome``, nbgrader's own command, one process
  grading one submission after another;
- ``make grade``'s way (:mod:`course_lib.grading.classroom`), ``--force``: one
  ``nbgrader autograde 00_welcome --student=<id>`` per submission, ``--workers`` at a time
  (default: one per core).

It prints the wall time per submission of each, their ratio (the speed-up), the machine's load
average before and after, and checks that both gave every submission the same grade on every
cell. Target: on the course's 2-core machine, otherwise idle, a speed-up of at least 1.5 with 2
workers. Each submission's own nbgrader process costs about 2 s of CPU that the serial run pays
once, so the speed-up needs free cores: on a machine already busy with other work it falls to
about 1 or below. PASS/FAIL is informative: the script always exits 0.
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import re
import sys
import tempfile
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from course_lib.grading.classroom import (Submission, cell_scores, default_workers,  # noqa: E402
                                          grade_class)
from grading_support import (apply_wrong, as_submission, make_course, nbgrader, notebooks,  # noqa: E402
                             wrong_implementations)

ASSIGNMENT = "00_welcome"
TARGET = 1.5
"""Speed-up with 2 workers on the 2-core reference machine."""


def plan(count: int) -> list[tuple[str, object]]:
    """``count`` (student, answer) pairs in a fixed mix: of every five, one 'reference', one 'stub'
    and three kept mistakes (each one in turn, from the start again when all were used)."""
    mistakes = [w for w in wrong_implementations(ASSIGNMENT)
                if not re.search(r"^# timeout:", w.path.read_text(), re.M)]
    chosen, used = [], 0
    for i in range(count):
        if i % 5 == 0 or (i % 5 > 1 and not mistakes):
            kind: object = "reference"
        elif i % 5 == 1:
            kind = "stub"
        else:
            kind, used = mistakes[used % len(mistakes)], used + 1
        label = kind if isinstance(kind, str) else kind.path.stem
        chosen.append((f"s{i:02d}-{label}".replace("_", "-"), kind))
    return chosen


def submit(course: pathlib.Path, tmp: pathlib.Path, student: str, kind: object) -> None:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for source in notebooks(ASSIGNMENT):
        release = course / "exercises" / ASSIGNMENT / source.name
        if kind == "stub":
            (folder / source.name).write_bytes(release.read_bytes())
            continue
        answers = source
        if kind != "reference":
            answers = tmp / f"{student}.ipynb"
            nbformat.write(apply_wrong(nbformat.read(str(source), as_version=4), kind), str(answers))
        nbformat.write(as_submission(release, answers), str(folder / source.name))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=default_workers())
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        tmp = pathlib.Path(tmp)
        course = make_course(tmp / "course")
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        students = plan(options.submissions)
        for student, kind in students:
            submit(course, tmp, student, kind)
        submissions = [Submission(ASSIGNMENT, student) for student, _ in sorted(students)]
        mix = collections.Counter("reference" if k == "reference" else "stub" if k == "stub" else "mistake"
                                  for _, k in students)
        print(f"{len(submissions)} submissions of {ASSIGNMENT}: {mix['reference']} reference, "
              f"{mix['stub']} untouched, {mix['mistake']} kept mistakes")

        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        nbgrader(course, "autograde", ASSIGNMENT, "--force")
        serial = time.perf_counter() - start
        serial_grades = cell_scores(course, submissions)

        start = time.perf_counter()
        outcomes = grade_class(course, submissions, workers=options.workers, force=True)
        parallel = time.perf_counter() - start
        failed = [o for o in outcomes if not o.ok]
        parallel_grades = cell_scores(course, submissions)

    n = len(submissions)
    same = not failed and parallel_grades == serial_grades and len(serial_grades) == n
    totals = sorted({sum(cells.values()) for cells in serial_grades.values()})
    print(f"{'grading':44s} {'wall s':>8s} {'s per submission':>17s}")
    print(f"{'nbgrader autograde (serial, one process)':44s} {serial:8.1f} {serial / n:17.2f}")
    print(f"{f'make grade, {options.workers} workers':44s} {parallel:8.1f} {parallel / n:17.2f}")
    ratio = serial / parallel
    verdict = "PASS" if ratio >= TARGET or options.workers < 2 else "FAIL"
    print(f"speed-up {ratio:.2f} (target >= {TARGET} with 2 workers on 2 cores: {verdict}); "
          f"same grades on every cell: {'yes' if same else 'NO'} (totals seen: {totals})")
    print(f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")
    for outcome in failed:
        print(f"failed: {outcome.submission}: {outcome.log[-1500:]}")


if __name__ == "__main__":
    main()
