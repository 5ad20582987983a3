"""Tests of course_lib.topics.welcome: the naive replica of chapter 00 and its workload helpers."""

from __future__ import annotations

import pytest

from course_lib.sim import Node, Simulation
from course_lib.topics.welcome import (NaiveReplica, divergent_keys, random_writes, replica_states,
                                schedule_writes)

IDS = ["n1", "n2", "n3"]


class NoWrite(Node):
    """Takes replication messages but has no write() for a client to call."""

    def on_replicate(self, msg) -> None:
        pass


def cluster(seed=0, ids=IDS, **net):
    sim = Simulation(seed=seed, latency=1.0, **net)
    sim.add_nodes(NaiveReplica, ids)
    return sim


def spaced_writes(count=12, gap=5.0, keys=("x", "y", "z")):
    """Writes far enough apart (gap > latency) that no two are concurrent."""
    return [(1 + gap * i, IDS[i % 3], keys[i % len(keys)], f"v{i + 1}") for i in range(count)]


# -- the chapter's story -------------------------------------------------------------------

def test_write_reaches_every_replica_on_a_reliable_network():
    """A write at one node is stored there at once and at every peer one latency later."""
    sim = cluster()
    n1, n2, n3 = sim.nodes.values()
    sim.at(1.0, n1.write, "user:123", "Alice")
    sim.run(until=1.5)
    assert [n.read("user:123") for n in (n1, n2, n3)] == ["Alice", None, None]
    sim.run(until=10)
    assert [n.read("user:123") for n in (n1, n2, n3)] == ["Alice"] * 3
    assert [e.time for e in sim.trace.custom("write")] == [1.0]


def test_sequential_writes_converge_on_a_reliable_network():
    """Without faults, writes spaced wider than the latency leave every replica identical."""
    sim = cluster()
    schedule_writes(sim, spaced_writes())
    sim.run(until=100)
    assert divergent_keys(sim) == []
    assert replica_states(sim)["n1"] == {"x": "v10", "y": "v11", "z": "v12"}


def test_concurrent_writes_to_one_key_diverge_even_without_faults():
    """Two writes to one key closer than the latency leave replicas disagreeing: no ordering at all."""
    sim = cluster()
    schedule_writes(sim, [(1.0, "n1", "x", "a"), (1.5, "n2", "x", "b")])
    sim.run(until=10)
    assert divergent_keys(sim) == ["x"]
    assert replica_states(sim) == {"n1": {"x": "b"}, "n2": {"x": "a"}, "n3": {"x": "b"}}


def test_message_loss_makes_replicas_diverge():
    """With loss, some replication messages vanish and the replicas disagree for good."""
    sim = cluster(loss=0.3)
    schedule_writes(sim, spaced_writes(count=30, keys=[f"k{i}" for i in range(30)]))
    sim.run(until=200)
    assert divergent_keys(sim)
    assert "loss" in sim.trace.summary()["dropped_by_reason"]


def test_partition_makes_replicas_diverge_and_heal_does_not_repair():
    """A write on the isolated side never reaches the other side, even after the partition heals."""
    sim = cluster()
    sim.nemesis.partition([["n1"]], at=1, heal_at=10)
    schedule_writes(sim, [(2, "n1", "x", "lonely"), (3, "n2", "y", "majority"), (20, "n3", "z", "later")])
    sim.run(until=30)
    states = replica_states(sim)
    assert states["n1"] == {"x": "lonely", "z": "later"}
    assert states["n2"] == states["n3"] == {"y": "majority", "z": "later"}
    assert divergent_keys(sim) == ["x", "y"]


def test_crash_loses_the_replicas_data_and_the_writes_it_missed():
    """A crashed replica misses writes while down and forgets everything it had (no durable state)."""
    sim = cluster()
    sim.nemesis.crash("n3", at=5, restart_at=10)
    schedule_writes(sim, [(1, "n1", "a", "v1"), (6, "n2", "b", "v2"), (12, "n1", "c", "v3")])
    sim.run(until=20)
    states = replica_states(sim)
    assert states["n3"] == {"c": "v3"}
    assert states["n1"] == states["n2"] == {"a": "v1", "b": "v2", "c": "v3"}
    assert divergent_keys(sim) == ["a", "b"]


def test_client_write_to_a_crashed_node_is_skipped():
    """A scheduled write addressed to a node that is down does not happen."""
    sim = cluster()
    sim.nemesis.crash("n1", at=1)
    schedule_writes(sim, [(2, "n1", "x", "v1")])
    sim.run(until=5)
    assert sim.trace.custom("write") == [] and sim.trace.filter(kind="send") == []


# -- schedule_writes -----------------------------------------------------------------------

@pytest.mark.parametrize("writes, error, pattern", [
    ([(1, "n1", "x")], ValueError, r"writes\[0\]=\(1, 'n1', 'x'\)"),
    ([(1, "n1", "x", "v"), [2, "n1", "x", "v"]], ValueError, r"writes\[1\]="),
    ([(1, "n9", "x", "v")], ValueError, r"node_id='n9'"),
    ([(-1, "n1", "x", "v")], ValueError, r"time=-1"),
    ([(1, "plain", "x", "v")], TypeError, r"writes\[0\]: node 'plain' has no write"),
])
def test_schedule_writes_validates_each_write_and_schedules_nothing_on_error(writes, error, pattern):
    """A malformed write is an error naming its index (or the bad node or time), and no write is scheduled."""
    sim = cluster()
    sim.add_node(NoWrite, "plain")
    with pytest.raises(error, match=pattern):
        schedule_writes(sim, writes)
    sim.run(until=10)
    assert sim.trace.custom("write") == []


def test_schedule_writes_accepts_any_iterable():
    """schedule_writes takes a generator as well as a list."""
    sim = cluster()
    schedule_writes(sim, ((t, "n2", "k", t) for t in (1, 2)))
    sim.run(until=5)
    assert [e.info for e in sim.trace.custom("write")] == [{"key": "k", "value": 1}, {"key": "k", "value": 2}]


# -- random_writes -------------------------------------------------------------------------

def test_random_writes_are_seeded():
    """The same seed draws the same writes; different seeds draw different ones."""
    draw = lambda seed: random_writes(cluster(seed), IDS, count=20, keys=["x", "y"])  # noqa: E731
    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


def test_random_writes_shape():
    """count writes, sorted in [start, end), on the given nodes and keys, with values v1..v<count>."""
    writes = random_writes(cluster(3), ["n1", "n3"], count=50, keys=["a", "b", "c"], start=10, end=20)
    assert len(writes) == 50
    times = [w[0] for w in writes]
    assert times == sorted(times) and all(10 <= t < 20 for t in times)
    assert {w[1] for w in writes} == {"n1", "n3"} and {w[2] for w in writes} == {"a", "b", "c"}
    assert [w[3] for w in writes] == [f"v{i}" for i in range(1, 51)]
    assert random_writes(cluster(3), IDS, count=0, keys=["a"]) == []


def test_random_writes_do_not_touch_the_nodes_rngs():
    """Drawing a workload leaves every node's generator where it was."""
    quiet, busy = cluster(5), cluster(5)
    random_writes(busy, IDS, count=100, keys=["x"])
    assert quiet["n1"].rng.random() == busy["n1"].rng.random()


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(count=-1), r"count=-1"),
    (dict(count=2.0), r"count=2.0"),
    (dict(count=True), r"count=True"),
    (dict(keys=[]), r"keys=\[\]"),
    (dict(node_ids=[]), r"node_ids=\[\]"),
    (dict(start=5, end=5), r"end=5 must be after start=5"),
    (dict(start=8, end=2), r"end=2 must be after start=8"),
])
def test_random_writes_bad_arguments_name_the_parameter(kwargs, pattern):
    """A bad random_writes argument is a ValueError showing the parameter and value."""
    args = dict(node_ids=IDS, count=5, keys=["x"])
    args.update(kwargs)
    node_ids = args.pop("node_ids")
    with pytest.raises(ValueError, match=pattern):
        random_writes(cluster(), node_ids, **args)


def test_random_workload_on_a_reliable_network_with_distinct_keys_converges():
    """A seeded random workload over distinct keys converges without faults and the run is reproducible."""
    def run(seed, loss):
        sim = cluster(seed, loss=loss)
        writes = random_writes(sim, IDS, count=40, keys=["k"])
        schedule_writes(sim, [(t, n, f"{k}{i}", v) for i, (t, n, k, v) in enumerate(writes)])
        sim.run(until=60)
        return sim

    assert divergent_keys(run(4, 0.0)) == []
    lossy = run(4, 0.2)
    assert divergent_keys(lossy) and divergent_keys(lossy) == divergent_keys(run(4, 0.2))


# -- divergent_keys and replica_states ------------------------------------------------------

class Holder(Node):
    def __init__(self) -> None:
        self.data = {}
        self.other = {}


def holders(states):
    sim = Simulation(seed=0)
    for node_id, data in states.items():
        sim.add_node(Holder, node_id).data.update(data)
    return sim


def test_divergent_keys_counts_a_missing_key_as_different():
    """A key some replicas lack, or hold with another value, is divergent; equal keys are not."""
    sim = holders({"a": {"x": 1, "y": 2, "z": None}, "b": {"x": 1, "y": 3}, "c": {"x": 1, "y": 2, "z": None}})
    assert divergent_keys(sim) == ["y", "z"]


def test_divergent_keys_compares_values_not_identity_and_keeps_first_seen_order():
    """Equal values in different objects agree; keys are listed in first-seen order."""
    sim = holders({"a": {"k2": [1, 2], "k1": 1}, "b": {"k1": 2, "k2": [1, 2]}})
    assert divergent_keys(sim) == ["k1"]
    assert divergent_keys(holders({"a": {"q": 1, "p": 1}, "b": {}})) == ["q", "p"]


def test_divergent_keys_and_replica_states_read_the_named_attribute():
    """attribute= reads another dict attribute of each node; replica_states returns copies."""
    sim = holders({"a": {}, "b": {}})
    sim["a"].other["k"] = 1
    assert divergent_keys(sim) == [] and divergent_keys(sim, attribute="other") == ["k"]
    states = replica_states(sim, attribute="other")
    states["a"]["k"] = 99
    assert sim["a"].other == {"k": 1}
