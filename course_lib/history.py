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
sequence. Event times are simulated times, used for display; they must be
finite and must not decrease.

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
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Iterable, Iterator

from course_lib.sim.validation import InvalidArgument, InvalidArgumentType, check_type

__all__ = [
    "EVENT_TYPES",
    "Event",
    "History",
    "Operation",
    "bundled_history_path",
    "load_jepsen",
    "operations_of",
]

EVENT_TYPES = ("invoke", "ok", "fail", "info")
"""The four event types of a Jepsen history."""



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
        InvalidArgument: If an event is malformed or breaks the
            one-open-operation rule of its process (a ValueError).
        InvalidArgumentType: If ``events`` is not an iterable of
            :class:`Event` (also a TypeError).

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
        if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
            raise InvalidArgumentType(
                f"events={events!r} must be an iterable of course_lib.history.Event")
        for event in events:
            self.append(event)

    # -- recording ---------------------------------------------------------

    def append(self, event: Event) -> Event:
        """Append an event after validating it.

        Args:
            event: The event; its time must be finite and not earlier than
                the last one's (a negative time is allowed: only order matters).

        Returns:
            The event.

        Raises:
            InvalidArgument: If the type is unknown, ``f`` is empty, the time
                is NaN or infinite or goes backwards, a process invokes while
                it has an operation open, or completes an operation it never
                invoked (or with a different ``f`` or ``key``).
            InvalidArgumentType: If ``event`` is not an :class:`Event`, ``f``
                is not a string, the time is not a number, or the process or
                key is not hashable.
        """
        if not isinstance(event, Event):
            raise InvalidArgumentType(f"event={event!r} must be a course_lib.history.Event")
        if event.type not in EVENT_TYPES:
            raise InvalidArgument(f"type={event.type!r} is not one of {', '.join(EVENT_TYPES)}")
        if not isinstance(event.f, str):
            raise InvalidArgumentType(f"f={event.f!r} must be a non-empty string")
        if not event.f:
            raise InvalidArgument(f"f={event.f!r} must be a non-empty string")
        for name, value in (("process", event.process), ("key", event.key)):
            try:
                hash(value)
            except TypeError:
                raise InvalidArgumentType(
                    f"{name}={value!r} must be hashable, such as an int, a str or a tuple"
                ) from None
        time = event.time
        if isinstance(time, bool) or not isinstance(time, (int, float)):
            raise InvalidArgumentType(f"time={time!r} must be a number")
        if not math.isfinite(time):
            raise InvalidArgument(f"time={time!r} must be a finite number")
        if self._events and time < self._events[-1].time:
            raise InvalidArgument(
                f"time={time!r} is before the previous event's "
                f"time={self._events[-1].time!r}; events must be appended in time order"
            )
        index = len(self._events)
        open_at = self._open.get(event.process)
        if event.type == "invoke":
            if open_at is not None:
                pending = self._events[open_at]
                raise InvalidArgument(
                    f"process={event.process!r} invokes {event.f!r} while its "
                    f"{pending.f!r} invoked at time={pending.time!r} is still open; "
                    "a process has at most one operation open at a time"
                )
            self._open[event.process] = index
        else:
            if open_at is None:
                raise InvalidArgument(
                    f"process={event.process!r} has no open operation for its "
                    f"type={event.type!r} {event.f!r} event at time={event.time!r}: "
                    "every completion needs an earlier invoke"
                )
            pending = self._events[open_at]
            if event.f != pending.f:
                raise InvalidArgument(
                    f"f={event.f!r} of process={event.process!r}'s completion does "
                    f"not match its open invoke of f={pending.f!r}"
                )
            if event.key != pending.key:
                raise InvalidArgument(
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
            InvalidArgument: As :meth:`append`.
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
            InvalidArgument: As :meth:`append`.
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


def operations_of(history: History | Iterable[Operation]) -> list[Operation]:
    """Return the operations of a History, or check and list given operations.

    Checkers take a History or its operations (for example one key's); this
    is their one check of that argument.

    Args:
        history: A :class:`History`, or an iterable of :class:`Operation`,
            each at most once.

    Returns:
        The operations, in the order given.

    Raises:
        InvalidArgumentType: If ``history`` is neither, or holds something
            that is not an Operation (also a TypeError).
        InvalidArgument: If it holds an operation twice (a ValueError).

    Example::

        >>> h = History()
        >>> _ = h.invoke(0, "read"); _ = h.ok(0, value=None)
        >>> [str(op) for op in operations_of(h)]
        ['p0 read() -> None']
    """
    if isinstance(history, History):
        return history.operations()
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise InvalidArgumentType(
            f"history={history!r} must be a course_lib.history.History or its operations")
    ops = list(history)
    ids: set[int] = set()  # membership only
    for op in ops:
        if not isinstance(op, Operation):
            raise InvalidArgumentType(f"history contains {op!r}, which is not an Operation")
        if op.id in ids:
            raise InvalidArgument(
                f"history holds the operation with id={op.id} ({op}) twice; pass each "
                "operation once")
        ids.add(op.id)
    return ops


# -- loading Jepsen files ---------------------------------------------------


class _Keyword(str):
    """An EDN keyword such as ``:ok``, held without its colon."""


class _EdnError(ValueError):
    """A line that is not valid EDN; load_jepsen adds the file and line."""


_EDN_MAX_DEPTH = 100
"""Deepest nesting of collections in one value; Jepsen's nest a handful of levels."""

_EDN_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_EDN_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r",
              "backspace": "\b", "formfeed": "\f"}
_EDN_SPACE = re.compile(r"(?:[ \t\r\n\f\v,]+|;[^\n]*)*")
_EDN_SPACE_CHARS = frozenset(" \t\r\n\f\v,;")
_EDN_TOKEN = re.compile(r"[^ \t\r\n\f\v,{}\[\]()\";]*")
_EDN_STRING_RUN = re.compile(r'[^"\\]*')
_EDN_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_EDN_INT = re.compile(r"[+-]?[0-9]+N?")
_EDN_FLOAT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?M?")
_EDN_SYMBOLIC = {"Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
_EDN_CLOSE = {"map": "}", "set": "}", "vector": "]", "list": ")"}
_NOTHING = object()  # a line holding only comments or discarded forms
_DISCARD = object()  # a pending "#_": drop the next value


class _Collection:
    """A collection being read: its kind, items so far and where it opened."""

    __slots__ = ("kind", "items", "start", "pending")

    def __init__(self, kind: str, start: int) -> None:
        self.kind = kind
        self.items: list = []
        self.start = start
        self.pending: list = []  # "#_" and "#tag" prefixes waiting for the next value


def _parse_edn(text: str, pos: int = 0) -> Any:
    """Parse the EDN value of ``text[pos:]``; return ``_NOTHING`` if it holds only comments.

    Reads maps, vectors, lists, sets (``#{...}``, as frozensets), strings with
    their escapes (``\\n``, ``\\u00e9``, surrogate pairs), characters,
    keywords, symbols, nil, booleans, integers, floats and ``##Inf``; a tag
    (``#inst "..."``, ``#jepsen.history.Op{...}``) is dropped and its value
    kept; ``#_`` discards the next value; ``;`` starts a comment.

    The reader keeps its own stack instead of recursing, so no input can
    exhaust Python's; a value nesting deeper than ``_EDN_MAX_DEPTH`` levels
    is refused, because comparing or printing such a value recurses.

    Raises:
        _EdnError: Saying what is wrong and at which column of ``text``.
    """
    stack = [_Collection("top", pos)]
    n = len(text)
    while True:
        if pos < n and text[pos] in _EDN_SPACE_CHARS:
            pos = _EDN_SPACE.match(text, pos).end()
        if pos >= n:
            break
        top = stack[-1]
        if len(stack) == 1 and top.items and not top.pending:
            raise _EdnError(f"unexpected {text[pos:pos + 10]!r} after the value "
                            f"at column {pos + 1}")
        c = text[pos]
        if c in "{[(" or (c == "#" and text.startswith("#{", pos)):
            kind = {"{": "map", "[": "vector", "(": "list", "#": "set"}[c]
            if len(stack) > _EDN_MAX_DEPTH:
                raise _EdnError(
                    f"the value nests collections more than {_EDN_MAX_DEPTH} levels deep "
                    f"(column {pos + 1}); Jepsen histories nest a few levels, so the line "
                    "is probably corrupt")
            stack.append(_Collection(kind, pos))
            pos += 2 if c == "#" else 1
            continue
        if c in "}])":
            if len(stack) == 1 or c != _EDN_CLOSE[top.kind]:
                raise _EdnError(f"unexpected {c!r} at column {pos + 1}")
            if top.pending:
                raise _EdnError(f"{_edn_prefix(top.pending[-1])} at the end of a "
                                f"{top.kind} (column {pos + 1}) has no value to apply to")
            stack.pop()
            value = _edn_collection(top)
            top = stack[-1]
            pos += 1
        elif c == "#":
            if text.startswith("#_", pos):
                top.pending.append(_DISCARD)
                pos += 2
                continue
            if text.startswith("##", pos):
                end = _EDN_TOKEN.match(text, pos + 2).end()
                name = text[pos + 2:end]
                if name not in _EDN_SYMBOLIC:
                    raise _EdnError(f"unknown symbolic value '##{name}' at column {pos + 1}; "
                                    "EDN has ##Inf, ##-Inf and ##NaN")
                value, pos = _EDN_SYMBOLIC[name], end
            else:
                end = _EDN_TOKEN.match(text, pos + 1).end()
                tag = text[pos + 1:end]
                if not tag or not (tag[0].isalpha()):
                    raise _EdnError(f"unexpected {text[pos:pos + 10]!r} at column {pos + 1}: "
                                    "'#' starts a set '#{', a discard '#_' or a tag '#inst'")
                top.pending.append(tag)
                pos = end
                continue
        elif c == '"':
            value, pos = _edn_string(text, pos)
        elif c == "\\":
            value, pos = _edn_char(text, pos)
        else:
            end = _EDN_TOKEN.match(text, pos).end()
            value = _edn_atom(text[pos:end], pos)
            pos = end
        # A value is complete: apply the prefixes waiting for it, innermost first.
        while top.pending:
            if top.pending.pop() is _DISCARD:
                break
        else:
            top.items.append(value)
    if len(stack) > 1:
        unclosed = stack[-1]
        raise _EdnError(f"the {unclosed.kind} opened at column {unclosed.start + 1} is "
                        f"missing its closing {_EDN_CLOSE[unclosed.kind]!r} (truncated?)")
    top = stack[0]
    if top.pending:
        raise _EdnError(f"{_edn_prefix(top.pending[-1])} has no value after it")
    return top.items[0] if top.items else _NOTHING


def _edn_prefix(prefix: Any) -> str:
    return "'#_'" if prefix is _DISCARD else f"the tag '#{prefix}'"


def _edn_collection(collection: _Collection) -> Any:
    """Build the Python value of a closed collection."""
    items = collection.items
    where = f"the {collection.kind} opened at column {collection.start + 1}"
    if collection.kind in ("vector", "list"):
        return tuple(items)
    if collection.kind == "set":
        result: set = set()
        for item in items:
            try:
                if item in result:
                    raise _EdnError(f"{where} holds {_short(item)} twice")
                result.add(item)
            except TypeError:
                raise _EdnError(f"{where} holds {_short(item)}, which is not hashable "
                                "(a map or a set cannot be a set element)") from None
        return frozenset(result)
    if len(items) % 2:
        raise _EdnError(f"{where} has the key {_short(items[-1])} without a value")
    mapping: dict = {}
    for k in range(0, len(items), 2):
        key = items[k]
        try:
            if key in mapping:
                raise _EdnError(f"{where} has the key {_short(key)} twice")
            mapping[key] = items[k + 1]
        except TypeError:
            raise _EdnError(f"{where} has the key {_short(key)}, which is not hashable "
                            "(a map cannot be a map key)") from None
    return mapping


def _short(value: Any) -> str:
    text = repr(_plain(value))
    return text if len(text) <= 40 else text[:37] + "..."


def _edn_string(text: str, pos: int) -> tuple[str, int]:
    """Read the string starting at the quote at ``pos``; return it and the position after."""
    start = pos
    out = []
    pos += 1
    n = len(text)
    while True:
        end = _EDN_STRING_RUN.match(text, pos).end()
        out.append(text[pos:end])
        pos = end
        if pos >= n:
            raise _EdnError(f"the string opened at column {start + 1} is missing its "
                            "closing quote (truncated?)")
        if text[pos] == '"':
            return "".join(out), pos + 1
        # a backslash
        esc = text[pos + 1:pos + 2]
        if esc == "u":
            code, pos = _edn_unicode(text, pos)
            out.append(code)
        elif esc in _EDN_ESCAPES and esc:
            out.append(_EDN_ESCAPES[esc])
            pos += 2
        elif not esc:
            raise _EdnError(f"the string opened at column {start + 1} ends in a backslash")
        else:
            raise _EdnError(f"unknown escape '\\{esc}' at column {pos + 1}; strings "
                            "escape \\n \\t \\r \\b \\f \\\" \\\\ and \\uXXXX")


def _edn_unicode(text: str, pos: int) -> tuple[str, int]:
    """Read ``\\uXXXX`` at ``pos`` (joining a UTF-16 surrogate pair); return the char and end."""
    if not _EDN_HEX4.match(text, pos + 2):
        raise _EdnError(f"the escape {text[pos:pos + 6]!r} at column {pos + 1} needs "
                        "four hex digits, as in \\u00e9")
    code = int(text[pos + 2:pos + 6], 16)
    if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", pos + 6) \
            and _EDN_HEX4.match(text, pos + 8):
        low = int(text[pos + 8:pos + 12], 16)
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), pos + 12
    if 0xD800 <= code <= 0xDFFF:
        raise _EdnError(f"the escape {text[pos:pos + 6]!r} at column {pos + 1} is half of "
                        "a UTF-16 surrogate pair without its other half")
    return chr(code), pos + 6


def _edn_char(text: str, pos: int) -> tuple[str, int]:
    """Read a character literal such as ``\\a``, ``\\space`` or ``\\u00e9``."""
    if text.startswith("\\u", pos) and _EDN_HEX4.match(text, pos + 2):
        return _edn_unicode(text, pos)
    if pos + 1 >= len(text):
        raise _EdnError(f"a backslash ends the line at column {pos + 1}")
    end = _EDN_TOKEN.match(text, pos + 2).end()
    name = text[pos + 1:end]
    if len(name) == 1:
        return name, end
    if name in _EDN_CHARS:
        return _EDN_CHARS[name], end
    raise _EdnError(f"unknown character '\\{name}' at column {pos + 1}")


def _edn_atom(token: str, pos: int) -> Any:
    """Return the value of a keyword, nil, boolean, number or symbol token."""
    if not token:
        raise _EdnError(f"unexpected character at column {pos + 1}")
    if token[0] == ":":
        if len(token) == 1:
            raise _EdnError(f"empty keyword ':' at column {pos + 1}")
        return _Keyword(token[1:])
    if token == "nil":
        return None
    if token == "true":
        return True
    if token == "false":
        return False
    if _EDN_INT.fullmatch(token):
        try:
            return int(token.rstrip("N"))
        except ValueError:  # longer than Python's int-from-text limit
            raise _EdnError(f"the integer at column {pos + 1} has {len(token)} digits, more "
                            f"than Python reads ({sys.get_int_max_str_digits()})") from None
    if _EDN_FLOAT.fullmatch(token):
        return float(token.rstrip("M"))
    return token  # a symbol; keep its name


def _plain(value: Any) -> Any:
    """Turn parsed EDN into plain Python: keywords to str (vectors are already tuples)."""
    if isinstance(value, _Keyword):
        return str(value)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _event_from_fields(process, type_, f, key, value, time, where: str) -> Event | None:
    """Build an event from parsed fields, or None for a nemesis event."""
    if isinstance(process, _Keyword) or process is None:
        return None  # the nemesis (or another non-client) is not a client
    if not isinstance(type_, _Keyword) or type_ not in EVENT_TYPES:
        raise InvalidArgument(f"{where}: type={_plain(type_)!r} is not one of "
                              f":{', :'.join(EVENT_TYPES)}")
    if not isinstance(f, str) or not f:
        raise InvalidArgument(f"{where}: f={_plain(f)!r} must be a keyword such as :read")
    type_ = str(type_)
    # Jepsen's old register tests log a timed-out operation as
    # ":fail ... :timed-out"; a timeout says nothing about whether it happened.
    if type_ == "fail" and isinstance(value, _Keyword) and value == "timed-out":
        type_ = "info"
    return Event(_plain(process), type_, str(f), _plain(key), _plain(value), float(time))


def load_jepsen(path: str | os.PathLike) -> History:
    """Load a Jepsen history file, detecting its format.

    Two formats are understood:

    - EDN maps, one per line:
      ``{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}``
      (a tagged map such as ``#jepsen.history.Op{...}`` is read as the map);
    - ``jepsen.util`` log lines of a single register:
      ``INFO  jepsen.util - 3 :ok :read 4``, with any whitespace (tabs or
      spaces, as in porcupine's etcd logs) between the process, the type, the
      function and the value. Lines without ``jepsen.util -`` followed by a
      process (an integer, or a keyword for the nemesis) are skipped.

    The format is that of the first line holding something: EDN if it starts
    with ``{`` or ``#``, log lines otherwise. Events of the nemesis (a keyword
    process such as ``:nemesis``) are skipped. A ``:fail`` whose value is
    ``:timed-out`` is read as ``info`` (indeterminate). An invocation without
    a completion is kept: it becomes an indeterminate operation with
    ``status=None``, which may have taken effect or not (see
    :class:`History`). Vectors and lists become tuples, sets frozensets and
    keywords plain strings. An event's time is its line number (from 0); a
    ``:time`` field is ignored.

    Args:
        path: The file (a str or a :class:`pathlib.Path`).

    Returns:
        The history; never empty.

    Raises:
        FileNotFoundError: If the file does not exist (other OSErrors pass
            through too).
        InvalidArgument: If the file is empty or blank, is not UTF-8 text, holds
            no client event, a line cannot be parsed (naming the file and
            line), or the events break the rules of :class:`History`. It is a
            ValueError.
        InvalidArgumentType: If ``path`` is not a str or a path.

    Example::

        >>> h = load_jepsen(bundled_history_path("c01-ok"))
        >>> h[0].type, h[0].f
        ('invoke', 'append')
    """
    check_type("path", path, (str, os.PathLike), "a file path (a str or a pathlib.Path)")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(
            f"{path} is not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); "
            "is it compressed or binary? load_jepsen reads text files") from None
    lines = text.splitlines()
    first = next((line.strip() for line in lines
                  if line.strip() and not line.lstrip().startswith(";")), None)
    if first is None:
        raise InvalidArgument(f"{path} is empty{'' if not text else ' (only blank lines)'}: "
                              "a history file holds at least one event")
    is_log = not first.startswith(("{", "#"))
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
            raise InvalidArgument(f"{where}: cannot parse {line.strip()[:80]!r}: {exc}") from None
        if event is None:
            continue
        try:
            history.append(event)
        except InvalidArgument as exc:
            raise type(exc)(f"{where}: {exc}") from None
    if len(history) == 0:
        if is_log:
            raise InvalidArgument(f"path={str(path)!r} has no EDN map lines and no "
                                  "'jepsen.util - ' log lines of a client process")
        raise InvalidArgument(f"path={str(path)!r} has no events of a client process "
                              "(only the nemesis's, or comments)")
    return history


def _parse_map_line(line: str, number: int, where: str) -> Event | None:
    data = _parse_edn(line)
    if data is _NOTHING:
        return None  # a comment
    if not isinstance(data, dict):
        raise InvalidArgument(f"{where}: expected an EDN map, got {line.strip()[:80]!r}")
    fields = {str(k): v for k, v in data.items() if isinstance(k, _Keyword)}
    for name in ("process", "type", "f"):
        if name not in fields:
            raise InvalidArgument(f"{where}: the map has no :{name}")
    return _event_from_fields(fields["process"], fields["type"], fields["f"],
                              fields.get("key"), fields.get("value"), number, where)


_LOG_MARKER = re.compile(r"jepsen\.util\s+-\s+")
_LOG_PROCESS = re.compile(r"[+-]?[0-9]+|:\S+|nil")


def _parse_log_line(line: str, number: int, where: str) -> Event | None:
    found = _LOG_MARKER.search(line)
    if found is None:
        return None  # some other log line
    rest = line[found.end():]
    fields = rest.split(None, 3)
    if not fields or not _LOG_PROCESS.fullmatch(fields[0]):
        return None  # a jepsen.util message that is not an operation
    process = _parse_edn(fields[0])
    if isinstance(process, _Keyword) or process is None:
        return None  # the nemesis: its values are no client's business
    if len(fields) < 3:
        raise InvalidArgument(f"{where}: expected 'process type f value' (separated by tabs "
                              f"or spaces) after 'jepsen.util - ', got {line.strip()[:80]!r}")
    type_ = _parse_edn(fields[1])
    f = _parse_edn(fields[2])
    # Parse the value in place, so that errors give columns of the line.
    value = _parse_edn(line, len(line) - len(fields[3])) if len(fields) > 3 else None
    return _event_from_fields(process, type_, f, None, None if value is _NOTHING else value,
                              number, where)


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
        InvalidArgument: If there is no history called ``name``, or ``name``
            is a path rather than a file name.
        InvalidArgumentType: If ``name`` is not a str.

    Example::

        >>> h = load_jepsen(bundled_history_path("c01-ok"))
        >>> len(h)
        116
    """
    check_type("name", name, str, "a history name such as 'c10-ok'")
    if "/" in name or "\\" in name or name.startswith("."):
        raise InvalidArgument(f"name={name!r} must be a history name such as 'c10-ok', "
                              "not a path")
    root = Path(__file__).resolve().parent.parent
    directory = root / _BUNDLED_DIR
    if not directory.is_dir():
        raise FileNotFoundError(
            f"directory={str(directory)!r} does not exist: bundled histories are "
            "found relative to a clone of the course repository (pip install -e .)"
        )
    filename = name if name.endswith(".txt") else f"{name}.txt"
    path = directory / filename
    if not name or not path.is_file():
        available = sorted(p.stem for p in directory.glob("*.txt"))
        raise InvalidArgument(f"name={name!r} is not a bundled history; "
                              f"available: {', '.join(available)}")
    return path
