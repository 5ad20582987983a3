"""Tests of course_lib.topics.agreement.paxos: single-decree Paxos, its safety, livelock under symmetric timeouts."""

from __future__ import annotations

import pytest

from course_lib.topics.agreement import PaxosNode, decision_time, learned_values, run_paxos
from course_lib.sim import Simulation

IDS = ["a", "b", "c", "d", "e"]


def test_a_lone_proposer_gets_its_value_chosen_everywhere():
    """One proposer, no faults: every node learns its value after two round trips."""
    sim = run_paxos(proposers=[(0.0, "a", "x")], seed=1)
    assert set(learned_values(sim).values()) == {"x"}
    assert 3.5 < decision_time(sim) < 5
    assert sim.trace.summary()["sent_by_type"] == {"prepare": 5, "promise": 5, "accept": 5, "accepted": 25}


def test_a_later_proposer_adopts_the_chosen_value():
    """A node that missed the decision and proposes later gets the chosen value accepted, not its own."""
    sim = Simulation(seed=1, latency=1.0)
    nodes = sim.add_nodes(PaxosNode, IDS, IDS)
    sim.nemesis.partition([["e"]], at=0.0, heal_at=15.0)
    sim.at(0.5, nodes[0].propose, "x")
    sim.at(20.0, nodes[4].propose, "y")
    sim.run(until=19)
    assert nodes[4].learned is None
    sim.run(until=40)
    assert set(learned_values(sim).values()) == {"x"}
    accepts = [e.info["value"] for e in sim.trace.custom("accept") if e.node == "e"]
    assert accepts == ["x"]


@pytest.mark.parametrize("backoff", ["fixed", "random"])
def test_never_two_values_even_with_duels_and_loss(backoff):
    """Over many seeds with duelling proposers and 20% loss, no two nodes learn different values."""
    for seed in range(30):
        sim = run_paxos(proposers=[(0.0, "a", "x"), (0.5, "c", "y"), (1.0, "e", "z")], backoff=backoff,
                        loss=0.2, seed=seed, timeout=2.5, until=80)
        assert len(set(learned_values(sim).values()) - {None}) <= 1, f"seed {seed}"


def test_symmetric_timeouts_livelock_and_random_ones_decide():
    """Two proposers with equal short timeouts never decide; randomised timeouts always do."""
    def duel(backoff, seed):
        return run_paxos(proposers=[(0.0, "a", "x"), (1.0, "e", "y")], backoff=backoff, timeout=2.5,
                         seed=seed, until=100)
    fixed = [duel("fixed", s) for s in range(10)]
    assert all(decision_time(s) is None for s in fixed)
    assert all(len(s.trace.custom("prepare")) > 30 for s in fixed)
    assert all(decision_time(duel("random", s)) is not None for s in range(10))


def test_acceptor_promises_survive_a_crash():
    """An acceptor's promise and accepted value are durable: a restart keeps them."""
    sim = Simulation(seed=0, latency=1.0)
    nodes = sim.add_nodes(PaxosNode, IDS, IDS)
    sim.at(0.0, nodes[0].propose, "x")
    sim.run(until=10)
    before = (nodes[1].promised, nodes[1].accepted_ballot, nodes[1].accepted_value)
    sim.crash("b")
    sim.restart("b")
    assert (nodes[1].promised, nodes[1].accepted_ballot, nodes[1].accepted_value) == before
    assert before[2] == "x" and nodes[1].learned is None   # learning is not durable


def test_a_minority_cannot_choose():
    """With three of five acceptors down, nothing is learned; once they return, the value is chosen."""
    sim = Simulation(seed=0, latency=1.0)
    nodes = sim.add_nodes(PaxosNode, IDS, IDS, timeout=3.0)
    for n in ["c", "d", "e"]:
        sim.nemesis.crash(n, at=0.0, restart_at=30.0)
    sim.at(0.5, nodes[0].propose, "x")
    sim.run(until=29)
    assert all(n.learned is None for n in nodes)
    sim.run(until=60)
    assert all(n.learned == "x" for n in nodes)


def test_backoff_is_checked():
    """An unknown back-off mode is refused with its value."""
    sim = Simulation(seed=0)
    with pytest.raises(ValueError, match="backoff='sometimes'"):
        sim.add_node(PaxosNode, "a", ["a"], backoff="sometimes")


class Probe(PaxosNode):
    """A proposer stand-in that sends raw prepares and records what comes back."""

    def on_promise(self, msg):
        self.record("got", kind="promise", ballot=msg.ballot)

    def on_nack(self, msg):
        self.record("got", kind="nack", ballot=msg.ballot)


def test_acceptor_refuses_ballots_below_its_promise():
    """After promising ballot (2, 'p'), an acceptor nacks prepare and accept for (1, 'q')."""
    sim = Simulation(seed=0, latency=1.0)
    sim.add_node(PaxosNode, "acc", ["acc"])
    probe = sim.add_node(Probe, "p", ["acc"])
    sim.at(0.0, lambda: probe.send("acc", "prepare", ballot=(2, "p")))
    sim.at(3.0, lambda: probe.send("acc", "prepare", ballot=(1, "q")))
    sim.at(6.0, lambda: probe.send("acc", "accept", ballot=(1, "q"), value="v"))
    sim.run(until=10)
    got = [(e.info["kind"], e.info["ballot"]) for e in sim.trace.custom("got")]
    assert got == [("promise", (2, "p")), ("nack", (1, "q")), ("nack", (1, "q"))]
    assert sim.node("acc").accepted_value is None
