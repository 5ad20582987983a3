"""Chapter 03b Part D: RaftLog, the apply-snapshot channel, the invariants with compacted logs, the scenarios.

The reference SnapshotRaft is read from the solution notebook (tools/reference.py), never copied here.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

from course_lib.checkers import raft as raft_invariants
from course_lib.grading import ScenarioReport, check_scenario
from course_lib.sim import Node, Simulation
from course_lib.topics import raft
from course_lib.topics.raft import (SNAPSHOT_SCENARIOS, InstallSnapshot, InstallSnapshotReply, RaftBase,
                                    RaftCluster, RaftLog)
from course_lib.topics.raft.node import IN_SNAPSHOT, _book

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
from bad_input_support import assert_named_error  # noqa: E402
from reference import load_reference  # noqa: E402


class Idle(RaftBase):
    """Never does anything."""

    def on_election_timeout(self):
        pass


# -- RaftLog ---------------------------------------------------------------------------------------------

def _log():
    log = RaftLog([(1, "a"), (1, "b"), (2, "c"), (2, "d"), (3, "e")])
    log.compact(2, data=("a", "b"))
    return log


def test_a_compacted_log_keeps_absolute_indices():
    log = _log()
    assert (len(log), log.snapshot_index, log.snapshot_term, log.snapshot) == (5, 2, 1, ("a", "b"))
    assert log[2] == (2, "c") and log[-1] == (3, "e") and log[4] == (3, "e")
    assert log[2:4] == [(2, "c"), (2, "d")] and log[5:9] == [] and log[1:1] == []
    assert list(log) == log.entries() == [(2, "c"), (2, "d"), (3, "e")] and log.last_term() == 3
    log.append((3, "f"))
    log.extend([(4, "g")])
    assert len(log) == 7 and log[6] == (4, "g")
    del log[4:]
    assert len(log) == 4 and log.entries() == [(2, "c"), (2, "d")]
    log[3] = (2, "D")
    assert log[3] == (2, "D")


def test_reading_an_entry_inside_the_snapshot_names_it():
    log = _log()
    with pytest.raises(IndexError, match=r"log\[1\] is entry 2, which is inside the snapshot \(entries 1..2"):
        log[1]
    with pytest.raises(IndexError, match="inside the snapshot"):
        log[0:3]
    with pytest.raises(IndexError, match="inside the snapshot"):
        del log[1:]
    with pytest.raises(IndexError, match=r"log\[7\]: the log holds entries up to 5"):
        log[7]
    with pytest.raises(ValueError, match="without a step"):
        log[2:5:2]


def test_compact_and_reset():
    log = _log()
    copy = log.copy()
    log.compact(4, data="state4")
    assert (len(log), log.snapshot_index, log.snapshot_term, log.entries()) == (5, 4, 2, [(3, "e")])
    assert copy.snapshot_index == 2 and copy != log and copy == _log()
    log.compact(4, data="again")  # the same index: only the data changes
    assert log.snapshot == "again" and log.snapshot_index == 4
    log.reset(9, 5, "state9")
    assert (len(log), log.snapshot_index, log.snapshot_term, log.entries(), log.last_term()) == (9, 9, 5, [], 5)
    with pytest.raises(ValueError, match=r"compact\(index=3\).*never moves back"):
        log.compact(3, None)
    with pytest.raises(ValueError, match=r"compact\(index=10\)"):
        log.compact(10, None)


def test_an_uncompacted_log_equals_and_prints_as_its_list():
    log = RaftLog([(1, "a")])
    assert log == [(1, "a")] and log == ((1, "a"),) and repr(log) == "[(1, 'a')]"
    assert _log() != [(2, "c"), (2, "d"), (3, "e")]
    assert repr(_log()).startswith("RaftLog(snapshot_index=2, snapshot_term=1")


# -- RaftBase with a RaftLog -------------------------------------------------------------------------------

class Recorder(Idle):
    """An idle server whose log is a RaftLog, recording what the service hooks are told."""

    def __init__(self):
        super().__init__()
        self.log = RaftLog()
        self.told = []

    def restore(self):
        if "log" in self.storage:
            self.log = self.storage["log"].copy()
            self.commit_index = self.last_applied = self.log.snapshot_index


def _hooks(told):
    def on_apply(self, index, command):
        told.append(("apply", index, command))

    def on_apply_snapshot(self, index, term, data):
        told.append(("snapshot", index, term, data))
    return {"on_apply": on_apply, "on_apply_snapshot": on_apply_snapshot}


def _node(told):
    cls = type("Service", (), _hooks(told))
    sim = Simulation(seed=0)
    raft_invariants.register(sim)
    node = sim.add_node(type("ServiceOnRecorder", (cls, Recorder), {}), "s1")
    sim.run(until=1)
    return sim, node


def test_term_at_last_log_term_and_log_size_follow_the_snapshot():
    _, node = _node([])
    node.log = _log()
    assert node.term_at(2) == 1 and node.term_at(3) == 2 and node.term_at(0) == 0
    assert node.last_log_index() == 5 and node.last_log_term() == 3 and node.log_size() == 3
    with pytest.raises(IndexError, match=r"term_at\(index=1\).*compacted entries 1..2"):
        node.term_at(1)
    node.log.reset(7, 4, "x")
    assert node.last_log_term() == 4 and node.log_size() == 0


def test_apply_snapshot_reaches_the_service_and_applying_resumes_after_it():
    told = []
    sim, node = _node(told)
    node.log.extend([(1, "a"), (1, "b"), (1, "c")])
    node.commit_index = 3
    node.apply(1, "a")
    node.log.compact(2, ("a", "b"))
    node.apply_snapshot(2, 1, ("a", "b"))
    node.apply(3, "c")
    assert told == [("apply", 1, "a"), ("snapshot", 2, 1, ("a", "b")), ("apply", 3, "c")]
    assert _book(sim).applied_list(node) == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"apply_snapshot\(index=2\).*applied entries 1..3 already"):
        node.apply_snapshot(2, 1, ("a", "b"))
    with pytest.raises(ValueError, match=r"apply_snapshot\(index=5\).*commit_index=3"):
        node.apply_snapshot(5, 1, "state")
    node.log.append((2, "d"))
    node.commit_index = 4
    with pytest.raises(ValueError, match=r"apply_snapshot\(index=4, term=1\).*entry of term 2"):
        node.apply_snapshot(4, 1, "state")
    node.apply_snapshot(4, 2, "state")  # a service's own state: the book cannot name the command
    assert _book(sim).applied_list(node)[3] is IN_SNAPSHOT


def test_apply_refuses_an_entry_inside_the_snapshot():
    _, node = _node([])
    node.log = RaftLog(snapshot_index=3, snapshot_term=1, snapshot="s")
    node.commit_index = 3
    with pytest.raises(ValueError, match=r"apply\(index=1\): entry 1 is inside node 's1''s snapshot"):
        node.apply(1, "a")


def test_a_restart_delivers_the_restored_snapshot_before_anything_else():
    told = []
    sim, node = _node(told)
    node.storage["log"] = RaftLog([(2, "d")], snapshot_index=3, snapshot_term=1, snapshot=("a", "b", "c"))
    sim.crash("s1")
    sim.restart("s1")
    sim.run(until=2)
    node = sim.node("s1")
    assert told == [("snapshot", 3, 1, ("a", "b", "c"))]
    assert _book(sim).applied_list(node) == ["a", "b", "c"] and node.log_size() == 1


def test_the_invariants_compare_snapshots_applied_at_one_index():
    sim = Simulation(seed=0)
    raft_invariants.register(sim)
    a, b = sim.add_nodes(Recorder, ["a", "b"])
    sim.run(until=1)
    for node in (a, b):
        node.log.extend([(1, "x"), (1, "y")])
        node.commit_index = 2
    a.log.compact(2, ("x", "y"))
    a.apply_snapshot(2, 1, ("x", "y"))
    sim.check_invariants()
    b.apply(1, "x")
    b.apply(2, "y")
    sim.check_invariants()  # the snapshot's commands agree with what b applied
    b.log.compact(2, ("x", "z"))
    b.storage["log"] = b.log.copy()
    sim.crash("b")
    sim.restart("b")
    with pytest.raises(Exception, match="state_machine_safety"):
        sim.run(until=3)


def test_log_matching_checks_the_entries_after_a_snapshot():
    sim = Simulation(seed=0)
    raft_invariants.register(sim)
    a, b = sim.add_nodes(Recorder, ["a", "b"])
    sim.run(until=1)
    a.log = RaftLog([(2, "p")], snapshot_index=4, snapshot_term=2)
    b.log = RaftLog([(2, "q")], snapshot_index=4, snapshot_term=2)
    sim.at(2, a.record, "poke")  # an event at each node, after which the invariants look at their logs
    sim.at(2, b.record, "poke")
    with pytest.raises(Exception, match="index 5 in term 2"):
        sim.run(until=3)
    sim2 = Simulation(seed=0)
    raft_invariants.register(sim2)
    (c,) = sim2.add_nodes(Recorder, ["c"])
    sim2.run(until=1)
    c.log = RaftLog([(1, "p")], snapshot_index=4, snapshot_term=2)
    sim2.at(2, c.record, "poke")
    with pytest.raises(Exception, match="after its snapshot of term 2"):
        sim2.run(until=3)


# -- messages and the cluster ---------------------------------------------------------------------------------

def test_install_snapshot_messages():
    msg = InstallSnapshot(term=3, leader_id="s1", last_included_index=9, last_included_term=2, data=(1, 2))
    assert (msg.type, msg.last_included_index, msg.last_included_term, msg.data) == ("install_snapshot", 9, 2, (1, 2))
    reply = InstallSnapshotReply(term=3, last_included_index=9)
    assert (reply.type, reply.term, reply.last_included_index) == ("install_snapshot_reply", 3, 9)
    assert {"install_snapshot", "install_snapshot_reply"} <= set(raft.RAFT_TYPES)


# -- bad input ----------------------------------------------------------------------------------------------

def _cluster():
    return RaftCluster(Idle, 3, seed=0)


ERRORS = [
    ("RaftLog entries a str", lambda: RaftLog("ab"), TypeError, r"entries='ab'"),
    ("RaftLog snapshot_index -1", lambda: RaftLog(snapshot_index=-1), ValueError, r"snapshot_index=-1"),
    ("RaftLog snapshot_term a str", lambda: RaftLog(snapshot_term="2"), TypeError, r"snapshot_term='2'"),
    ("RaftLog compact a float", lambda: _log().compact(2.5, None), TypeError, r"index=2.5"),
    ("RaftLog compact below its snapshot", lambda: _log().compact(1, None), ValueError, r"index=1"),
    ("RaftLog reset term -1", lambda: _log().reset(3, -1, None), ValueError, r"term=-1"),
    ("RaftLog position a str", lambda: _log()["2"], TypeError, r"log\['2'\]"),
    ("InstallSnapshot term -1", lambda: InstallSnapshot(term=-1, leader_id="s1", last_included_index=1,
                                                        last_included_term=1, data=()), ValueError, r"term=-1"),
    ("InstallSnapshot last_included_index a str",
     lambda: InstallSnapshot(term=1, leader_id="s1", last_included_index="3", last_included_term=1, data=()),
     TypeError, r"last_included_index='3'"),
    ("InstallSnapshot last_included_term a float",
     lambda: InstallSnapshot(term=1, leader_id="s1", last_included_index=3, last_included_term=1.5, data=()),
     TypeError, r"last_included_term=1.5"),
    ("InstallSnapshotReply last_included_index -2",
     lambda: InstallSnapshotReply(term=1, last_included_index=-2), ValueError, r"last_included_index=-2"),
    ("apply_snapshot index a str", lambda: _cluster().node("s1").apply_snapshot("1", 1, None), TypeError,
     r"index='1'"),
    ("apply_snapshot term a float", lambda: _cluster().node("s1").apply_snapshot(1, 1.0, None), TypeError,
     r"term=1.0"),
    ("apply_snapshot index 0", lambda: _cluster().node("s1").apply_snapshot(0, 1, None), ValueError,
     r"index=0"),
    ("RaftCluster snapshot_every 0", lambda: RaftCluster(Idle, 3, snapshot_every=0), ValueError,
     r"snapshot_every=0"),
    ("RaftCluster snapshot_every a str", lambda: RaftCluster(Idle, 3, snapshot_every="10"), TypeError,
     r"snapshot_every='10'"),
    ("RaftCluster log_size of a stranger", lambda: _cluster().log_size("s9"), ValueError, r"server='s9'"),
    ("RaftCluster applied of a stranger", lambda: _cluster().applied(None), ValueError, r"server=None"),
    ("snapshot_basic no commands", lambda: raft.snapshot_basic(Idle, 0, commands=0), ValueError, r"commands=0"),
    ("snapshot_basic snapshot_every 0", lambda: raft.snapshot_basic(Idle, 0, snapshot_every=0), ValueError,
     r"snapshot_every=0"),
    ("snapshot_install two servers", lambda: raft.snapshot_install(Idle, 0, n=2), ValueError, r"n=2"),
    ("snapshot_install crash a str", lambda: raft.snapshot_install(Idle, 0, crash="yes"), TypeError,
     r"crash='yes'"),
    ("snapshot_restart iterations 0", lambda: raft.snapshot_restart(Idle, 0, iterations=0), ValueError,
     r"iterations=0"),
    ("snapshot_init snapshot_every a float", lambda: raft.snapshot_init(Idle, 0, snapshot_every=2.0), TypeError,
     r"snapshot_every=2.0"),
    ("snapshot_churn rounds -1", lambda: raft.snapshot_churn(Idle, 0, rounds=-1), ValueError, r"rounds=-1"),
    ("snapshot_churn unreliable 1", lambda: raft.snapshot_churn(Idle, 0, unreliable=1), TypeError,
     r"unreliable=1"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the course's bad-argument error naming the parameter and its value."""
    assert_named_error(call, error, pattern)


def test_a_raft_base_subclass_cannot_define_the_hooks_as_message_handlers():
    """on_apply and on_apply_snapshot are RaftBase's (a ServiceHooks mixin), not message handlers."""
    assert raft.ServiceHooks.on_apply is RaftBase.on_apply and not issubclass(raft.ServiceHooks, Node)
    with pytest.raises(NotImplementedError):
        _cluster().node("s1").snapshot(1, None)


# -- the scenarios ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference():
    ns = load_reference("03b_raft", cells=("setup", "raft", "raft_persistence", "raft_snapshots"))
    return ns["PersistentRaft"], ns["SnapshotRaft"]


CASES = [(name, {}) for name in SNAPSHOT_SCENARIOS] + [
    ("snapshot_install", {"crash": True}),
    ("snapshot_install", {"unreliable": True, "crash": True}),
    ("snapshot_install", {"n": 5}),
    ("snapshot_basic", {"n": 5}),
]


@pytest.mark.parametrize("name,settings", CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in s.items()) or 'default'}" for n, s in CASES])
def test_the_reference_passes_part_d_over_many_seeds(reference, name, settings):
    """The reference SnapshotRaft passes every Part D scenario, with the variants the hidden tests use."""
    check_scenario(SNAPSHOT_SCENARIOS[name], reference[1], seeds=range(1000, 1012), **settings)


@pytest.mark.parametrize("name", list(SNAPSHOT_SCENARIOS))
def test_part_d_scenarios_fail_a_raft_that_never_snapshots(reference, name):
    """Part C's PersistentRaft (snapshot() not written) and an idle server fail each, with a replay line."""
    for cls in (reference[0], Idle):
        with pytest.raises(ScenarioReport) as info:
            check_scenario(SNAPSHOT_SCENARIOS[name], cls, seeds=[7])
        assert f"replay: from course_lib.topics.raft import {name}; {name}({cls.__name__}, seed=7)" \
            in str(info.value)


def test_a_follower_behind_the_snapshot_gets_it(reference):
    """In snapshot_install, the cut-off follower catches up through InstallSnapshot, not AppendEntries."""
    sim = raft.snapshot_install(reference[1], seed=3, iterations=1)
    sent = [row.type for row in sim.trace.filter(kind="send")]
    assert sent.count("install_snapshot") >= 1 and sent.count("install_snapshot_reply") >= 1


def test_log_rows_draws_a_compacted_log_at_its_own_indices():
    """log_rows puts a compacted log's entries at their indices, after a block standing for the snapshot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.topics.raft import log_rows

    class Shown:
        def __init__(self, id, log, commit_index):
            self.id, self.log, self.commit_index = id, log, commit_index

    compacted = RaftLog([(1, "a"), (1, "b"), (2, "c"), (2, "d")])
    compacted.compact(2, data=("a", "b"))
    ax = log_rows([Shown("s1", compacted, 4), Shown("s2", [(1, "a"), (1, "b"), (2, "c")], 3)])
    cells = sorted((round(r.get_x()), round(r.get_y() + 0.4)) for r in ax.patches if r.get_width() == 0.9)
    assert cells == [(0, 0), (1, 0), (2, 0), (2, 1), (3, 1)]   # s1 (top row): entries 3 and 4 only
    assert "snapshot 1..2" in [t.get_text() for t in ax.texts]
    plt.close("all")
