"""Schedule search speed: states per second, and memory per state, on two small protocols.

Run from the repository root::

    python benchmarks/bench_search.py

Two searches, breadth-first, with the invariants the chapters register:

- a 3-server Raft election (the reference Raft of solutions/03b_raft, read from the
  notebook, with the four Raft invariants), to a fixed depth;
- two-phase commit with 3 participants (the lecture's naive 2PC of chapter 03a, with
  the ``atomic_commit`` invariant), one transaction, one crash and restarts allowed.

For each: distinct states per second, steps (transitions explored) per second, and
bytes per distinct state (a second, smaller search under ``tracemalloc``), CPU time
(``time.process_time``), best of a few repeats. Two references, measured in the same
run: the same cluster in the ordinary simulator (its events per second over seeded
runs; sends count as events there), and a split of one search step, from the same
search run by hand on the public :class:`~course_lib.sim.control.Controlled` API
with each part clocked: the protocol's own code (handlers, timer callbacks and what
they call, sends included), the invariants, and the search's own work (restoring the
state, listing the choices, the step's framework: finding the message or timer,
recording it, moving what was sent into flight; fingerprinting; saving). The
protocol's code and the invariants alone bound what any search on this simulator can
reach; the line after the split says how many states per second that is. Target
(issue "Explore every schedule"): >= 20,000 states per second. PASS/FAIL is
informative: the script always exits 0.
"""

from __future__ import annotations

import functools
import gc
import inspect
import pathlib
import sys
import time
import tracemalloc
from collections import deque

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from course_lib.checkers import atomic_commit  # noqa: E402
from course_lib.checkers import raft as raft_invariants  # noqa: E402
from course_lib.search import search  # noqa: E402
from course_lib.sim import Node, Simulation  # noqa: E402
from course_lib.sim.control import Controlled  # noqa: E402
from course_lib.topics.agreement.commit import NaiveCoordinator, NaiveParticipant  # noqa: E402
from course_lib.topics.raft import RaftCluster  # noqa: E402
from reference import load_reference  # noqa: E402  (tools/reference.py)

TARGET = 20_000
REPEATS = 3


def raft_factory(timer=None):
    raft = load_reference("03b_raft", cells=("setup", "raft"))["Raft"]
    if timer is not None:
        raft = timer.protocol(raft)

    def make_sim() -> Simulation:
        if timer is None:
            return RaftCluster(raft, 3, seed=0).sim
        sim = RaftCluster(raft, 3, seed=0, invariants=False).sim
        for name, check in raft_invariants.INVARIANTS.items():
            sim.add_invariant(name, timer.invariant(check))
        return sim

    def baseline(seed: int) -> Simulation:
        cluster = RaftCluster(raft, 3, seed=seed)
        cluster.run(2000)
        return cluster.sim
    return make_sim, baseline


def two_pc_factory(timer=None):
    coordinator_cls, participant_cls = NaiveCoordinator, NaiveParticipant
    check = atomic_commit
    if timer is not None:
        coordinator_cls, participant_cls = timer.protocol(coordinator_cls), timer.protocol(participant_cls)
        check = timer.invariant(check)

    def build(seed: int) -> Simulation:
        sim = Simulation(seed=seed)
        coordinator = sim.add_node(coordinator_cls, "coord")
        ids = ["p1", "p2", "p3"]
        sim.add_nodes(participant_cls, ids)
        sim.add_invariant("atomic_commit", check)
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


class Timer:
    """Clocks the protocol's own code (its handlers, timer callbacks and what they call) and the
    invariants, outermost calls only, in a search run by hand (see :func:`split`)."""

    def __init__(self) -> None:
        self.handlers = self.invariants = 0
        self.depth = 0

    def _clocked(self, fn, slot: str):
        @functools.wraps(fn)
        def clocked(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            start = time.perf_counter_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, slot, getattr(self, slot) + time.perf_counter_ns() - start)
                self.depth -= 1
        return clocked

    def protocol(self, cls: type) -> type:
        """A subclass of ``cls`` whose own methods (those below Node) are clocked."""
        wrapped = {}
        for klass in cls.__mro__:
            if klass is Node or klass is object:
                break
            for name, value in vars(klass).items():
                if inspect.isfunction(value) and name not in wrapped:
                    wrapped[name] = self._clocked(value, "handlers")
        return type(cls.__name__, (cls,), wrapped)

    def invariant(self, check):
        return self._clocked(check, "invariants")


def split(factory, max_depth: int, crashes: int) -> dict:
    """One breadth-first search run by hand on the public Controlled API, each part clocked:
    microseconds per step spent in the protocol's handlers, the invariants, and the search's own
    work (restoring states, listing choices, the step's framework, fingerprinting, saving).

    The parts are clocked on the wall clock (a CPU clock costs a system call, more than some
    parts) and scaled to the CPU time the whole run took; garbage collection is off, as in a
    search."""
    timer = Timer()
    make_sim, _ = factory(timer)
    clock = time.perf_counter_ns
    parts = dict.fromkeys(("restore", "choose", "step", "fingerprint", "save"), 0)
    ctl = Controlled(make_sim())
    root = ctl.save()
    seen = {hash((root.fingerprint, 0))}
    frontier = deque([(root, 0, 0)])
    steps = 0
    timer.handlers = timer.invariants = 0
    gc.disable()
    cpu = time.process_time()
    with ctl.watchdog():
        while frontier:
            state, used, depth = frontier.popleft()
            if depth >= max_depth:
                continue
            t0 = clock()
            ctl.load(state)
            t1 = clock()
            choices = ctl.choices(crashes=used < crashes, restarts=crashes > 0)
            parts["restore"] += t1 - t0
            parts["choose"] += clock() - t1
            for step in choices:
                t0 = clock()
                ctl.load(state)
                t1 = clock()
                ctl.take(step)
                t2 = clock()
                child_used = used + (step.kind == "crash")
                key = hash((ctl.fingerprint(), child_used))
                t3 = clock()
                parts["restore"] += t1 - t0
                parts["step"] += t2 - t1
                parts["fingerprint"] += t3 - t2
                steps += 1
                if key in seen:
                    continue
                seen.add(key)
                child = ctl.save()
                parts["save"] += clock() - t3
                frontier.append((child, child_used, depth + 1))
    cpu = time.process_time() - cpu
    gc.enable()
    parts["step"] -= timer.handlers + timer.invariants
    out = {"handlers": timer.handlers, "invariants": timer.invariants}
    out.update(("search: " + k, v) for k, v in parts.items())
    scale = cpu * 1e6 / steps / sum(out.values())
    return {k: v * scale for k, v in out.items()}


def simulator_events_per_second(baseline) -> float:
    best = 0.0
    for seed in range(REPEATS):
        start = time.process_time()
        sim = baseline(seed)
        elapsed = time.process_time() - start
        best = max(best, sim.events_processed / elapsed)
    return best


def measure(name: str, factory, **options) -> None:
    make_sim, baseline = factory()
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
    print(f"    baseline: the ordinary simulator runs {events:,.0f} events/s on this cluster (sends count "
          f"as events); search steps/s / simulator events/s = {steps_s / events:.2f}")
    ceiling = events * result.states / result.steps
    print(f"    ceiling if each step cost one simulator event: {ceiling:,.0f} states/s; reached "
          f"{states_s / ceiling:.0%} of it")
    per_step = min((split(factory, options["max_depth"], options.get("crashes", 0)) for _ in range(REPEATS)),
                   key=lambda parts: sum(parts.values()))
    total = sum(per_step.values())
    print(f"    a step, split (us of CPU, the search run by hand, best of {REPEATS}): " +
          ", ".join(f"{part} {us:.1f}" for part, us in per_step.items()) + f"; total {total:.1f}")
    own = per_step["handlers"] + per_step["invariants"]
    print(f"    the protocol's handlers and the invariants alone: {own:.1f} us a step, so even a search "
          f"costing nothing of its own would reach {result.states / result.steps / own * 1e6:,.0f} states/s "
          f"({result.states / result.steps:.2f} new states per step)")
    print(f"    target >= {TARGET:,} states/s: {'PASS' if states_s >= TARGET else 'FAIL'}")


def main() -> None:
    measure("Raft election, 3 servers", raft_factory, max_depth=6, max_states=10**6)
    measure("2PC, 3 participants, 1 crash", two_pc_factory, max_depth=9, crashes=1, max_states=10**6)


if __name__ == "__main__":
    main()
