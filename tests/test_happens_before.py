"""Tests of course_lib.checkers.happens_before: the happens-before oracle computed from a trace."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.checkers.happens_before import HappensBefore
from course_lib.topics.clocks import run_clocks
from course_lib.sim import Node, Simulation, Trace


class Relay(Node):
    """Sends on what it is told to; records a custom 'tick' on demand."""

    def on_hop(self, msg) -> None:
        pass


def manual(script, nodes=("a", "b", "c"), **net):
    """Run a script of (time, action) where action is ('send', src, dst) or ('tick', node)."""
    sim = Simulation(seed=1, latency=1.0, **net)
    sim.add_nodes(Relay, list(nodes))
    for t, action in script:
        if action[0] == "send":
            sim.at(t, lambda s=action[1], d=action[2]: sim[s].send(d, "hop"))
        else:
            sim.at(t, lambda n=action[1]: sim[n].record("tick"))
    sim.run(until=50)
    return sim


def naive_closure(sim):
    """Happens-before by graph search over every send, delivery and custom row (the definition)."""
    rows = sim.trace.events
    events = [i for i, r in enumerate(rows) if r[1] in ("send", "deliver", "custom") and r[2] is not None]
    succ = {e: [] for e in events}
    last, sends = {}, {}
    for e in events:
        r = rows[e]
        if r[2] in last:
            succ[last[r[2]]].append(e)
        last[r[2]] = e
        if r[1] == "send":
            sends[r[5]] = e
        elif r[1] == "deliver" and r[5] in sends:
            succ[sends[r[5]]].append(e)
    reach = {}
    for e in events:
        seen, stack = set(), [e]
        while stack:
            for f in succ[stack.pop()]:
                if f not in seen:
                    seen.add(f)
                    stack.append(f)
        reach[e] = seen
    return events, reach


def test_program_order_and_messages_are_happened_before():
    """A send happened before its delivery and before later events of its node; unrelated events are concurrent."""
    sim = manual([(1, ("tick", "a")), (2, ("send", "a", "b")), (5, ("tick", "b")), (5, ("tick", "c"))])
    hb = HappensBefore(sim)
    tick_a, send, deliver, tick_b, tick_c = hb.events
    assert hb.happened_before(tick_a, send) and hb.happened_before(send, deliver)
    assert hb.happened_before(tick_a, tick_b), "transitivity through the message"
    assert not hb.happened_before(deliver, send)
    assert hb.concurrent(tick_b, tick_c) and hb.concurrent(tick_a, tick_c)
    assert hb.relation(tick_a, tick_b) == "before" and hb.relation(tick_b, tick_a) == "after"
    assert hb.relation(send, send) == "equal" and hb.relation(tick_c, send) == "concurrent"


def test_an_event_did_not_happen_before_itself():
    """happened_before is strict and concurrent needs two distinct events."""
    sim = manual([(1, ("tick", "a"))])
    (e,) = HappensBefore(sim).events
    hb = HappensBefore(sim)
    assert not hb.happened_before(e, e) and not hb.concurrent(e, e)


def test_vectors_and_lamport_numbers_count_the_causal_past():
    """vector(e)[n] counts n's events before or at e; lamport(e) is the longest chain ending at e."""
    sim = manual([(1, ("send", "a", "b")), (3, ("send", "b", "c")), (3.5, ("tick", "a"))])
    hb = HappensBefore(sim)
    send_ab, deliver_b, send_bc, tick_a, deliver_c = hb.events
    assert hb.vector(deliver_c) == (1, 2, 1)
    assert hb.vector_dict(tick_a) == {"a": 2}
    assert [hb.lamport(e) for e in hb.events] == [1, 2, 3, 2, 4]


def test_a_duplicated_message_is_received_twice_from_one_send():
    """With duplication both deliveries follow the same send, and each counts as an event."""
    sim = manual([(1, ("send", "a", "b"))], duplicate=1.0)
    hb = HappensBefore(sim)
    send, first, second = hb.events
    assert hb.event(first).kind == hb.event(second).kind == "deliver"
    assert hb.happened_before(send, first) and hb.happened_before(first, second)
    assert hb.vector(second) == (1, 2, 0)


def test_select_counts_only_chosen_events_but_keeps_causality():
    """select='tick' asks about custom 'tick' rows only; sends and deliveries still carry causality."""
    sim = manual([(1, ("tick", "a")), (2, ("send", "a", "b")), (5, ("tick", "b"))])
    hb = HappensBefore(sim, select="tick")
    a, b = hb.events
    assert len(hb) == 2 and hb.happened_before(a, b) and hb.vector(b) == (1, 1, 0)
    with pytest.raises(ValueError, match="not a selected event"):
        hb.vector(1)


def test_frontier_and_find_violation_cover_every_causal_pair():
    """find_violation finds a pair whose stamps do not grow, and None for Lamport numbers."""
    run = run_clocks(None, seed=3, nodes=4)
    hb = run.oracle
    assert hb.find_violation(hb.lamport) is None
    times = {e: hb.event(e).time for e in hb}
    flat = {e: 0 for e in hb}
    assert hb.find_violation(flat.__getitem__) is not None
    assert hb.find_violation(times.__getitem__, lambda x, y: x <= y) is None


def test_causal_max_is_the_largest_value_in_the_causal_past():
    """causal_max(v)[e] = max of v over e and every event that happened before e."""
    run = run_clocks(None, seed=5, nodes=3)
    hb = run.oracle
    value = {e: random.Random(e).random() for e in hb}
    got = hb.causal_max(value)
    for e in hb:
        assert got[e] == max([value[e]] + [value[f] for f in hb if hb.happened_before(f, e)])


def test_bad_arguments_are_named():
    """A non-trace source, a bad select and an unknown node give errors naming the argument."""
    with pytest.raises(TypeError, match="source="):
        HappensBefore(42)
    with pytest.raises(TypeError, match="select="):
        HappensBefore(Trace(), select=3)
    sim = manual([(1, ("tick", "a"))])
    with pytest.raises(ValueError, match="misses node"):
        HappensBefore(sim, nodes=["b"])
    with pytest.raises(ValueError, match="node="):
        HappensBefore(sim).events_of("zz")


@settings(max_examples=40)
@given(seed=st.integers(0, 10_000), nodes=st.integers(1, 5), duplicate=st.sampled_from([0.0, 0.3]))
def test_oracle_agrees_with_the_definition(seed, nodes, duplicate):
    """On random runs, the O(1) answer equals reachability in the event graph, for every pair."""
    run = run_clocks(None, seed=seed, nodes=nodes, sends=3, local_events=2, duplicate=duplicate)
    hb = HappensBefore(run.sim)
    events, reach = naive_closure(run.sim)
    assert hb.events == events
    for a in events:
        for b in events:
            assert hb.happened_before(a, b) == (b in reach[a]), (a, b)
