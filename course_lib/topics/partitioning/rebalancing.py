"""Rebalancing and routing: fixed partitions, dynamic splitting, stale maps, secondary indexes.

Small, exact models (no network): each returns numbers the lecture plots and asserts.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Sequence

from ...sim.validation import (InvalidArgument, check_choice, check_ids, check_int, check_number,
                               check_positive, check_probability)


def assign_partitions(partitions: int, nodes: Sequence[Any],
                      previous: dict[int, Any] | None = None) -> dict[int, Any]:
    """Return a coordinator's assignment of ``partitions`` fixed partitions to ``nodes``.

    With no ``previous`` assignment, partition p goes to ``nodes[p % len(nodes)]``. With one,
    the coordinator moves as few partitions as it can: partitions of nodes that left, then
    partitions from the most loaded nodes, go to the least loaded, until every node has
    ``partitions // len(nodes)`` or one more. Keys never change partition; only whole
    partitions change node (Riak, Elasticsearch, Couchbase, Kafka work this way).

    Raises:
        InvalidArgument: ``partitions`` < number of nodes, or a bad ``previous``.
    """
    nodes = check_ids("nodes", nodes)
    check_int("partitions", partitions, low=len(nodes))
    if previous is None:
        return {p: nodes[p % len(nodes)] for p in range(partitions)}
    if sorted(previous) != list(range(partitions)):
        raise InvalidArgument(f"previous must assign exactly partitions 0..{partitions - 1} "
                              f"(got {len(previous)} entries)")
    owned: dict[Any, list[int]] = {n: [] for n in nodes}
    homeless = []
    for p in range(partitions):
        if previous[p] in owned:
            owned[previous[p]].append(p)
        else:
            homeless.append(p)
    low, extra = divmod(partitions, len(nodes))
    # the first `extra` nodes by current load (most loaded first) may keep low + 1
    order = sorted(nodes, key=lambda n: (-len(owned[n]), nodes.index(n)))
    cap = {n: low + (i < extra) for i, n in enumerate(order)}
    for n in order:
        while len(owned[n]) > cap[n]:
            homeless.append(owned[n].pop())
    homeless.sort()
    for p in homeless:
        target = min(nodes, key=lambda n: (len(owned[n]) - cap[n], nodes.index(n)))
        owned[target].append(p)
    return {p: n for n, ps in owned.items() for p in ps}


def moved_partitions(before: dict[int, Any], after: dict[int, Any]) -> int:
    """Return how many partitions changed node between two assignments."""
    return sum(1 for p in before if after.get(p) != before[p])


def split_ranges(keys: Sequence[int], max_keys: int, universe: int) -> list[tuple[int, int]]:
    """Return the ranges dynamic splitting ends with: a range holding more than ``max_keys`` keys is cut at its median.

    Starts from one range ``[0, universe)`` (HBase and RethinkDB start with one region; the
    first writes all go to one node until it splits).

    Raises:
        InvalidArgument: ``max_keys`` < 1 or a key outside ``range(universe)``.
    """
    check_int("max_keys", max_keys, low=1)
    check_int("universe", universe, low=1)
    ordered = sorted(int(k) for k in keys)
    if ordered and (ordered[0] < 0 or ordered[-1] >= universe):
        raise InvalidArgument(f"keys must lie in range({universe}); got {ordered[0]}..{ordered[-1]}")
    todo = [(0, universe, ordered)]
    done = []
    while todo:
        lo, hi, inside = todo.pop()
        if len(inside) <= max_keys or inside[0] == inside[-1]:
            done.append((lo, hi))
            continue
        mid = inside[len(inside) // 2]
        if mid == inside[0]:
            mid = next(k for k in inside if k > inside[0])
        todo.append((mid, hi, [k for k in inside if k >= mid]))
        todo.append((lo, mid, [k for k in inside if k < mid]))
    return sorted(done)


@dataclass(frozen=True)
class RoutingResult:
    """Hops per request of a routing strategy, and how many requests met a stale map."""

    strategy: str
    requests: int
    mean_hops: float
    misrouted: int


ROUTING = ("any node", "routing tier", "client map")


def route_requests(strategy: str, *, seed: int, nodes: int = 10, requests: int = 10_000,
                   moves: int = 20, refresh_every: int = 500) -> RoutingResult:
    """Count the network hops to reach a key's owner under a routing ``strategy``, with partitions moving.

    ``moves`` partitions move to another node at random times. ``"any node"``: the client asks
    a random node, which forwards if it is not the owner (every node knows the current map);
    ``"routing tier"``: the client asks a router (which watches the coordinator, so it is never
    stale) that forwards to the owner; ``"client map"``: the client keeps its own copy of the
    map, refreshed every ``refresh_every`` requests: straight to the owner while the map is
    fresh; to the old owner after a move, which answers "moved" so the client asks again.

    Raises:
        InvalidArgument: an unknown strategy or a bad count.
    """
    check_choice("strategy", strategy, ROUTING)
    check_int("nodes", nodes, low=2)
    check_int("requests", requests, low=1)
    check_int("moves", moves, low=0)
    check_int("refresh_every", refresh_every, low=1)
    rng = random.Random(f"{seed}/routing")
    partitions = 8 * nodes
    owner = [p % nodes for p in range(partitions)]
    client_map = list(owner)
    move_at = sorted(rng.randrange(requests) for _ in range(moves))
    hops = misrouted = 0
    for i in range(requests):
        while move_at and move_at[0] == i:
            move_at.pop(0)
            p = rng.randrange(partitions)
            owner[p] = (owner[p] + rng.randrange(1, nodes)) % nodes
        if i % refresh_every == 0:
            client_map = list(owner)
        p = rng.randrange(partitions)
        if strategy == "any node":
            hops += 1 if rng.randrange(nodes) == owner[p] else 2
        elif strategy == "routing tier":
            hops += 2
        elif client_map[p] == owner[p]:
            hops += 1
        else:
            misrouted += 1
            hops += 3   # old owner answers "moved", the client fetches the map entry, retries
            client_map[p] = owner[p]
    return RoutingResult(strategy, requests, hops / requests, misrouted)


def index_read_latency(kind: str, *, seed: int, partitions: int = 10, reads: int = 5000,
                       median: float = 2.0, sigma: float = 0.8) -> list[float]:
    """Return the latency of each read of a secondary index (ms).

    A **local** index (document-partitioned: each partition indexes its own rows) must ask every
    partition and wait for the slowest (scatter/gather); a **global** index (term-partitioned)
    asks the one partition holding the term. Each partition's response time is log-normal with
    the given ``median``.

    Raises:
        InvalidArgument: ``kind`` is not "local" or "global", or a bad count.
    """
    check_choice("kind", kind, ("local", "global"))
    check_int("partitions", partitions, low=1)
    check_int("reads", reads, low=1)
    check_positive("median", median)
    check_number("sigma", sigma, low=0)
    rng = random.Random(f"{seed}/index/{kind}")
    mu = math.log(median)
    fan = partitions if kind == "local" else 1
    return [max(rng.lognormvariate(mu, sigma) for _ in range(fan)) for _ in range(reads)]


def hot_key_split(requests: Sequence[int], hot: int, ways: int, partitions: int, *, seed: int) -> list[int]:
    """Return the load per partition when key ``hot`` is split ``ways`` ways (a random suffix per write).

    Every other key goes to partition ``key % partitions``; the hot key's requests go to
    ``(hot + suffix) % partitions`` with the suffix drawn from ``range(ways)``: its writes
    spread over ``ways`` partitions, and a read of it must now ask all ``ways`` of them.

    Raises:
        InvalidArgument: ``ways`` not in [1, partitions].
    """
    check_int("partitions", partitions, low=1)
    check_int("ways", ways, low=1, high=partitions)
    rng = random.Random(f"{seed}/split")
    load = [0] * partitions
    for key in requests:
        key = int(key)
        if key == hot:
            load[(key + rng.randrange(ways)) % partitions] += 1
        else:
            load[key % partitions] += 1
    return load


def check_share(name: str, value: Any) -> float:
    """Return ``value`` if it is a probability, naming ``name`` otherwise."""
    return check_probability(name, value)


__all__ = ["assign_partitions", "moved_partitions", "split_ranges", "RoutingResult", "ROUTING",
           "route_requests", "index_read_latency", "hot_key_split"]
