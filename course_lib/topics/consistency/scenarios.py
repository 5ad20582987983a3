"""Chapter 01's exercise scenarios: session guarantees on the AP register, and a majority-quorum register.

They only drive and observe the learner's code: the session's enforcement
logic (Part A) and the majority-quorum replica (Part B) are the learner's,
and live only in the exercise.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Iterable, Mapping, Sequence

from ...checkers import CHECKERS
from ...history import History
from ...sim import Node, Simulation
from ...sim.errors import ScenarioFailed
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_choice, check_int,
                               check_positive, check_probability, check_type)
from .client import RegisterClient
from .replicas import AsyncReplica
from .workload import Clients, Faults, RegisterRun, run_workload


_GUARANTEES = ("read your writes", "monotonic reads", "monotonic writes", "writes follow reads")


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
                f"(t={first.ops[-1].call_time:g})", run.sim)
    ops = run.history.operations()
    ok = sum(op.status == "ok" for op in ops)
    if not ops or ok / len(ops) < min_availability:
        rejected = len(run.sim.trace.custom("session_reject"))
        raise ScenarioFailed(
            f"only {ok} of {len(ops)} operations succeeded (at least {min_availability:.0%} must); "
            f"sessions rejected {rejected} answers: does accept_read refuse answers that are fresh "
            "enough, or a write get a version its own session cannot accept?", run.sim)
    return run


def quorum_scenario(cls: type, seed: int | str, *, replicas: int = 3, loss: float = 0.0,
                    duplicate: float = 0.0, reorder: float = 0.0, partition: bool = True,
                    one_way: bool = False, crash: bool = False, flaky: int = 0,
                    clients_per_replica: int = 1,
                    duration: float = 100.0, min_availability: float = 0.7,
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

    Args:
        cls: the replica class (created as ``cls(replicas, **replica_options)``).
        seed: the simulation's seed.
        replicas: the cluster size (>= 3).
        loss, duplicate, reorder: network faults on every link.
        partition, one_way, crash, flaky: the faults described above.
        clients_per_replica: clients next to each replica.
        duration: clients stop issuing operations then; the run settles 20 more.
        min_availability: see the checks.
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
    verdict = run.check()
    if verdict.valid is not True:
        when = run.first_violation() if verdict.valid is False else None
        where = f" from t={when:g}" if when is not None else ""
        raise ScenarioFailed(f"the history is not linearizable{where}: "
                             f"{verdict.explain().splitlines()[0]}", run.sim)
    if not two_way:
        return run
    side = {process: replica in minority for process, replica in run.clients.items()}
    during = [op for op in run.history.operations() if start <= op.call_time < end]
    for op in during:
        if side[op.process] and op.status == "ok" and op.return_time <= end:
            raise ScenarioFailed(
                f"c{op.process}, cut off with the minority {minority}, got ok for {op} at "
                f"t={op.return_time:g} during the partition: a replica that cannot reach a "
                "majority must refuse", run.sim)
    if not crash and min_availability > 0:
        served = [op for op in during if not side[op.process]]
        ok = sum(op.status == "ok" for op in served)
        if not served or ok / len(served) < min_availability:
            raise ScenarioFailed(
                f"clients on the majority side got ok for only {ok} of {len(served)} operations "
                f"during the partition (at least {min_availability:.0%} must succeed): the majority "
                f"{[n for n in ids if n not in minority]} can still serve them", run.sim)
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
    verdict = run.check()
    if verdict.valid is not True:
        when = run.first_violation() if verdict.valid is False else None
        where = f" from t={when:g}" if when is not None else ""
        raise ScenarioFailed(
            f"a write left half done on {targets} at t={at:g} made the history not "
            f"linearizable{where}: {verdict.explain().splitlines()[0]} (once a read returns a "
            "value, a majority must hold it before the read answers)", run.sim)
    return run
