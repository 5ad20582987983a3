"""Every reference solution scores full marks, and every kept learner mistake loses points."""

from __future__ import annotations

import collections

import nbformat
import pytest

from course_lib.grading.scoring import score_notebook
from grading_support import (apply_wrong, assignments, max_score, notebooks, strip_markers,
                             wrong_implementations)

CASES = [(a, w) for a in assignments() for w in wrong_implementations(a)]


def _solution_cells(assignment):
    for path in notebooks(assignment):
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                yield path, cell.metadata["nbgrader"]["grade_id"]


@pytest.mark.parametrize("assignment", assignments())
def test_every_solution_cell_has_three_wrong_implementations(assignment):
    """Each graded function or class (solution cell) has at least three kept mistakes that must lose points."""
    counts = collections.Counter(w.cell for w in wrong_implementations(assignment))
    for _, grade_id in _solution_cells(assignment):
        assert counts[grade_id] >= 3, (
            f"{assignment}: solution cell {grade_id!r} has {counts[grade_id]} wrong implementations "
            f"in tests/wrong/{assignment}/ (need 3)")


@pytest.mark.parametrize("assignment", assignments())
def test_reference_solution_scores_full_marks(assignment):
    """The solution notebook, hidden tests included, passes every graded cell."""
    for path in notebooks(assignment):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            cell.source = strip_markers(cell.source)
        result = score_notebook(path, nb=nb)
        assert result.score == result.max_score == max_score(assignment), result.report()


@pytest.mark.parametrize("assignment,wrong", CASES, ids=[w.name for _, w in CASES])
def test_wrong_implementation_loses_points(assignment, wrong):
    """A kept learner mistake, applied to the reference, fails the tests it names (and loses points)."""
    (path,) = [p for p in notebooks(assignment)
               if any(c.metadata.get("nbgrader", {}).get("grade_id") == wrong.cell
                      for c in nbformat.read(str(p), as_version=4).cells)]
    nb = apply_wrong(nbformat.read(str(path), as_version=4), wrong)
    if not wrong.expect_only:
        # Only the named tests need to run: the others would cost minutes of
        # simulation per mistake and prove nothing more (they are blanked, not removed,
        # so the notebook keeps its shape and its later cells their inputs).
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("grade_id") not in wrong.expect_fail:
                cell.source = "# (not needed to show this mistake)"
    result = score_notebook(path, nb=nb, timeout=wrong.timeout)
    failed = sorted(r.grade_id for r in result.results if not r.passed and not r.hidden_only)
    assert failed, f"{wrong.description}\nlost no points:\n{result.report()}"
    missing = sorted(set(wrong.expect_fail) - set(failed))
    assert not missing, f"{wrong.description}\nexpected {missing} to fail:\n{result.report()}"
    if wrong.expect_only:
        # The grading run went on past the broken tests: every other test still scored.
        assert failed == sorted(wrong.expect_fail), (
            f"{wrong.description}\nonly {sorted(wrong.expect_fail)} should fail:\n{result.report()}")
