"""Tests of course_lib.topics.agreement.multipaxos: the log, the skipped phase 1, total-order broadcast."""

from __future__ import annotations

import pytest

from course_lib.sim import InvariantViolation
from course_lib.topics.agreement.consensus import consensus_report, run_consensus
from course_lib.topics.agreement.multipaxos import NOOP, LogConsensus, run_log


def leader_change(sim):
    sim.nemesis.partition([["a", "b", "c"], ["d", "e"]], at=0.0, heal_at=12.0)
    sim.nemesis.crash("a", at=12.0)


CHANGE = dict(commands=[(3.0, "c1"), (4.0, "c2"), (5.0, "c3"), (16.0, "c4")], leaders=[(0.0, "a"), (13.0, "e")],
              faults=leader_change, until=40)


def test_a_stable_leader_runs_phase_1_once_and_one_round_trip_per_command():
    """Ten commands: five prepares in all, then a majority's accepted about one round trip after each submit."""
    sim = run_log(commands=[(1.0 + i, f"c{i + 1}") for i in range(10)], seed=3, until=30)
    sent = sim.trace.summary()["sent_by_type"]
    assert sent["prepare"] == 5 and sent["accept"] == 50 and sent["chosen"] == 40
    learned = {e.info["value"]: e.time for e in sim.trace.custom("learn") if e.node == "a"}
    assert all(1.7 < learned[f"c{i + 1}"] - (1.0 + i) < 2.4 for i in range(1, 10))
    assert all(node.delivered == [f"c{i + 1}" for i in range(10)] for node in sim.nodes.values())


def test_a_new_leader_that_skips_phase_1_overwrites_a_chosen_slot():
    """A leader that missed slots 1-3 and skips phase 1 gets another value chosen in slot 1."""
    with pytest.raises(InvariantViolation, match="slot 1 chosen twice"):
        run_log(skip_phase1=True, seed=1, **CHANGE)


@pytest.mark.parametrize("seed", range(5))
def test_a_new_leader_with_phase_1_keeps_every_chosen_value(seed):
    """With phase 1 the new leader re-proposes c1-c3 in their slots and appends c4; nobody's log differs."""
    sim = run_log(seed=seed, **CHANGE)
    assert all(node.delivered == ["c1", "c2", "c3", "c4"] for n, node in sim.nodes.items() if n != "a")


def test_a_gap_is_filled_with_a_no_op():
    """A slot no acceptor of the new leader's quorum accepted, below one that was, gets a no-op."""
    def lost_slot_two(sim):
        sim.nemesis.partition([["a", "b"], ["c", "d", "e"]], at=3.5, heal_at=5.5)   # slot 2 reaches only a, b
        sim.nemesis.crash("a", at=9.0)
        sim.nemesis.crash("b", at=9.0)
    sim = run_log(commands=[(1.0, "c1"), (4.0, "c2"), (6.0, "c3"), (20.0, "c4")], leaders=[(0.0, "a"), (13.0, "e")],
                  faults=lost_slot_two, seed=1, until=40)
    logs = {n: node.delivered for n, node in sim.nodes.items() if n in ("c", "d", "e")}
    assert all(log == ["c1", NOOP, "c3", "c4"] for log in logs.values()), logs


def test_the_log_is_a_total_order_broadcast():
    """Values broadcast at several nodes at once are delivered in one order, the same at every node."""
    sim = run_log(commands=[], seed=2, until=30)
    for i, node_id in enumerate(["b", "c", "d", "e", "b", "c"]):
        sim.at(sim.now + 0.1 * i, sim.node(node_id).to_broadcast, f"m{i}")
    sim.run(until=60)
    logs = [node.delivered for node in sim.nodes.values()]
    assert sorted(logs[0]) == [f"m{i}" for i in range(6)] and all(log == logs[0] for log in logs)


@pytest.mark.parametrize("seed", range(5))
def test_consensus_from_the_log_has_all_four_properties(seed):
    """Deciding the first value the log delivers is agreement, validity, integrity and termination."""
    report = consensus_report(run_consensus(LogConsensus, seed=seed))
    assert all(holds for holds, _ in report.values()), report
