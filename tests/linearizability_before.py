"""A frozen copy of the linearizability checker as it was before the rework for speed.

Do not edit: tests/test_linearizability.py compares the current checker's
verdicts, failing partitions and step counts with this one on thousands of
seeded random histories, and benchmarks/bench_linearizability.py times both in
the same run to report new/old ratios. It is the module
``course_lib.checkers.linearizability`` at commit 638d6a7, unchanged but for
this first paragraph. The original docstring follows.

Decide whether a history is linearizable, and explain why not.

A history is *linearizable* (Herlihy & Wing, 1990) if every operation can be
given a single instant between its invocation and its completion such that,
taken in the order of those instants, the operations are legal for a single
sequential copy of the object (the model). Failed operations never happened
and are dropped; indeterminate ones (``info`` or never completed) may take
effect at any instant after their invocation, or not at all.

The search is the standard one:

- Wing & Gong's backtracking search over the history's events kept in a
  doubly linked list: linearize ("lift") a pending operation whose
  invocation is reached before any pending completion, backtrack ("unlift")
  when a completion is reached with its operation still pending;
- Lowe's memoisation: a (set of linearized operations, model state) pair seen
  before leads nowhere new, so it is skipped (the set is a Python int used as
  a bitset);
- P-compositionality (Horn & Kroening, 2015): when the model partitions the
  operations (per key for the built-in models) each partition is checked
  alone. Partitions take turns of a fixed number of steps, in order of first
  appearance, and the check stops at the first that fails: the effect of
  porcupine's checking partitions in parallel and stopping the others at the
  first failure, without giving up determinism. (One hard partition must not
  hide an easy violation in another: on porcupine's c50-bad, key "0" alone
  exhausts a million-entry cache, while key "3" fails in 9,000 steps.)
- A read-only operation that is legal when the search reaches it is
  linearized at once and never branched on (moving a read earlier, to a point
  where it is legal, cannot break any other choice).

This is the algorithm of porcupine's ``checkSingle`` (Athalye) and of Knossos'
``linear`` checker (Kingsbury), in Python.

The search is bounded: ``budget`` caps the number of search steps and
``max_cache`` the number of remembered (set, state) pairs, so a hard history
ends with ``valid=None`` ("unknown") instead of running for hours or
exhausting memory. Both bounds count work, never wall-clock time, so a verdict
is the same on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Sequence

from course_lib.checkers.models import model_name, resolve_model
from course_lib.history import History, Operation

__all__ = ["LinearizabilityResult", "linearizable", "DEFAULT_BUDGET", "DEFAULT_MAX_CACHE"]

DEFAULT_BUDGET = 5_000_000
"""Default cap on search steps for one call (a few seconds of search)."""

DEFAULT_MAX_CACHE = 1_000_000
"""Default cap on remembered (linearized set, state) pairs (a few hundred MB at most)."""


@dataclass(repr=False)
class LinearizabilityResult:
    """The verdict of :func:`linearizable`, with the evidence.

    A result is truthy only when ``valid is True``, so ``assert
    linearizable(h, "kv")`` fails on a violation *and* on an unknown verdict.

    Attributes:
        valid: True (linearizable), False (not), or None (the budget ran out
            before a verdict).
        model: The model's name.
        reason: One sentence saying what was decided and why.
        partition: Label (key) of the partition that failed or ran out of
            budget; None when valid.
        partitions: Number of partitions the history splits into.
        checked: Number of partitions decided linearizable.
        steps: Search steps used, over all partitions.
        cache_peak: Largest number of remembered (set, state) pairs.
        operations: The operations of the failing partition, in invocation
            order (what :meth:`plot` draws).
        linearized: The longest linearizable prefix the search found in the
            failing partition, in linearization order.
        state: The model state after ``linearized``.
        stuck: The operations that could have come next after
            ``linearized``: all pending ones invoked before ``deadline``
            returned. None of them leads to a complete linearization.
        deadline: The pending operation that returned before any order
            could place it (or the operations before it).
        stuck_time: ``deadline``'s return time: the point where no order
            works.
        witness: For a valid history, a legal order of each partition's
            operations (indeterminate operations that never took effect are
            left out).
    """

    valid: bool | None
    model: str
    reason: str
    partition: Hashable = None
    partitions: int = 0
    checked: int = 0
    steps: int = 0
    cache_peak: int = 0
    operations: tuple[Operation, ...] = ()
    linearized: tuple[Operation, ...] = ()
    state: Any = None
    stuck: tuple[Operation, ...] = ()
    deadline: Operation | None = None
    stuck_time: float | None = None
    witness: dict[Hashable, tuple[Operation, ...]] = field(default_factory=dict)
    _describe: Any = None
    _illegal: frozenset = frozenset()

    def __bool__(self) -> bool:
        return self.valid is True

    def __repr__(self) -> str:
        verdict = {True: "linearizable", False: "NOT linearizable", None: "unknown"}[self.valid]
        text = (f"<LinearizabilityResult valid={self.valid!r} ({verdict}), model={self.model!r}, "
                f"{self.checked}/{self.partitions} partitions checked, steps={self.steps}")
        if self.valid is False:
            text += (f", partition={self.partition!r}: {len(self.linearized)} of "
                     f"{len(self.operations)} ops linearized, stuck at t={self.stuck_time:g}")
        return text + ">"

    def explain(self) -> str:
        """Return a readable account of the verdict.

        For a violation it names the partition, the longest linearizable
        prefix, the state it leaves, and for each operation that could come
        next whether the model rejects it outright or every order through it
        dead-ends later.
        """
        lines = [self.reason]
        if self.valid is not False:
            return "\n".join(lines)
        describe = self._describe or repr
        lines.append(f"Longest linearizable prefix ({len(self.linearized)} of "
                     f"{len(self.operations)} operations of partition {self.partition!r}):")
        shown = self.linearized[-8:]
        if len(self.linearized) > len(shown):
            lines.append(f"  ... {len(self.linearized) - len(shown)} earlier operations")
        for op in shown:
            lines.append(f"  {_when(op)}  {op}")
        lines.append(f"State after the prefix: {describe(self.state)}")
        if self.deadline is not None:
            lines.append(f"{self.deadline} returned at t={self.stuck_time:g}, but no order of "
                         f"these pending operations works:")
        for op in self.stuck:
            why = ("illegal in this state" if op.id in self._illegal
                   else "legal here, but every order through it fails later")
            lines.append(f"  {_when(op)}  {op}: {why}")
        return "\n".join(lines)

    def plot(self, ax=None, **kwargs):
        """Draw the failing partition's timeline with matplotlib.

        One row per process, one bar per operation; the linearized prefix is
        numbered in linearization order, the stuck operations are highlighted
        and a vertical line marks where no order works. For a valid history it
        draws nothing and raises. By default it zooms on the last operations
        of the prefix and the stuck ones; pass ``window=(start, end)`` to
        choose.

        Args:
            ax: A matplotlib Axes to draw on; a new figure if None.
            **kwargs: Passed on to
                :func:`course_lib.viz.timeline.plot_history`.

        Returns:
            The Axes.

        Raises:
            ValueError: If the result is not a violation.
        """
        if self.valid is not False:
            raise ValueError(f"valid={self.valid!r}: only a violation has a failing "
                             "partition to plot")
        from course_lib.viz.timeline import plot_history

        kwargs.setdefault("title", f"{self.model}: partition {self.partition!r} "
                                   "is not linearizable")
        if "window" not in kwargs:
            # Zoom on the end of the prefix and the operations it got stuck on.
            near = list(self.linearized[-5:]) + list(self.stuck)
            lo = min(op.call_time for op in near)
            hi = max([self.stuck_time] + [op.return_time for op in near
                                          if op.return_time is not None
                                          and not op.indeterminate])
            pad = 0.1 * ((hi - lo) or 1.0)
            kwargs["window"] = (lo - pad, hi + pad)
        return plot_history(self.operations, ax=ax, order=self.linearized,
                            highlight=self.stuck, stuck_time=self.stuck_time, **kwargs)


def _when(op: Operation) -> str:
    end = "?" if op.return_time is None or op.indeterminate else f"{op.return_time:g}"
    return f"[{op.call_time:g}, {end}]"


def _check_budget(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")
    return value


def linearizable(
    history: History | Iterable[Operation],
    model: Any,
    *,
    budget: int = DEFAULT_BUDGET,
    max_cache: int = DEFAULT_MAX_CACHE,
) -> LinearizabilityResult:
    """Check that ``history`` is linearizable with respect to ``model``.

    Args:
        history: A :class:`~course_lib.history.History`, or its operations.
        model: ``"register"``, ``"kv"``, or a model object (see
            :mod:`course_lib.checkers.models`).
        budget: Most search steps to take over all partitions; when they run
            out before a violation is found the verdict is None (unknown).
        max_cache: Most (linearized set, state) pairs to remember at once,
            over all partitions being searched; this bounds memory. A
            partition that needs more is abandoned (its memory freed), the
            others go on, and the verdict is None unless one of them fails.

    Returns:
        A :class:`LinearizabilityResult`; ``valid`` is True, False or None.

    Raises:
        ValueError: If ``budget`` or ``max_cache`` is not a positive integer,
            ``model`` is an unknown name, or the model rejects an operation's
            function.
        TypeError: If ``model`` is not a model.

    Example::

        >>> from course_lib.history import History
        >>> h = History()
        >>> _ = h.invoke(0, "write", value=1); _ = h.ok(0)
        >>> _ = h.invoke(1, "read"); _ = h.ok(1, value=0)
        >>> linearizable(h, "register").valid
        False
    """
    budget = _check_budget("budget", budget)
    max_cache = _check_budget("max_cache", max_cache)
    model = resolve_model(model)
    name = model_name(model)
    describe = getattr(model, "describe", None)
    ops = history.operations() if isinstance(history, History) else list(history)
    for op in ops:
        if not isinstance(op, Operation):
            raise TypeError(f"history contains {op!r}, which is not an Operation")

    # A failed operation did not happen; an indeterminate read-only one
    # cannot be observed by anybody, so neither constrains the search.
    read_only = getattr(model, "read_only", None)
    live = [op for op in ops
            if op.status != "fail"
            and not (op.indeterminate and read_only is not None and read_only(op))]
    partition = getattr(model, "partition", None)
    groups = partition(live) if partition is not None else {None: live}

    searches = [_PartitionSearch(label, group, model) for label, group in groups.items()]
    common = dict(model=name, partitions=len(searches), _describe=describe)
    steps_left = budget
    cache_peak = 0
    active = [search for search in searches if search.verdict is None]
    unknown: list[_PartitionSearch] = []
    # Round-robin in fixed slices: like checking partitions in parallel and
    # stopping at the first failure (porcupine), but reproducible.
    while active and steps_left > 0:
        for search in list(active):
            others = sum(len(other.cache) for other in active) - len(search.cache)
            steps_left -= search.run(min(_SLICE, steps_left), max_cache - others)
            cache_peak = max(cache_peak, others + len(search.cache))
            if search.verdict is False:
                checked = sum(1 for s in searches if s.verdict is True)
                return _violation(search, model, budget - steps_left, cache_peak,
                                  checked, common)
            if search.verdict is True or search.out_of_cache:
                active.remove(search)
                if search.out_of_cache:
                    unknown.append(search)
                search.cache = set()  # release memory
            if steps_left <= 0:
                break
    checked = sum(1 for search in searches if search.verdict is True)
    steps = budget - steps_left
    if active or unknown:
        undecided = (unknown + active)[0]
        limit = (f"max_cache={max_cache}" if undecided.out_of_cache
                 else f"budget={budget}")
        return LinearizabilityResult(
            valid=None,
            reason=(f"Unknown: the search of partition {undecided.label!r} reached {limit}; "
                    f"{checked} of {len(searches)} partitions were decided linearizable "
                    "and none was found to fail."),
            partition=undecided.label, checked=checked, steps=steps,
            cache_peak=cache_peak, **common)
    return LinearizabilityResult(
        valid=True,
        reason=(f"Linearizable: all {len(searches)} partitions of {len(live)} operations "
                f"have a legal order ({steps} search steps)."),
        checked=len(searches), steps=steps, cache_peak=cache_peak,
        witness={search.label: tuple(search.order()) for search in searches}, **common)


def _violation(search: "_PartitionSearch", model: Any, steps: int, cache_peak: int,
               checked: int, common: dict) -> LinearizabilityResult:
    group = search.ops
    linearized, state, deadline = search.violation()
    done = {op.id for op in linearized}
    stuck = tuple(op for op in group
                  if op.id not in done and op.call_index < deadline.return_index)
    illegal = frozenset(op.id for op in stuck if not model.step(state, op)[0])
    return LinearizabilityResult(
        valid=False,
        reason=(f"Not linearizable: partition {search.label!r} has no legal order; "
                f"the longest linearizable prefix has {len(linearized)} of its "
                f"{len(group)} operations and gets stuck when {deadline} "
                f"returns at t={deadline.return_time:g}."),
        partition=search.label, checked=checked, steps=steps, cache_peak=cache_peak,
        operations=tuple(group), linearized=tuple(linearized), state=state,
        stuck=stuck, deadline=deadline, stuck_time=deadline.return_time,
        _illegal=illegal, **common)


# Instructions a built-in model can compile an operation to, so that the
# search applies it inline instead of calling model.step (3x fewer calls).
_GENERIC, _READ, _WRITE, _APPEND, _CAS = range(5)

_SLICE = 1024
"""Search steps a partition gets per turn of the round-robin."""


class _PartitionSearch:
    """A resumable search of one partition (Wing & Gong with Lowe's cache).

    Events are nodes of a doubly linked list in real-time order: node 0 is the
    head, operation ``i`` has call node ``2i+1`` and return node ``2i+2``, and
    node ``2n+1`` is the tail. An indeterminate operation's return node sits
    after every determinate one (its deadline is +infinity), so reaching one
    means every determinate operation is linearized.

    ``verdict`` is None while undecided, then True or False; ``out_of_cache``
    is set when the search needed more cache than it was allowed.
    """

    def __init__(self, label: Hashable, ops: Sequence[Operation], model: Any) -> None:
        self.label = label
        self.ops = ops
        self.model = model
        self.verdict: bool | None = None
        self.out_of_cache = False
        self.steps = 0
        n = len(ops)
        order = sorted(
            [(op.call_index, 2 * i + 1) for i, op in enumerate(ops)]
            + [(math.inf if op.indeterminate else op.return_index, 2 * i + 2)
               for i, op in enumerate(ops)])
        self.tail = tail = 2 * n + 1
        self.nxt = nxt = [0] * (2 * n + 2)
        self.prv = prv = [0] * (2 * n + 2)
        last = 0
        for _, node in order:
            nxt[last] = node
            prv[node] = last
            last = node
        nxt[last] = tail
        prv[tail] = last
        self.infinite = [False] * (2 * n + 2)
        # A read-only operation that is legal when reached can be linearized
        # at once without losing any solution: moving it earlier breaks no
        # real-time constraint (everything that returned before its call is
        # already linearized) and changes no state. So it is never a branch.
        self.greedy = [False] * (2 * n + 2)
        read_only = getattr(model, "read_only", None)
        compile_op = getattr(model, "_compile", None)
        self.code: list[tuple] = [(_GENERIC, None, None)] * (2 * n + 2)
        for i, op in enumerate(ops):
            self.infinite[2 * i + 2] = op.indeterminate
            if read_only is not None:
                self.greedy[2 * i + 1] = bool(read_only(op))
            if compile_op is not None:
                self.code[2 * i + 1] = compile_op(op) or (_GENERIC, None, None)
        self.state = model.init()
        self.linearized = 0
        self.cache = {(0, self.state)}
        self.calls: list[tuple[int, Any]] = []  # (call node, state before it)
        self.entry = nxt[0]
        self.best_len = -1
        self.best: tuple = ((), None, None)
        if self.entry == tail:
            self.verdict = True

    def run(self, max_steps: int, max_cache: int) -> int:
        """Search for at most ``max_steps`` steps with at most ``max_cache`` entries.

        Returns:
            The number of steps taken.
        """
        nxt, prv, tail = self.nxt, self.prv, self.tail
        infinite, greedy, code = self.infinite, self.greedy, self.code
        ops, step, cache, calls = self.ops, self.model.step, self.cache, self.calls
        state, linearized, entry = self.state, self.linearized, self.entry
        best_len = self.best_len
        steps = 0
        verdict = None
        while entry != tail:
            if steps >= max_steps:
                break
            steps += 1
            if entry & 1:  # a call node: try to linearize its operation now
                kind, a, b = code[entry]
                if kind == _READ:
                    ok, new_state = state == a, state
                elif kind == _APPEND:
                    ok, new_state = True, state + a
                elif kind == _WRITE:
                    ok, new_state = True, a
                elif kind == _CAS:
                    ok, new_state = state == a, b
                else:
                    ok, new_state = step(state, ops[entry >> 1])
                if ok:
                    new_linearized = linearized | (1 << (entry >> 1))
                    key = (new_linearized, new_state)
                    if key not in cache:
                        if len(cache) >= max_cache:
                            self.out_of_cache = True
                            break
                        cache.add(key)
                        calls.append((entry, state))
                        state = new_state
                        linearized = new_linearized
                        # lift: unlink the call node and its return node
                        p, q = prv[entry], nxt[entry]
                        nxt[p] = q
                        prv[q] = p
                        ret = entry + 1
                        p, q = prv[ret], nxt[ret]
                        nxt[p] = q
                        prv[q] = p
                        entry = nxt[0]
                        continue
                    if not greedy[entry]:
                        entry = nxt[entry]
                        continue
                    # a legal read leading to an explored configuration: dead end
                else:
                    entry = nxt[entry]
                    continue
            elif infinite[entry]:
                verdict = True  # only indeterminate operations are left: they may never happen
                break
            elif len(calls) > best_len:
                best_len = self.best_len = len(calls)
                self.best = (tuple(node for node, _ in calls), state, entry)
            # backtrack: undo the last choice, and the reads taken greedily after it
            while True:
                if not calls:
                    verdict = False
                    break
                entry, state = calls.pop()
                linearized ^= 1 << (entry >> 1)
                # unlift: relink the return node, then the call node
                ret = entry + 1
                p, q = prv[ret], nxt[ret]
                nxt[p] = ret
                prv[q] = ret
                p, q = prv[entry], nxt[entry]
                nxt[p] = entry
                prv[q] = entry
                if not greedy[entry]:
                    break
            if verdict is False:
                break
            entry = nxt[entry]
        else:
            verdict = True
        self.state, self.linearized, self.entry = state, linearized, entry
        self.steps += steps
        self.verdict = verdict
        return steps

    def order(self) -> list[Operation]:
        """Return the operations linearized so far, in order."""
        return [self.ops[node >> 1] for node, _ in self.calls]

    def violation(self) -> tuple[list[Operation], Any, Operation]:
        """Return the longest prefix, its final state and the deadline operation."""
        nodes, state, deadline = self.best
        return [self.ops[node >> 1] for node in nodes], state, self.ops[(deadline - 1) >> 1]
