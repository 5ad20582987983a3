"""Chapter 03c's service framework rejects bad input with an error naming the parameter and its value."""

from __future__ import annotations

import pytest

from bad_input_support import assert_named_error
from course_lib.history import History
from course_lib.sim import NodeDefinitionError, Simulation
from course_lib.topics.raft.service import (ClerkBase, KVCluster, KVServiceBase, LogModel, NaiveClerk,
                                            NaiveKVServer, model_consistent, world)
from course_lib.topics.raft.service.base import combine, make_workload
from course_lib.topics.raft.service.cluster import stale_reads
from course_lib.topics.raft.service.pictures import applied_plot, key_timeline, log_size_plot


def cluster(**kwargs):
    return KVCluster(NaiveKVServer, NaiveClerk, seed=1, clerks=2, **kwargs)


def ran(until=700):
    c = cluster()
    c.run(until)
    return c


def leader_node(c):
    return c.node(c.leader())


def stale_ops():
    h = History()
    h.invoke("c1", "put", "x", "a")
    h.ok("c1")
    return h


class PlainNode(LogModel):
    pass


ROWS = [
    # the cluster
    (lambda: KVCluster(int, NaiveClerk), TypeError, r"server_cls=<class 'int'>.*KVServiceBase"),
    (lambda: KVCluster(NaiveKVServer, int), TypeError, r"clerk_cls=<class 'int'>.*ClerkBase"),
    (lambda: KVCluster(NaiveKVServer, NaiveClerk, log=dict), TypeError, r"log=<class 'dict'>"),
    (lambda: KVCluster(NaiveKVServer, NaiveClerk, n=0), ValueError, r"n=0"),
    (lambda: KVCluster(NaiveKVServer, NaiveClerk, seed=1.5), TypeError, r"seed=1.5"),
    (lambda: cluster(unreliable="yes"), TypeError, r"unreliable='yes'"),
    (lambda: cluster(snapshot_threshold=0), ValueError, r"snapshot_threshold=0"),
    (lambda: cluster(clock_drift=0.7), ValueError, r"clock_drift=0.7"),
    (lambda: cluster(clock_drift={"s9": 0.1}), ValueError, r"clock_drift names 's9'"),
    (lambda: KVCluster(NaiveKVServer, NaiveClerk, clerks=-1), ValueError, r"clerks=-1"),
    (lambda: cluster(max_events=0), ValueError, r"max_events=0"),
    (lambda: KVCluster(PlainNode, NaiveClerk), TypeError, r"server_cls=.*PlainNode"),
    # workloads
    (lambda: cluster().workload(ops=-1), ValueError, r"ops=-1"),
    (lambda: cluster().workload(keys="xy"), TypeError, r"keys='xy'"),
    (lambda: cluster().workload(read_fraction=1.5), ValueError, r"read_fraction=1.5"),
    (lambda: cluster().workload(read_fraction=0.7, append_fraction=0.6), ValueError,
     r"read_fraction=0.7 \+ append_fraction=0.6"),
    (lambda: cluster().workload(think=(5, 1)), ValueError, r"think=1"),
    (lambda: cluster().workload(think=5), TypeError, r"think=5"),
    (lambda: cluster().workload(clerks=["c9"]), ValueError, r"clerks names 'c9'"),
    (lambda: cluster().script("c9", []), ValueError, r"clerks names 'c9'"),
    (lambda: cluster().script("c1", [(0, "delete", "x")]), ValueError, r"script f='delete'"),
    (lambda: cluster().script("c1", [(0, "get")]), ValueError, r"script holds \(0, 'get'\)"),
    (lambda: cluster().script("c1", "put x"), TypeError, r"script='put x'"),
    (lambda: cluster().script("c1", [(0, "put", "x", 5)]), TypeError, r"a value is a str"),
    (lambda: make_workload(start=-1), ValueError, r"start=-1"),
    # the nemesis
    (lambda: cluster().partition("s1"), TypeError, r"groups='s1'"),
    (lambda: cluster().partition([["s1"]]), ValueError, r"at least two groups"),
    (lambda: cluster().partition([["s1"], ["s1", "s2"]]), ValueError, r"names 's1' twice"),
    (lambda: cluster().partition([["s9"], ["s1"]]), ValueError, r"groups='s9'"),
    (lambda: cluster().partition([["s1"], ["s2"]], at=-5), ValueError, r"at=-5"),
    (lambda: cluster().isolate("s9"), ValueError, r"node='s9'"),
    (lambda: cluster().crash("c1"), ValueError, r"server='c1'"),
    (lambda: cluster().crash("s1", at=10, restart_at=5), ValueError, r"restart_at=5"),
    (lambda: cluster().restart(["s1"]), ValueError, r"server=\['s1'\]"),
    (lambda: cluster().heal(at="soon"), TypeError, r"at='soon'"),
    (lambda: cluster().set_unreliable(1), TypeError, r"unreliable=1"),
    (lambda: cluster().node("zz"), ValueError, r"node_id='zz'"),
    # running and measuring
    (lambda: cluster().run(0), ValueError, r"until=0"),
    (lambda: cluster().run("later"), TypeError, r"until='later'"),
    (lambda: cluster().run_for(-1), ValueError, r"duration=-1"),
    (lambda: cluster().run_until_done(limit=-1), ValueError, r"limit=-1"),
    (lambda: cluster().run_until_done(step=0), ValueError, r"step=0"),
    (lambda: cluster().check_linearizable(what=3), TypeError, r"what=3"),
    (lambda: cluster().messages_per_op(types="lm_append"), TypeError, r"types='lm_append'"),
    (lambda: stale_reads([]), TypeError, r"history=\[\]"),
    # the log model's interface
    (lambda: leader_node(ran()).snapshot("1", {}), TypeError, r"index='1'"),
    (lambda: leader_node(ran()).snapshot(10_000, {}), ValueError, r"snapshot\(index=10000\)"),
    (lambda: leader_node(ran()).snapshot(1, lambda: 1), ValueError, r"must be picklable"),
    (lambda: leader_node(ran()).read_index(3), TypeError, r"callback=3"),
    (lambda: world("sim"), TypeError, r"sim='sim'"),
    (lambda: model_consistent(None), TypeError, r"sim=None"),
    # the base classes
    (lambda: combine(NaiveKVServer, NaiveClerk, ["s1"]), TypeError, r"log=.*NaiveClerk"),
    (lambda: combine(LogModel, LogModel, ["s1"]), TypeError, r"server_cls=.*LogModel"),
    (lambda: ran(5).node("c1").begin("delete", "x"), ValueError, r"f='delete'"),
    # pictures
    (lambda: key_timeline(3, "x"), TypeError, r"history=3"),
    (lambda: key_timeline(History(), "x"), ValueError, r"key='x'"),
    (lambda: key_timeline(ran(5), "x"), ValueError, r"key='x'"),
    (lambda: key_timeline(stale_ops(), "x", highlight=[3]), TypeError, r"highlight holds 3"),
    (lambda: key_timeline(stale_ops(), "x", title=5), TypeError, r"title=5"),
    (lambda: log_size_plot(3), TypeError, r"cluster=3"),
    (lambda: log_size_plot({"s1": 5}), TypeError, r"cluster\['s1'\]=5"),
    (lambda: applied_plot("run"), TypeError, r"cluster='run'"),
    (lambda: applied_plot(cluster(), ax=3), TypeError, r"ax=3"),
    (lambda: log_size_plot(cluster(), threshold=-1), ValueError, r"threshold=-1"),
]


@pytest.mark.parametrize("call, error, pattern", ROWS)
def test_bad_input_is_rejected_with_a_named_error(call, error, pattern):
    assert_named_error(call, error, pattern)


def test_a_clerk_cannot_open_two_operations():
    c = cluster()
    c.run(5)
    clerk = c.node("c1")
    clerk.begin("get", "x")
    assert_named_error(lambda: clerk.begin("get", "y"), ValueError, r"one operation at a time")


def test_a_service_clashing_with_the_log_or_a_node_is_refused_when_defined():
    with pytest.raises(NodeDefinitionError, match=r"'log' \(in Clash1"):
        class Clash1(KVServiceBase):
            def on_apply(self, index, command):
                self.log = [command]

    with pytest.raises(NodeDefinitionError, match=r"'send'"):
        class Clash2(KVServiceBase):
            def send(self, *args):
                pass

    with pytest.raises(NodeDefinitionError, match=r"both a KVServiceBase and a Node"):
        class Clash3(KVServiceBase, LogModel):
            pass


def test_a_service_or_clerk_that_skips_super_is_named():
    class NoSuper(KVServiceBase):
        def __init__(self):
            self.table = {}

    class StartsAlone(KVServiceBase):
        def on_start(self):
            self.table = {}

    class LazyClerk(ClerkBase):
        def __init__(self):
            self.n = 0

    with pytest.raises(NodeDefinitionError, match=r"must call super\(\).__init__\(\)"):
        KVCluster(NoSuper, NaiveClerk)
    with pytest.raises(NodeDefinitionError, match=r"must call super\(\).__init__\(\)"):
        KVCluster(NaiveKVServer, LazyClerk)
    with pytest.raises(NodeDefinitionError, match=r"must call super\(\).on_start\(\)"):
        KVCluster(StartsAlone, NaiveClerk).run(10)


def test_a_sim_of_log_models_alone_works_without_the_harness():
    sim = Simulation(seed=1)
    sim.add_nodes(LogModel, ["a", "b", "c"])
    sim.run(until=500)
    assert model_consistent(sim) is None
