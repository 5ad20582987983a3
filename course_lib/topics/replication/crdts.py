"""A harness for state-based CRDTs: replicas on the simulator that exchange whole states, and meters.

A CRDT here is an object with ``merge(other)`` (fold another replica's state
into this one, in place), ``value()`` (what a reader sees) and update methods
(``increment``, ``decrement``, ``add``, ``remove``, ``set``, ...). Each replica
of :func:`run_crdt` holds one, applies its share of a script of operations at
the given times, and after every update (and every ``gossip`` ms) sends a copy
of its state to every other replica over a network that may lose, duplicate and
reorder messages. At the end every replica sends its state to every other once
more over a healed network, and the run reports each replica's ``value()``.

* :func:`random_ops` draws a seeded script of operations for a kind of CRDT;
* :func:`run_crdt` runs a script and returns a :class:`CRDTRun`;
* :func:`merge_orders` merges a set of states in every order (and with
  duplicates), the property a CRDT's ``merge`` must pass: commutative,
  associative, idempotent.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice,
                               check_int, check_number, check_probability)

KINDS = ("counter", "pn-counter", "set", "register")
"""Kinds of scripts :func:`random_ops` draws."""


def random_ops(kind: str, *, seed: int | str, count: int = 30, replicas: int = 3,
               elements: Sequence[Any] = ("a", "b", "c", "d"), span: float = 100.0) -> list[tuple]:
    """Return a seeded script ``[(time, replica, method, args), ...]`` in time order.

    ``"counter"``: ``increment(n)``; ``"pn-counter"``: ``increment(n)`` and
    ``decrement(n)``; ``"set"``: ``add(e)`` and ``remove(e)`` of ``elements``;
    ``"register"``: ``set(v)`` of distinct values. Replicas are numbered from 0.

    Raises:
        InvalidArgument: ``kind`` is unknown, a count is out of range, ``elements`` is empty.
    """
    import random

    check_choice("kind", kind, KINDS)
    check_int("count", count, low=0, high=100_000)
    check_int("replicas", replicas, low=1, high=100)
    check_number("span", span, low=0, low_open=True)
    elements = list(elements)
    if not elements:
        raise InvalidArgument("elements=[] must name at least one element")
    rng = random.Random(f"{seed}/crdt ops/{kind}")
    times = sorted(rng.uniform(0, span) for _ in range(count))
    out = []
    for i, t in enumerate(times):
        r = rng.randrange(replicas)
        if kind == "counter":
            out.append((t, r, "increment", (rng.randint(1, 5),)))
        elif kind == "pn-counter":
            out.append((t, r, rng.choice(("increment", "decrement")), (rng.randint(1, 5),)))
        elif kind == "set":
            out.append((t, r, "add" if rng.random() < 0.6 else "remove", (rng.choice(elements),)))
        else:
            out.append((t, r, "set", (f"v{i}",)))
    return out


class CRDTReplica(Node):
    """A replica holding one CRDT: applies its script, ships its state to every peer."""

    def __init__(self, factory: Callable[[Any], Any], script: Sequence[tuple], gossip: float,
                 index: int) -> None:
        self.crdt = factory(self.id)
        self.script = [s for s in script if s[1] == index]
        self.gossip = gossip
        self.errors: list = []

    def on_start(self):
        for t, _, method, args in self.script:
            self.sim.at(max(t, self.sim.now), self.update, method, args)
        if self.gossip:
            self.every(self.gossip, self.ship)

    def update(self, method: str, args: tuple) -> None:
        getattr(self.crdt, method)(*args)
        self.ship()

    def ship(self) -> None:
        state = copy.deepcopy(self.crdt)
        for peer in self.peers:
            if peer.startswith("r"):
                self.send(peer, "state", crdt=state)

    def on_state(self, msg):
        self.crdt.merge(copy.deepcopy(msg.crdt))


@dataclass
class CRDTRun:
    """What :func:`run_crdt` saw: each replica's final ``value()`` and the simulation."""

    sim: Simulation
    script: list
    values: dict = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        vals = list(self.values.values())
        return all(_same(v, vals[0]) for v in vals)

    def __repr__(self) -> str:
        return f"<CRDTRun {len(self.script)} ops: values {self.values!r}>"


def _same(a: Any, b: Any) -> bool:
    try:
        return a == b
    except Exception:  # noqa: BLE001 - a learner's value may compare badly
        return False


def run_crdt(factory: Callable[[Any], Any], script: Sequence[tuple], *, seed: int | str,
             replicas: int = 3, loss: float = 0.0, duplicate: float = 0.0, reorder: float = 0.0,
             latency: Any = None, gossip: float = 0.0, settle: float = 200.0) -> CRDTRun:
    """Run ``script`` on ``replicas`` replicas built by ``factory(replica_id)`` and return a :class:`CRDTRun`.

    Args:
        factory: builds one replica's CRDT, given the replica's id (``"r0"``, ``"r1"``, ...).
        script: ``[(time, replica_index, method, args), ...]`` (see :func:`random_ops`).
        seed: the random seed.
        loss, duplicate, reorder: the network's faults while the script runs.
        latency: the network's latency (default: uniform 1 to 20 ms: plenty of reordering).
        gossip: also ship the state every ``gossip`` ms (0: only after updates).
        settle: ms after the last operation before the final, fault-free exchange.

    Raises:
        InvalidArgument: a count or probability is out of range, a script step is malformed.
        InvalidArgumentType: ``factory`` is not callable.
    """
    from ...sim import Uniform

    check_callable("factory", factory, "factory(replica_id)")
    check_int("replicas", replicas, low=1, high=50)
    check_probability("loss", loss)
    check_probability("duplicate", duplicate)
    check_probability("reorder", reorder)
    check_number("gossip", gossip, low=0)
    check_number("settle", settle, low=0)
    if isinstance(script, (str, bytes)):
        raise InvalidArgumentType(f"script={script!r} must be a list of (time, replica, method, args)")
    script = list(script)
    for step in script:
        if not (isinstance(step, tuple) and len(step) == 4 and isinstance(step[2], str)
                and isinstance(step[3], tuple) and isinstance(step[1], int) and 0 <= step[1] < replicas):
            raise InvalidArgument(f"script holds {step!r}; a step is (time, replica index < {replicas}, "
                                  "'method', (args,))")
    sim = Simulation(seed=seed, latency=Uniform(1.0, 20.0) if latency is None else latency,
                     loss=loss, duplicate=duplicate, reorder=reorder)
    ids = [f"r{i}" for i in range(replicas)]
    for i, rid in enumerate(ids):
        sim.add_node(CRDTReplica, rid, factory, script, gossip, i)
    end = max((s[0] for s in script), default=0.0) + settle
    sim.run(until=end)
    sim.network.configure(loss=0.0, duplicate=0.0, reorder=0.0)
    for rid in ids:
        sim.at(sim.now, sim[rid].ship)
    sim.run(until=sim.now + 100.0)
    return CRDTRun(sim=sim, script=script, values={rid: sim[rid].crdt.value() for rid in ids})


def merge_orders(states: Sequence[Any], *, limit: int = 120) -> list:
    """Merge copies of ``states`` in every order (up to ``limit`` orders), once with each state twice.

    Returns the list of resulting ``value()``s; a correct merge gives one value, whatever the order.

    Raises:
        InvalidArgument: ``states`` is empty.
    """
    states = list(states)
    if not states:
        raise InvalidArgument("states=[] must hold at least one state")
    check_int("limit", limit, low=1)
    out = []
    for order in itertools.islice(itertools.permutations(range(len(states))), limit):
        acc = copy.deepcopy(states[order[0]])
        for i in order[1:] + order:  # every state again: merging twice must change nothing
            acc.merge(copy.deepcopy(states[i]))
        out.append(acc.value())
    return out
