"""The chapter's graded scenarios and meters: a ring's moves, balance and probes; a balancer's tail; a cache's stampede.

Each scenario takes the learner's class and a seed, runs it, and raises
:class:`~course_lib.sim.ScenarioFailed` saying what went wrong; ``check_scenario`` runs it
over many seeds with a replay line. The meters return numbers for notebooks and tests.
"""

from __future__ import annotations

import random
import statistics
from typing import Any, Callable

from ...sim import Constant, Simulation
from ...sim.errors import ScenarioFailed
from ...sim.validation import InvalidArgumentType, check_int, check_number
from .balancers import Balancer, RandomChoice, RoundRobin, LeastLoaded, run_balancer
from .caching import CacheClients, CacheServer, Database, _check_cache_class, run_cache, stampede_run
from .hashing import counting_probes


def _check_ring_class(ring_cls: Any) -> Callable:
    if not callable(ring_cls):
        raise InvalidArgumentType(f"ring_cls={ring_cls!r} must be a class such as HashRing")
    return ring_cls


def random_ring_ops(seed: int, steps: int = 200, *, max_nodes: int = 8) -> list[tuple]:
    """Return seeded random ring operations: ``("add", node)``, ``("remove", node)``,
    ``("lookup", key)`` and ``("nodes_for", key, n)``; adds and removes are always valid."""
    check_int("steps", steps, low=1)
    check_int("max_nodes", max_nodes, low=1)
    rng = random.Random(f"{seed}/ring-ops")
    members: list[str] = []
    spare = [f"node-{i}" for i in range(max_nodes)]
    ops: list[tuple] = []
    for _ in range(steps):
        roll = rng.random()
        if not members or (roll < 0.15 and spare):
            node = spare.pop(rng.randrange(len(spare)))
            members.append(node)
            ops.append(("add", node))
        elif roll < 0.25 and len(members) > 1:
            node = members.pop(rng.randrange(len(members)))
            spare.append(node)
            ops.append(("remove", node))
        elif roll < 0.65:
            ops.append(("lookup", f"user:{rng.randrange(10**6)}"))
        else:
            ops.append(("nodes_for", f"item:{rng.randrange(10**6)}", rng.randint(1, 4)))
    return ops


def ring_owners(ring: Any, keys: list) -> list:
    """Return ``[ring.lookup(k) for k in keys]``."""
    return [ring.lookup(k) for k in keys]


def moved_on_change(ring_cls: Callable, *, seed: int, nodes: int = 10, vnodes: int = 100,
                    keys: int = 5000, change: str = "join") -> tuple[float, float]:
    """Return (fraction of keys that moved, the ideal fraction) when one node joins or leaves a ring.

    Ideal: a join moves 1/(n+1) of the keys (the newcomer's share), a leave 1/n.
    """
    _check_ring_class(ring_cls)
    check_int("nodes", nodes, low=2)
    if change not in ("join", "leave"):
        raise InvalidArgumentType(f"change={change!r} must be 'join' or 'leave'")
    rng = random.Random(f"{seed}/moves")
    ring = ring_cls(vnodes=vnodes)
    names = [f"n{rng.randrange(10**6)}-{i}" for i in range(nodes)]
    for name in names:
        ring.add(name)
    labels = [f"key:{rng.randrange(10**9)}" for _ in range(keys)]
    before = ring_owners(ring, labels)
    if change == "join":
        ring.add("newcomer")
        ideal = 1 / (nodes + 1)
    else:
        ring.remove(names[rng.randrange(nodes)])
        ideal = 1 / nodes
    after = ring_owners(ring, labels)
    return sum(a != b for a, b in zip(before, after)) / keys, ideal


def ring_balance(ring_cls: Callable, *, seed: int, nodes: int = 10, vnodes: int = 100,
                 keys: int = 20_000) -> float:
    """Return the most loaded node's keys over the mean, for ``keys`` random keys on a fresh ring."""
    _check_ring_class(ring_cls)
    rng = random.Random(f"{seed}/balance")
    ring = ring_cls(vnodes=vnodes)
    names = [f"host-{rng.randrange(10**6)}-{i}" for i in range(nodes)]
    for name in names:
        ring.add(name)
    counts = {name: 0 for name in names}
    for _ in range(keys):
        owner = ring.lookup(f"k{rng.randrange(10**9)}")
        counts[owner] = counts.get(owner, 0) + 1
    return max(counts.values()) / (keys / nodes)


def lookup_probes(ring: Any, keys: list) -> float:
    """Return the mean number of position comparisons per ``ring.lookup(key)`` (see ``counting_probes``)."""
    with counting_probes() as probes:
        for key in keys:
            ring.lookup(key)
    return probes.count / max(1, len(keys))


# -- balancers ---------------------------------------------------------------------------------
def tail_against_baselines(balancer: type, *, seed: int, factor: float = 0.5, **world: Any) -> dict:
    """Fail unless ``balancer``'s p99 is at most ``factor`` x the better of random and round robin's.

    All three run the same world (``run_balancer``'s defaults: a server at a fifth of the speed
    of the others, log-normal service times, stale load reports); every request must finish.
    Returns the three runs' p99 by name.
    """
    if not (isinstance(balancer, type) and issubclass(balancer, Balancer)):
        raise InvalidArgumentType(f"balancer={balancer!r} must be a subclass of Balancer")
    check_number("factor", factor, low=0, low_open=True)
    mine = run_balancer(balancer, seed=seed, **world)
    rr = run_balancer(RoundRobin, seed=seed, **world)
    rnd = run_balancer(RandomChoice, seed=seed, **world)
    if mine.unfinished:
        raise ScenarioFailed(f"{mine.unfinished} requests were still waiting at the end of the run "
                             f"(served per server: {mine.per_server})")
    best = min(rr.p99, rnd.p99)
    if mine.p99 > factor * best:
        raise ScenarioFailed(
            f"p99 latency {mine.p99:.1f} ms is more than {factor:g} x the better of round robin "
            f"({rr.p99:.1f} ms) and random ({rnd.p99:.1f} ms); served per server: {mine.per_server} "
            f"(server speeds {mine.speeds})")
    return {"yours": mine.p99, "round robin": rr.p99, "random": rnd.p99}


def tail_against_herding(balancer: type, *, seeds: Any = range(3), factor: float = 0.85,
                         **world: Any) -> tuple[float, float]:
    """Fail unless ``balancer``'s median p99 over ``seeds`` is below ``factor`` x least loaded (stale)'s.

    Returns the two median p99s.
    """
    if not (isinstance(balancer, type) and issubclass(balancer, Balancer)):
        raise InvalidArgumentType(f"balancer={balancer!r} must be a subclass of Balancer")
    seeds = list(seeds)
    mine = statistics.median(run_balancer(balancer, seed=s, **world).p99 for s in seeds)
    herd = statistics.median(run_balancer(LeastLoaded, seed=s, **world).p99 for s in seeds)
    if mine > factor * herd:
        raise ScenarioFailed(
            f"median p99 over seeds {seeds}: {mine:.1f} ms; least loaded with the same stale reports "
            f"(every front end piling onto the shortest reported queue) gets {herd:.1f} ms: yours "
            f"should be below {factor:g} x that")
    return mine, herd


# -- caches ------------------------------------------------------------------------------------
def concurrent_misses(cache: type, *, seed: int, clients: int = 20, keys: int = 3,
                      spread: float = 1.0) -> dict:
    """Send ``clients`` gets of ``keys`` uncached keys within ``spread`` ms; fail unless each key
    is read from the database once and every client gets its key's value.

    Returns the database's reads per key.
    """
    _check_cache_class("cache", cache)
    check_int("clients", clients, low=1)
    check_int("keys", keys, low=1)
    rng = random.Random(f"{seed}/misses")
    sim = Simulation(seed=seed, latency=Constant(0.5), trace=False)
    db = sim.add_node(Database, "db", 4, 20.0)
    for k in range(keys):
        db.data[f"key{k}"] = 100 + k
    sim.add_node(cache, "cache", 1000.0, "db")
    asked = []
    for c in range(clients):
        key = f"key{c % keys}" if c < keys else f"key{rng.randrange(keys)}"
        node = sim.add_node(CacheClients, f"client{c}", "cache", 1, 0.0, 1 / max(spread, 1e-6), 0.0, 1, key)
        asked.append((node, key))
    sim.run(until=2000)
    for node, key in asked:
        if node.reads != 1:
            raise ScenarioFailed(f"{node.id} asked for {key!r} and got {node.reads} answers (expected 1)")
    reads = dict(sorted(db.reads.items()))
    for node, key in asked:
        if node.last_value != 100 + int(key[3:]):
            raise ScenarioFailed(f"{node.id} asked for {key!r} and got {node.last_value!r}; the database "
                                 f"holds {100 + int(key[3:])}")
    too_many = {k: n for k, n in reads.items() if n != 1}
    if too_many:
        raise ScenarioFailed(f"{clients} concurrent gets of {keys} keys read the database {reads}: "
                             f"each key should be read once while its first read is in flight")
    return reads


def no_stampede(cache: type, *, seed: int, rate: float = 5.0, duration: float = 3000.0,
                ttl: float = 1000.0) -> int:
    """Read a hot key at ``rate`` per ms through expiries; fail unless each expiry costs at most one
    database read and every read is answered. Returns the database reads of the key."""
    _check_cache_class("cache", cache)
    run = stampede_run(cache, seed=seed, rate=rate, duration=duration, ttl=ttl)
    if run.unanswered:
        raise ScenarioFailed(f"{run.unanswered} of {run.reads + run.unanswered} reads of the hot key were "
                             f"never answered")
    reads = run.db_reads_by_key.get("hot", 0)
    expiries = int(duration // ttl) + 1
    if reads > expiries:
        raise ScenarioFailed(f"the hot key was read from the database {reads} times in {duration:g} ms "
                             f"with a ttl of {ttl:g} ms: at most {expiries} (one per expiry) without a stampede")
    return reads


def fresh_after_writes(cache: type, *, seed: int, requests: int = 3000) -> Any:
    """Run a Zipf workload with writes through ``cache``; fail if a read is unanswered or stale."""
    _check_cache_class("cache", cache)
    run = run_cache(cache, seed=seed, requests=requests, keys=50, zipf=1.0, write_fraction=0.2, rate=2.0)
    if run.unanswered:
        raise ScenarioFailed(f"{run.unanswered} reads were never answered ({run})")
    if run.stale:
        raise ScenarioFailed(f"{run.stale} reads returned a value older than a write acknowledged "
                             f"before they were sent ({run})")
    return run


__all__ = ["random_ring_ops", "ring_owners", "moved_on_change", "ring_balance", "lookup_probes",
           "tail_against_baselines", "tail_against_herding", "concurrent_misses", "no_stampede",
           "fresh_after_writes", "CacheServer"]
