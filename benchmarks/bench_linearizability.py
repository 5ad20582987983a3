"""Benchmark the linearizability checker against the one it replaced, in the same run.

Run from the repository root::

    python benchmarks/bench_linearizability.py [--long-before]

Each workload is checked by the current checker and by the frozen checker from
before the rework (``tests/linearizability_before.py``), interleaved, and the
best of several CPU times (``time.process_time``: the machine is shared) is
kept for each, so the ratio new/old compares like with like on any machine:

- porcupine's c50-ok and c50-bad (key-value histories, loaded beforehand);
- a batch of 100 small register histories (about 100 operations each) from
  the course's own workload, ``run_workload("AP"/"CP")`` under a seeded
  partition, generated beforehand; here the cost of a call, not the search,
  dominates.

Targets: c50-ok at most 0.8x the old checker's time, the batch at most 0.5x;
the verdicts (and step counts) must be the same.

Then a register history of 100,000 operations (seeded: ten clients, 0.1% of
reads stale, 2% of operations timed out) is checked with the default budget
in a fresh process, which reports its CPU time and peak memory. The old
checker takes about 70 s and 5 GB on it, so it runs only with
``--long-before``.

PASS/FAIL is informative: the script always exits 0.
"""

from __future__ import annotations

import gc
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    import course_lib  # noqa: F401
except ImportError:  # run from a clone without an editable install
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the frozen checker lives with the tests

import linearizability_before  # noqa: E402
from course_lib.checkers import linearizable  # noqa: E402
from course_lib.history import History, bundled_history_path, load_jepsen  # noqa: E402

REPEATS = 21
"""Timings per checker and workload; the best is kept."""

TARGETS = {"c50-ok": 0.8, "c50-bad": None, "batch of 100": 0.5}
"""Most time new/old for each workload (None: informative only)."""

LONG_OPERATIONS = 100_000


def small_register_histories(count: int = 100) -> list[History]:
    """Return ``count`` register histories of the course's workload under a partition.

    Half AP, half CP replicas, each seeded, ~100 operations: always the same.
    """
    from course_lib.topics.consistency import Clients, Faults, run_workload

    return [run_workload("AP" if k % 2 else "CP", seed=f"bench-linearizability/{k}", duration=100,
                         faults=Faults(partition=(30, 70)), clients=Clients(think=(1, 4))).history
            for k in range(count)]


def long_register_history(operations: int, seed: int = 1, processes: int = 10,
                          stale: float = 0.001, timeouts: float = 0.02) -> History:
    """Return a register history of ``operations`` operations from concurrent clients.

    Reads (60%) and writes of values 0-4 take effect atomically; a fraction
    ``timeouts`` completes with info (after taking effect) and a fraction
    ``stale`` of the reads returns a random value instead.
    """
    rng = random.Random(seed)
    h = History()
    h.invoke(0, "write", value=0)
    h.ok(0)
    register = 0
    phase = {}  # process -> [f, value, applied, result]
    idle, busy = list(range(processes)), []
    started = 1
    while started < operations or busy:
        if idle and started < operations and (not busy or rng.random() < 0.5):
            p = idle.pop(rng.randrange(len(idle)))
            f = "read" if rng.random() < 0.6 else "write"
            value = None if f == "read" else rng.randrange(5)
            h.invoke(p, f, value=value)
            phase[p] = [f, value, False, None]
            busy.append(p)
            started += 1
            continue
        p = busy[rng.randrange(len(busy))]
        current = phase[p]
        if not current[2]:
            if current[0] == "write":
                register = current[1]
            current[2], current[3] = True, register
            continue
        busy.remove(p)
        idle.append(p)
        if rng.random() < timeouts:
            h.info(p)
        elif current[0] == "read":
            h.ok(p, value=current[3] if rng.random() >= stale else rng.randrange(5))
        else:
            h.ok(p)
    return h


def check_all(check, histories: list[History], model: str) -> list:
    """Return (valid, steps) of each history as ``check`` decides it."""
    return [(r.valid, r.steps) for r in (check(h, model) for h in histories)]


def cpu_time(check, histories: list[History], model: str) -> float:
    """Return the CPU seconds ``check`` takes over ``histories``.

    Each timing starts from a full collection, so that both checkers start from
    the same state of the garbage collector: otherwise a full collection of the
    process's other objects lands in one or the other run (20 to 50 ms here).
    """
    gc.collect()
    start = time.process_time()
    for h in histories:
        check(h, model)
    return time.process_time() - start


def peak_memory(check, histories: list[History], model: str) -> int:
    """Return the peak bytes traced while ``check`` decides ``histories`` one by one."""
    tracemalloc.start()
    try:
        for h in histories:
            check(h, model)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare(workloads: dict) -> None:
    """Time old and new on each workload, interleaved, and print the table."""
    checkers = {"old": linearizability_before.linearizable, "new": linearizable}
    best = {(name, which): float("inf") for name in workloads for which in checkers}
    for round_ in range(REPEATS):
        for name, (histories, model) in workloads.items():
            # alternate who goes first, so that neither always runs on a warm cache
            order = ("old", "new") if round_ % 2 else ("new", "old")
            for which in order:
                seconds = cpu_time(checkers[which], histories, model)
                best[name, which] = min(best[name, which], seconds)
    print(f"{'workload':<13} {'verdicts':<14} {'steps':>9} {'old s':>7} {'new s':>7} "
          f"{'new/old':>7} {'target':>6} {'old MB':>7} {'new MB':>7}  result")
    for name, (histories, model) in workloads.items():
        old = check_all(checkers["old"], histories, model)
        new = check_all(checkers["new"], histories, model)
        verdicts = {True: 0, False: 0, None: 0}
        for valid, _ in new:
            verdicts[valid] += 1
        shown = (str(new[0][0]) if len(new) == 1 else
                 f"{verdicts[True]}T {verdicts[False]}F {verdicts[None]}?")
        ratio = best[name, "new"] / best[name, "old"]
        target = TARGETS[name]
        status = "same verdicts and steps" if new == old else "VERDICTS DIFFER"
        if target is not None:
            status = ("PASS" if ratio <= target and new == old else "FAIL") + f" ({status})"
        print(f"{name:<13} {shown:<14} {sum(s for _, s in new):>9} "
              f"{best[name, 'old']:>7.3f} {best[name, 'new']:>7.3f} {ratio:>7.2f} "
              f"{'-' if target is None else f'{target:.2f}':>6} "
              f"{peak_memory(checkers['old'], histories, model) / 2**20:>7.1f} "
              f"{peak_memory(checkers['new'], histories, model) / 2**20:>7.1f}  {status}")


def long_run(which: str) -> dict:
    """Check the long history with one checker (in this fresh process); return figures."""
    check = linearizable if which == "new" else linearizability_before.linearizable
    history = long_register_history(LONG_OPERATIONS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    result = check(history, "register")
    seconds = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"valid": result.valid, "steps": result.steps, "cache_peak": result.cache_peak,
            "seconds": seconds, "peak_mb": peak / 1024, "history_mb": before / 1024}


def report_long(which: str) -> None:
    """Run :func:`long_run` in a fresh process (so its peak memory is its own) and print it."""
    out = subprocess.run([sys.executable, __file__, "--long-run", which], capture_output=True,
                         text=True, check=True).stdout
    figures = json.loads(out.splitlines()[-1])
    print(f"{which:<4} valid={str(figures['valid']):<5} steps={figures['steps']:>9} "
          f"cache_peak={figures['cache_peak']:>8} cpu={figures['seconds']:>6.1f} s  "
          f"peak RSS={figures['peak_mb']:>6.0f} MB (the history alone: "
          f"{figures['history_mb']:.0f} MB)")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables; return 0 whatever the outcome."""
    argv = sys.argv[1:] if argv is None else argv
    print(f"CPU seconds, best of {REPEATS}, old and new interleaved in this run")
    workloads = {name: ([load_jepsen(bundled_history_path(name))], "kv")
                 for name in ("c50-ok", "c50-bad")}
    workloads["batch of 100"] = (small_register_histories(), "register")
    compare(workloads)
    print(f"\nA register history of {LONG_OPERATIONS:,} operations, default budget, "
          "in a fresh process:")
    report_long("new")
    if "--long-before" in argv:
        report_long("old")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--long-run"]:
        print(json.dumps(long_run(sys.argv[2])))
        sys.exit(0)
    main()
    sys.exit(0)
