"""Tests of course_lib.topics.agreement.election and its leadership timeline.

Pauses, elections, leases, fencing and failure detection.
"""

from __future__ import annotations

import math

import matplotlib
import pytest

from course_lib.checkers import at_most_one_leader
from course_lib.topics.agreement import (EtcdLeaderElection, FailureDetector, FencedStorage,
                                         HeartbeatElection, LeaseStore, RedisLeaderElection, is_paused,
                                         lease_scenario, pause, pause_node, run_bully, run_failure_detector,
                                         run_ring, suspicions, watch_leaders)
from course_lib.grading import ScenarioFailed
from course_lib.sim import Constant, InvariantViolation, Node, Simulation, Uniform

matplotlib.use("Agg")
IDS5 = ["n1", "n2", "n3", "n4", "n5"]


class Counter(Node):
    """Counts ticks and pings, noting the clock reading of each."""

    def __init__(self) -> None:
        self.ticks = []
        self.pings = []

    def on_start(self):
        self.every(1.0, self.tick)

    def tick(self):
        self.ticks.append(self.clock.now())

    def on_ping(self, msg):
        self.pings.append((self.clock.now(), msg.n))


# -- pauses ---------------------------------------------------------------------------------------

def test_pause_holds_messages_and_timers_then_handles_them_in_order():
    """A paused node handles nothing; at the end it handles the held messages in arrival order."""
    sim = Simulation(seed=0, latency=Constant(0.5))
    a, b = sim.add_nodes(Counter, ["a", "b"])
    pause(sim, "b", at=2.5, duration=5)
    for n, t in enumerate([3.0, 4.0, 5.0]):
        sim.at(t, lambda n=n: a.send("b", "ping", n=n))
    sim.run(until=6)
    assert is_paused(b) and b.pings == [] and max(b.ticks) == 2.0
    sim.run(until=10)
    assert not is_paused(b)
    assert b.pings == [(7.5, 0), (7.5, 1), (7.5, 2)]


def test_pause_runs_a_missed_periodic_timer_once():
    """A periodic timer that came due five times during the pause runs once when it ends."""
    sim = Simulation(seed=0)
    (a,) = sim.add_nodes(Counter, ["a"])
    pause(sim, "a", at=0.5, duration=5)
    sim.run(until=5.9)
    assert a.ticks == [5.5]


def test_pause_keeps_memory_and_the_clock_runs_on():
    """Unlike a crash, the node keeps its state; its clock shows the time that went by."""
    sim = Simulation(seed=0)
    (a,) = sim.add_nodes(Counter, ["a"])
    sim.run(until=3.5)
    pause_node(sim, "a", 10)
    sim.run(until=14)
    assert a.ticks[:3] == [1.0, 2.0, 3.0] and a.ticks[3] == 13.5
    assert [e.kind for e in sim.trace if e.kind in ("pause", "resume")] == ["pause", "resume"]


def test_crash_during_a_pause_ends_it():
    """A node crashed and restarted during its pause works normally afterwards."""
    sim = Simulation(seed=0)
    (a,) = sim.add_nodes(Counter, ["a"])
    pause(sim, "a", at=0.5, duration=10)
    sim.nemesis.crash("a", at=2, restart_at=3)
    sim.run(until=6)
    assert not is_paused(a) and a.ticks == [4.0, 5.0]


def test_pause_names_a_bad_duration():
    """A non-positive duration is refused with its value."""
    sim = Simulation(seed=0)
    sim.add_nodes(Counter, ["a"])
    with pytest.raises(ValueError, match="duration=0"):
        pause_node(sim, "a", 0)


# -- the brief's heartbeat election ---------------------------------------------------------------

def heartbeat_cluster(partition=None, until=100, **options):
    sim = Simulation(seed=1, latency=Uniform(0.5, 1.5))
    nodes = sim.add_nodes(HeartbeatElection, IDS5, **options)
    log = watch_leaders(sim)
    if partition:
        sim.nemesis.partition([["n1", "n2", "n3"], ["n4", "n5"]], at=partition[0], heal_at=partition[1])
    sim.run(until=until)
    return sim, nodes, log


def test_heartbeat_election_agrees_on_the_highest_id():
    """Without faults every node ends up following the highest id, and nobody else leads."""
    _, nodes, log = heartbeat_cluster()
    assert [n.current_leader for n in nodes] == ["n5"] * 5
    assert log.overlap() == 0 and {iv[0] for iv in log.intervals()} == {"n5"}


def test_heartbeat_election_splits_under_a_partition_and_stays_split():
    """A partition gives each side its own leader, and healing it does not reunite them."""
    _, nodes, log = heartbeat_cluster(partition=(25, 60))
    assert [n.current_leader for n in nodes] == ["n3", "n3", "n3", "n5", "n5"]
    assert log.overlap() > 60


def test_heartbeat_election_trips_the_single_leader_invariant():
    """at_most_one_leader stops the partitioned run shortly after the partition."""
    sim = Simulation(seed=1, latency=Uniform(0.5, 1.5))
    sim.add_nodes(HeartbeatElection, IDS5)
    sim.add_invariant("at_most_one_leader", at_most_one_leader)
    sim.nemesis.partition([["n1", "n2", "n3"], ["n4", "n5"]], at=25, heal_at=60)
    with pytest.raises(InvariantViolation) as info:
        sim.run(until=100)
    assert 25 < info.value.time < 35


def test_first_heard_rule_of_the_brief_disagrees_from_the_start():
    """With the brief's original rule (first heartbeat heard wins) nodes need not agree at all."""
    _, nodes, _ = heartbeat_cluster(first_heard=True, until=20)
    assert len({n.current_leader for n in nodes}) > 1


# -- bully and ring -------------------------------------------------------------------------------

def test_bully_elects_the_highest_live_id():
    """With the old leader down, every live node follows the next-highest id."""
    sim = run_bully(6, initiator=1)
    assert {sim.node(i).current_leader for i in range(1, 6)} == {5}


def test_bully_costs_quadratic_messages_when_the_lowest_starts():
    """The lowest initiator costs many more messages than the next-highest one, more so as n grows."""
    worst = [run_bully(n, initiator=1).trace.summary()["sent"] for n in (4, 8, 16)]
    best = [run_bully(n, initiator=n - 1).trace.summary()["sent"] for n in (4, 8, 16)]
    assert best == [4, 8, 16]
    assert worst[2] / worst[1] > 3.5 and all(w > b for w, b in zip(worst, best))


@pytest.mark.parametrize("arrangement", ["increasing", "decreasing", "random"])
def test_ring_elects_the_maximum_with_about_3n_messages(arrangement):
    """One initiator: the largest id wins everywhere, with between 2n and 3n messages."""
    n = 10
    sim = run_ring(n, arrangement=arrangement)
    assert {node.current_leader for node in sim.nodes.values()} == {n}
    assert 2 * n <= sim.trace.summary()["sent"] <= 3 * n


def test_ring_with_everyone_starting_costs_quadratic_messages():
    """All initiators with ids decreasing along the ring send about n^2 / 2 election messages."""
    sim = run_ring(20, initiators="all", arrangement="decreasing")
    assert sim.trace.summary()["sent_by_type"]["election"] == 20 * 21 // 2


# -- leases ----------------------------------------------------------------------------------------

class Client(Node):
    """Sends one request at start and keeps the answer."""

    def __init__(self, kind, **fields):
        self.kind, self.fields, self.answer = kind, fields, "none yet"

    def on_start(self):
        self.request("store", self.kind, timeout=5, on_reply=self.got, **self.fields)

    def got(self, reply):
        self.answer = reply.value


def test_lease_store_set_nx_expires_and_expire_extends_anyones_key():
    """set_nx stores only an absent key; keys expire on the server's clock; expire extends any key."""
    sim = Simulation(seed=0, latency=Constant(1.0))
    store = sim.add_node(LeaseStore, "store")
    first = sim.add_node(Client, "a", "set_nx", key="k", value="a", ttl=10)
    sim.run(until=3)
    second = sim.add_node(Client, "b", "set_nx", key="k", value="b", ttl=10)
    sim.run(until=6)
    assert (first.answer, second.answer, store.values) == (True, False, {"k": "a"})
    renew = sim.add_node(Client, "c", "expire", key="k", ttl=10)   # c never held it
    sim.run(until=17)
    assert renew.answer is True and store.expiry["k"] == 17.0
    late = sim.add_node(Client, "d", "set_nx", key="k", value="d", ttl=10)
    sim.run(until=25)
    assert late.answer is True and store.values == {"k": "d"}


def redis_run(pause_for):
    sim = Simulation(seed=1, latency=Uniform(0.2, 1.0))
    sim.add_node(LeaseStore, "redis")
    sim.add_nodes(RedisLeaderElection, ["n1", "n2", "n3"], "redis", "store")
    store = sim.add_node(FencedStorage, "store", check_tokens=False)
    log = watch_leaders(sim)
    sim.run(until=20)
    (leader,) = [n for n in ["n1", "n2", "n3"] if sim.node(n).is_leader()]
    pause_node(sim, leader, pause_for)
    sim.run(until=60)
    return leader, log, store


def test_redis_election_survives_a_short_pause():
    """A pause shorter than the lease changes nothing: one leader throughout."""
    leader, log, _ = redis_run(5)
    assert {iv[0] for iv in log.intervals()} == {leader} and log.overlap() == 0


def test_redis_election_gets_two_writing_leaders_after_a_long_pause():
    """A leader paused past its lease resumes leading and writing next to its successor."""
    leader, log, store = redis_run(15)
    assert len({iv[0] for iv in log.intervals()}) == 2 and log.overlap() > 20
    assert len({w["writer"] for w in store.accepted_writes if w["time"] > 40}) == 2


def test_etcd_election_without_lease_never_recovers_from_a_crash():
    """The brief's etcd key has no lease: after the leader crashes, nobody ever leads again."""
    sim = Simulation(seed=0, latency=Uniform(0.2, 1.0))
    sim.add_node(LeaseStore, "etcd")
    sim.add_nodes(EtcdLeaderElection, ["n1", "n2", "n3"], "etcd")
    log = watch_leaders(sim)
    sim.run(until=10)
    (leader,) = log.leaders_at(9.9)
    sim.crash(leader)
    sim.run(until=100)
    assert log.leaders_at(99) == []


# -- fencing -----------------------------------------------------------------------------------------

class Writer(Node):
    def __init__(self, token):
        self.token = token

    def on_start(self):
        self.send("store", "write", token=self.token, value=str(self.id))

    def on_write_ok(self, msg):
        self.record("ok")

    def on_write_rejected(self, msg):
        self.record("rejected")


@pytest.mark.parametrize("check,accepted", [(True, ["w34", "w34b"]), (False, ["w34", "w34b", "w33"])])
def test_fenced_storage_rejects_lower_tokens_only_when_checking(check, accepted):
    """With checks, a lower token is rejected and an equal one accepted; without, everything is."""
    sim = Simulation(seed=0, latency=1.0)
    store = sim.add_node(FencedStorage, "store", check_tokens=check)
    sim.add_node(Writer, "w34", 34)
    sim.add_node(Writer, "w34b", 34)
    sim.run(until=3)
    sim.add_node(Writer, "w33", 33)
    sim.run(until=6)
    assert [w["writer"] for w in store.accepted_writes] == accepted
    assert len(store.rejected_writes) == (1 if check else 0)


def test_fenced_storage_rejects_a_write_without_token():
    """A checking storage refuses writes that carry no token at all."""
    sim = Simulation(seed=0, latency=1.0)
    store = sim.add_node(FencedStorage, "store")
    sim.add_node(Writer, "w", None)
    sim.run(until=3)
    assert store.accepted_writes == [] and len(store.rejected_writes) == 1


# -- failure detection ----------------------------------------------------------------------------------

def test_failure_detector_suspects_after_threshold_checks():
    """A node missing `threshold` checks is suspected once; a heartbeat clears it."""
    seen = []
    fd = FailureDetector(["a", "b"], threshold=2, on_suspect=seen.append)
    fd.check_failures()
    fd.record_heartbeat("a")
    fd.check_failures()
    fd.record_heartbeat("a")
    fd.check_failures()
    assert seen == ["b"] and fd.suspected == {"b"}
    fd.record_heartbeat("b")
    assert fd.suspected == set()
    with pytest.raises(ValueError, match="threshold=0"):
        FailureDetector(["a"], threshold=0)


def test_detector_finds_a_crash_in_about_threshold_intervals():
    """A crashed node is suspected roughly `threshold` check intervals after it stops."""
    sim = run_failure_detector(threshold=3, crash="w1", crash_at=50.3, until=80)
    after = [t for t, n in suspicions(sim) if n == "w1" and t >= 50.3]
    assert 2 <= after[0] - 50.3 <= 3


def test_detector_suspects_healthy_nodes_under_long_tailed_delays():
    """With heavy-tailed delays and a low threshold, healthy nodes get suspected; a high one spares them."""
    from course_lib.sim import LogNormal
    low = run_failure_detector(threshold=2, latency=LogNormal(0.3, 1.5), until=300)
    high = run_failure_detector(threshold=8, latency=LogNormal(0.3, 1.5), until=300)
    assert len(suspicions(low)) > 10 and len(suspicions(high)) == 0


# -- the lease scenario, with a broken pair ---------------------------------------------------------------

class GreedyServer(Node):
    """Grants every request, with a fresh token: leases mean nothing."""

    def __init__(self, ttl):
        self.ttl, self.token = ttl, 0

    def on_acquire(self, msg):
        self.token += 1
        self.reply(msg, "granted", token=self.token, ttl=self.ttl)

    on_renew = on_acquire


class EagerLeader(Node):
    """Asks for the lease every tick and leads for the ttl from the reply."""

    def __init__(self, server, storage):
        self.server, self.storage_node = server, storage
        self.token, self.expires = None, -math.inf

    @property
    def term(self):
        return self.token

    def on_start(self):
        self.every(1.0, self.tick)

    def tick(self):
        self.request(self.server, "acquire", timeout=2, on_reply=self.granted)

    def granted(self, reply):
        self.token, self.expires = reply.token, self.clock.now() + reply.ttl

    def is_leader(self):
        return self.clock.now() < self.expires


def test_lease_scenario_catches_a_server_that_grants_everyone():
    """Two candidates leading at once stops the run with the single-leader invariant."""
    with pytest.raises(InvariantViolation, match="at_most_one_leader"):
        lease_scenario(GreedyServer, EagerLeader, seed=1)


def test_lease_scenario_names_bad_arguments():
    """Too short a run, or too many faults for it, is refused with the values."""
    with pytest.raises(ValueError, match="duration=100"):
        lease_scenario(GreedyServer, EagerLeader, seed=1, duration=100)
    with pytest.raises(ValueError, match="too short for 4 faults"):
        lease_scenario(GreedyServer, EagerLeader, seed=1, pauses=4)


def test_lease_scenario_requires_writes_at_the_end():
    """Leaders that never write fail the progress check with a readable message."""
    with pytest.raises(ScenarioFailed, match="accepted no write"):
        lease_scenario(GreedyServer, EagerLeader, seed=1, candidates=1)


# -- the picture -----------------------------------------------------------------------------------------

def test_leader_timeline_draws_one_lane_per_candidate():
    """The timeline has a lane per node with is_leader and a bar per stretch of leadership."""
    from course_lib.topics.agreement import leader_timeline
    _, _, log = heartbeat_cluster(partition=(25, 60))
    ax = leader_timeline(log, title="t")
    assert [t.get_text() for t in ax.get_yticklabels()] == IDS5
    assert len(ax.patches) >= len(log.intervals())
    with pytest.raises(TypeError, match="watch_leaders"):
        leader_timeline(object())
