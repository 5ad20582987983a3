"""Bad input to the pictures: space-time diagrams, history timelines, clock diagrams, leadership
timelines and the Raft pictures.

Each ``ERRORS`` row is (label, call, exception type, pattern): the call raises that exception and
its message matches the pattern, which names the parameter and shows its value (a bad value or
type is the one bad-argument error, InvalidArgument). ``BEHAVIOURS`` rows are (label, call, check):
input that looks odd but has a documented meaning. A wrong argument must fail before anything is
drawn, not deep inside matplotlib, and never draw a silently wrong picture (a str taken as a list
of its characters).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib.topics.clocks import clock_diagram, format_timestamp, run_clocks  # noqa: E402
from course_lib.topics.agreement import HeartbeatElection, leader_timeline, watch_leaders  # noqa: E402
from course_lib.history import History  # noqa: E402
from course_lib.topics.raft import RaftBase, RaftCluster, log_rows, role_spans, role_timeline, term_color  # noqa: E402
from course_lib.sim import Node, Simulation  # noqa: E402
from course_lib.viz import plot_history, space_time  # noqa: E402
from course_lib.viz.spacetime import shade_partitions  # noqa: E402

from bad_input_support import DEADLINE, assert_named_error, deadline

NAN, INF = math.nan, math.inf




@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# -- what the rows draw --------------------------------------------------------------------------

class Pinger(Node):
    def on_start(self):
        if self.id == "n1":
            self.send("n2", "ping")

    def on_ping(self, msg):
        self.record("write", key="x", value=1)


def pinged() -> Simulation:
    """Two nodes, one ping: five trace events."""
    sim = Simulation(seed=0)
    sim.add_nodes(Pinger, ["n1", "n2"])
    sim.run(until=5)
    return sim


def draw(**kwargs):
    return space_time(pinged(), **kwargs)


def history() -> History:
    h = History()
    h.invoke(0, "write", "x", 1, time=0)
    h.ok(0, time=2)
    return h


def timeline(**kwargs):
    return plot_history(history(), **kwargs)


def clock_run():
    return run_clocks(None, seed=3, nodes=3, sends=2, local_events=1)


def leadership_log():
    sim = Simulation(seed=1)
    sim.add_nodes(HeartbeatElection, ["n1", "n2", "n3"])
    log = watch_leaders(sim)
    sim.run(until=20)
    return log


class Idle(RaftBase):
    def on_election_timeout(self):
        pass


def raft_cluster():
    cluster = RaftCluster(Idle, 3, seed=0)
    cluster.run(10)
    return cluster


# -- the rows -----------------------------------------------------------------------------------------

ERRORS = [
    # space_time
    ("space_time of a str", lambda: space_time("sim"), TypeError, r"source='sim'"),
    ("space_time nodes one str", lambda: draw(nodes="n1"), TypeError, r"nodes='n1'"),
    ("space_time nodes twice", lambda: draw(nodes=["n1", "n1"]), ValueError, r"names 'n1' twice"),
    ("space_time unknown node", lambda: draw(nodes=["n1", "n9"]), ValueError,
     r"nodes holds 'n9', which is not a node of the run"),
    ("space_time no nodes", lambda: draw(nodes=[]), ValueError, r"nodes=\[\] must not be empty"),
    ("space_time start nan", lambda: draw(start=NAN), ValueError, r"start=nan"),
    ("space_time end inf", lambda: draw(end=INF), ValueError, r"end=inf"),
    ("space_time start bool", lambda: draw(start=True), TypeError, r"start=True"),
    ("space_time start a str", lambda: draw(start="1"), TypeError, r"start='1'"),
    ("space_time end before start", lambda: draw(start=6, end=2), ValueError,
     r"end=2 must be after start=6"),
    ("space_time types one str", lambda: draw(types="ping"), TypeError, r"types='ping'"),
    ("space_time annotate one str", lambda: draw(annotate="write"), TypeError, r"annotate='write'"),
    ("space_time ax a str", lambda: draw(ax="ax"), TypeError, r"ax='ax'"),
    ("space_time labels a list", lambda: draw(labels=[1]), TypeError, r"labels=\[1\]"),
    ("space_time label of no event", lambda: draw(labels={10**6: "x"}), ValueError,
     r"labels names event 1000000, which is not a trace index"),
    ("space_time highlight a flat pair", lambda: draw(highlight=(0, 1)), TypeError,
     r"highlight holds 0"),
    ("space_time highlight of no event", lambda: draw(highlight=[(0, 10**6)]), ValueError,
     r"highlight names event 1000000"),
    ("space_time legend a str", lambda: draw(legend="yes"), TypeError, r"legend='yes'"),
    ("space_time title an int", lambda: draw(title=5), TypeError, r"title=5"),
    ("shade_partitions of a str", lambda: shade_partitions(plt.gca(), "trace", 0, 1), TypeError,
     r"trace='trace'"),
    # plot_history
    ("plot_history of a str", lambda: plot_history("h"), TypeError, r"history='h'"),
    ("plot_history of ints", lambda: plot_history([1, 2]), TypeError, r"history holds 1"),
    ("plot_history label_chars 3", lambda: timeline(label_chars=3), ValueError, r"label_chars=3"),
    ("plot_history label_chars a str", lambda: timeline(label_chars="10"), TypeError,
     r"label_chars='10'"),
    ("plot_history label_chars bool", lambda: timeline(label_chars=True), TypeError,
     r"label_chars=True"),
    ("plot_history window backwards", lambda: timeline(window=(5, 1)), ValueError, r"window=\(5, 1\)"),
    ("plot_history window to inf", lambda: timeline(window=(0, INF)), ValueError, r"window=\(0, inf\)"),
    ("plot_history window nan", lambda: timeline(window=(NAN, 1)), ValueError, r"window=\(nan, 1\)"),
    ("plot_history window an int", lambda: timeline(window=5), TypeError, r"window=5"),
    ("plot_history window of strs", lambda: timeline(window=("0", "1")), TypeError,
     r"window=\('0', '1'\)"),
    ("plot_history stuck_time nan", lambda: timeline(stuck_time=NAN), ValueError, r"stuck_time=nan"),
    ("plot_history order of ints", lambda: timeline(order=[1]), TypeError, r"order holds 1"),
    ("plot_history highlight one str", lambda: timeline(highlight="x"), TypeError, r"highlight='x'"),
    ("plot_history ax an int", lambda: timeline(ax=5), TypeError, r"ax=5"),
    ("plot_history title an int", lambda: timeline(title=5), TypeError, r"title=5"),
    # clock diagrams
    ("clock_diagram unknown timestamps", lambda: clock_diagram(clock_run(), "physical"), ValueError,
     r"timestamps='physical'"),
    ("clock_diagram timestamps an int", lambda: clock_diagram(clock_run(), 5), TypeError,
     r"timestamps=5"),
    ("clock_diagram oracle a str", lambda: clock_diagram(clock_run(), oracle="x"), TypeError,
     r"oracle='x'"),
    ("clock_diagram concurrent with no event", lambda: clock_diagram(clock_run(), concurrent=10**6),
     ValueError, r"concurrent=1000000 is not an event"),
    ("clock_diagram concurrent unknown name", lambda: clock_diagram(clock_run(), concurrent="some"),
     ValueError, r"concurrent='some'"),
    ("clock_diagram concurrent a float", lambda: clock_diagram(clock_run(), concurrent=2.5), TypeError,
     r"concurrent=2\.5"),
    ("clock_diagram timestamp of no event", lambda: clock_diagram(clock_run(), {10**6: 3}), ValueError,
     r"timestamps names event 1000000"),
    ("format_timestamp nodes one str", lambda: format_timestamp({"a": 1}, "ab"), TypeError,
     r"nodes='ab'"),
    # leadership timelines
    ("leader_timeline of an object", lambda: leader_timeline(object()), TypeError, r"log="),
    ("leader_timeline nodes one str", lambda: leader_timeline(leadership_log(), nodes="n1"), TypeError,
     r"nodes='n1'"),
    ("leader_timeline unknown node", lambda: leader_timeline(leadership_log(), nodes=["n9"]), ValueError,
     r"nodes holds 'n9', which is not a node of the run"),
    ("leader_timeline start nan", lambda: leader_timeline(leadership_log(), start=NAN), ValueError,
     r"start=nan"),
    ("leader_timeline end before start", lambda: leader_timeline(leadership_log(), start=10, end=5),
     ValueError, r"end=5 must be after start=10"),
    ("leader_timeline ax an int", lambda: leader_timeline(leadership_log(), ax=1), TypeError, r"ax=1"),
    # Raft pictures
    ("term_color of a str", lambda: term_color("1"), TypeError, r"term='1'"),
    ("term_color of a float", lambda: term_color(1.5), TypeError, r"term=1\.5"),
    ("role_spans of a str", lambda: role_spans("sim"), TypeError, r"sim='sim'"),
    ("role_timeline nodes one str", lambda: role_timeline(raft_cluster().sim, nodes="s1"), TypeError,
     r"nodes='s1'"),
    ("role_timeline unknown node", lambda: role_timeline(raft_cluster().sim, nodes=["s9"]), ValueError,
     r"nodes holds 's9'"),
    ("role_timeline end before start", lambda: role_timeline(raft_cluster().sim, start=5, end=2),
     ValueError, r"end=2 must be after start=5"),
    ("role_timeline end nan", lambda: role_timeline(raft_cluster().sim, end=NAN), ValueError,
     r"end=nan"),
    ("log_rows of a str", lambda: log_rows("s1"), TypeError, r"nodes='s1'"),
    ("log_rows of ids", lambda: log_rows(["s1"]), TypeError, r"nodes holds 's1', which is not a node"),
    ("log_rows last 0", lambda: log_rows(raft_cluster().nodes, last=0), ValueError, r"last=0"),
    ("log_rows last a float", lambda: log_rows(raft_cluster().nodes, last=2.5), TypeError,
     r"last=2\.5"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the stated error naming the parameter and its value; a bad value or
    type is the one bad-argument error, InvalidArgument (InvalidArgumentType for a type)."""
    assert_named_error(call, error, pattern)


def recorded_run():
    """What the Raft lecture draws from recorded traces: a stand-in with a trace, nodes and now."""
    sim = raft_cluster().sim
    return SimpleNamespace(trace=sim.trace, nodes=list(sim.nodes), now=sim.now)


BEHAVIOURS = [
    ("terms below 1 are grey", lambda: (term_color(0), term_color(-3)),
     lambda colours: colours == ("#dddddd", "#dddddd")),
    ("a recorded run draws like a simulation", lambda: role_timeline(recorded_run(), nodes=["s1", "s2"]),
     lambda ax: [t.get_text() for t in ax.get_yticklabels()] == ["s2", "s1"]),
    ("a bare trace's lanes are not checked", lambda: space_time(pinged().trace, nodes=["n1", "zz"]),
     lambda ax: [t.get_text() for t in ax.get_yticklabels()] == ["n1", "zz"]),
    ("no concurrent pairs rings nothing", lambda: clock_diagram(clock_run(), None, concurrent=[]),
     lambda ax: ax.get_xlabel() == "simulated time"),
    ("a generator of highlight pairs", lambda: draw(highlight=((a, b) for a, b in [(0, 1)])),
     lambda ax: ax.get_xlabel() == "simulated time"),
    ("servers as plain records", lambda: log_rows([SimpleNamespace(id="s1", log=[(1, None)],
                                                                   commit_index=1)]),
     lambda ax: [t.get_text() for t in ax.get_yticklabels()] == ["s1"]),
]


@pytest.mark.parametrize("label, call, check", BEHAVIOURS, ids=[row[0] for row in BEHAVIOURS])
def test_odd_input_has_its_documented_behaviour(label, call, check):
    """Input that looks odd but is documented does what the documentation says."""
    with deadline(DEADLINE):
        result = call()
    assert check(result)
