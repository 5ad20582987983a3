"""Record what clients saw: Jepsen-style histories of invocations and completions.

A history is the client's-eye view of a system under test: every operation is
an ``invoke`` event followed, later, by a completion event of the same
process. The completion's type says what the client learnt:

- ``ok``: the operation happened, and its value is what it returned;
- ``fail``: the operation definitely did **not** happen (a checker drops it);
- ``info``: nobody knows (a timeout, a crash). The operation may take effect at
  any point after its invocation, or never. An operation that never completes
  is indeterminate in the same way.

The order of events in a history *is* real time: an operation precedes another
exactly when its completion comes before the other's invocation in the event
sequence. Event times are simulated times, used for display; they must not
decrease.

Example::

    >>> h = History()
    >>> _ = h.invoke(0, "write", value=1)
    >>> _ = h.invoke(1, "read")
    >>> _ = h.ok(0)
    >>> _ = h.ok(1, value=1)
    >>> [str(op) for op in h.operations()]
    ['p0 write(1) -> ok', 'p1 read() -> 1']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Iterable, Iterator

__all__ = [
    "EVENT_TYPES",
    "Event",
    "History",
    "Operation",
    "bundled_history_path",
    "load_jepsen",
]

EVENT_TYPES = ("invoke", "ok", "fail", "info")
"""The four event types of a Jepsen history."""

_COMPLETIONS = ("ok", "fail", "info")


class _Same:
    """Default of a completion's ``key``: use the key of the matching invoke."""

    def __repr__(self) -> str:
        return "<key of the invoke>"


_SAME = _Same()


@dataclass(frozen=True)
class Event:
    """One line of a history: a process invoking or completing an operation.

    Attributes:
        process: The client (session) that issued the operation.
        type: One of ``"invoke"``, ``"ok"``, ``"fail"``, ``"info"``.
        f: The function, e.g. ``"read"``, ``"write"``, ``"cas"``, ``"get"``,
            ``"put"``, ``"append"``.
        key: The key the operation touches, or None for a single register.
        value: The argument (on ``invoke``) or the result (on ``ok``).
        time: Simulated time of the event (display only; order is real time).
    """

    process: Hashable
    type: str
    f: str
    key: Hashable = None
    value: Any = None
    time: float = 0.0

    def __str__(self) -> str:
        key = "" if self.key is None else f" key={self.key!r}"
        return f"t={self.time:g} p{self.process} {self.type} {self.f}{key} {self.value!r}"


@dataclass(frozen=True)
class Operation:
    """An invocation paired with its completion.

    Attributes:
        id: Position of the operation among the history's operations, in
            invocation order.
        process: The client that issued it.
        f: The function name.
        key: The key, or None for a single register.
        value: The argument given at invocation.
        output: The value returned by an ``ok`` completion; for an
            indeterminate operation it is whatever the completion carried (for
            example ``"timed-out"``) and means nothing.
        call_time: Time of the invocation.
        return_time: Time of the completion, or None if it never completed.
        status: ``"ok"``, ``"fail"``, ``"info"``, or None (never completed).
        call_index: Position of the invoke event in the history.
        return_index: Position of the completion event, or None.
    """

    id: int
    process: Hashable
    f: str
    key: Hashable
    value: Any
    output: Any
    call_time: float
    return_time: float | None
    status: str | None
    call_index: int
    return_index: int | None

    @property
    def indeterminate(self) -> bool:
        """Return True if nobody knows whether the operation took effect."""
        return self.status is None or self.status == "info"

    @property
    def deadline(self) -> float:
        """Return the time by which the operation must have taken effect.

        This is ``return_time`` for a completed operation and ``+inf`` for an
        indeterminate one, which may take effect at any later point or never.
        """
        if self.indeterminate or self.return_time is None:
            return math.inf
        return self.return_time

    def describe(self) -> str:
        """Return a short label such as ``read("k") -> 3``."""
        args = [] if self.key is None else [repr(self.key)]
        if self.value is not None:
            args.append(_show(self.value))
        call = f"{self.f}({', '.join(args)})"
        if self.status == "ok":
            shows_output = self.output is not None and self.output != self.value
            if self.f in ("read", "get") or shows_output:
                return f"{call} -> {_show(self.output)}"
            return f"{call} -> ok"
        if self.status == "fail":
            return f"{call} -> fail"
        if self.status == "info":
            return f"{call} -> ?"
        return f"{call} -> (pending)"

    def __str__(self) -> str:
        return f"p{self.process} {self.describe()}"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + " ".join(_show(v) for v in value) + "]"
    return repr(value)


class History:
    """Record a sequence of events and pair them into operations.

    Args:
        events: Initial events, appended in order and validated as by
            :meth:`append`.

    Raises:
        ValueError: If an event is malformed or breaks the one-open-operation
            rule of its process.

    Example::

        >>> h = History()
        >>> _ = h.invoke("a", "put", key="x", value="1", time=0.0)
        >>> _ = h.info("a", time=5.0)
        >>> op, = h.operations()
        >>> op.indeterminate, op.deadline
        (True, inf)
    """

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._events: list[Event] = []
        # process -> index of its open invoke event
        self._open: dict[Hashable, int] = {}
        for event in events:
            self.append(event)

    # -- recording ---------------------------------------------------------

    def append(self, event: Event) -> Event:
        """Append an event after validating it.

        Args:
            event: The event; its time must not be earlier than the last one.

        Returns:
            The event.

        Raises:
            ValueError: If the type is unknown, ``f`` is not a non-empty
                string, time goes backwards, a process invokes while it has an
                operation open, or completes an operation it never invoked
                (or with a different ``f`` or ``key``).
            TypeError: If ``event`` is not an :class:`Event`.
        """
        if not isinstance(event, Event):
            raise TypeError(f"event={event!r} is not a course_lib.history.Event")
        if event.type not in EVENT_TYPES:
            raise ValueError(f"type={event.type!r} is not one of {', '.join(EVENT_TYPES)}")
        if not isinstance(event.f, str) or not event.f:
            raise ValueError(f"f={event.f!r} must be a non-empty string")
        try:
            hash(event.process)
            hash(event.key)
        except TypeError:
            raise ValueError(
                f"process={event.process!r}, key={event.key!r}: both must be hashable"
            ) from None
        if not isinstance(event.time, (int, float)) or math.isnan(event.time):
            raise ValueError(f"time={event.time!r} must be a number")
        if self._events and event.time < self._events[-1].time:
            raise ValueError(
                f"time={event.time!r} is before the previous event's "
                f"time={self._events[-1].time!r}; events must be appended in time order"
            )
        index = len(self._events)
        open_at = self._open.get(event.process)
        if event.type == "invoke":
            if open_at is not None:
                pending = self._events[open_at]
                raise ValueError(
                    f"process={event.process!r} invokes {event.f!r} while its "
                    f"{pending.f!r} invoked at time={pending.time!r} is still open; "
                    "a process has at most one operation open at a time"
                )
            self._open[event.process] = index
        else:
            if open_at is None:
                raise ValueError(
                    f"process={event.process!r} has no open operation for its "
                    f"type={event.type!r} {event.f!r} event at time={event.time!r}: "
                    "every completion needs an earlier invoke"
                )
            pending = self._events[open_at]
            if event.f != pending.f:
                raise ValueError(
                    f"f={event.f!r} of process={event.process!r}'s completion does "
                    f"not match its open invoke of f={pending.f!r}"
                )
            if event.key != pending.key:
                raise ValueError(
                    f"key={event.key!r} of process={event.process!r}'s completion "
                    f"does not match its open invoke of key={pending.key!r}"
                )
            del self._open[event.process]
        self._events.append(event)
        return event

    def _next_time(self, time: float | None) -> float:
        if time is not None:
            return time
        return self._events[-1].time + 1.0 if self._events else 0.0

    def invoke(
        self,
        process: Hashable,
        f: str,
        key: Hashable = None,
        value: Any = None,
        *,
        time: float | None = None,
    ) -> Event:
        """Record that ``process`` invokes ``f`` on ``key`` with ``value``.

        Args:
            process: The client; it must have no open operation.
            f: The function name, e.g. ``"read"``.
            key: The key, or None for a single register.
            value: The argument (None for a read).
            time: Simulated time; defaults to one after the previous event.

        Returns:
            The recorded event.

        Raises:
            ValueError: As :meth:`append`.
        """
        return self.append(Event(process, "invoke", f, key, value, self._next_time(time)))

    def _complete(self, type_, process, f, key, value, time) -> Event:
        open_at = self._open.get(process)
        if open_at is not None:
            pending = self._events[open_at]
            f = pending.f if f is None else f
            key = pending.key if key is _SAME else key
        elif f is None:
            f = "?"  # append() reports the missing invoke
        if key is _SAME:
            key = None
        return self.append(Event(process, type_, f, key, value, self._next_time(time)))

    def ok(self, process: Hashable, f: str | None = None, key: Hashable = _SAME,
           value: Any = None, *, time: float | None = None) -> Event:
        """Record that ``process``'s open operation completed and returned ``value``.

        Args:
            process: The client whose open operation completes.
            f: The function name; defaults to that of the open invoke.
            key: The key; defaults to that of the open invoke.
            value: The result (what a read returned).
            time: Simulated time; defaults to one after the previous event.

        Returns:
            The recorded event.

        Raises:
            ValueError: As :meth:`append`.
        """
        return self._complete("ok", process, f, key, value, time)

    def fail(self, process: Hashable, f: str | None = None, key: Hashable = _SAME,
             value: Any = None, *, time: float | None = None) -> Event:
        """Record that ``process``'s open operation definitely did not happen.

        Arguments and errors are as for :meth:`ok`.
        """
        return self._complete("fail", process, f, key, value, time)

    def info(self, process: Hashable, f: str | None = None, key: Hashable = _SAME,
             value: Any = None, *, time: float | None = None) -> Event:
        """Record that ``process``'s open operation may or may not have happened.

        Arguments and errors are as for :meth:`ok`.
        """
        return self._complete("info", process, f, key, value, time)

    # -- reading -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __getitem__(self, index: int) -> Event:
        return self._events[index]

    def __repr__(self) -> str:
        return f"<History: {len(self._events)} events, {len(self.processes())} processes>"

    def processes(self) -> list[Hashable]:
        """Return the processes in order of their first event."""
        return list(dict.fromkeys(e.process for e in self._events))

    def operations(self) -> list[Operation]:
        """Pair each invoke with its completion.

        Returns:
            The operations in invocation order; one whose process never
            completed it has ``status=None`` and ``return_time=None``.
        """
        ops: list[Operation] = []
        open_ops: dict[Hashable, int] = {}
        for index, e in enumerate(self._events):
            if e.type == "invoke":
                open_ops[e.process] = len(ops)
                ops.append(Operation(len(ops), e.process, e.f, e.key, e.value, None,
                                     e.time, None, None, index, None))
            else:
                i = open_ops.pop(e.process)
                call = ops[i]
                ops[i] = Operation(call.id, call.process, call.f, call.key, call.value,
                                   e.value, call.call_time, e.time, e.type,
                                   call.call_index, index)
        return ops


# -- loading Jepsen files ---------------------------------------------------


class _Keyword(str):
    """An EDN keyword such as ``:ok``, held without its colon."""


class _EdnError(ValueError):
    pass


_EDN_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_EDN_DELIMITERS = set(" \t\r\n,{}[]()\"")


def _parse_edn(text: str) -> Any:
    """Parse one EDN value: maps, vectors, lists, strings, keywords, nil, numbers."""
    value, pos = _edn_value(text, _edn_skip(text, 0))
    pos = _edn_skip(text, pos)
    if pos != len(text):
        raise _EdnError(f"unexpected {text[pos:pos + 10]!r} after the value")
    return value


def _edn_skip(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and (text[pos] in " \t\r\n,"):
        pos += 1
    return pos


def _edn_value(text: str, pos: int) -> tuple[Any, int]:
    if pos >= len(text):
        raise _EdnError("unexpected end of text")
    c = text[pos]
    if c == "{":
        result: dict = {}
        pos = _edn_skip(text, pos + 1)
        while pos < len(text) and text[pos] != "}":
            k, pos = _edn_value(text, pos)
            v, pos = _edn_value(text, _edn_skip(text, pos))
            result[k] = v
            pos = _edn_skip(text, pos)
        if pos >= len(text):
            raise _EdnError("map is missing its closing '}'")
        return result, pos + 1
    if c in "[(":
        close = "]" if c == "[" else ")"
        items = []
        pos = _edn_skip(text, pos + 1)
        while pos < len(text) and text[pos] != close:
            v, pos = _edn_value(text, pos)
            items.append(v)
            pos = _edn_skip(text, pos)
        if pos >= len(text):
            raise _EdnError(f"vector is missing its closing {close!r}")
        return tuple(items), pos + 1
    if c == '"':
        out = []
        pos += 1
        while True:
            if pos >= len(text):
                raise _EdnError("string is missing its closing quote")
            c = text[pos]
            if c == '"':
                return "".join(out), pos + 1
            if c == "\\":
                if pos + 1 >= len(text):
                    raise _EdnError("string ends in a backslash")
                esc = text[pos + 1]
                if esc == "u":
                    out.append(chr(int(text[pos + 2:pos + 6], 16)))
                    pos += 6
                    continue
                if esc not in _EDN_ESCAPES:
                    raise _EdnError(f"unknown escape '\\{esc}' in string")
                out.append(_EDN_ESCAPES[esc])
                pos += 2
                continue
            out.append(c)
            pos += 1
    end = pos
    while end < len(text) and text[end] not in _EDN_DELIMITERS:
        end += 1
    token = text[pos:end]
    if not token:
        raise _EdnError(f"unexpected {text[pos]!r}")
    if token[0] == ":":
        if len(token) == 1:
            raise _EdnError("empty keyword ':'")
        return _Keyword(token[1:]), end
    if token == "nil":
        return None, end
    if token == "true":
        return True, end
    if token == "false":
        return False, end
    try:
        return int(token.rstrip("N")), end
    except ValueError:
        pass
    try:
        return float(token.rstrip("M")), end
    except ValueError:
        pass
    return token, end  # a symbol; keep its name


def _plain(value: Any) -> Any:
    """Turn parsed EDN into plain Python: keywords to str, vectors to tuples."""
    if isinstance(value, _Keyword):
        return str(value)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _event_from_fields(process, type_, f, key, value, time, where: str) -> Event | None:
    """Build an event from parsed fields, or None for a nemesis event."""
    if isinstance(process, _Keyword) or process is None:
        return None  # the nemesis (or another non-client) is not a client
    if not isinstance(type_, _Keyword) or type_ not in EVENT_TYPES:
        raise ValueError(f"{where}: type={_plain(type_)!r} is not one of "
                         f":{', :'.join(EVENT_TYPES)}")
    if not isinstance(f, str):
        raise ValueError(f"{where}: f={f!r} must be a keyword such as :read")
    type_ = str(type_)
    # Jepsen's old register tests log a timed-out operation as
    # ":fail ... :timed-out"; a timeout says nothing about whether it happened.
    if type_ == "fail" and isinstance(value, _Keyword) and value == "timed-out":
        type_ = "info"
    return Event(process, type_, str(f), _plain(key), _plain(value), float(time))


def load_jepsen(path: str | Path) -> History:
    """Load a Jepsen history file, detecting its format.

    Two formats are understood:

    - EDN maps, one per line:
      ``{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}``;
    - ``jepsen.util`` log lines of a single register, tab-separated after the
      ``" - "``: ``INFO  jepsen.util - 3<TAB>:ok<TAB>:read<TAB>4``. Other log
      lines are skipped.

    Events of the nemesis (a keyword process such as ``:nemesis``) are
    skipped. A ``:fail`` whose value is ``:timed-out`` is read as ``info``
    (indeterminate). Vectors become tuples and keywords plain strings. An
    event's time is its line number (from 0).

    Args:
        path: The file.

    Returns:
        The history.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If a line cannot be parsed (naming the file and line) or the
            events break the rules of :class:`History`.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        return History()
    is_log = not first.lstrip().startswith("{")
    history = History()
    for number, line in enumerate(lines):
        where = f"{path}:{number + 1}"
        if not line.strip():
            continue
        try:
            if is_log:
                event = _parse_log_line(line, number, where)
            else:
                event = _parse_map_line(line, number, where)
        except _EdnError as exc:
            raise ValueError(f"{where}: cannot parse {line.strip()[:80]!r}: {exc}") from None
        if event is None:
            continue
        try:
            history.append(event)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if is_log and len(history) == 0:
        raise ValueError(f"path={str(path)!r} has no EDN map lines and no "
                         "'jepsen.util - ' log lines")
    return history


def _parse_map_line(line: str, number: int, where: str) -> Event | None:
    data = _parse_edn(line.strip())
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an EDN map, got {line.strip()[:80]!r}")
    fields = {str(k): v for k, v in data.items() if isinstance(k, _Keyword)}
    for name in ("process", "type", "f"):
        if name not in fields:
            raise ValueError(f"{where}: the map has no :{name}")
    return _event_from_fields(fields["process"], fields["type"], fields["f"],
                              fields.get("key"), fields.get("value"), number, where)


def _parse_log_line(line: str, number: int, where: str) -> Event | None:
    marker = "jepsen.util - "
    at = line.find(marker)
    if at < 0:
        return None  # some other log line
    fields = line[at + len(marker):].rstrip("\r\n").split("\t")
    if len(fields) < 3:
        raise ValueError(f"{where}: expected 'process<TAB>type<TAB>f<TAB>value' "
                         f"after {marker!r}, got {line.strip()[:80]!r}")
    process = _parse_edn(fields[0])
    type_ = _parse_edn(fields[1])
    f = _parse_edn(fields[2])
    value = _parse_edn("\t".join(fields[3:])) if len(fields) > 3 else None
    return _event_from_fields(process, type_, f, None, value, number, where)


# -- bundled data -----------------------------------------------------------

_BUNDLED_DIR = Path("data") / "jepsen-kv-histories"


def bundled_history_path(name: str) -> Path:
    """Return the path of a history shipped in the course repository.

    The files live in ``data/jepsen-kv-histories/`` of the course clone (not
    in the installed package); see its README for their source and verdicts.

    Args:
        name: A file name such as ``"c50-ok"`` or ``"c50-ok.txt"``.

    Returns:
        The absolute path of the file.

    Raises:
        FileNotFoundError: If the repository's data directory cannot be found
            (for example when course_lib is installed outside a clone).
        ValueError: If there is no history called ``name``.

    Example::

        >>> h = load_jepsen(bundled_history_path("c01-ok"))
        >>> len(h)
        116
    """
    root = Path(__file__).resolve().parent.parent
    directory = root / _BUNDLED_DIR
    if not directory.is_dir():
        raise FileNotFoundError(
            f"directory={str(directory)!r} does not exist: bundled histories are "
            "found relative to a clone of the course repository (pip install -e .)"
        )
    filename = name if name.endswith(".txt") else f"{name}.txt"
    path = directory / filename
    if not path.is_file():
        available = sorted(p.stem for p in directory.glob("*.txt"))
        raise ValueError(f"name={name!r} is not a bundled history; "
                         f"available: {', '.join(available)}")
    return path
