"""Check the session guarantees of Terry et al. (1994) on a client history.

A *session* is the sequence of operations of one client (one ``process`` of
the history), in the order it issued them. The four guarantees say what a
session may observe of its own and others' writes when it moves between
replicas. The checkers here judge them from what clients saw, on a register
or key-value history where **every write of a key writes a distinct value**
(so a read's value names the write it saw). They raise ``ValueError`` when
values repeat.

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

from dataclasses import dataclass, field
from typing import Hashable, Iterable

from course_lib.history import History, Operation

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
        ops = history.operations() if isinstance(history, History) else list(history)
        self.sessions: dict[Hashable, list[Operation]] = {}
        writes: list[Operation] = []
        written: dict[tuple[Hashable, Hashable], int] = {}  # (key, value) -> write number
        for op in ops:
            if op.status == "fail":
                continue
            if op.f not in _READS and op.f not in _WRITES:
                raise ValueError(
                    f"f={op.f!r} of {op} is not supported: session checkers need reads "
                    f"({', '.join(_READS)}) that name the one write they saw "
                    f"({', '.join(_WRITES)})")
            if op.f in _WRITES:
                value = _written_value(op)
                if value is None or value == "":
                    raise ValueError(f"value={value!r} of {op} is the initial value; session "
                                     "checkers need every write to be distinguishable")
                try:
                    earlier = written.get((op.key, value))
                except TypeError:
                    raise ValueError(f"value={value!r} of {op} must be hashable") from None
                if earlier is not None:
                    raise ValueError(
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
        # write number -> [(session, position)] of the ok reads that saw it
        self.readers: dict[int, list[tuple[list[Operation], int]]] = {}
        for session in self.sessions.values():
            for k, op in enumerate(session):
                src = self.src.get(op.id) if op.f in _READS else None
                if src is not None and src != _INITIAL:
                    self.readers.setdefault(src, []).append((session, k))

    def _causal_order(self, ops: list[Operation]) -> list[int]:
        """Return, per write number, the bitset of writes causally before it."""
        direct = [0] * len(self.writes)
        by_process: dict[Hashable, list[Operation]] = {}
        for op in ops:
            if op.status != "fail":
                by_process.setdefault(op.process, []).append(op)
        for session in by_process.values():
            seen = 0  # writes this session performed or read so far
            for op in session:
                if op.f in _WRITES:
                    w = self.write_number[op.id]
                    direct[w] |= seen
                    seen |= 1 << w
                elif op.status == "ok":
                    src = self.src.get(op.id)
                    if src is not None and src != _INITIAL:
                        seen |= 1 << src
        before = list(direct)
        changed = True
        while changed:  # transitive closure; reads may make the relation cyclic
            changed = False
            for w in range(len(before)):
                closure = before[w]
                bits = before[w]
                while bits:
                    low = bits & -bits
                    closure |= before[low.bit_length() - 1]
                    bits ^= low
                if closure != before[w]:
                    before[w] = closure
                    changed = True
        return before

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

    def later_reads_of(self, key: Hashable, after_reading: Operation) -> Iterable[tuple]:
        """Yield (r', r): r' reads ``after_reading``, r is a later read of ``key``."""
        for session, k in self.readers.get(self.write_number[after_reading.id], ()):
            for op in session[k + 1:]:
                if op.f in _READS and op.key == key:
                    yield session[k], op


def _written_value(op: Operation):
    if op.f == "cas":
        try:
            _, new = op.value
        except (TypeError, ValueError):
            raise ValueError(f"value={op.value!r} of {op} must be a pair [old, new]") from None
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
        ValueError: If a key's write values repeat, a write writes the initial
            value, or an operation is not a read or write.

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
        ValueError: As :func:`read_your_writes`.
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
        ValueError: As :func:`read_your_writes`.
    """
    rule = "monotonic writes"
    facts = _Facts(history)
    found = facts.unwritten(rule)
    for session in facts.sessions.values():
        for k, w1 in enumerate(session):
            if w1.f not in _WRITES:
                continue
            for w2 in session[k + 1:]:
                if w2.f not in _WRITES:
                    continue
                for saw, read in facts.later_reads_of(w1.key, w2):
                    if facts.stale(read, w1):
                        found.append(Violation(
                            rule, (w1, w2, saw, read),
                            f"{read} misses {w1}, though its session saw {w2}, which "
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
        ValueError: As :func:`read_your_writes`.
    """
    rule = "writes follow reads"
    facts = _Facts(history)
    found = facts.unwritten(rule)
    for session in facts.sessions.values():
        for k, first in enumerate(session):
            w0 = facts.source(first) if first.f in _READS else None
            if w0 is None:
                continue
            for w2 in session[k + 1:]:
                if w2.f not in _WRITES:
                    continue
                for saw, read in facts.later_reads_of(w0.key, w2):
                    if facts.stale(read, w0):
                        found.append(Violation(
                            rule, (first, w2, saw, read),
                            f"{read} misses {w0}, though its session saw {w2}, which "
                            f"p{w2.process} wrote after reading it ({first})"))
    return _result(rule, found)
