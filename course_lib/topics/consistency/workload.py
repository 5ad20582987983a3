"""Run clients against a replicated register under faults, and keep what happened.

:func:`run_workload` takes the replica class, the replica ids and three
settings, each a small value that checks itself when it is made:

- :class:`Clients`: how many clients sit next to each replica and how they
  behave (think time, read share, keys, timeout, routing, sessions);
- :class:`Faults`: what goes wrong between the replicas (a partition and who
  it cuts off, crashes, loss, duplication, reordering, latency, and any other
  fault scheduled by a function);
- the run's length: ``duration`` (clients stop then), ``settle`` (extra time
  for answers, retries and anti-entropy) and ``max_events`` (a budget).

It returns a :class:`RegisterRun`: the simulation, the clients' history and
the verdicts of the meters (:mod:`~course_lib.topics.consistency.metrics`).

Example:
    >>> run = run_workload("CP", seed=1, duration=60, faults=Faults(partition=(20, 40)))
    >>> run.check().valid
    True
    >>> s = run.summary()
    >>> s["availability"] < 1.0, s["stale_reads"]
    (True, 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from ...checkers import converged as _converged
from ...checkers import linearizable
from ...checkers.convergence import ConvergenceResult
from ...checkers.linearizability import LinearizabilityResult
from ...history import History
from ...sim import Node, Simulation, Uniform
from ...sim.errors import EventBudgetExceeded
from ...sim.latency import as_latency
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice,
                               check_ids, check_int, check_non_negative, check_positive,
                               check_probability)
from .client import ROUTES, RegisterClient, _Recorder
from .metrics import StaleRead, Window, first_violation, stale_reads, windows
from .replicas import MODES

LATENCY = Uniform(0.2, 0.6)
"""The default latency between replicas in :func:`run_workload`."""


def _pair(name: str, value: Any, what: str) -> tuple[Any, Any]:
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise InvalidArgument(f"{name}={value!r} must be {what}")
    return value[0], value[1]


@dataclass(frozen=True)
class Faults:
    """What goes wrong between the replicas during a run of :func:`run_workload`.

    Every field is checked when the value is made, and the error names the
    field and its value.

    Attributes:
        partition: ``(start, end)``: cut ``cut_off`` (and their clients) off
            from the other replicas during that time; None for no partition.
        cut_off: the replicas on the far side (default: the last replica).
        crashes: ``(replica, at, restart_at or None)`` triples.
        loss, duplicate, reorder: probabilities of each on the links between
            replicas (and on client links).
        latency: the latency between replicas (a latency model, or a number
            for a constant one); client links have :attr:`Clients.latency`.
        schedule: called as ``schedule(sim)`` after setup, to schedule more
            faults with ``sim.nemesis`` (or anything else the run needs).

    Raises:
        InvalidArgument: a field is out of range (also a ValueError).
        InvalidArgumentType: a field has the wrong type (also a TypeError).

    Example:
        >>> Faults(partition=(30, 70), cut_off=["n1"], loss=0.1).partition
        (30.0, 70.0)
    """

    partition: tuple[float, float] | None = None
    cut_off: Sequence[Any] | None = None
    crashes: Sequence[tuple[Any, float, float | None]] = ()
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    latency: Any = LATENCY
    schedule: Callable[[Simulation], Any] | None = None

    def __post_init__(self) -> None:
        keep = object.__setattr__  # frozen: the checked values replace the given ones once, here
        if self.partition is not None:
            start, end = _pair("partition", self.partition, "(start, end) or None")
            start = check_non_negative("partition start", start)
            end = check_positive("partition end", end)
            if end <= start:
                raise InvalidArgument(f"partition={self.partition!r}: end must be after start")
            keep(self, "partition", (start, end))
        if self.cut_off is not None:
            keep(self, "cut_off", tuple(check_ids("cut_off", self.cut_off, allow_empty=True)))
        crashes = self.crashes
        if isinstance(crashes, (str, bytes)) or not isinstance(crashes, Iterable):
            raise InvalidArgumentType(f"crashes={crashes!r} must be a list of (replica, at, restart_at or "
                                      "None) triples")
        plan = []
        for index, item in enumerate(crashes):
            if not (isinstance(item, (tuple, list)) and len(item) == 3):
                raise InvalidArgument(f"crashes[{index}]={item!r} must be (replica, at, restart_at or None)")
            node, at, restart_at = item
            check_non_negative(f"crashes[{index}] at", at)
            if restart_at is not None and check_positive(f"crashes[{index}] restart_at", restart_at) <= at:
                raise InvalidArgument(f"crashes[{index}]={item!r}: restart_at must be after at")
            plan.append((node, at, restart_at))
        keep(self, "crashes", tuple(plan))
        for name in ("loss", "duplicate", "reorder"):
            keep(self, name, check_probability(name, getattr(self, name)))
        keep(self, "latency", as_latency(self.latency))
        if self.schedule is not None:
            check_callable("schedule", self.schedule, "schedule(sim)")


@dataclass(frozen=True)
class Clients:
    """The clients of a run of :func:`run_workload`: how many, where they send, how they behave.

    Each client issues one operation at a time: a read (with probability
    ``read_fraction``) or a write of a random key from ``keys``, waits for the
    answer or ``timeout``, then thinks for a uniform time in ``think``.
    Every field is checked when the value is made, and the error names the
    field and its value.

    Attributes:
        per_replica: clients attached to each replica (>= 1).
        latency: latency of a client's link to its replica (a number >= 0).
        timeout: how long a client waits for an answer.
        think: ``(low, high)`` of the wait between operations.
        read_fraction: probability that an operation is a read.
        keys: the register's keys (one key: a single register).
        route: ``"home"`` (each client uses its own replica), ``"random"`` or
            ``"rotate"`` (each operation goes to a random / the next replica).
        session: a class (or factory) called once per client to make its
            session object (see :class:`RegisterClient`); None for no session.
        retry_delay: how long a session waits before asking another replica.

    Raises:
        InvalidArgument: a field is out of range (also a ValueError).
        InvalidArgumentType: a field has the wrong type (also a TypeError).

    Example:
        >>> Clients(per_replica=2, think=(1, 4)).think
        (1.0, 4.0)
    """

    per_replica: int = 1
    latency: float = 0.1
    timeout: float = 5.0
    think: tuple[float, float] = (3.0, 8.0)
    read_fraction: float = 0.7
    keys: Sequence[Any] = ("x",)
    route: str = "home"
    session: Callable[[], Any] | None = None
    retry_delay: float = 1.0

    def __post_init__(self) -> None:
        keep = object.__setattr__  # frozen: the checked values replace the given ones once, here
        check_int("per_replica", self.per_replica, low=1)
        keep(self, "latency", check_non_negative("latency", self.latency))
        keep(self, "timeout", check_positive("timeout", self.timeout))
        low, high = _pair("think", self.think, "(low, high)")
        think = (check_non_negative("think low", low), check_positive("think high", high))
        if think[1] < think[0]:
            raise InvalidArgument(f"think={think!r}: high must be >= low")
        keep(self, "think", think)
        keep(self, "read_fraction", check_probability("read_fraction", self.read_fraction))
        keys = self.keys
        if isinstance(keys, (str, bytes)) or not isinstance(keys, Iterable):
            raise InvalidArgumentType(f"keys={keys!r} must be a non-empty list of keys")
        keys = tuple(keys)
        if not keys:
            raise InvalidArgument(f"keys={self.keys!r} must be a non-empty list of keys")
        keep(self, "keys", keys)
        check_choice("route", self.route, ROUTES)
        if self.session is not None and not callable(self.session):
            raise InvalidArgumentType(f"session={self.session!r} must be a class (called once per client) "
                                      "or None")
        keep(self, "retry_delay", check_positive("retry_delay", self.retry_delay))


#: run_workload's keywords before Clients and Faults, and where each went (for a helpful error).
_MOVED = {
    **{name: ("faults", "Faults", name)
       for name in ("partition", "cut_off", "crashes", "loss", "duplicate", "reorder", "latency")},
    **{name: ("clients", "Clients", name)
       for name in ("timeout", "think", "read_fraction", "keys", "route", "session", "retry_delay")},
    "clients_per_replica": ("clients", "Clients", "per_replica"),
    "client_latency": ("clients", "Clients", "latency"),
}


def _refuse_moved(moved: Mapping[str, Any]) -> None:
    for name, value in moved.items():
        if name not in _MOVED:
            raise InvalidArgumentType(f"run_workload() got an unexpected keyword argument {name}={value!r}")
        keyword, cls, field_name = _MOVED[name]
        raise InvalidArgumentType(f"{name}={value!r} is not an argument of run_workload: pass "
                                  f"{keyword}={cls}({field_name}={value!r})")


@dataclass
class RegisterRun:
    """The outcome of :func:`run_workload`: the simulation, the history and the fault plan.

    Attributes:
        sim: the finished :class:`~course_lib.sim.Simulation`.
        history: what the clients saw.
        replicas: the replica ids.
        clients: process number -> the replica that client talks to.
        partitions: ``(start, end)`` of each partition in the run (from the trace).
        mode: the replica class's name.
    """

    sim: Simulation
    history: History
    replicas: list
    clients: dict
    partitions: list
    mode: str
    _check: LinearizabilityResult | None = field(default=None, repr=False)
    _violation: Any = field(default=False, repr=False)

    def check(self) -> LinearizabilityResult:
        """Return the linearizability checker's verdict on the whole history (a register)."""
        if self._check is None:
            self._check = linearizable(self.history, "register")
        return self._check

    def first_violation(self) -> float | None:
        """Return the time from which the history is not linearizable (None if it is)."""
        if self._violation is False:
            self._violation = None if self.check().valid else first_violation(self.history)
        return self._violation

    def stale_reads(self) -> list[StaleRead]:
        """Return the reads that missed an acknowledged write (see :func:`stale_reads`)."""
        return stale_reads(self.history)

    def windows(self, width: float) -> list[Window]:
        """Return per-window measurements from time 0 to the end of the workload."""
        end = max([op.call_time for op in self.history.operations()], default=0.0)
        return windows(self.history, width, start=0.0, end=max(end, width),
                       violation=self.first_violation())

    def summary(self) -> dict:
        """Return counts and verdicts: operations, ok, fail, info, availability, stale reads, linearizable."""
        ops = self.history.operations()
        ok = sum(op.status == "ok" for op in ops)
        return {
            "mode": self.mode,
            "operations": len(ops),
            "ok": ok,
            "fail": sum(op.status == "fail" for op in ops),
            "info": sum(op.indeterminate for op in ops),
            "availability": round(ok / len(ops), 3) if ops else float("nan"),
            "stale_reads": len(self.stale_reads()),
            "linearizable": self.check().valid,
        }

    def replica_states(self) -> dict:
        """Return each replica's ``snapshot()``, by replica id."""
        return {r: self.sim.node(r).snapshot() for r in self.replicas}

    def converged(self) -> ConvergenceResult:
        """Check that every replica's snapshot is equal (meaningful for replicated copies, e.g. AP)."""
        return _converged(self.replica_states())


def summary_table(runs: Mapping[str, RegisterRun]) -> str:
    """Return the summaries of several runs as a small text table, one row per run.

    Example:
        >>> run = run_workload("CP", seed=1, duration=30)
        >>> print(summary_table({"CP": run}))
        run  operations   ok  fail  info  availability  stale reads  linearizable
        CP           15   15     0     0        100.0%            0           yes
    """
    if not isinstance(runs, Mapping) or not runs:
        raise InvalidArgumentType(f"runs={runs!r} must be a non-empty dict of label -> RegisterRun")
    for label, run in runs.items():
        if not isinstance(run, RegisterRun):
            raise InvalidArgumentType(f"runs[{label!r}]={run!r} is not a RegisterRun")
    width = max(len("run"), *(len(str(label)) for label in runs))
    lines = [f"{'run':<{width}}  operations   ok  fail  info  availability  stale reads  linearizable"]
    for label, run in runs.items():
        s = run.summary()
        lines.append(f"{str(label):<{width}}  {s['operations']:>10} {s['ok']:>4} {s['fail']:>5} {s['info']:>5} "
                     f"{s['availability']:>13.1%} {s['stale_reads']:>12} {'yes' if s['linearizable'] else 'NO':>13}")
    return "\n".join(lines)


def run_workload(replica: type | str, *, seed: int | str, replicas: Sequence[Any] = ("n1", "n2", "n3"),
                 replica_options: Mapping[str, Any] | None = None, clients: Clients | None = None,
                 faults: Faults | None = None, duration: float = 120.0, settle: float = 30.0,
                 max_events: int = 2_000_000, **moved: Any) -> RegisterRun:
    """Run clients against a replicated register under faults and record their history.

    Each replica gets ``clients.per_replica`` :class:`RegisterClient` nodes that
    talk only to it, over links of latency ``clients.latency`` (a client sits
    next to its replica, in the same partition group). With ``clients.route``
    other than ``"home"`` clients are mobile: each reaches every replica over
    such a link, sends each operation to the replica the route picks, and a
    partition cuts only the replicas from each other (Bayou's weakly connected
    servers), never a client from a replica. Clients issue operations until
    ``duration``; the run then goes on for ``settle`` more time units so that
    answers, retries and anti-entropy can finish.

    Args:
        replica: a replica class speaking the protocol of this chapter (created
            as ``replica(replicas, **replica_options)``), or ``"AP"`` / ``"CP"``
            for :class:`AsyncReplica` / :class:`PrimaryReplica`.
        seed: the simulation's seed.
        replicas: the replica ids.
        replica_options: keyword arguments for the replica class.
        clients: the clients (default: ``Clients()``, one per replica).
        faults: the faults (default: ``Faults()``, none but the default latency).
        duration: clients stop issuing operations at this time.
        settle: extra time to run after ``duration``.
        max_events: the run's budget of events (sends, timer firings), which
            stops a message storm or a very long ``duration``.

    Returns:
        A :class:`RegisterRun`.

    Raises:
        InvalidArgumentType: ``replica`` is not a Node subclass or mode name,
            ``clients`` or ``faults`` is not a Clients / Faults, or another
            argument has the wrong type (named in the message); also a TypeError.
            A keyword of the old signature (``partition=``, ``think=``, ...)
            names the setting it now belongs to.
        InvalidArgument: an argument is out of range (named in the message),
            such as a replica in ``faults`` that is not one of ``replicas``;
            also a ValueError.
        EventBudgetExceeded: the run took more than ``max_events`` events.

    Example:
        >>> run = run_workload("AP", seed=3, duration=60, faults=Faults(partition=(20, 40)))
        >>> run.summary()["availability"]
        1.0
        >>> run.converged().valid
        True
    """
    _refuse_moved(moved)
    if isinstance(replica, str):
        if replica not in MODES:
            raise InvalidArgument(f"replica={replica!r} must be one of {sorted(MODES)} or a replica class")
        cls = MODES[replica]
    elif isinstance(replica, type) and issubclass(replica, Node):
        cls = replica
    else:
        raise InvalidArgumentType(f"replica={replica!r} must be a subclass of course_lib.sim.Node "
                                  f"or one of {sorted(MODES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replica_ids = check_ids("replicas", replicas)
    if replica_options is None:
        replica_options = {}
    if not isinstance(replica_options, Mapping):
        raise InvalidArgumentType(f"replica_options={replica_options!r} must be a dict of keyword arguments")
    clients = Clients() if clients is None else clients
    if not isinstance(clients, Clients):
        raise InvalidArgumentType(f"clients={clients!r} must be a Clients(...), such as "
                                  "Clients(per_replica=2, think=(1, 4))")
    faults = Faults() if faults is None else faults
    if not isinstance(faults, Faults):
        how = (f"; a function that schedules faults goes in Faults(schedule={faults!r})"
               if callable(faults) else ", such as Faults(partition=(30, 70), loss=0.1)")
        raise InvalidArgumentType(f"faults={faults!r} must be a Faults(...){how}")
    duration = check_positive("duration", duration)
    settle = check_non_negative("settle", settle)
    check_int("max_events", max_events, low=1)
    if len(replica_ids) * (clients.per_replica + 1) > max_events:
        raise InvalidArgument(f"replicas={replica_ids!r} with Clients(per_replica={clients.per_replica}) "
                              f"make more nodes than max_events={max_events} events can start; pass a "
                              "larger max_events")
    far = [replica_ids[-1]] if faults.cut_off is None else list(faults.cut_off)
    for r in far:
        if r not in replica_ids:
            raise InvalidArgument(f"cut_off={far!r}: {r!r} is not one of replicas={replica_ids!r}")
    if faults.partition is not None and (not far or len(far) == len(replica_ids)):
        raise InvalidArgument(f"cut_off={far!r} must leave replicas on both sides of the partition")
    for index, item in enumerate(faults.crashes):
        try:
            known = item[0] in replica_ids
        except TypeError:
            known = False
        if not known:
            raise InvalidArgument(f"crashes[{index}]={item!r}: {item[0]!r} is not one of "
                                  f"replicas={replica_ids!r}")

    sim = Simulation(seed=seed, latency=faults.latency, loss=faults.loss, duplicate=faults.duplicate,
                     reorder=faults.reorder, max_events=max_events)
    for rid in replica_ids:
        sim.add_node(cls, rid, list(replica_ids), **replica_options)
    recorder = _Recorder()
    placed: dict[int, Any] = {}
    client_ids: dict[Any, list] = {r: [] for r in replica_ids}
    route, session = clients.route, clients.session
    for rid in replica_ids:
        for _ in range(clients.per_replica):
            process = len(placed)
            cid = f"c{process}"
            routed = {} if route == "home" and session is None else dict(
                replicas=list(replica_ids), route=route, retry_delay=clients.retry_delay,
                session=None if session is None else session())
            sim.add_node(RegisterClient, cid, rid, process, recorder, timeout=clients.timeout,
                         think=clients.think, read_fraction=clients.read_fraction, keys=list(clients.keys),
                         stop=duration, **routed)
            for target in (replica_ids if route != "home" else [rid]):
                sim.network.set_link(cid, target, latency=clients.latency, both_ways=True)
            placed[process] = rid
            client_ids[rid].append(cid)
    if faults.partition is not None:
        start, end = faults.partition
        if route != "home":  # mobile clients: cut replicas from replicas
            near = [r for r in replica_ids if r not in far]
            sim.nemesis.partition_one_way(far, near, at=start, heal_at=end)
            sim.nemesis.partition_one_way(near, far, at=start, heal_at=end)
        else:
            side = [n for r in far for n in [r] + client_ids[r]]
            sim.nemesis.partition([side], at=start, heal_at=end)
    for node, at, restart_at in faults.crashes:
        sim.nemesis.crash(node, at=at, restart_at=restart_at)
    if faults.schedule is not None:
        faults.schedule(sim)
    try:
        sim.run(until=duration + settle)
    except EventBudgetExceeded as exc:
        raise EventBudgetExceeded(f"{exc} (here: pass max_events=N to run_workload or to the scenario)") from None

    return RegisterRun(sim, recorder.history, replica_ids, placed,
                       sim.trace.partition_spans(end=sim.now), cls.__name__)
