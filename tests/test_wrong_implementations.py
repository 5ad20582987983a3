"""Every kept learner mistake loses points, on tests the reference passes (full marks: test_autograde.py)."""

from __future__ import annotations

import collections
import copy
import dataclasses

import nbformat
import pytest

from course_lib.grading.scoring import score_notebook
from grading_support import apply_wrong, assignments, broken_case, notebooks, wrong_implementations

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


def _notebook_of(assignment, wrong):
    (path,) = [p for p in notebooks(assignment)
               if any(c.metadata.get("nbgrader", {}).get("grade_id") == wrong.cell
                      for c in nbformat.read(str(p), as_version=4).cells)]
    return path


def _is_setup(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id") == "setup"


def _prepared(path, wrong, keep=None):
    """The solution notebook with ``wrong`` applied (None: the reference itself), made lean unless it
    is an expect-only mistake: the graded tests it does not name are left out (they would cost
    minutes of simulation per mistake and prove nothing more), and so are the ungraded cells that
    only show things (sanity checks, pictures) and cost seconds per mistake: what remains is the
    setup cell, the solution cells and the named tests (``keep``: these grade ids instead). The
    batch's reference run, made lean the same way, shows the named tests pass without them."""
    nb = nbformat.read(str(path), as_version=4)
    if wrong is not None:
        nb = apply_wrong(nb, wrong)
        if wrong.expect_only:
            return nb
        keep = set(wrong.expect_fail)
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("solution") or _is_setup(cell) \
                or (meta.get("grade") and meta.get("grade_id") in keep):
            cells.append(cell)
    nb.cells = cells
    return nb


def _batched(wrong):
    # Expect-only mistakes check that a whole grading run goes on past them, and a mistake with a
    # timeout of its own loops: each runs in a kernel of its own. The others share one kernel.
    return not wrong.expect_only and wrong.timeout == 60


_SEP = "|"
REFERENCE = "(the reference)"


def _run_batch(path, wrongs, named):
    """Every mistake of ``wrongs`` in one kernel, one after another, after the reference: each as its
    own copy of the notebook's lean code cells (:func:`_prepared`), grade ids prefixed by its
    position. Starting a kernel and importing the course cost about 3 s a mistake, which over a
    hundred kept mistakes was most of this file's 9 minutes. The reference comes first, keeping
    every test any mistake of the notebook names (``named``): each of those tests must pass on it
    (otherwise a mistake would "fail" a test that fails anyway). Returns ``{name: [TestResult]}`` with the reference's
    results under ``REFERENCE``, or None if the batch could not run (each mistake then runs alone)."""
    runs = [(REFERENCE, _prepared(path, None, keep=named))] + [(w.name, _prepared(path, w)) for w in wrongs]
    batch = nbformat.v4.new_notebook(metadata=copy.deepcopy(nbformat.read(str(path), as_version=4).metadata))
    for k, (_, nb) in enumerate(runs):
        if k:  # a fresh namespace: a class the mistake fails to define must not be the last one's
            batch.cells.append(nbformat.v4.new_code_cell("%reset -f", id=f"w{k}-reset"))
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell = copy.deepcopy(cell)
            cell["id"] = f"w{k}-{i}"
            meta = cell.metadata.get("nbgrader")
            if meta and meta.get("grade_id"):
                meta["grade_id"] = f"{k}{_SEP}{meta['grade_id']}"
            batch.cells.append(cell)
    try:
        result = score_notebook(path, nb=batch, timeout=max([60] + [w.timeout for w in wrongs]))
    except Exception:  # a kernel that died: no batch, each mistake alone
        return None
    out = {name: [] for name, _ in runs}
    for r in result.results:
        k, grade_id = r.grade_id.split(_SEP, 1)
        out[runs[int(k)][0]].append(dataclasses.replace(r, grade_id=grade_id))
    return out


@pytest.fixture(scope="module")
def batch_results():
    """``get(path)``: the batch of ``path``'s notebook (its batched mistakes and the reference), run once."""
    cache = {}

    def get(path):
        if path not in cache:
            mine = [(a, w) for a, w in CASES if _notebook_of(a, w) == path]
            wrongs = [w for _, w in mine if _batched(w)]
            named = set().union(*(w.expect_fail for _, w in mine if not w.expect_only))
            cache[path] = _run_batch(path, wrongs, named)
        return cache[path]
    return get


def _report(results):
    return "\n".join(f"  {r.grade_id}: {'passed' if r.passed else 'FAILED'}"
                     + (f" ({r.error.splitlines()[-1] if r.error else ''})" if not r.passed else "")
                     for r in results)


def _reference_passes(path, batch, grade_ids):
    """The lean reference of ``path``'s batch passed the tests ``grade_ids`` (calibration)."""
    assert batch is not None, f"{path.name}: the batch of kept mistakes could not run (its kernel died)"
    results = {r.grade_id: r for r in batch[REFERENCE]}
    missing = sorted(set(grade_ids) - set(results))
    assert not missing, f"{path.name}: the reference run has no tests {missing}"
    failed = sorted(g for g in grade_ids if not results[g].passed)
    assert not failed, (f"{path.name}: the reference itself fails {failed} in the lean notebook the kept "
                        f"mistakes run in (setup, solution cells and named tests only): does a test need a "
                        f"name that an ungraded cell binds?\n{_report(batch[REFERENCE])}")


def _graded_by_nbgrader(assignment, wrong):
    """The expect-only mistakes that test_autograde.py grades with nbgrader's own autograde (the
    first loop and the first exception of each assignment): there the whole notebook runs and
    exactly the tests the patch names must lose their points (the score is checked too), which is
    this file's check for an expect-only mistake, made by the autograder itself. Running them here
    too, through make check's engine, cost ~35 s of CPU (00_welcome's loop spins out its timeout in
    three tests); what that engine does with a looping cell is checked below on a one-line loop."""
    return any(broken_case(assignment, kind) == wrong for kind in ("loop", "raise"))


def _loses_points(assignment, wrong, batch_results):
    if _graded_by_nbgrader(assignment, wrong):
        kind = "loop" if "loop" in wrong.path.stem else "raise"
        pytest.skip(f"graded by nbgrader's autograde: test_autograde.py::"
                    f"test_broken_code_costs_only_its_tests_points[{assignment}-{kind}]")
    path = _notebook_of(assignment, wrong)
    full = batch_results(path)
    if not wrong.expect_only:
        _reference_passes(path, full, wrong.expect_fail)
    batch = full if _batched(wrong) else None
    if batch is not None:
        results = batch[wrong.name]
        report = _report(results)
    else:
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


def test_make_check_interrupts_a_looping_test_and_scores_the_rest(tmp_path):
    """make check's engine (score_notebook) interrupts a graded cell that runs past the timeout,
    scores it zero, and still runs and scores the cells after it (the kept looping mistakes are
    graded by nbgrader in test_autograde.py)."""
    def graded(grade_id, source):
        return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
            "grade": True, "grade_id": grade_id, "locked": True, "points": 1, "schema_version": 3,
            "solution": False, "task": False}})
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}})
    nb.cells = [nbformat.v4.new_code_cell("answer = 42"), graded("loops", "while True:\n    pass"),
                graded("after_the_loop", "assert answer == 42")]
    result = score_notebook(tmp_path / "loop.ipynb", nb=nb, timeout=2)
    assert {r.grade_id: r.passed for r in result.results} == {"loops": False, "after_the_loop": True}, (
        result.report())
    assert result.score == 1


def _assignment_tests(assignment):
    """The reference and the kept mistakes of one assignment, as a class of their own: ``make test``
    runs pytest-xdist with ``--dist loadscope``, which keeps a class on one worker (the batched
    mistakes share its kernel runs) and gives other classes to the other worker, so the suite's
    longest file is shared by both workers instead of running on one."""
    cases = [w for a, w in CASES if a == assignment]

    class Assignment:
        def test_reference_passes_every_test_a_mistake_names(self, batch_results):
            """The reference, in the lean notebook the mistakes run in, passes every test they name (full
            marks on the whole notebook, hidden tests included, is nbgrader's test: test_autograde.py)."""
            for path in notebooks(assignment):
                named = set().union(*(w.expect_fail for a, w in CASES
                                      if a == assignment and not w.expect_only and _notebook_of(a, w) == path))
                if named:
                    _reference_passes(path, batch_results(path), named)

        @pytest.mark.parametrize("wrong", cases, ids=[w.name for w in cases])
        def test_wrong_implementation_loses_points(self, wrong, batch_results):
            """A kept learner mistake, applied to the reference, fails the tests it names (and loses points)."""
            _loses_points(assignment, wrong, batch_results)

    Assignment.__name__ = Assignment.__qualname__ = f"TestAssignment_{assignment}"
    Assignment.__doc__ = f"Assignment {assignment}: the reference passes what the kept mistakes fail."
    return Assignment


for _assignment in assignments():
    _tests = _assignment_tests(_assignment)
    globals()[_tests.__name__] = _tests
