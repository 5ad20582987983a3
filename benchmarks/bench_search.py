"""Schedule search speed: states per second, and memory per state, on two small protocols.

Run from the repository root::

    python benchmarks/bench_search.py

Two searches, breadth-first, with the invariants the chapters register:

- a 3-server Raft election (the reference Raft of solutions/03b_raft, read from the
  notebook, with the four Raft invariants), to a fixed depth;
- two-phase commit with 3 participants (the lecture's naive 2PC of chapter 03a, with
  the ``atomic_commit`` invariant), one transaction, one crash and restarts allowed.

For each: distinct states per second, steps (transitions explored) per second, and
bytes per distinct state (a second, smaller search under ``tracemalloc``). The
baseline, measured in the same run, is the same cluster in the ordinary simulator:
its events per second over seeded runs. The ratio (search steps per second over
simulator events per second) is what choosing, saving, restoring and fingerprinting
a state costs on top of running the protocol's handlers; the "ceiling" line is the
states per second the search would reach if that cost were zero (the simulator's events
per second times the states found per step). Target (issue "Explore every schedule"):
>= 20,000 states per second. CPU time (``time.process_time``),
best of a few repeats. PASS/FAIL is informative: the script always exits 0.
"""

from __future__ import annotations

import pathlib
import sys
import time
import tracemalloc

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from course_lib.checkers import atomic_commit  # noqa: E402
from course_lib.search import search  # noqa: E402
from course_lib.sim import Simulation  # noqa: E402
from course_lib.topics.agreement.commit import NaiveCoordinator, NaiveParticipant  # noqa: E402
from course_lib.topics.raft import RaftCluster  # noqa: E402
from reference import load_reference  # noqa: E402  (tools/reference.py)

TARGET = 20_000
REPEATS = 3


def raft_factory():
    raft = load_reference("03b_raft", cells=("setup", "raft"))["Raft"]

    def make_sim() -> Simulation:
        return RaftCluster(raft, 3, seed=0).sim

    def baseline(seed: int) -> Simulation:
        cluster = RaftCluster(raft, 3, seed=seed)
        cluster.run(2000)
        return cluster.sim
    return make_sim, baseline


def two_pc_factory():
    def build(seed: int) -> Simulation:
        sim = Simulation(seed=seed)
        coordinator = sim.add_node(NaiveCoordinator, "coord")
        ids = ["p1", "p2", "p3"]
        sim.add_nodes(NaiveParticipant, ids)
        sim.add_invariant("atomic_commit", atomic_commit)
        writes = {p: ("k1", f"t1@{p}") for p in ids}
        sim.at(0.0, coordinator.begin, "t1", writes)
        return sim

    def baseline(seed: int) -> Simulation:
        sim = build(seed)
        for i in range(2, 200):  # a stream of transactions keeps the ordinary run busy
            writes = {p: (f"k{i}", f"t{i}@{p}") for p in ("p1", "p2", "p3")}
            sim.at(2.0 * i, sim.node("coord").begin, f"t{i}", writes)
        sim.run(until=450)
        return sim
    return (lambda: build(0)), baseline


def simulator_events_per_second(baseline) -> float:
    best = 0.0
    for seed in range(REPEATS):
        start = time.process_time()
        sim = baseline(seed)
        elapsed = time.process_time() - start
        best = max(best, sim.events_processed / elapsed)
    return best


def measure(name: str, make_sim, baseline, **options) -> None:
    runs = []
    for _ in range(REPEATS):
        start = time.process_time()
        result = search(make_sim, **options)
        runs.append((time.process_time() - start, result))
    elapsed, result = min(runs, key=lambda r: r[0])
    small = dict(options, max_depth=max(1, options["max_depth"] - 1))
    tracemalloc.start()
    sample = search(make_sim, **small)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    events = simulator_events_per_second(baseline)
    states_s, steps_s = result.states / elapsed, result.steps / elapsed
    print(f"{name}: {result.outcome}, {result.states} states, {result.steps} steps to depth "
          f"{options['max_depth']} in {elapsed:.2f} s CPU")
    print(f"    {states_s:,.0f} states/s, {steps_s:,.0f} steps/s; {peak / sample.states:,.0f} bytes per "
          f"state (tracemalloc, depth {small['max_depth']}: {sample.states} states)")
    print(f"    baseline: the ordinary simulator runs {events:,.0f} events/s on this cluster; "
          f"search steps/s / simulator events/s = {steps_s / events:.2f}")
    ceiling = events * result.states / result.steps
    print(f"    ceiling if choosing, saving, restoring and fingerprinting cost nothing (each step as dear as one "
          f"simulator event): {ceiling:,.0f} states/s; reached {states_s / ceiling:.0%} of it")
    print(f"    target >= {TARGET:,} states/s: {'PASS' if states_s >= TARGET else 'FAIL'}")


def main() -> None:
    make_raft, raft_baseline = raft_factory()
    measure("Raft election, 3 servers", make_raft, raft_baseline, max_depth=6, max_states=10**6)
    make_2pc, two_pc_baseline = two_pc_factory()
    measure("2PC, 3 participants, 1 crash", make_2pc, two_pc_baseline, max_depth=9, crashes=1,
            max_states=10**6)


if __name__ == "__main__":
    main()
