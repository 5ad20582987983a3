"""Chapter 04's package: the tutorials' ports, single-leader runs, quorum runs, anti-entropy, conflicts,
CRDT harness and gossip meters; each deterministic under a seed."""

from __future__ import annotations

import pytest

from course_lib.checkers import read_your_writes
from course_lib.topics.replication import (FloodNode, LWWResolver, MemoryReplica, QuorumStore,
                                           RumourMonger, SiblingStore, Stamped, TutorialQuorumClient,
                                           VersionVector, chain_run, full_exchange, leader_run,
                                           merge_orders, merkle_exchange, multi_leader_run, random_ops,
                                           run_broadcast, run_crdt, run_quorum, staleness_run, topology)


def test_quorum_store_port_reads_the_highest_version():
    """The ported QuorumStore writes everywhere, needs W successes, and reads the highest version."""
    nodes = [MemoryReplica(i) for i in range(3)]
    store = QuorumStore(nodes, write_quorum=2, read_quorum=2)
    store.write("k", "old", 1)
    nodes[2].down = True
    assert store.write("k", "new", 2) == {"success": True, "replicas": 2}
    nodes[2].down = False
    assert store.read("k") == {"value": "new", "version": 2}
    nodes[0].down = nodes[1].down = True
    with pytest.raises(RuntimeError, match="insufficient quorum"):
        store.write("k", "x", 3)


def test_quorum_store_port_trusts_the_callers_version():
    """Two callers choosing the same version: the second write is silently ignored (the tutorial's gap)."""
    nodes = [MemoryReplica(i) for i in range(3)]
    store = QuorumStore(nodes, 2, 2)
    store.write("k", "alice", 1)
    store.write("k", "bob", 1)  # acknowledged, and lost
    assert store.read("k")["value"] == "alice"


def test_lww_resolver_keeps_the_largest_timestamp():
    """LWWResolver keeps the value with the largest timestamp, in any order."""
    a, b = Stamped("a", 1.0, "x"), Stamped("b", 2.0, "y")
    assert LWWResolver().resolve([a, b]) is b and LWWResolver().resolve([b, a]) is b


def test_tutorial_quorum_client_is_not_linearizable_and_deterministic():
    """The tutorial's store on the simulator: stale reads under R+W>N; the same seed, the same run."""
    one = run_quorum(TutorialQuorumClient, seed=3, ops=15, final_reads=True)
    two = run_quorum(TutorialQuorumClient, seed=3, ops=15, final_reads=True)
    assert one.sim.trace.to_text() == two.sim.trace.to_text()
    assert one.stale_reads() and one.linearizable().valid is False


def test_sloppy_quorum_acknowledges_writes_the_home_replicas_miss():
    """A sloppy write lands on r1 and the spares; a reader on the other side reads the old value."""
    def faults(sim):
        sim.nemesis.partition([["r1", "s1", "s2", "c1"], ["r2", "r3", "c2"]], at=20)
    scripts = [[(30.0, "put", "x")], [(0.0, "put", "x"), (60.0, "get", "x")]]
    run = run_quorum(TutorialQuorumClient, seed=1, scripts=scripts, faults=faults, spares=2,
                     client_options={"sloppy": True})
    old, new, get = sorted(run.operations(), key=lambda op: op.call_time)
    assert new.status == "ok" and run.states["s1"] == {"x": new.value}
    assert get.output == old.value and run.stale_reads() == [get]


def test_leader_modes_trade_latency_for_lost_writes():
    """Sync is slowest and loses nothing at failover; async is fastest and loses acknowledged writes."""
    sync, asyn = leader_run("sync", seed=1), leader_run("async", seed=1)
    assert min(asyn.write_latencies()) < min(sync.write_latencies())
    lost = {m: sum(bool(leader_run(m, seed=s, crash_at=150).lost) for s in range(6)) for m in ("sync", "async")}
    assert lost["sync"] == 0 < lost["async"]


def test_reads_from_followers_break_read_your_writes_and_tokens_fix_it():
    """Random follower reads break read-your-writes; a version token restores it."""
    assert not read_your_writes(leader_run("async", seed=2, route="random").history).valid
    assert read_your_writes(leader_run("async", seed=2, route="token").history).valid


def test_craq_reads_scale_past_chain():
    """CRAQ serves reads at every replica: more throughput than chain replication's tail."""
    craq, chain = chain_run("craq", seed=1, duration=500), chain_run("chain", seed=1, duration=500)
    assert craq.throughput() > 1.3 * chain.throughput()


def test_merkle_finds_every_difference_with_fewer_bytes():
    """The Merkle walk finds all differences and, with few of them, sends far fewer bytes than a full exchange."""
    for keys in (1000, 100_000):
        m = merkle_exchange(keys, 5, seed=1)
        assert m.found == 5 and m.bytes < full_exchange(keys, 5).bytes / 4
    assert merkle_exchange(100, 0, seed=1).messages == 2


def test_staleness_mechanisms():
    """Read repair leaves cold keys stale; anti-entropy clears everything at its period."""
    assert staleness_run("none", seed=1)[-1] == 300
    assert 0 < staleness_run("read repair", seed=1)[-1] < 300
    assert staleness_run("anti-entropy", seed=1, period=10)[9] == 0


def test_version_vectors_and_siblings():
    """Concurrent puts become siblings; a put with the merged context replaces both."""
    a = VersionVector({"n1": 1})
    assert a.compare(a.increment("n2")) == "before" and a.merge(VersionVector({"n2": 3})).counts == {"n1": 1, "n2": 3}
    store = SiblingStore("n1")
    store.put("k", "x")
    store.receive("k", [(VersionVector({"n2": 1}), "y")])
    values, ctx = store.get("k")
    assert sorted(values) == ["x", "y"]
    store.put("k", "z", ctx)
    assert store.get("k")[0] == ["z"]


def test_lww_loses_cart_items_and_siblings_do_not():
    """Last-write-wins on skewed clocks drops concurrent additions; siblings with a union merge keep them."""
    assert multi_leader_run("lww", seed=1, items=30, skew=5).lost > 0
    assert multi_leader_run("siblings", seed=1, items=30, skew=5).lost == 0


class _MaxRegister:
    def __init__(self, replica):
        self.v = 0

    def set(self, v):
        self.v = max(self.v, int(v[1:]))

    def merge(self, other):
        self.v = max(self.v, other.v)

    def value(self):
        return self.v


def test_crdt_harness_converges_a_max_register():
    """run_crdt delivers states under duplication and reordering and reports every replica's value."""
    script = random_ops("register", seed=1, count=20)
    run = run_crdt(_MaxRegister, script, seed=1, duplicate=0.3, reorder=0.3, loss=0.2)
    assert run.converged and run.values["r0"] == 19
    assert set(merge_orders([_MaxRegister(0), _MaxRegister(1)])) == {0}


def test_topologies():
    """A 5x5 grid has 40 links; a tree has n-1."""
    grid = topology("grid", range(25))
    assert sum(map(len, grid.values())) == 80 and sum(map(len, topology("tree", range(25)).values())) == 48


def test_flood_reaches_everyone_but_not_across_a_partition():
    """Flooding reaches every node on a healthy grid, and loses values sent during a partition."""
    ok = run_broadcast(FloodNode, seed=1, broadcasts=50)
    assert ok.complete and ok.messages_per_op == pytest.approx(2 * 40 - 24, abs=1)
    cut = run_broadcast(FloodNode, seed=1, broadcasts=50, partition=(100, 400))
    assert not cut.complete


def test_rumour_mongering_leaves_a_residue():
    """Rumour mongering is cheaper than flooding and leaves some nodes uninformed."""
    run = run_broadcast(RumourMonger, seed=1, broadcasts=200)
    assert run.messages_per_op < 30 and run.missing > 0


def test_exercise_scenarios_fail_the_tutorials_store():
    """The exercise's scripted quorum scenarios reject the tutorial's store (every schedule, any seed)."""
    from course_lib.sim import ScenarioFailed
    from course_lib.topics.replication.scenarios import quorum_scripted

    for schedule in ("inversion", "versions", "first_answer"):
        with pytest.raises(ScenarioFailed):
            quorum_scripted(TutorialQuorumClient, 0, schedule=schedule)
