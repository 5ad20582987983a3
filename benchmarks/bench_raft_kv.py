"""Benchmark the grading of chapter 03c's key-value service: every graded cell, visible and hidden.

Run from the repository root::

    python benchmarks/bench_raft_kv.py

The reference classes come from the exercise's source notebook (``tools/reference.py``,
``load_reference("03c_raft_kv", ...)``: the answer lives only in ``solutions/``). Every graded
test cell of that notebook then runs, hidden tests included, as the autograder runs it: every
scenario over every seed it names. The Part 2 and Part 3 cells run a second time with the
reference's reads switched to leases (``READ_MODE = "lease"``), the other read the lecture
measures. Reported:

* CPU seconds per graded cell and in total (target, on the course's 2-core machine: the whole
  grading under 120 s);
* the linearizability checker's share: how many histories it checked, its CPU time per history
  (mean and worst) and the largest history;
* a ratio against a baseline measured in the same run: the same grading with the checker
  replaced by a stub that accepts every history (what simulating the runs costs alone).

PASS/FAIL is informative: the script always exits 0.
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

import course_lib.topics.raft.service.cluster as cluster_module  # noqa: E402
from course_lib.checkers.linearizability import LinearizabilityResult  # noqa: E402

ASSIGNMENT = "03c_raft_kv"
NOTEBOOK = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
CELLS = ("setup", "kv_server", "kv_clerk", "kv_reads", "kv_snapshots")
READ_CELLS = ("kv_reads_without_log", "kv_reads_not_stale", "kv_reads_wait_for_apply", "kv_reads_under_faults",
              "kv_snapshot_bounded", "kv_snapshot_restore", "kv_snapshot_keeps_duplicates")
TARGET = 120.0
"""CPU seconds for the whole grading of one submission, on the reference machine."""


def reference() -> dict:
    """The reference solution's namespace (setup and solution cells, markers removed)."""
    sys.path.insert(0, str(ROOT / "tools"))
    from reference import load_reference
    return load_reference(ASSIGNMENT, cells=CELLS)


def _source(cell) -> str:
    return "\n".join(line for line in cell.source.splitlines()
                     if not re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", line))


class CheckerClock:
    """Wraps the checker the cluster calls and clocks every history it checks."""

    def __init__(self, stub: bool = False) -> None:
        self.real = cluster_module.check_linearizability
        self.stub = stub
        self.times: list[float] = []
        self.sizes: list[int] = []

    def __call__(self, history, model, **options):
        if self.stub:
            return LinearizabilityResult(valid=True, model="kv", reason="not checked (the baseline)")
        start = time.process_time()
        verdict = self.real(history, model, **options)
        self.times.append(time.process_time() - start)
        self.sizes.append(len(history) if hasattr(history, "__len__") else 0)
        return verdict

    def __enter__(self) -> "CheckerClock":
        cluster_module.check_linearizability = self
        return self

    def __exit__(self, *exc) -> None:
        cluster_module.check_linearizability = self.real


def grade(graded, namespace: dict, label: str = "") -> dict[str, float]:
    """Run each graded cell in ``namespace``; return CPU seconds per cell (failures are reported, not raised)."""
    times = {}
    for cell in graded:
        gid = cell.metadata["nbgrader"]["grade_id"]
        start = time.process_time()
        try:
            exec(_source(cell), namespace)
        except AssertionError as failure:
            print(f"  FAILED {gid}{label}: {str(failure).splitlines()[0]}")
        times[gid + label] = time.process_time() - start
    return times


def grade_all(graded, stub: bool) -> tuple[dict[str, float], CheckerClock]:
    namespace = reference()
    with CheckerClock(stub=stub) as clock:
        times = grade(graded, namespace)
        namespace["FastReadKVServer"].READ_MODE = "lease"
        times.update(grade([c for c in graded if c.metadata["nbgrader"]["grade_id"] in READ_CELLS],
                           namespace, " (lease)"))
    return times, clock


def main() -> None:
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    wall = time.perf_counter()
    timed, clock = grade_all(graded, stub=False)
    baseline, _ = grade_all(graded, stub=True)
    wall = time.perf_counter() - wall
    total, base = sum(timed.values()), sum(baseline.values())
    print(f"{'graded cell':44s} {'CPU s':>7s} {'no checker':>11s}")
    for gid, seconds in timed.items():
        print(f"{gid:44s} {seconds:7.2f} {baseline[gid]:11.2f}")
    checked = len(clock.times)
    mean = sum(clock.times) / checked if checked else 0.0
    print(f"linearizability checker: {checked} histories, {1000 * mean:.2f} ms CPU per history on average, "
          f"{1000 * max(clock.times, default=0.0):.2f} ms at worst; largest history {max(clock.sizes, default=0)} "
          f"events; {sum(clock.times):.2f} s in all")
    verdict = "PASS" if total < TARGET else "FAIL"
    print(f"whole grading (both read modes): {total:.1f} s CPU (target < {TARGET:.0f} s: {verdict}); "
          f"baseline without the checker {base:.1f} s; ratio {total / base:.2f} "
          f"(wall time of both runs {wall:.1f} s)")


if __name__ == "__main__":
    main()
