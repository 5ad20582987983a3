"""Broadcast over a topology on the simulator, with message and latency meters (Gossip Glomers' challenge 3).

Every node must learn every value broadcast at any node. A value enters the
system when the harness calls :meth:`BroadcastNode.on_client_broadcast` on one
node; a node *has* a value once it called :meth:`BroadcastNode.deliver` with it.
The meters: server-to-server messages per broadcast, and for each broadcast the
time until the last node had it (its latency); the run reports their median
and maximum. Times are milliseconds.

* :func:`topology` builds the suggested neighbour lists (``"grid"``, ``"line"``,
  ``"ring"``, ``"tree"``, ``"full"``);
* :class:`FloodNode` is the naive design: forward every new value to every
  neighbour, once;
* :class:`RumourMonger` is Demers et al.'s rumour mongering: push new values to
  ``fanout`` random peers every ``interval``, and lose interest in a value after
  ``patience`` pushes to peers that already had it;
* :func:`run_broadcast` runs a workload and returns a :class:`BroadcastRun`.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgumentType, check_callable, check_choice, check_int,
                               check_number, check_probability)

TOPOLOGIES = ("grid", "line", "ring", "tree", "full")


def topology(kind: str, nodes: Sequence[Any], *, branching: int = 4) -> dict:
    """Return ``{node: [neighbours]}`` for ``nodes`` laid out as ``kind``.

    ``"grid"``: a square-ish grid, 4 neighbours inside; ``"line"`` and ``"ring"``;
    ``"tree"``: a ``branching``-ary tree rooted at the first node; ``"full"``: everyone.

    Raises:
        InvalidArgument: ``kind`` is not one of :data:`TOPOLOGIES`, ``nodes`` is empty.
    """
    check_choice("kind", kind, TOPOLOGIES)
    nodes = list(nodes)
    check_int("len(nodes)", len(nodes), low=1)
    check_int("branching", branching, low=1)
    n = len(nodes)
    links: dict = {v: [] for v in nodes}

    def link(a, b):
        if b not in links[a]:
            links[a].append(b)
            links[b].append(a)

    if kind == "grid":
        width = math.ceil(math.sqrt(n))
        for i in range(n):
            if (i + 1) % width and i + 1 < n:
                link(nodes[i], nodes[i + 1])
            if i + width < n:
                link(nodes[i], nodes[i + width])
    elif kind in ("line", "ring"):
        for i in range(n - 1):
            link(nodes[i], nodes[i + 1])
        if kind == "ring" and n > 2:
            link(nodes[-1], nodes[0])
    elif kind == "tree":
        for i in range(1, n):
            link(nodes[(i - 1) // branching], nodes[i])
    else:
        for i in range(n):
            for j in range(i + 1, n):
                link(nodes[i], nodes[j])
    return {v: sorted(links[v], key=nodes.index) for v in nodes}


class _Meter:
    def __init__(self, nodes: int) -> None:
        self.nodes = nodes
        self.born: dict = {}
        self.have: dict = {}  # value -> {node: time}

    def had(self, value, node, now) -> None:
        self.have.setdefault(value, {}).setdefault(node, now)


class BroadcastNode(Node):
    """A node of a broadcast system: subclass it and write :meth:`on_client_broadcast` and your handlers.

    ``self.neighbours`` are the suggested topology's neighbours (you may ignore
    them: ``self.nodes`` are all the nodes, in order, this one included, already in
    ``__init__``); ``self.seen`` is the set of
    values this node has. Call :meth:`deliver` for each value you learn; it
    returns True the first time.
    """

    def __init__(self, neighbours: Sequence[Any], *, nodes: Sequence[Any], meter: _Meter,
                 **options: Any) -> None:
        self.neighbours = list(neighbours)
        self.nodes = list(nodes)
        self.meter = meter
        self.seen: set = set()
        self.options = options

    def deliver(self, value: Any) -> bool:
        """Record that this node has ``value``; return True if it is new here."""
        if value in self.seen:
            return False
        self.seen.add(value)
        self.meter.had(value, self.id, self.sim.now)
        return True

    def on_client_broadcast(self, value: Any) -> None:
        """A client broadcast ``value`` at this node (the harness calls this)."""
        raise NotImplementedError(f"{type(self).__name__}.on_client_broadcast(value) is not written yet")


class FloodNode(BroadcastNode):
    """The naive broadcast: forward each new value to every neighbour once, and never again."""

    def on_client_broadcast(self, value):
        if self.deliver(value):
            for peer in self.neighbours:
                self.send(peer, "gossip", value=value)

    def on_gossip(self, msg):
        if self.deliver(msg.value):
            for peer in self.neighbours:
                if peer != msg.src:
                    self.send(peer, "gossip", value=msg.value)


class RumourMonger(BroadcastNode):
    """Rumour mongering (Demers et al. 1987): push hot rumours to random peers; lose interest.

    Every ``interval`` ms a node sends each of ``fanout`` random peers one message
    with all the values it still finds hot; a peer answers with the values it
    already had, and a value pushed ``patience`` times to a peer that had it is no
    longer hot. Nothing is ever retransmitted on purpose, so some nodes may
    never hear a value (the *residue*), more of them with a partition.
    """

    def __init__(self, neighbours, *, fanout: int = 2, interval: float = 100.0, patience: int = 2,
                 **kwargs) -> None:
        super().__init__(neighbours, **kwargs)
        self.fanout, self.interval, self.patience = fanout, interval, patience
        self.hot: dict = {}  # value -> times it was pushed to a peer that already had it

    def on_start(self):
        self.every(self.interval, self.push)

    def on_client_broadcast(self, value):
        if self.deliver(value):
            self.hot[value] = 0

    def push(self):
        if not self.hot:
            return
        values = tuple(sorted(self.hot))
        for peer in self.rng.sample(self.peers, min(self.fanout, len(self.peers))):
            self.send(peer, "rumour", values=values)

    def on_rumour(self, msg):
        known = []
        for value in msg.values:
            if self.deliver(value):
                self.hot[value] = 0
            else:
                known.append(value)
        if known:
            self.send(msg.src, "known", values=tuple(known))

    def on_known(self, msg):
        for value in msg.values:
            if value in self.hot:
                self.hot[value] += 1
                if self.hot[value] >= self.patience:
                    del self.hot[value]


@dataclass
class BroadcastRun:
    """The meters of one :func:`run_broadcast`."""

    sim: Simulation
    nodes: list
    broadcasts: int
    messages: int
    latencies: list = field(default_factory=list)  # per broadcast reaching everyone: ms until the last node
    missing: int = 0  # (value, node) pairs never delivered

    @property
    def messages_per_op(self) -> float:
        return self.messages / self.broadcasts if self.broadcasts else math.nan

    @property
    def median_latency(self) -> float:
        return statistics.median(self.latencies) if self.latencies else math.inf

    @property
    def max_latency(self) -> float:
        return max(self.latencies) if self.latencies and not self.missing else math.inf

    @property
    def complete(self) -> bool:
        return self.missing == 0

    def __repr__(self) -> str:
        return (f"<BroadcastRun {len(self.nodes)} nodes, {self.broadcasts} broadcasts: "
                f"{self.messages_per_op:.1f} msgs/op, median {self.median_latency:.0f} ms, "
                f"max {self.max_latency:.0f} ms, {self.missing} missing deliveries>")


def run_broadcast(node: type, *, seed: int | str, nodes: int = 25, kind: str = "grid",
                  broadcasts: int = 200, rate: float = 0.1, latency: float = 100.0,
                  loss: float = 0.0, partition: tuple | None = None, settle: float = 5000.0,
                  options: dict | None = None, faults: Callable[[Simulation], Any] | None = None,
                  trace: bool = True) -> BroadcastRun:
    """Run ``broadcasts`` broadcasts at random nodes of class ``node`` and measure them.

    Args:
        node: a :class:`BroadcastNode` subclass.
        seed: the random seed.
        nodes: how many nodes (``n0 .. n{nodes-1}``), each given its ``kind`` neighbours.
        broadcasts, rate: how many values, arriving at ``rate`` per ms (0.1 = 100/s).
        latency: every link's one-way delay in ms.
        loss: message loss probability.
        partition: ``(start, end)``: the first half of the nodes cannot talk to the rest
            from ``start`` to ``end`` ms.
        settle: ms to wait after the last broadcast.
        options: keyword arguments for every node (``{"fanout": 3}``).
        faults: ``faults(sim)`` schedules more faults before the run.

    Raises:
        InvalidArgument: a count, rate, delay or probability is out of range.
        InvalidArgumentType: ``node`` is not a BroadcastNode subclass.
    """
    if not (isinstance(node, type) and issubclass(node, BroadcastNode)):
        raise InvalidArgumentType(f"node={node!r} must be a subclass of BroadcastNode")
    check_int("nodes", nodes, low=2, high=500)
    check_choice("kind", kind, TOPOLOGIES)
    check_int("broadcasts", broadcasts, low=1, high=100_000)
    check_number("rate", rate, low=0, low_open=True)
    check_number("latency", latency, low=0)
    check_probability("loss", loss)
    check_number("settle", settle, low=0)
    if partition is not None:
        if not (isinstance(partition, tuple) and len(partition) == 2):
            raise InvalidArgumentType(f"partition={partition!r} must be a (start, end) pair of times")
        check_number("partition[0]", partition[0], low=0)
        check_number("partition[1]", partition[1], low=partition[0])
    if options is not None and not isinstance(options, dict):
        raise InvalidArgumentType(f"options={options!r} must be a dict of keyword arguments")
    if faults is not None:
        check_callable("faults", faults, "faults(sim)")
    sim = Simulation(seed=seed, latency=latency, loss=loss, trace=trace, max_events=5_000_000)
    ids = [f"n{i}" for i in range(nodes)]
    meter = _Meter(nodes)
    links = topology(kind, ids)
    for nid in ids:
        sim.add_node(node, nid, links[nid], nodes=ids, meter=meter, **(options or {}))
    rng = sim.rng_for("broadcast workload")
    t = 0.0
    for value in range(broadcasts):
        t += rng.expovariate(rate)
        target = ids[rng.randrange(nodes)]
        meter.born[value] = t
        sim.at(t, lambda nid=target, v=value: None if sim[nid].crashed else sim[nid].on_client_broadcast(v))
    if partition is not None:
        half = nodes // 2
        sim.nemesis.partition([ids[:half], ids[half:]], at=partition[0], heal_at=partition[1])
    if faults is not None:
        faults(sim)
    sim.run(until=t + settle)
    sent = sim.trace.summary()["sent"] if trace else 0
    lat, missing = [], 0
    for value, born in meter.born.items():
        have = meter.have.get(value, {})
        missing += nodes - len(have)
        if len(have) == nodes:
            lat.append(max(have.values()) - born)
    return BroadcastRun(sim=sim, nodes=ids, broadcasts=broadcasts, messages=sent,
                        latencies=lat, missing=missing)
