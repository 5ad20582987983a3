"""Tests of course_lib.sim.trace: every kind of event is recorded, summarised and printed stably."""

from __future__ import annotations

import math

import pytest

from course_lib.sim import Event, Node, Simulation, Trace
from course_lib.sim.trace import KINDS


class Chatty(Node):
    """Sends one ping per node and records a custom event per operation."""

    def __init__(self) -> None:
        self.got = 0

    def on_ping(self, msg) -> None:
        self.got += 1

    def op(self, dst="b", n=1) -> None:
        self.record("op", dst=dst)
        for _ in range(n):
            self.send(dst, "ping")

    def timer_tick(self) -> None:
        pass


def sim_with(**net) -> Simulation:
    sim = Simulation(seed=1, latency=1.0, **net)
    sim.add_nodes(Chatty, ["a", "b", "c"])
    return sim


def kinds(sim) -> list[str]:
    return [e.kind for e in sim.trace]


def test_send_and_deliver_are_recorded_with_node_peer_type_and_id():
    """A delivered message leaves a send at the sender and a deliver at the receiver, sharing the id."""
    sim = sim_with()
    sim.at(2, sim["a"].op)
    sim.run(until=5)
    send, = sim.trace.filter(kind="send")
    deliver, = sim.trace.filter(kind="deliver")
    assert send == Event(2.0, "send", "a", "b", "ping", 1, None)
    assert deliver == Event(3.0, "deliver", "b", "a", "ping", 1, None)


def test_drop_by_loss_is_recorded_at_send_time():
    """A message lost on the wire is a drop with reason 'loss' at the sender, at send time."""
    sim = sim_with(loss=1.0)
    sim.at(2, sim["a"].op)
    sim.run(until=5)
    assert sim.trace.filter(kind="drop") == [Event(2, "drop", "a", "b", "ping", 1, "loss")]
    assert sim.trace.filter(kind="deliver") == []


def test_drop_by_partition_is_recorded():
    """A message sent across a partition is a drop with reason 'partition'."""
    sim = sim_with()
    sim.at(1, sim.network.partition, [["a"]])
    sim.at(2, sim["a"].op)
    sim.run(until=5)
    assert [e.info for e in sim.trace.filter(kind="drop")] == ["partition"]


def test_drop_at_a_crashed_receiver_is_recorded_on_arrival():
    """A message reaching a crashed node is a drop with reason 'crashed' at the receiver, on arrival."""
    sim = sim_with()
    sim.at(1, sim.crash, "b")
    sim.at(2, sim["a"].op)
    sim.run(until=5)
    assert sim.trace.filter(kind="drop") == [Event(3.0, "drop", "b", "a", "ping", 1, "crashed")]


def test_duplicate_is_recorded_and_delivered_twice():
    """A duplicated message is one send, one duplicate event and two deliveries of the same id."""
    sim = sim_with(duplicate=1.0)
    sim.at(2, sim["a"].op)
    sim.run(until=5)
    assert kinds(sim)[-4:] == ["send", "duplicate", "deliver", "deliver"]
    assert {e.id for e in sim.trace if e.kind in ("send", "duplicate", "deliver")} == {1}


def test_timer_is_recorded_with_its_name():
    """A timer firing is a 'timer' event at the node with the timer's name as info."""
    sim = sim_with()
    sim.at(0, sim["c"].set_timer, 2.5, "tick")
    sim.run(until=5)
    assert sim.trace.filter(kind="timer") == [Event(2.5, "timer", "c", None, None, None, "tick")]


def test_crash_restart_partition_heal_and_clock_jump_are_recorded():
    """Faults are recorded: crash and restart at the node, partition and heal network-wide, clock jumps with delta."""
    sim = sim_with()
    sim.nemesis.crash("b", at=1, restart_at=2)
    sim.nemesis.partition([["a"], ["b", "c"]], at=3, heal_at=4)
    sim.nemesis.clock_jump("c", -0.5, at=4.5)
    sim.run(until=5)
    faults = [(e.time, e.kind, e.node, e.info) for e in sim.trace]
    assert faults == [
        (1, "crash", "b", None),
        (2, "restart", "b", 1),
        (3, "partition", None, [["a"], ["b", "c"]]),
        (4, "heal", None, None),
        (4.5, "clock_jump", "c", -0.5),
    ]


def test_custom_events_carry_their_name_and_data():
    """node.record(name, **data) adds a custom event; trace.custom(name) finds it."""
    sim = sim_with()
    sim.at(2, sim["a"].op, "c")
    sim.run(until=5)
    assert sim.trace.custom("op") == [Event(2, "custom", "a", None, "op", None, {"dst": "c"})]
    assert sim.trace.custom("other") == []


def test_every_kind_can_be_recorded_in_one_run():
    """One run with every fault and feature produces every kind of event."""
    sim = sim_with(duplicate=0.5)
    sim.network.set_link("a", "c", loss=1.0)
    sim.at(0, sim["c"].set_timer, 0.5, "tick")
    sim.at(0, sim["a"].op, "b", 4)
    sim.at(1, sim["a"].op, "b", 4)
    sim.at(1, sim["a"].op, "c")
    sim.nemesis.crash("b", at=1.5, restart_at=2.5)
    sim.at(3, sim["a"].op, "b", 2)
    sim.nemesis.partition([["a"]], at=3.5, heal_at=5)
    sim.at(4, sim["a"].op, "b")
    sim.nemesis.clock_jump("c", 1.0, at=6)
    sim.nemesis.pause("c", at=7, duration=1)
    sim.run(until=10)
    assert set(kinds(sim)) == set(KINDS)
    reasons = {e.info for e in sim.trace.filter(kind="drop")}
    assert reasons == {"loss", "crashed", "partition"}


def test_filter_by_kind_node_and_type_combines_criteria():
    """filter() keeps the events matching every given criterion."""
    sim = sim_with()
    sim.at(1, sim["a"].op, "b")
    sim.at(1, sim["c"].op, "b")
    sim.run(until=5)
    assert [e.node for e in sim.trace.filter(kind="send")] == ["a", "c"]
    assert [e.peer for e in sim.trace.filter(kind="deliver", node="b")] == ["a", "c"]
    assert sim.trace.filter(node="c", type="ping") == [Event(1, "send", "c", "b", "ping", 2, None)]
    assert len(sim.trace.filter()) == len(sim.trace)


@pytest.mark.parametrize("bad", ["sends", "Send", "message", ""])
def test_filter_rejects_unknown_kinds_listing_the_kinds(bad):
    """filter(kind=...) with an unknown kind is a ValueError showing it and listing the kinds."""
    with pytest.raises(ValueError) as info:
        Trace().filter(kind=bad)
    assert f"kind={bad!r}" in str(info.value) and "'deliver'" in str(info.value)


def test_summary_counts_messages_by_outcome_type_and_reason():
    """summary() counts sends, deliveries, drops by reason, duplicates, timers, crashes and sends by type."""
    sim = sim_with()
    sim.network.set_link("a", "c", loss=1.0)
    sim.at(1, sim["a"].op, "b", 3)   # 3 delivered
    sim.at(1, sim["a"].op, "c", 2)   # 2 lost
    sim.at(1, sim["b"].send, "a", "pong")  # still in flight when the run stops
    sim.run(until=1.5)
    s = sim.trace.summary()
    assert (s["sent"], s["delivered"], s["dropped"], s["duplicated"]) == (6, 0, 2, 0)
    assert s["sent_by_type"] == {"ping": 5, "pong": 1}
    assert s["dropped_by_reason"] == {"loss": 2}
    assert s["timers"] == 0 and s["crashes"] == 0
    assert "messages_per_op" not in s


def test_summary_messages_per_op_divides_sends_by_operations():
    """summary(per=name) adds operations (custom events of that name) and messages_per_op."""
    sim = sim_with()
    for t in (1, 2, 3, 4):
        sim.at(t, sim["a"].op, "b", 3)
    sim.at(5, sim["c"].record, "not_an_op")
    sim.run(until=10)
    s = sim.trace.summary(per="op")
    assert s["operations"] == 4 and s["sent"] == 12 and s["delivered"] == 12
    assert s["messages_per_op"] == 3.0


def test_summary_messages_per_op_is_nan_without_operations():
    """With no operation of that name, messages_per_op is NaN rather than a division error."""
    s = Trace().summary(per="write")
    assert s["operations"] == 0 and math.isnan(s["messages_per_op"])


def test_empty_summary_is_all_zero():
    """An empty trace summarises to zeros and empty breakdowns."""
    s = Trace().summary()
    assert s == {"sent": 0, "delivered": 0, "dropped": 0, "duplicated": 0, "timers": 0,
                 "crashes": 0, "sent_by_type": {}, "dropped_by_reason": {}}


def test_to_text_is_one_stable_line_per_event():
    """to_text() prints one fixed-format line per event, identical across identical runs."""
    def run():
        sim = sim_with(loss=0.3, duplicate=0.3)
        for t in range(10):
            sim.at(t, sim["a"].op, "bc"[t % 2], 2)
        sim.nemesis.crash("c", at=4, restart_at=6)
        sim.run(until=20)
        return sim.trace.to_text()

    text = run()
    assert text == run()
    lines = text.splitlines()
    assert lines[0] == "    0.0000 custom     a op {'dst': 'b'}"
    assert "    1.0000 deliver    b <- a ping #1" in lines
    assert any(line.endswith("'loss'") for line in lines)


def test_event_str_formats_each_part():
    """An event prints time, kind, node, an arrow to its peer, type, #id and the info repr."""
    assert str(Event(1.5, "send", "a", "b", "ping", 7, None)) == "    1.5000 send       a -> b ping #7"
    assert str(Event(2, "deliver", "b", "a", "ping", 7)) == "    2.0000 deliver    b <- a ping #7"
    assert str(Event(3, "heal", None)) == "    3.0000 heal       None"
    assert str(Event(4, "drop", "a", "b", "x", 1, "loss")) == "    4.0000 drop       a -> b x #1 'loss'"


def test_disabled_trace_records_nothing():
    """With trace=False nothing is recorded, but the run still happens."""
    sim = Simulation(seed=1, trace=False)
    a, b = sim.add_nodes(Chatty, ["a", "b"])
    sim.at(1, a.op)
    sim.run(until=5)
    assert len(sim.trace) == 0 and b.got == 1


def test_reading_the_trace_by_index_iteration_and_events():
    """A trace reads by index, by iteration and as a list of events, all in recording order."""
    trace = Trace()
    trace.record(1.0, "crash", "a")
    trace.record(2.0, "restart", "a", info=1)
    assert trace[0] == Event(1.0, "crash", "a") and trace[-1].info == 1
    assert list(trace) == trace.events and len(trace) == 2
    assert repr(trace) == "<Trace 2 events>"


def test_partition_spans_run_from_each_partition_to_the_next_heal():
    """partition_spans pairs a partition with the next heal; one still open lasts until `end`."""
    t = Trace()
    t.record(1.0, "partition", None)
    t.record(2.0, "partition", None)  # re-partitioning while partitioned extends the same span
    t.record(3.0, "heal", None)
    t.record(4.0, "heal", None)       # a heal with nothing open is ignored
    t.record(5.0, "partition", None)
    assert t.partition_spans(end=9.0) == [(1.0, 3.0), (5.0, 9.0)]
    assert Trace().partition_spans(end=1.0) == []
