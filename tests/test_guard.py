"""The kernel side of grading against an untouched library (course_lib.grading.guard), in-process.

``install`` remembers the course library; ``before`` puts back what changed since and the
notebook names the setup bound; ``after`` reports what changed while an instructor cell ran.
Each test patches the library of this very process and checks that the guard finds and undoes
it (and undoes it in any case when the test ends). The end-to-end checks, with nbgrader and
real kernels, are in test_tampering.py.
"""

from __future__ import annotations

import json

import pytest

import course_lib.checkers.raft as raft_checks
import course_lib.grading as grading
import course_lib.grading.scenarios as scenarios
from course_lib.grading import guard
from course_lib.grading.execution import bound_names
from course_lib.sim import Node, Simulation


@pytest.fixture(scope="module")
def _install():
    guard.install()
    yield
    guard.uninstall()


@pytest.fixture
def installed(_install):
    """The guard installed over this process's library; everything put back after each test."""
    try:
        yield
    finally:
        guard.before()
        assert guard.changes() == []


def _restored(ns=None) -> list[str]:
    return json.loads(guard.before(ns))["restored"]


def test_nothing_changed_nothing_reported(installed):
    """Right after install, the library is as remembered."""
    assert guard.changes() == [] and _restored() == []


@pytest.mark.parametrize("patch, found", [
    (lambda: setattr(grading, "check_scenario", lambda *a, **k: None),
     "course_lib.grading.check_scenario was replaced"),
    (lambda: setattr(scenarios, "run_once", lambda *a, **k: None),
     "course_lib.grading.scenarios.run_once was replaced"),
    (lambda: delattr(raft_checks, "register"), "course_lib.checkers.raft.register was deleted"),
    (lambda: raft_checks.INVARIANTS.__setitem__("election_safety", lambda sim: None),
     "the contents of course_lib.checkers.raft.INVARIANTS were changed"),
    (lambda: raft_checks.INVARIANTS.clear(), "the contents of course_lib.checkers.raft.INVARIANTS were changed"),
    (lambda: setattr(Simulation, "check_invariants", lambda self: None),
     "course_lib.sim.simulation.Simulation.check_invariants was replaced"),
    (lambda: setattr(Node, "__getattribute__", lambda self, name: None),
     "course_lib.sim.node.Node.__getattribute__ was added"),
    (lambda: setattr(scenarios.check_scenario, "__code__", (lambda *a, **k: None).__code__),
     "the code or defaults of course_lib.grading.scenarios.check_scenario were replaced"),
    (lambda: setattr(scenarios.run_once, "__kwdefaults__", {"x": 1}),
     "the code or defaults of course_lib.grading.scenarios.run_once were replaced"),
    (lambda: __import__("sys").modules.__setitem__("course_lib.grading", object()),
     "sys.modules['course_lib.grading'] was replaced"),
    (lambda: setattr(__import__("random").Random, "random", lambda self: 0.5),
     "random.Random.random was added"),
])
def test_a_patch_of_the_library_is_found_and_put_back(installed, patch, found):
    """Each kind of patch (a module's name, a table, a class attribute, a function's code) is undone."""
    original = (grading.check_scenario, scenarios.run_once, scenarios.check_scenario.__code__,
                Simulation.check_invariants, dict(raft_checks.INVARIANTS))
    patch()
    assert found in guard.changes()
    assert found in _restored()
    assert guard.changes() == []
    assert (grading.check_scenario, scenarios.run_once, scenarios.check_scenario.__code__,
            Simulation.check_invariants, dict(raft_checks.INVARIANTS)) == original
    assert "__getattribute__" not in vars(Node)


def test_the_setups_names_are_put_back_and_later_cells_names_are_theirs(installed):
    """Names the setup binds are kept; a later instructor cell's data names are not, its imports are."""
    ns = {}
    ns.update(SEED=2024, check_scenario=grading.check_scenario, helper=lambda: 1)
    assert json.loads(guard.after(["SEED", "check_scenario", "helper"], setup=True, user_ns=ns))["changed"] == []
    ns.update(leader="s1", run_once=scenarios.run_once)
    guard.after(["leader", "run_once"], setup=False, user_ns=ns)
    setup_helper = ns["helper"]
    ns.update(SEED=7, check_scenario=lambda *a, **k: None, helper=None, leader="mine", run_once=None)
    restored = _restored(ns)
    assert ns["SEED"] == 2024 and ns["check_scenario"] is grading.check_scenario
    assert ns["helper"] is setup_helper and ns["run_once"] is scenarios.run_once
    assert ns["leader"] == "mine", "a sanity cell's data is not the grader's to keep"
    assert "the notebook name 'SEED' (an instructor cell's) was rebound" in restored


def test_a_change_while_an_instructor_cell_runs_is_reported(installed):
    """after() names what changed during the cell: the library, or a kept name the cell does not bind."""
    ns = {"check_scenario": grading.check_scenario}
    guard.after(["check_scenario"], setup=True, user_ns=ns)
    raft_checks.INVARIANTS.clear()  # a learner's class does this while the test runs
    ns["check_scenario"] = None     # and rebinds a name the test cell does not bind
    changed = json.loads(guard.after(["x"], setup=False, user_ns=ns))["changed"]
    assert changed == ["the contents of course_lib.checkers.raft.INVARIANTS were changed",
                       "the notebook name 'check_scenario' (an instructor cell's) was rebound"]
    assert len(raft_checks.INVARIANTS) == 4 and ns["check_scenario"] is grading.check_scenario
    ns["check_scenario"] = None   # the cell itself rebinds it: its business
    assert json.loads(guard.after(["check_scenario"], setup=False, user_ns=ns))["changed"] == []
    assert json.loads(guard.after(None, user_ns=ns))["changed"] == []


def test_without_install_the_guard_says_so(monkeypatch):
    """before/after before install answer with an error the grader turns into a failed test."""
    monkeypatch.setattr(guard, "_memory", None)
    assert "not installed" in json.loads(guard.before())["error"]
    assert "not installed" in json.loads(guard.after([]))["error"]
    assert guard.changes() == []


@pytest.mark.parametrize("source, names", [
    ("SEED = 2024\nimport matplotlib.pyplot as plt\nfrom course_lib.grading import check_scenario as cs",
     ["SEED", "cs", "plt"]),
    ("for i, (a, b) in enumerate(x):\n    pass\ndef f(y):\n    z = 1\nclass K:\n    pass",
     ["K", "a", "b", "f", "i", "z"]),
    ("try:\n    pass\nexcept ValueError as err:\n    del q\n", ["err", "q"]),
    ("%matplotlib inline\nx = 1", ["x"]),
    ("check_scenario(replication_scenario, Replica, seeds=range(5))", []),
    ("from course_lib.grading import *", None),
    ("def broken(:", None),
])
def test_the_grader_reads_a_cells_names_from_its_source(source, names):
    """bound_names: what a cell's own code binds, read outside the kernel; None when it cannot tell."""
    assert bound_names(source) == names


def test_a_cache_growing_is_not_a_change(installed):
    """The library's own caches (module-level sets and dicts) only grow: new entries are not flagged."""
    from course_lib.sim import messages

    messages._CHECKED_TYPES.add("a message type seen for the first time")
    raft_checks.INVARIANTS["extra"] = raft_checks.election_safety
    try:
        assert guard.changes() == []
    finally:
        messages._CHECKED_TYPES.discard("a message type seen for the first time")
        del raft_checks.INVARIANTS["extra"]


def test_copying_a_slotted_library_object_is_not_a_change(installed):
    """copy.deepcopy of an instance of a class with __slots__ makes Python cache __slotnames__ on the
    class: a learner copying a library object (a version vector, a history operation) tampers with nothing."""
    import copy

    from course_lib.topics.replication.conflicts import VersionVector

    cls = VersionVector
    had = "__slotnames__" in vars(cls)
    copy.deepcopy(cls())
    try:
        assert "__slotnames__" in vars(cls)
        assert guard.changes() == []
    finally:
        if not had:
            del cls.__slotnames__
