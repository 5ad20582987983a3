"""The simulator's bad-input matrix: every public entry point, every kind of wrong value.

Each row is (what is called, the exception type, a pattern the message must match). A row
passes when the call raises that exception naming the parameter and its value (or, for a
learner's broken callback, naming the callback and the node). Nothing may hang: rows that
would loop or flood run against a small budget and must stop at it.
"""

from __future__ import annotations

import math
import threading

import pytest

from course_lib.sim import (Constant, EventBudgetExceeded, Exponential, HandlerError,
                            HandlerTimeout, InvalidArgument, LogNormal, Message, Node,
                            NoHandlerError, NodeCrashedError, PhysicalClock, Simulation, Trace,
                            Uniform)
from course_lib.sim.errors import SimulationError


class Peer(Node):
    durable = ()

    def __init__(self) -> None:
        self.got: list = []

    def on_ping(self, msg) -> None:
        self.got.append(msg)


def world(**options) -> Simulation:
    sim = Simulation(seed=1, **options)
    sim.add_nodes(Peer, ["a", "b", "c"])
    return sim


NAN, INF = math.nan, math.inf

# (label, call taking a fresh 3-node world, exception, pattern)
ROWS = [
    # Simulation(...)
    ("seed float", lambda s: Simulation(seed=1.5), TypeError, r"seed=1\.5"),
    ("seed bool", lambda s: Simulation(seed=True), TypeError, r"seed=True"),
    ("seed None", lambda s: Simulation(seed=None), TypeError, r"seed=None"),
    ("latency negative", lambda s: Simulation(seed=1, latency=-1), ValueError, r"latency=-1"),
    ("latency nan", lambda s: Simulation(seed=1, latency=NAN), ValueError, r"latency=nan"),
    ("latency inf", lambda s: Simulation(seed=1, latency=INF), ValueError, r"latency=inf"),
    ("latency str", lambda s: Simulation(seed=1, latency="fast"), TypeError, r"latency='fast'"),
    ("loss above 1", lambda s: Simulation(seed=1, loss=1.5), ValueError, r"loss=1\.5"),
    ("loss nan", lambda s: Simulation(seed=1, loss=NAN), ValueError, r"loss=nan"),
    ("loss str", lambda s: Simulation(seed=1, loss="0.1"), TypeError, r"loss='0\.1'"),
    ("duplicate negative", lambda s: Simulation(seed=1, duplicate=-0.1), ValueError, r"duplicate=-0\.1"),
    ("reorder bool", lambda s: Simulation(seed=1, reorder=True), TypeError, r"reorder=True"),
    ("reorder_delay inf", lambda s: Simulation(seed=1, reorder_delay=INF), ValueError, r"reorder_delay=inf"),
    ("max_events zero", lambda s: Simulation(seed=1, max_events=0), ValueError, r"max_events=0"),
    ("max_events float", lambda s: Simulation(seed=1, max_events=10.5), ValueError, r"max_events=10\.5"),
    ("trace str", lambda s: Simulation(seed=1, trace="yes"), TypeError, r"trace='yes'"),
    ("handler_time_limit 0", lambda s: Simulation(seed=1, handler_time_limit=0), ValueError,
     r"handler_time_limit=0"),
    # latency models
    ("Uniform high < low", lambda s: Uniform(2, 1), ValueError, r"high=1 must be >= low=2"),
    ("Uniform nan", lambda s: Uniform(NAN, 1), ValueError, r"low=nan"),
    ("Constant negative", lambda s: Constant(-1), ValueError, r"delay=-1"),
    ("Exponential zero", lambda s: Exponential(0), ValueError, r"mean=0"),
    ("LogNormal negative", lambda s: LogNormal(-1, 0.5), ValueError, r"median=-1"),
    # nodes
    ("add_node not a Node", lambda s: s.add_node(dict, "d"), TypeError, r"cls=<class 'dict'>"),
    ("add_node id None", lambda s: s.add_node(Peer, None), TypeError, r"node_id=None"),
    ("add_node id list", lambda s: s.add_node(Peer, ["d"]), TypeError, r"node_id=\['d'\]"),
    ("add_node id bool", lambda s: s.add_node(Peer, True), TypeError, r"node_id=True"),
    ("add_node id float", lambda s: s.add_node(Peer, 1.5), TypeError, r"node_id=1\.5"),
    ("add_node id taken", lambda s: s.add_node(Peer, "a"), ValueError, r"node_id='a' is already taken"),
    ("add_nodes one str", lambda s: s.add_nodes(Peer, "de"), TypeError, r"node_ids='de'"),
    ("add_nodes empty", lambda s: s.add_nodes(Peer, []), ValueError, r"node_ids=\[\] must not be empty"),
    ("add_nodes duplicate", lambda s: s.add_nodes(Peer, ["d", "d"]), ValueError, r"names 'd' twice"),
    ("node unknown", lambda s: s.node("z"), ValueError, r"node_id='z' is not a node"),
    ("node unhashable", lambda s: s.node(["a"]), ValueError, r"node_id=\['a'\]"),
    # scheduling and running
    ("at nan", lambda s: s.at(NAN, print), ValueError, r"time=nan"),
    ("at inf", lambda s: s.at(INF, print), ValueError, r"time=inf"),
    ("at str", lambda s: s.at("1", print), TypeError, r"time='1'"),
    ("at past", lambda s: (s.run(until=5), s.at(1, print)), ValueError, r"time=1 must be"),
    ("at not callable", lambda s: s.at(1, "print"), TypeError, r"fn='print'"),
    ("after negative", lambda s: s.after(-1, print), ValueError, r"delay=-1"),
    ("run until past", lambda s: (s.run(until=5), s.run(until=3)), ValueError, r"until=3"),
    ("run until nan", lambda s: s.run(until=NAN), ValueError, r"until=nan"),
    ("run until str", lambda s: s.run(until="10"), TypeError, r"until='10'"),
    ("add_invariant empty name", lambda s: s.add_invariant("", lambda sim: True), TypeError, r"name=''"),
    ("add_invariant not callable", lambda s: s.add_invariant("x", 5), TypeError, r"check=5"),
    ("add_invariant twice", lambda s: (s.add_invariant("x", lambda sim: True),
                                        s.add_invariant("x", lambda sim: True)), ValueError, r"name='x'"),
    ("add_observer not callable", lambda s: s.add_observer(None), TypeError, r"observe=None"),
    ("memo unhashable key", lambda s: s.memo(["k"], dict), TypeError, r"key=\['k'\]"),
    ("rng_for not str", lambda s: s.rng_for(5), TypeError, r"name=5"),
    # network
    ("partition flat list", lambda s: s.network.partition(["a", "b"]), TypeError, r"groups\[0\]='a'"),
    ("partition empty", lambda s: s.network.partition([]), ValueError, r"groups=\[\]"),
    ("partition unknown", lambda s: s.network.partition([["a", "z"]]), ValueError, r"groups\[0\]='z'"),
    ("partition twice", lambda s: s.network.partition([["a"], ["a"]]), ValueError, r"'a' in more than one"),
    ("partition_one_way str", lambda s: s.network.partition_one_way("a", ["b"]), TypeError, r"src_group='a'"),
    ("heal bad handle", lambda s: s.network.heal("all"), TypeError, r"handle='all'"),
    ("set_link unknown", lambda s: s.network.set_link("a", "z", loss=0.1), ValueError, r"dst='z'"),
    ("set_link loss 2", lambda s: s.network.set_link("a", "b", loss=2), ValueError, r"loss=2"),
    ("clear_link unknown", lambda s: s.network.clear_link("z", "a"), ValueError, r"src='z'"),
    ("configure latency nan", lambda s: s.network.configure(latency=NAN), ValueError, r"latency=nan"),
    # nemesis
    ("crash unknown", lambda s: s.nemesis.crash("z", at=1), ValueError, r"node_id='z'"),
    ("crash at nan", lambda s: s.nemesis.crash("a", at=NAN), ValueError, r"at=nan"),
    ("crash restart before", lambda s: s.nemesis.crash("a", at=3, restart_at=2), ValueError, r"restart_at=2"),
    ("restart unknown", lambda s: s.nemesis.restart("z"), ValueError, r"node_id='z'"),
    ("partition heal before", lambda s: s.nemesis.partition([["a"]], at=3, heal_at=3), ValueError, r"heal_at=3"),
    ("pause duration 0", lambda s: s.nemesis.pause("a", duration=0), ValueError, r"duration=0"),
    ("pause duration nan", lambda s: s.nemesis.pause("a", duration=NAN), ValueError, r"duration=nan"),
    ("clock_jump inf", lambda s: s.nemesis.clock_jump("a", INF, at=1), ValueError, r"delta=inf"),
    ("random_faults nan interval", lambda s: s.nemesis.random_faults(start=0, end=9, mean_interval=NAN,
                                                                      duration=1), ValueError, r"mean_interval=nan"),
    ("random_faults inf end", lambda s: s.nemesis.random_faults(start=0, end=INF, mean_interval=1,
                                                                 duration=1), ValueError, r"end=inf"),
    ("random_faults end before", lambda s: s.nemesis.random_faults(start=5, end=2, mean_interval=1,
                                                                    duration=1), ValueError, r"end=2"),
    ("random_faults kind", lambda s: s.nemesis.random_faults(start=0, end=9, mean_interval=1, duration=1,
                                                              kinds=("flood",)), ValueError, r"kinds='flood'"),
    ("random_faults no kinds", lambda s: s.nemesis.random_faults(start=0, end=9, mean_interval=1,
                                                                  duration=1, kinds=()), ValueError, r"kinds=\(\)"),
    ("random_faults max_down 0", lambda s: s.nemesis.random_faults(start=0, end=9, mean_interval=1,
                                                                    duration=1, max_down=0), ValueError, r"max_down=0"),
    # node methods
    ("send unknown dst", lambda s: s["a"].send("z", "ping"), ValueError, r"dst='z'"),
    ("send list dst", lambda s: s["a"].send(["b", "c"], "ping"), ValueError, r"dst=\['b', 'c'\]"),
    ("send bool dst", lambda s: s["a"].send(True, "ping"), ValueError, r"dst=True"),
    ("send type not str", lambda s: s["a"].send("b", 5), TypeError, r"msg=5"),
    ("send type not identifier", lambda s: s["a"].send("b", "no way"), ValueError, r"msg_type='no way'"),
    ("send reserved field", lambda s: s["a"].send("b", "ping", type="x"), ValueError, r"'type' is reserved"),
    ("send private field", lambda s: s["a"].send("b", "ping", _secret=1), ValueError, r"'_secret' is reserved"),
    ("send from crashed", lambda s: (s.crash("a"), s["a"].send("b", "ping")), NodeCrashedError, r"'a' is crashed"),
    ("crash point unknown node", lambda s: s.crash_on_send("z"), ValueError, r"node_id='z'"),
    ("crash point type", lambda s: s.crash_on_send("a", 3), TypeError, r"msg_type=3"),
    ("crash point nth", lambda s: s.crash_on_send("a", "ping", nth=0), ValueError, r"nth=0"),
    ("crash point where", lambda s: s.crash_on_send("a", where="yes"), TypeError, r"where='yes'"),
    ("crash point restart", lambda s: s.crash_on_send("a", restart_after=-1), ValueError, r"restart_after=-1"),
    ("set_timer negative", lambda s: s["a"].set_timer(-1, print), ValueError, r"delay=-1"),
    ("set_timer nan", lambda s: s["a"].set_timer(NAN, print), ValueError, r"delay=nan"),
    ("set_timer not callable", lambda s: s["a"].set_timer(1, 5), TypeError, r"callback=5"),
    ("set_timer unknown name", lambda s: s["a"].set_timer(1, "tick"), ValueError, r"timer_tick"),
    ("set_timer name not str", lambda s: s["a"].set_timer(1, print, name=5), TypeError, r"name=5"),
    ("every zero", lambda s: s["a"].every(0, print), ValueError, r"interval=0"),
    ("request timeout 0", lambda s: s["a"].request("b", "ping", timeout=0, on_reply=print), ValueError,
     r"timeout=0"),
    ("request on_reply", lambda s: s["a"].request("b", "ping", timeout=1, on_reply=None), TypeError,
     r"on_reply=None"),
    ("reply to a str", lambda s: s["a"].reply("ping", "pong"), TypeError, r"request='ping'"),
    ("record empty name", lambda s: s["a"].record(""), TypeError, r"name=''"),
    ("message bad type", lambda s: Message("class"), ValueError, r"msg_type='class'"),
    ("message reserved", lambda s: Message("x", src="a"), ValueError, r"'src' is reserved"),
    # clocks and trace
    ("drift 0.5", lambda s: s["a"].clock.set_drift(0.5), ValueError, r"drift=0\.5"),
    ("drift nan", lambda s: PhysicalClock(lambda: 0, drift=NAN), ValueError, r"drift=nan"),
    ("offset inf", lambda s: PhysicalClock(lambda: 0, offset=INF), ValueError, r"offset=inf"),
    ("jump nan", lambda s: s["a"].clock.jump(NAN), ValueError, r"delta=nan"),
    ("trace index str", lambda s: s.trace["x"], TypeError, r"index='x'"),
    ("trace index out of range", lambda s: s.trace[5], IndexError, r"index=5"),
    ("trace since negative", lambda s: s.trace.since(-1), ValueError, r"mark=-1"),
    ("trace filter kind", lambda s: s.trace.filter(kind="sent"), ValueError, r"kind='sent'"),
    ("trace record kind", lambda s: Trace().record(1.0, "sent", "a"), ValueError, r"kind='sent'"),
]


@pytest.mark.parametrize("label, call, error, pattern", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """Each bad input raises the expected error whose message names the parameter and its value."""
    with pytest.raises(error, match=pattern):
        call(world())


def test_bad_arguments_are_one_error_type():
    """Bad values are InvalidArgument (a ValueError); bad types are also TypeErrors."""
    with pytest.raises(InvalidArgument):
        Simulation(seed=1, loss=2)
    with pytest.raises(InvalidArgument) as info:
        Simulation(seed=1, loss="x")
    assert isinstance(info.value, TypeError)


# -- a learner's broken code: errors that name the callback and the node ----------------------------

class Raiser(Node):
    def on_ping(self, msg) -> None:
        raise KeyError("missing")


class Flooder(Node):
    def on_ping(self, msg) -> None:
        for _ in range(10**6):
            self.send(msg.src, "ping")


class Looper(Node):
    def on_ping(self, msg) -> None:
        while True:
            pass


class Unpicklable(Node):
    durable = ("lock",)

    def __init__(self) -> None:
        self.lock = threading.Lock()


def run_with(cls, **options):
    sim = Simulation(seed=1, **options)
    sim.add_nodes(cls, ["a", "b"])
    sim.at(1, sim["a"].send, "b", "ping")
    sim.run(until=10)


BROKEN = [
    ("handler raises", lambda: run_with(Raiser), HandlerError, r"node 'b' raised KeyError.*on_ping"),
    ("handler floods", lambda: run_with(Flooder, max_events=2_000), EventBudgetExceeded, r"max_events=2000"),
    ("handler busy-waits", lambda: run_with(Looper, handler_time_limit=0.3), HandlerTimeout,
     r"node 'b'.*handler_time_limit=0\.3"),
    ("latency model raises", lambda: run_with(Peer, latency=lambda rng, s, d: 1 / 0), HandlerError,
     r"latency model"),
    ("latency model returns negative", lambda: run_with(Peer, latency=lambda rng, s, d: -1.0),
     InvalidArgument, r"returned -1\.0"),
    ("latency model returns nan", lambda: run_with(Peer, latency=lambda rng, s, d: NAN),
     InvalidArgument, r"returned nan"),
    ("no handler", lambda: run_with(Node), NoHandlerError, r"no handler on_ping"),
]


@pytest.mark.parametrize("label, call, error, pattern", BROKEN, ids=[r[0] for r in BROKEN])
def test_broken_learner_code_gives_a_named_error_and_never_hangs(label, call, error, pattern):
    """An exception, a flood, a busy loop or a broken latency model stops the run with a named error."""
    with pytest.raises(error, match=pattern):
        call()


def test_an_invariant_that_raises_is_named():
    """An invariant with a bug is a SimulationError naming the invariant."""
    sim = world()
    sim.add_invariant("broken", lambda s: 1 / 0)
    sim.at(1, sim["a"].send, "b", "ping")
    with pytest.raises(SimulationError, match=r"invariant 'broken' raised ZeroDivisionError"):
        sim.run(until=5)


def test_an_uncopyable_durable_attribute_is_named_at_the_crash():
    """A durable attribute that cannot be saved names the attribute and the node when it crashes."""
    sim = Simulation(seed=1)
    sim.add_node(Unpicklable, "a")
    with pytest.raises(HandlerError, match=r"node 'a'.*durable attribute 'lock'"):
        sim.crash("a")
