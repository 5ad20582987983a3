"""Benchmark the grading of chapter 03b's Raft exercise: every graded cell, visible and hidden.

Run from the repository root::

    python benchmarks/bench_raft.py

It executes the reference solution (read from solutions/03b_raft, markers
stripped) and then every graded test cell of that notebook, hidden tests
included, exactly as the autograder does, and prints the time per cell and in
total. The baseline, measured in the same run, is the same grading with the
four Raft invariants switched off: the ratio is what checking them after every
event costs. Target (on the course's 2-core reference machine): the whole
grading under 120 s; in practice it takes a few tens of seconds. PASS/FAIL is
informative: the script always exits 0.
"""

from __future__ import annotations

import pathlib
import re
import sys
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
try:
    import course_lib  # noqa: F401
except ImportError:  # run from a clone without an editable install
    sys.path.insert(0, str(ROOT))

from course_lib.checkers import raft as raft_invariants  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "03b_raft" / "03b_raft.ipynb"
TARGET = 120.0
"""Seconds for the whole grading of one submission, on the reference machine."""


def _source(cell) -> str:
    return "\n".join(line for line in cell.source.splitlines()
                     if not re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", line))


def grade(cells, given) -> dict[str, float]:
    """Run the graded cells in a fresh namespace after the given and solution cells; return seconds per cell."""
    namespace: dict = {}
    for cell in given:
        exec(_source(cell), namespace)
    times = {}
    for cell in cells:
        start = time.perf_counter()
        exec(_source(cell), namespace)
        times[cell.metadata["nbgrader"]["grade_id"]] = time.perf_counter() - start
    return times


def main() -> None:
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    meta = [(c, c.metadata.get("nbgrader", {})) for c in nb.cells]
    given = [c for c, m in meta if m.get("grade_id") in ("setup", "raft", "raft_persistence")]
    graded = [c for c, m in meta if m.get("grade")]
    with_invariants = grade(graded, given)
    register = raft_invariants.register
    raft_invariants.register = lambda sim: None  # the baseline: the same runs, no invariants
    try:
        without = grade(graded, given)
    finally:
        raft_invariants.register = register
    total, base = sum(with_invariants.values()), sum(without.values())
    print(f"{'graded cell':40s} {'seconds':>8s} {'no invariants':>14s}")
    for gid, seconds in with_invariants.items():
        print(f"{gid:40s} {seconds:8.2f} {without[gid]:14.2f}")
    verdict = "PASS" if total < TARGET else "FAIL"
    print(f"whole grading: {total:.1f} s (target < {TARGET:.0f} s: {verdict}); without invariants "
          f"{base:.1f} s; ratio {total / base:.2f}")


if __name__ == "__main__":
    main()
