"""Benchmark the linearizability checker on porcupine's largest kv histories.

Run from the repository root::

    python benchmarks/bench_linearizability.py

For c50-ok and c50-bad it prints the best time to decide (the history is
loaded once, beforehand), the peak memory traced by tracemalloc during one
check, and the time as a multiple of a fixed pure-Python calibration workload
measured in the same run, so that figures taken on a busy or different machine
can be compared. Targets (on the course's 2-core reference machine): c50-ok
under 0.5 s, c50-bad under 0.1 s. PASS/FAIL is informative: the script always
exits 0.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

try:
    import course_lib  # noqa: F401
except ImportError:  # run from a clone without an editable install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course_lib.checkers import linearizable  # noqa: E402
from course_lib.history import bundled_history_path, load_jepsen  # noqa: E402

TARGETS = {"c50-ok": 0.5, "c50-bad": 0.1}
"""Seconds to decide, on the reference machine."""

EXPECTED = {"c50-ok": True, "c50-bad": False}
REPEATS = 5


def calibrate() -> float:
    """Return the best time of a fixed workload shaped like the search loop.

    It mixes what the checker does per step: list indexing, small-int
    bit operations, tuple building and set membership.
    """
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        seen = set()
        links = list(range(1024))
        bits = 0
        for i in range(300_000):
            j = links[i & 1023]
            bits ^= 1 << (j & 127)
            key = (bits, j)
            if key not in seen:
                seen.add(key)
        best = min(best, time.perf_counter() - start)
    return best


def best_time(history, repeats: int = REPEATS):
    """Return (best seconds, result) of checking ``history`` ``repeats`` times."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = linearizable(history, "kv")
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_memory(history) -> int:
    """Return the peak bytes traced while checking ``history`` once."""
    tracemalloc.start()
    try:
        linearizable(history, "kv")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    """Run the benchmark and print a table; return 0 whatever the outcome."""
    baseline = calibrate()
    print(f"calibration workload: {baseline * 1000:.1f} ms (best of {REPEATS})")
    print(f"{'history':<9} {'verdict':<8} {'steps':>8} {'load s':>7} {'best s':>7} "
          f"{'x calib':>8} {'peak MB':>8} {'target s':>8}  result")
    for name, target in TARGETS.items():
        start = time.perf_counter()
        history = load_jepsen(bundled_history_path(name))
        load = time.perf_counter() - start
        seconds, result = best_time(history)
        peak = peak_memory(history)
        verdict_ok = result.valid is EXPECTED[name]
        status = "PASS" if seconds < target and verdict_ok else "FAIL"
        if not verdict_ok:
            status += f" (verdict {result.valid!r}, expected {EXPECTED[name]!r})"
        print(f"{name:<9} {str(result.valid):<8} {result.steps:>8} {load:>7.3f} "
              f"{seconds:>7.3f} {seconds / baseline:>8.2f} {peak / 2**20:>8.1f} "
              f"{target:>8.2f}  {status}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
