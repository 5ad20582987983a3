"""Decide whether a small history is sequentially consistent.

A history is *sequentially consistent* (Lamport, 1979) if its operations can
be put in one order that is legal for the model and keeps each process's
operations in the order that process issued them. Unlike linearizability,
real time between processes does not matter: a read may return a value that
was overwritten long ago, as long as *some* interleaving of the processes
explains every result.

Sequential consistency is not compositional (not a local property, Herlihy &
Wing 1990): keys cannot be checked one at a time. The checker therefore
searches all interleavings of the whole history, with memoisation, and only
accepts small histories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

from course_lib.checkers.models import model_name, resolve_model
from course_lib.history import History, Operation

__all__ = ["SequentialResult", "sequential_consistency"]


@dataclass(repr=False)
class SequentialResult:
    """The verdict of :func:`sequential_consistency`.

    Truthy only when ``valid`` is True.

    Attributes:
        valid: True if a legal order respecting every process's order exists.
        model: The model's name.
        reason: One sentence saying what was decided.
        order: A legal order (when valid); indeterminate operations that
            never took effect are left out.
        longest: When not valid, the longest legal interleaving found.
        next_ops: When not valid, the next operation of each process after
            ``longest``; none of them can come next.
    """

    valid: bool
    model: str
    reason: str
    order: tuple[Operation, ...] = ()
    longest: tuple[Operation, ...] = ()
    next_ops: tuple[Operation, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.valid is True

    def __repr__(self) -> str:
        return (f"<SequentialResult valid={self.valid!r}, model={self.model!r}, "
                f"{len(self.order) if self.valid else len(self.longest)} ops ordered>")

    def explain(self) -> str:
        """Return a readable account of the verdict."""
        lines = [self.reason]
        if self.valid:
            lines += [f"  {k}. {op}" for k, op in enumerate(self.order, start=1)]
            return "\n".join(lines)
        lines.append(f"Longest legal interleaving ({len(self.longest)} operations):")
        lines += [f"  {k}. {op}" for k, op in enumerate(self.longest, start=1)]
        lines.append("None of the processes' next operations can follow it:")
        lines += [f"  {op}" for op in self.next_ops]
        return "\n".join(lines)


def sequential_consistency(
    history: History | Iterable[Operation],
    model: Any,
    *,
    max_ops: int = 20,
) -> SequentialResult:
    """Check that ``history`` is sequentially consistent for ``model``.

    Failed operations are dropped. An indeterminate one (``info`` or never
    completed) takes effect after its process's earlier operations or never;
    as for linearizability, the process's later operations need not wait for
    it, since its client stopped waiting. If the model has a
    ``partition`` method, each partition (key) keeps its own model state, so
    the built-in per-key models work on multi-key histories.

    Args:
        history: A History or its operations.
        model: ``"register"``, ``"kv"`` or a model object.
        max_ops: Refuse histories with more operations than this (after
            dropping failed ones): the search is exhaustive.

    Returns:
        A :class:`SequentialResult`.

    Raises:
        ValueError: If the history has more than ``max_ops`` operations or
            ``max_ops`` is not a positive integer.

    Example::

        >>> from course_lib.history import History
        >>> h = History()
        >>> _ = h.invoke(0, "write", value=1); _ = h.ok(0)
        >>> _ = h.invoke(1, "read"); _ = h.ok(1, value=None)  # stale, but SC
        >>> sequential_consistency(h, "register").valid
        True
    """
    if isinstance(max_ops, bool) or not isinstance(max_ops, int) or max_ops < 1:
        raise ValueError(f"max_ops={max_ops!r} must be a positive integer")
    model = resolve_model(model)
    ops = history.operations() if isinstance(history, History) else list(history)
    live = [op for op in ops if op.status != "fail"]
    if len(live) > max_ops:
        raise ValueError(
            f"the history has {len(live)} operations, more than max_ops={max_ops}: "
            "sequential consistency is checked by exhaustive search; pass a larger "
            "max_ops to allow a longer wait")
    partition = getattr(model, "partition", None)
    groups = partition(live) if partition is not None else {None: live}
    part_of: dict[int, int] = {}
    for index, group in enumerate(groups.values()):
        for op in group:
            part_of[op.id] = index
    init = tuple(model.init() for _ in groups)
    by_process: dict[Hashable, list[Operation]] = {}
    for op in live:
        by_process.setdefault(op.process, [])
        if not op.indeterminate:
            by_process[op.process].append(op)
    processes = list(by_process)
    sequences = list(by_process.values())
    # An indeterminate op may happen once its process's earlier ops have: its
    # client stopped waiting, so the process's later ops need not follow it.
    optional: list[tuple[Operation, int, int]] = []  # (op, process number, ops before it)
    for op in live:
        if op.indeterminate:
            p = processes.index(op.process)
            before = sum(1 for other in sequences[p] if other.id < op.id)
            optional.append((op, p, before))
    step = model.step

    seen: set = set()
    path: list[Operation] = []
    longest: list = [[], None]

    def search(positions: tuple[int, ...], used: int, states: tuple) -> bool:
        if (positions, used, states) in seen:
            return False
        seen.add((positions, used, states))
        if longest[1] is None or len(path) > len(longest[0]):
            longest[0] = list(path)
            longest[1] = positions
        done = True
        for p, sequence in enumerate(sequences):
            at = positions[p]
            if at == len(sequence):
                continue
            done = False
            op = sequence[at]
            part = part_of[op.id]
            ok, new_state = step(states[part], op)
            if ok:
                path.append(op)
                if search(positions[:p] + (at + 1,) + positions[p + 1:], used,
                          states[:part] + (new_state,) + states[part + 1:]):
                    return True
                path.pop()
        if done:
            return True  # optional ops left over never took effect
        for k, (op, p, before) in enumerate(optional):
            if used >> k & 1 or positions[p] < before:
                continue
            part = part_of[op.id]
            ok, new_state = step(states[part], op)
            if ok:
                path.append(op)
                if search(positions, used | 1 << k,
                          states[:part] + (new_state,) + states[part + 1:]):
                    return True
                path.pop()
        return False

    name = model_name(model)
    if search(tuple(0 for _ in sequences), 0, init):
        return SequentialResult(
            True, name,
            f"Sequentially consistent: {len(path)} operations of {len(sequences)} "
            "processes have a legal order that respects each process's order.",
            order=tuple(path))
    best, positions = longest
    next_ops = tuple(seq[at] for seq, at in zip(sequences, positions) if at < len(seq))
    return SequentialResult(
        False, name,
        f"Not sequentially consistent: no interleaving of the {len(sequences)} processes' "
        f"{len(live)} operations is legal; the longest legal one has {len(best)}.",
        longest=tuple(best), next_ops=next_ops)
