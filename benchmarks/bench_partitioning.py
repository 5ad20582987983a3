"""A million keys placed on a consistent-hash ring, one node added, the keys that moved counted.

The ring is 10 nodes x 100 virtual nodes; the keys are ``"key:<i>"`` for i below a million. Reported,
best of a few repeats:

Times are CPU seconds of this process (the machine is shared; the wall time is printed too).

* hashing the million keys to their ring positions (``hash64``, BLAKE2b), the baseline: any scheme
  must hash every key once;
* placing them on the ring (sorted points, a vectorised binary search), adding an 11th node, placing
  them again and counting the keys whose node changed: the time and its ratio to the baseline;
* the exercise's reference ``HashRing`` (read from ``solutions/05_partitioning``; the answer lives
  only there), one key at a time on a sample, checked to agree with the vectorised placement and
  extrapolated to a million;
* the tutorial's ``ConsistentHash``, which sorts the ring on every lookup, timed on a few lookups and
  extrapolated.

Target (issue "chapter 05"): a million keys placed and a node added, keys moved counted, in under 2 s.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_lib.topics.partitioning import ConsistentHash, key_positions, ring_points  # noqa: E402

KEYS, NODES, VNODES = 1_000_000, 10, 100
REPEATS = 3
SAMPLE = 20_000
NAIVE_SAMPLE = 20


def reference_ring() -> type:
    """The reference HashRing of the chapter 05 exercise (solution markers removed)."""
    sys.path.insert(0, str(ROOT / "tools"))
    from reference import load_reference
    return load_reference("05_partitioning", cells=["setup", "hash_ring"])["HashRing"]


def place(nodes: list, positions: np.ndarray) -> np.ndarray:
    points, owner = ring_points(nodes, VNODES)
    return owner[np.searchsorted(points, positions, side="left") % len(points)]


def main() -> None:
    labels = [f"key:{i}" for i in range(KEYS)]
    nodes = [f"node-{i}" for i in range(NODES)]
    best_hash = best_place = best_wall = float("inf")
    for _ in range(REPEATS):
        wall = time.perf_counter()
        start = time.process_time()
        positions = key_positions(labels)
        t1 = time.process_time()
        before = place(nodes, positions)
        after = place(nodes + ["node-new"], positions)
        moved = int(np.count_nonzero(before != after))
        t2 = time.process_time()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_hash, best_place = min(best_hash, t1 - start), min(best_place, t2 - t1)
    total = best_hash + best_place
    print(f"{KEYS:,} keys on {NODES} nodes x {VNODES} virtual nodes, one node added; best of {REPEATS}, "
          f"CPU seconds (wall {best_wall:.3f} s on this machine now)")
    print(f"  hashing the keys (baseline)                  {best_hash:7.3f} s")
    print(f"  placing twice and counting the moved keys    {best_place:7.3f} s "
          f"({best_place / best_hash:.2f}x the hashing)")
    print(f"  total {total:.3f} s = {total / best_hash:.2f}x the hashing alone; "
          f"{moved:,} keys moved = {moved / KEYS:.2%} (ideal 1/{NODES + 1} = {1 / (NODES + 1):.2%})")

    ring_cls = reference_ring()
    ring = ring_cls(vnodes=VNODES)
    for node in nodes:
        ring.add(node)
    start = time.process_time()
    owners = [ring.lookup(k) for k in labels[:SAMPLE]]
    one_by_one = (time.process_time() - start) * KEYS / SAMPLE
    agree = all(o == nodes[i] for o, i in zip(owners, before[:SAMPLE]))
    print(f"  the reference HashRing, one lookup at a time: about {one_by_one:.1f} s for {KEYS:,} keys "
          f"({one_by_one / best_hash:.1f}x the hashing); agrees with the vectorised placement: {agree}")

    naive = ConsistentHash(nodes, virtual_nodes=VNODES)
    start = time.process_time()
    for k in labels[:NAIVE_SAMPLE]:
        naive.get_node(k)
    naive_total = (time.process_time() - start) * KEYS / NAIVE_SAMPLE
    print(f"  the tutorial's ConsistentHash (sorts on every lookup): about {naive_total:,.0f} s for "
          f"{KEYS:,} keys ({naive_total / best_hash:,.0f}x the hashing)")
    print("target: a million keys placed and a node added, keys moved counted, in under 2 s")
    if not agree:
        raise SystemExit("the reference ring and the vectorised placement disagree")


if __name__ == "__main__":
    main()
