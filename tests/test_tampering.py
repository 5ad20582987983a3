"""Tampering never gains points: nbgrader's autograde grades against the course's own library.

A submission's cells run in the same kernel as the tests, before them. Each student here
submits the released 00_welcome (whose stubs fail every test) with one way of cheating
added: rebinding the harness's names in the notebook, patching the harness in its modules,
swapping a function's code, hiding the tests' code from the kernel (IPython input and AST
transformers, error handlers), editing or deleting test cells, deleting the setup cell to
bind the tests' names itself. A small extra assignment does the same to the Raft invariants
(``course_lib.checkers.raft``), with a Raft that breaks election safety: the table of
invariants, the function that registers them, the simulator's invariant check, a checker's
code, and the table emptied from inside the learner's class while a test runs.

Every one scores zero with the real ``nbgrader autograde`` (and ``make check``): the grader
puts back what a submission changed before each instructor cell, and fails a test whose run
changes the library (course_lib.grading.guard, course_lib.grading.execution). The controls
run the same attacks with nothing guarding the kernel, and each gains points there: the
attacks are real. An honest submission that reuses the notebook's names keeps full marks.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from course_lib.grading.execution import TAMPERED, instructor_cell
from course_lib.grading.kernels import kernel_config
from grading_support import (as_submission, gradebook_scores, make_course, max_score, nbgrader,
                             notebooks)

WELCOME = "00_welcome"
RAFT = "tampering_raft"

# -- the attacks ---------------------------------------------------------------------------------------

#: Appended to the released (stub) Replica cell: each one alone would pass every replica test.
WELCOME_ATTACKS = {
    "names": "check_scenario = lambda *args, **kwargs: None\n",
    "harness": ("import course_lib.grading, course_lib.grading.scenarios\n"
                "course_lib.grading.check_scenario = lambda *args, **kwargs: None\n"
                "course_lib.grading.scenarios.run_once = lambda *args, **kwargs: None\n"
                "from course_lib.grading import check_scenario\n"),
    "code": ("import course_lib.grading.scenarios\n"
             "course_lib.grading.scenarios.check_scenario.__code__ = (lambda *args, **kwargs: None).__code__\n"),
    "hooks": ("import ast\n"
              "ip = get_ipython()\n"
              "ip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
              "class Blank(ast.NodeTransformer):\n"
              "    def visit_Module(self, node):\n"
              "        return ast.Module(body=[ast.Pass()], type_ignores=[])\n"
              "ip.ast_transformers.append(Blank())\n"
              "ip.set_custom_exc((Exception,), lambda *args, **kwargs: None)\n"
              "ip.showtraceback = lambda *args, **kwargs: None\n"),
}

#: An honest learner reuses names the sanity and test cells bind, and helpers of their own.
HONEST_EXTRA = ("sim = leader = s = None  # names a later sanity cell binds again\n"
                "def helper(x):\n"
                "    return x\n")

RAFT_SETUP = '''from course_lib.grading import check_scenario
from course_lib.sim import Simulation
from course_lib.checkers import raft as raft_checks
from course_lib.topics.raft import RaftBase, RaftCluster

def two_leaders(cls, seed):
    """Three servers for 1000 time units, the Raft invariants checked after every event."""
    cluster = RaftCluster(cls, 3, seed=seed)
    cluster.sim.run(until=1000)
'''

SELF_ELECTED = '''class Raft(RaftBase):
    def on_election_timeout(self):  # declares itself leader: two leaders in a term soon
        self.become_candidate()
        self.become_leader()

    def on_heartbeat(self):
        pass
'''

#: (solution cell, what the learner writes in it, the test after it): each alone passes its test.
RAFT_ATTACKS = [
    ("raft", SELF_ELECTED + 'raft_checks.INVARIANTS["election_safety"] = lambda sim: None\n', "t_table"),
    ("attack_register", "raft_checks.election_safety = lambda sim: None\n"
                        "raft_checks.register = lambda sim: None\n", "t_register"),
    ("attack_class", "Simulation.check_invariants = lambda self: None\n", "t_class"),
    ("attack_code", "raft_checks.election_safety.__code__ = (lambda sim: None).__code__\n", "t_code"),
    ("attack_during", "class Raft(Raft):\n"
                      "    def __init__(self):\n"
                      "        super().__init__()\n"
                      "        raft_checks.INVARIANTS.clear()  # while the test runs, before registration\n",
     "t_during"),
]
RAFT_TEST = "# Checks: never two leaders in a term.\ncheck_scenario(two_leaders, Raft, seeds=[5])\n"


# -- building notebooks ------------------------------------------------------------------------------------

def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def raft_source() -> nbformat.NotebookNode:
    """The small extra assignment: a setup, five solution cells, each followed by a one-point test."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(RAFT_SETUP, metadata=_meta("setup", locked=True)))
    for cell, _, test in RAFT_ATTACKS:
        answer = ("class Raft(RaftBase):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n"
                  if cell == "raft" else "### BEGIN SOLUTION\npass\n### END SOLUTION\n")
        nb.cells.append(nbformat.v4.new_code_cell(answer, metadata=_meta(cell, solution=True)))
        nb.cells.append(nbformat.v4.new_code_cell(RAFT_TEST, metadata=_meta(test, grade=True, locked=True,
                                                                            points=1)))
    return nb


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def release(course, assignment) -> nbformat.NotebookNode:
    return nbformat.read(str(course / "exercises" / assignment / f"{assignment}.ipynb"), as_version=4)


def welcome_submission(course, student: str) -> nbformat.NotebookNode:
    """The released 00_welcome with a student's attacks, or the reference answers for 'honest'."""
    if student == "honest":
        source = notebooks(WELCOME)[0]
        nb = as_submission(course / "exercises" / WELCOME / source.name, source)
        cell = next(c for c in nb.cells if grade_id(c) == "replica")
        cell.source += "\n" + HONEST_EXTRA
        return nb
    nb = release(course, WELCOME)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    for attack in STUDENTS[student]:
        if attack == "edit-tests":
            for cell in tests[::2]:
                cell.source = "pass"
        elif attack == "delete-tests":
            nb.cells = [c for c in nb.cells if c not in tests[1::2]]
        elif attack == "delete-setup":
            nb.cells = [c for c in nb.cells if grade_id(c) != "setup"]
            own = ("SEED = 2024\nimport matplotlib.pyplot as plt\nfrom course_lib.sim import Simulation, Node\n"
                   "from course_lib.topics.welcome import replication_scenario\n"
                   "check_scenario = run_once = lambda *args, **kwargs: None\n")
            nb.cells.insert(0, nbformat.v4.new_code_cell(own))
        else:
            cell = next(c for c in nb.cells if grade_id(c) == "replica")
            cell.source += "\n" + WELCOME_ATTACKS[attack]
    return nb


def raft_submission(course) -> nbformat.NotebookNode:
    nb = release(course, RAFT)
    answers = {cell: text for cell, text, _ in RAFT_ATTACKS}
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return nb


#: Students, each submitting the release with some attacks. The in-kernel patches share one
#: submission (each alone passes the replica tests: the controls show it, so the guard must undo
#: all three), and so do the edits and deletions of test cells (half the tests each).
STUDENTS = {"patches": ["names", "harness", "code"], "hooks": ["hooks"],
            "edit-delete-tests": ["edit-tests", "delete-tests"], "delete-setup": ["delete-setup"]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One course: each student submits 00_welcome with one attack; 'raft' the invariant attacks."""
    course = make_course(tmp_path_factory.mktemp("course-tampering"))
    folder = course / "solutions" / RAFT
    folder.mkdir()
    nbformat.write(raft_source(), str(folder / f"{RAFT}.ipynb"))
    for assignment in (WELCOME, RAFT):
        nbgrader(course, "generate_assignment", assignment, "--force")
    for student in [*STUDENTS, "honest"]:
        target = course / "submitted" / student / WELCOME
        target.mkdir(parents=True)
        nbformat.write(welcome_submission(course, student), str(target / f"{WELCOME}.ipynb"))
    target = course / "submitted" / "raft" / RAFT
    target.mkdir(parents=True)
    nbformat.write(raft_submission(course), str(target / f"{RAFT}.ipynb"))
    logs = [nbgrader(course, "autograde", assignment, "--force") for assignment in (WELCOME, RAFT)]
    scores = {**gradebook_scores(course, WELCOME), **gradebook_scores(course, RAFT)}
    return course, scores, logs


def autograded(course, student, assignment=WELCOME) -> nbformat.NotebookNode:
    return nbformat.read(str(course / "autograded" / student / assignment / f"{assignment}.ipynb"),
                         as_version=4)


def cell_scores(course, student, assignment) -> dict[str, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        return {g.name: g.score for nb in submission.notebooks for g in nb.grades}


def text_of(cell) -> str:
    return "".join(o.get("text", "") + o.get("ename", "") + o.get("evalue", "") for o in cell.get("outputs", []))


# -- with the real autograder --------------------------------------------------------------------------

@pytest.mark.parametrize("student", [*STUDENTS, "raft"])
def test_tampering_gains_no_points_under_autograde(graded, student):
    """Each attack on a submission that fails every test still scores zero, on every test."""
    course, scores, _ = graded
    assignment = RAFT if student == "raft" else WELCOME
    assert scores[student] == 0, cell_scores(course, student, assignment)
    assert set(cell_scores(course, student, assignment).values()) == {0}


def test_an_honest_submission_reusing_the_notebooks_names_keeps_full_marks(graded):
    """The guard protects the setup's names and the library, not every name an instructor cell binds."""
    course, scores, _ = graded
    assert scores["honest"] == max_score(WELCOME), cell_scores(course, "honest", WELCOME)
    assert all("[grader]" not in text_of(c) for c in autograded(course, "honest").cells)


def test_a_test_says_what_the_grader_put_back_before_it(graded):
    """A test run after a patch starts with a note naming what was put back; feedback shows it."""
    course, _, _ = graded
    nb = autograded(course, "patches")
    first = next(c for c in nb.cells if grade_id(c) == "replica_converges_reliable")
    note = first.outputs[0]["text"]
    assert note.startswith("[grader] before this test") and "course_lib.grading.check_scenario" in note
    assert "course_lib.grading.scenarios.run_once" in note and "'check_scenario'" in note
    assert "the code or defaults of course_lib.grading.scenarios.check_scenario" in note


def test_a_test_whose_run_changes_the_library_fails(graded):
    """The learner's class emptying the invariants while a test runs fails that test, with the reason."""
    course, _, _ = graded
    nb = autograded(course, "raft", RAFT)
    during = next(c for c in nb.cells if grade_id(c) == "t_during")
    errors = [o for o in during.outputs if o["output_type"] == "error"]
    assert errors[-1]["ename"] == TAMPERED
    assert "course_lib.checkers.raft.INVARIANTS" in errors[-1]["evalue"]
    for test in ("t_table", "t_register", "t_class", "t_code"):
        cell = next(c for c in nb.cells if grade_id(c) == test)
        assert "invariant 'election_safety' violated" in text_of(cell), test


def test_deleted_instructor_cells_are_put_back_and_run(graded):
    """Deleted tests come back and run (and fail on the stubs); a deleted setup comes back first."""
    course, _, _ = graded
    source = [grade_id(c) for c in release(course, WELCOME).cells if instructor_cell(c)]
    for student in ("edit-delete-tests", "delete-setup"):
        cells = [c for c in autograded(course, student).cells if instructor_cell(c)]
        assert [grade_id(c) for c in cells] == source, student
        assert all(c.get("execution_count") for c in cells), student
    restored = autograded(course, "delete-setup")
    assert grade_id(next(c for c in restored.cells if c.cell_type == "code")) == "setup"


def test_edited_tests_run_as_written_by_the_instructor(graded):
    """nbgrader restores edited test cells from the gradebook: the stubs fail them."""
    course, _, _ = graded
    for cell in autograded(course, "edit-delete-tests").cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            assert cell.source != "pass" and "NotImplementedError" in text_of(cell), grade_id(cell)


def test_autograde_starts_kernels_without_the_transport_warning(graded):
    """nbgrader's kernels (nbgrader_config.py) start over encrypted connections: no warning logged."""
    _, _, logs = graded
    assert all("without encryption" not in log.stdout + log.stderr for log in logs)


# -- make check grades the same way -------------------------------------------------------------------

def test_make_check_is_guarded_too(graded, tmp_path):
    """score_notebook (make check) runs the same guard: the rebinding gains nothing there either."""
    from course_lib.grading.scoring import score_notebook

    course, _, _ = graded
    path = tmp_path / f"{WELCOME}.ipynb"
    nbformat.write(welcome_submission(course, "patches"), str(path))
    result = score_notebook(path)
    assert result.score == 0, result.report()


# -- controls: unguarded, each attack gains ----------------------------------------------------------------

INSTALL = "import course_lib.grading.guard as _guard\n_guard.install()\n"
#: What the grader does between cells, done by hand in a control between one attack's test and the next.
RESTORE = ("_guard.before()\n"
           "from course_lib.grading import check_scenario, run_once\n"
           "from course_lib.checkers import raft as raft_checks\n")


def run_unguarded(nb: nbformat.NotebookNode, folder) -> dict[str, bool]:
    """Execute ``nb`` in a plain kernel, as nothing but nbclient would; return each test's pass."""
    from nbclient import NotebookClient
    from nbgrader.utils import determine_grade

    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, config=kernel_config(),
                   resources={"metadata": {"path": str(folder)}}).execute()
    passed = {}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            points, most = determine_grade(cell)
            passed[grade_id(cell)] = points == most
    return passed


def test_each_attack_gains_points_when_nothing_guards_the_kernel(graded, tmp_path):
    """Without the guard, each attack passes the tests after it (a restore between attacks, by hand)."""
    course, _, _ = graded
    nb = release(course, WELCOME)
    nb.cells.insert(0, nbformat.v4.new_code_cell(INSTALL))
    replica_tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                     and grade_id(c).startswith("replica_") and "check_scenario(" in c.source]
    attacks = ["names", "harness", "code", "hooks"]  # the hooks blank every cell after them: last
    for attack, test in zip(attacks, replica_tests):
        at = nb.cells.index(test)
        nb.cells.insert(at, nbformat.v4.new_code_cell(WELCOME_ATTACKS[attack]))
        nb.cells.insert(at + 2, nbformat.v4.new_code_cell(RESTORE))
    passed = run_unguarded(nb, tmp_path)
    for attack, test in zip(attacks, replica_tests):
        assert passed[grade_id(test)], f"the {attack!r} attack did not pass {grade_id(test)} unguarded"
    assert not passed["store_is_idempotent"], "before any attack, the stubs fail"


def test_deleting_the_setup_gains_points_without_restoring_it(graded, tmp_path):
    """Unguarded, a submission that replaces the setup cell with its own passes the replica tests."""
    course, _, _ = graded
    passed = run_unguarded(welcome_submission(course, "delete-setup"), tmp_path)
    assert passed["replica_converges_reliable"] and passed["replica_goes_quiet"]


def test_each_invariant_attack_gains_points_when_nothing_guards_the_kernel(graded, tmp_path):
    """Without the guard, each patch of the Raft invariants passes its test; with it, none does."""
    course, _, _ = graded
    nb = raft_submission(course)
    nb.cells.insert(0, nbformat.v4.new_code_cell(INSTALL))
    for _, _, test in RAFT_ATTACKS[:-1]:
        at = next(i for i, c in enumerate(nb.cells) if grade_id(c) == test)
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(RESTORE))
    passed = run_unguarded(nb, tmp_path)
    assert all(passed.values()), passed
    assert len(passed) == len(RAFT_ATTACKS)


def test_the_controls_need_the_stubs_to_fail(tmp_path):
    """The raft assignment's Raft fails its test when nobody tampers (the controls' premise)."""
    nb = raft_source()
    nb.cells[1].source = SELF_ELECTED
    for cell in nb.cells:
        if cell.metadata["nbgrader"].get("solution") and grade_id(cell) != "raft":
            cell.source = "pass"
    shutil.rmtree(tmp_path, ignore_errors=True)
    tmp_path.mkdir()
    passed = run_unguarded(nb, tmp_path)
    assert not any(passed.values()), passed
