"""Regression tests for the core's semantics: one test per item of the issue "A core to trust".

Each test failed on the core before that issue (the item number is in the test's name); each
docstring states the rule it now checks.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import pytest

from course_lib.sim import (EventBudgetExceeded, HandlerError, Message, Node,
                            NoHandlerError, Simulation)
from course_lib.sim.errors import NodeDefinitionError, SimulationError
from course_lib.sim.simulation import DEFAULT_MAX_EVENTS


class Sink(Node):
    """Receives anything it is sent and remembers it."""

    def __init__(self) -> None:
        self.got: list = []

    def on_ping(self, msg) -> None:
        self.got.append(msg)


class Boom(Node):
    def on_start(self) -> None:
        self.set_timer(2, self.explode)

    def explode(self) -> None:
        raise RuntimeError("boom")


# 1 --------------------------------------------------------------------------------------------
def test_01_a_run_that_raised_leaves_no_stale_until_behind():
    """After run(until=10) raised at t=2, run(until=20) runs to 20, not to the old 10."""
    sim = Simulation(seed=1)
    sim.add_node(Boom, "a")
    sim.add_node(Sink, "b")
    with pytest.raises(HandlerError):
        sim.run(until=10)
    assert sim.now == 2
    sim.at(15, lambda: sim["b"].record("late"))
    sim.run(until=20)
    assert sim.now == 20
    assert [e.time for e in sim.trace.custom("late")] == [15.0]


# 2 --------------------------------------------------------------------------------------------
def test_02_fields_named_like_tuple_methods_read_back_and_containment_asks_for_fields():
    """index and count are ordinary fields; 'key' in msg asks for a field; a message has no len."""
    m = Message("ack", index=3, count=5, key="x")
    assert (m.index, m.count, m["index"]) == (3, 5, 3)
    assert "key" in m and "index" in m and "value" not in m and "type" not in m
    with pytest.raises(TypeError):
        len(m)
    assert dict(m.fields) == {"index": 3, "count": 5, "key": "x"}


# 3 --------------------------------------------------------------------------------------------
def test_03_messages_hash_by_value_and_equality_includes_the_sender():
    """Equal messages hash alike and differ when their senders do; 20,000 acks fit in a set quickly."""
    sim = Simulation(seed=1)
    a, b, c = sim.add_nodes(Sink, ["a", "b", "c"])
    from_a = a.send("c", "ping", term=1)
    from_b = b.send("c", "ping", term=1)
    again_a = a.send("c", "ping", term=1)
    assert from_a != from_b and from_a == again_a and hash(from_a) == hash(again_a)
    assert len({from_a, from_b, again_a}) == 2
    acks = {Message("ack", index=i, term=i % 7) for i in range(20_000)}
    assert len(acks) == 20_000
    assert len({hash(m) for m in acks}) > 19_000  # not one bucket: hash spreads over the fields


# 4 --------------------------------------------------------------------------------------------
def test_04_recorded_data_is_a_copy():
    """Appending to a list after recording it does not change the trace."""

    class Logger(Node):
        def on_start(self) -> None:
            self.log = [1]
            self.record("state", log=self.log)
            self.log.append(2)

    sim = Simulation(seed=1)
    sim.add_node(Logger, "a")
    sim.run(until=1)
    assert sim.trace.custom("state")[0].info == {"log": [1]}


# 5 --------------------------------------------------------------------------------------------
def test_05_a_frozenset_holding_a_mutable_object_is_copied_per_delivery():
    """A frozenset or tuple holding a mutable object is not shared between sender and receiver."""

    class Box:
        def __init__(self) -> None:
            self.items: list = []

    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Sink, ["a", "b"])
    box = Box()
    a.send("b", "ping", boxes=frozenset([box]))
    a.send("b", "ping", pair=(box, 1))
    sim.run(until=5)
    assert next(iter(b.got[0].boxes)) is not box and b.got[1].pair[0] is not box


# 6 --------------------------------------------------------------------------------------------
def test_06_generator_and_async_handlers_are_refused_when_the_class_is_defined():
    """A handler with yield, an async handler or one of the wrong arity is an error at class definition."""
    with pytest.raises(NodeDefinitionError, match=r"Gen\.on_ping is a generator"):
        class Gen(Node):
            def on_ping(self, msg):
                yield msg

    with pytest.raises(NodeDefinitionError, match=r"Async\.on_ping is an async function"):
        class Async(Node):
            async def on_ping(self, msg):
                return msg

    with pytest.raises(NodeDefinitionError, match=r"on_ping\(self, msg\)"):
        class NoMsg(Node):
            def on_ping(self):
                pass

    with pytest.raises(NodeDefinitionError, match=r"on_start\(self\)"):
        class StartWithArg(Node):
            def on_start(self, msg):
                pass

    sim = Simulation(seed=1)
    node = sim.add_node(Sink, "a")

    def ticking():
        yield 1

    with pytest.raises(TypeError, match="generator"):
        node.set_timer(1, ticking)


# 7 --------------------------------------------------------------------------------------------
def test_07_run_from_inside_a_handler_is_refused():
    """sim.run() called by a handler raises instead of running other nodes' handlers inside it."""

    class Impatient(Node):
        def on_ping(self, msg) -> None:
            self.sim.run(until=self.sim.now + 5)

    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Impatient, ["a", "b"])
    sim.at(0, a.send, "b", "ping")
    with pytest.raises(SimulationError, match="run to completion"):
        sim.run(until=10)


# 8 --------------------------------------------------------------------------------------------
def test_08_restart_from_a_handler_runs_on_start_after_the_handler():
    """Restarting another node from a handler finishes the handler first; on_start runs as its own event."""
    order: list = []

    class Starter(Node):
        def on_start(self) -> None:
            order.append(("start", self.id, self.incarnation))

        def on_ping(self, msg) -> None:
            self.sim.restart("b")
            order.append(("handler done", self.id))

    sim = Simulation(seed=1)
    checked: list = []
    sim.add_nodes(Starter, ["a", "b"])
    sim.run(until=1)
    sim.crash("b")
    sim.add_invariant("log", lambda s: checked.append(list(order)) or None)
    sim.at(2, sim["c" if False else "a"].send, "a", "ping")
    sim.run(until=5)
    assert order[-2:] == [("handler done", "a"), ("start", "b", 1)]
    assert all(("handler done", "a") in snapshot or ("start", "b", 1) not in snapshot
               for snapshot in checked)


# 9 --------------------------------------------------------------------------------------------
def test_09_calls_a_node_scheduled_with_sim_after_die_with_it():
    """A callback a node set with self.sim.after() does not fire in its next incarnation."""
    fired: list = []

    class Scheduler(Node):
        def on_ping(self, msg) -> None:
            self.sim.after(5, lambda: fired.append(self.sim.now))

    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Scheduler, ["a", "b"])
    sim.at(0, b.send, "a", "ping")       # a schedules a call for t=6
    sim.nemesis.crash("a", at=2, restart_at=3)
    sim.run(until=10)
    assert fired == []
    sim.at(10, b.send, "a", "ping")      # the new incarnation's call fires
    sim.run(until=20)
    assert fired == [16.0]


# 10 -------------------------------------------------------------------------------------------
def test_10_overlapping_crashes_stack():
    """With crash windows 5-10 and 7-20 the node is down at t=15 and up after 20."""
    sim = Simulation(seed=1)
    sim.add_nodes(Sink, ["a", "b"])
    sim.nemesis.crash("a", at=5, restart_at=10)
    sim.nemesis.crash("a", at=7, restart_at=20)
    sim.run(until=15)
    assert sim["a"].crashed
    sim.run(until=21)
    assert not sim["a"].crashed


def test_10_a_random_heal_does_not_end_a_manual_partition():
    """A partition scheduled by hand survives the heals of random partitions overlapping it."""
    sim = Simulation(seed=3)
    sim.add_nodes(Sink, ["a", "b", "c", "d", "e"])
    sim.nemesis.partition([["a"]], at=1, heal_at=90)
    sim.nemesis.random_faults(start=2, end=60, mean_interval=3, duration=2, kinds=("partition",))
    sim.run(until=70)
    assert not sim.network.reachable("a", "b")
    sim.run(until=91)
    assert sim.network.reachable("a", "b")


def test_10_a_random_restart_does_not_revive_a_node_crashed_for_good():
    """A node crashed without restart_at stays down through random crash faults that end."""
    sim = Simulation(seed=5)
    sim.add_nodes(Sink, ["a", "b", "c", "d", "e"])
    sim.nemesis.crash("a", at=1)
    sim.nemesis.random_faults(start=2, end=200, mean_interval=2, duration=3, kinds=("crash",),
                              max_down=4)
    sim.run(until=300)
    assert sim["a"].crashed
    assert any(e.kind == "restart" and e.node != "a" for e in sim.trace)
    sim.restart("a")
    assert not sim["a"].crashed


# 11 -------------------------------------------------------------------------------------------
def test_11_a_partition_without_its_outer_list_is_an_error_naming_the_mistake():
    """partition(["n1", "n2"]) says the groups' outer list is missing, for network and nemesis alike."""
    sim = Simulation(seed=1)
    sim.add_nodes(Sink, ["n1", "n2", "n3"])
    for call in (lambda: sim.network.partition(["n1", "n2"]),
                 lambda: sim.nemesis.partition(["n1", "n2"], at=1)):
        with pytest.raises(TypeError, match=r"groups\[0\]='n1' is not a list of node ids"):
            call()


# 12 -------------------------------------------------------------------------------------------
def test_12_add_nodes_with_one_string_and_nan_intervals_are_errors():
    """add_nodes(Node, "n1") and random_faults(mean_interval=nan) raise naming the parameter."""
    sim = Simulation(seed=1)
    with pytest.raises(TypeError, match=r"node_ids='n1'"):
        sim.add_nodes(Sink, "n1")
    assert sim.nodes == {}
    sim.add_nodes(Sink, ["a", "b"])
    with pytest.raises(ValueError, match=r"mean_interval=nan"):
        sim.nemesis.random_faults(start=0, end=10, mean_interval=math.nan, duration=1)


# 13 -------------------------------------------------------------------------------------------
def test_13_a_node_added_after_a_partition_naming_everyone_is_everyone_else():
    """When the groups named every node, a node added later reaches none of them."""
    sim = Simulation(seed=1)
    sim.add_nodes(Sink, ["a", "b", "c"])
    sim.network.partition([["a"], ["b", "c"]])
    sim.add_node(Sink, "d")
    assert not sim.network.reachable("d", "c") and not sim.network.reachable("d", "a")


# 14 -------------------------------------------------------------------------------------------
def test_14_node_ids_1_and_string_1_get_different_random_streams():
    """Node 1 and node "1" draw different numbers from the same seed."""
    sim = Simulation(seed=1)
    one, text_one = sim.add_node(Sink, 1), sim.add_node(Sink, "1")
    assert one.rng.random() != text_one.rng.random()


# 15 -------------------------------------------------------------------------------------------
def test_15_changing_the_drift_re_times_armed_timers():
    """A timer set for 10 local units fires when the local clock has advanced 10, across set_drift."""
    fired: list = []

    class Waiter(Node):
        def on_start(self) -> None:
            self.started = self.clock.now()
            self.set_timer(10, lambda: fired.append(self.clock.now() - self.started))

    sim = Simulation(seed=1)
    node = sim.add_node(Waiter, "a")
    sim.run(until=2)
    node.clock.set_drift(0.25)
    sim.run(until=20)
    assert fired == [pytest.approx(10.0)]


# 16 -------------------------------------------------------------------------------------------
def test_16_a_trace_can_be_sliced():
    """trace[0:2] is a list of the first two events."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Sink, ["a", "b"])
    sim.at(0, a.send, "b", "ping")
    sim.run(until=5)
    first_two = sim.trace[0:2]
    assert [e.kind for e in first_two] == ["send", "deliver"]
    assert sim.trace[-1] == first_two[-1]


# 17 -------------------------------------------------------------------------------------------
def test_17_a_cancelled_request_leaves_the_pending_table():
    """Cancelling a request removes it from the node's pending requests; a late reply is dropped."""

    class Server(Node):
        def on_ask(self, msg) -> None:
            self.reply(msg, "answer")

    class Client(Node):
        def on_start(self) -> None:
            if self.id == "c":
                self.req = self.request("s", "ask", timeout=50, on_reply=self.got)

        def got(self, reply) -> None:
            raise AssertionError("a cancelled request's reply must not be handled")

    sim = Simulation(seed=1)
    sim.add_node(Server, "s")
    client = sim.add_node(Client, "c")
    sim.run(until=0.5)
    assert client.pending == [client.req]
    client.req.cancel()
    assert client.pending == []
    sim.run(until=10)
    assert [e.info for e in sim.trace.filter(kind="drop")] == ["late reply"]


# 18 -------------------------------------------------------------------------------------------
def test_18_a_reply_to_a_plain_send_needs_a_handler():
    """A reply to a message sent with send() (not request()) goes to on_<type>, or is a NoHandlerError."""

    class Server(Node):
        def on_ping(self, msg) -> None:
            self.reply(msg, "pong")

    sim = Simulation(seed=1)
    a = sim.add_node(Sink, "a")
    sim.add_node(Server, "s")
    sim.at(0, a.send, "s", "ping")
    with pytest.raises(NoHandlerError, match="on_pong"):
        sim.run(until=5)


# 19 -------------------------------------------------------------------------------------------
def test_19_timers_and_messages_have_separate_namespaces():
    """A timer named "tick" calls timer_tick; a message "tick" calls on_tick."""
    seen: list = []

    class Both(Node):
        def on_start(self) -> None:
            self.set_timer(1, "tick")

        def timer_tick(self) -> None:
            seen.append("timer")
            self.send(self.id, "tick")

        def on_tick(self, msg) -> None:
            seen.append("message")

    sim = Simulation(seed=1)
    sim.add_node(Both, "a")
    sim.run(until=5)
    assert seen == ["timer", "message"]


# 20 -------------------------------------------------------------------------------------------
TRACE_WITH_A_SET = textwrap.dedent("""
    from course_lib.sim import Node, Simulation
    class Recorder(Node):
        def on_start(self):
            self.record("members", ids={"n1", "n2", "n3", "a", "b", "zeta"}, frozen=frozenset("abcdef"))
    sim = Simulation(seed=1)
    sim.add_node(Recorder, "a")
    sim.run(until=1)
    print(sim.trace.to_text())
""")


def test_20_trace_text_does_not_depend_on_the_hash_seed():
    """to_text() prints sets in sorted order: the same text under two different hash seeds."""
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        outputs.append(subprocess.run([sys.executable, "-c", TRACE_WITH_A_SET], env=env,
                                      capture_output=True, text=True, check=True).stdout)
    assert outputs[0] == outputs[1]
    assert "{'a', 'b', 'n1', 'n2', 'n3', 'zeta'}" in outputs[0]


# 21 -------------------------------------------------------------------------------------------
def test_21_a_handler_sending_without_end_stops_at_the_event_budget():
    """Sends count against max_events, inside one handler too; the error names the budget."""

    class Flooder(Node):
        def on_start(self) -> None:
            if self.id == "a":
                for _ in range(1_000_000):
                    self.send("b", "ping")

    sim = Simulation(seed=1, max_events=5_000)
    sim.add_nodes(Flooder, ["a", "b"])
    with pytest.raises(EventBudgetExceeded, match=r"max_events=5000.*max_events=N"):
        sim.run(until=1)
    assert len(sim.trace) <= 5_001


def test_21_run_without_until_and_a_periodic_timer_stops_at_the_default_budget():
    """The default budget is finite: run() with a periodic timer and no until ends with a clear error."""
    assert DEFAULT_MAX_EVENTS < math.inf

    class Ticker(Node):
        def on_start(self) -> None:
            self.every(1, self.tick)

        def tick(self) -> None:
            pass

    sim = Simulation(seed=1, max_events=20_000)
    sim.add_node(Ticker, "a")
    with pytest.raises(EventBudgetExceeded, match="without until"):
        sim.run()
