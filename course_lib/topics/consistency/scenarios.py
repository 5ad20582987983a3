"""Chapter 01's exercise scenarios: session guarantees on the AP register, and a majority-quorum register.

They only drive and observe the learner's code: the session's enforcement
logic (Part A) and the majority-quorum replica (Part B) are the learner's,
and live only in the exercise.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from ...checkers import CHECKERS, linearizable
from ...checkers.linearizability import DEFAULT_BUDGET, LinearizabilityResult
from ...history import History
from ...sim import Constant, Message, Node, Simulation
from ...sim.errors import ScenarioFailed
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_choice, check_int,
                               check_positive, check_probability, check_type)
from .client import RegisterClient
from .metrics import first_violation
from .replicas import AsyncReplica
from .workload import Clients, Faults, RegisterRun, run_workload


_GUARANTEES = ("read your writes", "monotonic reads", "monotonic writes", "writes follow reads")

#: The linearizability checker's budget of search steps for a run's history, and the larger one it
#: gets when the first runs out ("unknown" is not a verdict: it must not fail a correct replica).
CHECK_BUDGET = DEFAULT_BUDGET
RETRY_BUDGET = 8 * DEFAULT_BUDGET


def _linearizability(run: RegisterRun) -> LinearizabilityResult | None:
    """The checker's verdict on ``run``'s history, or None when it cannot decide (and says so).

    The history is already checked key by key (each key is a partition of its
    own). When the search runs out of ``CHECK_BUDGET`` steps it is run again
    with ``RETRY_BUDGET``; if that is not enough either, the run is not held
    against the replica, and a note (on stdout, so a grader still counts the
    test) says which run was left undecided and why.
    """
    verdict = linearizable(run.history, "register", budget=CHECK_BUDGET)
    if verdict.valid is None:
        verdict = linearizable(run.history, "register", budget=RETRY_BUDGET)
        if verdict.valid is None:
            print(f"note: seed {run.sim.seed!r}: the linearizability checker could not decide this "
                  f"history within {RETRY_BUDGET:,} search steps ({verdict.reason}); this run is "
                  "not held against your replica")
            return None
    return verdict


def _not_linearizable(run: RegisterRun, verdict: LinearizabilityResult, what: str) -> ScenarioFailed:
    """The failure of a history that is not linearizable: its picture draws the history, the
    operations no order could place in red."""
    when = first_violation(run.history)
    where = f" from t={when:g}" if when is not None else ""
    return ScenarioFailed(f"{what}{where}: {verdict.explain().splitlines()[0]}", run.sim,
                          history=run.history, operations=verdict.stuck)


def _check_size(max_events: Any, **sizes: int) -> None:
    """Refuse a cluster too big for ``max_events`` before building it (each node is started once)."""
    check_int("max_events", max_events, low=1)
    for name, size in sizes.items():
        if size > max_events:
            raise InvalidArgument(f"{name}={size} nodes cannot start within max_events={max_events} "
                                  "events; pass a larger max_events")


def session_run(session: Callable[[], Any] | None, seed: int | str, *, replicas: int = 3,
                route: str = "random", clients: int = 6, duration: float = 100.0,
                loss: float = 0.0, duplicate: float = 0.0, reorder: float = 0.0,
                partition: bool = True, crash: bool = False, keys: Sequence[Any] = ("x",),
                read_fraction: float = 0.6, think: tuple[float, float] = (1.0, 4.0),
                max_events: int = 2_000_000) -> RegisterRun:
    """Run mobile clients, each with its own ``session()``, against the AP register under faults.

    Every client sends each operation to a replica chosen by ``route``
    (``"random"`` or ``"rotate"``), so consecutive operations of one client
    land on replicas that may not have heard of each other's writes. Faults
    hit the links between replicas: ``loss``, ``duplicate``, ``reorder``; with
    ``partition``, a random minority of replicas is cut off from the others
    from 15% to 75% of ``duration``; with ``crash``, a random replica is down
    from 30% to 50%. Links between clients and replicas are fast and never
    lose or hold back messages: a write whose ``write_ok`` is lost, or which
    arrives after the client gave up, takes effect with a version its session
    never learns, and no token can protect what the session does not know.

    Args:
        session: the session class (one instance per client), or None for
            clients without sessions (the "before" picture).
        seed: the simulation's seed.
        replicas: the number of AsyncReplica replicas (>= 2).
        route: ``"random"`` or ``"rotate"``.
        clients: the number of clients (>= 1).
        duration: clients stop issuing operations then; the run settles 20 more.
        loss, duplicate, reorder: faults of the links between replicas.
        partition, crash: the faults described above.
        keys: the register's keys.
        read_fraction, think: the clients' workload (see :class:`~.workload.Clients`).
        max_events: the run's budget of events (see :func:`run_workload`).

    Returns:
        The :class:`RegisterRun`.

    Raises:
        InvalidArgument: an argument is out of range (named in the message).

    Example:
        >>> run = session_run(None, seed=1)
        >>> from course_lib.checkers import read_your_writes
        >>> read_your_writes(run.history).valid
        False
    """
    if session is not None and not callable(session):
        raise InvalidArgumentType(f"session={session!r} must be a class (called once per client) or None")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replicas = check_int("replicas", replicas, low=2)
    clients = check_int("clients", clients, low=1)
    check_choice("route", route, ("random", "rotate"))
    duration = check_positive("duration", duration)
    for name, flag in (("partition", partition), ("crash", crash)):
        check_type(name, flag, bool, what="True or False")
    _check_size(max_events, replicas=replicas, clients=clients)
    ids = [f"n{i + 1}" for i in range(replicas)]
    planner = random.Random(f"{seed}/session-faults")  # as sim.rng_for: from the seed only
    far = planner.sample(ids, max(1, (replicas - 1) // 2))
    victim = ids[planner.randrange(replicas)]
    loss = check_probability("loss", loss)

    def faults(sim: Simulation) -> None:
        for client in sim.nodes:
            if client not in ids:
                for replica in ids:
                    sim.network.set_link(client, replica, loss=0.0, reorder=0.0, both_ways=True)
        if crash:
            sim.nemesis.crash(victim, at=0.3 * duration, restart_at=0.5 * duration)

    per_replica, extra = divmod(clients, replicas)
    run = run_workload(AsyncReplica, seed=seed, replicas=ids, duration=duration, settle=20.0,
                       clients=Clients(per_replica=max(1, per_replica), route=route, session=session,
                                       think=think, read_fraction=read_fraction, keys=keys),
                       faults=Faults(partition=(0.15 * duration, 0.75 * duration) if partition else None,
                                     cut_off=far, loss=loss, duplicate=duplicate, reorder=reorder,
                                     schedule=faults),
                       max_events=max_events)
    return run


_SESSION_RUN_OPTIONS = ("replicas", "route", "clients", "duration", "loss", "duplicate", "reorder",
                        "partition", "crash", "keys", "read_fraction", "think", "max_events")


def session_scenario(session: Callable[[], Any], seed: int | str, *,
                     guarantees: Sequence[str] = ("read your writes", "monotonic reads"),
                     min_availability: float = 0.8, **options: Any) -> RegisterRun:
    """Run :func:`session_run` with ``session`` and check the session guarantees on the history.

    Checks that every guarantee in ``guarantees`` holds (judged by
    :mod:`course_lib.checkers.session`), and that at least ``min_availability``
    of the operations succeeded (a session that refuses every answer keeps
    its guarantees by never answering).

    Args:
        session: the session class (one instance per client).
        seed: the simulation's seed.
        guarantees: names of guarantees, among ``"read your writes"``,
            ``"monotonic reads"``, ``"monotonic writes"``, ``"writes follow reads"``.
        min_availability: the least share of operations that must succeed.
        **options: passed to :func:`session_run` (faults, routes, sizes).

    Returns:
        The run, after a successful check.

    Raises:
        ScenarioFailed: a guarantee is violated, or too few operations succeeded.
        InvalidArgument: a guarantee's name is unknown, or another bad argument
            or option (named in the message).
    """
    if isinstance(guarantees, str):
        guarantees = [guarantees]
    if not isinstance(guarantees, Iterable):
        raise InvalidArgumentType(f"guarantees={guarantees!r} must be a list of guarantee names, among "
                                  f"{list(_GUARANTEES)}")
    guarantees = list(guarantees)
    if not guarantees:
        raise InvalidArgument(f"guarantees=[] must name at least one of {list(_GUARANTEES)}")
    for name in guarantees:
        if not isinstance(name, str) or name not in _GUARANTEES:
            raise InvalidArgument(f"guarantees contains {name!r}; choose among {list(_GUARANTEES)}")
    if session is None or not callable(session):
        raise InvalidArgumentType(f"session={session!r} must be your session class")
    for name, value in options.items():
        if name not in _SESSION_RUN_OPTIONS:
            raise InvalidArgumentType(f"{name}={value!r} is not an option of session_scenario; options "
                                      f"(passed to session_run) are {', '.join(_SESSION_RUN_OPTIONS)}")
    min_availability = check_probability("min_availability", min_availability)
    run = session_run(session, seed, **options)
    for name in guarantees:
        verdict = CHECKERS[name](run.history)
        if not verdict.valid:
            first = verdict.violations[0]
            raise ScenarioFailed(
                f"{name} is violated {len(verdict.violations)} times; the first: {first.message} "
                f"(t={first.ops[-1].call_time:g})", run.sim, history=run.history, operations=first.ops)
    ops = run.history.operations()
    ok = sum(op.status == "ok" for op in ops)
    if not ops or ok / len(ops) < min_availability:
        rejected = len(run.sim.trace.custom("session_reject"))
        raise ScenarioFailed(
            f"only {ok} of {len(ops)} operations succeeded (at least {min_availability:.0%} must); "
            f"sessions rejected {rejected} answers: does accept_read refuse answers that are fresh "
            "enough, or a write get a version its own session cannot accept?", run.sim,
            history=run.history, operations=[op for op in ops if op.status != "ok"])
    return run


def quorum_scenario(cls: type, seed: int | str, *, replicas: int = 3, loss: float = 0.0,
                    duplicate: float = 0.0, reorder: float = 0.0, partition: bool = True,
                    one_way: bool = False, crash: bool = False, flaky: int = 0,
                    clients_per_replica: int = 1,
                    duration: float = 100.0, min_availability: float = 0.7, min_progress: float = 0.5,
                    think: tuple[float, float] = (1.0, 4.0),
                    replica_options: Mapping[str, Any] | None = None,
                    max_events: int = 2_000_000) -> RegisterRun:
    """Run a CP register ``cls`` under faults and check it is linearizable and serves the majority.

    Each replica has ``clients_per_replica`` clients next to it (in its
    partition group). With ``partition``, a random minority of replicas and
    their clients is cut off from 25% to 65% of ``duration``; with
    ``one_way``, that minority's messages to the others are dropped instead
    (it still hears them); with ``crash``, a random replica is down from 40%
    to 60% (with 5 or more replicas, a second one from 45% to 55%); with
    ``flaky=k``, ``k`` short partitions (a random minority of replicas and
    their clients, for 2 to 6 time units each) come and go after 70% of
    ``duration``: writes caught by one half-way through reach only some
    replicas, which is where a reader must help them along.

    Checks:

    - the whole history is linearizable (``course_lib.checkers.linearizable``);
    - with a (two-way) partition, no client on the minority side gets ``ok``
      for an operation it invoked during the partition: a replica that cannot
      reach a majority must refuse (or stay silent);
    - with a partition and no crash, at least ``min_availability`` of the
      operations that majority-side clients invoked during the partition
      succeed (0 skips this check).
    - whatever the faults, at least ``min_progress`` of the operations invoked
      in the first 20% of ``duration`` (before any partition or crash) succeed:
      refusing everything is safe, and useless (0 skips this check).

    Args:
        cls: the replica class (created as ``cls(replicas, **replica_options)``).
        seed: the simulation's seed.
        replicas: the cluster size (>= 3).
        loss, duplicate, reorder: network faults on every link.
        partition, one_way, crash, flaky: the faults described above.
        clients_per_replica: clients next to each replica.
        duration: clients stop issuing operations then; the run settles 20 more.
        min_availability, min_progress: see the checks.
        think: the clients' think time range.
        replica_options: keyword arguments for ``cls``.
        max_events: the run's budget of events (see :func:`run_workload`).

    Returns:
        The run, after a successful check.

    Raises:
        ScenarioFailed: a check failed (the message says which and where).
        InvalidArgument: a bad argument (named in the message).
    """
    _check_replica_class(cls)
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replicas = check_int("replicas", replicas, low=3)
    check_int("clients_per_replica", clients_per_replica, low=1)
    duration = check_positive("duration", duration)
    min_availability = check_probability("min_availability", min_availability)
    min_progress = check_probability("min_progress", min_progress)
    for name, flag in (("partition", partition), ("one_way", one_way), ("crash", crash)):
        check_type(name, flag, bool, what="True or False")
    _check_size(max_events, replicas=replicas)
    flaky = check_int("flaky", flaky, low=0)
    # The k-th short partition starts at least 3k - 2 after 70% of duration; one that certainly
    # starts after the run (duration + 20) never happens, and a huge count would take long to plan.
    most = max(0, math.floor((0.3 * duration + 22) / 3))
    if flaky > most:
        raise InvalidArgument(f"flaky={flaky} short partitions cannot all start before the run ends "
                              f"(duration={duration:g}): at most {most}")
    ids = [f"n{i + 1}" for i in range(replicas)]
    planner = random.Random(f"{seed}/quorum-faults")  # as sim.rng_for: from the seed only
    minority = sorted(planner.sample(ids, (replicas - 1) // 2))
    victims = planner.sample(ids, 2 if replicas >= 5 else 1)
    start, end = 0.25 * duration, 0.65 * duration
    cuts, at = [], 0.7 * duration
    for _ in range(flaky):
        at += planner.uniform(1.0, 4.0)
        length = planner.uniform(2.0, 6.0)
        cuts.append((planner.sample(ids, (replicas - 1) // 2), at, at + length))
        at += length

    def faults(sim: Simulation) -> None:
        if one_way:
            majority = [n for n in sim.nodes if n not in minority]
            sim.nemesis.partition_one_way(minority, majority, at=start, heal_at=end)
        if crash:
            sim.nemesis.crash(victims[0], at=0.4 * duration, restart_at=0.6 * duration)
            if len(victims) > 1:
                sim.nemesis.crash(victims[1], at=0.45 * duration, restart_at=0.55 * duration)
        for cut, cut_at, heal_at in cuts:
            clients = [c for c in sim.nodes if isinstance(sim.node(c), RegisterClient)
                       and sim.node(c).replica in cut]
            sim.nemesis.partition([cut + clients], at=cut_at, heal_at=heal_at)

    two_way = partition and not one_way
    run = run_workload(cls, seed=seed, replicas=ids, replica_options=replica_options,
                       duration=duration, settle=20.0,
                       clients=Clients(per_replica=clients_per_replica, think=think),
                       faults=Faults(partition=(start, end) if two_way else None, cut_off=minority,
                                     loss=loss, duplicate=duplicate, reorder=reorder, schedule=faults),
                       max_events=max_events)
    verdict = _linearizability(run)
    if verdict is not None and not verdict.valid:
        raise _not_linearizable(run, verdict, "the history is not linearizable")
    early = [op for op in run.history.operations() if op.call_time < 0.2 * duration]
    early_ok = sum(op.status == "ok" for op in early)
    if min_progress > 0 and (not early or early_ok / len(early) < min_progress):
        raise ScenarioFailed(
            f"only {early_ok} of the {len(early)} operations invoked before t={0.2 * duration:g}, "
            f"before any partition or crash, succeeded (at least {min_progress:.0%} must): refusing "
            "is right only where no majority can be reached", run.sim,
            history=run.history, operations=[op for op in early if op.status != "ok"])
    if not two_way:
        return run
    side = {process: replica in minority for process, replica in run.clients.items()}
    during = [op for op in run.history.operations() if start <= op.call_time < end]
    for op in during:
        if side[op.process] and op.status == "ok" and op.return_time <= end:
            raise ScenarioFailed(
                f"c{op.process}, cut off with the minority {minority}, got ok for {op} at "
                f"t={op.return_time:g} during the partition: a replica that cannot reach a "
                "majority must refuse", run.sim, history=run.history, operations=[op])
    if not crash and min_availability > 0:
        served = [op for op in during if not side[op.process]]
        ok = sum(op.status == "ok" for op in served)
        if not served or ok / len(served) < min_availability:
            raise ScenarioFailed(
                f"clients on the majority side got ok for only {ok} of {len(served)} operations "
                f"during the partition (at least {min_availability:.0%} must succeed): the majority "
                f"{[n for n in ids if n not in minority]} can still serve them", run.sim,
                history=run.history, operations=[op for op in served if op.status != "ok"])
    return run


def _check_replica_class(cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise InvalidArgumentType(f"cls={cls!r} must be your replica class, a subclass of "
                                  "course_lib.sim.Node")


class _InterruptedWriter(Node):
    """A coordinator that sends one ABD ``store`` to a few replicas and dies: a half-done write."""

    def __init__(self, history: History, targets: Sequence[Any], key: Any, value: Any,
                 timestamp: tuple, at: float) -> None:
        self.history = history
        self.targets = list(targets)
        self.key, self.value, self.timestamp, self.at = key, value, timestamp, at

    def on_start(self) -> None:
        self.set_timer(self.at, self.store_and_vanish)

    def store_and_vanish(self) -> None:
        self.history.invoke("w", "write", self.key, self.value, time=self.sim.now)
        for replica in self.targets:
            self.send(replica, "store", key=self.key, timestamp=self.timestamp, value=self.value)
        self.record("interrupted_write", targets=self.targets, value=self.value)
        self.sim.crash(self.id)  # dies: the replicas' answers find nobody


def interrupted_write_scenario(cls: type, seed: int | str, *, replicas: int = 3,
                               duration: float = 60.0, at: float = 15.0,
                               clients_per_replica: int = 1, max_events: int = 2_000_000) -> RegisterRun:
    """Leave a write half done on a minority of replicas, then check that reads stay linearizable.

    At time ``at`` a coordinator that is not a replica (process ``"w"`` of the
    history) sends ``store(key, timestamp, value)``, the second phase of a
    write with a timestamp above every other, to a minority of the replicas,
    and is never heard of again: its write stays pending for ever. Clients
    read (and sometimes write) through replicas in turn (``route="rotate"``).
    Some reads may see the new value and some not, but once one read has
    returned it, no later read may return an older one: the history must be
    linearizable. Relies on the replicas' ``store`` message (the skeleton's
    ``on_store``: keep the value if its timestamp is higher, answer
    ``store_ok``).

    Args:
        cls: the replica class.
        seed: the simulation's seed.
        replicas: the cluster size (>= 3).
        duration: clients stop issuing operations then; the run settles 20 more.
        at: when the interrupted write's store messages are sent.
        clients_per_replica: clients per replica.
        max_events: the run's budget of events (see :func:`run_workload`).

    Returns:
        The run, after a successful check.

    Raises:
        ScenarioFailed: the history is not linearizable.
        InvalidArgument: a bad argument (named in the message), such as an
            ``at`` after ``duration`` (the write would never happen).
    """
    _check_replica_class(cls)
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replicas = check_int("replicas", replicas, low=3)
    check_int("clients_per_replica", clients_per_replica, low=1)
    _check_size(max_events, replicas=replicas)
    duration = check_positive("duration", duration)
    check_positive("at", at)
    if not at < duration:
        raise InvalidArgument(f"at={at!r} must be before duration={duration!r}, while clients still "
                              "read")
    ids = [f"n{i + 1}" for i in range(replicas)]
    planner = random.Random(f"{seed}/interrupted-write")
    targets = sorted(planner.sample(ids, (replicas - 1) // 2))

    def faults(sim: Simulation) -> None:
        history = sim.node("c0").recorder.history
        sim.add_node(_InterruptedWriter, "w", history, targets, "x", "half-written",
                     (1_000_000, "w"), check_positive("at", at))

    run = run_workload(cls, seed=seed, replicas=ids, duration=check_positive("duration", duration),
                       settle=20.0,
                       clients=Clients(per_replica=clients_per_replica, route="rotate", think=(0.5, 2.0),
                                       read_fraction=0.85),
                       faults=Faults(schedule=faults), max_events=max_events)
    verdict = _linearizability(run)
    if verdict is not None and not verdict.valid:
        failure = _not_linearizable(run, verdict, f"a write left half done on {targets} at t={at:g} "
                                                  "made the history not linearizable")
        raise ScenarioFailed(f"{failure} (once a read returns a value, a majority must hold it before "
                             "the read answers)", run.sim, history=run.history, operations=verdict.stuck)
    return run


# -- scripted peers: one coordinator of the learner's, everything else scripted --------------------

class _ScriptedPeer(Node):
    """A replica the scenario controls: answers ``query`` from its store, and ``store`` if it is told to.

    ``silent``: answers nothing (a replica that is down, as far as the coordinator can tell).
    ``keeps_stores``: whether a ``store`` is applied and acknowledged (else it is dropped unanswered,
    like a store lost on the way); the scenario switches it during the run.
    """

    def __init__(self, store: dict, silent: bool = False, keeps_stores: bool = True) -> None:
        self.store = dict(store)
        self.silent = silent
        self.keeps_stores = keeps_stores
        self.stored: list[tuple[Any, Any, Any]] = []  # (key, timestamp, value) of every store kept

    def on_query(self, msg: Any) -> None:
        if not self.silent:
            timestamp, value = self.store.get(msg.key, ((0, ""), None))
            self.reply(msg, "query_ok", timestamp=timestamp, value=value)

    def on_store(self, msg: Any) -> None:
        if self.silent or not self.keeps_stores:
            return
        self.stored.append((msg.key, msg.timestamp, msg.value))
        if msg.timestamp > self.store.get(msg.key, ((0, ""), None))[0]:
            self.store[msg.key] = (msg.timestamp, msg.value)
        self.reply(msg, "store_ok")


class _ScriptedClient(Node):
    """Sends the requests it is given at the given times and keeps every answer."""

    def __init__(self, requests: Sequence[tuple[float, str, Any, Any]], coordinator: Any) -> None:
        self.requests = list(requests)
        self.coordinator = coordinator
        self.answers: list[tuple[str, Any, Message | None]] = []  # (op, value written, answer)

    def on_start(self) -> None:
        for number, (at, op, key, value) in enumerate(self.requests):
            self.set_timer(at, self.ask, number, op, key, value)

    def ask(self, number: int, op: str, key: Any, value: Any) -> None:
        fields = {"value": value} if op == "write" else {}
        slot = len(self.answers)
        self.answers.append((op, value, None))
        self.request(self.coordinator, op, key=key, op=(self.id, number), timeout=30.0,
                     on_reply=lambda reply: self._got(slot, reply), **fields)

    def _got(self, slot: int, reply: Any) -> None:
        op, value, _ = self.answers[slot]
        self.answers[slot] = (op, value, reply)


@dataclass
class CoordinatorRun:
    """A scripted run of one coordinator: the simulation and what its scripted clients heard."""

    sim: Simulation
    case: str
    answers: dict[Any, list]

    def __repr__(self) -> str:
        return f"<CoordinatorRun case={self.case!r} seed={self.sim.seed!r}>"


COORDINATOR_CASES = ("equal_counters", "concurrent_writes", "read_without_majority", "write_without_majority")


def _answer_text(answer: Any) -> str:
    if answer is None:
        return "no answer"
    if answer.type == "error":
        return f"error(definite={answer.get('definite', True)})"
    if answer.type == "read_ok":
        return f"read_ok({answer.get('value')!r})"
    return answer.type


def coordinator_scenario(cls: type, seed: int | str, *, case: str) -> CoordinatorRun:
    """Run one ABD coordinator of ``cls`` (replica ``n1``) among scripted replicas, and check it.

    The other replicas ``n2`` and ``n3`` are scripted: they answer ``query`` from
    a store the case chooses and apply (or drop) ``store``; every message takes
    exactly 0.2 time units, so each case is the same schedule on every seed.
    The coordinator's own store is set through its ``store`` attribute, as in
    the exercise's skeleton (``key -> (timestamp, value)``). The cases:

    - ``"equal_counters"``: two reads, each of a majority whose newest
      timestamps share a counter, ``(5, 'n1')`` and ``(5, 'n2')`` then
      ``(5, 'n3')`` and ``(5, 'n2')``; each must return the value of the
      higher timestamp (whole timestamps compare, the writer id breaks ties).
    - ``"concurrent_writes"``: two clients write through ``n1`` at the same
      moment; the two stores must carry different timestamps, and after both
      every replica that took them holds the same value.
    - ``"read_without_majority"``: ``n1`` holds a value no one else has (a
      write left half done), ``n3`` is silent and ``n2`` drops every
      ``store``: a read must not return that value (it cannot write it back to
      a majority). Then ``n2`` keeps stores again, and a read must succeed:
      refusing is right only when a majority cannot be reached.
    - ``"write_without_majority"``: the same peers; a write must be refused
      with ``definite=False`` (its store reached only ``n1``, which may keep
      it). Then ``n2`` keeps stores again, and a write must succeed.

    Raises:
        ScenarioFailed: the coordinator answered wrongly (the message says what
            it answered and what was due).
        InvalidArgument: a bad argument (named in the message).
    """
    _check_replica_class(cls)
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    check_choice("case", case, COORDINATOR_CASES)
    ids = ["n1", "n2", "n3"]
    sim = Simulation(seed=seed, latency=Constant(0.2))
    stores: dict[Any, dict] = {"n1": {}, "n2": {}, "n3": {}}
    silent = {"n2": False, "n3": False}
    requests: dict[Any, list] = {}
    if case == "equal_counters":
        stores = {"n1": {"x": ((5, "n1"), "from n1"), "y": ((5, "n3"), "from n3")},
                  "n2": {"x": ((5, "n2"), "from n2"), "y": ((5, "n2"), "from n2")}, "n3": {}}
        silent["n3"] = True
        requests["c1"] = [(1.0, "read", "x", None), (20.0, "read", "y", None)]
    elif case == "concurrent_writes":
        stores["n2"] = {"x": ((3, "n2"), "old")}
        stores["n3"] = {"x": ((3, "n2"), "old")}
        requests["c1"] = [(1.0, "write", "x", "from c1")]
        requests["c2"] = [(1.0, "write", "x", "from c2")]
    else:
        stores["n1"] = {"x": ((9, "w"), "half-written")}
        silent["n3"] = True
        op = "read" if case == "read_without_majority" else "write"
        requests["c1"] = [(1.0, op, "x", "first"), (40.0, op, "x", "second")]
    sim.add_node(cls, "n1", ids)
    for peer in ("n2", "n3"):
        sim.add_node(_ScriptedPeer, peer, stores[peer], silent[peer], not case.endswith("_majority") or peer != "n2")
    for client, script in requests.items():
        sim.add_node(_ScriptedClient, client, script, "n1")
    coordinator = sim.node("n1")
    if not isinstance(getattr(coordinator, "store", None), dict):
        raise InvalidArgumentType(f"cls={cls.__name__} keeps no dict 'store' (key -> (timestamp, value)), "
                                  "which this scenario sets up as the exercise's skeleton has it")
    coordinator.store.update(stores["n1"])
    if case.endswith("_majority"):
        sim.at(35.0, lambda: setattr(sim.node("n2"), "keeps_stores", True))
    sim.run(until=75.0)
    answers = {client: sim.node(client).answers for client in requests}
    run = CoordinatorRun(sim, case, answers)
    if case == "equal_counters":
        for (_op, _, answer), key, due, held in zip(
                answers["c1"], ("x", "y"), ("from n2", "from n3"),
                ("(5, 'n1') at n1 and (5, 'n2') at n2", "(5, 'n3') at n1 and (5, 'n2') at n2")):
            if answer is None or answer.type != "read_ok" or answer.get("value") != due:
                raise ScenarioFailed(
                    f"a read of {key!r} through n1 answered {_answer_text(answer)}; the majority "
                    f"held {held} (n3 was silent), so it must return {due!r}: the newest value is "
                    "the one with the highest whole timestamp (counter, then writer id)", sim)
    elif case == "concurrent_writes":
        for client in ("c1", "c2"):
            (_, _, answer), = answers[client]
            if answer is None or answer.type != "write_ok":
                raise ScenarioFailed(f"{client}'s write through n1, on a reliable network, answered "
                                     f"{_answer_text(answer)}; it should succeed", sim)
        stamps = {}
        for peer in ("n2", "n3"):
            for _key, timestamp, value in sim.node(peer).stored:
                stamps.setdefault(value, set()).add(timestamp)
        given = {value: sorted(stamps.get(value, ())) for value in ("from c1", "from c2")}
        if any(len(ts) != 1 for ts in given.values()):
            raise ScenarioFailed(f"the two writes were stored with timestamps {given}; each write's "
                                 "store phase sends one timestamp to every replica", sim)
        if given["from c1"] == given["from c2"]:
            raise ScenarioFailed(
                f"two writes that n1 ran at the same time both got timestamp {given['from c1'][0]!r}: "
                "replicas that see them in different orders keep different values. Keep the highest "
                "counter n1 has given (self.counter) and go above it", sim)
    elif case == "read_without_majority":
        (_, _, first), (_, _, second) = answers["c1"]
        if first is not None and first.type == "read_ok" and first.get("value") == "half-written":
            raise ScenarioFailed(
                "a read through n1 returned 'half-written', which only n1 held: n2 dropped the "
                "write-back and n3 was silent, so no majority held it when the read answered. "
                "Answer a read only after its write-back reached a majority", sim)
        if second is None or second.type != "read_ok":
            raise ScenarioFailed(
                f"once n2 kept stores again, a read through n1 (n1 and n2: a majority) answered "
                f"{_answer_text(second)}; it should succeed", sim)
    else:
        (_, _, first), (_, _, second) = answers["c1"]
        if first is None or first.type != "error" or first.get("definite", True):
            raise ScenarioFailed(
                f"a write through n1 whose store phase reached only n1 (n2 dropped the store, n3 "
                f"was silent) answered {_answer_text(first)}; it must be refused with "
                "definite=False: n1 stored it, and a later read may return it", sim)
        if second is None or second.type != "write_ok":
            raise ScenarioFailed(
                f"once n2 kept stores again, a write through n1 (n1 and n2: a majority) answered "
                f"{_answer_text(second)}; it should succeed", sim)
    return run
