"""Chapters 01 and 02: each failure's picture shows what it is about, and the checker's doubt fails no one.

A clock failure rings the events its message names and writes every event's
timestamp; a history failure draws the timeline with the operations at fault in
red (a session guarantee's violation, a history no order explains, a minority
that acknowledged, the refusals that cost availability). The linearizability
checker running out of budget is retried with a larger one and, if still
undecided, reported and not held against the replica. The scripted coordinator
scenario (one learner replica among scripted peers) answers the same on every
seed. Wrong classes here are small stand-ins, not the exercise's answers.
"""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course_lib.sim import ScenarioFailed  # noqa: E402
from course_lib.topics import consistency  # noqa: E402
from course_lib.topics.clocks import lamport_scenario, vector_scenario  # noqa: E402
from course_lib.topics.consistency import (INITIAL_VERSION, PrimaryReplica, RegisterReplica,  # noqa: E402
                                           coordinator_scenario, quorum_scenario, session_scenario)
from course_lib.topics.consistency import scenarios as consistency_scenarios  # noqa: E402

from bad_input_support import assert_named_error  # noqa: E402

RED = "#fb6a4a"  # the timeline's colour for operations at fault


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _failure(call):
    with pytest.raises(ScenarioFailed) as info:
        call()
    return info.value


def _ringed(ax):
    return [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_mfc() == "none"]


# -- chapter 02: clocks ----------------------------------------------------------------------------

class LamportNoReceiveTick:
    """A Lamport clock whose receive takes the maximum but does not tick."""

    def __init__(self, node_id):
        self.time = 0

    def tick(self):
        self.time += 1
        return self.time

    send = tick

    def receive(self, ts):
        self.time = max(self.time, ts)
        return self.time


class VectorHandsOutItself:
    """A vector clock that returns its own dict, not a copy."""

    def __init__(self, node_id):
        self.node_id, self.clock = node_id, {}

    def tick(self):
        self.clock[self.node_id] = self.clock.get(self.node_id, 0) + 1
        return self.clock

    send = tick

    def receive(self, ts):
        for node, count in ts.items():
            self.clock[node] = max(self.clock.get(node, 0), count)
        return self.tick()


def test_a_clock_failure_names_two_events_and_draws_every_timestamp():
    """The clock condition broken: the two events are ringed, every event carries its timestamp."""
    error = _failure(lambda: lamport_scenario(LamportNoReceiveTick, seed=1))
    assert len(error.events) == 2 and all(f"event #{e}" in str(error) for e in error.events)
    trace = error.sim.trace
    assert len(error.labels) == sum(1 for e in trace if e.kind == "custom" and e.type == "clock")
    ax = error.draw()
    (ringed,) = _ringed(ax)
    assert sorted(ringed.get_xdata()) == sorted(trace[e].time for e in error.events)
    assert {t.get_text() for t in ax.texts} >= set(error.labels.values())


def test_a_vector_handed_out_by_reference_is_caught_and_its_event_drawn():
    """A clock returning its own dict: the first event whose timestamp changed is named and ringed."""
    error = _failure(lambda: vector_scenario(VectorHandsOutItself, seed=1, check="exact"))
    assert "return a copy" in str(error) and len(error.events) == 1
    assert "[" in next(iter(error.labels.values()))  # vectors drawn as [a,b,c]
    assert len(_ringed(error.draw())) == 1


# -- chapter 01: histories -------------------------------------------------------------------------

class AcceptAll:
    """A session that accepts every answer and sends no constraint."""

    def before_write(self, key):
        return INITIAL_VERSION

    def after_write(self, key, version):
        pass

    def accept_read(self, key, version):
        return True


class LocalReplica(RegisterReplica):
    """Answers from its own copy and never talks to the others (not linearizable across replicas)."""

    def __init__(self, replicas):
        super().__init__(replicas)
        self.data = {}

    def snapshot(self):
        return dict(self.data)

    def on_write(self, msg):
        self.data[msg.key] = msg.value
        self.answer_write(msg)

    def on_read(self, msg):
        self.answer_read(msg, self.data.get(msg.key))


class ReadsNothing(LocalReplica):
    """Refuses every write and reads the initial value: linearizable, but answers on the minority side."""

    def on_write(self, msg):
        self.refuse(msg, "read-only")


class RefusesAll(LocalReplica):
    """Refuses everything: linearizable and safe, and of no use to anyone."""

    def on_write(self, msg):
        self.refuse(msg, "no")

    def on_read(self, msg):
        self.refuse(msg, "no")


def _red_operations(error):
    ax = error.draw()
    timeline = ax.figure.axes[0]
    assert timeline is not ax and "history" in timeline.get_title()
    return [matplotlib.colors.to_hex(p.get_facecolor()) for p in timeline.patches].count(RED)


def test_a_session_guarantee_failure_draws_the_violating_operations():
    """read your writes broken: the history's timeline, the violation's operations in red."""
    error = _failure(lambda: session_scenario(AcceptAll, seed=1, guarantees=["read your writes"]))
    assert error.history is not None and 1 <= len(error.operations) <= 3
    assert all(op in error.history.operations() for op in error.operations)
    assert _red_operations(error) == len(error.operations)


def test_a_history_that_is_not_linearizable_draws_the_stuck_operations():
    """No order explains the history: the operations the checker could not place are red."""
    error = _failure(lambda: quorum_scenario(LocalReplica, seed=1, min_availability=0))
    assert "not linearizable" in str(error) and error.operations
    assert _red_operations(error) == len(error.operations)


def test_a_minority_acknowledging_draws_that_operation():
    """A client of the minority got ok during the partition: that one operation is red."""
    error = _failure(lambda: quorum_scenario(ReadsNothing, seed=1, min_availability=0, min_progress=0))
    assert "cut off with the minority" in str(error) and len(error.operations) == 1
    assert error.operations[0].status == "ok"
    assert _red_operations(error) == 1


@pytest.mark.parametrize("options,says", [({}, "before any partition or crash"),
                                          ({"min_progress": 0}, "majority side")])
def test_too_little_availability_draws_the_refused_operations(options, says):
    """Refusing everything is safe and fails: before any fault, or on the majority side; refusals red."""
    error = _failure(lambda: quorum_scenario(RefusesAll, seed=1, **options))
    assert says in str(error) and error.operations
    assert all(op.status != "ok" for op in error.operations)
    assert _red_operations(error) == len(error.operations)


# -- the checker's doubt -----------------------------------------------------------------------------

def test_an_undecided_check_is_retried_with_a_larger_budget(monkeypatch, capsys):
    """One search step is not enough; the retry's budget decides, and nothing is printed."""
    monkeypatch.setattr(consistency_scenarios, "CHECK_BUDGET", 1)
    quorum_scenario(PrimaryReplica, seed=1, partition=False)
    assert capsys.readouterr().out == ""


def test_a_check_still_undecided_is_not_held_against_the_replica_and_says_so(monkeypatch, capsys):
    """Both budgets run out: the run passes, and a note names the seed and the budget."""
    monkeypatch.setattr(consistency_scenarios, "CHECK_BUDGET", 1)
    monkeypatch.setattr(consistency_scenarios, "RETRY_BUDGET", 2)
    quorum_scenario(PrimaryReplica, seed=1, partition=False)
    out = capsys.readouterr().out
    assert "seed 1" in out and "could not decide" in out and "not held against" in out


def test_an_undecided_check_does_not_hide_a_violation(monkeypatch):
    """A small first budget does not let a wrong replica through: the retry finds the violation."""
    monkeypatch.setattr(consistency_scenarios, "CHECK_BUDGET", 1)
    assert "not linearizable" in str(_failure(lambda: quorum_scenario(LocalReplica, seed=1,
                                                                       min_availability=0)))


# -- the scripted coordinator ------------------------------------------------------------------------

def test_the_scripted_coordinator_cases_are_the_same_on_every_seed():
    """A local replica fails each case the same way on every seed (a fixed schedule)."""
    for case in consistency.COORDINATOR_CASES:
        messages = set()
        for seed in range(3):
            try:
                coordinator_scenario(_StoringLocal, seed, case=case)
                messages.add("passed")
            except ScenarioFailed as exc:
                messages.add(str(exc))
        assert len(messages) == 1, (case, messages)


class _StoringLocal(LocalReplica):
    """A local replica with the skeleton's store attribute."""

    def __init__(self, replicas):
        super().__init__(replicas)
        self.store = {}

    def on_read(self, msg):
        self.answer_read(msg, self.store.get(msg.key, (INITIAL_VERSION, None))[1])


BAD_INPUT = [
    ("coordinator_scenario cls not a class", lambda: coordinator_scenario(3, 1, case="equal_counters"),
     TypeError, r"cls=3"),
    ("coordinator_scenario seed float", lambda: coordinator_scenario(_StoringLocal, 1.5, case="equal_counters"),
     TypeError, r"seed=1.5"),
    ("coordinator_scenario case unknown", lambda: coordinator_scenario(_StoringLocal, 1, case="ties"),
     ValueError, r"case='ties'"),
    ("quorum_scenario min_progress above 1", lambda: quorum_scenario(RefusesAll, 1, min_progress=1.5),
     ValueError, r"min_progress=1.5"),
    ("coordinator_scenario no store", lambda: coordinator_scenario(LocalReplica, 1, case="equal_counters"),
     TypeError, r"store"),
]


@pytest.mark.parametrize("label,call,error,pattern", BAD_INPUT, ids=[row[0] for row in BAD_INPUT])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    assert_named_error(call, error, pattern)


class HybridIgnoringPhysicalOnReceive:
    """A hybrid clock whose receive forgets the physical clock: l falls behind physical time."""

    def __init__(self, node_id, physical):
        self.physical, self.l, self.c = physical, 0.0, 0

    def tick(self):
        pt = self.physical()
        self.l, self.c = (pt, 0) if pt > self.l else (self.l, self.c + 1)
        return (self.l, self.c)

    send = tick

    def receive(self, ts):
        lm, cm = ts
        if lm > self.l:
            self.l, self.c = lm, cm + 1
        else:
            self.c += 1
        return (self.l, self.c)


def test_a_hybrid_clock_failure_about_one_event_rings_it_with_the_timestamps():
    """l behind physical time: the one event is ringed, every event labelled (l, c)."""
    from course_lib.topics.clocks import hlc_scenario

    error = _failure(lambda: hlc_scenario(HybridIgnoringPhysicalOnReceive, seed=1, check="physical"))
    assert "behind the node's physical clock" in str(error) and len(error.events) == 1
    assert all(text.startswith("(") for text in error.labels.values())
    assert len(_ringed(error.draw())) == 1


def test_a_chapter_failure_reported_by_the_grader_replays_and_draws_the_same_history():
    """check_scenario's report of a history failure: the pasted replay line fails the same way and draws."""
    from course_lib.grading import check_scenario

    with pytest.raises(AssertionError) as info:
        check_scenario(quorum_scenario, LocalReplica, seeds=[1], min_availability=0)
    report = info.value
    line = str(report).split("replay: ")[1].splitlines()[0]
    with pytest.raises(ScenarioFailed) as pasted:
        exec(line, {"LocalReplica": LocalReplica})
    assert "not linearizable" in str(pasted.value) and pasted.value.operations
    assert _red_operations(pasted.value) == len(pasted.value.operations)
    assert report.draw() is not None
