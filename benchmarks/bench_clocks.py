"""A vector-clock run of 50 nodes exchanging 10,000 messages, checked against the happens-before oracle.

The clock is the exercise's reference ``VectorClock``, read from
``solutions/02_clocks/02_clocks.ipynb`` (the answer lives only there). The run
uses ``course_lib.topics.clocks``: 50 nodes on a complete topology, 200 sends and 50
local events each. Reported, best of a few repeats:

* the simulation alone (nodes, network, trace, the clock), the baseline;
* building the oracle (one pass over the trace, O(events x nodes));
* checking every event's vector exactly against the oracle, and the
  "a -> b iff V(a) < V(b)" property on sampled pairs and causal frontiers;
* the ratio of simulation + oracle + checks to the simulation alone;
* what a naive oracle would cost: reachability by graph search from every event,
  then every pair compared, timed on a prefix of the run and extrapolated
  quadratically to the whole run.

Target (issue "chapter 02"): the whole run with the oracle check in a few
seconds; the oracle and checks well under the simulation's own cost.
"""

from __future__ import annotations

import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from course_lib.checkers.happens_before import HappensBefore  # noqa: E402
from course_lib.topics.clocks import check_vectors, run_clocks  # noqa: E402

NODES, SENDS, LOCAL = 50, 200, 50
REPEATS = 3
NAIVE_PREFIX = 1500


def reference_vector_clock() -> type:
    """The reference VectorClock of the chapter 02 exercise (solution markers removed)."""
    sys.path.insert(0, str(ROOT / "tools"))
    from reference import load_reference
    return load_reference("02_clocks", cells=["vector_clock"])["VectorClock"]


def naive_pairs_seconds(run, limit: int) -> tuple[float, int]:
    """Time a naive oracle on the first ``limit`` events: search from each, then compare all pairs."""
    events = run.oracle.events[:limit]
    chosen = set(events)
    succ: dict[int, list[int]] = {e: [] for e in events}
    last: dict = {}
    send_of: dict = {}
    for e in run.events:  # the harness log: program order and message edges between clock events
        if e.index not in chosen:
            break
        if e.node in last:
            succ[last[e.node]].append(e.index)
        last[e.node] = e.index
        if e.op == "send":
            send_of[e.msg] = e.index
        elif e.op == "receive" and e.msg in send_of:
            succ[send_of[e.msg]].append(e.index)
    start = time.perf_counter()
    reach: dict[int, set] = {}
    for e in events:
        seen, stack = set(), [e]
        while stack:
            for f in succ[stack.pop()]:
                if f not in seen:
                    seen.add(f)
                    stack.append(f)
        reach[e] = seen
    related = sum(1 for a in events for b in events if b in reach[a])
    assert related > 0
    return time.perf_counter() - start, len(events)


def main() -> None:
    vector_clock = reference_vector_clock()
    best = {"sim": float("inf"), "oracle": float("inf"), "exact": float("inf"), "pairs": float("inf")}
    for _ in range(REPEATS):
        start = time.perf_counter()
        run = run_clocks(lambda node: vector_clock(node.id), seed=1, nodes=NODES, sends=SENDS,
                         local_events=LOCAL, topology="complete")
        t1 = time.perf_counter()
        run._oracle = HappensBefore(run.sim, select="clock")
        t2 = time.perf_counter()
        check_vectors(run, vector_clock, check="exact")
        t3 = time.perf_counter()
        check_vectors(run, vector_clock, check="causality", pairs=20_000)
        t4 = time.perf_counter()
        for key, value in (("sim", t1 - start), ("oracle", t2 - t1), ("exact", t3 - t2), ("pairs", t4 - t3)):
            best[key] = min(best[key], value)
    summary = run.trace.summary()
    n = len(run.oracle)
    total = sum(best.values())
    print(f"{NODES} nodes, {summary['sent']} messages, {n} clock events, "
          f"{len(run.trace)} trace rows; best of {REPEATS}")
    print(f"  simulation with the vector clock (baseline) {best['sim']:7.3f} s")
    print(f"  oracle, one pass over the trace            {best['oracle']:7.3f} s")
    print(f"  exact check of every event's vector         {best['exact']:7.3f} s")
    print(f"  iff check on 20,000 pairs + frontiers       {best['pairs']:7.3f} s")
    print(f"  total {total:.3f} s = {total / best['sim']:.2f}x the simulation alone "
          f"(oracle + checks: {(total - best['sim']) / best['sim']:.2f}x)")
    naive, k = naive_pairs_seconds(run, NAIVE_PREFIX)
    estimate = naive * (n / k) ** 2
    print(f"  naive all-pairs oracle: {naive:.3f} s for the first {k} events, about {estimate:,.0f} s "
          f"extrapolated to {n} events ({estimate / max(best['oracle'], 1e-9):,.0f}x the oracle)")
    print("target: the whole run with the oracle check in a few seconds")


if __name__ == "__main__":
    main()
