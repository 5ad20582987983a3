"""Every failure can be seen: each kind of failure a scenario reports draws its run, marked where it failed.

A scenario fails in one of a few ways: an invariant breaks after an event, the
learner's handler raises, the run exceeds its event budget, the scenario's own check
fails (``ScenarioFailed``, or a bare ``assert``), or the learner's code raises outside
a handler. For each, ``check_scenario``'s report keeps the simulation as it stood at
the failing moment, draws it with the failing event marked, and says how; the replay
line it prints, pasted, raises an error that draws the same picture. Chapters draw
their own failures: Raft shows roles, messages and logs; a failure naming events or
operations rings them.
"""

from __future__ import annotations

import sys

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course_lib.checkers import raft as raft_invariants  # noqa: E402
from course_lib.grading import ScenarioReport, check_scenario, draw_failure, run_once  # noqa: E402
from course_lib.grading.scenarios import DRAW_HINT  # noqa: E402
from course_lib.history import History  # noqa: E402
from course_lib.sim import (EventBudgetExceeded, HandlerError, InvariantViolation, Node,  # noqa: E402
                            ScenarioFailed, Simulation)
from course_lib.topics.raft import RaftBase, RaftCluster, initial_election  # noqa: E402
from course_lib.viz import failing_event, use_picture  # noqa: E402
from course_lib.viz.failure import failure_sim  # noqa: E402

from bad_input_support import assert_named_error  # noqa: E402

RED = "#d62728"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- small runs that fail in each way ------------------------------------------------------------------

class Pinger(Node):
    """Pings its peer every 10 units; the peer answers. ``bad`` breaks it in a chosen way."""

    def __init__(self, bad: str = "") -> None:
        self.bad = bad
        self.pongs = 0

    def on_start(self):
        if self.id == "a":
            self.set_timer(10, self.tick)

    def tick(self):
        if self.bad == "timer" and self.sim.now >= 30:
            raise KeyError("missing")
        self.send("b", "ping")
        self.set_timer(10, self.tick)

    def on_ping(self, msg):
        if self.bad == "handler" and self.sim.now >= 40:
            self.send("a", "note")  # what the handler did before it raised is not the failing event
            raise ValueError("bad ping")
        self.reply(msg, "pong")
        if self.bad == "storm":
            for _ in range(3):
                self.send("a", "pong")

    def on_pong(self, msg):
        self.pongs += 1
        self.record("pong", count=self.pongs)  # recorded after the delivery, by the event's handler


def ping_scenario(seed, *, bad="", until=100, invariant=False, max_events=None):
    """Run a and b; fail the check when a got fewer than 5 pongs (the scenario's own check)."""
    sim = Simulation(seed=seed, max_events=max_events)
    a, b = sim.add_nodes(Pinger, ["a", "b"], bad)
    if invariant:
        sim.add_invariant("few_pongs", lambda s: a.pongs < 3 or f"a has {a.pongs} pongs")
    sim.run(until=until)
    if bad == "check" and a.pongs < 50:
        raise ScenarioFailed(f"a got only {a.pongs} pongs", sim)
    if bad == "assert":
        assert a.pongs >= 50, f"a got only {a.pongs} pongs"
    if bad == "outside":
        b.never_written()  # the learner's method, called by the harness outside any handler
    return sim


def never_written(self):
    raise NotImplementedError


Pinger.never_written = never_written

KINDS = {
    "invariant": dict(invariant=True),
    "handler": dict(bad="handler"),
    "timer": dict(bad="timer"),
    "budget": dict(bad="storm", max_events=40),
    "check": dict(bad="check"),
    "assert": dict(bad="assert"),
    "outside": dict(bad="outside"),
}
ERROR_OF = {"invariant": InvariantViolation, "handler": HandlerError, "timer": HandlerError,
            "budget": EventBudgetExceeded, "check": ScenarioFailed, "assert": AssertionError,
            "outside": NotImplementedError}


def report_of(kind: str, seed: int = 3) -> ScenarioReport:
    with pytest.raises(ScenarioReport) as info:
        check_scenario(ping_scenario, seeds=[seed], **KINDS[kind])
    return info.value


def stars(ax) -> list[tuple[float, float]]:
    """The red stars (the failing event's marks) drawn on ``ax``."""
    return [(float(line.get_xdata()[0]), float(line.get_ydata()[0])) for line in ax.get_lines()
            if line.get_marker() == "*" and line.get_color() == RED]


def red_vertical_lines(ax) -> list[float]:
    return [float(line.get_xdata()[0]) for line in ax.get_lines()
            if line.get_color() == RED and line.get_linestyle() == "--"
            and len(set(line.get_xdata())) == 1]


def picture(ax) -> list:
    """What a failure picture shows, figure-wide, comparable between two drawings."""
    shown = []
    for axes in ax.figure.axes:
        lines = sorted((line.get_marker(), line.get_color(), line.get_linestyle(),
                        tuple(map(float, line.get_xdata())), tuple(map(float, line.get_ydata())))
                       for line in axes.get_lines())
        texts = sorted(t.get_text() for t in axes.texts)
        shown.append((axes.get_title(), axes.get_xlim(), lines, texts, len(axes.patches)))
    return [ax.figure._suptitle.get_text() if ax.figure._suptitle else None] + shown


# -- every kind of failure keeps its run and draws it ------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_failure_keeps_its_run_and_draws_it(kind):
    """Each failure kind's report keeps the simulation it happened in and its message says how to draw it."""
    report = report_of(kind)
    assert type(report.failure) is ERROR_OF[kind], report
    assert isinstance(report.sim, Simulation), kind
    assert report.sim.node_ids == ["a", "b"]
    assert DRAW_HINT in str(report) and "replay: " in str(report)
    ax = report.draw()
    assert ax.get_xlabel() == "simulated time" and [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_title(), "the picture says what failed"


@pytest.mark.parametrize("kind, kind_of_event, node, time", [
    ("invariant", "deliver", "a", None),   # the pong after which a had 3 pongs
    ("handler", "deliver", "b", 41.0),     # b's ping sent at t=40, whose handler raised
    ("timer", "timer", "a", 30.0),         # a's tick at t=30
    ("budget", None, None, None),          # the last event of the storm
])
def test_the_run_stops_at_the_failing_event_and_the_picture_marks_it(kind, kind_of_event, node, time):
    """The simulation is kept as it was at the failing event, and the star sits on that event's lane and time."""
    report = report_of(kind)
    error, sim = report.failure, report.sim
    index = failing_event(error, sim)
    assert index is not None
    event = sim.trace[index]
    if kind_of_event:
        assert event.kind == kind_of_event and event.node == node, event
    if time is not None:
        assert event.time == time == error.time, event
    assert sim.now == event.time, "the run stopped at the failing event"
    if kind == "invariant":
        assert isinstance(error, InvariantViolation) and error.sim is sim
        assert sim.node("a").pongs == 3, "the state is the failing moment's, not the end of the run"
    if kind == "budget":
        assert isinstance(error, EventBudgetExceeded) and index == len(sim.trace) - 1
    ax = report.draw()
    lane = ["a", "b"].index(event.node)
    assert stars(ax) == [(event.time, lane)]
    assert event.time in red_vertical_lines(ax)


def test_a_handler_error_knows_its_simulation_where_it_is_raised():
    """A HandlerError carries the simulation, stopped where the handler raised, even raised outside run()."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Pinger, ["a", "b"], "handler")
    with pytest.raises(HandlerError) as info:
        sim.run(until=100)
    assert info.value.sim is sim and info.value.node == "b" and sim.now == info.value.time


def test_a_check_after_the_run_has_no_failing_event_but_draws_the_run():
    """A ScenarioFailed is about the outcome: no event is starred, the run is drawn to its end."""
    report = report_of("check")
    assert isinstance(report.failure, ScenarioFailed)
    assert failing_event(report.failure, report.sim) is None
    ax = report.draw()
    assert stars(ax) == [] and ax.get_title().startswith("a got only")
    assert ax.get_xlim()[1] == 100


def test_a_bare_assertion_and_code_outside_handlers_are_drawn_from_the_traceback():
    """A plain AssertionError or exception carries no simulation: the one its frames worked on is drawn."""
    for kind, error_type in (("assert", AssertionError), ("outside", NotImplementedError)):
        report = report_of(kind)
        assert type(report.failure) is error_type
        assert failure_sim(report.failure) is report.sim
        assert report.sim.now == 100
        report.draw()


def test_the_failing_node_is_starred_even_without_a_trace_row():
    """A handler raising in on_start (no event recorded yet) is marked on its lane at its time."""
    class Broken(Node):
        def on_start(self):
            if self.id == "b":
                raise RuntimeError("cannot start")

    def scenario(seed):
        sim = Simulation(seed=seed)
        sim.add_nodes(Broken, ["a", "b", "c"])
        sim.run(until=5)

    with pytest.raises(ScenarioReport) as info:
        run_once(scenario, seed=1)
    ax = info.value.draw()
    assert stars(ax) == [(0.0, 1.0)] and 0.0 in red_vertical_lines(ax)


def test_a_failure_before_any_run_says_so_truthfully():
    """A bad argument fails before any simulation: no draw hint, and draw() says there is no run."""
    def scenario(seed, *, n):
        if n < 1:
            raise ValueError(f"n={n} must be at least 1")
        return Simulation(seed=seed)

    def first_node_broken(seed):
        class NoInit(Node):
            def __init__(self):
                raise NameError("name 'VersionedStore' is not defined")
        Simulation(seed=seed).add_node(NoInit, "a")

    for call in (lambda: run_once(scenario, seed=1, n=0), lambda: run_once(first_node_broken, seed=1)):
        with pytest.raises(ScenarioReport) as info:
            call()
        assert info.value.sim is None and DRAW_HINT not in str(info.value)
        with pytest.raises(ValueError, match="before any simulation ran"):
            info.value.draw()


# -- the replay line, pasted, gives the same picture ------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_the_pasted_replay_line_raises_an_error_that_draws_the_same_picture(kind, monkeypatch):
    """The replay line run as a learner pastes it raises an error whose drawing is the report's."""
    report = report_of(kind)
    line = str(report).split("replay: ")[1].splitlines()[0]
    assert line.startswith("from test_grading_failures import ping_scenario; ping_scenario(")
    with pytest.raises(Exception) as info:
        exec(line, {})
    pasted = info.value
    assert type(pasted) is type(report.failure) and str(pasted) == str(report.failure)
    expected = picture(report.draw())
    if kind in ("invariant", "handler", "timer", "budget", "check"):  # the simulator's own errors
        assert picture(pasted.draw()) == expected
    # In a notebook: the cell after the failing one draws the last error raised (sys.last_value).
    monkeypatch.setattr(sys, "last_value", pasted, raising=False)
    monkeypatch.delattr(sys, "last_exc", raising=False)
    assert picture(draw_failure()) == expected
    monkeypatch.setattr(sys, "last_value", report, raising=False)
    assert picture(draw_failure()) == expected


def test_the_same_failure_draws_the_same_picture_every_time():
    """Drawing is deterministic: the same seed's failure gives the same picture."""
    assert picture(report_of("invariant").draw()) == picture(report_of("invariant").draw())


# -- chapters' pictures ---------------------------------------------------------------------------------

class SelfElected(RaftBase):
    """Declares itself leader at its first timeout, without asking anyone: two leaders per term soon."""

    def on_election_timeout(self):
        self.become_candidate()
        self.become_leader()
        if self.id == "s2":
            self.log.append((self.current_term, "x"))

    def on_heartbeat(self):
        pass


class RaisesOnVote(RaftBase):
    """A candidate asks for votes; a follower's vote handler raises."""

    def on_election_timeout(self):
        from course_lib.topics.raft import RequestVote
        self.become_candidate()
        self.broadcast(RequestVote(term=self.current_term, candidate_id=self.id, last_log_index=0,
                                   last_log_term=0))

    def on_request_vote(self, msg):
        raise ZeroDivisionError("oops")


@pytest.mark.parametrize("cls, failure", [(SelfElected, InvariantViolation), (RaisesOnVote, HandlerError)])
def test_a_raft_failure_shows_roles_messages_and_the_logs_at_the_failing_moment(cls, failure):
    """Raft's picture: the role timeline marked at the failure, the messages with the failing event starred,
    and each server's log as it stood when the run stopped."""
    with pytest.raises(ScenarioReport) as info:
        check_scenario(initial_election, cls, seeds=[5])
    report = info.value
    assert isinstance(report.failure, failure) and report.sim is report.failure.sim
    when = report.sim.now
    ax = report.draw()
    roles, diagram, logs = ax.figure.axes[:3]
    assert ax is diagram
    assert roles.get_title().startswith("roles and terms") and when in red_vertical_lines(roles)
    assert roles.get_xlim()[1] == pytest.approx(when)
    index = failing_event(report.failure, report.sim)
    event = report.sim.trace[index]
    assert event.time == when and stars(diagram) == [(when, report.sim.node_ids.index(event.node))]
    assert logs.get_title().startswith(f"the logs at t={when:g}")
    cells = sum(len(node.log) for node in report.sim.nodes.values())
    assert len(logs.patches) == cells, "one cell per log entry held at the failing moment"
    assert report.failure.__class__.__name__ in (failure.__name__,)
    assert "invariant 'election_safety'" in ax.figure._suptitle.get_text() or failure is HandlerError


def test_a_raft_failure_from_the_pasted_replay_line_draws_the_raft_picture():
    """The pasted replay line's InvariantViolation draws the same three panels as the report."""
    with pytest.raises(ScenarioReport) as info:
        check_scenario(initial_election, SelfElected, seeds=[5])
    line = str(info.value).split("replay: ")[1].splitlines()[0]
    assert line == "from course_lib.topics.raft import initial_election; initial_election(SelfElected, seed=5)"
    with pytest.raises(InvariantViolation) as pasted:
        exec(line, {"SelfElected": SelfElected})
    assert pasted.value.sim is not None and pasted.value.trace is pasted.value.sim.trace
    assert picture(pasted.value.draw()) == picture(info.value.draw())


def test_every_raft_simulation_of_the_chapter_draws_as_raft():
    """RaftCluster and the scripted scenarios give their simulations the Raft picture."""
    cluster = RaftCluster(RaftBase, 3, seed=1, invariants=False)
    cluster.sim.run(until=10)
    error = ScenarioFailed("made up", cluster.sim)
    assert len(error.draw().figure.axes) == 3
    sim = Simulation(seed=1)
    raft_invariants.register(sim)
    sim.add_nodes(RaftBase, ["s1"])
    sim.run(until=1)
    assert len(ScenarioFailed("made up", sim).draw().figure.axes) == 1, "a plain simulation draws plainly"


def test_a_failure_naming_events_rings_them_with_their_labels():
    """ScenarioFailed(events=, labels=) rings the named events and writes the labels (a clock failure's picture)."""
    from course_lib.topics.clocks import format_timestamp, run_clocks

    run = run_clocks(None, seed=3, nodes=3, sends=2, local_events=1)
    a, b = run.events[0].index, run.events[-1].index
    labels = {e.index: format_timestamp(e.index) for e in run.events}
    error = ScenarioFailed(f"event #{a} and event #{b} disagree", run.sim, events=(a, b), labels=labels)
    ax = error.draw()
    ringed = [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_mfc() == "none"]
    assert len(ringed) == 1
    trace = run.sim.trace
    assert sorted(ringed[0].get_xdata()) == sorted([trace[a].time, trace[b].time])
    assert {t.get_text() for t in ax.texts} >= set(labels.values())
    assert "named by the failure" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_failure_about_operations_draws_the_history_with_them_in_red():
    """ScenarioFailed(history=, operations=) draws the history's timeline, the operations at fault in red."""
    sim = Simulation(seed=1)
    sim.add_nodes(Node, ["n1"])
    sim.run(until=10)
    h = History()
    h.invoke(0, "write", key="x", value=1)
    h.ok(0)
    h.invoke(1, "read", key="x")
    h.ok(1, value=2)
    bad = [op for op in h.operations() if op.f == "read"]
    ax = ScenarioFailed("read 2, never written", sim, history=h, operations=bad).draw()
    timeline = ax.figure.axes[0]
    assert timeline is not ax and "history" in timeline.get_title()
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in timeline.patches]
    assert colours.count("#fb6a4a") == 1, colours


def test_a_chapter_can_give_its_simulation_its_own_picture():
    """use_picture: every failure of that simulation is drawn by the chapter's function, with the mark."""
    seen = []

    def chapter_picture(sim, error, *, mark, **options):
        seen.append((sim, type(error).__name__, mark, options))
        return "drawn"

    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Pinger, ["a", "b"], "handler")
    use_picture(sim, chapter_picture)
    with pytest.raises(HandlerError) as info:
        sim.run(until=100)
    assert info.value.draw(start=5) == "drawn"
    assert seen == [(sim, "HandlerError", failing_event(info.value), {"start": 5})]


# -- bad input ---------------------------------------------------------------------------------------------

def _sim():
    sim = Simulation(seed=1)
    sim.add_nodes(Node, ["a"])
    sim.run(until=1)
    return sim


ERRORS = [
    ("draw_failure of a str", lambda: draw_failure("boom"), TypeError, r"error='boom' must be an exception"),
    ("draw_failure sim an int", lambda: draw_failure(ValueError("x"), sim=3), TypeError, r"sim=3"),
    ("draw_failure of an error before any run", lambda: draw_failure(ValueError("x")), ValueError,
     r"before any simulation ran"),
    ("use_picture sim an int", lambda: use_picture(3, print), TypeError, r"sim=3"),
    ("use_picture picture a str", lambda: use_picture(_sim(), "raft"), TypeError, r"picture='raft'"),
    ("failing_event of a str", lambda: failing_event("x"), TypeError, r"error='x'"),
    ("space_time mark out of range", lambda: ScenarioFailed("x", _sim()).draw(mark=99), ValueError,
     r"mark names event 99"),
    ("space_time highlight_label an int", lambda: ScenarioFailed("x", _sim()).draw(highlight_label=3),
     TypeError, r"highlight_label=3"),
    ("raft failure window zero", lambda: ScenarioFailed("x", RaftCluster(RaftBase, 1, seed=1).sim).draw(window=0),
     ValueError, r"window=0"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument to the failure pictures raises the course's named error showing its value."""
    assert_named_error(call, error, pattern)


def test_no_error_to_draw_in_a_fresh_session(monkeypatch):
    """draw_failure() with nothing raised yet says what to pass."""
    monkeypatch.delattr(sys, "last_value", raising=False)
    monkeypatch.delattr(sys, "last_exc", raising=False)
    assert_named_error(draw_failure, ValueError, r"error=None and no error has been raised")
