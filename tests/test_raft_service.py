"""Chapter 03c's service framework: the replicated-log model's behaviours, the harness, the naive service.

Each behaviour the log model promises a service (see ``course_lib/topics/raft/service/log.py``) is
forced here by a partition or a crash at a chosen time, and asserted. The exercise's reference
service and clerk, loaded from the solution notebook (never copied into course_lib or the tests: they
are the exercise's answer), show that a correct service passes the checker where the naive one fails.
"""

from __future__ import annotations

import time

import pytest

from course_lib.sim import NodeDefinitionError, ScenarioFailed, Simulation, Uniform
from course_lib.topics.raft.service import KVCluster, KVServiceBase, LogModel, NaiveClerk, NaiveKVServer, world
from tools.reference import load_reference


# -- the exercise's reference service and clerk (loaded from solutions/03c_raft_kv, never copied) ---------------

REF = load_reference("03c_raft_kv", cells=("setup", "kv_server", "kv_clerk", "kv_reads", "kv_snapshots"))
HonestClerk = REF["Clerk"]


class HonestServer(REF["SnapshotKVServer"]):
    """The reference with every get through the log (Part 1's reads), and Part 3's snapshots."""

    def on_kv_request(self, msg):
        REF["KVServer"].on_kv_request(self, msg)


FastReads = REF["SnapshotKVServer"]          # ReadIndex reads (the reference's default READ_MODE)


class LeaseReads(FastReads):
    READ_MODE = "lease"


# -- helpers ----------------------------------------------------------------------------------------------

def model(seed=1, n=3, **drifts):
    sim = Simulation(seed=seed, latency=Uniform(1.0, 10.0))
    nodes = [sim.add_node(LogModel, f"s{i + 1}", clock_drift=drifts.get(f"s{i + 1}", 0.0))
             for i in range(n)]
    return sim, nodes


def leader_of(nodes):
    leaders = [n for n in nodes if not n.crashed and n.get_state()[1]]
    return max(leaders, key=lambda n: n.current_term) if leaders else None


def elect(sim, nodes, until=700):
    sim.run(until=until)
    lead = leader_of(nodes)
    assert lead is not None
    return lead


def roles(sim, name="role"):
    return [(e.time, e.node, e.info["role"], e.info["term"]) for e in sim.trace.custom(name)]


# -- the log model ------------------------------------------------------------------------------------------

def test_elections_take_150_to_300_after_the_leader_is_cut_off_and_terms_grow():
    sim, nodes = model(seed=2)
    old = elect(sim, nodes)
    term = old.current_term
    cut = sim.now
    sim.network.partition([[old.id]])
    sim.run(until=cut + 700)
    new = [n for n in nodes if n is not old and n.get_state()[1]]
    assert len(new) == 1 and new[0].current_term > term
    won = [t for t, node, role, tm in roles(sim) if role == "leader" and node == new[0].id and t > cut]
    assert 150 <= won[0] - cut <= 300 + 50 + 40  # the last heartbeat came up to 50 before the cut
    # the old leader still believes it leads its old term
    assert old.get_state() == (term, True)


def test_a_deposed_leader_accepts_start_its_entries_never_commit_and_their_index_is_reused():
    sim, nodes = model(seed=3)
    old = elect(sim, nodes)
    sim.network.partition([[old.id]])
    index, term, leading = old.start("doomed")
    assert leading and term == old.current_term
    sim.run(until=sim.now + 700)
    new = leader_of([n for n in nodes if n is not old])
    sim.run(until=sim.now + 50)
    w = world(sim)
    assert len(w.committed) >= index and w.committed[index - 1] != (term, "doomed")
    sim.network.heal()
    sim.run(until=sim.now + 300)
    assert not old.get_state()[1] and old.current_term == new.current_term
    assert all(cmd != "doomed" for _, cmd in w.committed)
    assert list(old.log)[index - 1] == list(new.log)[index - 1] != (term, "doomed")   # 03b's pictures read it
    applied = [e.info for e in sim.trace.custom("apply") if e.node == old.id and e.info["index"] == index]
    assert applied and applied[-1]["command"] != "doomed"   # the old leader applied another command there


def test_an_uncommitted_entry_can_survive_into_the_next_term_and_commit_there():
    sim, nodes = model(seed=4)
    lead = elect(sim, nodes)
    follower = [n for n in nodes if n is not lead][0]
    other = [n for n in nodes if n is not lead and n is not follower][0]
    sim.network.partition_one_way([lead.id], [other.id])         # other hears nothing of it
    sim.network.partition_one_way([other.id], [lead.id])
    sim.network.partition_one_way([follower.id], [lead.id])       # the follower's acks are lost
    index, term, _ = lead.start("survivor")
    sim.run(until=sim.now + 60)           # the follower holds it, but the leader never learns it: no commit
    assert lead.commit_index < index and follower.current_term == term
    sim.crash(lead.id)
    sim.network.heal()
    sim.run(until=sim.now + 800)
    w = world(sim)
    assert w.committed[index - 1] == (term, "survivor")
    committer = leader_of(nodes)
    assert committer.current_term > term


def test_a_new_leader_commits_a_no_op_of_its_term_first():
    sim, nodes = model(seed=5)
    lead = elect(sim, nodes)
    w = world(sim)
    assert w.committed[-1] == (lead.current_term, None)


def test_commits_need_a_majority_and_applies_are_late_and_in_bursts():
    sim, nodes = model(seed=6)
    lead = elect(sim, nodes)
    others = [n for n in nodes if n is not lead]
    sim.network.partition([[lead.id, others[0].id], [others[1].id]])
    for k in range(5):
        lead.start(f"c{k}")
    start = sim.now
    sim.run(until=start + 120)
    applies = [(e.time, e.node, e.info["index"]) for e in sim.trace.custom("apply") if e.time >= start]
    by_node = {n.id: [t for t, node, _ in applies if node == n.id] for n in nodes}
    assert by_node[others[1].id] == []                      # cut off: applies nothing
    assert min(by_node[lead.id]) < min(by_node[others[0].id])   # the leader first, the follower later
    assert len(set(by_node[lead.id])) < len(by_node[lead.id])     # several entries at one instant
    sim.network.heal()
    sim.run(until=sim.now + 120)
    assert others[1].last_applied == lead.last_applied
    # without a majority nothing commits
    sim.network.partition([[lead.id], [o.id for o in others]])
    before = len(world(sim).committed)
    idx, _, _ = lead.start("alone")
    sim.run(until=sim.now + 100)
    assert lead.commit_index < idx and len(world(sim).committed) <= max(before, idx - 1)


def test_a_crash_loses_volatile_state_and_a_restart_replays_the_snapshot_then_the_log():
    cluster = KVCluster(HonestServer, HonestClerk, seed=7, clerks=2, snapshot_threshold=5)
    cluster.workload(ops=15, keys=("x", "y"))
    cluster.run(800)
    victim = cluster.node("s2")
    assert victim.snapshot_index() > 0
    cluster.crash("s2", restart_at=cluster.now + 1)
    cluster.run(cluster.now + 2)
    back = cluster.node("s2")
    assert back.incarnation == 1 and back.last_applied == back.snapshot_index()
    assert back.data  # the snapshot gave the service its state back, before any apply
    assert cluster.run_until_done(limit=6000)
    cluster.run(cluster.now + 300)
    leader = cluster.node(cluster.leader())
    assert back.data == leader.data
    cluster.check_linearizable()


def test_a_follower_behind_the_leaders_snapshot_receives_it():
    cluster = KVCluster(HonestServer, HonestClerk, seed=8, clerks=2, snapshot_threshold=4)
    cluster.workload(ops=20, keys=("x",))
    cluster.run(600)
    lagging = [s for s in cluster.ids if s != cluster.leader()][0]
    cluster.isolate(lagging)
    cluster.heal(at=cluster.now + 600)
    assert cluster.run_until_done(limit=8000)
    cluster.run(2000)
    installs = [e for e in cluster.sim.trace.custom("install_snapshot") if e.node == lagging]
    assert installs
    assert cluster.node(lagging).data == cluster.node(cluster.leader()).data
    cluster.check_linearizable()


def test_read_index_answers_a_leader_and_refuses_a_deposed_one():
    sim, nodes = model(seed=9)
    lead = elect(sim, nodes)
    got = []
    sim.at(sim.now, lead.read_index, got.append)
    sim.run(until=sim.now + 40)
    assert got == [lead.commit_index]
    sim.network.partition([[lead.id]])
    sim.at(sim.now, lead.read_index, got.append)
    sim.run(until=sim.now + 150)
    assert got[-1] is None and lead.get_state()[1]   # still believes it leads, cannot confirm
    follower = [n for n in nodes if n is not lead][0]
    sim.at(sim.now, follower.read_index, got.append)
    sim.run(until=sim.now + 1)
    assert got[-1] is None


def test_leases_hold_within_the_drift_bound_and_overlap_beyond_it():
    def overlap(drift_leader, drift_followers):
        sim, nodes = model(seed=10)
        lead = elect(sim, nodes)
        lead.clock.set_drift(drift_leader)
        for n in nodes:
            if n is not lead:
                n.clock.set_drift(drift_followers)
        sim.run(until=sim.now + 100)
        sim.network.partition([[lead.id]])
        both = []
        for _ in range(120):
            sim.run(until=sim.now + 5)
            new = [n for n in nodes if n is not lead and n.lease_valid()]
            if new and lead.lease_valid():
                both.append(sim.now)
        return both

    bound = LogModel.DRIFT_BOUND
    assert overlap(-bound, bound) == []
    assert overlap(-0.45, 0.45)


def test_the_model_is_deterministic_and_cheap():
    def run(seed):
        cluster = KVCluster(HonestServer, HonestClerk, seed=seed, clerks=5)
        cluster.workload(ops=40, keys=("x", "y", "z"))
        cluster.partition([["s1"], ["s2", "s3"]], at=400, heal_at=900)
        cluster.crash("s3", at=1200, restart_at=1500)
        start = time.process_time()
        cluster.run(3000)
        return cluster, time.process_time() - start

    a, cost = run(11)
    b, _ = run(11)
    assert a.sim.trace.to_text() == b.sim.trace.to_text()
    assert cost < 0.5
    a.check_linearizable()
    summary = a.summary()
    assert summary["ok"] > 100 and 2 <= summary["client_messages_per_op"] < summary["messages_per_op"]
    assert 0 < summary["latency_median"] <= summary["latency_p90"] <= summary["latency_max"]


# -- the naive service ----------------------------------------------------------------------------------------

def stale_read_run(seed=1):
    cluster = KVCluster(NaiveKVServer, NaiveClerk, seed=seed, clerks=2)
    cluster.script("c1", [(400, "put", "x", "a"), (900, "get", "x"), (1000, "get", "x"), (1100, "get", "x")])
    cluster.script("c2", [(700, "put", "x", "b"), (1500, "get", "x")])
    cluster.run(600)
    lead = cluster.leader()
    cluster.partition([[lead], [s for s in cluster.ids if s != lead]], at=650)
    cluster.run(2000)
    return cluster


def test_the_naive_service_reads_stale_values_after_a_partition():
    cluster = stale_read_run()
    with pytest.raises(ScenarioFailed, match="not linearizable") as failure:
        cluster.check_linearizable()
    assert failure.value.history is cluster.history and failure.value.operations


def test_the_honest_service_passes_the_same_schedule():
    cluster = KVCluster(HonestServer, HonestClerk, seed=1, clerks=2)
    cluster.script("c1", [(400, "put", "x", "a"), (900, "get", "x"), (1000, "get", "x")])
    cluster.script("c2", [(700, "put", "x", "b"), (1500, "get", "x")])
    cluster.run(600)
    lead = cluster.leader()
    cluster.partition([[lead], [s for s in cluster.ids if s != lead]], at=650)
    cluster.run(2500)
    assert cluster.done()
    cluster.check_linearizable()


def test_a_service_that_uses_a_log_name_is_refused():
    with pytest.raises(NodeDefinitionError, match="commit_index"):
        class Clash(KVServiceBase):
            def __init__(self):
                super().__init__()
                self.commit_index = 0


def test_the_naive_clerk_duplicates_appends_on_an_unreliable_network():
    cluster = KVCluster(NaiveKVServer, NaiveClerk, seed=0, clerks=3, unreliable=True)
    cluster.workload(ops=15, keys=("x",), read_fraction=0.3, append_fraction=0.7)
    assert cluster.run_until_done(limit=10_000)
    assert cluster.linearizable().valid is False
    honest = KVCluster(HonestServer, HonestClerk, seed=0, clerks=3, unreliable=True)
    honest.workload(ops=15, keys=("x",), read_fraction=0.3, append_fraction=0.7)
    assert honest.run_until_done(limit=10_000)
    honest.check_linearizable()


def test_stale_reads_names_the_reads_that_missed_a_finished_write():
    cluster = stale_read_run()
    stale = cluster.stale_reads()
    assert stale and all(op.f == "get" and op.output == "a" for op in stale)
    assert cluster.stale_reads() == [op for op in stale]
    honest = KVCluster(HonestServer, HonestClerk, seed=2, clerks=3)
    honest.workload(ops=10)
    honest.run_until_done()
    assert honest.stale_reads() == []


def test_a_learners_03b_raft_can_replace_the_log_model():
    """The whole 03c reference (its gets go through the log: a Raft has no read_index) on 03b's reference."""
    cells = ("setup", "raft", "raft_persistence", "raft_snapshots")
    raft = load_reference("03b_raft", cells=cells)["SnapshotRaft"]   # 03b's Part D: snapshots too
    cluster = KVCluster(REF["SnapshotKVServer"], HonestClerk, seed=3, clerks=3, log=raft, snapshot_threshold=5)
    cluster.workload(ops=20, keys=("x", "y"))
    cluster.partition([["s1"], ["s2", "s3"]], at=800, heal_at=1400)
    cluster.crash("s2", at=2000, restart_at=2300)
    assert cluster.run_until_done(limit=8000)
    cluster.run(2600)
    assert "election_safety" in cluster.sim.invariants
    cluster.check_linearizable()
    assert type(cluster.node("s1")).__name__ == "SnapshotKVServerOnSnapshotRaft"
    assert cluster.max_log_size() <= 2 * 5 + 5
    restored = [e for e in cluster.sim.trace.custom("apply_snapshot") if e.node == "s2"]
    assert restored and restored[0].time >= 2300    # the restart restored s2's snapshot first


def test_a_failure_draws_the_failing_keys_history_and_the_run_around_it():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cluster = stale_read_run()
    with pytest.raises(ScenarioFailed) as failure:
        cluster.check_linearizable("the stale-read schedule")
    ax = failure.value.draw()
    titles = [a.get_title() for a in ax.figure.axes]
    assert any("key 'x'" in t for t in titles)
    lo, hi = ax.get_xlim()
    assert lo >= 300 and hi <= 1700
    plt.close("all")


def test_a_service_that_hands_its_live_state_to_snapshot_is_caught():
    class LiveSnapshot(HonestServer):
        def on_apply(self, index, command):
            super().on_apply(index, command)
            if self.log_size() > 3:
                self.snapshot(index, {"data": self.data, "last": self.last})   # shared, changed later

    from course_lib.sim import InvariantViolation

    cluster = KVCluster(LiveSnapshot, HonestClerk, seed=1, clerks=2)
    cluster.workload(ops=20, keys=("x",))
    with pytest.raises(InvariantViolation, match="changed the data it handed to snapshot"):
        cluster.run_until_done()


@pytest.mark.parametrize("server", [FastReads, LeaseReads])
def test_reads_without_the_log_are_linearizable_within_the_drift_bound(server):
    bound = LogModel.DRIFT_BOUND * 0.99
    for seed in range(3):
        cluster = KVCluster(server, HonestClerk, seed=seed, clerks=3,
                            clock_drift={"s1": -bound, "s2": bound, "s3": bound})
        cluster.workload(ops=15, keys=("x",), read_fraction=0.6)
        cluster.run(600)
        old = cluster.leader()
        cluster.partition([[old, "c1"], [s for s in cluster.ids if s != old] + ["c2", "c3"]],
                          heal_at=1300)
        assert cluster.run_until_done(limit=8000)
        cluster.check_linearizable(f"{server.__name__}, seed {seed}")
        gets = sum(1 for op in cluster.operations() if op.f == "get")
        entries = len(world(cluster.sim).committed)
        assert entries < cluster.counts()["ok"] - gets + 12   # the gets wrote (almost) nothing to the log


def test_a_new_workload_follows_the_one_before():
    cluster = KVCluster(HonestServer, HonestClerk, seed=4, clerks=1)
    cluster.script("c1", [(300, "put", "x", "a"), (300, "get", "x")])
    assert cluster.run_until_done(limit=3000)
    cluster.workload(ops=3, keys=("x",))
    assert not cluster.done()
    assert cluster.run_until_done(limit=6000)
    cluster.script("c1", [(0, "get", "x")])
    assert cluster.run_until_done(limit=9000)
    assert [op.f for op in cluster.operations()][:2] == ["put", "get"] and len(cluster.operations()) == 6


def test_each_server_applies_its_own_copy_of_a_command_as_it_was_started():
    sim, nodes = model(seed=12)
    lead = elect(sim, nodes)
    command = ["put", "x", "a"]
    lead.start(command)
    command.append("changed later")
    got = {}
    for node in nodes:
        node.on_apply = lambda index, cmd, node=node: got.setdefault(node.id, cmd)
    sim.run(until=sim.now + 200)
    assert all(cmd == ["put", "x", "a"] for cmd in got.values()) and len(got) == 3
    assert len({id(cmd) for cmd in got.values()}) == 3
