"""Bad input to the grading harness (course_lib.grading) and the scorer (course_lib.grading.scoring).

Each ``ERRORS`` row is (label, call, exception type, pattern): the call raises that exception and
its message matches the pattern, which names the parameter and shows its value (a bad value or
type is the one bad-argument error, InvalidArgument). A mistake in how a test cell calls the
harness must never be reported as the learner's code failing. ``BEHAVIOURS`` rows are (label,
call, check): input that looks odd but has a documented meaning. No row starts a kernel: the
scorer checks its arguments first. Nothing may hang: an endless ``seeds`` stops at a budget.
"""

from __future__ import annotations

import itertools
import pathlib

import pytest

from course_lib.grading import ScenarioReport, check_scenario, replay_line, run_once
from course_lib.grading.scoring import main, score_notebook
from course_lib.sim import InvalidArgument, InvalidArgumentType, Simulation
from course_lib.sim.errors import ScenarioFailed

from bad_input_support import DEADLINE, deadline

HERE = pathlib.Path(__file__).parent




def passes(seed, **settings):
    """A scenario that always passes and returns what it was given."""
    return seed, settings


def fails(seed, **settings):
    raise ScenarioFailed(f"seed {seed} fails", Simulation(seed=seed))


def report_without_sim() -> ScenarioReport:
    return ScenarioReport("failed", scenario=passes, args=(), kwargs={}, sim=None)


ERRORS = [
    # run_once and replay_line
    ("run_once scenario a str", lambda: run_once("scenario"), TypeError, r"scenario='scenario'"),
    ("replay_line scenario an int", lambda: replay_line(5, (), {}), TypeError, r"scenario=5"),
    ("replay_line args an int", lambda: replay_line(passes, 5, {}), TypeError, r"args=5"),
    ("replay_line kwargs a list", lambda: replay_line(passes, (), [1]), TypeError, r"kwargs=\[1\]"),
    # check_scenario: the scenario and the seeds
    ("check_scenario scenario an int", lambda: check_scenario(5, seeds=[1]), TypeError, r"scenario=5"),
    ("check_scenario seeds an int", lambda: check_scenario(passes, seeds=5), TypeError, r"seeds=5"),
    ("check_scenario seeds one str", lambda: check_scenario(passes, seeds="abc"), TypeError,
     r"seeds='abc'"),
    ("check_scenario no seeds", lambda: check_scenario(passes, seeds=[]), ValueError, r"seeds=\[\]"),
    ("check_scenario endless seeds", lambda: check_scenario(passes, seeds=itertools.count()), ValueError,
     r"seeds yields more than MAX_SEEDS=100000 seeds.*raise course_lib\.grading\.scenarios\.MAX_SEEDS"),
    # check_scenario: the settings and the keywords
    ("check_scenario settings a dict", lambda: check_scenario(passes, seeds=[1], settings={"loss": 0.1}),
     TypeError, r"settings=\{'loss': 0\.1\} must be a list of dicts"),
    ("check_scenario settings an int", lambda: check_scenario(passes, seeds=[1], settings=3), TypeError,
     r"settings=3"),
    ("check_scenario no settings", lambda: check_scenario(passes, seeds=[1], settings=[]), ValueError,
     r"settings=\[\]"),
    ("check_scenario setting an int", lambda: check_scenario(passes, seeds=[1], settings=[5]), TypeError,
     r"settings\[0\]=5"),
    ("check_scenario setting key an int", lambda: check_scenario(passes, seeds=[1], settings=[{1: 2}]),
     TypeError, r"settings\[0\] has the key 1"),
    ("check_scenario seed given twice", lambda: check_scenario(passes, seeds=[1], seed=3), ValueError,
     r"seed=3 is given by seeds="),
    ("check_scenario setting sets the seed", lambda: check_scenario(passes, seeds=[1],
                                                                     settings=[{"seed": 2}]),
     ValueError, r"settings\[0\] sets seed=2"),
    ("check_scenario keyword in a setting and fixed",
     lambda: check_scenario(passes, seeds=[1], settings=[{"loss": 0.1}], loss=0.2), ValueError,
     r"settings\[0\] sets loss=0\.1, which loss=0\.2 gives already"),
    # score_notebook and main: every check comes before a kernel starts
    ("score_notebook path an int", lambda: score_notebook(5), TypeError, r"path=5"),
    ("score_notebook timeout 0", lambda: score_notebook("x.ipynb", timeout=0), ValueError, r"timeout=0"),
    ("score_notebook timeout a float", lambda: score_notebook("x.ipynb", timeout=1.5), TypeError,
     r"timeout=1\.5"),
    ("score_notebook timeout bool", lambda: score_notebook("x.ipynb", timeout=True), TypeError,
     r"timeout=True"),
    ("score_notebook kernel_name an int", lambda: score_notebook("x.ipynb", kernel_name=3), TypeError,
     r"kernel_name=3"),
    ("score_notebook nb a dict", lambda: score_notebook("x.ipynb", nb={"cells": 1}), TypeError,
     r"nb=dict must be a notebook"),
    ("score_notebook a folder", lambda: score_notebook(HERE), ValueError,
     r"path='.*tests' is a folder; name the \.ipynb file in it"),
    ("scoring main of one str", lambda: main("nb.ipynb"), TypeError, r"argv='nb\.ipynb'"),
    # documented errors that are not bad arguments
    ("score_notebook missing file", lambda: score_notebook("missing.ipynb"), FileNotFoundError,
     r"path='missing\.ipynb' does not exist"),
    ("draw a failure without a run", lambda: report_without_sim().draw(), ValueError,
     r"before any simulation ran .*no run to draw"),
]


#: Rows whose error is about the state of things, not a bad argument: a plain ValueError.
NOT_ARGUMENTS = {"draw a failure without a run"}


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the stated error naming the parameter and its value; a bad value or
    type is the one bad-argument error, InvalidArgument (InvalidArgumentType for a type)."""
    with deadline(DEADLINE), pytest.raises(error, match=pattern) as caught:
        call()
    if error is ValueError and label not in NOT_ARGUMENTS:
        assert isinstance(caught.value, InvalidArgument)
    if error is TypeError:
        assert isinstance(caught.value, InvalidArgumentType)


def seen(**fixed):
    """Run check_scenario with a recording scenario; return the calls it made."""
    calls = []

    def record(seed, **settings):
        calls.append((seed, settings))

    check_scenario(record, **fixed)
    return calls


def learner_raises_a_bad_argument(seed):
    raise InvalidArgument("timeout=0 must be a positive finite number")


BEHAVIOURS = [
    ("a generator of seeds", lambda: seen(seeds=(s for s in [3, 1])),
     lambda calls: calls == [(3, {}), (1, {})]),
    ("every setting with every seed", lambda: seen(seeds=[1, 2], settings=[{"a": 1}, {"a": 2}]),
     lambda calls: calls == [(1, {"a": 1}), (2, {"a": 1}), (1, {"a": 2}), (2, {"a": 2})]),
    ("check_scenario shows nothing", lambda: check_scenario(passes, seeds=range(3)),
     lambda result: result is None),
    ("a failure is a report with a replay line", lambda: _caught(lambda: check_scenario(fails, seeds=[4])),
     lambda exc: isinstance(exc, ScenarioReport) and "replay: " in str(exc) and "seed=4" in str(exc)),
    ("the learner's bad argument is the learner's error",
     lambda: _caught(lambda: run_once(learner_raises_a_bad_argument, seed=1)),
     lambda exc: isinstance(exc, ScenarioReport) and "your code raised InvalidArgument: timeout=0" in str(exc)),
    ("a replay line imports from the package that re-exports the scenario",
     lambda: replay_line(check_scenario, (), {"seeds": [1]}),
     lambda line: line == "from course_lib.grading import check_scenario; check_scenario(seeds=[1])"),
    ("scoring main without notebooks prints its usage", lambda: main([]), lambda code: code == 2),
]


def _caught(call):
    try:
        call()
    except Exception as exc:  # the row checks what was raised
        return exc
    return None


@pytest.mark.parametrize("label, call, check", BEHAVIOURS, ids=[row[0] for row in BEHAVIOURS])
def test_odd_input_has_its_documented_behaviour(label, call, check):
    """Input that looks odd but is documented does what the documentation says."""
    with deadline(DEADLINE):
        result = call()
    assert check(result)
