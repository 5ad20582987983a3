"""The network: latency, loss, duplication, reordering and partitions.

Every fault is a knob named after the fault. Defaults apply to every link;
:meth:`Network.set_link` overrides them for one direction of one link.
Partitions are checked when a message is sent *and* when it would arrive, so a
message in flight when a partition starts is lost, like a packet dropped by a
firewall rule. Partitions stack: each :meth:`Network.partition` returns a
handle, and ``heal(handle)`` ends only that partition (``heal()`` ends them all),
so a fault that heals cannot end another fault's partition.

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
from heapq import heappush
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Sequence

from simpy.events import NORMAL

from .errors import HandlerError
from .latency import Constant, LatencyLike, as_latency
from .messages import Message
from .trace import DROP_LOSS, DROP_PARTITION_AT_SEND, DUPLICATE_REF
from .validation import InvalidArgument, InvalidArgumentType, check_non_negative, check_probability

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
        # Active partitions, by handle: (node -> group index, index of "everyone else").
        self._partitions: dict[int, tuple[dict[Any, int], int]] = {}
        self._cuts: dict[int, frozenset[tuple[Any, Any]]] = {}  # one-way cuts, by handle
        self._faults = False  # any partition or cut active (checked on every send)
        self._fast_delay: float | None = None  # the delay when every link is plain (see _refresh)
        self._next_handle = 0
        self._refresh()

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

    def _refresh(self) -> None:
        """Note whether every send can take the fast path: one constant delay, no other fault."""
        d = self._default
        plain = (type(d.latency) is Constant and not d.loss and not d.duplicate and not d.reorder
                 and not self._links)
        self._fast_delay = self._sim._fast_delay = d.latency.delay if plain else None

    def configure(self, *, latency: LatencyLike | None = None, loss: float | None = None,
                  duplicate: float | None = None, reorder: float | None = None,
                  reorder_delay: float | None = None) -> None:
        """Change the default fault settings from now on (unset arguments keep their value)."""
        self._default = self._merge(self._default, latency, loss, duplicate, reorder, reorder_delay)
        self._refresh()

    def set_link(self, src: Any, dst: Any, *, latency: LatencyLike | None = None,
                 loss: float | None = None, duplicate: float | None = None,
                 reorder: float | None = None, reorder_delay: float | None = None,
                 both_ways: bool = False) -> None:
        """Override the fault settings of the link ``src -> dst`` (and back, if ``both_ways``)."""
        self._sim.check_node("src", src)
        self._sim.check_node("dst", dst)
        pairs = [(src, dst), (dst, src)] if both_ways else [(src, dst)]
        for pair in pairs:
            base = self._links.get(pair, self._default)
            self._links[pair] = self._merge(base, latency, loss, duplicate, reorder, reorder_delay)
        self._refresh()

    def clear_link(self, src: Any, dst: Any, both_ways: bool = False) -> None:
        """Remove the overrides of ``src -> dst`` (and back, if ``both_ways``)."""
        self._sim.check_node("src", src)
        self._sim.check_node("dst", dst)
        self._links.pop((src, dst), None)
        if both_ways:
            self._links.pop((dst, src), None)
        self._refresh()

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
    def partition(self, groups: Sequence[Iterable[Any]]) -> int:
        """Split the network into ``groups`` that cannot reach each other; return a handle.

        ``groups`` is a list of groups, each a list of node ids:
        ``partition([["a"], ["b", "c"]])``. Nodes named in no group, and nodes
        added later, form one more group together ("everyone else"), so
        ``partition([["a"]])`` isolates ``a``. Partitions stack: a message
        gets through only if every active partition lets it; ``heal(handle)``
        ends this one.

        Raises:
            InvalidArgument: a group names an unknown node, a node appears
                twice, or ``groups`` is a flat list of ids (``["a", "b"]``).
        """
        groups = check_groups(self._sim, groups)
        assignment: dict[Any, int] = {}
        for index, group in enumerate(groups):
            for node in group:
                assignment[node] = index
        self._next_handle += 1
        handle = self._next_handle
        self._partitions[handle] = (assignment, len(groups))
        self._faults = self._sim._net_faults = True
        self._sim._record_fault("partition", [sorted(map(str, g)) for g in self._groups_of(handle)])
        return handle

    def partition_one_way(self, src_group: Iterable[Any], dst_group: Iterable[Any]) -> int:
        """Drop every message from a node of ``src_group`` to a node of ``dst_group`` (not back); return a handle."""
        srcs = [self._sim.check_node("src_group", n) for n in _ids("src_group", src_group)]
        dsts = [self._sim.check_node("dst_group", n) for n in _ids("dst_group", dst_group)]
        self._next_handle += 1
        handle = self._next_handle
        self._cuts[handle] = frozenset((s, d) for s in srcs for d in dsts if s != d)
        self._faults = self._sim._net_faults = True
        self._sim._record_fault("partition", {"one_way": [sorted(map(str, srcs)), sorted(map(str, dsts))]})
        return handle

    def heal(self, handle: int | None = None) -> None:
        """End the partition or one-way cut ``handle``, or every one of them when ``handle`` is None.

        Healing a partition that has ended already does nothing.
        """
        if handle is None:
            self._partitions.clear()
            self._cuts.clear()
        else:
            if isinstance(handle, bool) or not isinstance(handle, int):
                raise InvalidArgumentType(f"handle={handle!r} must be a handle returned by partition()")
            if handle not in self._partitions and handle not in self._cuts:
                return
            self._partitions.pop(handle, None)
            self._cuts.pop(handle, None)
        self._faults = bool(self._partitions or self._cuts)
        self._sim._net_faults = self._faults
        remaining = len(self._partitions) + len(self._cuts)
        self._sim._record_fault("heal", remaining or None)

    @property
    def partitioned(self) -> bool:
        """Whether any partition or one-way cut is active."""
        return self._faults

    def _groups_of(self, handle: int) -> list[list[Any]]:
        assignment, rest = self._partitions[handle]
        out: dict[int, list[Any]] = {}
        for node in self._sim._nodes:
            out.setdefault(assignment.get(node, rest), []).append(node)
        return [out[g] for g in sorted(out)]

    def groups(self) -> list[list[Any]]:
        """Return the groups of nodes that can reach each other now (every partition applied).

        One group holding every node when there is no partition; one-way cuts are not shown.
        """
        out: dict[tuple, list[Any]] = {}
        parts = list(self._partitions.values())
        for node in self._sim._nodes:
            key = tuple(assignment.get(node, rest) for assignment, rest in parts)
            out.setdefault(key, []).append(node)
        return list(out.values())

    def reachable(self, src: Any, dst: Any) -> bool:
        """Whether a message from ``src`` to ``dst`` would get through the partitions now."""
        if not self._faults:
            return True
        for assignment, rest in self._partitions.values():
            if assignment.get(src, rest) != assignment.get(dst, rest):
                return False
        for cut in self._cuts.values():
            if (src, dst) in cut:
                return False
        return True

    def _node_added(self, node_id: Any) -> None:
        """A new node is in every active partition's "everyone else" group (nothing to store)."""

    # -- framework: transmission --------------------------------------------------------------
    def _route(self, sender: "Node", wire: Message, now: float) -> None:
        """Carry a sent message over a link with faults (framework: the slow path of ``Node.send``)."""
        sim = self._sim
        trace = sim.trace
        traced = trace._enabled
        src, dst, msg_id = wire.src, wire.dst, wire.id
        params = self._links.get((src, dst), self._default) if self._links else self._default
        rng = sender._net_rng
        if params.loss and rng.random() < params.loss:
            if traced:
                trace._ref(now, DROP_LOSS, msg_id)
            return
        if self._faults and not self.reachable(src, dst):
            if traced:
                trace._ref(now, DROP_PARTITION_AT_SEND, msg_id)
            return
        latency = params.latency
        if latency.__class__ is Constant and not params.reorder:
            heappush(sim._queue, (now + latency.delay, NORMAL, next(sim._eid), wire))
        else:
            self._schedule(wire, params, rng)
        if params.duplicate and rng.random() < params.duplicate:
            if traced:
                trace._ref(now, DUPLICATE_REF, msg_id)
            self._schedule(wire, params, rng)

    def _schedule(self, wire: Message, params: LinkParams, rng: Any) -> None:
        try:
            delay = params.latency(rng, wire.src, wire.dst)
        except Exception as exc:  # a learner's latency model with a bug: say which
            raise HandlerError(wire.src, f"latency model {params.latency!r} for "
                               f"{wire.src!r}->{wire.dst!r}", self._sim.env.now, exc, self._sim) from exc
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not (0.0 <= delay < math.inf):
            raise InvalidArgument(
                f"latency model {params.latency!r} returned {delay!r} for "
                f"{wire.src!r}->{wire.dst!r}; delays must be finite numbers >= 0"
            )
        if params.reorder and rng.random() < params.reorder:
            delay += params.reorder_delay * rng.random()
        sim = self._sim
        heappush(sim._queue, (sim.env._now + delay, NORMAL, next(sim._eid), wire))


def _ids(name: str, values: Any) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidArgumentType(f"{name}={values!r} must be a list of node ids such as ['a', 'b']")
    return list(values)


def check_groups(sim: "Simulation", groups: Any) -> list[list[Any]]:
    """Return ``groups`` as a list of lists of known node ids, each node in at most one group.

    Raises:
        InvalidArgument: ``groups`` is empty, is a flat list of ids (the outer
            list forgotten), names an unknown node or names a node twice.
    """
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Iterable):
        raise InvalidArgumentType(
            f"groups={groups!r} must be a list of groups, each a list of node ids: [['a'], ['b', 'c']]")
    groups = list(groups)
    if not groups:
        raise InvalidArgument("groups=[] must name at least one group of node ids")
    out: list[list[Any]] = []
    seen: dict[Any, int] = {}
    for index, group in enumerate(groups):
        if isinstance(group, (str, bytes, int)) or not isinstance(group, Iterable):
            raise InvalidArgumentType(
                f"groups={groups!r}: groups[{index}]={group!r} is not a list of node ids. Pass a "
                f"list of groups, e.g. [{groups!r}] to isolate those nodes together")
        members = list(group)
        for node in members:
            sim.check_node(f"groups[{index}]", node)
            if node in seen:
                raise InvalidArgument(f"groups={groups!r} names node {node!r} in more than one group")
            seen[node] = index
        out.append(members)
    return out
