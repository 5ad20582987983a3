"""Crash points: a node that crashes in the middle of a handler, right after a send (crash_on_send)."""

from __future__ import annotations

import pytest

from course_lib.sim import InvalidArgument, InvariantViolation, Node, Simulation
from course_lib.sim.control import Controlled


class Voter(Node):
    """Answers a ping, writing to its disk before and after the answer."""

    durable = ("answered",)

    def __init__(self) -> None:
        self.answered = 0
        self.finished = 0

    def on_ping(self, msg) -> None:
        self.answered += 1
        self.storage["before"] = self.storage.get("before", 0) + 1
        try:
            self.send(msg.src, "pong", n=self.answered)
        except Exception:  # a handler that swallows errors cannot swallow its crash
            self.storage["swallowed"] = True
        self.storage["after"] = self.storage.get("after", 0) + 1
        self.finished += 1

    def on_pong(self, msg) -> None:
        self.finished += 1

    def timer_tick(self) -> None:
        self.send("a", "pong", n=-1)
        self.storage["tick done"] = True


def world() -> Simulation:
    sim = Simulation(seed=3, latency=1.0)
    sim.add_nodes(Voter, ["a", "b"])
    return sim


def pongs(sim: Simulation) -> list:
    return [e.time for e in sim.trace.filter(kind="send", type="pong")]


def test_the_message_leaves_and_the_rest_of_the_handler_does_not_run():
    """What the handler wrote before the send survives; what it would have written after does not."""
    sim = world()
    sim.crash_on_send("b", "pong")
    sim.at(1, sim["a"].send, "b", "ping")
    sim.run(until=10)
    b = sim["b"]
    assert b.crashed and pongs(sim) == [2.0]
    assert sim["a"].finished == 1  # the answer arrived
    assert dict(b.storage) == {"before": 1}  # neither "after" nor "swallowed"
    crash = sim.trace.filter(kind="crash")
    assert [(e.time, e.node, e.info) for e in crash] == [(2.0, "b", "after sending pong to 'a'")]
    sim.restart("b")
    sim.run(until=11)
    assert (b.answered, b.finished) == (1, 0)  # durable state as it was at the send


def test_nth_where_and_restart_after():
    """The crash waits for the nth matching send; restart_after brings the node back by itself."""
    sim = world()
    sim.crash_on_send("b", "pong", nth=2, where=lambda m: m.n > 0, restart_after=5)
    for t in (1, 3, 5):
        sim.at(t, sim["a"].send, "b", "ping")
    sim.run(until=30)
    b = sim["b"]
    assert [e.time for e in sim.trace.filter(kind="crash")] == [4.0]
    assert [e.time for e in sim.trace.filter(kind="restart")] == [9.0]
    assert not b.crashed and b.answered == 2  # the third ping reached a crashed node: dropped
    assert b.storage == {"before": 2, "after": 1}


def test_a_timer_callback_can_crash_too_and_invariants_are_checked_after_it():
    """A crash point inside a timer callback stops the callback; the crash is an event of its own."""
    sim = world()
    seen = []
    sim.add_invariant("watch", lambda s: seen.append(s["b"].crashed) or True)
    sim.crash_on_send("b")
    sim["b"].set_timer(2, "tick")
    sim.run(until=5)
    assert sim["b"].crashed and "tick done" not in sim["b"].storage
    assert True in seen
    sim2 = world()
    sim2.add_invariant("b up", lambda s: not s["b"].crashed or "b crashed")
    sim2.crash_on_send("b")
    sim2["b"].set_timer(2, "tick")
    try:
        sim2.run(until=5)
    except InvariantViolation as exc:
        assert exc.time == 2.0
    else:
        raise AssertionError("the invariant was not checked after the crash")


def test_a_send_outside_a_run_never_crashes():
    """A crash point fires only inside an event: code calling a node from outside is not interrupted."""
    sim = world()
    sim.crash_on_send("a")
    sim["a"].send("b", "ping")
    assert not sim["a"].crashed
    sim.run(until=3)  # b answers; a's handler for pong sends nothing
    assert not sim["a"].crashed


def test_the_schedule_search_refuses_crash_points():
    """A controlled simulation offers crashes as steps; a crash point set beforehand is refused, named."""
    sim = world()
    sim.crash_on_send("b", "pong")
    with pytest.raises(InvalidArgument, match="crash points"):
        Controlled(sim)


class Server(Node):
    def on_get(self, msg) -> None:
        self.reply(msg, "value", v=1)
        self.storage["after"] = True


class Client(Node):
    def __init__(self) -> None:
        self.got, self.timeouts = [], 0

    def ask(self) -> None:
        self.request("s", "get", timeout=5, on_reply=self.got.append, on_timeout=self.gave_up)

    def gave_up(self, request) -> None:
        self.timeouts += 1


def test_a_reply_that_leaves_just_before_the_crash_is_still_a_reply():
    """reply() marks its message as the answer even when a crash point fires right after the send."""
    sim = Simulation(seed=1, latency=1.0)
    sim.add_node(Server, "s")
    client = sim.add_node(Client, "c")
    sim.crash_on_send("s", "value")
    sim.at(1, client.ask)
    sim.run(until=20)
    assert sim["s"].crashed and "after" not in sim["s"].storage
    assert [m.v for m in client.got] == [1] and client.timeouts == 0


def test_a_request_that_leaves_just_before_the_crash_is_answered_as_one():
    """request() marks its message as a request even when its sender crashes right after sending it:
    the answer comes back as a reply, which the restarted sender drops as late (it has no handler)."""
    sim = Simulation(seed=1, latency=1.0)
    sim.add_node(Server, "s")
    client = sim.add_node(Client, "c")
    sim.crash_on_send("c", "get", restart_after=0.5)
    sim.at(1, client.ask)
    sim.run(until=20)
    assert [e.kind for e in sim.trace.filter(node="c") if e.kind in ("crash", "restart")] == ["crash", "restart"]
    assert sim.trace.filter(kind="drop", node="c"), "the reply reached the restarted client and was dropped"
