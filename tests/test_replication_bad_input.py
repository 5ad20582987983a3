"""Chapter 04's public functions reject bad input with an error naming the parameter and its value."""

from __future__ import annotations

import pytest

from bad_input_support import assert_named_error
from course_lib.topics.replication import (BroadcastNode, SiblingStore, TutorialQuorumClient,
                                           VersionVector, chain_run, full_exchange, leader_run,
                                           merge_orders, merkle_exchange, multi_leader_run,
                                           plot_lag, quorum_overlap, random_ops, run_broadcast,
                                           run_crdt, run_quorum, staleness_run, topology)
from course_lib.history import History
from course_lib.topics.replication import lost_writes, scenarios, stale_reads

ROWS = [
    (lambda: quorum_overlap(3, 4, 1), ValueError, r"r=4 exceeds n=3"),
    (lambda: quorum_overlap(0, 1, 1), ValueError, r"n=0"),
    (lambda: run_quorum(TutorialQuorumClient, seed=1, w=5), ValueError, r"w=5 exceeds n=3"),
    (lambda: run_quorum(object, seed=1), TypeError, r"client=.*QuorumClient"),
    (lambda: run_quorum(TutorialQuorumClient, seed=1, loss=2), ValueError, r"loss=2"),
    (lambda: run_quorum(TutorialQuorumClient, seed=1, keys="xy"), TypeError, r"keys='xy'"),
    (lambda: run_quorum(TutorialQuorumClient, seed=1, scripts=[[(0, "del", "x")]]), ValueError, r"scripts holds"),
    (lambda: run_quorum(TutorialQuorumClient, seed=1, faults=3), TypeError, r"faults=3"),
    (lambda: stale_reads([]), TypeError, r"history=\[\]"),
    (lambda: lost_writes(History(), []), TypeError, r"states=\[\]"),
    (lambda: leader_run("quick", seed=1), ValueError, r"mode='quick'"),
    (lambda: leader_run("sync", seed=1, route="nearest"), ValueError, r"route='nearest'"),
    (lambda: leader_run("sync", seed=1, slow=-1), ValueError, r"slow=-1"),
    (lambda: chain_run("ring", seed=1), ValueError, r"design='ring'"),
    (lambda: chain_run("chain", seed=1, replicas=1), ValueError, r"replicas=1"),
    (lambda: merkle_exchange(10, 11), ValueError, r"differences=11 exceeds keys=10"),
    (lambda: merkle_exchange(10, 1, fanout=1), ValueError, r"fanout=1"),
    (lambda: full_exchange(0, 0), ValueError, r"keys=0"),
    (lambda: staleness_run("magic", seed=1), ValueError, r"mechanism='magic'"),
    (lambda: staleness_run("none", seed=1, missed=5000), ValueError, r"missed=5000"),
    (lambda: VersionVector({"a": -1}), ValueError, r"counts\['a'\]=-1"),
    (lambda: VersionVector().compare({"a": 1}), TypeError, r"other="),
    (lambda: SiblingStore("a").put("k", 1, context={"a": 1}), TypeError, r"context="),
    (lambda: multi_leader_run("paxos", seed=1), ValueError, r"mode='paxos'"),
    (lambda: random_ops("bag", seed=1), ValueError, r"kind='bag'"),
    (lambda: random_ops("set", seed=1, elements=[]), ValueError, r"elements=\[\]"),
    (lambda: run_crdt(3, [], seed=1), TypeError, r"factory=3"),
    (lambda: run_crdt(dict, [(0, 5, "add", ())], seed=1), ValueError, r"script holds"),
    (lambda: merge_orders([]), ValueError, r"states=\[\]"),
    (lambda: topology("star", ["a"]), ValueError, r"kind='star'"),
    (lambda: run_broadcast(int, seed=1), TypeError, r"node=.*BroadcastNode"),
    (lambda: run_broadcast(BroadcastNode, seed=1, nodes=1), ValueError, r"nodes=1"),
    (lambda: run_broadcast(BroadcastNode, seed=1, partition=(5, 1)), ValueError, r"partition\[1\]=1"),
    (lambda: run_broadcast(BroadcastNode, seed=1, rate=0), ValueError, r"rate=0"),
    (lambda: plot_lag("run"), TypeError, r"run='run'"),
    (lambda: scenarios.quorum_scripted(TutorialQuorumClient, 0, schedule="chaos"), ValueError, r"schedule='chaos'"),
    (lambda: scenarios.quorum_scripted(int, 0, schedule="versions"), TypeError, r"cls=<class 'int'>"),
    (lambda: scenarios.quorum_crash_keeps_writes(TutorialQuorumClient, 0, case="x"), ValueError, r"case='x'"),
    (lambda: scenarios.quorum_converges(TutorialQuorumClient, 0, fault="fire"), ValueError, r"fault='fire'"),
    (lambda: scenarios.crdt_converges(dict, 0, kind="bag"), ValueError, r"kind='bag'"),
    (lambda: scenarios.broadcast_budget(BroadcastNode, 0, budget="cheap"), ValueError, r"budget='cheap'"),
    (lambda: scenarios.broadcast_budget(BroadcastNode, 0, budget="fast", broadcasts=0), ValueError,
     r"broadcasts=0"),
    (lambda: scenarios.broadcast_delivers(str, 0), TypeError, r"cls=<class 'str'>"),
]


@pytest.mark.parametrize("call, error, pattern", ROWS, ids=[f"row{i}" for i in range(len(ROWS))])
def test_bad_input(call, error, pattern):
    """Each row: the call raises the course's bad-argument error naming the parameter and value."""
    assert_named_error(call, error, pattern)
