"""Tests of course_lib.topics.agreement.commit: databases, naive 2PC, 3PC, crash points, the scenario, the search."""

from __future__ import annotations

import pytest

from course_lib.checkers import atomic_commit
from course_lib.topics.agreement import (CommitCoordinator, CommitParticipant, NaiveCoordinator, NaiveParticipant,
                                        ThreePCCoordinator, ThreePCParticipant, commit_scenario, commit_search,
                                        crash_after, in_doubt_time, set_refusal_rate, transaction_outcomes)
from course_lib.grading import ScenarioFailed
from course_lib.sim import Constant, InvariantViolation, Node, Simulation

PS = ["p1", "p2", "p3"]


def naive(seed=0, refusal=0.0, latency=1.0):
    sim = Simulation(seed=seed, latency=latency)
    set_refusal_rate(sim, refusal)
    coord = sim.add_node(NaiveCoordinator, "coord")
    sim.add_nodes(NaiveParticipant, PS)
    return sim, coord


def begin(sim, coord, txid="t1", at=1.0):
    sim.at(at, coord.begin, txid, {p: ("k", f"{txid}@{p}") for p in PS})


# -- the base classes ----------------------------------------------------------------------------

def test_local_vote_follows_the_refusal_rate_and_records():
    """local_vote answers no at the configured rate and records each answer for the checker."""
    sim = Simulation(seed=3)
    (p,) = sim.add_nodes(CommitParticipant, ["p"])
    set_refusal_rate(sim, 1.0)
    assert {p.local_vote(f"t{i}") for i in range(5)} == {"no"}
    set_refusal_rate(sim, 0.0)
    assert p.local_vote("t9") == "yes"
    assert [e.info["vote"] for e in sim.trace.custom("vote")] == ["no"] * 5 + ["yes"]


def test_asking_the_database_twice_can_change_the_answer():
    """The database's answer is drawn anew on every call (which is why a vote must be logged)."""
    sim = Simulation(seed=3)
    (p,) = sim.add_nodes(CommitParticipant, ["p"])
    set_refusal_rate(sim, 0.5)
    assert len({p.local_vote("t") for _ in range(20)}) == 2


def test_set_refusal_rate_names_a_bad_rate():
    """A rate outside [0, 1] is refused with its value."""
    with pytest.raises(ValueError, match="rate=1.5"):
        set_refusal_rate(Simulation(seed=0), 1.5)


def test_committed_data_survives_a_crash():
    """commit() writes to the node's disk: the data is still there after a restart."""
    sim = Simulation(seed=0)
    (p,) = sim.add_nodes(CommitParticipant, ["p"])
    p.commit("t1", "x", 1)
    sim.crash("p")
    sim.restart("p")
    assert p.data == {"x": 1}
    assert transaction_outcomes(sim) == {"t1": {"p": "commit"}}


def test_coordinator_decide_checks_the_outcome():
    """decide() accepts only 'commit' and 'abort'; begin() must be written by the subclass."""
    sim = Simulation(seed=0)
    coord = sim.add_node(CommitCoordinator, "c")
    with pytest.raises(ValueError, match="outcome='yes'"):
        coord.decide("t", "yes")
    with pytest.raises(NotImplementedError):
        coord.begin("t", {})


# -- naive 2PC -------------------------------------------------------------------------------------

def test_naive_2pc_commits_when_all_vote_yes():
    """Without faults and refusals every node commits, with four messages per participant."""
    sim, coord = naive()
    begin(sim, coord)
    sim.run(until=20)
    assert transaction_outcomes(sim)["t1"] == {"p1": "commit", "p2": "commit", "p3": "commit", "coord": "commit"}
    assert all(sim.node(p).data == {"k": f"t1@{p}"} for p in PS)
    assert sim.trace.summary()["sent"] == 4 * len(PS)


def test_naive_2pc_aborts_on_a_refusal():
    """One database saying no aborts the transaction everywhere."""
    sim, coord = naive(seed=5, refusal=0.4)
    sim.add_invariant("atomic_commit", atomic_commit)
    for i in range(6):
        begin(sim, coord, f"t{i}", at=1.0 + 5 * i)
    sim.run(until=60)
    outcomes = transaction_outcomes(sim)
    assert "abort" in {o["coord"] for o in outcomes.values()}
    for decided in outcomes.values():
        assert len(set(decided.values())) == 1


def test_coordinator_crash_after_prepare_blocks_participants():
    """With the coordinator down after prepare, participants stay in doubt to the end of the run."""
    sim, coord = naive()
    crash_after(sim, "coord", sent="prepare")
    begin(sim, coord)
    sim.run(until=50)
    assert transaction_outcomes(sim) == {}
    assert all(t > 45 for t in in_doubt_time(sim).values()) and len(in_doubt_time(sim)) == 3


def test_forgetful_participant_breaks_atomicity():
    """A naive participant that crashes after voting yes aborts the committed transaction on return."""
    sim, coord = naive()
    sim.add_invariant("atomic_commit", atomic_commit)
    crash_after(sim, "p2", recorded="vote", when=lambda e: e["vote"] == "yes", restart_after=0.5)
    begin(sim, coord)
    with pytest.raises(InvariantViolation, match="p2 decided abort"):
        sim.run(until=20)


# -- crash points ------------------------------------------------------------------------------------

def test_crash_after_crashes_right_after_the_handler():
    """The node goes down at the time of its nth matching send, after the handler, and restarts later."""
    sim, coord = naive()
    crash_after(sim, "coord", sent="prepare", nth=4, restart_after=3)
    begin(sim, coord, "t1", at=1.0)
    begin(sim, coord, "t2", at=5.0)
    sim.run(until=20)
    crashes = sim.trace.filter(kind="crash")
    assert [(e.node, e.time) for e in crashes] == [("coord", 5.0)]
    assert len([e for e in sim.trace.filter(kind="send", type="prepare") if e.time == 5.0]) == 3
    assert [e.time for e in sim.trace.filter(kind="restart")] == [8.0]


def test_crash_after_names_its_arguments():
    """Giving both or neither point, or a bad nth, is refused with the values."""
    sim, _ = naive()
    with pytest.raises(ValueError, match="exactly one"):
        crash_after(sim, "coord")
    with pytest.raises(ValueError, match="nth=0"):
        crash_after(sim, "coord", sent="prepare", nth=0)
    with pytest.raises(ValueError, match="nope"):
        crash_after(sim, "nope", sent="prepare")


# -- three-phase commit ----------------------------------------------------------------------------------

def run_3pc(faults):
    sim = Simulation(seed=1, latency=Constant(1.0))
    set_refusal_rate(sim, 0.0)
    coord = sim.add_node(ThreePCCoordinator, "coord")
    sim.add_nodes(ThreePCParticipant, PS)
    faults(sim)
    sim.at(1.0, coord.begin, "t1", {p: ("k", p) for p in PS})
    sim.run(until=60)
    return {p: o for p, o in transaction_outcomes(sim)["t1"].items() if p != "coord"}


def test_3pc_finishes_without_the_coordinator():
    """Participants terminate consistently when the coordinator crashes after precommit."""
    outcomes = run_3pc(lambda sim: crash_after(sim, "coord", sent="precommit"))
    assert outcomes == {"p1": "commit", "p2": "commit", "p3": "commit"}


def test_3pc_aborts_when_the_coordinator_dies_before_precommit():
    """Without any precommit the participants abort on their own."""
    outcomes = run_3pc(lambda sim: crash_after(sim, "coord", sent="prepare"))
    assert outcomes == {"p1": "abort", "p2": "abort", "p3": "abort"}


def test_3pc_splits_under_a_partition():
    """A partition during precommit makes the two sides decide differently."""
    def faults(sim):
        sim.nemesis.partition([["p1"], ["coord", "p2", "p3"]], at=3.5)
        sim.nemesis.crash("coord", at=3.5)
    outcomes = run_3pc(faults)
    assert outcomes == {"p1": "abort", "p2": "commit", "p3": "commit"}


# -- the scenario ----------------------------------------------------------------------------------------

def test_scenario_reports_naive_2pc_stuck_after_loss():
    """A lost decision leaves the naive protocol undecided: the scenario fails on progress."""
    with pytest.raises(ScenarioFailed, match="never decided"):
        for seed in range(10):
            commit_scenario(NaiveCoordinator, NaiveParticipant, seed=seed, loss=0.2)


def test_scenario_passes_naive_2pc_without_faults():
    """On a reliable network the naive protocol is atomic and finishes."""
    sim = commit_scenario(NaiveCoordinator, NaiveParticipant, seed=1)
    assert len(transaction_outcomes(sim)) == 8


def test_scenario_without_restart_checks_only_atomicity():
    """With the coordinator down for good, blocking is allowed: only atomicity is checked."""
    commit_scenario(NaiveCoordinator, NaiveParticipant, seed=1, crash="coordinator_after_prepare",
                    restart_after=None)


def test_scenario_names_bad_arguments():
    """Unknown crash points and too-short runs are refused with their values."""
    with pytest.raises(ValueError, match="crash='sometimes'"):
        commit_scenario(NaiveCoordinator, NaiveParticipant, seed=1, crash="sometimes")
    with pytest.raises(ValueError, match="settle=60"):
        commit_scenario(NaiveCoordinator, NaiveParticipant, seed=1, settle=60)


def test_scenario_is_deterministic():
    """The same seed gives the same trace, byte for byte."""
    a = commit_scenario(NaiveCoordinator, NaiveParticipant, seed=4, crash="random", progress=False)
    b = commit_scenario(NaiveCoordinator, NaiveParticipant, seed=4, crash="random", progress=False)
    assert a.trace.to_text() == b.trace.to_text()


class Silent(Node):
    """A participant that never answers (to show the scenario names the stuck transaction)."""

    def on_prepare(self, msg):
        pass

    def on_decision(self, msg):
        pass


def test_scenario_names_the_stuck_transaction():
    """A failure message names the transaction and the nodes that never decided."""
    with pytest.raises(ScenarioFailed, match=r"transaction 't1'.*\['p1', 'p2', 'p3'\]"):
        commit_scenario(NaiveCoordinator, Silent, seed=1)


# -- the search ------------------------------------------------------------------------------------------

class LateVoteCoordinator(NaiveCoordinator):
    """Counts a vote even after it decided: a vote timeout's abort can be followed by a commit."""

    def on_vote(self, msg):
        votes = self.votes[msg.txid]
        votes[msg.src] = msg.vote
        if all(v == "yes" for v in votes.values()):
            self._finish(msg.txid, "commit")


def test_search_finds_the_forgetful_participant_with_its_shortest_schedule():
    """One crash allowed, the search finds the naive participant that forgets its yes vote, in 7 steps for 2."""
    with pytest.raises(ScenarioFailed) as failure:
        commit_search(NaiveCoordinator, NaiveParticipant, participants=2, depth=8)
    text = str(failure.value)
    assert "a schedule of 7 steps breaks it" in text and " 7. " in text and " 8. " not in text
    assert "crashes" in text and "atomic_commit" in text
    replay = failure.value.sim
    assert [e.info["outcome"] for e in replay.trace.custom("decide")] == ["commit", "abort"]


def test_search_passes_naive_2pc_without_crashes():
    """Without crashes no schedule of the naive 2PC breaks atomicity: the search exhausts its depth."""
    result = commit_search(NaiveCoordinator, NaiveParticipant, participants=2, depth=8, crashes=0)
    assert result.outcome == "exhausted" and result.states > 100


def test_search_finds_a_vote_counted_after_the_timeout():
    """A vote timeout may fire before any vote arrives: a coordinator counting late votes commits after aborting."""
    with pytest.raises(ScenarioFailed, match=r"(?s)5 steps.*_give_up.*decided commit"):
        commit_search(LateVoteCoordinator, NaiveParticipant, participants=2, depth=6, crashes=0)
    for seed in range(20):  # a seeded run delivers the votes long before the timeout
        commit_scenario(LateVoteCoordinator, NaiveParticipant, seed=seed, refusal_rate=0.0)


def test_search_stops_at_its_state_budget():
    """max_states bounds the search; what it covered is returned, not a failure."""
    result = commit_search(NaiveCoordinator, NaiveParticipant, depth=12, crashes=0, max_states=50)
    assert result.outcome == "limit" and result.states == 50
