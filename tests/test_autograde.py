"""nbgrader's own autograder: reference solutions get full marks, untouched stubs zero, every time.

Each assignment is graded in a temporary copy of the course, exactly as an
instructor would: generate the release, put submissions in submitted/, run
``nbgrader autograde`` and read the gradebook.
"""

from __future__ import annotations

import html
import shutil

import nbformat
import pytest

from grading_support import (apply_wrong, as_submission, assignments, feedback_code_text,
                             gradebook_scores, hidden_test_lines, make_course, max_score, nbgrader,
                             notebooks, wrong_implementations)


@pytest.fixture(scope="module", params=assignments())
def graded(request, tmp_path_factory):
    """A course where 'reference' submitted the reference answers and 'untouched' the bare release."""
    assignment = request.param
    course = make_course(tmp_path_factory.mktemp(f"course-{assignment}"))
    nbgrader(course, "generate_assignment", assignment, "--force")
    for student in ("reference", "untouched"):
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for source in notebooks(assignment):
            release = course / "exercises" / assignment / source.name
            if student == "reference":
                nbformat.write(as_submission(release, source), str(folder / source.name))
            else:
                shutil.copy(release, folder / source.name)
    nbgrader(course, "autograde", assignment, "--force")
    return course, assignment, gradebook_scores(course, assignment)


def _submit_wrong(course, assignment, student, wrong):
    """Submit the reference answers with one kept mistake applied, as ``student``."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    for source in notebooks(assignment):
        answered = apply_wrong(nbformat.read(str(source), as_version=4), wrong) \
            if any(c.metadata.get("nbgrader", {}).get("grade_id") == wrong.cell
                   for c in nbformat.read(str(source), as_version=4).cells) \
            else nbformat.read(str(source), as_version=4)
        tmp = folder / f".{source.name}.answers"
        nbformat.write(answered, str(tmp))
        release = course / "exercises" / assignment / source.name
        nbformat.write(as_submission(release, tmp), str(folder / source.name))
        tmp.unlink()


def test_reference_solution_gets_full_marks(graded):
    """The reference answers, submitted as a student would, autograde to the maximum score."""
    course, assignment, scores = graded
    assert scores["reference"] == max_score(assignment) > 0, scores


def test_untouched_release_gets_zero(graded):
    """The released notebook with nothing filled in autograds to zero, and the grader does not crash."""
    _, _, scores = graded
    assert scores["untouched"] == 0, scores


def test_autograding_twice_gives_the_same_grades(graded):
    """Autograding the same submission again gives the same score, cell by cell."""
    course, assignment, scores = graded
    from nbgrader.api import Gradebook

    def cell_scores():
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            return {(s.student.id, g.name): g.score
                    for s in gb.assignment_submissions(assignment)
                    for nb in s.notebooks for g in nb.grades}

    first = cell_scores()
    nbgrader(course, "autograde", assignment, "--force", "--student=reference")
    assert gradebook_scores(course, assignment)["reference"] == scores["reference"]
    assert cell_scores() == first


def test_feedback_does_not_reveal_hidden_tests(graded):
    """Generated feedback shows grades and errors but no hidden test code (nbgrader issue 917)."""
    course, assignment, _ = graded
    nbgrader(course, "generate_feedback", assignment, "--force")
    hidden = hidden_test_lines(assignment)
    assert hidden, "the assignment has no hidden tests to protect"
    pages = list((course / "feedback").rglob("*.html"))
    assert {p.parent.parent.name for p in pages} >= {"reference", "untouched"}
    for page in pages:
        student = page.parent.parent.name
        text = feedback_code_text(page, course / "autograded" / student / assignment / f"{page.stem}.ipynb")
        for line in hidden:
            assert line not in text and html.escape(line) not in text, (
                f"{page.relative_to(course)} reveals hidden test code: {line!r}")
        assert "HIDDEN TESTS" not in text
    untouched = [p for p in pages if p.parent.parent.name == "untouched"][0].read_text()
    assert "NotImplementedError" in untouched, "feedback should still show why tests failed"


@pytest.mark.parametrize("kind", ["loop", "raise"])
def test_broken_code_costs_only_its_tests_points(graded, kind):
    """A learner's infinite loop (interrupted at the cell timeout) or exception costs only the tests it breaks.

    Uses the kept mistakes that break only some tests ("expect-only" patches):
    nbgrader's own autograde must finish and give every other test its points.
    """
    course, assignment, _ = graded
    cases = [w for w in wrong_implementations(assignment) if w.expect_only
             and (("loop" in w.path.stem) == (kind == "loop"))]
    if not cases:
        pytest.skip(f"{assignment} keeps no '{kind}' mistake that breaks only some tests")
    wrong = cases[0]
    student = f"{kind}-{wrong.path.stem}".replace("_", "-")
    _submit_wrong(course, assignment, student, wrong)
    nbgrader(course, "autograde", assignment, "--force", f"--student={student}",
             f"--Execute.timeout={max(wrong.timeout, 10)}")
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission(assignment, student)
        lost = sorted(g.name for nb in sub.notebooks for g in nb.grades
                      if g.max_score and (g.score or 0) < g.max_score)
        assert lost == sorted(wrong.expect_fail), f"{wrong.description}: lost points on {lost}"
        assert sub.score == max_score(assignment) - sum(
            g.max_score for nb in sub.notebooks for g in nb.grades if g.name in wrong.expect_fail)
