"""Tests of course_lib.sim.node: handlers, timers, requests, crashes and the node contract."""

from __future__ import annotations

import math

import pytest

from course_lib.sim import HandlerError, Message, Node, NoHandlerError, Request, Simulation, Timer


class Pinger(Node):
    """Answers ping with pong; counts what it gets."""

    def __init__(self) -> None:
        self.pings = []
        self.pongs = []

    def on_ping(self, msg) -> None:
        self.pings.append((self.sim.now, msg.src, msg.get("n")))
        self.reply(msg, "pong", n=msg.get("n"))

    def on_pong(self, msg) -> None:
        self.pongs.append((self.sim.now, msg.src, msg.n))


def two(cls=Pinger, seed=1, **net):
    sim = Simulation(seed=seed, latency=1.0, **net)
    a, b = sim.add_nodes(cls, ["a", "b"])
    return sim, a, b


# -- handlers ------------------------------------------------------------------------------

def test_message_goes_to_the_handler_named_after_its_type():
    """A message of type T is handled by on_T of the receiver, with src and fields set."""
    sim, a, b = two()
    sim.at(0, lambda: a.send("b", "ping", n=7))
    sim.run(until=5)
    assert b.pings == [(1.0, "a", 7)]
    assert a.pongs == [(2.0, "b", 7)]


def test_message_without_handler_raises_no_handler_error_naming_node_type_and_handlers():
    """A message with no on_<type> handler is a NoHandlerError naming the node, the type and its handlers."""
    sim, a, b = two()
    sim.at(0, a.send, "b", "gossip")
    with pytest.raises(NoHandlerError) as info:
        sim.run(until=5)
    text = str(info.value)
    assert "'b'" in text and "Pinger" in text and "on_gossip" in text and "'gossip'" in text
    assert "['on_ping', 'on_pong']" in text
    assert isinstance(info.value, AttributeError)


def test_broadcast_sends_to_every_peer_but_not_itself():
    """broadcast() sends one copy to each other node, in the order nodes were added."""
    sim = Simulation(seed=1)
    a, b, c = sim.add_nodes(Pinger, ["a", "b", "c"])
    sent = []
    sim.at(0, lambda: sent.extend(a.broadcast("ping", n=1)))
    sim.run(until=0.5)
    assert [m.dst for m in sent] == ["b", "c"]
    assert a.peers == ["b", "c"] and c.peers == ["a", "b"]


def test_sending_to_an_unknown_node_names_dst_and_lists_the_nodes():
    """Sending to a node that does not exist is a ValueError naming dst and listing the nodes."""
    sim, a, b = two()
    with pytest.raises(ValueError) as info:
        a.send("z", "ping")
    assert "dst='z'" in str(info.value) and "['a', 'b']" in str(info.value)


def test_sending_to_a_list_of_nodes_is_a_value_error_naming_dst():
    """Passing a list (say self.peers) as dst is the same clear ValueError, not an unhashable-type error."""
    sim, a, b = two()
    with pytest.raises(ValueError, match=r"dst=\['b'\]"):
        a.send(["b"], "ping")


def test_send_rejects_a_message_that_is_not_a_message_or_a_type_name():
    """send() with a dict instead of a Message is a TypeError naming msg."""
    sim, a, b = two()
    with pytest.raises(TypeError, match="msg="):
        a.send("b", {"type": "ping"})


# -- the node contract ---------------------------------------------------------------------

def test_calling_the_class_is_a_type_error_pointing_to_add_node():
    """Pinger() raises TypeError telling the learner to use sim.add_node(Pinger, ...)."""
    with pytest.raises(TypeError, match=r"sim\.add_node\(Pinger, node_id"):
        Pinger()


def test_add_node_rejects_non_node_classes():
    """add_node with a class that is not a Node subclass is a TypeError naming cls."""
    with pytest.raises(TypeError, match="cls="):
        Simulation(seed=1).add_node(dict, "a")


def test_init_arguments_are_passed_through_add_node():
    """add_node(cls, id, *args, **kwargs) calls __init__(*args, **kwargs) with id, rng and clock ready."""

    class Configured(Node):
        def __init__(self, size, *, name="x") -> None:
            self.size, self.name = size, name
            self.seen_id = self.id
            self.first_draw = self.rng.random()

    sim = Simulation(seed=1)
    node = sim.add_node(Configured, "n1", 3, name="y")
    assert (node.size, node.name, node.seen_id) == (3, "y", "n1")
    assert 0 <= node.first_draw < 1


def test_handler_exception_becomes_handler_error_with_node_handler_time_and_cause():
    """An exception in a handler becomes HandlerError naming node, handler and time, with the original as cause."""

    class Buggy(Node):
        def on_ping(self, msg) -> None:
            {}["missing"]

    sim, a, b = two(Buggy)
    sim.at(2, a.send, "b", "ping")
    with pytest.raises(HandlerError) as info:
        sim.run(until=10)
    err = info.value
    assert (err.node, err.where, err.time) == ("b", "on_ping", 3.0)
    assert isinstance(err.__cause__, KeyError) and err.error is err.__cause__
    assert "'b'" in str(err) and "on_ping" in str(err) and "time 3" in str(err)


def test_timer_exception_becomes_handler_error_naming_the_timer():
    """An exception in a timer callback becomes HandlerError naming the timer."""

    class Buggy(Node):
        def on_start(self) -> None:
            self.set_timer(1.5, "boom")

        def timer_boom(self) -> None:
            raise RuntimeError("bad")

    sim = Simulation(seed=1)
    sim.add_node(Buggy, "a")
    with pytest.raises(HandlerError, match=r"timer 'boom'.*1\.5") as info:
        sim.run(until=10)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_durable_naming_an_attribute_init_did_not_set_is_an_error():
    """A durable name that __init__ never set is an AttributeError naming it and the node."""

    class Forgetful(Node):
        durable = ("term", "log")

        def __init__(self) -> None:
            self.term = 0

    with pytest.raises(AttributeError, match=r"\['log'\].*'n1'"):
        Simulation(seed=1).add_node(Forgetful, "n1")


def test_durable_must_be_a_tuple_of_names():
    """durable = "term" (a str, not a tuple) is a TypeError, not a crash of every letter."""

    class Stringly(Node):
        durable = "term"

        def __init__(self) -> None:
            self.term = 0

    with pytest.raises(TypeError, match="durable='term'"):
        Simulation(seed=1).add_node(Stringly, "n1")


# -- timers --------------------------------------------------------------------------------

class Clockwork(Node):
    def __init__(self) -> None:
        self.log = []

    def note(self, *args) -> None:
        self.log.append((self.sim.now,) + args)

    def timer_tick(self) -> None:
        self.log.append((self.sim.now, "tick"))


def test_one_shot_timer_fires_once_with_its_args():
    """set_timer(d, f, *args) calls f(*args) once, d after it was set."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    sim.at(1, n.set_timer, 2.5, n.note, "x", 1)
    sim.run(until=20)
    assert n.log == [(3.5, "x", 1)]


def test_zero_delay_timer_fires_at_the_same_time():
    """A timer with delay 0 fires at the current time, after the handler that set it."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    sim.at(1, n.set_timer, 0, n.note)
    sim.run(until=2)
    assert n.log == [(1,)]


def test_periodic_timer_fires_every_interval_until_cancelled():
    """every(i, f) fires at i, 2i, 3i, ... after it was set, and stops once cancelled."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    timers = []
    sim.at(1, lambda: timers.append(n.every(2, n.note)))
    sim.at(8, lambda: timers[0].cancel())
    sim.run(until=20)
    assert n.log == [(3,), (5,), (7,)]
    assert not timers[0].active


def test_cancel_before_firing_stops_a_one_shot_timer_and_twice_is_harmless():
    """A cancelled one-shot timer never fires; cancelling twice is harmless."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    t = []
    sim.at(0, lambda: t.append(n.set_timer(5, n.note)))
    sim.at(1, lambda: (t[0].cancel(), t[0].cancel()))
    sim.run(until=10)
    assert n.log == [] and sim.trace.filter(kind="timer") == []


def test_periodic_timer_can_cancel_itself_from_its_callback():
    """A periodic timer cancelled from its own callback fires no more."""

    class Countdown(Node):
        def __init__(self) -> None:
            self.fired = []

        def on_start(self) -> None:
            self.timer = self.every(1, self.step)

        def step(self) -> None:
            self.fired.append(self.sim.now)
            if len(self.fired) == 3:
                self.timer.cancel()

    sim = Simulation(seed=1)
    n = sim.add_node(Countdown, "a")
    sim.run(until=10)
    assert n.fired == [1, 2, 3]


def test_timer_by_name_calls_on_name_and_is_traced_with_it():
    """set_timer(d, "tick") calls self.on_tick() and traces the timer as 'tick'."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    timer = []
    sim.at(0, lambda: timer.append(n.set_timer(4, "tick")))
    sim.run(until=10)
    assert n.log == [(4, "tick")]
    assert [e.info for e in sim.trace.filter(kind="timer")] == ["tick"]
    assert isinstance(timer[0], Timer) and timer[0].name == "tick" and timer[0].due == 4


def test_timer_name_defaults_to_the_callback_name_and_can_be_given():
    """A callable timer is named after the function unless name= is given."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    sim.at(0, lambda: n.set_timer(1, n.note))
    sim.at(0, lambda: n.set_timer(2, n.note, name="custom"))
    sim.run(until=5)
    assert [e.info for e in sim.trace.filter(kind="timer")] == ["note", "custom"]


def test_timer_by_unknown_name_names_the_missing_method():
    """set_timer(d, "tock") without timer_tock is an InvalidArgument naming timer_tock and the node."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    with pytest.raises(ValueError, match=r"'a'.*timer_tock"):
        n.set_timer(1, "tock")


@pytest.mark.parametrize("bad", [-1, -0.001, math.inf, math.nan, "1", None, True])
def test_bad_timer_delay_is_a_value_error_naming_delay(bad):
    """A timer delay that is negative, infinite or not a number is a ValueError showing delay=value."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    with pytest.raises(ValueError, match=f"delay={bad!r}"):
        n.set_timer(bad, n.note)


@pytest.mark.parametrize("bad", [0, -2, math.inf, math.nan, "1"])
def test_bad_interval_is_a_value_error_naming_interval(bad):
    """every() with an interval <= 0 or not finite is a ValueError showing interval=value."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    with pytest.raises(ValueError, match=f"interval={bad!r}"):
        n.every(bad, n.note)


def test_timer_callback_that_is_not_callable_is_a_type_error():
    """A timer callback that is neither callable nor a name is a TypeError naming callback."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    with pytest.raises(TypeError, match="callback=42"):
        n.set_timer(1, 42)


# -- request and reply ---------------------------------------------------------------------

class Client(Node):
    def __init__(self) -> None:
        self.replies = []
        self.timeouts = []

    def ask(self, dst="b", timeout=5.0):
        return self.request(dst, "ping", n=1, timeout=timeout,
                            on_reply=lambda m: self.replies.append((self.sim.now, m.type, m.n)),
                            on_timeout=lambda m: self.timeouts.append((self.sim.now, m.type)))


class Server(Node):
    def __init__(self, answers: int = 1) -> None:
        self.answers = answers

    def on_ping(self, msg) -> None:
        for _ in range(self.answers):
            self.reply(msg, "pong", n=msg.n)


def client_server(latency=1.0, answers=1, **net):
    sim = Simulation(seed=1, latency=latency, **net)
    a = sim.add_node(Client, "a")
    b = sim.add_node(Server, "b", answers=answers)
    return sim, a, b


def test_reply_is_routed_to_on_reply_and_cancels_the_timeout():
    """A reply within the timeout calls on_reply once, and on_timeout never."""
    sim, a, b = client_server()
    sim.at(1, a.ask)
    sim.run(until=20)
    assert a.replies == [(3.0, "pong", 1)] and a.timeouts == []
    assert sim.trace.filter(kind="timer") == []  # the timeout timer was disarmed


def test_reply_carries_reply_to_and_goes_back_to_the_sender():
    """reply(request, ...) sends to request.src with reply_to set to the request's id."""
    sim, a, b = client_server()
    reqs = []
    sim.at(1, lambda: reqs.append(a.ask()))
    sim.run(until=20)
    req, = reqs
    assert isinstance(req, Request) and req.done
    pong, = sim.trace.filter(kind="send", type="pong")
    assert (pong.node, pong.peer) == ("b", "a")
    assert req.msg.id == 1 and pong.id == 2


def test_timeout_calls_on_timeout_with_the_request():
    """With no reply, on_timeout(request) is called once at send time + timeout."""
    sim, a, b = client_server(loss=1.0)
    sim.at(1, a.ask)
    sim.run(until=20)
    assert a.timeouts == [(6.0, "ping")] and a.replies == []


def test_late_reply_is_dropped_and_does_not_call_on_reply():
    """A reply arriving after the timeout is traced as a 'late reply' drop and calls no handler."""
    sim, a, b = client_server(latency=3.0)
    sim.at(1, a.ask)
    sim.run(until=20)
    assert a.timeouts == [(6.0, "ping")]
    assert a.replies == []
    late, = sim.trace.filter(kind="drop")
    assert (late.time, late.node, late.type, late.info) == (7.0, "a", "pong", "late reply")


def test_second_reply_to_one_request_is_a_late_reply():
    """Only the first reply reaches on_reply; a second answer is dropped as a late reply."""
    sim, a, b = client_server(answers=2)
    sim.at(1, a.ask)
    sim.run(until=20)
    assert a.replies == [(3.0, "pong", 1)]
    assert [e.info for e in sim.trace.filter(kind="drop")] == ["late reply"]


def test_cancelled_request_calls_neither_callback():
    """Request.cancel() stops waiting: no on_reply, no on_timeout."""
    sim, a, b = client_server()
    sim.at(1, lambda: a.ask().cancel())
    sim.run(until=20)
    assert a.replies == [] and a.timeouts == []


@pytest.mark.parametrize("bad", [0, -1, math.inf, "5", None])
def test_request_timeout_must_be_positive(bad):
    """request() with a timeout that is not a positive number is a ValueError naming timeout."""
    sim, a, b = client_server()
    with pytest.raises(ValueError, match=f"timeout={bad!r}"):
        a.ask(timeout=bad)
    assert len(sim.trace) == 0  # nothing was sent


def test_request_needs_callable_callbacks():
    """on_reply and on_timeout must be callable; the error names the argument."""
    sim, a, b = client_server()
    with pytest.raises(TypeError, match="on_reply="):
        a.request("b", "ping", timeout=1, on_reply="handler")
    with pytest.raises(TypeError, match="on_timeout="):
        a.request("b", "ping", timeout=1, on_reply=print, on_timeout=3)


def test_reply_to_something_that_is_not_a_received_message_is_a_type_error():
    """reply() needs a message that was received (one with an id)."""
    sim, a, b = client_server()
    with pytest.raises(TypeError, match="request="):
        b.reply(Message("ping"), "pong")


# -- crash and restart ---------------------------------------------------------------------

class Durable(Node):
    durable = ("term",)

    def __init__(self, start_term: int = 0) -> None:
        self.term = start_term
        self.volatile = "fresh"
        self.starts = getattr(self, "starts", 0)
        self.inits = 1
        self.got = []

    def on_start(self) -> None:
        self.starts += 1
        self.every(1, self.beat)

    def beat(self) -> None:
        self.record("beat")

    def on_ping(self, msg) -> None:
        self.got.append(msg.n)


def test_crash_loses_volatile_state_and_restart_reruns_init_and_on_start():
    """After crash and restart, __init__ runs again (volatile state reset) and on_start runs again."""
    sim = Simulation(seed=1)
    n = sim.add_node(Durable, "a", 5)
    sim.add_node(Durable, "b")

    def mutate():
        n.volatile = "changed"
        n.term = 9
        n.extra = "gone after crash"
        n.storage["vote"] = "b"

    sim.at(1, mutate)
    sim.at(2.5, sim.crash, "a")
    sim.at(4.5, sim.restart, "a")
    sim.run(until=6)
    assert sim["a"] is n  # the same object, rebuilt in place
    assert n.volatile == "fresh" and not hasattr(n, "extra")
    assert n.starts == 1 and n.inits == 1
    assert n.term == 9  # durable: restored, not the constructor's 5
    assert n.storage == {"vote": "b"}  # storage survives
    assert n.incarnation == 1 and not n.crashed


def test_crash_stops_timers_and_restart_starts_them_again():
    """A crashed node's timers stop; the restarted node's on_start sets new ones."""
    sim = Simulation(seed=1)
    sim.add_node(Durable, "a")
    sim.at(2.5, sim.crash, "a")
    sim.at(4.5, sim.restart, "a")
    sim.run(until=7)
    assert [e.time for e in sim.trace.custom("beat")] == [1, 2, 5.5, 6.5]


def test_timer_set_before_a_crash_never_fires_after_the_restart():
    """A timer of the old incarnation that comes due after the restart does not fire."""
    sim = Simulation(seed=1)
    n = sim.add_node(Clockwork, "a")
    sim.at(0, n.set_timer, 5, n.note, "old")
    sim.at(1, sim.crash, "a")
    sim.at(2, sim.restart, "a")
    sim.run(until=10)
    assert n.log == [] and sim.trace.filter(kind="timer") == []


def test_durable_state_is_a_snapshot_not_a_shared_object():
    """Durable attributes are copied at the crash: later changes to the old object do not leak in."""

    class Keeper(Node):
        durable = ("log",)

        def __init__(self) -> None:
            self.log = []

    sim = Simulation(seed=1)
    n = sim.add_node(Keeper, "a")
    sim.at(1, n.log.append, "x")
    sim.at(2, sim.crash, "a")
    old = n.log
    sim.at(2.5, old.append, "after crash")
    sim.at(3, sim.restart, "a")
    sim.run(until=4)
    assert n.log == ["x"]


def test_crashed_node_drops_incoming_messages():
    """A message arriving at a crashed node is dropped (reason 'crashed') and no handler runs."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Durable, ["a", "b"])
    sim.at(0, sim.crash, "b")
    sim.at(1, lambda: a.send("b", "ping", n=1))
    sim.run(until=3)
    assert b.got == []
    assert [e.info for e in sim.trace.filter(kind="drop")] == ["crashed"]


def test_message_in_flight_to_a_restarted_node_is_delivered():
    """A message that arrives after the node restarted is handled by the new incarnation."""
    sim = Simulation(seed=1, latency=3.0)
    a, b = sim.add_nodes(Durable, ["a", "b"])
    sim.at(0, lambda: a.send("b", "ping", n=1))
    sim.at(1, sim.crash, "b")
    sim.at(2, sim.restart, "b")
    sim.run(until=5)
    assert b.got == [1]


def test_crash_discards_pending_requests():
    """A reply reaching a node that crashed and restarted since its request calls no callback."""
    sim, a, b = client_server(latency=2.0)
    sim.at(0, a.ask)
    sim.at(1, sim.crash, "a")
    sim.at(2, sim.restart, "a")
    sim.run(until=20)
    assert a.replies == [] and a.timeouts == []
    assert [e.info for e in sim.trace.filter(kind="drop")] == ["late reply"]


def test_crashed_node_cannot_send_or_set_timers():
    """A crashed node sending or setting a timer is a RuntimeError naming it."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Durable, ["a", "b"])
    sim.crash("a")
    with pytest.raises(RuntimeError, match="'a' is crashed"):
        a.send("b", "ping", n=1)
    with pytest.raises(RuntimeError, match="'a' is crashed"):
        a.set_timer(1, a.beat)


def test_crash_and_restart_are_idempotent():
    """Crashing a crashed node, or restarting a running one, does nothing."""
    sim = Simulation(seed=1)
    n = sim.add_node(Durable, "a")
    sim.restart("a")
    assert n.incarnation == 0
    sim.crash("a")
    sim.crash("a")
    assert n.crashed
    sim.restart("a")
    sim.restart("a")
    assert n.incarnation == 1
    assert [e.kind for e in sim.trace] == ["crash", "restart"]


def test_on_start_of_a_node_crashed_before_the_run_does_not_run():
    """A node crashed before the run starts does not run on_start until restarted."""
    sim = Simulation(seed=1)
    n = sim.add_node(Durable, "a")
    sim.crash("a")
    sim.run(until=3)
    assert sim.trace.custom("beat") == [] and n.crashed


def test_custom_record_carries_the_data():
    """node.record(name, **data) traces a custom event at the node with its data."""
    sim = Simulation(seed=1)
    n = sim.add_node(Durable, "a")
    sim.at(2, n.record, "decided")
    sim.at(3, lambda: n.record("vote", term=4))
    sim.run(until=4)
    assert [(e.time, e.node, e.type, e.info) for e in sim.trace.filter(kind="custom")
            if e.type != "beat"] == [(2, "a", "decided", None), (3, "a", "vote", {"term": 4})]
