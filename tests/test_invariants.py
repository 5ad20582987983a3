"""Tests of course_lib.checkers.invariants: the protocol invariants checked after every event."""

from __future__ import annotations

import pytest

from course_lib.checkers import (INVARIANTS, at_most_one_leader, at_most_one_leader_per_term,
                                 atomic_commit, fenced_writes_monotonic)
from course_lib.sim import InvariantViolation, Node, Simulation


class Claimant(Node):
    """Believes it leads when told, in the term it is given."""

    def __init__(self) -> None:
        self.leading = False
        self.term = None

    def is_leader(self) -> bool:
        return self.leading


class Store(Node):
    """Lists accepted writes as a fencing storage does."""

    def __init__(self) -> None:
        self.accepted_writes = []


def claimants(n=3, seed=0):
    sim = Simulation(seed=seed)
    return sim, sim.add_nodes(Claimant, [f"n{i + 1}" for i in range(n)])


# -- atomic_commit --------------------------------------------------------------------------

def test_atomic_commit_accepts_agreeing_decisions():
    """Every node deciding the same outcome, even repeatedly, is fine."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Node, ["a", "b"])
    a.record("vote", txid="t1", vote="yes")
    b.record("vote", txid="t1", vote="yes")
    for node in (a, b, a):
        node.record("decide", txid="t1", outcome="commit")
    assert atomic_commit(sim) is None


def test_atomic_commit_catches_two_outcomes():
    """Two nodes deciding differently for one transaction is a violation naming both."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Node, ["a", "b"])
    a.record("decide", txid="t1", outcome="commit")
    b.record("decide", txid="t1", outcome="abort")
    result = atomic_commit(sim)
    assert isinstance(result, str) and "'t1'" in result and "a decided commit" in result


def test_atomic_commit_remembers_earlier_decisions():
    """A node that changes its mind in a later check is caught: the checker remembers what it saw."""
    sim = Simulation(seed=1)
    (a,) = sim.add_nodes(Node, ["a"])
    a.record("decide", txid="t1", outcome="abort")
    assert atomic_commit(sim) is None
    a.record("decide", txid="t1", outcome="commit")
    assert "a decided commit" in atomic_commit(sim)


@pytest.mark.parametrize("vote_first", [True, False])
def test_atomic_commit_forbids_commit_after_a_refusal(vote_first):
    """Committing a transaction that some database refused violates validity, in either order."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Node, ["a", "b"])
    events = [(b, "vote", {"txid": "t", "vote": "no"}), (a, "decide", {"txid": "t", "outcome": "commit"})]
    for node, name, info in (events if vote_first else events[::-1]):
        node.record(name, **info)
    assert "refused" in atomic_commit(sim)


def test_atomic_commit_rejects_unknown_outcomes():
    """An outcome other than commit or abort is reported."""
    sim = Simulation(seed=1)
    (a,) = sim.add_nodes(Node, ["a"])
    a.record("decide", txid="t", outcome="maybe")
    assert "'maybe'" in atomic_commit(sim)


def test_atomic_commit_needs_the_trace():
    """Without a trace the checker cannot work and says how to fix it."""
    sim = Simulation(seed=1, trace=False)
    with pytest.raises(ValueError, match="trace=True"):
        atomic_commit(sim)


def test_atomic_commit_stops_a_run_as_an_invariant():
    """Registered with add_invariant, it stops the run at the violating event."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Node, ["a", "b"])
    sim.add_invariant("atomic_commit", atomic_commit)
    sim.at(1, lambda: a.record("decide", txid="t", outcome="commit"))
    sim.at(2, lambda: b.record("decide", txid="t", outcome="abort"))
    with pytest.raises(InvariantViolation, match="atomic_commit") as info:
        sim.run(until=5)
    assert info.value.time == 2


# -- leaders ----------------------------------------------------------------------------------

def test_at_most_one_leader_counts_live_claimants():
    """Two live nodes believing they lead is a violation; a crashed one does not count."""
    sim, (a, b, c) = claimants()
    a.leading = True
    assert at_most_one_leader(sim) is None
    b.leading = True
    assert "2 nodes believe they lead" in at_most_one_leader(sim)
    sim.crash("n2")
    assert at_most_one_leader(sim) is None


def test_per_term_allows_leaders_of_different_terms():
    """An old leader in term 1 and a new one in term 2 at once do not break the per-term rule."""
    sim, (a, b, _) = claimants()
    a.leading, a.term = True, 1
    b.leading, b.term = True, 2
    assert at_most_one_leader_per_term(sim) is None


def test_per_term_catches_two_leaders_in_one_term_at_once():
    """Two nodes leading in the same term at the same time is a violation."""
    sim, (a, b, _) = claimants()
    a.leading = b.leading = True
    a.term = b.term = 3
    assert "both lead in term 3" in at_most_one_leader_per_term(sim)


def test_per_term_remembers_the_owner_of_a_term():
    """A term led by one node earlier may not be led by another later."""
    sim, (a, b, _) = claimants()
    a.leading, a.term = True, 5
    assert at_most_one_leader_per_term(sim) is None
    a.leading = False
    b.leading, b.term = True, 5
    assert "but n1 led in that term" in at_most_one_leader_per_term(sim)


def test_per_term_treats_missing_terms_as_one_term_at_once_only():
    """Termless leaders one after the other are fine; two at once are a split brain."""
    sim, (a, b, _) = claimants()
    a.leading = True
    assert at_most_one_leader_per_term(sim) is None
    a.leading, b.leading = False, True
    assert at_most_one_leader_per_term(sim) is None
    a.leading = True
    assert "term None" in at_most_one_leader_per_term(sim)


# -- fencing ---------------------------------------------------------------------------------------

def test_fenced_writes_monotonic_accepts_rising_and_equal_tokens():
    """Tokens that never go down, each from one writer, pass; writes without a token are ignored."""
    sim = Simulation(seed=1)
    store = sim.add_node(Store, "s")
    store.accepted_writes += [{"writer": "a", "token": 1}, {"writer": "a", "token": 1},
                              {"writer": "x", "token": None}, {"writer": "b", "token": 2}]
    assert fenced_writes_monotonic(sim) is None


def test_fenced_writes_monotonic_catches_a_token_going_down():
    """A write accepted with a lower token than an earlier one is a violation."""
    sim = Simulation(seed=1)
    store = sim.add_node(Store, "s")
    store.accepted_writes += [{"writer": "b", "token": 34, "time": 1.0}]
    assert fenced_writes_monotonic(sim) is None
    store.accepted_writes += [{"writer": "a", "token": 33, "time": 2.0}]
    assert "token 33" in fenced_writes_monotonic(sim)


def test_fenced_writes_monotonic_catches_two_writers_with_one_token():
    """One token used by two writers means two leaders got the same lease."""
    sim = Simulation(seed=1)
    store = sim.add_node(Store, "s")
    store.accepted_writes += [{"writer": "a", "token": 7}, {"writer": "b", "token": 7}]
    assert "from two writers, a and b" in fenced_writes_monotonic(sim)


def test_invariants_are_listed_by_name():
    """INVARIANTS maps each name to its check, ready for add_invariant."""
    assert INVARIANTS == {"atomic_commit": atomic_commit, "at_most_one_leader": at_most_one_leader,
                          "at_most_one_leader_per_term": at_most_one_leader_per_term,
                          "fenced_writes_monotonic": fenced_writes_monotonic}
