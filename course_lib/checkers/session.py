"""Check the session guarantees of Terry et al. (1994) on a client history.

A *session* is the sequence of operations of one client (one ``process`` of
the history), in the order it issued them. The four guarantees say what a
session may observe of its own and others' writes when it moves between
replicas. The checkers here judge them from what clients saw, on a register
or key-value history where **every write of a key writes a distinct value**
(so a read's value names the write it saw). They raise
:class:`~course_lib.sim.validation.InvalidArgument` (a ``ValueError``) when
values repeat, or when a value cannot name a write (the initial value, NaN,
an unhashable value).

Definitions. Only ``ok`` operations are judged; failed ones are ignored.

- *Reads* are ``read``/``get``; *writes* are ``write``/``put`` and ``cas``
  (which writes the second element of its ``[old, new]`` value).
- The *source* of a read, ``src(r)``, is the write of ``r.key`` whose value
  ``r`` returned, or INITIAL if ``r`` returned None or ``""``. A write that is
  indeterminate may be a source; one that failed may not.
- The *causal order* of writes, ``w1 ⇝ w2``, is the smallest transitive
  relation with ``w1 ⇝ w2`` when one session performed ``w1`` before ``w2``,
  or read ``w1`` (``src``) before performing ``w2``; INITIAL ``⇝`` every write.
- A read ``r`` is *stale for* a write ``w`` of the same key if
  ``src(r) != w`` and ``src(r) ⇝ w``: it saw a value that ``w``
  causally overwrote.

Then, for sessions ``s`` and ``t`` (possibly equal), "later" meaning later in
the same session:

- **read your writes**: no read by ``s`` is stale for an earlier write by
  ``s`` to its key;
- **monotonic reads**: no read by ``s`` is stale for the source of an
  earlier read by ``s`` of the same key;
- **monotonic writes**: if ``s`` wrote ``w1`` then ``w2``, no session ``t``
  that read ``w2`` later reads ``w1``'s key stale for ``w1``;
- **writes follow reads**: if ``s`` read ``w0`` then wrote ``w2``, no session
  ``t`` that read ``w2`` later reads ``w0``'s key stale for ``w0``.

A read whose value no write wrote breaks every guarantee; each checker reports
it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Iterator

from course_lib.history import History, Operation, operations_of
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

__all__ = [
    "SessionResult",
    "Violation",
    "monotonic_reads",
    "monotonic_writes",
    "read_your_writes",
    "writes_follow_reads",
]

_READS = ("read", "get")
_WRITES = ("write", "put", "cas")
_INITIAL = -1  # the source of a read that returned the initial value


@dataclass(frozen=True)
class Violation:
    """One breach of a guarantee.

    Attributes:
        rule: The guarantee, e.g. ``"read your writes"``.
        ops: The operations involved, in the order the message names them.
        message: A sentence naming them.
    """

    rule: str
    ops: tuple[Operation, ...]
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(repr=False)
class SessionResult:
    """The verdict of a session-guarantee checker; truthy only when valid.

    Attributes:
        guarantee: Its name, e.g. ``"monotonic reads"``.
        valid: True if no violation was found.
        violations: Each violation found, in history order.
    """

    guarantee: str
    valid: bool
    violations: list[Violation] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.valid

    def __repr__(self) -> str:
        return (f"<SessionResult {self.guarantee!r}: valid={self.valid!r}, "
                f"{len(self.violations)} violations>")

    def explain(self) -> str:
        """Return the verdict and one line per violation."""
        if self.valid:
            return f"{self.guarantee.capitalize()} holds."
        lines = [f"{self.guarantee.capitalize()} is violated {len(self.violations)} "
                 f"time{'s' if len(self.violations) != 1 else ''}:"]
        lines += [f"  {v.message}" for v in self.violations]
        return "\n".join(lines)


class _Facts:
    """Sessions, sources of reads and the causal order of writes of a history."""

    def __init__(self, history: History | Iterable[Operation]) -> None:
        ops = operations_of(history)
        self.sessions: dict[Hashable, list[Operation]] = {}
        writes: list[Operation] = []
        written: dict[tuple[Hashable, Hashable], int] = {}  # (key, value) -> write number
        for op in ops:
            if op.status == "fail":
                continue
            if op.f not in _READS and op.f not in _WRITES:
                raise InvalidArgument(
                    f"f={op.f!r} of {op} is not supported: session checkers need reads "
                    f"({', '.join(_READS)}) that name the one write they saw "
                    f"({', '.join(_WRITES)})")
            if op.f in _WRITES:
                value = _written_value(op)
                if value is None or value == "":
                    raise InvalidArgument(
                        f"value={value!r} of {op} is the initial value; session checkers "
                        "need every write to be distinguishable")
                if isinstance(value, float) and math.isnan(value):  # no read can match it
                    raise InvalidArgument(
                        f"value={value!r} of {op} equals no value, not even itself, so no "
                        "read can name this write; session checkers need comparable values")
                try:
                    earlier = written.get((op.key, value))
                except TypeError:
                    raise InvalidArgumentType(
                        f"value={value!r} of {op} must be hashable, such as an int, a str or "
                        "a tuple") from None
                if earlier is not None:
                    raise InvalidArgument(
                        f"key={op.key!r}: value={value!r} is written by both "
                        f"{writes[earlier]} and {op}; session checkers need every "
                        "write of a key to write a distinct value")
                written[(op.key, value)] = len(writes)
                writes.append(op)
            if op.status == "ok":
                self.sessions.setdefault(op.process, []).append(op)
        self.writes = writes
        self.write_number = {op.id: k for k, op in enumerate(writes)}
        # src: read id -> write number, _INITIAL, or None (a value nobody wrote)
        self.src: dict[int, int | None] = {}
        for session in self.sessions.values():
            for op in session:
                if op.f in _READS:
                    if op.output is None or op.output == "":
                        self.src[op.id] = _INITIAL
                    else:
                        try:
                            self.src[op.id] = written.get((op.key, op.output))
                        except TypeError:
                            self.src[op.id] = None
        self.before = self._causal_order(ops)
        self.key_mask: dict[Hashable, int] = {}  # key -> bitset of the writes of that key
        for w, op in enumerate(writes):
            self.key_mask[op.key] = self.key_mask.get(op.key, 0) | 1 << w

    def _causal_order(self, ops: list[Operation]) -> list[int]:
        """Return, per write number, the bitset of writes causally before it."""
        # A write's immediate predecessors are its session's previous write and
        # the writes the session read since; the rest of what the session saw
        # before it comes through the previous write. The closure of these few
        # edges is that of the full relation, at a fraction of the work.
        immediate = [0] * len(self.writes)
        by_process: dict[Hashable, list[Operation]] = {}
        for op in ops:
            if op.status != "fail":
                by_process.setdefault(op.process, []).append(op)
        for session in by_process.values():
            since = 0  # the session's last write and the writes it read since
            for op in session:
                if op.f in _WRITES:
                    w = self.write_number[op.id]
                    immediate[w] |= since
                    since = 1 << w
                elif op.status == "ok":
                    src = self.src.get(op.id)
                    if src is not None and src != _INITIAL:
                        since |= 1 << src
        edges = [_bits(mask) for mask in immediate]
        before = list(immediate)
        changed = True
        while changed:  # transitive closure; reads may make the relation cyclic
            changed = False
            for w, preds in enumerate(edges):
                closure = before[w]
                for u in preds:
                    closure |= before[u]
                if closure != before[w]:
                    before[w] = closure
                    changed = True
        return before

    def seen_then_stale(self, targets: dict[int, int]) -> Iterator[tuple[int, int, Operation,
                                                                          Operation]]:
        """Yield (t, w2, r', r): r' read w2, then r, later in its session, is stale for t.

        ``targets`` maps a write number w2 to the bitset of the writes that
        a reader of w2 must not then read stale (what w2's session did or saw
        before it). Each session is walked once, keeping the union of the
        targets of the writes it has read so far.
        """
        for session in self.sessions.values():
            reach = 0  # targets of the writes read so far in this session
            read_so_far: list[tuple[Operation, int]] = []  # (r', w2) with targets
            for op in session:
                if op.f not in _READS:
                    continue
                candidates = reach & self.key_mask.get(op.key, 0)
                for t in _bits(candidates):
                    if self.stale(op, self.writes[t]):
                        for saw, w2 in read_so_far:
                            if targets[w2] >> t & 1:
                                yield t, w2, saw, op
                src = self.src.get(op.id)
                if src is not None and src != _INITIAL and targets.get(src):
                    read_so_far.append((op, src))
                    reach |= targets[src]

    def stale(self, read: Operation, write: Operation) -> bool:
        """Return True if ``read`` saw a value that ``write`` causally overwrote."""
        if read.key != write.key:
            return False
        src = self.src.get(read.id)
        w = self.write_number[write.id]
        if src is None or src == w:
            return False
        return src == _INITIAL or bool(self.before[w] >> src & 1)

    def source(self, read: Operation) -> Operation | None:
        """Return the write ``read`` saw, or None for the initial value."""
        src = self.src.get(read.id)
        return None if src is None or src == _INITIAL else self.writes[src]

    def unwritten(self, rule: str) -> list[Violation]:
        """Return a violation for each read of a value nobody wrote."""
        return [Violation(rule, (op,), f"{op} returned a value no write wrote")
                for session in self.sessions.values() for op in session
                if op.f in _READS and self.src.get(op.id, _INITIAL) is None]


def _bits(mask: int) -> list[int]:
    """Return the positions of the set bits of ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _written_value(op: Operation):
    if op.f == "cas":
        try:
            _, new = op.value
        except (TypeError, ValueError):
            raise InvalidArgument(
                f"value={op.value!r} of {op} must be a pair [old, new]") from None
        return new
    return op.value


def _result(name: str, violations: list[Violation]) -> SessionResult:
    violations.sort(key=lambda v: tuple(op.id for op in v.ops))
    return SessionResult(name, not violations, violations)


def read_your_writes(history: History | Iterable[Operation]) -> SessionResult:
    """Check that each session's reads see its own earlier writes.

    A violation is a read by session ``s`` that is stale for a write ``s``
    made earlier to the same key (see the module docs for "stale").

    Args:
        history: A History or its operations (writes unique per key).

    Returns:
        A :class:`SessionResult`; each violation names (write, read).

    Raises:
        InvalidArgument: If a key's write values repeat, a write writes the
            initial value or NaN, an operation is not a read or write, or the
            history holds an operation twice (a ValueError).
        InvalidArgumentType: If ``history`` is not a History or operations,
            or a written value is not hashable (also a TypeError).

    Example::

        >>> from course_lib.history import History
        >>> h = History()
        >>> _ = h.invoke("a", "write", value=1); _ = h.ok("a")
        >>> _ = h.invoke("a", "read"); _ = h.ok("a", value=None)
        >>> read_your_writes(h).valid
        False
    """
    rule = "read your writes"
    facts = _Facts(history)
    found = facts.unwritten(rule)
    for session in facts.sessions.values():
        for k, write in enumerate(session):
            if write.f not in _WRITES:
                continue
            for read in session[k + 1:]:
                if read.f in _READS and facts.stale(read, write):
                    found.append(Violation(rule, (write, read),
                                           f"{read} does not see {write} of its own session"))
    return _result(rule, found)


def monotonic_reads(history: History | Iterable[Operation]) -> SessionResult:
    """Check that no session's reads of a key go back in time.

    A violation is a pair of reads ``r1`` then ``r2`` of one key by one
    session where ``r2`` is stale for the write ``r1`` saw.

    Args:
        history: A History or its operations (writes unique per key).

    Returns:
        A :class:`SessionResult`; each violation names (r1, r2).

    Raises:
        InvalidArgument: As :func:`read_your_writes`.
    """
    rule = "monotonic reads"
    facts = _Facts(history)
    found = facts.unwritten(rule)
    for session in facts.sessions.values():
        for k, first in enumerate(session):
            seen = facts.source(first) if first.f in _READS else None
            if seen is None:
                continue
            for later in session[k + 1:]:
                if later.f in _READS and facts.stale(later, seen):
                    found.append(Violation(
                        rule, (first, later),
                        f"{later} goes back in time: the same session's earlier {first} "
                        f"saw {seen}"))
    return _result(rule, found)


def monotonic_writes(history: History | Iterable[Operation]) -> SessionResult:
    """Check that a session's writes are seen in the order it made them.

    A violation: session ``s`` wrote ``w1`` then ``w2``; a session that read
    ``w2`` later reads ``w1``'s key and is stale for ``w1``.

    Args:
        history: A History or its operations (writes unique per key).

    Returns:
        A :class:`SessionResult`; each violation names (w1, w2, the read of
        w2, the stale read).

    Raises:
        InvalidArgument: As :func:`read_your_writes`.
    """
    rule = "monotonic writes"
    facts = _Facts(history)
    found = facts.unwritten(rule)
    # w2 -> the ok writes its session made before it (the w1 a reader of w2 must see)
    targets: dict[int, int] = {}
    for session in facts.sessions.values():
        earlier = 0
        for op in session:
            if op.f in _WRITES:
                w = facts.write_number[op.id]
                targets[w] = earlier
                earlier |= 1 << w
    for t, w2, saw, read in facts.seen_then_stale(targets):
        w1, second = facts.writes[t], facts.writes[w2]
        found.append(Violation(
            rule, (w1, second, saw, read),
            f"{read} misses {w1}, though its session saw {second}, which "
            f"p{w1.process} wrote after it"))
    return _result(rule, found)


def writes_follow_reads(history: History | Iterable[Operation]) -> SessionResult:
    """Check that a write is seen only with the writes its session had read.

    A violation: session ``s`` read ``w0`` then wrote ``w2``; a session that
    read ``w2`` later reads ``w0``'s key and is stale for ``w0``.

    Args:
        history: A History or its operations (writes unique per key).

    Returns:
        A :class:`SessionResult`; each violation names (the read of w0, w2,
        the read of w2, the stale read).

    Raises:
        InvalidArgument: As :func:`read_your_writes`.
    """
    rule = "writes follow reads"
    facts = _Facts(history)
    found = facts.unwritten(rule)
    # w2 -> the writes its session had read before it (the w0 a reader of w2 must see)
    targets: dict[int, int] = {}
    place: dict[int, tuple[list[Operation], int]] = {}  # w2 -> (its session, position)
    for session in facts.sessions.values():
        mask = 0
        for k, op in enumerate(session):
            if op.f in _READS:
                src = facts.src.get(op.id)
                if src is not None and src != _INITIAL:
                    mask |= 1 << src
            elif op.f in _WRITES:
                w = facts.write_number[op.id]
                targets[w] = mask
                place[w] = (session, k)
    for t, w2, saw, read in facts.seen_then_stale(targets):
        w0, second = facts.writes[t], facts.writes[w2]
        session, k = place[w2]
        for first in session[:k]:  # each read of w0 before w2 is a witness
            if first.f in _READS and facts.src.get(first.id) == t:
                found.append(Violation(
                    rule, (first, second, saw, read),
                    f"{read} misses {w0}, though its session saw {second}, which "
                    f"p{second.process} wrote after reading it ({first})"))
    return _result(rule, found)
