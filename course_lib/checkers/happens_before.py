"""The happens-before relation of a recorded run: an oracle for clocks, tests and pictures.

Lamport (1978) defines *a happened before b* (written a → b) as the smallest
relation such that

* a and b are events of the same node and a comes first (program order);
* a is the sending of a message and b its receipt;
* a → c and c → b for some event c (transitivity).

Two distinct events with neither a → b nor b → a are *concurrent*.

:class:`HappensBefore` computes the relation from a :class:`~course_lib.sim.Trace`
offline, in one pass over the trace in time order. It gives every selected
event the vector of "how many events of each node precede or equal it", so that
a question about two events costs O(1) and the whole pass O(events × nodes):
no pair of events is ever compared naively.

Which rows are *events*? Every ``send``, ``deliver`` and ``custom`` row of the
trace carries causality (program order on its node, send → each delivery of
the same message, so a duplicated message is received twice). ``select``
chooses which of them are counted and can be asked about; unselected rows
still pass causality on. The clock harness (:mod:`course_lib.topics.clocks`) selects
its ``"clock"`` custom rows, one per local event, send and receive.

Example:
    >>> from course_lib.sim import Simulation, Node
    >>> class Ping(Node):
    ...     def on_start(self):
    ...         if self.id == "a":
    ...             self.send("b", "ping")
    ...     def on_ping(self, msg):
    ...         pass
    >>> sim = Simulation(seed=1)
    >>> _ = sim.add_nodes(Ping, ["a", "b", "c"])
    >>> sim.run(until=5)
    >>> hb = HappensBefore(sim)
    >>> send, deliver = hb.events
    >>> hb.happened_before(send, deliver), hb.vector(deliver), hb.lamport(deliver)
    (True, (1, 1, 0), 2)
"""

from __future__ import annotations

import random
from typing import Any, Callable, Iterable, Iterator, Mapping

from course_lib.sim.trace import Event, Trace
from course_lib.sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_ids,
                             check_int)

_CAUSAL_KINDS = frozenset({"send", "deliver", "custom"})


class HappensBefore:
    """Lamport's happens-before relation over the events of one recorded run.

    Events are named by their index in the trace (``sim.trace[i]``), which is
    unique even for two deliveries of one duplicated message.

    Args:
        source: a :class:`~course_lib.sim.Simulation`, its :class:`~course_lib.sim.Trace`,
            or any object with a ``.trace`` (such as a :class:`~course_lib.topics.clocks.ClockRun`).
        select: which rows are events: ``None`` for every send, delivery and
            custom row; a str for the custom rows of that name
            (``node.record(name, ...)``); or a predicate ``select(event) -> bool``.
        nodes: the node ids, in the order vector entries should follow
            (default: the simulation's nodes, or the trace's in order of appearance).

    Raises:
        InvalidArgument: ``nodes`` misses a node that has events, or names one twice.
        InvalidArgumentType: ``source``, ``select`` or ``nodes`` has the wrong type.
    """

    def __init__(self, source: Any, *, select: str | Callable[[Event], bool] | None = None,
                 nodes: Iterable[Any] | None = None) -> None:
        trace = Trace.of(source)
        rows = trace.events  # Event tuples: row[1] is the kind, row[2] the node
        self._trace = trace
        self._event_rows = rows
        self.select = select
        if nodes is None:
            sim_nodes = getattr(source, "nodes", None)
            if isinstance(sim_nodes, Mapping) and sim_nodes:
                nodes = list(sim_nodes)
            else:
                seen: dict[Any, None] = {}
                for row in rows:
                    if row[1] in _CAUSAL_KINDS and row[2] is not None:
                        seen.setdefault(row[2], None)
                nodes = list(seen)
        self.nodes: list[Any] = check_ids("nodes", nodes, allow_empty=True)
        pos = {n: i for i, n in enumerate(self.nodes)}
        self._pos = pos
        width = len(self.nodes)

        if select is None:
            def chosen(row: tuple) -> bool:
                return True
        elif isinstance(select, str):
            name = select

            def chosen(row: tuple) -> bool:
                return row[1] == "custom" and row[4] == name
        elif callable(select):
            def chosen(row: tuple) -> bool:
                return bool(select(row))
        else:
            raise InvalidArgumentType(f"select={select!r} must be None, a custom event name or a predicate")

        current: dict[Any, list[int]] = {}     # node -> its vector now
        snapshot: dict[Any, tuple] = {}        # node -> its vector as a tuple, if unchanged since
        lam_now: dict[Any, int] = {}           # node -> Lamport number of its latest event
        carried: dict[Any, tuple[tuple, int]] = {}  # message id -> (vector, Lamport) at its send
        self._index: list[int] = []            # trace indices of the selected events
        self._where: dict[int, int] = {}       # trace index -> position in _index
        self._vectors: list[tuple] = []
        self._lamports: list[int] = []
        self._by_node: dict[Any, list[int]] = {n: [] for n in self.nodes}
        zero = (0,) * width
        for i, row in enumerate(rows):
            kind = row[1]
            if kind not in _CAUSAL_KINDS:
                continue
            node = row[2]
            if node is None:
                continue
            if node not in pos:
                raise InvalidArgument(f"nodes={self.nodes!r} misses node {node!r}, which has events")
            if kind == "deliver":
                got = carried.get(row[5])
                if got is not None:
                    vec, lam = got
                    mine = current.get(node)
                    if mine is None:
                        current[node] = list(vec)
                    else:
                        current[node] = list(map(max, mine, vec))
                    snapshot.pop(node, None)
                    if lam > lam_now.get(node, 0):
                        lam_now[node] = lam
            if chosen(row):
                mine = current.get(node)
                if mine is None:
                    mine = current[node] = [0] * width
                mine[pos[node]] += 1
                vec = snapshot[node] = tuple(mine)
                lam = lam_now[node] = lam_now.get(node, 0) + 1
                self._where[i] = len(self._index)
                self._index.append(i)
                self._vectors.append(vec)
                self._lamports.append(lam)
                self._by_node[node].append(i)
            if kind == "send":
                vec = snapshot.get(node)
                if vec is None:
                    mine = current.get(node)
                    vec = zero if mine is None else tuple(mine)
                    snapshot[node] = vec
                carried[row[5]] = (vec, lam_now.get(node, 0))

    # -- the events ---------------------------------------------------------------------------
    @property
    def events(self) -> list[int]:
        """The trace indices of the selected events, in the order they happened."""
        return list(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index)

    def event(self, e: int) -> Event:
        """Return the trace entry of event ``e``."""
        return self._trace[self._check(e)]

    def events_of(self, node: Any) -> list[int]:
        """The selected events of ``node``, in program order."""
        try:
            known = not isinstance(node, bool) and node in self._pos
        except TypeError:  # an unhashable node
            known = False
        if not known:
            raise InvalidArgument(f"node={node!r} is not one of {self.nodes!r}")
        return list(self._by_node[node])

    def _check(self, e: Any, name: str = "e") -> int:
        if isinstance(e, bool) or not isinstance(e, int):
            raise InvalidArgumentType(f"{name}={e!r} is not a selected event: pass a trace index "
                                      "(an int) from .events")
        if e not in self._where:
            raise InvalidArgument(f"{name}={e!r} is not a selected event: pass a trace index from .events")
        return e

    def describe(self, e: int) -> str:
        """Return a short readable name of event ``e``: its index, node, kind and time."""
        ev = self.event(e)
        if ev.kind == "send":
            what = f"send {ev.type!r} to {ev.peer}"
        elif ev.kind == "deliver":
            what = f"receive {ev.type!r} from {ev.peer}"
        elif isinstance(ev.info, dict) and "op" in ev.info:
            op = ev.info["op"]
            peer = ev.info.get("peer")
            what = {"local": "local event"}.get(op, op)
            what += "" if peer is None else (" to " if op == "send" else " from ") + str(peer)
        else:
            what = str(ev.type)
        return f"event #{e} ({ev.node} {what} at t={ev.time:.3f})"

    # -- timestamps computed offline -----------------------------------------------------------
    def vector(self, e: int) -> tuple:
        """The ideal vector timestamp of ``e``: per node, how many of its events precede or equal ``e``."""
        return self._vectors[self._where[self._check(e)]]

    def vector_dict(self, e: int) -> dict[Any, int]:
        """:meth:`vector` as a dict ``{node: count}`` without zero entries."""
        return {n: c for n, c in zip(self.nodes, self.vector(e)) if c}

    def lamport(self, e: int) -> int:
        """The Lamport number of ``e``: the length of the longest causal chain ending at ``e``.

        It is what a Lamport clock that ticks by one at every event (and takes
        the maximum on receipt) shows at ``e``.
        """
        return self._lamports[self._where[self._check(e)]]

    # -- questions about two events -------------------------------------------------------------
    def happened_before(self, a: int, b: int) -> bool:
        """Whether ``a`` → ``b`` (strictly: an event did not happen before itself)."""
        va = self._vectors[self._where[self._check(a, "a")]]
        vb = self._vectors[self._where[self._check(b, "b")]]
        if a == b:
            return False
        k = self._pos[self._event_rows[a][2]]
        return va[k] <= vb[k]

    def concurrent(self, a: int, b: int) -> bool:
        """Whether ``a`` and ``b`` are distinct and neither happened before the other."""
        return a != b and not self.happened_before(a, b) and not self.happened_before(b, a)

    def relation(self, a: int, b: int) -> str:
        """Return ``"before"`` (a → b), ``"after"`` (b → a), ``"equal"`` or ``"concurrent"``."""
        if a == b:
            self._check(a, "a")
            return "equal"
        if self.happened_before(a, b):
            return "before"
        if self.happened_before(b, a):
            return "after"
        return "concurrent"

    def concurrent_with(self, e: int) -> list[int]:
        """Every event concurrent with ``e``, in trace order (O(events))."""
        self._check(e)
        return [f for f in self._index if self.concurrent(e, f)]

    def concurrent_pairs(self, events: Iterable[int] | None = None) -> list[tuple[int, int]]:
        """Every concurrent pair ``(a, b)`` with ``a < b`` among ``events`` (default: all; O(n²))."""
        if events is None:
            chosen = self._index
        elif isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
            raise InvalidArgumentType(f"events={events!r} must be a list of trace indices from .events")
        else:
            chosen = sorted(self._check(e, f"events[{i}]") for i, e in enumerate(events))
        return [(a, b) for i, a in enumerate(chosen) for b in chosen[i + 1:] if self.concurrent(a, b)]

    def sample_pairs(self, count: int, rng: random.Random) -> list[tuple[int, int]]:
        """Draw ``count`` pairs of events with ``rng``; about a third of them concurrent when possible.

        A uniform sample of a large run is mostly causally related pairs or
        mostly concurrent ones; mixing in pairs from the same moment keeps both kinds.
        """
        check_int("count", count, low=0)
        if not all(callable(getattr(rng, m, None)) for m in ("randrange", "randint")):
            raise InvalidArgumentType(f"rng={rng!r} must be a random.Random")
        n = len(self._index)
        if n == 0:
            return []
        out = []
        for k in range(count):
            i = rng.randrange(n)
            if k % 3 == 2:  # a nearby event: the likeliest place for a subtle mistake
                j = min(n - 1, max(0, i + rng.randint(-2 * len(self.nodes), 2 * len(self.nodes))))
            else:
                j = rng.randrange(n)
            out.append((self._index[i], self._index[j]))
        return out

    def frontier(self, e: int) -> list[int]:
        """The latest event of each node that happened before ``e`` (at most one per node).

        Every ``a`` → ``e`` precedes or equals one of these in its node's program
        order, so a property preserved along program order and from the frontier to
        ``e`` holds for every causally related pair: an O(events × nodes) check.
        """
        vec = self.vector(e)
        own = self._event_rows[e][2]
        out = []
        for node, count in zip(self.nodes, vec):
            if node == own:
                count -= 1
            if count > 0:
                out.append(self._by_node[node][count - 1])
        return out

    def find_violation(self, stamp: Callable[[int], Any],
                       less: Callable[[Any, Any], bool] = lambda x, y: x < y) -> tuple[int, int] | None:
        """Return a pair ``a`` → ``b`` with ``not less(stamp(a), stamp(b))``, or None.

        ``less`` must be a strict order (transitive), as ``<`` on numbers and tuples is:
        then checking program order and each event's :meth:`frontier` suffices.
        """
        check_callable("stamp", stamp, "stamp(event) -> timestamp")
        check_callable("less", less, "less(x, y) -> bool")
        stamps = {e: stamp(e) for e in self._index}
        for b in self._index:
            sb = stamps[b]
            for a in self.frontier(b):
                if not less(stamps[a], sb):
                    return a, b
        return None

    def causal_max(self, value: Mapping[int, float]) -> dict[int, float]:
        """For each event, the largest ``value[f]`` over the events ``f`` that precede or equal it.

        With ``value`` the physical clock reading at each event, this is the
        ``l`` part of a hybrid logical clock (Kulkarni et al., 2014): the latest
        physical time the event can know of.
        """
        if not isinstance(value, Mapping):
            raise InvalidArgumentType(f"value={value!r} must be a dict {{event: number}}")
        missing = [e for e in self._index if e not in value]
        if missing:
            raise InvalidArgument(f"value has no entry for event {missing[0]} (and {len(missing) - 1} "
                                  "more); give a value for every event of .events")
        out: dict[int, float] = {}
        for e in self._index:
            best = value[e]
            for f in self.frontier(e):
                if out[f] > best:
                    best = out[f]
            out[e] = best
        return out

    def __repr__(self) -> str:
        return f"<HappensBefore {len(self._index)} events on {len(self.nodes)} nodes>"
