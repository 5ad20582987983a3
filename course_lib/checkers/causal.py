"""Causal memory (Ahamad, Neiger, Burns, Kohli and Hutto 1995), checked on a history of one register.

The definition. The *causal order* of a history is the smallest transitive
relation that contains each client's program order (its operations, in the
order it issued them) and *writes-into* (a write before every read that
returned its value). A history is **causal** if, for every client ``p``, some
sequence of all the writes and ``p``'s own reads

- respects the causal order, and
- is legal for one register: each read returns the value of the last write
  before it in the sequence (``None`` if there is none).

Each client may see the writes in its own order, so concurrent writes can be
seen in different orders by different clients; but no client may see a value
again once it has seen a value that replaced it, and nobody may see an effect
before its cause.

This is stronger than the four session guarantees of Terry et al. together
(:mod:`course_lib.checkers.session`): those only forbid reading a value that
some write *causally* overwrote, so a client that reads 2, then a concurrent 1,
then 2 again passes all four and is not causal memory.

Finding each client's sequence needs no search: walk the client's own
operations in order, and before each one place just the writes it needs (what
causally precedes it and, for a read, the write it read, last). A write that
nothing needs yet is placed as late as possible, which never hurts, so the
walk fails exactly when no sequence exists. Every write must write a distinct
value, so that a read's value names the write it saw.

Example:
    >>> from course_lib.history import History
    >>> h = History()
    >>> _ = h.invoke(0, "write", "x", 1, time=0); _ = h.ok(0, time=1)
    >>> _ = h.invoke(1, "read", "x", time=2); _ = h.ok(1, value=1, time=3)
    >>> _ = h.invoke(1, "read", "x", time=4); _ = h.ok(1, value=None, time=5)
    >>> result = causal_memory(h)
    >>> result.valid
    False
    >>> result.process, result.ops[0].describe()
    (1, "read('x') -> None")
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Hashable, Iterable

from course_lib.history import History, Operation, operations_of
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

from .session import _bits

__all__ = ["CausalResult", "causal_memory"]

_READS = ("read", "get")
_WRITES = ("write", "put")


@dataclass(repr=False)
class CausalResult:
    """The verdict of :func:`causal_memory`; truthy only when the history is causal.

    Attributes:
        valid: True if every client has a legal sequence of its view.
        process: The first client without one (None when valid).
        ops: The operations the explanation names.
        message: Why that client has no legal sequence ("" when valid).
    """

    valid: bool
    process: Hashable = None
    ops: tuple[Operation, ...] = field(default_factory=tuple)
    message: str = ""

    def __bool__(self) -> bool:
        return self.valid

    def __repr__(self) -> str:
        return f"<CausalResult valid={self.valid!r}>" if self.valid else \
            f"<CausalResult valid=False process={self.process!r}>"

    def explain(self) -> str:
        """Return the verdict in one sentence."""
        if self.valid:
            return "Causal memory: every client can order the writes and its own reads legally."
        return f"Not causal memory: for p{self.process}, {self.message}."


def _check_ops(history: History | Iterable[Operation]) -> list[Operation]:
    """Return the operations that count (ok reads and writes, writes that may have happened)."""
    if not isinstance(history, History) and (isinstance(history, (str, bytes))
                                             or not isinstance(history, Iterable)):
        raise InvalidArgumentType(f"history={history!r} must be a History or a list of its operations")
    ops = operations_of(history)
    keys = {op.key for op in ops}
    if len(keys) > 1:
        raise InvalidArgument(f"history has keys {sorted(keys, key=repr)}; causal_memory checks one "
                              "register: pass the operations of one key")
    kept, written = [], {}
    for op in ops:
        if op.f not in _READS + _WRITES:
            raise InvalidArgument(f"f={op.f!r} of {op} is not supported: causal_memory needs reads "
                                  f"({', '.join(_READS)}) and writes ({', '.join(_WRITES)})")
        if op.status == "fail" or (op.f in _READS and op.status != "ok"):
            continue  # did not happen, or returned nothing to judge
        if op.f in _WRITES:
            if op.value is None or (isinstance(op.value, float) and math.isnan(op.value)):
                raise InvalidArgument(f"value={op.value!r} of {op} cannot name a write: causal_memory "
                                      "needs every write to write a distinct value, not None")
            try:
                earlier = written.get(op.value)
            except TypeError:
                raise InvalidArgumentType(f"value={op.value!r} of {op} must be hashable, such as an "
                                          "int, a str or a tuple") from None
            if earlier is not None:
                raise InvalidArgument(f"value={op.value!r} is written by both {earlier} and {op}; "
                                      "causal_memory needs every write to write a distinct value")
            written[op.value] = op
        kept.append(op)
    return kept


def causal_memory(history: History | Iterable[Operation]) -> CausalResult:
    """Check that a history of one register is causal memory (Ahamad et al. 1995).

    Only ``ok`` operations are judged, plus the indeterminate writes (which
    may have happened: a read may have seen one). Failed operations are left out.

    Args:
        history: a History, or a list of its operations, on one key, where every
            write writes a distinct value.

    Returns:
        A :class:`CausalResult`, truthy when the history is causal.

    Raises:
        InvalidArgument: the history has more than one key, an operation other
            than a read or a write, or two writes of the same value (also a ValueError).
        InvalidArgumentType: ``history`` is not a History or a list of operations.
    """
    ops = _check_ops(history)
    writes_mask = 0
    by_value: dict[object, int] = {}
    for k, op in enumerate(ops):
        if op.f in _WRITES:
            writes_mask |= 1 << k
            by_value[op.value] = k
    # The direct causal edges: program order (an indeterminate write may take effect at
    # any later time, so nothing of its client follows it for sure) and writes-into.
    direct = [0] * len(ops)
    source: dict[int, int | None] = {}  # read -> the write it saw, or None for the initial value
    sessions: dict[Hashable, list[int]] = {}
    for k, op in enumerate(ops):
        session = sessions.setdefault(op.process, [])
        for j in session:
            if ops[j].status == "ok":
                direct[k] |= 1 << j
        session.append(k)
        if op.f in _READS:
            if op.output is None:
                source[k] = None
            else:
                try:
                    w = by_value.get(op.output)
                except TypeError:
                    w = None
                if w is None:
                    return CausalResult(False, op.process, (op,), f"{op} returned a value no write wrote")
                source[k] = w
                direct[k] |= 1 << w
    before = list(direct)
    changed = True
    while changed:  # transitive closure (it may be cyclic: reads can see "future" writes)
        changed = False
        for k in range(len(ops)):
            closure = before[k]
            for j in _bits(direct[k]):
                closure |= before[j]
            if closure != before[k]:
                before[k], changed = closure, True
    for k, op in enumerate(ops):
        if before[k] >> k & 1:
            return CausalResult(False, op.process, (op,),
                                f"the causal order has a cycle through {op}: it causally precedes itself")
    rank = sorted(range(len(ops)), key=lambda k: (bin(before[k]).count("1"), k))
    position = {k: n for n, k in enumerate(rank)}  # a topological order of the causal order

    def in_order(mask: int) -> list[int]:
        return sorted(_bits(mask), key=position.__getitem__)

    for process, session in sessions.items():
        placed, last = 0, None  # the writes already in p's sequence, and the last of them
        for k in session:
            op = ops[k]
            if op.f in _WRITES:
                if op.status != "ok":
                    continue  # it may happen at any time: nothing forces it in yet
                needed = (before[k] | 1 << k) & writes_mask & ~placed
                if needed:
                    placed |= needed
                    last = in_order(needed)[-1]
                continue
            w = source[k]
            needed = before[k] & writes_mask & ~placed
            if w is None:
                seen = (placed | needed) & writes_mask
                if seen:
                    x = ops[in_order(seen)[0]]
                    return CausalResult(False, process, (op, x),
                                        f"{op} returned the initial value, but {x} causally precedes "
                                        f"it or p{process} had already seen it")
                continue
            if not placed >> w & 1:
                after_w = [j for j in _bits(needed) if before[j] >> w & 1]
                if after_w:
                    x = ops[in_order(1 << after_w[0])[0]]
                    return CausalResult(False, process, (op, ops[w], x),
                                        f"{op} saw {ops[w]}, but {x} causally follows that write "
                                        f"and precedes the read")
                placed |= needed
                last = w
                continue
            if last != w:
                x = ops[last]
                return CausalResult(False, process, (op, ops[w], x),
                                    f"{op} saw {ops[w]}, but p{process} had to place that write "
                                    f"earlier, before {x}, which it has seen since")
            if needed:
                x = ops[in_order(needed)[0]]
                return CausalResult(False, process, (op, ops[w], x),
                                    f"{op} saw {ops[w]}, but {x} causally precedes the read and "
                                    f"must come after that write")
    return CausalResult(True)
