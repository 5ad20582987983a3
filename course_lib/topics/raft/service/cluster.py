"""The cluster harness of a service on a replicated log: servers, clerks, faults, history, checks.

Example:
    >>> from course_lib.topics.raft.service import KVCluster, NaiveKVServer, NaiveClerk
    >>> cluster = KVCluster(NaiveKVServer, NaiveClerk, seed=1, clerks=2)
    >>> cluster.workload(ops=5, keys=("x",))
    >>> cluster.run_until_done(limit=5000)
    True
    >>> len(cluster.history.operations())
    10
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ....checkers import linearizable as check_linearizability
from ....checkers import raft as raft_invariants
from ....checkers.linearizability import LinearizabilityResult
from ....history import History, Operation
from ....sim import Simulation, Uniform
from ....sim.errors import NodeDefinitionError, ScenarioFailed
from ....sim.validation import (InvalidArgument, InvalidArgumentType, check_ids, check_int, check_number,
                                check_type)
from ....viz.failure import use_picture
from .base import ClerkBase, combine, make_workload, recorder
from .log import LogModel, model_consistent, world

#: What ``unreliable=True`` does to every link: loss, duplication, reordering.
UNRELIABLE = {"loss": 0.1, "duplicate": 0.05, "reorder": 0.1, "reorder_delay": 60.0}
#: How often (simulated time) the log sizes are sampled for :meth:`KVCluster.log_sizes`.
SAMPLE_EVERY = 25.0


class KVCluster:
    """``n`` servers running ``server_cls`` on a log, and ``clerks`` clients, in one simulation.

    Args:
        server_cls: the service, a subclass of :class:`~.base.KVServiceBase`.
        clerk_cls: the client, a subclass of :class:`~.base.ClerkBase`.
        n: the number of servers, ``s1`` ... ``sn``.
        seed: the random seed (same seed, same run).
        log: :class:`~.log.LogModel` (the default), or a learner's 03b Raft class (a subclass
            of :class:`~course_lib.topics.raft.RaftBase`; snapshots need its Part D).
        clerks: the number of clerks, ``c1`` ... ``ck``.
        unreliable: lose, duplicate and reorder messages on every link (see :data:`UNRELIABLE`).
        snapshot_threshold: None (services never snapshot) or the log size beyond which a
            service snapshots (its ``self.snapshot_threshold``).
        clock_drift: None, one drift for every server, or ``{server: drift}`` (a rate error:
            0.01 is 1% fast; the log model's leases are safe within ``LogModel.DRIFT_BOUND``).
        max_events: stop a run that never settles (a message storm).
        invariants: check the log's invariants after every event: the log model's own
            consistency (one leader per term, the committed log never changes, every server
            applies exactly the committed commands), or, on a Raft class, the Raft invariants
            of :mod:`course_lib.checkers.raft`.

    Messages have a latency of 1-10 units (think milliseconds). Every failure a run raises
    (a broken invariant, a handler's exception, a failed check) is drawable: ``.draw()``
    shows the smallest failing key's history and the space-time diagram around it.

    Raises:
        InvalidArgumentType: a class of the wrong kind, or an argument of the wrong type.
        InvalidArgument: a count or drift out of range.
        NodeDefinitionError: the service defines a name its log uses.
    """

    def __init__(self, server_cls: type, clerk_cls: type, n: int = 3, seed: Any = 0, *,
                 log: type = LogModel, clerks: int = 1, unreliable: bool = False,
                 snapshot_threshold: int | None = None, clock_drift: Any = None,
                 max_events: int = 400_000, invariants: bool = True) -> None:
        if not (isinstance(clerk_cls, type) and issubclass(clerk_cls, ClerkBase)):
            raise InvalidArgumentType(f"clerk_cls={clerk_cls!r} must be a subclass of ClerkBase")
        check_int("n", n, low=1, high=15)
        check_int("clerks", clerks, low=0, high=100)
        check_type("unreliable", unreliable, bool, what="True or False")
        check_type("invariants", invariants, bool, what="True or False")
        if snapshot_threshold is not None:
            check_int("snapshot_threshold", snapshot_threshold, low=1)
        check_int("max_events", max_events, low=1)
        if isinstance(seed, bool) or not isinstance(seed, (int, str)):
            raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
        self.ids = [f"s{i + 1}" for i in range(n)]
        self.clerk_ids = [f"c{i + 1}" for i in range(clerks)]
        drifts = self._drifts(clock_drift)
        self.server_class = combine(server_cls, log, self.ids, snapshot_threshold)
        self.log_class = log
        self.seed = seed
        self.sim = Simulation(seed=seed, latency=Uniform(1.0, 10.0), max_events=max_events)
        self.recorder = recorder(self.sim)
        self.recorder.servers = list(self.ids)
        if issubclass(log, LogModel):
            world(self.sim).servers = list(self.ids)
        self.servers = [self.sim.add_node(self.server_class, i, clock_drift=drifts.get(i, 0.0))
                        for i in self.ids]
        self.clerks = [self.sim.add_node(clerk_cls, c) for c in self.clerk_ids]
        self._check_constructed()
        self.set_unreliable(unreliable)
        self._samples: dict[Any, list] = {i: [] for i in self.ids}
        self.sim.after(0.0, self._sample)
        from .pictures import failure_picture
        use_picture(self.sim, failure_picture)
        if invariants:
            if issubclass(log, LogModel):
                self.sim.add_invariant("log model consistent", model_consistent)
            else:
                raft_invariants.register(self.sim)

    def _drifts(self, clock_drift: Any) -> dict:
        if clock_drift is None:
            return {}
        if isinstance(clock_drift, dict):
            out = {}
            for server, drift in clock_drift.items():
                if server not in self.ids:
                    raise InvalidArgument(f"clock_drift names {server!r}, which is not a server; "
                                          f"servers are {self.ids}")
                out[server] = check_number("clock_drift", drift, low=-0.5, high=0.5, low_open=True,
                                           high_open=True, what="a rate error in (-0.5, 0.5)")
            return out
        drift = check_number("clock_drift", clock_drift, low=-0.5, high=0.5, low_open=True, high_open=True,
                             what="None, a rate error in (-0.5, 0.5), or a dict server -> rate error")
        return {i: drift for i in self.ids}

    # -- the network and the nemesis ------------------------------------------------------------------
    def set_unreliable(self, unreliable: bool) -> None:
        """Lose, duplicate and reorder messages on every link from now on (or stop)."""
        check_type("unreliable", unreliable, bool, what="True or False")
        self.unreliable = unreliable
        if unreliable:
            self.sim.network.configure(**UNRELIABLE)
        else:
            self.sim.network.configure(loss=0.0, duplicate=0.0, reorder=0.0)

    def _group_ids(self, groups: Any) -> list[list]:
        if isinstance(groups, (str, bytes)) or not isinstance(groups, (list, tuple)) or not groups:
            raise InvalidArgumentType(f"groups={groups!r} must be a list of groups of node ids, such as "
                                      "[['s1'], ['s2', 's3']]")
        out, seen = [], set()
        for group in groups:
            ids = check_ids("groups", group)
            for node in ids:
                self.sim.check_node("groups", node)
                if node in seen:
                    raise InvalidArgument(f"groups={groups!r} names {node!r} twice")
                seen.add(node)
            out.append(ids)
        if len(out) < 2:
            raise InvalidArgument(f"groups={groups!r} must hold at least two groups to cut apart")
        return out

    def partition(self, groups: Sequence[Sequence[Any]], *, at: float | None = None,
                  heal_at: float | None = None) -> None:
        """Cut the links between ``groups`` at ``at`` (default now) until ``heal_at`` (default: for good).

        ``groups`` are lists of node ids, ``[["s1"], ["s2", "s3"]]``; nodes named in no group
        (the clerks, usually) still reach every group, as clients reach both sides of a
        partition between data centres.
        """
        ids = self._group_ids(groups)
        for a in range(len(ids)):
            for b in range(len(ids)):
                if a != b:
                    self.sim.nemesis.partition_one_way(ids[a], ids[b], at=at, heal_at=heal_at)

    def isolate(self, node: Any, *, at: float | None = None, heal_at: float | None = None) -> None:
        """Cut ``node`` off from every other node, clerks included, from ``at`` until ``heal_at``."""
        self.sim.check_node("node", node)
        self.sim.nemesis.partition([[node]], at=at, heal_at=heal_at)

    def heal(self, *, at: float | None = None) -> None:
        """End every partition and cut at ``at`` (default now)."""
        self.sim.nemesis.heal(at=at)

    def crash(self, server: Any, *, at: float | None = None, restart_at: float | None = None) -> None:
        """Crash ``server`` at ``at`` (default now); restart it at ``restart_at`` (default: stays down)."""
        self._server("server", server)
        self.sim.nemesis.crash(server, at=at, restart_at=restart_at)

    def restart(self, server: Any, *, at: float | None = None) -> None:
        """Restart ``server`` at ``at`` (default now)."""
        self._server("server", server)
        self.sim.nemesis.restart(server, at=at)

    def _server(self, name: str, server: Any) -> Any:
        try:
            known = server in self.ids
        except TypeError:
            known = False
        if not known:
            raise InvalidArgument(f"{name}={server!r} is not a server of this cluster; servers are {self.ids}")
        return server

    def node(self, node_id: Any) -> Any:
        """The server or clerk ``node_id``."""
        return self.sim.node(node_id)

    def leader(self) -> Any:
        """The id of the up server that believes it leads the highest term, or None."""
        best, best_term = None, -1
        for server in self.servers:
            if server.crashed:
                continue
            term, leads = server.get_state()
            if leads and term > best_term:
                best, best_term = server.id, term
        return best

    # -- workloads -------------------------------------------------------------------------------------------
    def workload(self, *, ops: int = 10, keys: Sequence[Any] = ("x", "y"), read_fraction: float = 0.4,
                 append_fraction: float = 0.3, think: tuple = (0.0, 10.0), start: float = 0.0,
                 clerks: Iterable[Any] | None = None) -> None:
        """Give ``clerks`` (default all) a random workload: ``ops`` operations each over ``keys``.

        A get with probability ``read_fraction``, an append with ``append_fraction``, else a
        put; a random pause in ``think`` between two operations; the first after ``start``.
        """
        work = make_workload(ops=ops, keys=keys, read_fraction=read_fraction,
                             append_fraction=append_fraction, think=think, start=start)
        for clerk in self._clerks(clerks):
            self._assign(clerk, dict(work))

    def script(self, clerk: Any, steps: Sequence[tuple]) -> None:
        """Give ``clerk`` a script: ``(time, f, key)`` or ``(time, f, key, value)`` steps.

        Each step is issued at its time or when the previous one ends, whichever is later.
        A new workload or script replaces the clerk's current one (an open operation finishes).
        """
        self._clerks([clerk])
        self._assign(clerk, make_workload(script=steps))

    def _clerks(self, clerks: Any) -> list:
        if clerks is None:
            return list(self.clerk_ids)
        ids = check_ids("clerks", clerks)
        for c in ids:
            if c not in self.clerk_ids:
                raise InvalidArgument(f"clerks names {c!r}, which is not a clerk; clerks are {self.clerk_ids}")
        return ids

    def _assign(self, clerk: Any, work: dict) -> None:
        """Give ``clerk`` a new workload: it counts from the operations issued so far."""
        node = self.sim.node(clerk)
        work["offset"] = node.issued
        self.recorder.workloads[clerk] = work
        self.sim.after(0.0, node.kick)

    # -- running -------------------------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """The simulated time."""
        return self.sim.now

    def run(self, until: float) -> None:
        """Run the simulation until time ``until``."""
        check_number("until", until, low=self.sim.now, low_open=True,
                     what=f"a finite time after now ({self.sim.now:g})")
        self.sim.run(until=until)
        self._check_started()

    def run_for(self, duration: float) -> None:
        """Let ``duration`` units of simulated time pass."""
        check_number("duration", duration, low=0, low_open=True, what="a positive duration")
        self.run(self.sim.now + duration)

    def run_until_done(self, limit: float = 20_000.0, step: float = 100.0) -> bool:
        """Run until every clerk has finished its workload, or until time ``limit``; return whether they did."""
        check_number("limit", limit, low=0, what="a time >= 0")
        check_number("step", step, low=0, low_open=True, what="a positive duration")
        while not self.done():
            if self.sim.now >= limit:
                return False
            self.run(min(limit, self.sim.now + step))
        return True

    def done(self) -> bool:
        """Whether every clerk has finished its workload."""
        return all(self.sim.node(c).finished for c in self.clerk_ids)

    def _check_constructed(self) -> None:
        marker = "_lm" if issubclass(self.log_class, LogModel) else "current_term"
        for server in self.servers:
            if marker not in vars(server):
                raise NodeDefinitionError(
                    f"{type(server).__name__}.__init__ never reached {self.log_class.__name__}.__init__: "
                    "the service's __init__ must call super().__init__() (the log sets up its state there)")
        for clerk in self.clerks:
            if "_kv_open" not in vars(clerk):
                raise NodeDefinitionError(
                    f"{type(clerk).__name__}.__init__ never reached ClerkBase.__init__: a clerk's "
                    "__init__ must call super().__init__()")

    def _check_started(self) -> None:
        if not issubclass(self.log_class, LogModel):
            return
        for server in self.servers:
            if not server.crashed and not server._lm_started:
                raise NodeDefinitionError(
                    f"{type(server).__name__}.on_start never reached LogModel.on_start: a service that "
                    "defines on_start must call super().on_start() (the log starts its timers there)")

    def _sample(self) -> None:
        for server in self.servers:
            if not server.crashed:
                self._samples[server.id].append((self.sim.now, server.log_size()))
        self.sim.after(SAMPLE_EVERY, self._sample)

    # -- what happened ------------------------------------------------------------------------------------------
    @property
    def history(self) -> History:
        """The clients' history so far (every clerk's operations, process = clerk id)."""
        return self.recorder.history

    def operations(self) -> list[Operation]:
        """The history's operations, in invocation order."""
        return self.history.operations()

    def linearizable(self, budget: int | None = None) -> LinearizabilityResult:
        """Chapter 01's linearizability checker on the history, with the key-value model."""
        if budget is None:
            return check_linearizability(self.history, "kv")
        return check_linearizability(self.history, "kv", budget=budget)

    def failing_key(self) -> tuple[Any, LinearizabilityResult] | None:
        """The key with the fewest operations whose history is not linearizable, and its verdict; or None."""
        by_key: dict = {}
        for op in self.operations():
            by_key.setdefault(op.key, []).append(op)
        for key in sorted(by_key, key=lambda k: (len(by_key[k]), repr(k))):
            verdict = check_linearizability(by_key[key], "kv")
            if verdict.valid is False:
                return key, verdict
        return None

    def check_linearizable(self, what: str = "the run") -> LinearizabilityResult:
        """Raise :class:`~course_lib.sim.ScenarioFailed` unless the history is linearizable.

        The failure names the smallest key whose history is not linearizable, explains the
        checker's verdict, and draws that key's history and the run around it.
        """
        check_type("what", what, str, what="a str")
        verdict = self.linearizable()
        if verdict.valid is True:
            return verdict
        found = self.failing_key() if verdict.valid is False else None
        if found is None:
            raise ScenarioFailed(f"{what}: the linearizability checker gave no verdict: {verdict.reason}",
                                 self.sim, history=self.history)
        key, small = found
        ops = [op for op in self.operations() if op.key == key]
        stuck = list(small.stuck) + ([small.deadline] if small.deadline is not None else [])
        raise ScenarioFailed(f"{what}: the history of key {key!r} ({len(ops)} operations) is not "
                             f"linearizable:\n{small.explain()}", self.sim, history=self.history,
                             operations=stuck or ops)

    def stale_reads(self) -> list[Operation]:
        """The gets that certainly missed a write (see :func:`stale_reads`)."""
        return stale_reads(self.history)

    def snapshot_sizes(self) -> dict[Any, int]:
        """Each server's snapshot size in bytes now (the log model's pickled snapshot; 0 without one)."""
        out = {}
        for server in self.servers:
            size = getattr(server, "snapshot_size", None)
            out[server.id] = size() if callable(size) and not server.crashed else 0
        return out

    def counts(self) -> dict:
        """Operations: all, ok, still open (indeterminate)."""
        ops = self.operations()
        return {"ops": len(ops), "ok": sum(op.status == "ok" for op in ops),
                "open": sum(op.indeterminate for op in ops)}

    def latencies(self, f: str | None = None) -> list[float]:
        """The latency of every completed operation (of function ``f``: ``"get"``, ``"put"``, ``"append"``)."""
        return [op.return_time - op.call_time for op in self.operations()
                if op.status == "ok" and (f is None or op.f == f)]

    def message_counts(self) -> dict[str, int]:
        """Messages sent so far, by type (sorted by type)."""
        counts: dict[str, int] = {}
        for row in self.sim.trace.filter(kind="send"):
            counts[row.type] = counts.get(row.type, 0) + 1
        return dict(sorted(counts.items()))

    def messages_per_op(self, types: Iterable[str] | None = None) -> float:
        """Messages sent (of ``types``; default all) per completed operation."""
        counts = self.message_counts()
        if types is not None:
            wanted = set(check_ids("types", types))
            counts = {t: c for t, c in counts.items() if t in wanted}
        ok = self.counts()["ok"]
        return sum(counts.values()) / ok if ok else float("nan")

    def log_sizes(self) -> dict[Any, list[tuple[float, int]]]:
        """Each server's log size (entries after its snapshot) over time, sampled every 25 units."""
        return {server: list(samples) for server, samples in self._samples.items()}

    def max_log_size(self) -> int:
        """The largest log size any server had at a sample."""
        return max((size for samples in self._samples.values() for _, size in samples), default=0)

    def summary(self) -> dict:
        """What the run cost, in one dict: operations (all, ok, open), messages per completed operation
        (all, and the clerks' own), latency (median, 90th percentile, max), the largest log size."""
        lat = sorted(self.latencies())
        client = sum(1 for row in self.sim.trace.filter(kind="send")
                     if row.node in self.clerk_ids or row.peer in self.clerk_ids)
        ok = self.counts()["ok"]

        def pick(q: float) -> float:
            return round(lat[min(len(lat) - 1, int(q * len(lat)))], 3) if lat else float("nan")

        return {**self.counts(),
                "messages_per_op": round(self.messages_per_op(), 3),
                "client_messages_per_op": round(client / ok, 3) if ok else float("nan"),
                "latency_median": pick(0.5), "latency_p90": pick(0.9),
                "latency_max": round(lat[-1], 3) if lat else float("nan"),
                "max_log_size": self.max_log_size()}

    def __repr__(self) -> str:
        c = self.counts()
        return (f"<KVCluster {self.server_class.__name__} x{len(self.ids)}, {len(self.clerk_ids)} clerks, "
                f"t={self.sim.now:g}: {c['ops']} ops, {c['ok']} ok, {c['open']} open>")


def _tokens(value: Any) -> list:
    return value.split("+") if isinstance(value, str) else [value]


def stale_reads(history: History) -> list[Operation]:
    """Return the gets that certainly returned an old value: each alone proves a history not linearizable.

    A get of key ``k`` is stale if a put or append of ``k`` completed (``ok``) before the
    get began, no other put of ``k`` could have come after it (every other put that did not
    fail had completed before it began), and yet the value read does not hold the written
    value (a put's value, an append's ``+``-separated token, as the workloads make them).

    Raises:
        InvalidArgumentType: ``history`` is not a History.
    """
    if not isinstance(history, History):
        raise InvalidArgumentType(f"history={history!r} must be a course_lib.history.History")
    ops = history.operations()
    by_key: dict = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    stale = []
    for key_ops in by_key.values():
        puts = [op for op in key_ops if op.f == "put" and op.status != "fail"]
        writes = [op for op in key_ops if op.f in ("put", "append") and op.status == "ok"]
        for read in key_ops:
            if read.f != "get" or read.status != "ok":
                continue
            seen = _tokens("" if read.output is None else read.output)
            for write in writes:
                if write.return_index > read.call_index:
                    continue  # not finished before the get began
                overwritable = any(p is not write and (p.return_index is None or p.return_index > write.call_index)
                                   for p in puts)
                token = write.value[1:] if write.f == "append" and isinstance(write.value, str) \
                    and write.value.startswith("+") else write.value
                if not overwritable and token not in seen:
                    stale.append(read)
                    break
    return sorted(stale, key=lambda op: op.call_index)


__all__ = ["KVCluster", "UNRELIABLE", "SAMPLE_EVERY", "stale_reads"]
