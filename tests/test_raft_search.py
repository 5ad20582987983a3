"""Chapter 03b's Figure 8 search (course_lib.topics.raft.figure8_search): it breaks the Raft that commits
by counting, it passes the reference, and the lecture's recording of it (data/raft_traces/figure8_search.json)
is what the search finds today."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

from bad_input_support import assert_named_error
from course_lib.sim.errors import ScenarioFailed
from course_lib.sim import Node
from course_lib.topics.raft import RaftBase, figure8_search

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import record_raft_traces as recorder  # noqa: E402  (tools/record_raft_traces.py)


@pytest.fixture(scope="module")
def reference():
    return recorder.load_reference()["PersistentRaft"]


def test_figure8_search_breaks_the_counting_raft_with_the_recorded_schedule(reference):
    with pytest.raises(ScenarioFailed, match="leader_completeness") as caught:
        figure8_search(recorder.counting(reference))
    recorded = json.loads((ROOT / "data" / "raft_traces" / "figure8_search.json").read_text())
    lines = [line.split(". ", 1)[1] for line in str(caught.value).splitlines()
             if line[:4].strip().rstrip(".").isdigit()]
    assert lines == recorded["schedule"], "data/raft_traces is stale: run tools/record_raft_traces.py"
    assert caught.value.sim is not None  # the replayed run, to draw


def test_figure8_search_passes_the_reference_and_stops_where_it_cannot_commit(reference):
    phases = figure8_search(reference)
    assert [result.outcome for _, result in phases] == ["goal"] * 5 + ["exhausted"]
    assert phases[-1][0] == "s1 commits x"


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: figure8_search(RaftBase, depth=0), ValueError, r"depth=0"),
    (lambda: figure8_search(RaftBase, max_states="many"), TypeError, r"max_states='many'"),
    (lambda: figure8_search(Node), TypeError, r"cls="),
])
def test_figure8_search_bad_input(call, exc, pattern):
    assert_named_error(call, exc, pattern)
