"""The reference Raft of solutions/03b_raft passes every graded scenario over 50 seeds.

The reference is read from the solution notebook itself (its setup and solution
cells, nbgrader markers stripped) and executed here: it is never copied into
tests/. Scenario lengths are chosen so this file runs in about a minute on
one core (``make test`` runs it on one worker with ``--dist loadscope``).
"""

from __future__ import annotations

import pathlib
import sys

import pytest

from course_lib.grading import check_scenario
from course_lib.topics.raft import SCENARIOS

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
from reference import load_reference as load_solution  # noqa: E402  (tools/reference.py)

CELLS = ("setup", "raft", "raft_persistence")
SEEDS = range(1000, 1050)

# (scenario, settings): every scenario of the chapter, with the variants the hidden tests use.
CASES = [(name, {}) for name in SCENARIOS] + [
    ("initial_election", {"n": 5}),
    ("reelection", {"n": 5}),
    ("basic_agreement", {"n": 5, "commands": 5}),
    ("rejoin_follower_catches_up", {"n": 5}),
    ("persist1", {"n": 5}),
    ("figure8", {"unreliable": True}),
    ("churn", {"unreliable": True}),
]


def load_reference() -> dict:
    """Execute the solution notebook's setup and solution cells; return their namespace."""
    return load_solution("03b_raft", cells=CELLS)


@pytest.fixture(scope="module")
def reference():
    return load_reference()["PersistentRaft"]


def test_the_reference_is_read_from_the_solution_notebook(reference):
    """The class under test comes from solutions/, built on the untouched course_lib RaftBase."""
    from course_lib.topics.raft import RaftBase
    assert issubclass(reference, RaftBase) and reference.__name__ == "PersistentRaft"
    assert reference.persist is not RaftBase.persist, "Part C's persist() should override the no-op"


@pytest.mark.parametrize("name,settings", CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in s.items()) or 'default'}" for n, s in CASES])
def test_reference_passes_scenario_over_50_seeds(reference, name, settings):
    """The reference Raft passes the scenario for 50 seeds the graded notebook never uses."""
    check_scenario(SCENARIOS[name], reference, seeds=SEEDS, **settings)
