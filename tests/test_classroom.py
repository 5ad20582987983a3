"""``make grade`` (course_lib.grading.classroom): which submissions it finds, and bad input.

The class's whole cycle through an exchange (release, fetch, submit, collect, autograde,
feedback) and ``make grade``'s parallel regrade, checked against nbgrader's serial grades, run
in tests/test_autograde.py on the course built there once. Nothing here starts nbgrader or a
kernel: these tests read folders and arguments only.
"""

from __future__ import annotations

import shutil

import pytest

from bad_input_support import assert_named_error
from course_lib.grading.classroom import (Submission, collected, default_workers, grade_class, grade_one,
                                          main)
from grading_support import ROOT


@pytest.fixture
def course(tmp_path):
    """A course directory with the course's config and a few collected submissions (no gradebook)."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for student, assignment in [("ann", "00_welcome"), ("bob", "00_welcome"), ("ann", "02_clocks"),
                                ("12345", "00_welcome")]:
        folder = tmp_path / "submitted" / student / assignment
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text("{}")
    (tmp_path / "submitted" / "cid" / "00_welcome").mkdir(parents=True)  # fetched, nothing submitted
    (tmp_path / "submitted" / "notes.txt").write_text("not a student")
    return tmp_path


def test_every_collected_submission_is_found_in_order(course):
    """submitted/<student>/<assignment>/ with a notebook is a submission; empty folders and files are not."""
    assert collected(course) == [Submission("00_welcome", "12345"), Submission("00_welcome", "ann"),
                                 Submission("00_welcome", "bob"), Submission("02_clocks", "ann")]


def test_assignments_and_students_narrow_the_class(course):
    assert collected(course, assignments=["02_clocks"]) == [Submission("02_clocks", "ann")]
    assert collected(course, students=["bob", "ann"], assignments=["00_welcome"]) == [
        Submission("00_welcome", "ann"), Submission("00_welcome", "bob")]
    assert collected(course, students=["nobody"]) == []


def test_make_grade_says_when_there_is_nothing_to_grade(tmp_path, capsys):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    assert main(["--course", str(tmp_path)]) == 1
    assert "no collected submission to grade" in capsys.readouterr().out


def test_default_workers_is_the_cores_available():
    assert 1 <= default_workers() <= (__import__("os").cpu_count() or 1)


SUB = Submission("00_welcome", "ann")

#: (label, call, error, pattern): each bad argument is named with its value, before nbgrader runs.
ERRORS = [
    ("course not a path", lambda c: collected(3), TypeError, r"course=3 must be the path"),
    ("course missing", lambda c: collected(c / "nowhere"), ValueError, r"course=.*nowhere.* existing directory"),
    ("assignments one string", lambda c: collected(c, assignments="00_welcome"), TypeError,
     r"assignments='00_welcome' must be a list of names"),
    ("students holds a path", lambda c: collected(c, students=["a/b"]), ValueError, r"students=\['a/b'\].*'a/b'"),
    ("students holds empty", lambda c: collected(c, students=[""]), ValueError, r"students=\[''\] must hold names"),
    ("workers zero", lambda c: grade_class(c, [SUB], workers=0), ValueError, r"workers=0 must be an int >= 1"),
    ("workers float", lambda c: grade_class(c, [SUB], workers=2.0), TypeError, r"workers=2.0 must be an int"),
    ("workers bool", lambda c: grade_class(c, [SUB], workers=True), TypeError, r"workers=True must be an int"),
    ("retries negative", lambda c: grade_class(c, [SUB], retries=-1), ValueError, r"retries=-1 must be an int >= 0"),
    ("submissions one", lambda c: grade_class(c, SUB), TypeError, r"submissions=Submission.* must be a list"),
    ("submissions tuples", lambda c: grade_class(c, [("00_welcome", "ann")]), TypeError,
     r"must hold Submission values, not \('00_welcome', 'ann'\)"),
    ("submissions twice", lambda c: grade_class(c, [SUB, SUB]), ValueError, r"names a submission twice"),
    ("force not bool", lambda c: grade_class(c, [SUB], force="yes"), TypeError, r"force='yes' must be a bool"),
    ("extra_args one string", lambda c: grade_class(c, [SUB], extra_args="--force"), TypeError,
     r"extra_args='--force' must be a list"),
    ("extra_args numbers", lambda c: grade_class(c, [SUB], extra_args=[10]), TypeError,
     r"extra_args=\(10,\) must hold str arguments"),
    ("progress not callable", lambda c: grade_class(c, [SUB], progress=3), TypeError, r"progress=3 must be callable"),
    ("grade_one submission", lambda c: grade_one(c, ("00_welcome", "ann")), TypeError,
     r"submission=\('00_welcome', 'ann'\) must be a Submission"),
    ("grade_one course", lambda c: grade_one(None, SUB), TypeError, r"course=None must be the path"),
]


@pytest.mark.parametrize("label,call,error,pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_named(course, label, call, error, pattern):
    assert_named_error(lambda: call(course), error, pattern)
