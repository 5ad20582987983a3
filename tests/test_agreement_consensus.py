"""Tests of course_lib.topics.agreement.consensus: the four properties and the naive protocols that miss them."""

from __future__ import annotations

import pytest

from course_lib.sim import InvariantViolation, LogNormal, Node
from course_lib.topics.agreement import consensus
from course_lib.topics.agreement.consensus import (NaiveConsensus, consensus_report, consensus_safety,
                                                   property_table, run_consensus)

MISSED = {"own": "agreement", "constant": "validity", "never": "termination", "first_heard": "agreement"}


@pytest.mark.parametrize("rule", consensus.RULES)
def test_each_trick_misses_exactly_its_property_without_faults(rule):
    """With no fault, each rule breaks only the property it gives up (the waiting rules none)."""
    report = consensus_report(run_consensus(rule=rule, seed=1))
    broken = {p for p, (holds, _) in report.items() if not holds}
    assert broken == ({MISSED[rule]} if rule in MISSED else set()), report


def test_waiting_for_everyone_blocks_on_one_crash_and_a_timeout_splits_on_a_tail():
    """wait_for_all never disagrees and one crash leaves everyone undecided; the timeout rule disagrees
    in some runs with long-tailed delays and in none with bounded ones."""
    stuck = consensus_report(run_consensus(rule="wait_for_all", crash="n5", crash_at=0.0, seed=1))
    assert stuck["agreement"][0] and not stuck["termination"][0]
    assert "n1" in stuck["termination"][1]
    tail = [consensus_report(run_consensus(rule="timeout", latency=LogNormal(1.0, 1.0), seed=s))["agreement"][0]
            for s in range(20)]
    bounded = [consensus_report(run_consensus(rule="timeout", seed=s))["agreement"][0] for s in range(20)]
    assert not all(tail) and all(bounded)


class DecidesTwice(Node):
    def __init__(self, members):
        pass

    def propose(self, value):
        self.record("propose", value=value)
        self.record("decide", value=value)
        self.record("decide", value=value)


class DecidesNonsense(Node):
    def __init__(self, members):
        pass

    def propose(self, value):
        self.record("propose", value=value)
        self.record("decide", value="nonsense")


@pytest.mark.parametrize("node_cls, rule, words", [
    (NaiveConsensus, "first_heard", "agreement:"),
    (DecidesTwice, None, "integrity: n1 decided twice"),
    (DecidesNonsense, None, "validity: n1 decided 'nonsense'"),
])
def test_the_safety_invariant_stops_the_run_at_the_first_violation(node_cls, rule, words):
    """consensus_safety, registered as an invariant, names the property it saw broken."""
    options = {"rule": rule} if rule else {}
    with pytest.raises(InvariantViolation, match=words):
        run_consensus(node_cls, check=True, seed=1, **options)


def test_the_safety_invariant_is_quiet_on_a_correct_run():
    """A run where everyone decides the same proposed value once passes the invariant."""
    sim = run_consensus(rule="wait_for_all", check=True, seed=2)
    assert consensus_safety(sim) is None
    assert all(holds for holds, _ in consensus_report(sim).values())


def test_property_table_has_a_row_per_run_and_a_column_per_property():
    """The table says yes or NO for each property of each named run."""
    text = property_table({"own": run_consensus(rule="own", seed=1)})
    lines = text.splitlines()
    assert lines[0].split() == ["protocol", *consensus.PROPERTIES]
    assert lines[1].split() == ["own", "NO", "yes", "yes", "yes"]


def test_a_crashed_node_is_excused_from_termination():
    """A node that crashed and stayed down does not count as undecided."""
    sim = run_consensus(rule="timeout", crash="n5", crash_at=0.0, seed=1)
    assert consensus_report(sim)["termination"] == (True, "")
