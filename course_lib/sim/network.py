"""The network: latency, loss, duplication, reordering and partitions.

Every fault is a knob named after the fault. Defaults apply to every link;
:meth:`Network.set_link` overrides them for one direction of one link.
Partitions are checked when a message is sent *and* when it would arrive, so a
message in flight when a partition starts is lost, like a packet dropped by a
firewall rule.

Randomness: each sending node has its own generator for network draws, derived
from the simulation seed, so adding a node or a message changes no other
node's draws.

Example:
    >>> from course_lib.sim import Simulation, Uniform
    >>> sim = Simulation(seed=3, latency=Uniform(1, 2), loss=0.1)
    >>> sim.network.loss
    0.1
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from simpy.events import Timeout

from .latency import Constant, LatencyLike, as_latency, check_non_negative, check_probability
from .messages import Message, wire_message

if TYPE_CHECKING:  # pragma: no cover
    from .node import Node
    from .simulation import Simulation


class LinkParams(NamedTuple):
    """The fault settings of one link direction."""

    latency: Any
    loss: float
    duplicate: float
    reorder: float
    reorder_delay: float


class Network:
    """Carries messages between the nodes of one :class:`Simulation`."""

    def __init__(self, sim: "Simulation", latency: LatencyLike = 1.0, loss: float = 0.0,
                 duplicate: float = 0.0, reorder: float = 0.0, reorder_delay: float = 10.0) -> None:
        self._sim = sim
        self._default = LinkParams(as_latency(latency), check_probability("loss", loss),
                                   check_probability("duplicate", duplicate),
                                   check_probability("reorder", reorder),
                                   check_non_negative("reorder_delay", reorder_delay))
        self._links: dict[tuple[Any, Any], LinkParams] = {}
        self._group: dict[Any, int] = {}     # node -> partition group; empty when healed
        self._blocked: set[tuple[Any, Any]] = set()  # one-way cuts (src, dst)
        self._next_id = 0

    # -- settings ---------------------------------------------------------------------------
    @property
    def latency(self) -> Any:
        """The default latency model."""
        return self._default.latency

    @property
    def loss(self) -> float:
        """The default probability that a message is lost."""
        return self._default.loss

    @property
    def duplicate(self) -> float:
        """The default probability that a message is delivered twice."""
        return self._default.duplicate

    @property
    def reorder(self) -> float:
        """The default probability that a message is held back by up to ``reorder_delay``."""
        return self._default.reorder

    def configure(self, *, latency: LatencyLike | None = None, loss: float | None = None,
                  duplicate: float | None = None, reorder: float | None = None,
                  reorder_delay: float | None = None) -> None:
        """Change the default fault settings from now on (unset arguments keep their value)."""
        self._default = self._merge(self._default, latency, loss, duplicate, reorder, reorder_delay)

    def set_link(self, src: Any, dst: Any, *, latency: LatencyLike | None = None,
                 loss: float | None = None, duplicate: float | None = None,
                 reorder: float | None = None, reorder_delay: float | None = None,
                 both_ways: bool = False) -> None:
        """Override the fault settings of the link ``src -> dst`` (and back, if ``both_ways``)."""
        self._sim._check_node("src", src)
        self._sim._check_node("dst", dst)
        pairs = [(src, dst), (dst, src)] if both_ways else [(src, dst)]
        for pair in pairs:
            base = self._links.get(pair, self._default)
            self._links[pair] = self._merge(base, latency, loss, duplicate, reorder, reorder_delay)

    def clear_link(self, src: Any, dst: Any, both_ways: bool = False) -> None:
        """Remove the overrides of ``src -> dst`` (and back, if ``both_ways``)."""
        self._links.pop((src, dst), None)
        if both_ways:
            self._links.pop((dst, src), None)

    @staticmethod
    def _merge(base: LinkParams, latency: Any, loss: Any, duplicate: Any, reorder: Any,
               reorder_delay: Any) -> LinkParams:
        return LinkParams(
            base.latency if latency is None else as_latency(latency),
            base.loss if loss is None else check_probability("loss", loss),
            base.duplicate if duplicate is None else check_probability("duplicate", duplicate),
            base.reorder if reorder is None else check_probability("reorder", reorder),
            base.reorder_delay if reorder_delay is None else check_non_negative("reorder_delay", reorder_delay),
        )

    # -- partitions --------------------------------------------------------------------------
    def partition(self, *groups: Iterable[Any]) -> None:
        """Split the network into ``groups`` that cannot reach each other.

        Nodes named in no group form one more group together, so
        ``partition(["a"])`` isolates ``a`` from everyone else. A new partition
        replaces the previous one; one-way cuts stay until :meth:`heal`.

        Raises:
            ValueError: a group names an unknown node, or a node appears twice.
        """
        if not groups:
            raise ValueError("partition() needs at least one group of node ids")
        assignment: dict[Any, int] = {}
        for index, group in enumerate(groups):
            if isinstance(group, (str, bytes)) or not isinstance(group, Iterable):
                raise TypeError(f"groups[{index}]={group!r} must be a list of node ids")
            for node in group:
                self._sim._check_node(f"groups[{index}]", node)
                if node in assignment:
                    raise ValueError(f"node {node!r} appears in more than one group: {list(groups)!r}")
                assignment[node] = index
        rest = len(groups)
        for node in self._sim._nodes:
            assignment.setdefault(node, rest)
        self._group = assignment
        self._sim._record_fault("partition", [sorted(map(str, g)) for g in self.groups()])

    def partition_one_way(self, src_group: Iterable[Any], dst_group: Iterable[Any]) -> None:
        """Drop every message from a node of ``src_group`` to a node of ``dst_group`` (not back)."""
        srcs = [self._sim._check_node("src_group", n) for n in src_group]
        dsts = [self._sim._check_node("dst_group", n) for n in dst_group]
        for s in srcs:
            for d in dsts:
                if s != d:
                    self._blocked.add((s, d))
        self._sim._record_fault("partition", {"one_way": [sorted(map(str, srcs)), sorted(map(str, dsts))]})

    def heal(self) -> None:
        """Remove every partition and one-way cut."""
        self._group = {}
        self._blocked = set()
        self._sim._record_fault("heal", None)

    def groups(self) -> list[list[Any]]:
        """Return the current partition groups (one group holding every node when healed)."""
        if not self._group:
            return [list(self._sim._nodes)]
        out: dict[int, list[Any]] = {}
        for node, g in self._group.items():
            out.setdefault(g, []).append(node)
        return [out[g] for g in sorted(out)]

    def reachable(self, src: Any, dst: Any) -> bool:
        """Whether a message from ``src`` to ``dst`` would get through the partitions now."""
        group = self._group
        if group and group.get(src) != group.get(dst):
            return False
        return not (self._blocked and (src, dst) in self._blocked)

    # -- framework: transmission --------------------------------------------------------------
    def _transmit(self, sender: "Node", dst: Any, msg: Message | str, reply_to: int | None,
                  fields: dict | None = None) -> Message:
        """Send ``msg`` (a Message, or a type name with ``fields``) from ``sender`` to ``dst``."""
        sim = self._sim
        if sender._crashed:
            raise RuntimeError(f"node {sender._id!r} is crashed and cannot send")
        try:
            known = dst in sim._nodes
        except TypeError:  # an unhashable dst, e.g. a list of peers: say so plainly below
            known = False
        if not known:
            sim._check_node("dst", dst)
        src = sender._id
        self._next_id += 1
        if type(msg) is str:
            wire = wire_message(msg, fields or {}, src, dst, self._next_id, reply_to)
        else:
            wire = msg._stamped(src, dst, self._next_id, reply_to)
        now = sim.env.now
        trace = sim.trace
        if trace.enabled:
            trace._rows.append((now, "send", src, dst, wire.type, wire.id, None))
        params = self._links.get((src, dst), self._default) if self._links else self._default
        rng = sender._net_rng
        if params.loss and rng.random() < params.loss:
            trace.record(now, "drop", src, dst, wire.type, wire.id, "loss")
            return wire
        if (self._group or self._blocked) and not self.reachable(src, dst):
            trace.record(now, "drop", src, dst, wire.type, wire.id, "partition")
            return wire
        latency = params.latency
        if type(latency) is Constant and not params.reorder:  # the common case, kept cheap
            Timeout(sim.env, latency.delay, wire).callbacks.append(sim._arrive)
        else:
            self._schedule(wire, params, rng)
        if params.duplicate and rng.random() < params.duplicate:
            trace.record(now, "duplicate", src, dst, wire.type, wire.id, None)
            self._schedule(wire, params, rng)
        return wire

    def _schedule(self, wire: Message, params: LinkParams, rng: Any) -> None:
        delay = params.latency(rng, wire.src, wire.dst)
        if not (0.0 <= delay < math.inf):
            raise ValueError(
                f"latency model {params.latency!r} returned {delay!r} for "
                f"{wire.src!r}->{wire.dst!r}; delays must be finite and >= 0"
            )
        if params.reorder and rng.random() < params.reorder:
            delay += params.reorder_delay * rng.random()
        Timeout(self._sim.env, delay, wire).callbacks.append(self._sim._arrive)
