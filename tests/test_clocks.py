"""Tests of course_lib.topics.clocks: the seeds' naive clocks, LWW under skew, and the clock harness and scenarios.

Correct clocks come from the exercise's reference solution (solutions/02_clocks), so the answer
exists in one place only; broken clocks are written here.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

from course_lib.topics.clocks import (NaiveVectorClock, TOPOLOGIES, ClockRun, LWWResolver, Versioned,
                                      check_vectors, hlc_scenario, lamport_scenario, lww_scenario,
                                      make_topology, run_clocks, vector_scenario)
from course_lib.grading import ScenarioFailed, check_scenario

SOLUTION = pathlib.Path(__file__).resolve().parent.parent / "solutions/02_clocks/02_clocks.ipynb"


def _reference() -> dict:
    sys.path.insert(0, str(SOLUTION.parent.parent.parent / "tools"))
    from reference import load_reference
    return load_reference("02_clocks")


REF = _reference()
Lamport, Vector, Hybrid = REF["LamportClock"], REF["VectorClock"], REF["HybridClock"]


class Frozen:
    """A clock that never moves: every event gets the same timestamp."""

    def __init__(self, node_id, *args):
        self.ts = 0

    def tick(self):
        return self.ts

    send = tick

    def receive(self, ts):
        return self.ts


class LamportNoMax(Lamport):
    def receive(self, ts):
        return self.tick()


class VectorTwice(Vector):
    def receive(self, ts):
        self.tick()
        return super().receive(ts)


class HybridNoReset(Hybrid):
    def tick(self):
        self.l = max(self.l, self.physical())
        self.c += 1
        return (self.l, self.c)


# -- the seeds' "before" versions ---------------------------------------------------------------

def test_naive_vector_clock_says_equal_clocks_happened_before_each_other():
    """The ported happens_before answers True both ways for equal clocks (the seed's bug, kept on purpose)."""
    a, b = NaiveVectorClock(), NaiveVectorClock()
    a.increment("n1")
    b.merge(a)
    assert a.happens_before(b) and b.happens_before(a)


def test_naive_vector_clock_cannot_tell_after_from_concurrent():
    """happens_before is False both for 'after' and for 'concurrent'."""
    a, b, c = NaiveVectorClock(), NaiveVectorClock(), NaiveVectorClock()
    a.increment("n1")
    a.increment("n1")
    b.increment("n1")
    c.increment("n2")
    assert not a.happens_before(b) and not a.happens_before(c)
    assert b.happens_before(a)


def test_lww_resolver_keeps_the_highest_timestamp():
    """LWWResolver.resolve returns the value with the largest timestamp, whatever the order."""
    old, new = Versioned("old", 1.0, "n1"), Versioned("new", 2.0, "n2")
    assert LWWResolver().resolve([old, new]) is new and LWWResolver().resolve([new, old]) is new


@pytest.mark.parametrize("skew,kept", [(0.0, 2), (1.0, 2), (2.0, 1), (5.0, 1)])
def test_lww_loses_the_later_write_when_skew_exceeds_the_gap(skew, kept):
    """With n2's clock behind by more than the 1.5 gap between the writes, x=2 is lost on both replicas."""
    sim = lww_scenario(seed=0, skew=skew)
    assert sim["n1"].read("x") == sim["n2"].read("x") == kept


# -- the harness --------------------------------------------------------------------------------

def test_run_without_clocks_records_every_event_once():
    """Each node does its sends and local events; every send and delivery has one clock event."""
    run = run_clocks(None, seed=2, nodes=3, sends=4, local_events=2, topology="complete")
    ops = [e.op for e in run.events]
    assert ops.count("send") == 12 and ops.count("local") == 6 and ops.count("receive") == 12
    assert len(run.oracle) == len(run.events) == len(run.trace.custom("clock"))
    assert all(run.trace[e.index].type == "clock" for e in run.events)


def test_same_seed_same_run():
    """Two runs with the same seed and settings have identical traces."""
    a = run_clocks(None, seed=9, nodes=4, duplicate=0.2, jumps=2)
    b = run_clocks(None, seed=9, nodes=4, duplicate=0.2, jumps=2)
    assert a.trace.to_text() == b.trace.to_text()


def test_messages_carry_the_send_timestamp_to_the_receive():
    """receive(ts) gets exactly what send() returned on the sender for that message."""
    seen = []

    class Spy(Frozen):
        def __init__(self, node_id):
            self.node_id, self.k = node_id, 0

        def tick(self):
            return "local"

        def send(self):
            self.k += 1
            return f"{self.node_id}/{self.k}"

        def receive(self, ts):
            seen.append(ts)
            return ts

    run = run_clocks(lambda node: Spy(node.id), seed=4, nodes=3)
    sent = {e.msg: e.ts["clock"] for e in run.events if e.op == "send"}
    got = [e for e in run.events if e.op == "receive"]
    assert [sent[e.msg] for e in got] == seen


def test_duplicates_are_received_twice():
    """With duplicate=1 every message is received twice, each time a receive event."""
    run = run_clocks(None, seed=1, nodes=3, sends=2, local_events=0, duplicate=1.0, topology="complete")
    ops = [e.op for e in run.events]
    assert ops.count("receive") == 2 * ops.count("send")


def test_timestamps_are_snapshots():
    """A clock that returns its own dict and later mutates it does not change recorded timestamps."""
    class Aliasing(Vector):
        def tick(self):
            self.clock[self.node_id] = self.clock.get(self.node_id, 0) + 1
            return self.clock

    run = run_clocks(lambda node: Aliasing(node.id), seed=1, nodes=2, topology="complete")
    mine = [e.ts["clock"][e.node] for e in run.events if e.node == "n1"]
    assert mine == sorted(mine) and len(set(mine)) == len(mine)


@pytest.mark.parametrize("kind", TOPOLOGIES)
def test_topologies_are_connected_and_symmetric(kind):
    """Every topology links all nodes into one component, each link both ways."""
    import random
    ids = [f"n{i}" for i in range(7)]
    nb = make_topology(ids, kind, random.Random(3))
    assert all(a in nb[b] for a in ids for b in nb[a])
    seen, stack = {"n0"}, ["n0"]
    while stack:
        for m in nb[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    assert seen == set(ids)


def test_hlc_runs_record_a_horizon_not_below_any_reading():
    """track_horizon records, per event, at least the node's own physical reading."""
    run = run_clocks(None, seed=3, track_horizon=True, max_offset=5.0)
    assert all(e.horizon >= e.pt for e in run.events)


def test_bad_arguments_are_named():
    """Wrong sizes, topologies and clock factories give errors naming the argument."""
    with pytest.raises(ValueError, match="nodes="):
        run_clocks(None, seed=1, nodes=0)
    with pytest.raises(ValueError, match="topology="):
        run_clocks(None, seed=1, topology="mesh")
    with pytest.raises(TypeError, match="clocks="):
        run_clocks(42, seed=1)
    with pytest.raises(ValueError, match="check="):
        vector_scenario(Vector, seed=1, check="fast")


# -- the scenarios ---------------------------------------------------------------------------------

def test_reference_clocks_pass_every_scenario():
    """The exercise's reference clocks pass every check on a few seeds, with duplicates and jumps."""
    faults = dict(duplicate=0.3, reorder=0.2, jumps=3)
    check_scenario(lamport_scenario, Lamport, seeds=range(3), exact=True, **faults)
    for check in ("causality", "compare", "exact"):
        check_scenario(vector_scenario, Vector, seeds=range(3), check=check, **faults)
    for check in ("causality", "physical", "bounded"):
        check_scenario(hlc_scenario, Hybrid, seeds=range(3), check=check, **faults)


def test_a_frozen_clock_fails_and_names_two_events():
    """A clock that never moves breaks the clock condition; the failure names both events."""
    with pytest.raises(ScenarioFailed, match=r"event #\d+ .* happened before event #\d+"):
        lamport_scenario(Frozen, seed=1)


def test_lamport_without_max_fails_the_clock_condition():
    """Forgetting the max on receive is caught."""
    with pytest.raises(ScenarioFailed, match="clock condition"):
        lamport_scenario(LamportNoMax, seed=0)


def test_vector_ticking_twice_passes_causality_but_not_exact_counts():
    """Ticking twice on receive still characterises causality but not the lecture's counts."""
    vector_scenario(VectorTwice, seed=0, check="causality")
    with pytest.raises(ScenarioFailed, match="should be"):
        vector_scenario(VectorTwice, seed=0, check="exact")


def test_vector_timestamps_must_be_dicts():
    """A clock returning ints for vectors is told what a vector timestamp is."""
    with pytest.raises(ScenarioFailed, match="must be a dict"):
        vector_scenario(Frozen, seed=0)


def test_large_runs_are_checked_on_samples():
    """A run beyond all_pairs_up_to is checked on sampled pairs and still catches a broken clock."""
    run = run_clocks(lambda node: VectorTwice(node.id), seed=0, nodes=6, sends=10)
    assert len(run.events) > 100
    check_vectors(run, VectorTwice, check="causality", all_pairs_up_to=100, pairs=300)
    bad = run_clocks(lambda node: Frozen(node.id), seed=0, nodes=6, sends=10)
    with pytest.raises(ScenarioFailed):
        check_vectors(bad, Frozen, check="exact")


def test_hlc_without_reset_fails_the_bound():
    """A counter that never resets exceeds the number of same-l predecessors."""
    hlc_scenario(HybridNoReset, seed=0, check="causality")
    with pytest.raises(ScenarioFailed, match="reset c"):
        hlc_scenario(HybridNoReset, seed=0, check="bounded")


def test_hlc_timestamps_must_be_pairs():
    """A scalar HLC timestamp is rejected with an explanation."""
    with pytest.raises(ScenarioFailed, match=r"tuple \(l, c\)"):
        hlc_scenario(Frozen, seed=0)


def test_clock_run_describes_events():
    """describe names the node, the operation, the peer and the timestamp."""
    run = run_clocks(lambda node: Lamport(node.id), seed=1, nodes=2, topology="complete")
    assert isinstance(run, ClockRun)
    send = next(e for e in run.events if e.op == "send")
    text = run.describe(send.index, "clock")
    assert f"{send.node} send to {send.peer}" in text and f"timestamp {send.ts['clock']}" in text
    with pytest.raises(ValueError, match="clock="):
        run.timestamps("nope")
