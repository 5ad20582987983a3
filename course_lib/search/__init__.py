"""Explore every schedule of a small cluster: message orders, duplicates, crashes and restarts.

Random seeds find the bugs that happen often. A schedule search finds the ones
that happen in one schedule in a thousand: it starts from a fresh simulation
and tries every step that may happen next (deliver any message in flight, fire
any armed timer, and where you allow it deliver a message twice, crash a node,
restart it), checks every registered invariant after every step, and stops at
the first violation with the schedule that caused it::

    from course_lib.search import search

    def cluster():                      # a fresh simulation, invariants registered
        sim = Simulation(seed=0)
        sim.add_nodes(MyRaft, ["s1", "s2", "s3"])
        raft_invariants.register(sim)
        return sim

    result = search(cluster, max_depth=12)
    print(result)                       # what was covered, and the schedule if one broke
    result.draw()                       # the schedule replayed, as a space-time diagram

Breadth-first search (the default) finds the *shortest* failing schedule; it
remembers every state it has seen (by fingerprint, see
:mod:`course_lib.sim.control`) and never explores one twice. For spaces too big
for that, ``strategy="dfs"`` goes deep first within ``max_depth`` and
``strategy="random"`` runs seeded random walks, whose failing schedules are then
shrunk (steps removed while it still fails the same way).

Time is abstract in a search: timers fire in any order relative to messages,
whatever their delays (see :mod:`course_lib.sim.control` for what a search
does and does not model). A search is deterministic: the same simulation and
the same arguments explore the same states in the same order; ``time_limit``
(real seconds) only cuts a search short, and the result says so.
"""

from __future__ import annotations

import gc
import random
import time
from collections import deque
from contextlib import contextmanager
from typing import Any, Callable, Sequence

from ..sim import Simulation
from ..sim.control import Controlled, Saved, Step, steps_text
from ..sim.errors import InvariantViolation, ScenarioFailed, SimulationError
from ..sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_int,
                              check_number)

__all__ = ["search", "SearchResult", "Schedule", "Replay", "Step", "STRATEGIES"]

#: The search strategies.
STRATEGIES = ("bfs", "dfs", "random")


class Schedule(tuple):
    """A sequence of :class:`Step` s: what happened, in order. Prints as a numbered list."""

    def __str__(self) -> str:
        return steps_text(self) if self else "(no step: the initial state)"

    def replay(self, make_sim: Callable[[], Simulation], actions: Any = None) -> "Replay":
        """Run the schedule again on a fresh simulation from ``make_sim``, recording a full trace.

        Step ``k`` happens at simulated time ``k``. The replay stops at the first
        error (an invariant violation, a learner's exception) and keeps it.
        ``actions`` are the search's (needed when the schedule has action steps).

        Raises:
            InvalidArgument: a step is not possible in the replay (``make_sim`` builds a
                different simulation, or a node does something different the second time).
        """
        sim = _fresh(make_sim)
        error = None
        try:
            ctl = Controlled(sim, replay=True, actions=dict(_actions(actions)))
            for step in self:
                ctl.take(step)
        except InvalidArgument:
            raise
        except SimulationError as exc:
            error = exc
        return Replay(sim, self, error)


class Replay:
    """A schedule replayed: the simulation (with its trace) and the error it ended with, if any."""

    def __init__(self, sim: Simulation, schedule: Schedule, error: BaseException | None) -> None:
        self.sim = sim
        self.schedule = schedule
        self.error = error

    @property
    def trace(self) -> Any:
        """The replay's trace (step ``k`` at time ``k``)."""
        return self.sim.trace

    def draw(self, **kwargs: Any) -> Any:
        """Draw the replay as a space-time diagram (keyword arguments go to ``space_time``)."""
        from ..viz.spacetime import space_time
        kwargs.setdefault("title", _title(self.error))
        return space_time(self.sim, **kwargs)

    def __repr__(self) -> str:
        return f"<Replay of {len(self.schedule)} steps: {_title(self.error)}>"


class SearchResult:
    """What a search found and what it covered.

    Attributes:
        outcome: ``"violation"`` (a step broke an invariant or raised), ``"goal"``
            (a state satisfying ``goal`` was reached), ``"exhausted"`` (every state
            within ``max_depth`` explored, nothing found) or ``"limit"`` (stopped by
            ``max_states`` or ``time_limit`` before that).
        error: the violation or the learner's exception (``outcome == "violation"``).
        schedule: the :class:`Schedule` leading to it (or to the goal), else None.
        states: distinct states seen (the initial one included).
        steps: steps taken (transitions explored, duplicates of seen states included).
        depth: the deepest level reached.
        elapsed: real seconds the search took (reported, never used to decide anything but ``time_limit``).
    """

    def __init__(self, make_sim: Callable[[], Simulation], strategy: str, outcome: str,
                 error: BaseException | None, schedule: Schedule | None, states: int, steps: int,
                 depth: int, elapsed: float, max_depth: int, shrunk_from: int | None = None,
                 actions: tuple = ()) -> None:
        self.make_sim = make_sim
        self.actions = actions
        self.strategy = strategy
        self.outcome = outcome
        self.error = error
        self.schedule = schedule
        self.states = states
        self.steps = steps
        self.depth = depth
        self.elapsed = elapsed
        self.max_depth = max_depth
        self.shrunk_from = shrunk_from

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return self.outcome != "violation"

    @property
    def states_per_second(self) -> float:
        return self.states / self.elapsed if self.elapsed > 0 else float("inf")

    def replay(self) -> Replay:
        """The schedule replayed on a fresh simulation, with a full trace to read or draw."""
        if self.schedule is None:
            raise InvalidArgument(f"this search found no schedule to replay (outcome {self.outcome!r})")
        return self.schedule.replay(self.make_sim, self.actions)

    def draw(self, **kwargs: Any) -> Any:
        """Draw the schedule found, replayed, as a space-time diagram."""
        return self.replay().draw(**kwargs)

    def check(self, searched: str) -> "SearchResult":
        """Return this result, or raise :class:`ScenarioFailed` if the search found a violation.

        The message numbers the schedule's steps and says what was ``searched`` (for example
        "every schedule of 3 servers up to 7 steps"); the error's simulation is the schedule
        replayed, so ``.draw()`` draws it. What graded search scenarios end with.
        """
        if self.outcome != "violation":
            return self
        replay = self.replay()
        raise ScenarioFailed(f"a schedule of {len(self.schedule)} steps breaks it ({searched} was searched; "
                             f"timers fire in any order):\n{self.schedule}\n  -> {self.error}", replay.sim)

    def summary(self) -> str:
        covered = (f"{self.states} states, {self.steps} steps, depth {self.depth}"
                   f" of {self.max_depth}, {self.strategy}")
        if self.outcome == "violation":
            head = f"VIOLATION after {len(self.schedule or ())} steps: {_title(self.error)}"
        elif self.outcome == "goal":
            head = f"goal reached after {len(self.schedule or ())} steps"
        elif self.outcome == "exhausted":
            head = f"no violation: every state within depth {self.max_depth} explored"
        else:
            head = "no violation found before the search was cut short (max_states or time_limit)"
        shrunk = f" (shrunk from {self.shrunk_from} steps)" if self.shrunk_from else ""
        return f"{head}{shrunk}\n  covered: {covered}"

    def __str__(self) -> str:
        text = self.summary()
        if self.schedule is not None:
            text += "\n" + str(self.schedule)
        if self.error is not None:
            text += f"\n  -> {self.error}"
        return text

    def __repr__(self) -> str:
        return f"<SearchResult {self.outcome}: {self.states} states, depth {self.depth}>"


def search(make_sim: Callable[[], Simulation], *, strategy: str = "bfs", max_depth: int = 12,
           max_states: int = 200_000, time_limit: float | None = None, crashes: int = 0,
           restarts: bool = True, duplicates: int = 0,
           goal: Callable[[Simulation], Any] | None = None,
           prune: Callable[[Simulation], Any] | None = None, walks: int = 200, seed: int = 0,
           shrink: bool = True, actions: Any = (), start: Sequence[Step] | None = None) -> SearchResult:
    """Explore the schedules of the simulation ``make_sim()`` builds; stop at the first violation.

    Args:
        make_sim: builds a fresh simulation (nodes added, invariants registered,
            nothing run); called once for the search and again for each replay.
        strategy: ``"bfs"`` (shortest counterexample first), ``"dfs"``, or ``"random"`` walks.
        max_depth: the most steps in a schedule.
        max_states: stop after seeing this many distinct states.
        time_limit: stop after this many real seconds (None: no limit). Use the
            state and depth bounds in tests: they give the same result everywhere.
        crashes: the most node crashes in one schedule.
        restarts: whether a crashed node may restart (each restart is a step).
        duplicates: the most duplicate deliveries in one schedule.
        goal: ``goal(sim)`` true means the search found what it looked for (say,
            "a leader is elected"): it stops with outcome ``"goal"``.
        prune: ``prune(sim)`` true means: do not explore past this state.
        walks: how many random walks (``strategy="random"``).
        seed: the random walks' seed.
        shrink: shrink a random walk's failing schedule.
        actions: what a client does, in order: ``(label, call)`` pairs (or a dict),
            where ``call(node)`` is done at a node as if a handler ran there
            (``lambda node: node.start("x")`` submits a command). The next action
            not yet done may happen at any node that is up, as a step; so
            ``[("submit x", ...), ("submit y", ...)]`` explores every moment and
            every server a client could submit x, then y, to.
        start: search from the state this schedule leads to (a previous search's
            ``result.schedule``, say), not from the initial state: a long
            schedule is found in phases, each with its own ``goal``, as DSLabs'
            search tests do. Depth, budgets and ``max_depth`` count the new steps;
            the result's schedule is ``start`` followed by them.

    Raises:
        InvalidArgument: a bad argument (named, with its value).
    """
    check_callable("make_sim", make_sim, "make_sim()")
    if strategy not in STRATEGIES:
        raise InvalidArgument(f"strategy={strategy!r} must be one of {STRATEGIES}")
    check_int("max_depth", max_depth, low=0)
    check_int("max_states", max_states, low=1)
    if time_limit is not None:
        check_number("time_limit", time_limit, low=0, low_open=True, what="a positive number of seconds or None")
    check_int("crashes", crashes, low=0)
    check_int("duplicates", duplicates, low=0)
    if not isinstance(restarts, bool):
        raise InvalidArgumentType(f"restarts={restarts!r} must be True or False")
    if goal is not None:
        check_callable("goal", goal, "goal(sim)")
    if prune is not None:
        check_callable("prune", prune, "prune(sim)")
    check_int("walks", walks, low=1)
    check_int("seed", seed)
    actions = _actions(actions)
    if start is not None:
        if isinstance(start, (str, bytes)) or not isinstance(start, Sequence) \
                or not all(isinstance(step, Step) for step in start):
            raise InvalidArgumentType(f"start={start!r} must be a schedule (a sequence of Steps) or None")
    run = _Search(make_sim, strategy, max_depth, max_states, time_limit, crashes, restarts,
                  duplicates, goal, prune, actions, tuple(start or ()))
    if strategy == "random":
        return run.start(run.random_walks, walks, seed, shrink)
    return run.start(run.bfs if strategy == "bfs" else run.dfs)


# -- the engine ---------------------------------------------------------------------------------
class _Found(Exception):
    def __init__(self, outcome: str, path: list, error: BaseException | None = None) -> None:
        self.outcome, self.path, self.error = outcome, path, error


class _Search:
    def __init__(self, make_sim: Callable, strategy: str, max_depth: int, max_states: int,
                 time_limit: float | None, crashes: int, restarts: bool, duplicates: int,
                 goal: Callable | None, prune: Callable | None, actions: tuple = (),
                 start: tuple = ()) -> None:
        self.make_sim, self.strategy = make_sim, strategy
        self.actions, self.labels, self.prefix = actions, [label for label, _ in actions], start
        self.max_depth, self.max_states, self.time_limit = max_depth, max_states, time_limit
        self.crashes, self.restarts, self.duplicates = crashes, restarts, duplicates
        self.goal, self.prune = goal, prune
        self.steps = 0
        self.depth = 0
        self.started = time.perf_counter()

    # Budgets used so far travel with each state: (crashes, duplicates, actions done).
    def _choices(self, ctl: Controlled, used: tuple) -> list[Step]:
        labels = self.labels[used[2]:used[2] + 1]
        return ctl.choices(duplicates=used[1] < self.duplicates, crashes=used[0] < self.crashes,
                           restarts=self.restarts and self.crashes > 0, actions=labels)

    @staticmethod
    def _used(used: tuple, step: Step) -> tuple:
        if step.kind == "crash":
            return (used[0] + 1, used[1], used[2])
        if step.kind == "duplicate":
            return (used[0], used[1] + 1, used[2])
        if step.kind == "action":
            return (used[0], used[1], used[2] + 1)
        return used

    def _start(self) -> tuple[Controlled, Saved]:
        sim = _fresh(self.make_sim)
        try:
            ctl = Controlled(sim, actions=dict(self.actions))
            for step in self.prefix:
                ctl.take(step)
        except InvalidArgument as exc:
            if self.prefix:
                raise InvalidArgument(f"start: the schedule cannot be replayed on make_sim(): {exc}") from None
            raise
        except SimulationError as exc:  # the initial state already fails
            raise _Found("violation", [], exc) from None
        self.used0 = (0, 0, sum(1 for step in self.prefix if step.kind == "action"))
        return ctl, ctl.save()

    def start(self, method: Callable, *args: Any) -> SearchResult:
        try:
            ctl, root = self._start()
        except _Found as found:  # the initial state fails already
            return self._result(found.outcome, found.error, found.path, 1)
        with ctl.watchdog(), _young_collections_only():
            return method(ctl, root, *args)

    def _out_of_time(self) -> bool:
        return self.time_limit is not None and time.perf_counter() - self.started > self.time_limit

    def _step(self, ctl: Controlled, step: Step, path: Callable[[], list]) -> None:
        """Take one step; a violation or a learner's exception ends the search."""
        self.steps += 1
        if not self.steps & _COLLECT_EVERY:
            gc.collect(1)  # the young generations only: see _young_collections_only
        try:
            ctl.take(step)
        except SimulationError as exc:
            raise _Found("violation", path() + [step], exc) from None

    def _result(self, outcome: str, error: Any, path: list | None, states: int,
                shrunk_from: int | None = None) -> SearchResult:
        return SearchResult(self.make_sim, self.strategy, outcome, error,
                            None if path is None else Schedule(self.prefix + tuple(path)), states,
                            self.steps, self.depth, time.perf_counter() - self.started,
                            self.max_depth, shrunk_from, self.actions)

    def bfs(self, ctl: Controlled, root: Saved) -> SearchResult:
        parents: list[tuple[int, Step | None]] = [(-1, None)]

        def path_to(index: int) -> list:
            out = []
            while index > 0:
                index, step = parents[index]
                out.append(step)
            return out[::-1]

        try:
            used0 = self.used0
            seen = {hash((root.fingerprint, used0))}
            frontier = deque([(0, root, used0, 0)])
            if self.goal is not None and self.goal(ctl.sim):
                return self._result("goal", None, [], 1)
            while frontier:
                index, state, used, depth = frontier.popleft()
                if depth >= self.max_depth:
                    continue
                self.depth = max(self.depth, depth + 1)
                ctl.load(state)
                for step in self._choices(ctl, used):
                    ctl.load(state)
                    self._step(ctl, step, lambda i=index: path_to(i))
                    child_used = self._used(used, step)
                    key = hash((ctl.fingerprint(), child_used))
                    if key in seen:
                        continue
                    seen.add(key)
                    child = ctl.save()
                    parents.append((index, step))
                    child_index = len(parents) - 1
                    if self.goal is not None and self.goal(ctl.sim):
                        raise _Found("goal", path_to(child_index))
                    if len(seen) >= self.max_states or self._out_of_time():
                        return self._result("limit", None, None, len(seen))
                    if self.prune is not None and self.prune(ctl.sim):
                        continue
                    frontier.append((child_index, child, child_used, depth + 1))
            return self._result("exhausted", None, None, len(seen))
        except _Found as found:
            return self._result(found.outcome, found.error, found.path, len(seen))

    def dfs(self, ctl: Controlled, root: Saved) -> SearchResult:
        seen: dict[int, int] = {}
        try:
            used0 = self.used0
            seen[hash((root.fingerprint, used0))] = 0
            if self.goal is not None and self.goal(ctl.sim):
                return self._result("goal", None, [], 1)
            # Each frame: the state, budgets used, its path, the steps left to try from it.
            stack = [(root, used0, [], None)]
            while stack:
                state, used, path, todo = stack[-1]
                if todo is None:
                    ctl.load(state)
                    todo = list(reversed(self._choices(ctl, used))) if len(path) < self.max_depth else []
                    stack[-1] = (state, used, path, todo)
                if not todo:
                    stack.pop()
                    continue
                step = todo.pop()
                ctl.load(state)
                self._step(ctl, step, lambda p=path: list(p))
                child_used = self._used(used, step)
                key = hash((ctl.fingerprint(), child_used))
                depth = len(path) + 1
                self.depth = max(self.depth, depth)
                if seen.get(key, depth + 1) <= depth:
                    continue  # seen already at this depth or shallower
                seen[key] = depth
                child = ctl.save()
                if self.goal is not None and self.goal(ctl.sim):
                    raise _Found("goal", path + [step])
                if len(seen) >= self.max_states or self._out_of_time():
                    return self._result("limit", None, None, len(seen))
                if self.prune is not None and self.prune(ctl.sim):
                    continue
                stack.append((child, child_used, path + [step], None))
            return self._result("exhausted", None, None, len(seen))
        except _Found as found:
            return self._result(found.outcome, found.error, found.path, len(seen) or 1)

    def random_walks(self, ctl: Controlled, root: Saved, walks: int, seed: int, shrink: bool) -> SearchResult:
        rng = random.Random(f"search/{seed}")
        seen: set = set()
        try:
            seen.add(root.fingerprint)
            for _ in range(walks):
                ctl.load(root)
                used, path = self.used0, []
                for _depth in range(self.max_depth):
                    steps = self._choices(ctl, used)
                    if not steps:
                        break
                    step = steps[rng.randrange(len(steps))]
                    self._step(ctl, step, lambda p=path: list(p))
                    used = self._used(used, step)
                    path.append(step)
                    self.depth = max(self.depth, len(path))
                    seen.add(ctl.fingerprint())
                    if self.goal is not None and self.goal(ctl.sim):
                        raise _Found("goal", path)
                    if len(seen) >= self.max_states or self._out_of_time():
                        return self._result("limit", None, None, len(seen))
                    if self.prune is not None and self.prune(ctl.sim):
                        break
            return self._result("limit", None, None, len(seen))
        except _Found as found:
            if found.outcome != "violation" or not shrink or not found.path:
                return self._result(found.outcome, found.error, found.path, len(seen) or 1)
            path, error = _shrink(ctl, root, found.path, found.error)
            return self._result("violation", error, path, len(seen), shrunk_from=len(found.path))


#: Steps between two collections of the young generations during a search (a power of two, minus 1).
_COLLECT_EVERY = 4095


@contextmanager
def _young_collections_only() -> Any:
    """Run a search with Python's automatic garbage collection off; the search collects the two
    young generations itself every few thousand steps (:data:`_COLLECT_EVERY`).

    A search keeps every state it has seen, so the automatic collector kept scanning them all
    (its full collections) to find no garbage: a quarter of a search's time. What a step throws
    away is freed by reference counting; cycles a step makes are young and found by the
    periodic collections of the young generations."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _same_failure(a: BaseException, b: BaseException) -> bool:
    if isinstance(a, InvariantViolation) and isinstance(b, InvariantViolation):
        return a.name == b.name
    return type(a) is type(b)


def _failure(ctl: Controlled, root: Saved, steps: Sequence[Step]) -> BaseException | None:
    """Run ``steps`` from ``root``; return the error they end with, or None (also if one is impossible)."""
    ctl.load(root)
    for step in steps:
        try:
            ctl.take(step)
        except InvalidArgument:
            return None
        except SimulationError as exc:
            return exc
    return None


def _shrink(ctl: Controlled, root: Saved, path: list, error: BaseException) -> tuple[list, BaseException]:
    """Remove steps while the schedule still fails the same way (one at a time, to a fixed point)."""
    changed = True
    while changed:
        changed = False
        for i in range(len(path) - 1, -1, -1):
            candidate = path[:i] + path[i + 1:]
            got = _failure(ctl, root, candidate)
            if got is not None and _same_failure(got, error):
                path, error, changed = candidate, got, True
    return path, error


def _actions(actions: Any) -> tuple:
    """The ``actions`` argument as ``((label, call), ...)``, checked."""
    if actions is None:
        return ()
    pairs = list(actions.items()) if isinstance(actions, dict) else actions
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, (list, tuple)):
        raise InvalidArgumentType(f"actions={actions!r} must be (label, call) pairs or a dict")
    out, seen = [], set()
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InvalidArgumentType(f"actions: {pair!r} must be a (label, call) pair")
        label, call = pair
        if not isinstance(label, str) or not label:
            raise InvalidArgumentType(f"actions: label {label!r} must be a non-empty string")
        if label in seen:
            raise InvalidArgument(f"actions: label {label!r} appears twice (labels name the steps)")
        seen.add(label)
        check_callable(f"actions[{label!r}]", call, "call(node)")
        out.append((label, call))
    return tuple(out)


def _fresh(make_sim: Callable[[], Simulation]) -> Simulation:
    sim = make_sim()
    if not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"make_sim() returned {sim!r}: it must return a fresh Simulation")
    return sim


def _title(error: BaseException | None) -> str:
    if error is None:
        return "no error"
    if isinstance(error, InvariantViolation):
        return f"invariant {error.name!r} violated: {error.detail}"
    return f"{type(error).__name__}: {error}"
