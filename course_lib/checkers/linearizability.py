"""Decide whether a history is linearizable, and explain why not.

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
  before leads nowhere new, so it is skipped;
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

What a step and a remembered pair cost does not grow with the history's
length:

- A partition of up to 1,024 operations remembers its linearized set as a
  bitset. A longer one remembers it relative to the oldest determinate
  operation not yet linearized (all before it are): a bit per operation
  invoked before that one returned, and a bit per indeterminate operation
  of the partition. However long a register history from ten clients, a
  pair stays a couple of hundred bytes.
- The longest prefix found so far is a reference to the search's stack, not
  a copy; the result's operations, prefix and witness are built when first
  read.
- Partitions are prepared when their turn first comes, so an early
  violation spares the work on the others; preparing costs a couple of
  microseconds and, at its peak, about 600 bytes per operation, once.

Figures on the course's 2-core reference machine (CPython 3.11): 1 to 4
million steps a second (porcupine's c50-ok, 905,980 steps, in about 0.25 s;
a register history of 100,000 operations runs the default budget out in
about 4 s, peaking at 250 MB with the history's 100 MB), so the default
budget stops a hopeless search within a few seconds; 150 to 350 bytes per
remembered pair, stack included, plus each new model state (a key-value
string grows with its appends), so the default ``max_cache`` holds a few
hundred MB at most. ``benchmarks/bench_linearizability.py`` measures them
against the checker this one replaced (68 s and 5 GB on that history).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Hashable, Iterable, Sequence

from course_lib.checkers.models import (_APPEND, _CAS, _GENERIC, _READ, _WRITE, KVModel, RegisterModel,
                                       model_name, resolve_model)
from course_lib.history import Event, History, Operation
from course_lib.sim.validation import InvalidArgumentType, check_int

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
            order (what :func:`course_lib.viz.plot_violation` draws).
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
    state: Any = None
    stuck: tuple[Operation, ...] = ()
    deadline: Operation | None = None
    stuck_time: float | None = None
    _describe: Any = None
    _illegal: frozenset = frozenset()
    # operations, linearized and witness, or functions that build them: most
    # callers read only the verdict, and building them costs more than
    # checking a small history.
    _evidence: dict = field(default_factory=dict)

    def _built(self, name: str, empty: Any) -> Any:
        value = self._evidence.get(name, empty)
        if callable(value):
            value = self._evidence[name] = value()
        return value

    @property
    def operations(self) -> tuple[Operation, ...]:
        """The operations of the failing partition, in invocation order."""
        return self._built("operations", ())

    @property
    def linearized(self) -> tuple[Operation, ...]:
        """The longest linearizable prefix of the failing partition, in order."""
        return self._built("linearized", ())

    @property
    def witness(self) -> dict[Hashable, tuple[Operation, ...]]:
        """For a valid history, a legal order of each partition's operations."""
        return self._built("witness", {})

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


def _when(op: Operation) -> str:
    end = "?" if op.return_time is None or op.indeterminate else f"{op.return_time:g}"
    return f"[{op.call_time:g}, {end}]"


def linearizable(
    history: History | Iterable[Operation],
    model: Any,
    *,
    budget: int = DEFAULT_BUDGET,
    max_cache: int = DEFAULT_MAX_CACHE,
) -> LinearizabilityResult:
    """Check that ``history`` is linearizable with respect to ``model``.

    An operation invoked and never completed is indeterminate, like one that
    completed with ``info``: it may take effect at any point after its
    invocation, or never. An empty history (or one whose operations all
    failed) is linearizable, with no partition.

    Args:
        history: A :class:`~course_lib.history.History`, or its operations.
        model: ``"register"``, ``"kv"``, or a model object (see
            :mod:`course_lib.checkers.models`).
        budget: Most search steps to take over all partitions; when they run
            out before a violation is found the verdict is None (unknown).
            Each step costs about the same however long the history is (see
            the module's figures).
        max_cache: Most (linearized set, state) pairs to remember at once,
            over all partitions being searched, the starting pair of each
            included; this bounds memory. A partition that needs more is
            abandoned (its memory freed), the others go on, and the verdict
            is None unless one of them fails.

    Returns:
        A :class:`LinearizabilityResult`; ``valid`` is True, False or None.

    Raises:
        InvalidArgument: If ``budget`` or ``max_cache`` is not an int >= 1,
            ``model`` is an unknown name, or the model rejects an operation
            (its function, or its value) (a ValueError).
        InvalidArgumentType: If ``budget`` or ``max_cache`` is not an int,
            ``model`` is not a model or breaks its contract (a step that
            does not return ``(ok, new_state)``, a state that is not
            hashable), or ``history`` is not a History or an iterable of
            Operations (a TypeError).

    Example::

        >>> from course_lib.history import History
        >>> h = History()
        >>> _ = h.invoke(0, "write", value=1); _ = h.ok(0)
        >>> _ = h.invoke(1, "read"); _ = h.ok(1, value=0)
        >>> linearizable(h, "register").valid
        False
    """
    budget = check_int("budget", budget, low=1)
    max_cache = check_int("max_cache", max_cache, low=1)
    model = resolve_model(model)
    name = model_name(model)
    describe = getattr(model, "describe", None)
    ops = _records(history, model)

    # A failed operation did not happen; an indeterminate read-only one
    # cannot be observed by anybody, so neither constrains the search.
    read_only = getattr(model, "read_only", None)
    if read_only is None:
        live = [op for op in ops if op.status != "fail"]
    else:
        live = [op for op in ops if op.status != "fail"
                and not ((op.status is None or op.status == "info") and read_only(op))]
    partition = getattr(model, "partition", None)
    groups = partition(live) if partition is not None else {None: live}
    labels = list(groups)
    members = list(groups.values())

    common = dict(model=name, partitions=len(labels), _describe=describe)
    searches: list[_PartitionSearch | None] = [None] * len(labels)
    # Partitions still undecided, by position; each is prepared when its turn
    # first comes, so a violation early on spares the work on the others.
    active = [k for k, group in enumerate(members) if group]
    checked = len(members) - len(active)  # an empty partition is trivially linearizable
    held = len(active)  # remembered pairs of the active partitions (one each to start)
    steps_left = budget
    cache_peak = 0
    unknown: list[_PartitionSearch] = []
    # Round-robin in fixed slices: like checking partitions in parallel and
    # stopping at the first failure (porcupine), but reproducible.
    while active and steps_left > 0:
        still = []
        for turn, k in enumerate(active):
            search = searches[k]
            if search is None:
                search = searches[k] = _PartitionSearch(labels[k], members[k], model)
            others = held - len(search.cache)
            steps_left -= search.run(min(_SLICE, steps_left), max_cache - others)
            held = others + len(search.cache)
            cache_peak = max(cache_peak, held)
            if search.verdict is False:
                return _violation(search, model, budget - steps_left, cache_peak, checked,
                                  common)
            if search.verdict is True or search.out_of_cache:
                held = others
                search.release()
                if search.out_of_cache:
                    unknown.append(search)
                else:
                    checked += 1
            else:
                still.append(k)
            if steps_left <= 0:
                still.extend(active[turn + 1:])
                break
        active = still
    steps = budget - steps_left
    if active or unknown:
        if unknown:
            label, limit = unknown[0].label, f"max_cache={max_cache}"
        else:
            label, limit = labels[active[0]], f"budget={budget}"
        return LinearizabilityResult(
            valid=None,
            reason=(f"Unknown: the search of partition {label!r} reached {limit}; "
                    f"{checked} of {len(labels)} partitions were decided linearizable "
                    "and none was found to fail."),
            partition=label, checked=checked, steps=steps,
            cache_peak=cache_peak, **common)
    orders = [(labels[k], members[k], () if searches[k] is None else searches[k].order)
              for k in range(len(labels))]
    return LinearizabilityResult(
        valid=True,
        reason=(f"Linearizable: all {len(labels)} partitions of {len(live)} operations "
                f"have a legal order ({steps} search steps)."),
        checked=len(labels), steps=steps, cache_peak=cache_peak,
        _evidence={"witness": lambda: {label: tuple(_operation(group[node - 1])
                                                    for node in order)
                                       for label, group, order in orders}},
        **common)


class _Call(namedtuple("_Call", [
        "id", "process", "f", "key", "value", "output", "call_time", "return_time",
        "status", "call_index", "return_index"])):
    """An operation as the search needs it: an Operation's fields, 5x cheaper to make.

    :meth:`History.operations` builds each Operation twice (at its invoke and
    at its completion), which costs more than checking a small history; the
    checker pairs the events itself and makes Operations only for the result.
    """

    __slots__ = ()

    @property
    def indeterminate(self) -> bool:
        return self.status is None or self.status == "info"


def _operation(op: Any) -> Operation:
    """Return ``op`` as an :class:`Operation` (it may be a :class:`_Call`)."""
    if isinstance(op, Operation):
        return op
    return Operation(id=op.id, process=op.process, f=op.f, key=op.key, value=op.value,
                     output=op.output, call_time=op.call_time, return_time=op.return_time,
                     status=op.status, call_index=op.call_index, return_index=op.return_index)


def _records(history: Any, model: Any) -> Sequence[Any]:
    """Return the history's operations in invocation order, as Operations or _Calls.

    _Calls go only to the built-in models, whose methods read plain fields; a
    learner's model gets real Operations.
    """
    if isinstance(history, History):
        if type(model) not in (RegisterModel, KVModel):
            return history.operations()
        ops: list = []
        open_ops: dict = {}
        make = tuple.__new__  # _Call(...) goes through a Python-level __new__: 3x slower
        for index, event in enumerate(history):
            if event.type == "invoke":
                open_ops[event.process] = (len(ops), index, event)
                ops.append(None)
            else:
                i, call_index, call = open_ops.pop(event.process)
                ops[i] = make(_Call, (i, call.process, call.f, call.key, call.value, event.value,
                                      call.time, event.time, event.type, call_index, index))
        for i, call_index, call in open_ops.values():
            ops[i] = make(_Call, (i, call.process, call.f, call.key, call.value, None,
                                  call.time, None, None, call_index, None))
        return ops
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise InvalidArgumentType(f"history={history!r} must be a History or an iterable "
                                  "of Operations (such as history.operations())")
    ops = list(history)
    for position, op in enumerate(ops):
        if not isinstance(op, Operation):
            hint = " (pass the History itself, not its events)" if isinstance(op, Event) else ""
            raise InvalidArgumentType(f"history holds {op!r} at position {position}, which "
                                      f"is not an Operation{hint}")
    return ops


def _check_hashable(model: Any, call: str, state: Any) -> None:
    """Raise naming the model if ``state``, returned by ``call``, cannot be remembered."""
    try:
        hash(state)
    except TypeError:
        raise InvalidArgumentType(
            f"model {model_name(model)!r}: {call} returned the state {state!r}, which is not "
            "hashable; checkers remember states, so use tuples, frozensets or strings") from None


def _no_compile(op: Any) -> None:
    """Compile nothing: a model without ``_compile`` is applied with its step."""
    return None


def _nodes(calls: tuple | None) -> list[int]:
    """Return the call nodes on a search stack, bottom first."""
    nodes = []
    while calls is not None:
        nodes.append(calls[0])
        calls = calls[3]
    nodes.reverse()
    return nodes


def _violation(search: "_PartitionSearch", model: Any, steps: int, cache_peak: int,
               checked: int, common: dict) -> LinearizabilityResult:
    group = search.ops
    calls, state, deadline_node = search.best
    prefix = [group[node - 1] for node in _nodes(calls)]
    deadline = _operation(group[deadline_node - search.span - 1])
    search.release()  # before building the result: the cache may be large
    done = {op.id for op in prefix}
    stuck = tuple(_operation(op) for op in group
                  if op.id not in done and op.call_index < deadline.return_index)
    illegal = frozenset(op.id for op in stuck if not model.step(state, op)[0])
    return LinearizabilityResult(
        valid=False,
        reason=(f"Not linearizable: partition {search.label!r} has no legal order; "
                f"the longest linearizable prefix has {len(prefix)} of its "
                f"{len(group)} operations and gets stuck when {deadline} "
                f"returns at t={deadline.return_time:g}."),
        partition=search.label, checked=checked, steps=steps, cache_peak=cache_peak,
        state=state, stuck=stuck, deadline=deadline, stuck_time=deadline.return_time,
        _illegal=illegal,
        _evidence={"operations": lambda: tuple(map(_operation, group)),
                   "linearized": lambda: tuple(map(_operation, prefix))},
        **common)


# Instructions a built-in model can compile an operation to (see its
# _compile), so that the search applies it inline instead of calling
# model.step.
_END = _CAS + 1  # after the models' own operation codes
_GENERIC_CODE = (_GENERIC, None, None)
_END_CODE = (_END, None, None)  # the tail's: every determinate operation is linearized
_INDETERMINATE = frozenset({None, "info"})  # the statuses of an indeterminate operation
_NOT_A_READ = object()

_SLICE = 1024
"""Search steps a partition gets per turn of the round-robin."""

_SMALL = 1024
"""Most operations in a partition whose linearized sets are plain bitsets."""

_POWERS = [1 << i for i in range(_SMALL)]


class _PartitionSearch:
    """A resumable search of one partition (Wing & Gong with Lowe's cache).

    Events are nodes of a doubly linked list in real-time order: node 0 is the
    head, operation ``i`` has call node ``i+1`` and return node ``i+n+2``, and
    node ``n+1`` is the tail, so that the nodes up to the tail are call nodes
    and those after it return nodes (comparing small ints is cheaper than
    testing a bit). An indeterminate operation may take effect after every determinate
    one or never, so its return node is parked after the tail, where the
    search never goes: reaching the tail means every determinate operation is
    linearized, and the history is. (The tail is a call node whose
    instruction says so, which costs the other steps nothing.)

    A configuration (a remembered pair) is ``(bits, state)`` in a partition
    of up to ``_SMALL`` operations: ``bits`` has bit ``i`` set if operation
    ``i`` is linearized. In a longer one it is ``(rel, low, ind, state)``:
    ``low`` counts the determinate operations (in invocation order) before
    the oldest one not linearized, all linearized; ``rel`` is the bitset of
    linearized determinate operations from ``low`` on (bit 0 is ``low``
    itself, so it is clear); ``ind`` is the bitset of linearized
    indeterminate operations. Every linearized determinate operation was
    invoked before the oldest pending one returned, so ``rel`` has a bit per
    operation concurrent with that one, whatever the history's length. Both
    forms are canonical: equal sets, equal configurations.

    The stack of choices is a chain of ``(call node, configuration before
    it, state before it, rest, neighbours of the call and return nodes)``
    tuples: popping one undoes a lift without looking anything up, and the
    longest prefix is remembered by reference.

    ``verdict`` is None while undecided, then True or False; ``out_of_cache``
    is set when the search needed more cache than it was allowed.
    """

    def __init__(self, label: Hashable, ops: Sequence[Any], model: Any) -> None:
        self.label = label
        self.ops = ops
        self.model = model
        self.verdict: bool | None = None
        self.out_of_cache = False
        self.order: list[int] = []  # call nodes in linearization order, once valid
        n = len(ops)
        size = 2 * n + 2
        self.tail = tail = n + 1
        self.span = span = n + 1  # from a call node to its return node
        shift = size.bit_length()
        late = 1 << 62 << shift  # after every event: an indeterminate return
        keys: list[int] = []
        add = keys.append
        # The instruction of each operation, the value a read must see
        # (_NOT_A_READ if it is not a compiled read), and whether it is
        # read-only. A read-only operation that is legal when reached can be
        # linearized at once without losing any solution: moving it earlier
        # breaks no real-time constraint (everything that returned before its
        # call is already linearized) and changes no state. So it is never a
        # branch.
        self.code = code = [_GENERIC_CODE] * size
        code[tail] = _END_CODE
        self.expect = expect = [_NOT_A_READ] * size
        self.greedy = greedy = [False] * size
        compile_op = getattr(model, "_compile", None) or _no_compile
        # A built-in model's read_only(op) is "op is a read", and every read
        # left (an ok one: an indeterminate read is dropped) compiles to _READ.
        builtin = type(model) in (RegisterModel, KVModel)
        # A small partition's linearized set is a plain bitset (one bit per
        # operation, at most _SMALL bits): cheaper per step than the relative
        # form, which a longer one needs to keep the cost of a step bounded.
        small = n <= _SMALL
        # per call node: the operation's rank among the determinate ones, or
        # ~rank among the indeterminate ones (see the class docstring)
        self.rank = rank = [0] * size
        determinate = indeterminate = 0
        node = 1  # operation i's call node
        for op in ops:
            add(op.call_index << shift | node)
            if op.status in _INDETERMINATE:
                add(late | (node + span))
                if not small:
                    rank[node] = ~indeterminate
                indeterminate += 1
            else:
                add(op.return_index << shift | (node + span))
                if not small:
                    rank[node] = determinate
                    determinate += 1
            compiled = compile_op(op)
            if compiled is not None:
                code[node] = compiled
                if compiled[0] == _READ:
                    expect[node] = compiled[1]
                    greedy[node] = builtin
            node += 1
        read_only = getattr(model, "read_only", None)
        if read_only is not None and not builtin:
            greedy[1:n + 1] = [read_only(op) for op in ops]
        keys.sort()
        mask = (1 << shift) - 1
        path = [key & mask for key in keys]
        path.insert(len(path) - indeterminate, tail)
        self.nxt = nxt = [0] * size
        self.prv = prv = [0] * size
        last = 0
        for node in path:
            nxt[last] = node
            prv[node] = last
            last = node
        if small:
            self.bits = [0] * size
            self.bits[1:n + 1] = _POWERS[:n]
        else:
            self.bits = None
        self.made: dict[int, Operation] = {}  # Operations built for model.step
        init = model.init()
        _check_hashable(model, "init()", init)
        start = (0, init) if self.bits is not None else (0, 0, 0, init)
        self.config = start
        self.state = init
        self.cache = {start}
        self.calls: tuple | None = None
        self.depth = 0
        self.entry = nxt[0]
        self.best_len = -1
        self.best: tuple = (None, init, None)

    def _apply(self, node: int, state: Any) -> tuple[bool, Any]:
        """Apply call ``node``'s operation to ``state`` with the model's step."""
        op = self.made.get(node)
        if op is None:
            op = self.made[node] = _operation(self.ops[node - 1])
        result = self.model.step(state, op)
        try:
            ok, after = result
        except (TypeError, ValueError):
            raise InvalidArgumentType(
                f"model {model_name(self.model)!r}: step(state, {op}) returned {result!r}; it "
                "must return (ok, new_state)") from None
        return ok, after

    def _diagnose(self, node: int, state: Any) -> None:
        """Raise a named error if the operation at ``node`` breaks the model's contract.

        Called when the search meets a TypeError: the model's own step says
        what is wrong with the operation (an append to a value that is not a
        string, say), or returns something that is not a pair, or a state that
        cannot be remembered. Returns if none of these is the cause.
        """
        if node >= self.tail:  # a return node, or the tail
            return
        ok, after = self._apply(node, state)  # raises the model's own error, if any
        _check_hashable(self.model, f"step(state, {self.made[node]})", after)

    def release(self) -> None:
        """Free the memory of a finished search (what the result needs stays)."""
        self.cache = set()
        self.nxt = self.prv = self.code = self.expect = self.greedy = self.rank = []
        self.bits = self.config = None
        if self.verdict is True:  # keep the witness, not the stack's configurations
            self.order = _nodes(self.calls)
        self.calls = None

    def run(self, max_steps: int, max_cache: int) -> int:
        """Search for at most ``max_steps`` steps with at most ``max_cache`` entries.

        Returns:
            The number of steps taken.
        """
        nxt, prv = self.nxt, self.prv
        expect, code, greedy, rank, bits = (self.expect, self.code, self.greedy, self.rank,
                                            self.bits)
        small = bits is not None
        apply, cache, remember = self._apply, self.cache, self.cache.add
        tail, span, not_a_read = self.tail, self.span, _NOT_A_READ
        returns = tail + 1  # the first return node
        write, append, cas, end = _WRITE, _APPEND, _CAS, _END
        config, calls, depth, entry, state = (self.config, self.calls, self.depth, self.entry,
                                              self.state)
        remembered = len(cache)
        best_len = self.best_len
        verdict = None
        uncounted = 0
        # repeat() counts the steps (its length hint says how many are left)
        # at no cost per step.
        budget = repeat(None, max_steps)
        # A TypeError can only come from a model breaking its contract (a step
        # that returns no pair, a state that cannot be remembered, an append to
        # a value that is no string): the try costs nothing until then.
        try:
            for _ in budget:
                expected = expect[entry]
                if expected is not not_a_read:  # the call node of a read
                    if not state == expected:
                        entry = nxt[entry]  # it reads another value: not now (the commonest step)
                        continue
                    after = state
                elif entry < returns:  # another call node: try to linearize its operation
                    kind, a, b = code[entry]
                    if kind == append:
                        after = state + a
                    elif kind == write:
                        after = a
                    elif kind == cas:
                        if not state == a:
                            entry = nxt[entry]
                            continue
                        after = b
                    elif kind == end:
                        # Only indeterminate operations are left: they may never
                        # happen. (Reaching the tail is a step only when one is
                        # left, for the step counts to stay those of the search
                        # that kept their return nodes before the tail.)
                        if nxt[tail] == 0:
                            uncounted = 1
                        verdict = True
                        break
                    else:
                        ok, after = apply(entry, state)
                        if not ok:
                            entry = nxt[entry]
                            continue
                else:  # the return node of a pending operation: too late, go back
                    if depth > best_len:
                        best_len = self.best_len = depth
                        self.best = (calls, state, entry)
                    # backtrack: undo the last choice, and the reads taken greedily after it
                    while calls is not None:
                        entry, config, state, calls, p, q, r, t = calls
                        depth -= 1
                        # unlift: relink the return node, then the call node
                        nxt[r] = prv[t] = entry + span
                        nxt[p] = prv[q] = entry
                        if not greedy[entry]:
                            break
                    else:
                        verdict = False
                        break
                    entry = nxt[entry]
                    continue
                # lift, unless the configuration it leads to was explored already
                if small:
                    key = (config[0] | bits[entry], after)
                else:
                    rel, low, ind, _ = config
                    d = rank[entry]
                    if d > low:
                        key = (rel | (1 << (d - low)), low, ind, after)
                    elif d == low:  # the oldest pending one: move low past the linearized run
                        if rel & 2:
                            r = rel | 1
                            t = (r ^ (r + 1)).bit_length() - 1
                            key = (r >> t, low + t, ind, after)
                        else:
                            key = (rel >> 1, low + 1, ind, after)
                    else:  # an indeterminate operation
                        key = (rel, low, ind | (1 << ~d), after)
                if key not in cache:
                    if remembered >= max_cache:
                        self.out_of_cache = True
                        break
                    remember(key)
                    remembered += 1
                    # unlink the call node and its return node
                    p, q = prv[entry], nxt[entry]
                    nxt[p] = q
                    prv[q] = p
                    ret = entry + span
                    r, t = prv[ret], nxt[ret]
                    nxt[r] = t
                    prv[t] = r
                    # (the neighbours are kept for relinking: the stack undoes
                    # unlinks in reverse order, so they are still the neighbours)
                    calls = (entry, config, state, calls, p, q, r, t)
                    config = key
                    state = after
                    depth += 1
                    entry = nxt[0]
                    continue
                if not greedy[entry]:
                    entry = nxt[entry]
                    continue
                # A legal read leading to an explored configuration: a dead end.
                # Backtrack as above (no longer prefix can be found here).
                while calls is not None:
                    entry, config, state, calls, p, q, r, t = calls
                    depth -= 1
                    nxt[r] = prv[t] = entry + span
                    nxt[p] = prv[q] = entry
                    if not greedy[entry]:
                        break
                else:
                    verdict = False
                    break
                entry = nxt[entry]
            else:
                if entry == tail and nxt[tail] == 0:
                    verdict = True
        except TypeError:
            self._diagnose(entry, state)
            raise
        self.config, self.calls, self.depth, self.entry = config, calls, depth, entry
        self.state = state
        self.verdict = verdict
        return max_steps - budget.__length_hint__() - uncounted
