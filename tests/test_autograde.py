"""nbgrader's own autograder on one course that holds every assignment, as a term would run it.

One temporary copy of the course serves every test here (building it is the expensive part, so
it is built once and each test reads what it needs):

- the instructor generates every assignment; the smallest one (``CLASSROOM``) goes through the
  whole nbgrader cycle: released to an exchange, fetched by two students, ``reference`` (who
  answers with the reference solutions) and ``untouched`` (who answers nothing), submitted by
  both and collected;
- for every other assignment the same two students' submissions are put in ``submitted/``, as
  ``nbgrader collect`` would; so are, as one student each, the kept mistakes that break only some
  tests (``# expect-only`` in tests/wrong, the first of each kind per assignment);
- one ``nbgrader autograde "*"`` grades them all (one process, one kernel per notebook);
- feedback is generated once for everything, released for ``CLASSROOM`` and fetched by the students.

Two runs are separate: the kept infinite loop is graded on its own with a short cell timeout,
and ``make grade``'s parallel grading (:mod:`course_lib.grading.classroom`) regrades
``CLASSROOM``'s submissions, which must get the same grades, cell by cell, as the serial run.
"""

from __future__ import annotations

import html
import shutil

import nbformat
import pytest

from course_lib.grading.classroom import cell_scores, grade_class
from grading_support import (apply_wrong, as_submission, assignments, broken_case, feedback_code_text,
                             gradebook_scores, hidden_test_lines, make_course, max_score, nbgrader, notebooks)

#: The smallest assignment (fastest to grade): the classroom cycle and the parallel regrade run on it.
CLASSROOM = "00_welcome" if "00_welcome" in assignments() else assignments()[0]
STUDENTS = ("reference", "untouched")
COURSE_ID = "distributed-systems"
#: The submission time of submissions put in submitted/ directly (collected ones have their own).
PLACED_AT = "2026-01-05 09:00:00.000000 UTC"


def broken_student(kind, wrong):
    return f"{kind}-{wrong.path.stem}".replace("_", "-")


def submit_answers(course, assignment, student, answers=None):
    """Put ``student``'s submission of ``assignment`` in submitted/, as ``nbgrader collect`` would.

    The release, answered from ``answers`` (source notebook -> notebook with the answers), or
    untouched; with the submission time nbgrader records (``release_feedback`` needs it).
    """
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(PLACED_AT)
    for source in notebooks(assignment):
        release = course / "exercises" / assignment / source.name
        target = folder / source.name
        if answers is None:
            shutil.copy(release, target)
        else:
            nbformat.write(as_submission(release, answers(source)), str(target))


def with_mistake(wrong, tmp):
    """Answers: the reference with ``wrong`` applied in the notebook that holds its cell."""
    def answers(source):
        nb = nbformat.read(str(source), as_version=4)
        if not any(c.metadata.get("nbgrader", {}).get("grade_id") == wrong.cell for c in nb.cells):
            return source
        path = tmp / f"{source.stem}-{wrong.path.stem}.ipynb"
        nbformat.write(apply_wrong(nb, wrong), str(path))
        return path
    return answers


def exchange_flags(root, student=None):
    flags = [f"--Exchange.root={root / 'exchange'}", f"--CourseDirectory.course_id={COURSE_ID}"]
    if student is not None:
        flags += [f"--Exchange.cache={root / student / '.cache'}", f"--CourseDirectory.student_id={student}"]
    return flags


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """The course after one serial ``nbgrader autograde "*"``: (root, course, scores, cell scores)."""
    root = tmp_path_factory.mktemp("term")
    course = make_course(root / "course")
    (root / "exchange").mkdir()
    nbgrader(course, "generate_assignment", "*", "--force")

    # The classroom cycle, up to the collected submissions.
    nbgrader(course, "release_assignment", CLASSROOM, "--force", *exchange_flags(root))
    for student in STUDENTS:
        home = root / student
        home.mkdir()
        nbgrader(home, "fetch_assignment", CLASSROOM, *exchange_flags(root, student))
        fetched = home / CLASSROOM
        for source in notebooks(CLASSROOM):
            assert (fetched / source.name).exists(), f"{student} did not get {source.name}"
            if student == "reference":
                nbformat.write(as_submission(fetched / source.name, source), str(fetched / source.name))
        nbgrader(home, "submit", CLASSROOM, *exchange_flags(root, student))
    nbgrader(course, "collect", CLASSROOM, *exchange_flags(root))

    # Every other assignment's submissions, and the kept mistakes that break only some tests.
    for assignment in assignments():
        if assignment != CLASSROOM:
            submit_answers(course, assignment, "reference", answers=lambda source: source)
            submit_answers(course, assignment, "untouched")
        wrong = broken_case(assignment, "raise")
        if wrong is not None:
            submit_answers(course, assignment, broken_student("raise", wrong), with_mistake(wrong, root))

    nbgrader(course, "autograde", "*", "--force")
    scores = {a: gradebook_scores(course, a) for a in assignments()}
    return root, course, scores, cell_scores(course)


@pytest.fixture(scope="module")
def feedback(term):
    """Feedback generated for every graded submission, and CLASSROOM's released to the exchange."""
    root, course, _, _ = term
    nbgrader(course, "generate_feedback", "*", "--force")
    # Only the two students who came through the exchange have a place there for feedback.
    others = sorted({p.parent.name for p in (course / "submitted").glob(f"*/{CLASSROOM}")} - set(STUDENTS))
    nbgrader(course, "release_feedback", CLASSROOM, *exchange_flags(root),
             f"--CourseDirectory.student_id_exclude={','.join(others)}")
    return term


@pytest.mark.parametrize("assignment", assignments())
def test_reference_solution_gets_full_marks(term, assignment):
    """The reference answers, submitted as a student would, autograde to the maximum score."""
    scores = term[2][assignment]
    assert scores["reference"] == max_score(assignment) > 0, scores


@pytest.mark.parametrize("assignment", assignments())
def test_untouched_release_gets_zero(term, assignment):
    """The released notebook with nothing filled in autogrades to zero, and the grader does not crash."""
    scores = term[2][assignment]
    assert scores["untouched"] == 0, scores


def test_classroom_students_get_their_grades_and_feedback_through_the_exchange(feedback):
    """Released, fetched, submitted, collected, autograded, feedback released and fetched: the whole cycle.

    The two students went through the exchange (nbgrader's release, fetch, submit, collect): the
    collected submissions carry their submission time, were graded (full marks and zero), and each
    student fetches feedback that shows no hidden test code.
    """
    root, course, scores, _ = feedback
    assert {s: scores[CLASSROOM][s] for s in STUDENTS} == {"reference": max_score(CLASSROOM),
                                                           "untouched": 0.0}
    for student in STUDENTS:
        stamp = course / "submitted" / student / CLASSROOM / "timestamp.txt"
        assert stamp.is_file() and stamp.read_text().strip() != PLACED_AT, (
            f"{student}'s submission did not come through nbgrader collect")
        home = root / student
        nbgrader(home, "fetch_feedback", CLASSROOM, *exchange_flags(root, student))
        pages = list((home / CLASSROOM / "feedback").rglob("*.html"))
        assert pages, f"{student} received no feedback"
        text = feedback_code_text(pages[0], course / "autograded" / student / CLASSROOM / f"{pages[0].stem}.ipynb")
        assert "HIDDEN TESTS" not in text
        leaked = [line for line in hidden_test_lines(CLASSROOM) if html.escape(line) in text]
        assert not leaked, f"{student}'s feedback shows hidden test code: {leaked[:3]}"


@pytest.mark.parametrize("assignment", assignments())
def test_feedback_does_not_reveal_hidden_tests(feedback, assignment):
    """Generated feedback shows grades and errors but no hidden test code (nbgrader issue 917)."""
    _, course, _, _ = feedback
    hidden = hidden_test_lines(assignment)
    assert hidden, "the assignment has no hidden tests to protect"
    pages = list((course / "feedback").glob(f"*/{assignment}/*.html"))
    assert {p.parent.parent.name for p in pages} >= set(STUDENTS)
    for page in pages:
        student = page.parent.parent.name
        text = feedback_code_text(page, course / "autograded" / student / assignment / f"{page.stem}.ipynb")
        for line in hidden:
            assert line not in text and html.escape(line) not in text, (
                f"{page.relative_to(course)} reveals hidden test code: {line!r}")
        assert "HIDDEN TESTS" not in text
    untouched = [p for p in pages if p.parent.parent.name == "untouched"][0].read_text()
    assert "NotImplementedError" in untouched, "feedback should still show why tests failed"


def test_make_grade_regrades_in_parallel_to_the_same_grades(term):
    """Autograding again, with ``make grade``'s parallel workers, gives the serial run's grades, cell by cell.

    ``CLASSROOM``'s submissions (full marks, zero, and a kept mistake's partial marks when the
    assignment keeps one) are regraded two at a time, over the gradebook rows of the first run.
    """
    _, course, _, first = term
    submissions = sorted(s for s in first if s.assignment == CLASSROOM)
    assert {s.student for s in submissions} >= set(STUDENTS)
    outcomes = grade_class(course, submissions, workers=2, force=True)
    failed = [o for o in outcomes if not o.ok]
    assert not failed, failed[0].log[-3000:]
    again = cell_scores(course, submissions)
    assert again == {s: first[s] for s in submissions}
    assert len({tuple(sorted(cells.values())) for cells in again.values()}) == len(submissions), (
        "the regraded submissions should have different grades, or equal grades prove little")


@pytest.mark.parametrize("kind", ["loop", "raise"])
@pytest.mark.parametrize("assignment", assignments())
def test_broken_code_costs_only_its_tests_points(term, assignment, kind):
    """A learner's infinite loop (interrupted at the cell timeout) or exception costs only the tests it breaks.

    Uses the kept mistakes that break only some tests ("expect-only" patches):
    nbgrader's own autograde must finish and give every other test its points.
    """
    root, course, _, _ = term
    wrong = broken_case(assignment, kind)
    if wrong is None:
        pytest.skip(f"{assignment} keeps no '{kind}' mistake that breaks only some tests")
    student = broken_student(kind, wrong)
    if kind == "loop":  # graded on its own: each looping cell spins until the (short) timeout
        # The patch's own timeout, which its make-check run in test_wrong_implementations.py uses
        # too: every other cell of the notebook finishes well within it (in 00_welcome, the
        # slowest, the setup cell, takes 1.6 s on a busy machine), and each second more costs a
        # second of CPU per looping test (three in 00_welcome's).
        submit_answers(course, assignment, student, with_mistake(wrong, root))
        nbgrader(course, "autograde", assignment, "--force", f"--student={student}",
                 f"--Execute.timeout={wrong.timeout}")
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission(assignment, student)
        lost = sorted(g.name for nb in sub.notebooks for g in nb.grades
                      if g.max_score and (g.score or 0) < g.max_score)
        assert lost == sorted(wrong.expect_fail), f"{wrong.description}: lost points on {lost}"
        assert sub.score == max_score(assignment) - sum(
            g.max_score for nb in sub.notebooks for g in nb.grades if g.name in wrong.expect_fail)

