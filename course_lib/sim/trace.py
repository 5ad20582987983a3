"""The trace: a structured record of everything that happened in a run.

Each entry is an :class:`Event` with the simulated ``time``, a ``kind``
(``send``, ``deliver``, ``drop``, ``duplicate``, ``timer``, ``crash``,
``restart``, ``partition``, ``heal``, ``clock_jump``, ``pause``, ``resume``,
``custom``), the ``node`` it happened at, the ``peer`` on the other end of a
message, the message ``type`` (or the custom event's name), the message ``id``
and an ``info`` value (drop reason, timer name, custom data).

Recording is cheap because a run records millions of events: the trace keeps
two columns, under 50 bytes an event: the time (packed as machine numbers),
and one int packing the kind with the node, peer and message type as small
integers. A
message's later events (delivery, drop, duplicate) store only its id and
refer to its send, whose place in the trace the id gives (the network numbers
messages 1, 2, 3, ... in the order it sends them). The few events that carry
data (custom events, faults) keep it in a side table. :class:`Event` objects
are built only when someone reads the trace.
Custom data is copied when recorded, so changing an object after recording it
does not change the trace.

Reading as the run goes on: ``mark = trace.mark()`` remembers where the trace
is now, and ``trace.since(mark)`` returns what happened after it.
"""

from __future__ import annotations

import copy
import struct
from array import array
from bisect import bisect_left
from collections import Counter
from typing import Any, Iterator, NamedTuple

from .validation import InvalidArgument, InvalidArgumentType

KINDS = (
    "send", "deliver", "drop", "duplicate", "timer", "crash", "restart",
    "partition", "heal", "clock_jump", "custom", "pause", "resume",
)
_CODE = {kind: code for code, kind in enumerate(KINDS)}
SEND, DELIVER, DROP, DUPLICATE, TIMER = (_CODE[k] for k in ("send", "deliver", "drop", "duplicate", "timer"))
CUSTOM = _CODE["custom"]
_MESSAGE_KINDS = frozenset({SEND, DELIVER, DROP, DUPLICATE})

# Compact rows of the network's own sends and of what then happened to them.
SEND_SEQ = 13          # a send by the network: its id is its rank among these rows
# Rows about a message sent earlier: code = kind | id << 5.
# kind -> (event kind, happened at the receiver, drop reason)
_REF_KINDS = {
    14: ("deliver", True, None),
    15: ("duplicate", False, None),
    16: ("drop", False, "loss"),
    17: ("drop", False, "partition"),
    18: ("drop", True, "partition"),
    19: ("drop", True, "crashed"),
    20: ("drop", True, "late reply"),
}
DELIVER_REF, DUPLICATE_REF = 14, 15
DROP_LOSS, DROP_PARTITION_AT_SEND, DROP_PARTITION_AT_ARRIVAL, DROP_CRASHED, DROP_LATE = 16, 17, 18, 19, 20
_KIND_MASK = 31
_NODE_SHIFT, _PEER_SHIFT, _NAME_SHIFT = 5, 25, 45
_MASK20 = (1 << 20) - 1
_MAX_IDS = 1 << 20
_MAX_NAMES = 1 << 18
#: Rows kept as Python numbers before being packed into the columns.
FLUSH_ROWS = 512

_ATOMIC = (int, float, complex, str, bool, bytes, type(None))


def _frozen_copy(value: Any) -> Any:
    """Return ``value`` itself if nothing in it can change, else a deep copy."""
    if type(value) in _ATOMIC:
        return value
    if type(value) in (tuple, frozenset) and all(type(v) in _ATOMIC for v in value):
        return value
    return copy.deepcopy(value)


def stable_repr(value: Any) -> str:
    """Return ``repr(value)`` with sets and frozensets in sorted order.

    The repr of a set of strings depends on the process's hash seed; this one
    does not, so a trace printed in two kernels is the same text.
    """
    kind = type(value)
    if kind in (set, frozenset):
        items = sorted(stable_repr(v) for v in value)
        if kind is frozenset:
            return f"frozenset({{{', '.join(items)}}})" if items else "frozenset()"
        return f"{{{', '.join(items)}}}" if items else "set()"
    if kind is dict:
        return "{" + ", ".join(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in value.items()) + "}"
    if kind is list:
        return "[" + ", ".join(stable_repr(v) for v in value) + "]"
    if kind is tuple:
        inner = ", ".join(stable_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


class Event(NamedTuple):
    """One entry of the trace."""

    time: float
    kind: str
    node: Any
    peer: Any = None
    type: str | None = None
    id: int | None = None
    info: Any = None

    def __str__(self) -> str:
        parts = [f"{self.time:10.4f}", f"{self.kind:<10}", f"{self.node!s}"]
        if self.peer is not None:
            arrow = "<-" if self.kind == "deliver" else "->"
            parts.append(f"{arrow} {self.peer!s}")
        if self.type is not None:
            parts.append(self.type)
        if self.id is not None:
            parts.append(f"#{self.id}")
        if self.info is not None:
            parts.append(stable_repr(self.info))
        return " ".join(parts)


class Trace:
    """An append-only log of a simulation's events.

    Example:
        >>> from course_lib.sim import Simulation
        >>> sim = Simulation(seed=1)
        >>> len(sim.trace)
        0
    """

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = bool(enabled)
        self._time = array("d")
        self._tbuf: list[float] = []   # recent times, packed into _time every FLUSH_ROWS
        self._code: list[int] = []     # one int per row (small ints: packing them costs more than it saves)
        self._xinfo: dict[int, Any] = {}  # row -> its data (custom events, faults, explicit ids)
        self._ids: list[Any] = [None]
        self._id_ix: dict[Any, int] = {}
        self._names: list[Any] = [None]
        self._name_code: dict[Any, int] = {None: 0}  # name -> its index, shifted into place
        self._sends = array("q")       # rows of the network's sends, in id order
        self._scanned = 0
        self._window = False           # a schedule search's trace: only the current step's rows

    @staticmethod
    def of(source: Any) -> "Trace":
        """Return the trace of ``source``: a Simulation, any run object with a ``.trace``, or a Trace.

        Raises:
            InvalidArgumentType: ``source`` has no trace.
        """
        trace = getattr(source, "trace", source)
        if not isinstance(trace, Trace):
            raise InvalidArgumentType(f"source={source!r} must be a Simulation, a Trace or a run with a .trace")
        return trace

    @classmethod
    def from_events(cls, events: Any) -> "Trace":
        """Return a trace holding ``events``: :class:`Event` objects or 7-item rows, as recorded runs keep them.

        Example:
            >>> t = Trace.from_events([(1.0, "crash", "a", None, None, None, None)])
            >>> t[0].kind, t[0].node
            ('crash', 'a')
        """
        trace = cls()
        for index, row in enumerate(events):
            if len(row) != 7:
                raise InvalidArgument(f"events[{index}]={row!r} must have 7 items "
                                      "(time, kind, node, peer, type, id, info)")
            time, kind, node, peer, msg_type, msg_id, info = row
            trace.record(time, kind, node, peer, msg_type if kind != "timer" else None, msg_id,
                         info if kind != "timer" else info)
        return trace

    @property
    def enabled(self) -> bool:
        """Whether this trace records (fixed when the simulation is created)."""
        return self._enabled

    # -- interning (framework) -------------------------------------------------
    def _node_ix(self, node: Any) -> int:
        if node is None:
            return 0
        key = (node.__class__, node)
        ix = self._id_ix.get(key)
        if ix is None:
            ix = len(self._ids)
            if ix >= _MAX_IDS:
                raise InvalidArgument(f"a trace holds at most {_MAX_IDS - 1} distinct node ids")
            self._ids.append(node)
            self._id_ix[key] = ix
        return ix

    def _name(self, name: Any) -> int:
        """Return ``name``'s index shifted into its place in a row's code."""
        code = self._name_code.get(name)
        if code is None:
            ix = len(self._names)
            if ix >= _MAX_NAMES:
                raise InvalidArgument(f"a trace holds at most {_MAX_NAMES - 1} distinct names "
                                      f"(message types, timer and event names); got {name!r}")
            self._names.append(name)
            code = self._name_code[name] = ix << _NAME_SHIFT
        return code

    def _flush(self) -> None:
        """Pack the buffered times into their column (framework; reads call it first)."""
        n = len(self._tbuf)
        if n:
            self._time.frombytes(struct.pack(f"{n}d", *self._tbuf))
            self._tbuf.clear()

    def _append(self, time: float, code: int, info: Any = None) -> None:
        row = len(self._code)
        self._tbuf.append(time)
        self._code.append(code)
        if info is not None:
            self._xinfo[row] = info
        if len(self._tbuf) >= FLUSH_ROWS:
            self._flush()

    # -- recording ---------------------------------------------------------------
    def record(self, time: float, kind: str, node: Any, peer: Any = None,
               msg_type: str | None = None, msg_id: int | None = None, info: Any = None) -> None:
        """Append one event (no-op when the trace is disabled).

        ``info`` is copied unless it is immutable: recording ``log=self.log``
        and appending to ``self.log`` later does not change the trace.
        """
        if not self._enabled:
            return
        code = _CODE.get(kind) if isinstance(kind, str) else None
        if code is None:
            raise InvalidArgument(f"kind={kind!r} is not a trace event kind; kinds are {KINDS}")
        if code == TIMER:  # the timer's name is kept with the other names
            msg_type, info = info, None
        word = (code | self._node_ix(node) << _NODE_SHIFT | self._node_ix(peer) << _PEER_SHIFT
                | self._name(msg_type))
        if code in _MESSAGE_KINDS:
            data = (msg_id, _frozen_copy(info)) if (msg_id is not None or info is not None) else None
        else:
            data = None if info is None else _frozen_copy(info)
        self._append(time, word, data)

    def _ref(self, time: float, kind_code: int, msg_id: int) -> None:
        """Record what happened to message ``msg_id``, sent earlier by the network (framework)."""
        self._tbuf.append(time)
        self._code.append(kind_code | msg_id << 5)
        if len(self._tbuf) >= FLUSH_ROWS:
            self._flush()

    # -- reading -----------------------------------------------------------------
    def _scan_sends(self) -> None:
        codes, sends = self._code, self._sends
        for i in range(self._scanned, len(codes)):
            if codes[i] & _KIND_MASK == SEND_SEQ:
                sends.append(i)
        self._scanned = len(codes)

    def _event(self, i: int) -> Event:
        c = self._code[i]
        kind = c & _KIND_MASK
        time = self._time[i]
        ids, names = self._ids, self._names
        if kind >= DELIVER_REF:
            msg_id = c >> 5
            if self._scanned < len(self._code):
                self._scan_sends()
            s = self._code[self._sends[msg_id - 1]]
            src, dst = ids[(s >> _NODE_SHIFT) & _MASK20], ids[(s >> _PEER_SHIFT) & _MASK20]
            name, (kind_name, at_receiver, reason) = names[s >> _NAME_SHIFT], _REF_KINDS[kind]
            node, peer = (dst, src) if at_receiver else (src, dst)
            return Event(time, kind_name, node, peer, name, msg_id, reason)
        node = ids[(c >> _NODE_SHIFT) & _MASK20]
        peer = ids[(c >> _PEER_SHIFT) & _MASK20]
        name = names[c >> _NAME_SHIFT]
        if kind == SEND_SEQ:
            if self._scanned < len(self._code):
                self._scan_sends()
            return Event(time, "send", node, peer, name, bisect_left(self._sends, i) + 1, None)
        if kind == TIMER:
            return Event(time, "timer", node, peer, None, None, name)
        data = self._xinfo.get(i)
        if kind in _MESSAGE_KINDS:
            msg_id, info = data if data is not None else (None, None)
            return Event(time, KINDS[kind], node, peer, name, msg_id, info)
        return Event(time, KINDS[kind], node, peer, name, None, data)

    def _rows(self, start: int = 0) -> Iterator[Event]:
        self._flush()
        return (self._event(i) for i in range(start, len(self._time)))

    def __len__(self) -> int:
        return len(self._code)

    def __iter__(self) -> Iterator[Event]:
        return self._rows()

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        """Return one event, or a list of events for a slice (``trace[0:2]``)."""
        self._flush()
        n = len(self._time)
        if isinstance(index, slice):
            return [self._event(i) for i in range(*index.indices(n))]
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidArgumentType(f"index={index!r} must be an int or a slice")
        if not -n <= index < n:
            raise IndexError(f"index={index} is out of range for a trace of {n} events")
        return self._event(index % n)

    @property
    def events(self) -> list[Event]:
        """Every event, in the order it happened."""
        return list(self._rows())

    def mark(self) -> int:
        """Return a position in the trace, to read what happens after it with :meth:`since`.

        During a schedule search (:mod:`course_lib.sim.control`) the trace keeps only the
        current step's events and positions restart at every step: ``mark()`` is then 0,
        and a checker that reads ``since(mark)`` after every event sees each event once.
        """
        return 0 if self._window else len(self)

    def _reset_window(self) -> None:
        """Forget every row: a schedule search's next step starts (framework)."""
        self._time = array("d")
        self._tbuf.clear()
        self._code.clear()
        self._xinfo.clear()
        self._sends = array("q")
        self._scanned = 0

    def since(self, mark: int, kind: str | None = None) -> list[Event]:
        """Return the events recorded after ``mark`` (from :meth:`mark`), optionally of one ``kind``.

        Example:
            >>> t = Trace()
            >>> m = t.mark()
            >>> t.record(1.0, "crash", "a")
            >>> [e.kind for e in t.since(m)]
            ['crash']
        """
        if isinstance(mark, bool) or not isinstance(mark, int) or not 0 <= mark <= len(self):
            raise InvalidArgument(f"mark={mark!r} must be a position from trace.mark() (0..{len(self)})")
        if kind is not None:
            self._check_kind(kind)
        return [e for e in self._rows(mark) if kind is None or e.kind == kind]

    def nodes_since(self, mark: int) -> list:
        """Return the nodes the events recorded after ``mark`` happened at, each once, in order.

        What an incremental checker reads to know which nodes an event touched, without
        building the events themselves.

        Example:
            >>> t = Trace()
            >>> t.record(1.0, "crash", "a"); t.record(2.0, "restart", "b"); t.record(3.0, "crash", "a")
            >>> t.nodes_since(0)
            ['a', 'b']
        """
        if isinstance(mark, bool) or not isinstance(mark, int) or not 0 <= mark <= len(self):
            raise InvalidArgument(f"mark={mark!r} must be a position from trace.mark() (0..{len(self)})")
        codes, ids = self._code, self._ids
        out: list = []
        for i in range(mark, len(codes)):
            c = codes[i]
            if c & _KIND_MASK >= DELIVER_REF:  # a message's later fate: its node is in its send
                self._flush()
                node = self._event(i).node
            else:
                node = ids[(c >> _NODE_SHIFT) & _MASK20]
            if node is not None and node not in out:
                out.append(node)
        return out

    def custom_since(self, mark: int, *names: str) -> list[Event]:
        """Return the custom events called one of ``names`` recorded after ``mark``, in order.

        The same as ``[e for e in trace.since(mark, "custom") if e.type in names]``, without
        building the other events.

        Example:
            >>> t = Trace()
            >>> t.record(1.0, "custom", "a", msg_type="apply", info={"index": 1})
            >>> t.record(2.0, "crash", "a")
            >>> [(e.node, e.type, e.info["index"]) for e in t.custom_since(0, "apply")]
            [('a', 'apply', 1)]
        """
        codes = self._code
        if isinstance(mark, bool) or not isinstance(mark, int) or not 0 <= mark <= len(codes):
            raise InvalidArgument(f"mark={mark!r} must be a position from trace.mark() (0..{len(self)})")
        for name in names:
            if not isinstance(name, str):
                raise InvalidArgumentType(f"names: {name!r} must be a str (an event name)")
        rows = [i for i in range(mark, len(codes)) if codes[i] & _KIND_MASK == CUSTOM]
        if not rows:
            return []
        wanted = {code >> _NAME_SHIFT for code in map(self._name_code.get, names) if code is not None}
        rows = [i for i in rows if codes[i] >> _NAME_SHIFT in wanted]
        if rows:
            self._flush()
        return [self._event(i) for i in rows]

    @staticmethod
    def _check_kind(kind: Any) -> None:
        if not isinstance(kind, str) or kind not in _CODE:
            raise InvalidArgument(f"kind={kind!r} is not a trace event kind; kinds are {KINDS}")

    def filter(self, kind: str | None = None, node: Any = None, type: str | None = None) -> list[Event]:  # noqa: A002
        """Return the events matching every given criterion.

        Raises:
            InvalidArgument: ``kind`` is not one of :data:`KINDS`.
        """
        if kind is not None:
            self._check_kind(kind)
        return [e for e in self._rows()
                if (kind is None or e.kind == kind) and (node is None or e.node == node)
                and (type is None or e.type == type)]

    def custom(self, name: str) -> list[Event]:
        """Return the custom events recorded with ``node.record(name, ...)``."""
        return self.filter(kind="custom", type=name)

    def partition_spans(self, end: float) -> list[tuple[float, float]]:
        """Return ``(start, stop)`` of each partitioned stretch: from a partition until no partition is left.

        Partitions stack (a heal that leaves another partition active does not
        end the stretch). A partition still open at the end of the trace lasts
        until ``end``.
        """
        spans, opened = [], None
        self._flush()
        part, heal = _CODE["partition"], _CODE["heal"]
        codes, times = self._code, self._time
        for i in range(len(codes)):
            k = codes[i] & _KIND_MASK
            if k == part and opened is None:
                opened = times[i]
            elif k == heal and opened is not None and self._xinfo.get(i) is None:
                spans.append((opened, times[i]))
                opened = None
        if opened is not None:
            spans.append((opened, end))
        return spans

    def summary(self, per: str | None = None) -> dict[str, Any]:
        """Return counts of messages sent, delivered, dropped and duplicated.

        Args:
            per: the name of a custom event counting operations (for example
                ``"write"``); adds ``messages_per_op`` = messages sent / operations.

        Example:
            >>> Trace().summary()["sent"]
            0
        """
        counts: Counter = Counter()
        sent_by_type: Counter = Counter()
        dropped_by_reason: Counter = Counter()
        ops = 0
        for e in self._rows():
            counts[e.kind] += 1
            if e.kind == "send":
                sent_by_type[e.type] += 1
            elif e.kind == "drop":
                dropped_by_reason[e.info] += 1
            elif e.kind == "custom" and e.type == per:
                ops += 1
        out: dict[str, Any] = {
            "sent": counts["send"],
            "delivered": counts["deliver"],
            "dropped": counts["drop"],
            "duplicated": counts["duplicate"],
            "timers": counts["timer"],
            "crashes": counts["crash"],
            "sent_by_type": dict(sorted(sent_by_type.items())),
            "dropped_by_reason": dict(sorted(dropped_by_reason.items(), key=lambda kv: str(kv[0]))),
        }
        if per is not None:
            out["operations"] = ops
            out["messages_per_op"] = counts["send"] / ops if ops else float("nan")
        return out

    def nbytes(self) -> int:
        """Return the bytes the trace's rows take (ids, names and event data not counted)."""
        import sys
        self._flush()
        codes = self._code
        return (self._time.itemsize * self._time.buffer_info()[1] + sys.getsizeof(codes)
                + sum(sys.getsizeof(c) for c in codes if not -5 <= c <= 256))

    def to_text(self) -> str:
        """Return the whole trace as text, one event per line (byte-for-byte reproducible)."""
        return "\n".join(str(e) for e in self)

    def __repr__(self) -> str:
        return f"<Trace {len(self)} events>"
