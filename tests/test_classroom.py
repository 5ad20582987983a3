"""A whole classroom, rehearsed on one machine through the course's local exchange.

The instructor generates and releases; two students fetch, answer and submit;
the instructor collects, autogrades, generates and releases feedback; the
students fetch it. Everything lives in a temporary directory: no home
directory, no /srv.
"""

from __future__ import annotations

import html

import nbformat

from grading_support import (as_submission, assignments, feedback_code_text, gradebook_scores,
                             hidden_test_lines, make_course, max_score, nbgrader, notebooks)


def test_release_submit_collect_autograde_feedback_for_two_students(tmp_path):
    """Two students through the full nbgrader cycle: the one with the reference answers gets full marks."""
    assignment = assignments()[0]
    course = make_course(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    common = [f"--Exchange.root={exchange}", "--CourseDirectory.course_id=distributed-systems"]
    nbgrader(course, "generate_assignment", assignment, "--force")
    nbgrader(course, "release_assignment", assignment, "--force", *common)

    for student, answer in (("alice", "reference"), ("bob", "nothing")):
        home = tmp_path / student
        home.mkdir()
        student_flags = common + [f"--Exchange.cache={home / '.cache'}", f"--CourseDirectory.student_id={student}"]
        nbgrader(home, "fetch_assignment", assignment, *student_flags)
        for source in notebooks(assignment):
            fetched = home / assignment / source.name
            assert fetched.exists(), f"{student} did not get {source.name}"
            if answer == "reference":
                nbformat.write(as_submission(fetched, source), str(fetched))
        nbgrader(home, "submit", assignment, *student_flags)

    nbgrader(course, "collect", assignment, *common)
    nbgrader(course, "autograde", assignment, "--force")
    scores = gradebook_scores(course, assignment)
    assert scores == {"alice": max_score(assignment), "bob": 0.0}, scores
    nbgrader(course, "generate_feedback", assignment, "--force")
    nbgrader(course, "release_feedback", assignment, *common)
    for student in ("alice", "bob"):
        home = tmp_path / student
        nbgrader(home, "fetch_feedback", assignment, *common,
                 f"--Exchange.cache={home / '.cache'}", f"--CourseDirectory.student_id={student}")
        pages = list((home / assignment / "feedback").rglob("*.html"))
        assert pages, f"{student} received no feedback"
        text = feedback_code_text(pages[0], course / "autograded" / student / assignment / f"{pages[0].stem}.ipynb")
        assert "HIDDEN TESTS" not in text
        leaked = [line for line in hidden_test_lines(assignment) if html.escape(line) in text]
        assert not leaked, f"{student}'s feedback shows hidden test code: {leaked[:3]}"
