"""Chapter 03c's graded scenarios: their checks of bad input, and what each scripted schedule guarantees.

The scenarios grade a learner's service, so these tests run them on the exercise's reference
(read from ``solutions/03c_raft_kv``, where the answer lives) and on the lecture's naive service,
which each schedule aimed at its mistakes must fail on every seed. Every run costs a few tens of
milliseconds.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

from bad_input_support import assert_named_error
from course_lib.grading import check_scenario
from course_lib.sim import ScenarioFailed
from course_lib.topics.raft.service import (SCHEDULES, FollowersApplyLate, KVCluster, NaiveClerk, NaiveKVServer,
                                            kv_crashes, kv_many_clients, kv_one_client, kv_partitions,
                                            kv_reads_skip_log, kv_scripted, kv_snapshot_restart, kv_snapshot_size,
                                            kv_unreliable, world)

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ref():
    """The reference classes of the 03c exercise: KVServer, Clerk, FastReadKVServer, SnapshotKVServer."""
    sys.path.insert(0, str(ROOT / "tools"))
    from reference import load_reference
    return load_reference("03c_raft_kv", cells=("setup", "kv_server", "kv_clerk", "kv_reads", "kv_snapshots"))


ROWS = [
    (lambda: kv_one_client(object, NaiveClerk, 1), TypeError, r"server_cls=<class 'object'>"),
    (lambda: kv_one_client(NaiveKVServer, object, 1), TypeError, r"clerk_cls=<class 'object'>"),
    (lambda: kv_one_client(NaiveKVServer, NaiveClerk, 1, ops=-1), ValueError, r"ops=-1"),
    (lambda: kv_one_client(NaiveKVServer, NaiveClerk, 1, log=dict), TypeError, r"log=<class 'dict'>"),
    (lambda: kv_many_clients(NaiveKVServer, NaiveClerk, 1, clerks=0), ValueError, r"clerks=0"),
    (lambda: kv_unreliable(NaiveKVServer, NaiveClerk, 1, ops="many"), TypeError, r"ops='many'"),
    (lambda: kv_partitions(NaiveKVServer, NaiveClerk, 1, target="everyone"), ValueError, r"target='everyone'"),
    (lambda: kv_partitions(NaiveKVServer, NaiveClerk, 1, n=2), ValueError, r"n=2"),
    (lambda: kv_crashes(NaiveKVServer, NaiveClerk, 1, snapshot_threshold=0), ValueError, r"snapshot_threshold=0"),
    (lambda: kv_reads_skip_log(NaiveKVServer, NaiveClerk, 1, gets=0), ValueError, r"gets=0"),
    (lambda: kv_snapshot_size(NaiveKVServer, NaiveClerk, 1, threshold=0), ValueError, r"threshold=0"),
    (lambda: kv_snapshot_restart(NaiveKVServer, NaiveClerk, 1, ops=0), ValueError, r"ops=0"),
    (lambda: kv_scripted(NaiveKVServer, NaiveClerk, 1, schedule="chaos"), ValueError, r"schedule='chaos'"),
    (lambda: kv_scripted(NaiveKVServer, NaiveClerk, 1.5, schedule="lost_reply"), TypeError, r"seed=1.5"),
]


@pytest.mark.parametrize("call, error, pattern", ROWS, ids=[r[2] for r in ROWS])
def test_bad_input_is_refused_with_the_parameter_named(call, error, pattern):
    """Every scenario refuses a bad class, count, choice or seed with an error naming the parameter and its value."""
    assert_named_error(call, error, pattern)


@pytest.mark.parametrize("schedule, key", [("lost_reply", "x"), ("cut_off_leader", "x"),
                                           ("new_leader_read", "x"), ("snapshot_retry", "x")])
def test_the_naive_service_fails_the_schedules_aimed_at_it_on_every_seed(schedule, key):
    """The lecture's naive service (no duplicate table, local reads) fails each schedule aimed at those mistakes,
    seed after seed, on the key the schedule names, with the history to draw."""
    for seed in range(3):
        with pytest.raises(ScenarioFailed, match=rf"key '{key}' .* not linearizable") as failed:
            kv_scripted(NaiveKVServer, NaiveClerk, seed, schedule=schedule)
        assert failed.value.history is not None and failed.value.operations


def test_the_reference_passes_every_schedule_in_both_read_modes(ref):
    """The reference, with ReadIndex and with leases, passes every scripted schedule (a schedule that failed a
    correct service would fail every learner)."""
    lease = type("LeaseKVServer", (ref["SnapshotKVServer"],), {"READ_MODE": "lease"})
    for server in (ref["SnapshotKVServer"], lease):
        for schedule in SCHEDULES:
            check_scenario(kv_scripted, server, ref["Clerk"], seeds=[0], schedule=schedule)


def test_lost_reply_makes_the_clerk_retry_an_applied_append(ref):
    """In "lost_reply" c1's append is applied once, yet c1 asks again (its replies were lost), and gets done."""
    cluster = kv_scripted(ref["KVServer"], ref["Clerk"], 4, schedule="lost_reply")
    asks = cluster.sim.trace.filter(kind="send", node="c1")
    assert len(asks) >= 2, asks
    lost = [e for e in cluster.sim.trace.filter(kind="drop") if e.peer == "c1"]
    assert lost, "no reply to c1 was lost"
    (append,) = [op for op in cluster.operations() if op.f == "append"]
    assert append.status == "ok"
    final = [op for op in cluster.operations() if op.f == "get" and op.key == "x"][-1]
    assert final.output == append.value


def test_index_reused_gives_the_old_leaders_index_to_another_command(ref):
    """In "index_reused" the last entry the old leader appended (c1's put) is not what commits at its index."""
    cluster = kv_scripted(ref["KVServer"], ref["Clerk"], 2, schedule="index_reused")
    w = world(cluster.sim)
    first_term = w.elections[0][1]
    old_log = w.logs[first_term]
    index = len(old_log)
    assert index <= len(w.committed), "nothing committed at the old leader's last index"
    assert old_log[-1] != w.committed[index - 1]


def test_followers_apply_late_only_while_they_follow(ref):
    """FollowersApplyLate: a follower applies 1000-1100 units after it learns of a commit; the leader at once."""
    cluster = KVCluster(ref["KVServer"], ref["Clerk"], seed=3, clerks=1, log=FollowersApplyLate)
    cluster.run(1500.0)
    leader = cluster.node(cluster.leader())
    followers = [cluster.node(s) for s in cluster.ids if s != leader.id]
    cluster.node("c1").sim.after(0.0, cluster.node("c1").begin, "put", "x", None)
    cluster.run(cluster.now + 100.0)
    assert leader.last_applied == leader.commit_index
    assert all(f.last_applied < f.commit_index for f in followers), [(f.last_applied, f.commit_index)
                                                                     for f in followers]
    cluster.run(cluster.now + 1200.0)
    assert all(f.last_applied == f.commit_index for f in followers)


def test_snapshot_retry_restarts_every_server_after_a_snapshot(ref):
    """In "snapshot_retry" every server crashed and restarted, each holding a snapshot past c1's append."""
    cluster = kv_scripted(ref["SnapshotKVServer"], ref["Clerk"], 1, schedule="snapshot_retry")
    crashed = {e.node for e in cluster.sim.trace.filter(kind="crash")}
    assert crashed == set(cluster.ids)
    assert all(cluster.node(s).snapshot_index() > 5 for s in cluster.ids)


def test_reads_skip_log_counts_entries_per_get(ref):
    """Gets through the log (Part 1's KVServer) cost an entry each and fail kv_reads_skip_log; fast reads pass."""
    with pytest.raises(ScenarioFailed, match=r"1\.00 entries per get"):
        kv_reads_skip_log(ref["KVServer"], ref["Clerk"], 0)
    kv_reads_skip_log(ref["FastReadKVServer"], ref["Clerk"], 0)


def test_lease_drift_has_the_cut_off_leader_answer_under_its_lease(ref):
    """In "lease_drift" with lease reads, the cut-off leader (its clock slow, the others' fast) still answers gets
    after the cut, under its lease, and stops before the new leader's put completes."""
    lease = type("LeaseKVServer", (ref["FastReadKVServer"],), {"READ_MODE": "lease"})
    cluster = kv_scripted(lease, ref["Clerk"], 0, schedule="lease_drift")
    (put,) = [op for op in cluster.operations() if op.process == "c2" and op.f == "put"]
    under_lease = [op for op in cluster.operations() if op.process == "c1" and op.f == "get"
                   and op.status == "ok" and put.call_time <= op.call_time and op.return_time < put.return_time]
    assert under_lease, "no get was answered on the cut-off leader under its lease"
