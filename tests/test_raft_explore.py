"""Lecture 03b's recorded Raft runs: the client that follows the highest-term leader, the records' freshness,
and bad input to the readers, the client and the explorer (course_lib.topics.raft.recorded, .client, .explore).

The recorded runs in data/raft_traces/ are written by tools/record_raft_traces.py from the reference
Raft of solutions/03b_raft; the freshness test records the cheap ones again (the seed search of the
split vote starts at the recorded seed, and three of the twelve explorer runs stand for the grid) and
compares them with the files, so a change to the simulator, the harness or the recorder that alters
what the lecture shows fails here until the files are recorded again.
"""

from __future__ import annotations

import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib.topics.raft import RaftBase, RaftCluster  # noqa: E402
from course_lib.topics.raft.client import LeaderClient, outage  # noqa: E402
from course_lib.topics.raft.explore import (FAULT_AT, draw_explore, explore_run, grid_key,  # noqa: E402
                                            outage_table)
from course_lib.topics.raft.recorded import (as_run, as_servers, election_rounds, leaders_by_term,  # noqa: E402
                                             load_record, snapshot_table)

from bad_input_support import assert_named_error  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def recorder():
    import record_raft_traces  # tools/record_raft_traces.py

    return record_raft_traces


@pytest.fixture(scope="module")
def reference(recorder):
    return recorder.load_reference()["PersistentRaft"]


def same(record, name):
    """The record, as the recorder writes it, equals the file's."""
    return json.loads(json.dumps(record, sort_keys=True)) == load_record(name)


def test_recorded_runs_are_fresh(recorder, reference):
    """Recording again gives the files byte for byte (else: run tools/record_raft_traces.py and commit)."""
    hint = "stale: run .venv/bin/python tools/record_raft_traces.py and commit data/raft_traces/"
    assert same(recorder.election(reference), "election"), f"election.json {hint}"
    first = int(load_record("split_vote")["seed"].rsplit("/", 1)[1])
    assert same(recorder.split_vote(reference, first), "split_vote"), f"split_vote.json {hint}"
    assert same(recorder.reelection(reference), "reelection"), f"reelection.json {hint}"
    assert same(recorder.crash_recovery(reference), "crash_recovery"), f"crash_recovery.json {hint}"
    assert same(recorder.figure8(reference, "reference Raft"), "figure8"), f"figure8.json {hint}"
    counting = recorder.figure8(recorder.counting(reference), "a Raft that commits by counting")
    assert same(counting, "figure8_counting"), f"figure8_counting.json {hint}"
    grid = load_record("grid")
    for crash, cut in (("s2", True), ("s3", True), ("nobody", False)):
        fresh = json.loads(json.dumps(explore_run(reference, crash, cut, seed="2024/grid"), sort_keys=True))
        assert fresh == grid["runs"][grid_key(crash, cut)], f"grid.json ({crash}, cut={cut}) {hint}"


def leaders_at(cluster, **terms):
    """Make the named servers lead the given terms, through RaftBase's verbs."""
    for node_id, term in terms.items():
        node = cluster.node(node_id)
        while node.current_term < term:
            node.become_candidate()
        node.become_leader()


def test_client_follows_the_leader_of_the_highest_term():
    """Two servers believe they lead (a cut-off one in term 1, a newer one in term 2): the client picks term 2,
    whatever the order of their ids; with no leader up, none."""
    cluster = RaftCluster(RaftBase, 3, seed=0)
    client = LeaderClient(cluster)
    assert client.leader() is None
    leaders_at(cluster, s1=1, s3=2)
    assert client.leader() == "s3"
    cluster.crash("s3")
    assert client.leader() == "s1"


def test_outage_counts_lost_commands_until_the_first_commit():
    """outage(): the commands after the fault that never committed, up to the first that did."""
    rows = [[560.0, "x6", "s1", 1, 6, True], [640.0, "x7", "s1", 1, 7, False], [720.0, "x8", "s1", 1, 8, False],
            [800.0, "x9", "s3", 2, 7, True], [880.0, "x10", "s1", 1, 9, False]]
    cost = outage(rows, 600)
    assert (cost.last_ok, cost.next_ok, cost.lost, cost.leader, cost.term) == (560.0, 800.0, 2, "s3", 2)
    assert cost.unavailable == 200
    assert outage(rows[:3], 600).unavailable is None


def test_default_explorer_run_is_unavailable_for_one_election_timeout():
    """The lecture's default run (crash s2, cut off the leader at 600): the cut-off leader gets the commands
    only until the majority elects a newer leader, within one election timeout; then commands commit."""
    run = load_record("grid")["runs"][grid_key("s2", True)]
    cost = outage(run["commands"], FAULT_AT)
    assert cost.lost == 3 and cost.term == 2 and cost.unavailable <= 300 + 20 + 80
    lost = [row for row in run["commands"] if not row[5]]
    assert {row[2] for row in lost} == {"s1"} and max(row[0] for row in lost) < cost.next_ok


def test_readers_and_pictures_of_the_records():
    """The readers give the lecture's facts; the explorer and the table draw every run."""
    split = load_record("split_vote")
    assert [term for term, _, _ in election_rounds(split)] == [1, 2]
    assert leaders_by_term(split) == {2: "s2"}
    assert as_run(split).nodes == ["s1", "s2", "s3", "s4", "s5"]
    assert [s.id for s in as_servers(split["snapshots"][0])] == ["s1", "s2", "s3", "s4", "s5"]
    assert snapshot_table(split["snapshots"], ["end"]).splitlines()[0].split() == ["server", "end"]
    grid = load_record("grid")
    assert len(outage_table(grid).splitlines()) == 13
    fig = draw_explore(grid, "s3", True, 900)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][-1] == "client"


ERRORS = [
    ("load_record unknown", lambda: load_record("nope"), ValueError, r"name='nope' is not a recorded run"),
    ("load_record not a str", lambda: load_record(3), TypeError, r"name=3"),
    ("as_run of a list", lambda: as_run([1]), TypeError, r"record=\[1\] must be a recorded run"),
    ("as_run end negative", lambda: as_run(load_record("election"), end=-1), ValueError, r"end=-1"),
    ("as_servers of a str", lambda: as_servers("t=5"), TypeError, r"snap='t=5'"),
    ("leaders_by_term of None", lambda: leaders_by_term(None), TypeError, r"record=None"),
    ("election_rounds before negative", lambda: election_rounds(load_record("election"), before=-1),
     ValueError, r"before=-1"),
    ("snapshot_table labels short", lambda: snapshot_table(load_record("reelection")["snapshots"], ["a"]),
     ValueError, r"labels=\['a'\] must name each of the 3"),
    ("LeaderClient of a Simulation", lambda: LeaderClient(RaftCluster(RaftBase, 3).sim), TypeError, r"cluster="),
    ("LeaderClient every 0", lambda: LeaderClient(RaftCluster(RaftBase, 3), every=0), ValueError, r"every=0"),
    ("outage of bad rows", lambda: outage([[1, 2]], 600), TypeError, r"commands holds \[1, 2\]"),
    ("outage fault a str", lambda: outage([], "600"), TypeError, r"fault='600'"),
    ("grid_key unknown server", lambda: grid_key("s9", True), ValueError, r"crash='s9'"),
    ("grid_key cut not a bool", lambda: grid_key("s2", 1), TypeError, r"cut=1"),
    ("explore_run not Raft", lambda: explore_run(object, "s2", True), TypeError, r"cls="),
    ("draw_explore t outside", lambda: draw_explore(load_record("grid"), "s2", True, 5000), ValueError, r"t=5000"),
    ("draw_explore of a record", lambda: draw_explore(load_record("election")), TypeError, r"grid must be"),
    ("outage_table of None", lambda: outage_table(None), TypeError, r"grid must be"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the stated error naming the parameter and its value."""
    assert_named_error(call, error, pattern)
