"""The exercise's graded scenarios: a key-value service on a replicated log, checked by chapter 01's checker.

Each scenario takes the learner's service class and clerk class and a ``seed``, runs a
:class:`~.cluster.KVCluster`, records every clerk's operations in a history, and raises
:class:`~course_lib.sim.ScenarioFailed` when an operation never completes once the faults
are over, when the history is not linearizable (the smallest failing key's history is
explained, and drawn with the run by ``.draw()``), or when a measured bound is broken. Run
them with :func:`course_lib.grading.check_scenario`.

- Random workloads under faults: :func:`kv_one_client`, :func:`kv_many_clients`,
  :func:`kv_unreliable`, :func:`kv_partitions` (the leader, or a minority),
  :func:`kv_crashes` (every server crashes and restarts, one at a time and all at once).
- Reads (Part 2): :func:`kv_reads_skip_log` (gets must not all go through the log; ReadIndex
  and leases both pass).
- Snapshots (Part 3): :func:`kv_snapshot_size` (the log stays near its threshold, a snapshot
  near the size of the state) and :func:`kv_snapshot_restart` (every server restarts from
  its snapshot).
- :func:`kv_scripted`: schedules fixed in advance (who is cut off, when, which reply is lost),
  so that the mistake each one targets fails on every seed, not on an unlucky one.

Timing (simulated units, think milliseconds): messages take 1-10 units; the log model elects
a leader within about 300 units and applies a committed entry 1-8 units after learning of it.
"""

from __future__ import annotations

import pickle
from typing import Any, Callable

from ....sim import ScenarioFailed
from ....sim.validation import check_choice, check_int
from .cluster import KVCluster
from .log import LogModel, world

#: How long (simulated units) the operations of a scenario may take once its faults are over.
SETTLE = 4000.0
#: A snapshot may be at most this many times the size of the state it holds (pickled), plus
#: :data:`SNAPSHOT_SLACK` bytes per clerk (its entry in the duplicate table) and once more.
SNAPSHOT_FACTOR = 3
SNAPSHOT_SLACK = 200
#: A server's log may hold at most this many times the snapshot threshold (entries after its snapshot).
LOG_FACTOR = 2
#: Part 2: at most this many log entries per get (ReadIndex and leases need none).
ENTRIES_PER_GET = 0.5

SCHEDULES = ("lost_reply", "cut_off_leader", "index_reused", "leader_crash", "new_leader_read",
             "lease_drift", "snapshot_retry")


# -- what the scenarios share -------------------------------------------------------------------------

def _cluster(server_cls: type, clerk_cls: type, seed: Any, **options: Any) -> KVCluster:
    return KVCluster(server_cls, clerk_cls, seed=seed, **options)


def _run_until(cluster: KVCluster, condition: Callable[[], bool], limit: float, step: float = 5.0) -> bool:
    """Run in steps of ``step`` until ``condition()`` holds or time ``limit``; return whether it held."""
    while not condition():
        if cluster.now >= limit:
            return False
        cluster.run(min(limit, cluster.now + step))
    return True


def _open_ops(cluster: KVCluster) -> list:
    return [op for op in cluster.operations() if op.status is None]


def _never_completed(cluster: KVCluster, what: str, since: str) -> ScenarioFailed:
    stuck = _open_ops(cluster)
    first = stuck[0] if stuck else None
    detail = f"{first} (invoked at t={first.call_time:g})" if first is not None else "an operation"
    return ScenarioFailed(f"{what}: {len(stuck)} operation(s) never completed, {since}: {detail}; a clerk "
                          "must retry until its operation succeeds, trying the other servers when one "
                          "does not answer or does not lead", cluster.sim, history=cluster.history,
                          operations=stuck)


def _settle(cluster: KVCluster, what: str, since: str, limit: float | None = None) -> None:
    """Every clerk finishes its workload by ``limit`` (default: SETTLE units from now)."""
    if not cluster.run_until_done(limit=cluster.now + SETTLE if limit is None else limit, step=50.0):
        raise _never_completed(cluster, what, since)


def _final_reads(cluster: KVCluster, keys: Any, what: str, clerk: str | None = None) -> None:
    """A get of every key, one after another, by ``clerk`` (default the first), once the faults are over."""
    reader = cluster.node(clerk or cluster.clerk_ids[0])
    for key in keys:
        _begin(cluster, reader.id, "get", key)
        if not _run_until(cluster, lambda: not reader.busy, cluster.now + SETTLE, step=20.0):
            raise _never_completed(cluster, what, "once every fault was over (a final read)")


def _begin(cluster: KVCluster, clerk: str, f: str, key: Any, value: str | None = None) -> None:
    """Have ``clerk`` issue one operation now (it must be idle)."""
    node = cluster.node(clerk)
    cluster.sim.after(0.0, node.begin, f, key, value)
    cluster.run(cluster.now + 1e-6)


def _done(cluster: KVCluster, clerk: str, what: str, limit: float, since: str) -> None:
    node = cluster.node(clerk)
    if not _run_until(cluster, lambda: not node.busy, limit):
        raise _never_completed(cluster, what, since)


def _elect(cluster: KVCluster, what: str, limit: float = 3000.0) -> Any:
    """Run until a leader has committed an entry of its own term (its no-op); return its id."""
    def ready():
        leader = cluster.leader()
        if leader is None or not issubclass(cluster.log_class, LogModel):
            return leader is not None
        node = cluster.node(leader)
        committed = world(cluster.sim).committed
        return bool(committed) and committed[-1][0] == node.current_term and \
            node.commit_index >= len(committed)
    if not _run_until(cluster, ready, limit):
        raise ScenarioFailed(f"{what}: no leader after t={limit:g} with every server up and connected "
                             "(does your service's on_start call super().on_start()?)", cluster.sim)
    return cluster.leader()


def _keys(cluster: KVCluster) -> list:
    return sorted({op.key for op in cluster.operations()}, key=repr)


def _counts(**counts: Any) -> None:
    for name, (value, low, high) in counts.items():
        check_int(name, value, low=low, high=high)


# -- random workloads under faults ------------------------------------------------------------------------

def _random_run(server_cls: type, clerk_cls: type, seed: Any, *, what: str, clerks: int, ops: int,
                n: int = 3, keys: tuple = ("x", "y", "z"), faults: Callable | None = None,
                fault_end: float = 0.0, **options: Any) -> KVCluster:
    cluster = _cluster(server_cls, clerk_cls, seed, n=n, clerks=clerks, **options)
    cluster.workload(ops=ops, keys=keys, think=(5.0, 60.0), start=350.0)
    if faults is not None:
        faults(cluster)
        if cluster.now < fault_end:
            cluster.run(fault_end)
    _settle(cluster, what, f"by {SETTLE:g} units after the last fault ended (t={fault_end:g})")
    if getattr(cluster, "unreliable", False):
        cluster.set_unreliable(False)
    _final_reads(cluster, _keys(cluster), what)
    cluster.check_linearizable(what)
    return cluster


def kv_one_client(server_cls: type, clerk_cls: type, seed: Any, *, ops: int = 15,
                  log: type = LogModel) -> KVCluster:
    """One clerk, no faults: a fixed start (put, append, get, append, get of one key), then ``ops`` random operations.

    Every operation completes and the history is linearizable: a clerk that reuses a
    sequence number for a new operation gets the old operation's answer.
    """
    _counts(ops=(ops, 0, 1000))
    what = "one clerk, no faults"
    cluster = _cluster(server_cls, clerk_cls, seed, clerks=1, log=log)
    _elect(cluster, what)
    for f, value in (("put", "a"), ("append", "b"), ("get", None), ("append", "c"), ("get", None)):
        _begin(cluster, "c1", f, "k", value)
        _done(cluster, "c1", what, cluster.now + SETTLE, "with every server up and connected")
    cluster.workload(ops=ops, keys=("k", "x"), think=(0.0, 20.0), start=cluster.now)
    _settle(cluster, what, "with every server up and connected")
    cluster.check_linearizable(what)
    return cluster


def kv_many_clients(server_cls: type, clerk_cls: type, seed: Any, *, clerks: int = 5, ops: int = 10,
                    log: type = LogModel) -> KVCluster:
    """``clerks`` clerks at once, ``ops`` random operations each over three keys, no faults: linearizable."""
    _counts(clerks=(clerks, 1, 50), ops=(ops, 0, 1000))
    return _random_run(server_cls, clerk_cls, seed, what=f"{clerks} concurrent clerks, no faults",
                       clerks=clerks, ops=ops, log=log)


def kv_unreliable(server_cls: type, clerk_cls: type, seed: Any, *, clerks: int = 3, ops: int = 10,
                  log: type = LogModel) -> KVCluster:
    """Every message may be lost (10%), duplicated (5%) or delayed and reordered (10%, up to 60 units).

    Every operation completes and the history is linearizable: a request or a reply that is
    lost or duplicated must not make an operation happen twice, or not at all.
    """
    _counts(clerks=(clerks, 1, 50), ops=(ops, 0, 1000))
    return _random_run(server_cls, clerk_cls, seed, what="an unreliable network", clerks=clerks, ops=ops,
                       unreliable=True, log=log)


def kv_partitions(server_cls: type, clerk_cls: type, seed: Any, *, target: str = "leader", n: int = 3,
                  clerks: int = 3, ops: int = 12, log: type = LogModel) -> KVCluster:
    """Partitions while clerks work: the leader (``target="leader"``) or a minority of the servers is cut off.

    Four times, 400 units apart from t=400, the current leader (or a random minority
    without it) is cut off from the other servers for 250 units; the clerks reach every
    server. Every operation completes after the last heal and the history is linearizable.
    """
    check_choice("target", target, ("leader", "minority"))
    _counts(n=(n, 3, 9), clerks=(clerks, 1, 50), ops=(ops, 0, 1000))
    rounds, gap, length = 4, 400.0, 250.0

    def faults(cluster):
        rng = cluster.sim.rng_for("kv partitions")
        for k in range(rounds):
            cluster.run(400.0 + k * gap)
            leader = cluster.leader()
            if target == "leader":
                cut = [leader] if leader is not None else [rng.choice(cluster.ids)]
            else:
                others = [s for s in cluster.ids if s != leader]
                cut = sorted(rng.sample(others, (n - 1) // 2))
            rest = [s for s in cluster.ids if s not in cut]
            cluster.partition([cut, rest], heal_at=cluster.now + length)
    return _random_run(server_cls, clerk_cls, seed, what=f"partitions of the {target}", n=n, clerks=clerks,
                       ops=ops, faults=faults, fault_end=400.0 + (rounds - 1) * gap + length, log=log)


def kv_crashes(server_cls: type, clerk_cls: type, seed: Any, *, clerks: int = 3, ops: int = 12,
               snapshot_threshold: int | None = None, log: type = LogModel) -> KVCluster:
    """Every server crashes and restarts while clerks work: one at a time (the leader first), then all at once.

    From t=400 each server in turn (the leader first) is down for 150 units, 300 units
    apart; then all three crash together and restart 50 units later. A restarted server
    knows only what its log kept (and its snapshot, with ``snapshot_threshold``). Every
    operation completes and the history is linearizable.
    """
    _counts(clerks=(clerks, 1, 50), ops=(ops, 0, 1000))
    if snapshot_threshold is not None:
        _counts(snapshot_threshold=(snapshot_threshold, 1, 10_000))

    def faults(cluster):
        cluster.run(400.0)
        leader = cluster.leader() or cluster.ids[0]
        order = [leader] + [s for s in cluster.ids if s != leader]
        for k, server in enumerate(order):
            cluster.crash(server, at=400.0 + 300.0 * k, restart_at=550.0 + 300.0 * k)
        every = 400.0 + 300.0 * len(order)
        for server in cluster.ids:
            cluster.crash(server, at=every, restart_at=every + 50.0)
    end = 400.0 + 300.0 * 3 + 50.0
    return _random_run(server_cls, clerk_cls, seed, what="crashes and restarts of every server",
                       clerks=clerks, ops=ops, faults=faults, fault_end=end,
                       snapshot_threshold=snapshot_threshold, log=log)


# -- Part 2: reads ---------------------------------------------------------------------------------------------

def _entries(cluster: KVCluster) -> int:
    """Commands committed to the log (a new leader's no-ops left out)."""
    return sum(command is not None for _, command in world(cluster.sim).committed)


def kv_reads_skip_log(server_cls: type, clerk_cls: type, seed: Any, *, clerks: int = 2,
                      gets: int = 12) -> KVCluster:
    """Gets are linearizable and do not go through the log: at most 0.5 log entries per get.

    Each clerk puts its key, then reads it and the other clerks' keys ``gets`` times. The
    log's committed commands (no-ops left out) are counted: the puts need one each, a get
    through the log one more. ReadIndex and leases both need none.
    """
    _counts(clerks=(clerks, 1, 20), gets=(gets, 1, 1000))
    what = "reads without the log"
    cluster = _cluster(server_cls, clerk_cls, seed, clerks=clerks)
    keys = [f"k{i + 1}" for i in range(clerks)]
    _elect(cluster, what)
    for k, (clerk, key) in enumerate(zip(cluster.clerk_ids, keys)):
        steps = [(cluster.now, "put", key)] + [(cluster.now, "get", keys[(k + j) % clerks]) for j in range(gets)]
        cluster.script(clerk, steps)
    _settle(cluster, what, "with every server up and connected")
    cluster.check_linearizable(what)
    done_gets = sum(op.f == "get" and op.status == "ok" for op in cluster.operations())
    writes = sum(op.f != "get" for op in cluster.operations())
    extra = _entries(cluster) - writes
    if extra > ENTRIES_PER_GET * done_gets:
        raise ScenarioFailed(f"{what}: {done_gets} gets and {writes} puts put {_entries(cluster)} commands in "
                             f"the log: {extra / done_gets:.2f} entries per get (at most {ENTRIES_PER_GET:g}); "
                             "answer a get without the log, after a ReadIndex round (read_index) or under a "
                             "valid lease (lease_valid)", cluster.sim, history=cluster.history)
    return cluster


# -- Part 3: snapshots ------------------------------------------------------------------------------------------

def _state_size(cluster: KVCluster) -> int:
    """The pickled size of the key-value state the final reads saw."""
    final: dict = {}
    for op in cluster.operations():
        if op.f == "get" and op.status == "ok":
            final[op.key] = op.output
    return len(pickle.dumps(final, protocol=4))


def _snapshot_sizes(cluster: KVCluster) -> list:
    return [(e.time, e.node, e.info["size"]) for e in cluster.sim.trace.custom("snapshot")]


def kv_snapshot_size(server_cls: type, clerk_cls: type, seed: Any, *, threshold: int = 10, clerks: int = 3,
                     ops: int = 25) -> KVCluster:
    """With a snapshot threshold, no log grows past twice it, and no snapshot is much bigger than the state.

    Clerks put (80%) and get (20%) three keys, so the state stays small however many
    operations there are. Checked: every server's log size, sampled every 25 units, is at
    most ``2 * threshold``; every snapshot is at most 3 times the pickled size of the final
    state plus 200 bytes per clerk and 200 more (a snapshot holds the state and the duplicate
    table, not the commands that made them); and the history is linearizable.
    """
    _counts(threshold=(threshold, 1, 10_000), clerks=(clerks, 1, 50), ops=(ops, 0, 1000))
    what = f"snapshots with threshold {threshold}"
    cluster = _cluster(server_cls, clerk_cls, seed, clerks=clerks, snapshot_threshold=threshold)
    cluster.workload(ops=ops, keys=("x", "y", "z"), read_fraction=0.2, append_fraction=0.0,
                     think=(0.0, 30.0), start=350.0)
    _settle(cluster, what, "with every server up and connected")
    cluster.run(cluster.now + 200.0)   # followers apply the last entries, and may snapshot
    _final_reads(cluster, ("x", "y", "z"), what)
    cluster.check_linearizable(what)
    biggest = cluster.max_log_size()
    if biggest > LOG_FACTOR * threshold:
        server, when = next((s, t) for s, samples in cluster.log_sizes().items() for t, size in samples
                            if size == biggest)
        raise ScenarioFailed(f"{what}: server {server}'s log held {biggest} entries at t={when:g}, more than "
                             f"{LOG_FACTOR} x the threshold: once log_size() passes snapshot_threshold, "
                             "snapshot what the service has applied", cluster.sim, history=cluster.history)
    sizes = _snapshot_sizes(cluster)
    if not sizes:
        raise ScenarioFailed(f"{what}: {_entries(cluster)} commands were committed and no server took a "
                             "snapshot", cluster.sim, history=cluster.history)
    state = _state_size(cluster)
    bound = SNAPSHOT_FACTOR * state + SNAPSHOT_SLACK * (clerks + 1)
    when, server, size = max(sizes, key=lambda row: row[2])
    if size > bound:
        raise ScenarioFailed(f"{what}: server {server} took a snapshot of {size} bytes at t={when:g}; the "
                             f"state is {state} bytes pickled (final values of x, y, z), so a snapshot of the "
                             f"state and the duplicate table should be at most {bound} bytes: keep the state, "
                             "not the commands that made it", cluster.sim, history=cluster.history)
    return cluster


def kv_snapshot_restart(server_cls: type, clerk_cls: type, seed: Any, *, threshold: int = 5,
                        clerks: int = 2, ops: int = 12) -> KVCluster:
    """Every server crashes and restarts from its snapshot; no acknowledged append is lost or doubled.

    Clerks append to two keys (every entry of the log is an append, so a snapshot that
    leaves out the entry at its index loses one); once they are done and every server has
    applied everything and snapshotted (threshold ``threshold``), all servers crash together
    and restart; then every key is read. The log no longer holds the early entries: only a
    snapshot restored in ``on_apply_snapshot`` brings them back.
    """
    _counts(threshold=(threshold, 1, 1000), clerks=(clerks, 1, 50), ops=(ops, 1, 1000))
    what = f"a restart of every server from its snapshot (threshold {threshold})"
    cluster = _cluster(server_cls, clerk_cls, seed, clerks=clerks, snapshot_threshold=threshold)
    cluster.workload(ops=ops, keys=("x", "y"), read_fraction=0.0, append_fraction=1.0, think=(0.0, 20.0),
                     start=350.0)
    _settle(cluster, what, "with every server up and connected")
    cluster.run(cluster.now + 200.0)
    if not any(e.node for e in cluster.sim.trace.custom("snapshot")):
        raise ScenarioFailed(f"{what}: {_entries(cluster)} appends were committed with a threshold of "
                             f"{threshold} and no server took a snapshot", cluster.sim, history=cluster.history)
    for server in cluster.ids:
        cluster.crash(server, restart_at=cluster.now + 30.0)
    cluster.run(cluster.now + 40.0)
    _elect(cluster, what)
    _final_reads(cluster, ("x", "y"), what)
    cluster.check_linearizable(what)
    return cluster


# -- scripted schedules -------------------------------------------------------------------------------------------

class FollowersApplyLate(LogModel):
    """The log model, except that a follower applies what it learns is committed 1000-1100 units late.

    A follower that becomes leader keeps the late apply it had planned, so for its first
    1000 units as leader its commit index runs far ahead of what its service has applied.
    """

    @property
    def APPLY_DELAY(self):  # noqa: N802 - the log model's name for it
        return LogModel.APPLY_DELAY if self.get_state()[1] else (1000.0, 1100.0)


def _cut_off_setup(cluster: KVCluster, what: str) -> Any:
    """Elect a leader, have c1 put x through it, then cut it and c1 off from the rest; return the old leader."""
    old = _elect(cluster, what)
    _begin(cluster, "c1", "put", "x")
    _done(cluster, "c1", what, cluster.now + SETTLE, "with every server up and connected")
    rest = [s for s in cluster.ids if s != old]
    cluster.partition([[old, "c1", "c3"], rest + ["c2"]])
    return old


def _new_leader(cluster: KVCluster, old: Any, what: str) -> Any:
    def elected():
        leader = cluster.leader()
        return leader is not None and leader != old
    if not _run_until(cluster, elected, cluster.now + 3000.0):
        raise ScenarioFailed(f"{what}: the servers cut off from the old leader {old} elected no new leader",
                             cluster.sim)
    return cluster.leader()


def _lost_reply(cluster: KVCluster, what: str) -> None:
    """c2 puts y; the servers' replies to c1 are lost for 700 units while c1 appends to x; x and y are read."""
    _elect(cluster, what)
    _begin(cluster, "c2", "put", "y")
    _done(cluster, "c2", what, cluster.now + SETTLE, "with every server up and connected")
    cluster.sim.nemesis.partition_one_way(cluster.ids, ["c1"], heal_at=cluster.now + 700.0)
    _begin(cluster, "c1", "append", "x")
    cluster.run(cluster.now + 700.0)
    _done(cluster, "c1", what, cluster.now + SETTLE, "after the replies to c1 got through again")
    _final_reads(cluster, ("x", "y"), what, clerk="c2")


def _cut_off_leader(cluster: KVCluster, what: str) -> None:
    """The leader and clerks c1, c3 are cut off from the others and c2; the old leader's clock runs 40% fast;
    c1 puts y on the old leader at once, c2 puts x on the new one, then c3 gets x on the old one; 600 units
    later the partition heals."""
    old = _cut_off_setup(cluster, what)
    # The old leader's clock runs 40% fast from now on: it gives up on a read's confirmation round
    # (after CONFIRM_TIMEOUT on its clock) well within a clerk's patience, and its lease, on the
    # same clock, ends sooner, never later (the safe way for leases).
    cluster.node(old).clock.set_drift(0.4)
    _begin(cluster, "c1", "put", "y")
    _begin(cluster, "c2", "put", "x")
    _done(cluster, "c2", what, cluster.now + SETTLE, f"on the majority's side of a partition (old leader {old})")
    _begin(cluster, "c3", "get", "x")
    cluster.run(cluster.now + 600.0)
    cluster.heal()
    for clerk in ("c1", "c3"):
        _done(cluster, clerk, what, cluster.now + SETTLE, "after the partition healed")
    _final_reads(cluster, ("x", "y"), what, clerk="c2")


def _index_reused(cluster: KVCluster, what: str) -> None:
    """The leader and c1 are cut off; the new leader commits c2's puts of z; then c1 puts y on the old leader,
    and 11 units later (its request there) the partition heals: the old leader learns that other commands
    hold the indices it gave c1's put."""
    old = _cut_off_setup(cluster, what)
    _new_leader(cluster, old, what)
    for _ in range(3):
        _begin(cluster, "c2", "put", "z")
        _done(cluster, "c2", what, cluster.now + SETTLE, f"on the majority's side of a partition (old leader {old})")
    _begin(cluster, "c1", "put", "y")
    cluster.run(cluster.now + 11.0)
    cluster.heal()
    _done(cluster, "c1", what, cluster.now + SETTLE, "after the partition healed")
    _final_reads(cluster, ("x", "y", "z"), what, clerk="c2")


def _leader_crash(cluster: KVCluster, what: str) -> None:
    """c1 puts x through the leader, which then crashes for good; c1 appends to x and reads it."""
    old = _elect(cluster, what)
    _begin(cluster, "c1", "put", "x")
    _done(cluster, "c1", what, cluster.now + SETTLE, "with every server up and connected")
    cluster.crash(old)
    for f in ("append", "get"):
        _begin(cluster, "c1", f, "x")
        _done(cluster, "c1", what, cluster.now + SETTLE,
              f"with {len(cluster.ids) - 1} of {len(cluster.ids)} servers up and connected (the leader {old} crashed)")


def _new_leader_read(cluster: KVCluster, what: str) -> None:
    """Followers apply 1000 units late (FollowersApplyLate). c1 puts x through the leader; the leader and c1
    are cut off; c2 gets x from the new leader, whose commit index is ahead of what it has applied."""
    old = _cut_off_setup(cluster, what)
    _begin(cluster, "c2", "get", "x")
    _done(cluster, "c2", what, cluster.now + SETTLE, f"on the majority's side of a partition (old leader {old})")
    cluster.heal()
    _final_reads(cluster, ("x",), what, clerk="c2")


def _lease_drift(cluster: KVCluster, what: str) -> None:
    """Clocks drift within the log's bound: the leader's runs slow, the others' fast. The leader and c1 are
    cut off; c1 keeps reading x on it while c2 puts x on the new leader; then all heal."""
    old = _elect(cluster, what)
    bound = cluster.log_class.DRIFT_BOUND * 0.99
    for server in cluster.ids:
        cluster.node(server).clock.set_drift(-bound if server == old else bound)
    _begin(cluster, "c1", "put", "x")
    _done(cluster, "c1", what, cluster.now + SETTLE, "with every server up and connected")
    rest = [s for s in cluster.ids if s != old]
    cluster.partition([[old, "c1"], rest + ["c2"]])
    _begin(cluster, "c2", "put", "x")
    reader = cluster.node("c1")
    end = cluster.now + 800.0
    while cluster.now < end:
        if not reader.busy:
            _begin(cluster, "c1", "get", "x")
        cluster.run(min(end, cluster.now + 2.0))
    cluster.heal()
    for clerk in ("c1", "c2"):
        _done(cluster, clerk, what, cluster.now + SETTLE, "after the partition healed")
    _final_reads(cluster, ("x",), what, clerk="c2")


def _snapshot_retry(cluster: KVCluster, what: str) -> None:
    """Snapshots every 5 entries. The servers' replies to c1 are lost while c1 appends to x and c2 puts y 12
    times; every server has snapshotted past c1's append when all crash and restart; then c1's retries get
    through, and x and y are read."""
    _elect(cluster, what)
    cut_until = cluster.now + 1500.0
    cluster.sim.nemesis.partition_one_way(cluster.ids, ["c1"], heal_at=cut_until)
    _begin(cluster, "c1", "append", "x")
    cluster.run(cluster.now + 50.0)
    for _ in range(12):
        _begin(cluster, "c2", "put", "y")
        _done(cluster, "c2", what, cluster.now + SETTLE, "with every server up and connected")
    cluster.run(cluster.now + 200.0)   # every server applies everything, and snapshots
    for server in cluster.ids:
        cluster.crash(server, restart_at=cluster.now + 20.0)
    if cluster.now + 30.0 < cut_until:
        cluster.run(cut_until)
    else:
        cluster.run(cluster.now + 30.0)
    _done(cluster, "c1", what, cluster.now + SETTLE, "after the replies to c1 got through again")
    _final_reads(cluster, ("x", "y"), what, clerk="c2")


_SCRIPTS = {
    "lost_reply": (_lost_reply, {"clerks": 2}),
    "cut_off_leader": (_cut_off_leader, {"clerks": 3}),
    "index_reused": (_index_reused, {"clerks": 3}),
    "leader_crash": (_leader_crash, {"clerks": 1}),
    "new_leader_read": (_new_leader_read, {"clerks": 3, "log": FollowersApplyLate}),
    "lease_drift": (_lease_drift, {"clerks": 2}),
    "snapshot_retry": (_snapshot_retry, {"clerks": 2, "snapshot_threshold": 5}),
}

_WHAT = {
    "lost_reply": "a reply lost after its command applied (the clerk retries)",
    "cut_off_leader": "a leader cut off while a new one writes",
    "index_reused": "a leader cut off: the index start() gave is reused by another command",
    "leader_crash": "the leader crashes for good",
    "new_leader_read": "a read on a new leader that has not applied what it knows is committed",
    "lease_drift": "reads on a cut-off leader while clocks drift within the bound",
    "snapshot_retry": "a retry after every server restarted from a snapshot",
}


def kv_scripted(server_cls: type, clerk_cls: type, seed: Any, *, schedule: str) -> KVCluster:
    """A schedule fixed in advance; every operation completes and the history is linearizable.

    ``schedule``:

    - ``"lost_reply"``: c2 puts y; the servers' replies to c1 are lost for 700 units while c1
      appends to x, so c1 retries an append that was applied (a duplicate table keyed by
      client and sequence number must answer it, not apply it again); x and y are read.
    - ``"cut_off_leader"``: the leader, c1 and c3 are cut off from the other servers and c2;
      c1 puts y on the old leader (it must not answer before the put is applied), c2 puts x
      on the new leader, then c3 gets x on the old leader (a get answered from its state
      would be stale); after 600 units the partition heals.
    - ``"index_reused"``: the leader and c1 are cut off; the new leader commits c2's puts;
      c1 puts y on the old leader just before the partition heals: other commands then
      commit at the index ``start()`` gave c1's put (it must not be answered as done).
    - ``"leader_crash"``: the leader crashes for good after c1's first put: c1's next
      operations must find the new leader.
    - ``"new_leader_read"`` (log :class:`FollowersApplyLate`): c1 puts x through the leader,
      which is then cut off; c2 gets x from the new leader, whose commit index runs 1000
      units ahead of what it has applied: a read must wait until the service has applied
      the index ReadIndex gave (or the commit index, under a lease).
    - ``"lease_drift"``: clocks drift at 99% of ``LogModel.DRIFT_BOUND`` (the leader slow,
      the others fast); the leader and c1 are cut off while c1 keeps reading x and c2 puts
      x on the new leader: lease reads within the bound are linearizable.
    - ``"snapshot_retry"`` (snapshot threshold 5): the replies to c1 are lost while c1
      appends to x and c2 puts y 12 times; every server crashes and restarts from its
      snapshot; c1's retries then get through: the duplicate table must be in the snapshot.
    """
    check_choice("schedule", schedule, SCHEDULES)
    run, options = _SCRIPTS[schedule]
    what = f"schedule {schedule!r} ({_WHAT[schedule]})"
    cluster = _cluster(server_cls, clerk_cls, seed, **options)
    run(cluster, what)
    cluster.check_linearizable(what)
    return cluster


__all__ = ["kv_one_client", "kv_many_clients", "kv_unreliable", "kv_partitions", "kv_crashes",
           "kv_reads_skip_log", "kv_snapshot_size", "kv_snapshot_restart", "kv_scripted", "SCHEDULES",
           "FollowersApplyLate"]
