"""Every reference solution scores full marks, and every kept learner mistake loses points."""

from __future__ import annotations

import collections
import copy
import dataclasses

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


def _reference_scores_full_marks(assignment):
    for path in notebooks(assignment):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            cell.source = strip_markers(cell.source)
        result = score_notebook(path, nb=nb)
        assert result.score == result.max_score == max_score(assignment), result.report()


def _notebook_of(assignment, wrong):
    (path,) = [p for p in notebooks(assignment)
               if any(c.metadata.get("nbgrader", {}).get("grade_id") == wrong.cell
                      for c in nbformat.read(str(p), as_version=4).cells)]
    return path


def _prepared(path, wrong):
    """The solution notebook with ``wrong`` applied and, unless it is an expect-only mistake, the
    tests it does not name blanked: they would cost minutes of simulation per mistake and prove
    nothing more (blanked, not removed, so later cells keep their inputs)."""
    nb = apply_wrong(nbformat.read(str(path), as_version=4), wrong)
    if not wrong.expect_only:
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("grade_id") not in wrong.expect_fail:
                cell.source = "# (not needed to show this mistake)"
    return nb


def _batched(wrong):
    # Expect-only mistakes check that a whole grading run goes on past them, and a mistake with a
    # timeout of its own loops: each runs in a kernel of its own. The others share one kernel.
    return not wrong.expect_only and wrong.timeout == 60


_SEP = "|"


def _run_batch(path, wrongs):
    """Every mistake of ``wrongs`` in one kernel, one after another: each as its own copy of the
    notebook's code cells (the patched solution, the named tests), grade ids prefixed by its
    position. Starting a kernel and importing the course cost about 3 s a mistake, which over a
    hundred kept mistakes was most of this file's 9 minutes. Returns ``{name: [TestResult]}``, or
    None if the batch could not run (each mistake then runs alone)."""
    batch = nbformat.v4.new_notebook(metadata=copy.deepcopy(nbformat.read(str(path), as_version=4).metadata))
    for k, wrong in enumerate(wrongs):
        if k:  # a fresh namespace: a class the mistake fails to define must not be the last one's
            batch.cells.append(nbformat.v4.new_code_cell("%reset -f", id=f"w{k}-reset"))
        for i, cell in enumerate(_prepared(path, wrong).cells):
            if cell.cell_type != "code":
                continue
            cell = copy.deepcopy(cell)
            cell["id"] = f"w{k}-{i}"
            meta = cell.metadata.get("nbgrader")
            if meta and meta.get("grade_id"):
                meta["grade_id"] = f"{k}{_SEP}{meta['grade_id']}"
            batch.cells.append(cell)
    try:
        result = score_notebook(path, nb=batch, timeout=max(w.timeout for w in wrongs))
    except Exception:  # a kernel that died: no batch, each mistake alone
        return None
    out = {wrong.name: [] for wrong in wrongs}
    for r in result.results:
        k, grade_id = r.grade_id.split(_SEP, 1)
        out[wrongs[int(k)].name].append(dataclasses.replace(r, grade_id=grade_id))
    return out


@pytest.fixture(scope="module")
def batch_results():
    cache = {}

    def get(assignment, wrong):
        path = _notebook_of(assignment, wrong)
        if path not in cache:
            wrongs = [w for a, w in CASES if a == assignment and _batched(w) and _notebook_of(a, w) == path]
            cache[path] = _run_batch(path, wrongs)
        return cache[path]
    return get


def _report(results):
    return "\n".join(f"  {r.grade_id}: {'passed' if r.passed else 'FAILED'}"
                     + (f" ({r.error.splitlines()[-1] if r.error else ''})" if not r.passed else "")
                     for r in results)


def _loses_points(assignment, wrong, batch_results):
    batch = batch_results(assignment, wrong) if _batched(wrong) else None
    if batch is not None:
        results = batch[wrong.name]
        report = _report(results)
    else:
        path = _notebook_of(assignment, wrong)
        result = score_notebook(path, nb=_prepared(path, wrong), timeout=wrong.timeout)
        results, report = result.results, result.report()
    failed = sorted(r.grade_id for r in results if not r.passed and not r.hidden_only)
    assert failed, f"{wrong.description}\nlost no points:\n{report}"
    missing = sorted(set(wrong.expect_fail) - set(failed))
    assert not missing, f"{wrong.description}\nexpected {missing} to fail:\n{report}"
    if wrong.expect_only:
        # The grading run went on past the broken tests: every other test still scored.
        assert failed == sorted(wrong.expect_fail), (
            f"{wrong.description}\nonly {sorted(wrong.expect_fail)} should fail:\n{report}")


def _assignment_tests(assignment):
    """The reference and the kept mistakes of one assignment, as a class of their own: ``make test``
    runs pytest-xdist with ``--dist loadscope``, which keeps a class on one worker (the batched
    mistakes share its kernel runs) and gives other classes to the other worker, so the suite's
    longest file is shared by both workers instead of running on one."""
    cases = [w for a, w in CASES if a == assignment]

    class Assignment:
        def test_reference_solution_scores_full_marks(self):
            """The solution notebook, hidden tests included, passes every graded cell."""
            _reference_scores_full_marks(assignment)

        @pytest.mark.parametrize("wrong", cases, ids=[w.name for w in cases])
        def test_wrong_implementation_loses_points(self, wrong, batch_results):
            """A kept learner mistake, applied to the reference, fails the tests it names (and loses points)."""
            _loses_points(assignment, wrong, batch_results)

    Assignment.__name__ = Assignment.__qualname__ = f"TestAssignment_{assignment}"
    Assignment.__doc__ = f"Assignment {assignment}: full marks for the reference, points lost by each kept mistake."
    return Assignment


for _assignment in assignments():
    _tests = _assignment_tests(_assignment)
    globals()[_tests.__name__] = _tests
