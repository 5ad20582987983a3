"""Anti-entropy bytes as keys grow, and the time to simulate the gossip exercise's reference.

* Merkle-tree sync against a full exchange (``merkle_exchange``, ``full_exchange``): two replicas
  differing in 10 keys, keys from 10^3 to 10^6. Reported: bytes and messages of each, and how the
  bytes grow per tenfold growth of the keys (a full exchange: tenfold; the Merkle walk: a few
  percent, logarithmic). CPU time to build and walk the tree is printed too.
* The exercise's reference broadcast (``BatchedGossip``, read from ``solutions/04_replication``;
  the answer lives only there): 25 nodes, 100 ms links, 1,000 broadcasts. Reported: CPU seconds to
  simulate it, best of a few repeats, and its ratio to a baseline measured in the same run: the
  lecture's flooding over the grid, same workload (a design whose cost is the simulator's alone).

Times are CPU seconds of this process (the machine is shared; wall time is printed too).
Target (issue "chapter 04"): the gossip reference, 1,000 broadcasts on 25 nodes, in under 5 s.
"""

from __future__ import annotations

import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_lib.topics.replication import (FloodNode, full_exchange, merkle_exchange,  # noqa: E402
                                           run_broadcast)

REPEATS = 3
DIFFERENCES = 10


def reference_gossip() -> type:
    """The reference BatchedGossip of the chapter 04 exercise (solution markers removed)."""
    sys.path.insert(0, str(ROOT / "tools"))
    from reference import load_reference
    return load_reference("04_replication", cells=["setup", "gossip"])["BatchedGossip"]


def best_cpu(fn) -> tuple[float, float, object]:
    best, wall, out = float("inf"), float("inf"), None
    for _ in range(REPEATS):
        w, start = time.perf_counter(), time.process_time()
        out = fn()
        best, wall = min(best, time.process_time() - start), min(wall, time.perf_counter() - w)
    return best, wall, out


def main() -> None:
    print(f"anti-entropy: two replicas differing in {DIFFERENCES} keys")
    print(f"{'keys':>11} {'Merkle bytes':>13} {'msgs':>5} {'full bytes':>13} {'full/Merkle':>12} {'CPU s':>7}")
    previous = None
    for exponent in range(3, 7):
        keys = 10 ** exponent
        cpu, _, merkle = best_cpu(lambda k=keys, s=exponent: merkle_exchange(k, DIFFERENCES, seed=s))
        full = full_exchange(keys, DIFFERENCES)
        assert merkle.found == DIFFERENCES, merkle
        growth = "" if previous is None else f"  (Merkle x{merkle.bytes / previous:.2f} for 10x keys)"
        print(f"{keys:>11,} {merkle.bytes:>13,} {merkle.messages:>5} {full.bytes:>13,} "
              f"{full.bytes / merkle.bytes:>12,.0f} {cpu:>7.3f}{growth}")
        previous = merkle.bytes

    gossip = reference_gossip()
    base_cpu, base_wall, base = best_cpu(lambda: run_broadcast(FloodNode, seed=1, broadcasts=1000))
    ref_cpu, ref_wall, ref = best_cpu(lambda: run_broadcast(gossip, seed=1, broadcasts=1000))
    print("\nbroadcast: 25 nodes, 100 ms links, 1,000 broadcasts at 100/s; best of "
          f"{REPEATS}, CPU seconds (wall {ref_wall:.2f} s / {base_wall:.2f} s on this machine now)")
    print(f"  baseline, the lecture's flooding over the grid: {base_cpu:6.3f} s   {base!r}")
    print(f"  the exercise's reference BatchedGossip:         {ref_cpu:6.3f} s   {ref!r}")
    print(f"  reference / baseline: {ref_cpu / base_cpu:.2f}x; target: under 5 s")
    if not ref.complete or ref_cpu >= 5.0:
        raise SystemExit("the reference broadcast missed a delivery or took 5 s or more")


if __name__ == "__main__":
    main()
