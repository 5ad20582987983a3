"""Tests of course_lib.topics.clocks.snapshot: a snapshot by the clock and Chandy-Lamport's."""

import pytest

from course_lib.sim import InvalidArgument
from course_lib.topics.clocks import bank_run, cut_indices, snapshot_report


def test_the_marker_snapshot_is_consistent_and_adds_up():
    """Chandy-Lamport records a cut with no orphan, and balances plus channels equal the real total."""
    for k in range(15):
        report = snapshot_report(bank_run(seed=f"t/{k}"), "marker")
        assert report["orphans"] == [] and report["total"] == report["expected"] == 400, k


def test_the_clock_snapshot_loses_money_in_flight_and_counts_some_twice():
    """Recording at a clock time misses what is on the wire, and skewed clocks make orphans."""
    reports = [snapshot_report(bank_run(seed=f"t/{k}"), "clock") for k in range(15)]
    assert all(r["in_flight"] == 0 for r in reports)
    assert sum(r["total"] != r["expected"] for r in reports) >= 12
    assert any(r["orphans"] for r in reports)
    for r in reports:  # the books balance once the missed and double-counted money is accounted for
        assert r["total"] + r["missed"] >= r["expected"]


def test_with_perfect_clocks_the_clock_cut_has_no_orphan():
    """Orphans come from clock skew: with every clock exact, the clock cut is consistent (but misses money)."""
    for k in range(10):
        report = snapshot_report(bank_run(seed=f"t/{k}", max_offset=0.0), "clock")
        assert report["orphans"] == []


def test_the_cut_has_one_point_per_branch():
    """cut_indices names, for each branch, the trace index where it recorded its balance."""
    sim = bank_run(seed="t/cut", branches=3)
    cut = cut_indices(sim, "marker")
    assert sorted(cut) == ["n1", "n2", "n3"]
    assert all(sim.trace.events[i].type == "snapshot" for i in cut.values())


@pytest.mark.parametrize("call, words", [
    (lambda: bank_run(seed=0, branches=1), "branches=1"),
    (lambda: bank_run(seed=0, delays=(2, 1)), "delays="),
    (lambda: bank_run(seed=0, initiator="n9"), "initiator='n9'"),
    (lambda: snapshot_report(bank_run(seed=0, marker_at=None), "marker"), "kind='marker'"),
    (lambda: snapshot_report(bank_run(seed=0), "wall"), "kind='wall'"),
])
def test_bad_input_is_named(call, words):
    """Bad arguments raise InvalidArgument naming the argument and its value."""
    with pytest.raises(InvalidArgument, match=words):
        call()
