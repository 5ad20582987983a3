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

from grading_support import (as_submission, assignments, feedback_code_text, gradebook_scores,
                             hidden_test_lines, make_course, max_score, nbgrader, notebooks)


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


def test_reference_solution_gets_full_marks(graded):
    """The reference answers, submitted as a student would, autograde to the maximum score."""
    course, assignment, scores = graded
    assert scores["reference"] == max_score(assignment) > 0, scores


def test_untouched_release_gets_zero(graded):
    """The released notebook with nothing filled in autograds to zero, and the grader does not crash."""
    _, _, scores = graded
    assert scores["untouched"] == 0, scores


def test_autograding_twice_gives_the_same_grades(graded):
    """Autograding the same submissions again gives the same score, cell by cell."""
    course, assignment, scores = graded
    from nbgrader.api import Gradebook

    def cell_scores():
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            return {(s.student.id, g.name): g.score
                    for s in gb.assignment_submissions(assignment)
                    for nb in s.notebooks for g in nb.grades}

    first = cell_scores()
    nbgrader(course, "autograde", assignment, "--force")
    assert gradebook_scores(course, assignment) == scores
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
