"""Meters of a register's history: stale reads, the first violation, per-window measures, latencies.

- :func:`stale_reads`: reads that returned a value some acknowledged write had
  already overwritten before the read began;
- :func:`first_violation`: the time from which the history stops being linearizable;
- :func:`windows`: availability, stale reads and "linearizable so far" per time window;
- :func:`latencies`: how long each ``ok`` operation took.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Hashable, Iterable

from ...checkers import linearizable
from ...checkers.linearizability import DEFAULT_BUDGET
from ...history import History, Operation
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_int, check_positive

_READS = ("read", "get")
_WRITES = ("write", "put")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _history_ops(name: str, history: Any) -> list[Operation]:
    if isinstance(history, History):
        return history.operations()
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise InvalidArgumentType(f"{name}={history!r} must be a History or a list of its operations")
    ops = list(history)
    for op in ops:
        if not isinstance(op, Operation):
            raise InvalidArgumentType(f"{name} contains {op!r}, which is not an Operation")
    return ops


@dataclass(frozen=True)
class StaleRead:
    """A read that returned a value an acknowledged write had overwritten before the read began.

    Attributes:
        read: the stale read.
        saw: the write whose value it returned (None: the initial value).
        missed: an ``ok`` write of the same key that completed before the read
            was invoked, and began after ``saw`` completed.
    """

    read: Operation
    saw: Operation | None
    missed: Operation

    def __str__(self) -> str:
        return (f"{self.read} at t={self.read.call_time:.2f} missed {self.missed}, "
                f"acknowledged at t={self.missed.return_time:.2f}")


def stale_reads(history: History | Iterable[Operation]) -> list[StaleRead]:
    """Return the reads that are certainly stale: proof enough that a history is not linearizable.

    A read ``r`` is stale if it returned the value of write ``w1`` (or the
    initial None), and some ``ok`` write ``w2`` of the same key completed
    before ``r`` was invoked and was invoked after ``w1`` completed. Then
    ``w2`` must come after ``w1`` and before ``r`` in every linearization, so
    ``r`` cannot return ``w1``'s value. Concurrent writes do not count: either
    may be the last. Needs distinct write values per key (as
    :func:`run_workload` writes); reads of a value nobody wrote are ignored.

    Args:
        history: a History or its operations (``read``/``get``, ``write``/``put``).

    Returns:
        One :class:`StaleRead` per stale read, in invocation order (``missed``
        is the latest-completing such write).

    Raises:
        TypeError: ``history`` is not a History or a list of operations.
        InvalidArgument: two writes of one key write the same value (also a ValueError).

    Example:
        >>> h = History()
        >>> _ = h.invoke(0, "write", "x", 1); _ = h.ok(0)
        >>> _ = h.invoke(1, "read", "x"); _ = h.ok(1, value=None)
        >>> [str(s.read) for s in stale_reads(h)]
        ["p1 read('x') -> None"]
    """
    ops = _history_ops("history", history)
    writes: dict[Hashable, list[Operation]] = {}
    source: dict[tuple, Operation] = {}
    for op in ops:
        if op.f in _WRITES and op.status != "fail":
            if (op.key, op.value) in source:
                raise InvalidArgument(f"key={op.key!r}: value={op.value!r} is written twice "
                                 f"({source[(op.key, op.value)]} and {op}); stale_reads needs "
                                 "distinct write values")
            source[(op.key, op.value)] = op
            writes.setdefault(op.key, []).append(op)
    found = []
    for r in ops:
        if r.f not in _READS or r.status != "ok":
            continue
        if r.output is None:
            w1 = None
        else:
            w1 = source.get((r.key, r.output))
            if w1 is None:
                continue
            if w1.status != "ok":
                continue  # an indeterminate write may take effect at any later time
        missed = None
        for w2 in writes.get(r.key, ()):
            if (w2 is not w1 and w2.status == "ok" and w2.return_index < r.call_index
                    and (w1 is None or w1.return_index < w2.call_index)):
                if missed is None or w2.return_index > missed.return_index:
                    missed = w2
        if missed is not None:
            found.append(StaleRead(r, w1, missed))
    return found


def first_violation(history: History, model: Any = "register", *,
                    budget: int = DEFAULT_BUDGET) -> float | None:
    """Return the time of the first event after which ``history`` is not linearizable.

    Every prefix of a linearizable history is linearizable, so the first
    failing prefix is found by bisection over the events. The history up to
    (not including) the returned time is linearizable; from it on, never again.

    Args:
        history: a History (its events in order).
        model: as for :func:`~course_lib.checkers.linearizable`.
        budget: search steps allowed per check.

    Returns:
        The event's time, or None if the whole history is linearizable.

    Raises:
        TypeError: ``history`` is not a History.
        RuntimeError: a check ran out of ``budget`` (no verdict).

    Example:
        >>> h = History()
        >>> _ = h.invoke(0, "write", "x", 1, time=0); _ = h.ok(0, time=1)
        >>> _ = h.invoke(1, "read", "x", time=2); _ = h.ok(1, value=None, time=3)
        >>> first_violation(h)
        3
    """
    if not isinstance(history, History):
        raise InvalidArgumentType(f"history={history!r} must be a History")
    events = list(history)

    def verdict(n: int) -> bool:
        result = linearizable(History(events[:n]), model, budget=budget)
        if result.valid is None:
            raise RuntimeError(f"budget={budget} ran out checking the first {n} events; "
                               "pass a larger budget")
        return result.valid

    if verdict(len(events)):
        return None
    lo, hi = 0, len(events)  # prefix lo is linearizable, prefix hi is not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if verdict(mid):
            lo = mid
        else:
            hi = mid
    return events[hi - 1].time


@dataclass(frozen=True)
class Window:
    """Measurements of the operations invoked in ``[start, end)``.

    Attributes:
        start, end: the window.
        ops: operations invoked in it.
        ok, failed, indeterminate: how they ended (indeterminate: ``info``
            or never completed).
        reads: ok reads among them.
        stale_reads: stale reads among them (see :func:`stale_reads`).
        linearizable: whether the history up to ``end`` is linearizable.
    """

    start: float
    end: float
    ops: int
    ok: int
    failed: int
    indeterminate: int
    reads: int
    stale_reads: int
    linearizable: bool

    @property
    def availability(self) -> float:
        """The share of operations that succeeded (NaN for an empty window)."""
        return self.ok / self.ops if self.ops else float("nan")


def windows(history: History, width: float, *, start: float = 0.0, end: float | None = None,
            violation: float | None | bool = False, max_windows: int = 10_000) -> list[Window]:
    """Cut the history into windows of ``width`` by invocation time and measure each.

    Args:
        history: a History.
        width: the window length.
        start: where the first window starts.
        end: where the windows stop (default: the last invocation, included).
        violation: the result of :func:`first_violation`, if already known
            (default: compute it).
        max_windows: the most windows to cut (a budget: a tiny ``width``
            over a long history would make millions).

    Returns:
        The windows, in time order.

    Raises:
        InvalidArgumentType: ``history`` is not a History (also a TypeError).
        InvalidArgument: ``width`` is not positive, ``end`` is not after
            ``start``, or more than ``max_windows`` windows (also a ValueError).

    Example:
        >>> h = History()
        >>> _ = h.invoke(0, "write", "x", 1, time=0); _ = h.ok(0, time=1)
        >>> _ = h.invoke(0, "read", "x", time=12); _ = h.fail(0, time=13)
        >>> [(w.start, w.availability) for w in windows(h, 10)]
        [(0.0, 1.0), (10.0, 0.0)]
    """
    if not isinstance(history, History):
        raise InvalidArgumentType(f"history={history!r} must be a History")
    width = check_positive("width", width)
    start = float(start) if _is_number(start) else start
    if not isinstance(start, float) or not math.isfinite(start):
        error = InvalidArgument if isinstance(start, float) else InvalidArgumentType
        raise error(f"start={start!r} must be a finite number")
    if violation is not False and violation is not None and (
            not _is_number(violation) or not math.isfinite(violation)):
        raise InvalidArgumentType(f"violation={violation!r} must be a time from first_violation(), "
                                  "None (linearizable) or False (compute it)")
    check_int("max_windows", max_windows, low=1)
    ops = history.operations()
    if end is None:
        end = max([op.call_time for op in ops], default=start) + 1e-9
    if not _is_number(end):
        raise InvalidArgumentType(f"end={end!r} must be a finite number after start={start!r}")
    if not math.isfinite(end) or end <= start:
        raise InvalidArgument(f"end={end!r} must be a finite number after start={start!r}")
    count = max(1, math.ceil((end - start) / width - 1e-9))
    if count > max_windows:
        raise InvalidArgument(f"width={width!r} cuts [{start:g}, {end:g}) into {count} windows, more "
                              f"than max_windows={max_windows}; pass a larger width (or max_windows)")
    if violation is False:
        violation = first_violation(history)
    stale_ids = {s.read.id for s in stale_reads(ops)}
    rows = []
    for k in range(count):
        lo, hi = start + k * width, start + (k + 1) * width
        inside = [op for op in ops if lo <= op.call_time < hi]
        rows.append(Window(
            start=lo, end=hi, ops=len(inside),
            ok=sum(op.status == "ok" for op in inside),
            failed=sum(op.status == "fail" for op in inside),
            indeterminate=sum(op.indeterminate for op in inside),
            reads=sum(op.f in _READS and op.status == "ok" for op in inside),
            stale_reads=sum(op.id in stale_ids for op in inside),
            linearizable=violation is None or violation >= hi,
        ))
    return rows


def latencies(history: History | Iterable[Operation], f: str | None = None) -> list[float]:
    """Return the latency (completion minus invocation time) of every ``ok`` operation.

    Args:
        history: a History or its operations.
        f: only operations of this function (e.g. ``"write"``); None for all.

    Returns:
        The latencies, in invocation order.

    Raises:
        TypeError: ``history`` or ``f`` has the wrong type.
    """
    if f is not None and not isinstance(f, str):
        raise InvalidArgumentType(f"f={f!r} must be a function name such as 'read', or None")
    return [op.return_time - op.call_time for op in _history_ops("history", history)
            if op.status == "ok" and (f is None or op.f == f)]
