"""Message delivery through course_lib versus a bare SimPy callback timeout.

Each run keeps a fixed number of messages in flight: whenever one arrives, its
receiver sends a new one to a peer it picks with its own seeded generator. The
baseline does the same bookkeeping with a bare ``env.timeout`` and a callback,
the cheapest event SimPy has. Reported as ratios measured in the same run
(best of several repeats), so a noisy shared machine still gives comparable
figures.

Targets (issue "A core to trust"): delivery with the trace on at most 2.0x a bare
timeout, flat from 5 to 1000 nodes; the trace at most 64 bytes per event. CPU time
(``time.process_time``), best of several interleaved repeats. For a figure that the
machine's load cannot move, count instructions instead (``valgrind --tool=callgrind``
on one run of each variant; see the issue's note).
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import time

import simpy

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from course_lib.sim import Node, Simulation  # noqa: E402

BYTES_PER_EVENT: list = []
IN_FLIGHT = 100
DELIVERIES = 60_000
REPEATS = 7


def bare_simpy(n_nodes: int) -> float:
    """The baseline: a callback timeout per message, a peer drawn per message."""
    env = simpy.Environment()
    rngs = [random.Random(i) for i in range(n_nodes)]
    count = 0

    def arrive(event: simpy.events.Timeout) -> None:
        nonlocal count
        count += 1
        if count >= DELIVERIES:
            return
        dst = event._value
        rng = rngs[dst]
        nxt = rng.randrange(n_nodes)
        env.timeout(1.0, nxt).callbacks.append(arrive)

    for i in range(IN_FLIGHT):
        env.timeout(1.0, i % n_nodes).callbacks.append(arrive)
    start = time.process_time()
    env.run()
    return time.process_time() - start


class Forwarder(Node):
    """On each message, send one on to a random node (keeps the load constant)."""

    def __init__(self, ids: list) -> None:
        self.ids = ids
        self.counter = None

    def on_start(self) -> None:
        pass

    def on_hop(self, msg) -> None:
        counter = self.counter
        counter[0] += 1
        if counter[0] >= DELIVERIES:
            return
        self.send(self.ids[self.rng.randrange(len(self.ids))], "hop", n=msg.n)


def course_lib_run(n_nodes: int, trace: bool) -> float:
    sim = Simulation(seed=1, latency=1.0, trace=trace)
    ids = list(range(n_nodes))
    nodes = sim.add_nodes(Forwarder, ids, ids)
    counter = [0]
    for node in nodes:
        node.counter = counter
    sim.run(until=0.5)  # on_start of every node
    for i in range(IN_FLIGHT):
        nodes[i % n_nodes].send(ids[(i + 1) % n_nodes], "hop", n=i)
    start = time.process_time()
    sim.run()
    elapsed = time.process_time() - start
    assert counter[0] >= DELIVERIES, counter
    if trace and BYTES_PER_EVENT is not None:
        BYTES_PER_EVENT.append(sim.trace.nbytes() / len(sim.trace))
    return elapsed


def best_interleaved(n: int) -> tuple[float, float, float]:
    """Best of REPEATS for each variant, run in turn so machine noise hits all three alike."""
    runs = [(bare_simpy(n), course_lib_run(n, False), course_lib_run(n, True)) for _ in range(REPEATS)]
    return tuple(min(r[i] for r in runs) for i in range(3))  # type: ignore[return-value]


# One variant, run by valgrind in a child process: instructions are counted, not timed.
_COUNT_ONE = """
import sys
sys.path.insert(0, {bench_dir!r})
import bench_delivery as b
b.DELIVERIES = int(sys.argv[2])
b.BYTES_PER_EVENT = None  # skip the trace's size scan: count the run only
mode = sys.argv[1]
if mode == "bare":
    b.bare_simpy(100)
else:
    b.course_lib_run(100, mode == "traced")
"""


def instructions_per_delivery(mode: str) -> float | None:
    """Instructions one delivery costs in ``mode``, from two callgrind runs (the difference cancels start-up)."""
    script = _COUNT_ONE.format(bench_dir=str(__import__("pathlib").Path(__file__).resolve().parent))
    counts = []
    for n in (10_000, 20_000):
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                              sys.executable, "-c", script, mode, str(n)],
                             capture_output=True, text=True)
        found = re.search(r"Collected : (\d+)", out.stderr)
        if found is None:
            return None
        counts.append(int(found.group(1)))
    return (counts[1] - counts[0]) / 10_000


def main() -> None:
    print(f"{DELIVERIES} deliveries, {IN_FLIGHT} in flight, best of {REPEATS} (CPU time)")
    print(f"{'nodes':>6} {'bare µs/msg':>12} {'lib µs/msg':>11} {'lib/bare':>9} "
          f"{'traced µs':>10} {'traced/bare':>12} {'trace B/event':>14}")
    for n in (5, 100, 1000):
        BYTES_PER_EVENT.clear()
        bare, lib, traced = best_interleaved(n)
        print(f"{n:>6} {1e6 * bare / DELIVERIES:>12.2f} {1e6 * lib / DELIVERIES:>11.2f} "
              f"{lib / bare:>8.2f}x {1e6 * traced / DELIVERIES:>10.2f} {traced / bare:>11.2f}x "
              f"{max(BYTES_PER_EVENT):>14.1f}")
    print("targets: traced/bare <= 2.0x, flat across node counts; trace <= 64 bytes per event")
    if shutil.which("valgrind") is None:
        print("(valgrind not found: no instruction counts)")
        return
    counts = {mode: instructions_per_delivery(mode) for mode in ("bare", "untraced", "traced")}
    if None in counts.values():
        print("(valgrind could not count instructions here)")
        return
    bare = counts["bare"]
    print(f"instructions per delivery at 100 nodes (callgrind; the machine's load cannot move them): "
          f"bare {bare:.0f}, untraced {counts['untraced']:.0f} ({counts['untraced'] / bare:.2f}x), "
          f"traced {counts['traced']:.0f} ({counts['traced'] / bare:.2f}x)")


if __name__ == "__main__":
    main()
