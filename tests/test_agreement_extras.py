"""Tests of chapter 03a's smaller modules: synchrony (GST), byzantine, pictures and summaries, and their bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bad_input_support import assert_named_error  # noqa: E402
from course_lib.sim import Simulation  # noqa: E402
from course_lib.topics.agreement import (byzantine, commit, consensus, multipaxos, paxos,  # noqa: E402
                                         summaries, synchrony)
from course_lib.topics.agreement.pictures import ballot_timeline, event_labels, mark_cut_off  # noqa: E402
from course_lib.viz import space_time  # noqa: E402


@pytest.mark.parametrize("gst", [0.0, 15.0, 40.0])
def test_paxos_decides_only_after_gst_and_never_two_values(gst):
    """Before GST no majority hears itself, so nothing is learned; after it every run decides, one value."""
    for seed in range(4):
        sim = synchrony.run_partially_synchronous(gst, seed=seed)
        learned = [e.time for e in sim.trace.custom("learned")]
        assert learned and min(learned) > gst
        assert len(set(paxos.learned_values(sim).values())) == 1


def test_one_lying_acceptor_makes_paxos_choose_two_values():
    """The same schedule: an honest c makes b propose x again; a lying c lets b's y be chosen too."""
    honest = paxos.learned_values(byzantine.run_lying_acceptor(False))
    lying = paxos.learned_values(byzantine.run_lying_acceptor(True))
    assert honest["a"] == honest["b"] == "x"
    assert (lying["a"], lying["b"]) == ("x", "y")


def test_quorum_table_says_3f_plus_1():
    """The smallest safe n in the table is 3f + 1 for each f."""
    rows = [line.split() for line in byzantine.quorum_table(3).splitlines()[1:]]
    for f in (1, 2, 3):
        safe = [int(r[1]) for r in rows if int(r[0]) == f and r[-1] == "yes"]
        assert min(safe) == 3 * f + 1


def test_text_table_aligns_and_rounds():
    """Floats are rounded to the given places, None shows as '-', columns line up."""
    text = summaries.text_table(["node", "t"], [["p1", 78.2619260585391], ["p22", None]], digits=2)
    assert text.splitlines() == ["node      t", "p1    78.26", "p22       -"]


def test_outcome_table_of_a_two_phase_commit():
    """A row per node, a column per transaction; the coordinator has no time in doubt."""
    sim = Simulation(seed=1)
    commit.set_refusal_rate(sim, 0.0)
    coord = sim.add_node(commit.NaiveCoordinator, "coord")
    sim.add_nodes(commit.NaiveParticipant, ["p1", "p2"])
    sim.at(0.5, coord.begin, "t1", {"p1": ("k", "a"), "p2": ("k", "b")})
    sim.run(until=20)
    lines = summaries.outcome_table(sim).splitlines()
    assert lines[0].split() == ["node", "t1", "time", "in", "doubt"]
    assert lines[1].split() == ["coord", "commit", "-"]
    assert lines[2].split()[:2] == ["p1", "commit"]
    assert summaries.message_table(sim).splitlines()[-1].split() == ["total", "8"]


def test_event_labels_are_short_and_filtered_by_node():
    """Labels say the value in a word (slot:value in a log), only for the nodes asked for."""
    sim = multipaxos.run_log(commands=[(1.0, "c1")], seed=1, until=10)
    labels = event_labels(sim, ["learn", "leader"], nodes=["a"])
    assert sorted(labels.values()) == ["1:c1", "leads"]
    votes = event_labels(consensus.run_consensus(rule="own", seed=1), ["decide"], text=lambda e: "d")
    assert set(votes.values()) == {"d"} and len(votes) == 5


def test_pictures_draw():
    """ballot_timeline draws a lane per proposer and a GST line; mark_cut_off shades a lane."""
    ax = ballot_timeline(synchrony.run_partially_synchronous(10.0, seed=1), gst=10.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["proposer a", "proposer e"]
    sim = byzantine.run_lying_acceptor(True)
    ax = space_time(sim)
    mark_cut_off(ax, "b", 0, 6)
    assert any(t.get_text() == "b cut off" for t in ax.texts)
    plt.close("all")


def lying_run():
    return byzantine.run_lying_acceptor(True)


ERRORS = [
    ("text_table columns a str", lambda: summaries.text_table("ab", []), TypeError, r"columns='ab'"),
    ("text_table short row", lambda: summaries.text_table(["a", "b"], [[1]]), ValueError, r"rows\[0\]=\[1\]"),
    ("outcome_table of a str", lambda: summaries.outcome_table("x"), TypeError, r"sim='x'"),
    ("consensus rule unknown", lambda: consensus.run_consensus(rule="vote"), ValueError, r"rule='vote'"),
    ("consensus crash unknown", lambda: consensus.run_consensus(crash="n9"), ValueError, r"crash='n9'"),
    ("consensus proposals empty", lambda: consensus.run_consensus(proposals={}), ValueError, r"proposals=\{\}"),
    ("consensus check a str", lambda: consensus.run_consensus(check="yes"), TypeError, r"check='yes'"),
    ("consensus timeout 0", lambda: consensus.run_consensus(rule="timeout", timeout=0), ValueError, r"timeout=0"),
    ("consensus_report of a str", lambda: consensus.consensus_report("x"), TypeError, r"sim='x'"),
    ("property_table of a list", lambda: consensus.property_table([1]), TypeError, r"runs=\[1\]"),
    ("run_log leader unknown", lambda: multipaxos.run_log(leaders=[(0.0, "z")]), ValueError, r"node='z'"),
    ("run_log no leader", lambda: multipaxos.run_log(leaders=[]), ValueError, r"leaders=\[\]"),
    ("run_log command not a pair", lambda: multipaxos.run_log(commands=[(1.0,)]), ValueError,
     r"commands\[0\]=\(1.0,\)"),
    ("run_log negative time", lambda: multipaxos.run_log(commands=[(-1, "c")]), ValueError, r"time=-1"),
    ("run_log faults not callable", lambda: multipaxos.run_log(faults=3), TypeError, r"faults=3"),
    ("run_log skip_phase1 a str", lambda: multipaxos.run_log(skip_phase1="no"), TypeError, r"skip_phase1='no'"),
    ("gst negative", lambda: synchrony.run_partially_synchronous(-1), ValueError, r"gst=-1"),
    ("gst two members", lambda: synchrony.run_partially_synchronous(5, members=["a", "b"]), ValueError,
     r"members=\['a', 'b'\]"),
    ("gst proposer unknown", lambda: synchrony.run_partially_synchronous(5, proposers=[(0, "z", "x")]),
     ValueError, r"node='z'"),
    ("lying liar a str", lambda: byzantine.run_lying_acceptor("yes"), TypeError, r"liar='yes'"),
    ("quorum_table max_f 0", lambda: byzantine.quorum_table(0), ValueError, r"max_f=0"),
    ("event_labels names a str", lambda: event_labels(lying_run(), "learned"), TypeError, r"names='learned'"),
    ("event_labels node unknown", lambda: event_labels(lying_run(), ["learned"], nodes=["z"]), ValueError,
     r"'z'"),
    ("event_labels text not callable", lambda: event_labels(lying_run(), ["learned"], text="x"), TypeError,
     r"text='x'"),
    ("mark_cut_off no axes", lambda: mark_cut_off(None, "a", 0, 1), TypeError, r"ax=None"),
    ("mark_cut_off lane unknown", lambda: mark_cut_off(space_time(lying_run()), "z", 0, 1), ValueError,
     r"node='z'"),
    ("mark_cut_off backwards", lambda: mark_cut_off(space_time(lying_run()), "a", 2, 1), ValueError, r"end=1"),
    ("ballot_timeline of a str", lambda: ballot_timeline("x"), TypeError, r"sim='x'"),
    ("ballot_timeline backwards", lambda: ballot_timeline(lying_run(), start=5, end=1), ValueError, r"end=1"),
    ("ballot_timeline gst a str", lambda: ballot_timeline(lying_run(), gst="soon"), TypeError, r"gst='soon'"),
    ("ballot_timeline proposers a str", lambda: ballot_timeline(lying_run(), proposers="a"), TypeError,
     r"proposers='a'"),
    ("message_table of a str", lambda: summaries.message_table("x"), TypeError, r"sim='x'"),
    ("consensus_safety of a str", lambda: consensus.consensus_safety("x"), TypeError, r"sim='x'"),
    ("one_value_per_slot of a str", lambda: multipaxos.one_value_per_slot("x"), TypeError, r"sim='x'"),
    ("NaiveConsensus members a str", lambda: Simulation(seed=0).add_node(consensus.NaiveConsensus, "a", "abc"),
     TypeError, r"members='abc'"),
    ("MultiPaxosNode members empty", lambda: Simulation(seed=0).add_node(multipaxos.MultiPaxosNode, "a", []),
     ValueError, r"members=\[\]"),
    ("gst backoff unknown", lambda: synchrony.run_partially_synchronous(5, backoff="often"), ValueError,
     r"backoff='often'"),
    ("gst timeout 0", lambda: synchrony.run_partially_synchronous(5, timeout=0), ValueError, r"timeout=0"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the course's bad-argument error naming the parameter and its value."""
    try:
        assert_named_error(call, error, pattern)
    finally:
        plt.close("all")
