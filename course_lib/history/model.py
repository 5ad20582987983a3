"""Histories: events, operations and the History that pairs them (see :mod:`course_lib.history`)."""


from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Hashable, Iterable, Iterator

from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

__all__ = ["EVENT_TYPES", "Event", "History", "Operation", "operations_of"]


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
