"""Single-leader replication on the simulator: followers kept in sync, asynchronously or semi-synchronously;
replication lag, failover losing acknowledged writes, reads from followers; chain replication and CRAQ.

:func:`leader_run` runs clients against a leader and two followers and returns a
:class:`LeaderRun` with the clients' history (for chapter 01's checkers), each
replica's applied log index over time, and what a failover lost.
:func:`chain_run` measures primary-backup, chain replication and CRAQ under
the same closed-loop load, with a service time per message at every node.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ...history import History
from ...sim import Constant, LogNormal, Node, Simulation
from ...sim.validation import (InvalidArgument, check_choice, check_int, check_number,
                               check_probability)

MODES = ("sync", "semisync", "async")
ROUTES = ("leader", "random", "sticky", "token")


class Replica(Node):
    """A replica of a single-leader setup; one of them is the leader (see :meth:`become_leader`)."""

    def __init__(self, mode: str, cluster: dict) -> None:
        self.mode = mode
        self.cluster = cluster        # shared: who leads, who follows (the "coordination service")
        self.log: list = []           # (key, value) in order; index = position + 1
        self.data: dict = {}
        self.waiting: dict = {}       # log index -> (client message, acks still needed)
        self.held_reads: list = []    # (message, index it needs)
        self.out_of_order: dict = {}  # appends that arrived before earlier ones
        self.unshipped: int | None = None  # first log index not yet sent to followers (async)

    @property
    def applied(self) -> int:
        return len(self.log)

    def become_leader(self) -> None:
        """Take over as leader (failover); the log this replica has is the log from now on."""
        self.cluster["leader"] = self.id
        self.cluster["followers"] = [r for r in self.cluster["replicas"] if r != self.id
                                     and not self.sim[r].crashed]
        self.record("leader", index=self.applied)

    def _apply(self, key, value) -> None:
        self.log.append((key, value))
        self.data[key] = value
        self.record("applied", index=self.applied)
        still = []
        for msg, need in self.held_reads:
            if self.applied >= need:
                self._answer_read(msg)
            else:
                still.append((msg, need))
        self.held_reads = still

    def on_write(self, msg):
        if self.cluster["leader"] != self.id:
            self.reply(msg, "not_leader")
            return
        self._apply(msg.key, msg.value)
        index = self.applied
        followers = self.cluster["followers"]
        need = {"sync": len(followers), "semisync": min(1, len(followers)), "async": 0}[self.mode]
        if need == 0:
            # Asynchronous: answer at once; the entry leaves with the next batch (every 10 ms).
            self.reply(msg, "written", index=index)
            if self.unshipped is None:
                self.unshipped = index
                self.set_timer(10.0, self.ship)
        else:
            for f in followers:
                self.send(f, "append", index=index, key=msg.key, value=msg.value)
            self.waiting[index] = [msg, need]

    def ship(self) -> None:
        for index in range(self.unshipped, self.applied + 1):
            key, value = self.log[index - 1]
            for f in self.cluster["followers"]:
                self.send(f, "append", index=index, key=key, value=value)
        self.unshipped = None

    def on_append(self, msg):
        if msg.index <= self.applied:
            self.reply(msg, "appended", index=msg.index)
            return
        self.out_of_order[msg.index] = (msg.key, msg.value)
        while self.applied + 1 in self.out_of_order:
            self._apply(*self.out_of_order.pop(self.applied + 1))
        if msg.index <= self.applied:
            self.reply(msg, "appended", index=msg.index)

    def on_appended(self, msg):
        entry = self.waiting.get(msg.index)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del self.waiting[msg.index]
                self.reply(entry[0], "written", index=msg.index)

    def on_read(self, msg):
        need = msg.get("after") or 0
        if self.applied >= need:
            self._answer_read(msg)
        else:
            self.held_reads.append((msg, need))  # a version token ahead of us: wait to catch up

    def _answer_read(self, msg):
        self.reply(msg, "value", value=self.data.get(msg.key), index=self.applied)


class LeaderClient(Node):
    """A closed-loop client: writes to the leader, reads where its ``route`` says, records a history."""

    def __init__(self, cluster: dict, history: History, counter: list, *, route: str, ops: int,
                 read_fraction: float, keys: tuple, think: tuple, timeout: float) -> None:
        self.cluster, self.history, self.counter = cluster, history, counter
        self.route, self.ops, self.read_fraction = route, ops, read_fraction
        self.keys, self.think, self.timeout = keys, think, timeout
        self.issued = 0
        self.token = 0           # the highest log index this client has written or read
        self.home = None

    def on_start(self):
        self.set_timer(self.rng.uniform(*self.think), self.next_op)

    def next_op(self):
        if self.issued >= self.ops:
            return
        self.issued += 1
        key = self.keys[self.rng.randrange(len(self.keys))]
        if self.rng.random() < self.read_fraction:
            self.history.invoke(self.id, "get", key, time=self.sim.now)
            target = self._reader()
            extra = {"after": self.token} if self.route == "token" else {}
            self.request(target, "read", key=key, timeout=self.timeout, **extra,
                         on_reply=self._read_done, on_timeout=self._timed_out)
        else:
            self.counter[0] += 1
            value = self.counter[0]
            self.history.invoke(self.id, "put", key, value, time=self.sim.now)
            self.request(self.cluster["leader"], "write", key=key, value=value, timeout=self.timeout,
                         on_reply=self._write_done, on_timeout=self._timed_out)

    def _reader(self):
        followers = [f for f in self.cluster["followers"] if not self.sim[f].crashed] or [self.cluster["leader"]]
        if self.route == "leader":
            return self.cluster["leader"]
        if self.route == "sticky":
            if self.home not in followers:
                self.home = followers[self.rng.randrange(len(followers))]
            return self.home
        return followers[self.rng.randrange(len(followers))]

    def _again(self):
        self.set_timer(self.rng.uniform(*self.think), self.next_op)

    def _read_done(self, reply):
        self.token = max(self.token, reply.index)
        self.history.ok(self.id, value=reply.value, time=self.sim.now)
        self._again()

    def _write_done(self, reply):
        if reply.type == "not_leader":
            self.history.fail(self.id, time=self.sim.now)
        else:
            self.token = max(self.token, reply.index)
            self.history.ok(self.id, time=self.sim.now)
        self._again()

    def on_written(self, msg):
        """A late answer (after the timeout): the operation is already recorded as unknown."""

    def _timed_out(self, _msg):
        self.history.info(self.id, value="timed out", time=self.sim.now)
        self._again()


@dataclass
class LeaderRun:
    """What :func:`leader_run` recorded."""

    sim: Simulation
    history: History
    mode: str
    replicas: list
    lost: list = field(default_factory=list)   # acknowledged writes missing from the final leader's log

    def write_latencies(self) -> list[float]:
        return [op.return_time - op.call_time for op in self.history.operations()
                if op.f == "put" and op.status == "ok"]

    def applied_series(self) -> dict:
        """``{replica: [(time, applied index), ...]}`` from the trace."""
        out: dict = {r: [(0.0, 0)] for r in self.replicas}
        for e in self.sim.trace.custom("applied"):
            out[e.node].append((e.time, e.info["index"]))
        return out

    def __repr__(self) -> str:
        lat = self.write_latencies()
        mean = statistics.fmean(lat) if lat else float("nan")
        return (f"<LeaderRun {self.mode}: {len(self.history.operations())} ops, mean write latency "
                f"{mean:.1f} ms, {len(self.lost)} acknowledged writes lost>")


def leader_run(mode: str, *, seed: int | str, clients: int = 3, ops: int = 40, route: str = "leader",
               read_fraction: float = 0.5, keys: tuple = ("x", "y"), crash_at: float | None = None,
               detect: float = 50.0, slow: float = 20.0, latency: float = 5.0,
               think: tuple = (5.0, 15.0), timeout: float = 200.0) -> LeaderRun:
    """Run ``clients`` clients against leader ``r1`` and followers ``r2``, ``r3`` and return a :class:`LeaderRun`.

    Args:
        mode: ``"sync"`` (ack after every follower), ``"semisync"`` (after one), ``"async"`` (at once).
        seed: the random seed.
        clients, ops, read_fraction, keys, think: the workload (ms).
        route: where reads go: ``"leader"``, a ``"random"`` follower, a ``"sticky"`` follower
            per client, or a random follower that waits until it has the client's ``"token"``
            (the highest log index the client has seen).
        crash_at: crash the leader then; ``detect`` ms later the live follower with the
            longest log becomes leader (failover).
        slow: the median one-way delay (ms) to follower ``r3`` (log-normal); other links take ``latency``.

    Raises:
        InvalidArgument: ``mode`` or ``route`` is unknown, or a number is out of range.
    """
    check_choice("mode", mode, MODES)
    check_choice("route", route, ROUTES)
    check_int("clients", clients, low=1, high=100)
    check_int("ops", ops, low=0, high=100_000)
    check_probability("read_fraction", read_fraction)
    check_number("detect", detect, low=0)
    check_number("slow", slow, low=0, low_open=True)
    check_number("latency", latency, low=0, low_open=True)
    check_number("timeout", timeout, low=0, low_open=True)
    if crash_at is not None:
        check_number("crash_at", crash_at, low=0)
    if not keys:
        raise InvalidArgument(f"keys={keys!r} must name at least one key")
    sim = Simulation(seed=seed, latency=Constant(latency))
    replicas = ["r1", "r2", "r3"]
    cluster = {"leader": "r1", "followers": ["r2", "r3"], "replicas": replicas, "term": 1}
    sim.add_nodes(Replica, replicas, mode, cluster)
    for a in replicas:
        if a != "r3":
            sim.network.set_link(a, "r3", latency=LogNormal(slow, 0.8))
            sim.network.set_link("r3", a, latency=LogNormal(slow, 0.8))
    history, counter = History(), [0]
    for i in range(clients):
        sim.add_node(LeaderClient, f"c{i + 1}", cluster, history, counter, route=route, ops=ops,
                     read_fraction=read_fraction, keys=tuple(keys), think=think, timeout=timeout)
    if crash_at is not None:
        def crash():
            sim.crash(cluster["leader"])

        def failover():
            best = max((r for r in replicas if not sim[r].crashed), key=lambda r: (sim[r].applied, r))
            cluster["term"] += 1
            sim[best].become_leader()
        sim.at(crash_at, crash)
        sim.at(crash_at + detect, failover)
    sim.run(until=ops * (think[1] + 4 * timeout) + 1000)
    final = sim[cluster["leader"]]
    kept = {v for _, v in final.log}
    lost = sorted(op.value for op in history.operations()
                  if op.f == "put" and op.status == "ok" and op.value not in kept)
    return LeaderRun(sim=sim, history=history, mode=mode, replicas=replicas, lost=lost)


# -- primary-backup, chain replication, CRAQ ----------------------------------------------------------

DESIGNS = ("primary-backup", "chain", "craq")


class _Server(Node):
    """A node that serves one message at a time, each taking ``service`` ms (a queue in front)."""

    def __init__(self, design: str, chain: list, service: float) -> None:
        self.design, self.chain, self.service = design, chain, service
        self.free_at = 0.0
        self.data: dict = {}       # key -> committed version
        self.dirty: dict = {}      # key -> newest version not yet known committed (CRAQ)

    def _queue(self, fn, msg):
        start = max(self.sim.now, self.free_at)
        self.free_at = start + self.service
        self.set_timer(self.free_at - self.sim.now, fn, msg)

    def on_put(self, msg):
        self._queue(self._put, msg)

    def on_get(self, msg):
        self._queue(self._get, msg)

    def on_update(self, msg):
        self._queue(self._update, msg)

    def on_updated(self, msg):
        self._queue(self._updated, msg)

    def on_commit(self, msg):
        self._queue(self._commit, msg)

    def on_version(self, msg):
        self._queue(self._version, msg)

    def _put(self, msg):
        self.data_pending = getattr(self, "data_pending", {})
        version = self.data.get(msg.key, 0) + 1 + len([k for k in self.dirty if k == msg.key])
        if self.design == "primary-backup":
            self.data_pending[(msg.key, version)] = [msg, len(self.chain) - 1]
            self.data[msg.key] = version
            for b in self.chain[1:]:
                self.send(b, "update", key=msg.key, version=version, client=msg.src, op=msg.op)
        else:
            self.dirty[msg.key] = version
            self.send(self.chain[1], "update", key=msg.key, version=version, client=msg.src, op=msg.op)

    def _update(self, msg):
        if self.design == "primary-backup":
            self.data[msg.key] = msg.version
            self.send(msg.src, "updated", key=msg.key, version=msg.version)
            return
        at = self.chain.index(self.id)
        if at == len(self.chain) - 1:  # the tail: committed
            self.data[msg.key] = msg.version
            self.send(msg.client, "done", op=msg.op)
            if self.design == "craq":
                self.send(self.chain[at - 1], "commit", key=msg.key, version=msg.version)
        else:
            self.dirty[msg.key] = msg.version
            self.send(self.chain[at + 1], "update", key=msg.key, version=msg.version,
                      client=msg.client, op=msg.op)

    def _updated(self, msg):
        entry = self.data_pending.get((msg.key, msg.version))
        entry[1] -= 1
        if entry[1] == 0:
            del self.data_pending[(msg.key, msg.version)]
            self.send(entry[0].src, "done", op=entry[0].op)

    def _commit(self, msg):
        self.data[msg.key] = max(self.data.get(msg.key, 0), msg.version)
        if self.dirty.get(msg.key, 0) <= msg.version:
            self.dirty.pop(msg.key, None)
        at = self.chain.index(self.id)
        if at > 0:
            self.send(self.chain[at - 1], "commit", key=msg.key, version=msg.version)

    def _get(self, msg):
        if self.design == "craq" and msg.key in self.dirty and self.id != self.chain[-1]:
            self.send(self.chain[-1], "get", key=msg.key, client=msg.src, op=msg.op, ask=True)
            return
        if msg.get("ask"):
            self.send(msg.client, "done", op=msg.op)
        else:
            self.send(msg.src, "done", op=msg.op)


class _Client(Node):
    def __init__(self, design: str, chain: list, read_fraction: float, keys: int, stats: list) -> None:
        self.design, self.chain, self.read_fraction, self.keys, self.stats = design, chain, read_fraction, keys, stats
        self.n = 0
        self.open: tuple | None = None

    def on_start(self):
        self.go()

    def go(self):
        self.n += 1
        key = f"k{self.rng.randrange(self.keys)}"
        read = self.rng.random() < self.read_fraction
        self.open = (self.n, "get" if read else "put", self.sim.now)
        if read:
            target = {"primary-backup": self.chain[0], "chain": self.chain[-1]}.get(
                self.design, self.chain[self.rng.randrange(len(self.chain))])
            self.send(target, "get", key=key, op=self.n)
        else:
            self.send(self.chain[0], "put", key=key, op=self.n)

    def on_done(self, msg):
        if self.open and msg.op == self.open[0]:
            self.stats.append((self.open[1], self.open[2], self.sim.now))
            self.go()


@dataclass
class ChainRun:
    """Throughput and latency of one :func:`chain_run`."""

    design: str
    duration: float
    ops: list

    def throughput(self, f: str | None = None) -> float:
        """Completed operations per second (``f``: only ``"get"`` or ``"put"``)."""
        return sum(1 for op in self.ops if f is None or op[0] == f) / (self.duration / 1000.0)

    def latency(self, f: str) -> float:
        lat = [end - start for g, start, end in self.ops if g == f]
        return statistics.median(lat) if lat else float("nan")

    def __repr__(self) -> str:
        return (f"<ChainRun {self.design}: {self.throughput():.0f} ops/s, median get "
                f"{self.latency('get'):.1f} ms, put {self.latency('put'):.1f} ms>")


def chain_run(design: str, *, seed: int | str, replicas: int = 3, clients: int = 12,
              read_fraction: float = 0.9, keys: int = 100, service: float = 1.0,
              latency: float = 2.0, duration: float = 2000.0) -> ChainRun:
    """Run closed-loop clients against ``design`` and measure throughput and median latencies.

    ``"primary-backup"``: the primary serves reads and sends each write to every backup
    in parallel, answering once all acknowledged. ``"chain"``: writes enter at the head
    and pass down the chain; the tail answers them and serves every read.
    ``"craq"``: chain writes; a read goes to any replica, which answers at once if it holds
    the key clean, and otherwise asks the tail (Terrace and Freedman 2009).

    Raises:
        InvalidArgument: ``design`` is unknown, or a number is out of range.
    """
    check_choice("design", design, DESIGNS)
    check_int("replicas", replicas, low=2, high=20)
    check_int("clients", clients, low=1, high=1000)
    check_probability("read_fraction", read_fraction)
    check_int("keys", keys, low=1)
    check_number("service", service, low=0, low_open=True)
    check_number("latency", latency, low=0)
    check_number("duration", duration, low=0, low_open=True)
    sim = Simulation(seed=seed, latency=latency, trace=False)
    chain = [f"s{i + 1}" for i in range(replicas)]
    sim.add_nodes(_Server, chain, design, chain, service)
    stats: list = []
    for i in range(clients):
        sim.add_node(_Client, f"c{i + 1}", design, chain, read_fraction, keys, stats)
    sim.run(until=duration)
    return ChainRun(design=design, duration=duration, ops=stats)
