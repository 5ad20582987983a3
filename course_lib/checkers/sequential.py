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
accepts small histories (``max_ops``); the search stops after ``budget``
model steps with the verdict None ("unknown") rather than run for minutes.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

from course_lib.checkers.models import model_name, resolve_model
from course_lib.history import History, Operation, operations_of
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType, check_int

__all__ = ["DEFAULT_BUDGET", "SequentialResult", "sequential_consistency"]

DEFAULT_BUDGET = 1_000_000
"""Default cap on the model steps of :func:`sequential_consistency` (seconds, not minutes)."""


@dataclass(repr=False)
class SequentialResult:
    """The verdict of :func:`sequential_consistency`.

    Truthy only when ``valid`` is True.

    Attributes:
        valid: True if a legal order respecting every process's order exists,
            False if none does, None if the search ran out of budget first.
        model: The model's name.
        reason: One sentence saying what was decided.
        order: A legal order (when valid); indeterminate operations that
            never took effect are left out.
        longest: When not valid, the longest legal interleaving found.
        next_ops: When not valid, the next operation of each process after
            ``longest``; none of them can come next (when valid is False).
        steps: How many model steps the search took.
    """

    valid: bool | None
    model: str
    reason: str
    order: tuple[Operation, ...] = ()
    longest: tuple[Operation, ...] = ()
    next_ops: tuple[Operation, ...] = field(default=())
    steps: int = 0

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
        if self.valid is False:
            lines.append("None of the processes' next operations can follow it:")
            lines += [f"  {op}" for op in self.next_ops]
        return "\n".join(lines)


def sequential_consistency(
    history: History | Iterable[Operation],
    model: Any,
    *,
    max_ops: int = 20,
    budget: int = DEFAULT_BUDGET,
) -> SequentialResult:
    """Check that ``history`` is sequentially consistent for ``model``.

    Failed operations are dropped. An indeterminate one (``info`` or never
    completed) takes effect after its process's earlier operations or never;
    as for linearizability, the process's later operations need not wait for
    it, since its client stopped waiting. If the model has a
    ``partition`` method, each partition (key) keeps its own model state, so
    the built-in per-key models work on multi-key histories. An empty
    history is sequentially consistent.

    The search is a depth-first search with its own stack (no recursion, so
    any ``max_ops`` is safe), trying processes in order of first appearance;
    the verdict, the order and the explanation are the same on every run.

    Args:
        history: A History or its operations (each at most once).
        model: ``"register"``, ``"kv"`` or a model object.
        max_ops: Refuse histories with more operations than this (after
            dropping failed ones): the search is exhaustive.
        budget: Most model steps (calls of ``model.step``) to take; when they
            run out before a verdict, ``valid`` is None (unknown) and the
            reason names the budget. Counting steps, not seconds, keeps the
            verdict the same on every machine; the default takes seconds.

    Returns:
        A :class:`SequentialResult`; ``valid`` is True, False or None.

    Raises:
        InvalidArgument: If the history has more than ``max_ops`` operations
            or holds one twice, ``max_ops`` or ``budget`` is not a positive
            integer, ``model`` is an unknown name, or the model rejects an
            operation. It is a ValueError.
        InvalidArgumentType: If ``history`` is not a History or operations,
            ``model`` is not a model, or the model's ``step`` does not return
            ``(ok, new_state)`` with a hashable state (also a TypeError).

    Example::

        >>> from course_lib.history import History
        >>> h = History()
        >>> _ = h.invoke(0, "write", value=1); _ = h.ok(0)
        >>> _ = h.invoke(1, "read"); _ = h.ok(1, value=None)  # stale, but SC
        >>> sequential_consistency(h, "register").valid
        True
    """
    max_ops = check_int("max_ops", max_ops, low=1)
    budget = check_int("budget", budget, low=1)
    model = resolve_model(model)
    ops = operations_of(history)
    live = [op for op in ops if op.status != "fail"]
    if len(live) > max_ops:
        raise InvalidArgument(
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
    _check_state(model, "init()", init)
    by_process: dict[Hashable, list[Operation]] = {}
    for op in live:
        by_process.setdefault(op.process, [])
        if not op.indeterminate:
            by_process[op.process].append(op)
    processes = {process: p for p, process in enumerate(by_process)}
    sequences = list(by_process.values())
    lengths = tuple(len(sequence) for sequence in sequences)
    # An indeterminate op may happen once its process's earlier ops have: its
    # client stopped waiting, so the process's later ops need not follow it.
    optional: list[tuple[Operation, int, int]] = []  # (op, process number, ops before it)
    ids = [sorted(op.id for op in sequence) for sequence in sequences]
    for op in live:
        if op.indeterminate:
            p = processes[op.process]
            optional.append((op, p, bisect_left(ids[p], op.id)))
    step = model.step

    steps = 0  # calls of model.step: the work the budget counts

    def moves(positions: tuple[int, ...], used: int, states: tuple):
        """Yield (op, child node) for each legal next operation, in search order."""
        nonlocal steps
        for p, sequence in enumerate(sequences):
            at = positions[p]
            if at == lengths[p]:
                continue
            op = sequence[at]
            part = part_of[op.id]
            if steps == budget:
                raise _OutOfBudget
            steps += 1
            result = step(states[part], op)
            try:
                ok, new_state = result
            except (TypeError, ValueError):
                raise _bad_step(model, op, result) from None
            if ok:
                yield op, (positions[:p] + (at + 1,) + positions[p + 1:], used,
                           states[:part] + (new_state,) + states[part + 1:])
        for k, (op, p, before) in enumerate(optional):
            if used >> k & 1 or positions[p] < before:
                continue
            part = part_of[op.id]
            if steps == budget:
                raise _OutOfBudget
            steps += 1
            result = step(states[part], op)
            try:
                ok, new_state = result
            except (TypeError, ValueError):
                raise _bad_step(model, op, result) from None
            if ok:
                yield op, (positions, used | 1 << k,
                           states[:part] + (new_state,) + states[part + 1:])

    # Depth-first search with an explicit stack of move generators: the
    # order of a recursive search, without its depth limit. A node is
    # (positions in each process's sequence, optional ops used, states); one
    # seen before leads nowhere new. Optional ops left over when every
    # process is done never took effect.
    root = (tuple(0 for _ in sequences), 0, init)
    seen = {root}
    path: list[Operation] = []
    longest: tuple[list[Operation], tuple[int, ...]] = ([], root[0])
    stack = [moves(*root)]
    found = root[0] == lengths
    out_of_budget = False
    while stack and not found:
        try:
            op, node = next(stack[-1])
        except StopIteration:
            stack.pop()
            if path:
                path.pop()
            continue
        except _OutOfBudget:
            out_of_budget = True
            break
        try:
            if node in seen:
                continue
        except TypeError:
            _check_state(model, f"step(state, {op})", node[2])
            raise
        seen.add(node)
        path.append(op)
        if len(path) > len(longest[0]):
            longest = (list(path), node[0])
        if node[0] == lengths:
            found = True
            break
        stack.append(moves(*node))

    name = model_name(model)
    if found:
        return SequentialResult(
            True, name,
            f"Sequentially consistent: {len(path)} operations of {len(sequences)} "
            "processes have a legal order that respects each process's order.",
            order=tuple(path), steps=steps)
    best, positions = longest
    next_ops = tuple(seq[at] for seq, at in zip(sequences, positions) if at < len(seq))
    if out_of_budget:
        return SequentialResult(
            None, name,
            f"Unknown: the search took budget={budget} model steps without finding a legal "
            f"order of the {len(live)} operations or ruling one out; pass a larger budget "
            f"(e.g. budget={budget * 10}) to search longer.",
            longest=tuple(best), next_ops=next_ops, steps=steps)
    return SequentialResult(
        False, name,
        f"Not sequentially consistent: no interleaving of the {len(sequences)} processes' "
        f"{len(live)} operations is legal; the longest legal one has {len(best)}.",
        longest=tuple(best), next_ops=next_ops, steps=steps)


class _OutOfBudget(Exception):
    """The search needs a model step beyond its budget."""


def _check_state(model: Any, call: str, states: tuple) -> None:
    """Raise naming the model if one of ``states``, returned by ``call``, is not hashable."""
    for state in states:
        try:
            hash(state)
        except TypeError:
            raise InvalidArgumentType(
                f"model {model_name(model)!r}: {call} returned the state {state!r}, which is "
                "not hashable; checkers remember states, so use tuples, frozensets or "
                "strings") from None


def _bad_step(model: Any, op: Operation, result: Any) -> InvalidArgumentType:
    return InvalidArgumentType(
        f"model {model_name(model)!r}: step(state, {op}) returned {result!r}; it must "
        "return (ok, new_state)")
