"""Score an exercise notebook the way the autograder does, with a per-test report.

Used by ``make check`` (learners checking their own work) and by the project's
tests (reference solutions, untouched stubs and wrong implementations). A
graded test cell scores its points when it runs without error and zero
otherwise (by nbgrader's own rule: an error or any output to stderr scores
zero); a cell that runs past ``timeout`` seconds is interrupted and scores
zero, and the remaining cells still run.

Example (from a shell)::

    python -m course_lib.grading.scoring exercises/00_welcome/00_welcome.ipynb
"""

from __future__ import annotations

import copy
import os
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Any

from ..sim.validation import InvalidArgument, InvalidArgumentType, check_type
from .kernels import kernel_config


@dataclass
class TestResult:
    """The outcome of one graded test cell."""

    grade_id: str
    max_points: float
    passed: bool
    error: str | None = None
    modified: bool = False
    hidden_only: bool = False

    @property
    def points(self) -> float:
        return self.max_points if self.passed and not self.hidden_only else 0.0


@dataclass
class NotebookScore:
    """Every graded cell's result for one notebook."""

    path: str
    results: list[TestResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_points for r in self.results if not r.hidden_only)

    @property
    def hidden_points(self) -> float:
        """Points of tests whose every check is hidden (they run only when graded)."""
        return sum(r.max_points for r in self.results if r.hidden_only)

    def by_id(self) -> dict[str, TestResult]:
        """Return the results keyed by grade id."""
        return {r.grade_id: r for r in self.results}

    def report(self) -> str:
        """Return a readable per-test report."""
        lines = [f"{self.path}: {self.score:g} / {self.max_score:g} points"]
        if self.hidden_points:
            lines[0] += f" (+ {self.hidden_points:g} points of hidden tests, run when graded)"
        for r in self.results:
            if r.hidden_only:
                lines.append(f"  [HIDDEN] {r.grade_id} ({r.max_points:g} points, runs when graded)")
                continue
            mark = "PASS" if r.passed else "FAIL"
            lines.append(f"  [{mark}] {r.grade_id} ({r.points:g}/{r.max_points:g})")
            if r.modified:
                lines.append("         this test cell was modified: it will be restored when graded")
            if r.error:
                for line in r.error.splitlines()[:6]:
                    lines.append(f"         {line}")
        return "\n".join(lines)


def _error_text(cell: Any) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
            if ename == "NotImplementedError":
                return "NotImplementedError: not implemented yet (a stub still raises)"
            if ename in ("KeyboardInterrupt", "CellTimeoutError"):
                return f"{ename}: the cell ran too long and was interrupted (an infinite loop?)"
            return f"{ename}: {evalue}"
    return None


def _only_comments(source: str) -> bool:
    """Whether a test cell has no code left (its checks are all hidden, as released)."""
    return all(not line.strip() or line.strip().startswith("#") for line in source.splitlines())


def _checksum_changed(cell: Any) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    if "checksum" not in meta:
        return False
    try:
        from nbgrader.utils import compute_checksum
    except ImportError:  # pragma: no cover - nbgrader is a course dependency
        return False
    return compute_checksum(cell) != meta["checksum"]


def score_notebook(path: str | pathlib.Path, *, nb: Any = None, timeout: int = 120,
                   kernel_name: str = "python3") -> NotebookScore:
    """Execute a copy of the notebook and score each graded cell.

    Args:
        path: the notebook file (its folder is the working directory).
        nb: an already loaded (possibly modified) notebook to run instead of the file.
        timeout: seconds a cell may run before it is interrupted.
        kernel_name: the Jupyter kernel to use.

    Raises:
        FileNotFoundError: ``path`` does not exist and no ``nb`` was given.
        InvalidArgument: ``timeout`` is not a positive int, or ``path`` is a folder.
        InvalidArgumentType: ``path``, ``nb`` or ``kernel_name`` has the wrong type.
    """
    import nbformat

    from .execution import GuardedClient

    if not isinstance(path, (str, os.PathLike)):
        raise InvalidArgumentType(f"path={path!r} must be the notebook's file name (a str or a Path)")
    path = pathlib.Path(path)
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        raise InvalidArgumentType(f"timeout={timeout!r} must be a positive number of seconds (an int)")
    if timeout <= 0:
        raise InvalidArgument(f"timeout={timeout!r} must be a positive number of seconds")
    check_type("kernel_name", kernel_name, str, what="the name of a Jupyter kernel such as 'python3'")
    if nb is not None and not isinstance(getattr(nb, "cells", None), list):
        raise InvalidArgumentType(f"nb={type(nb).__name__} must be a notebook loaded with nbformat.read")
    if nb is None:
        if path.is_dir():
            raise InvalidArgument(f"path={str(path)!r} is a folder; name the .ipynb file in it")
        if not path.exists():
            raise FileNotFoundError(f"path={str(path)!r} does not exist")
        nb = nbformat.read(str(path), as_version=4)
    nb = copy.deepcopy(nb)
    pristine = copy.deepcopy(nb)
    for attempt in range(3):
        client = GuardedClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                                interrupt_on_timeout=True, config=kernel_config(),
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        try:
            # Hash seed 0, as nbgrader_config.py gives the autograder's kernels: sets of
            # strings iterate in the same order here, when graded and in the course's kernel.
            client.execute(env={**os.environ, "PYTHONHASHSEED": "0"})
            break
        except RuntimeError:
            # A kernel that dies while starting (ports raced by parallel runs on a busy
            # machine) is the machine's fault, not the learner's: start afresh.
            started = any(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
            if started or attempt == 2:
                raise
            nb = copy.deepcopy(pristine)
    modified = {id(c): _checksum_changed(c) for c in nb.cells}
    from nbgrader.utils import determine_grade  # the autograder's own rule, for parity

    score = NotebookScore(str(path))
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            error = _error_text(cell)
            try:
                points, max_points = determine_grade(cell)
            except ValueError as exc:  # e.g. a shown number above the cell's points
                points, max_points, error = 0.0, float(meta.get("points", 0)), f"ValueError: {exc}"
            if error is None and points is not None and points < max_points:
                error = "the cell wrote to stderr or showed a partial score" if not points else \
                    f"partial credit {points:g}"
            passed = points is not None and points >= max_points
            score.results.append(TestResult(meta["grade_id"], float(max_points), passed, error,
                                            modified[id(cell)],
                                            hidden_only=_only_comments(cell.source)))
    return score


def main(argv: list[str] | None = None) -> int:
    """Score the notebooks named on the command line; exit 1 if any test fails."""
    argv = sys.argv[1:] if argv is None else argv
    if isinstance(argv, (str, bytes)) or not isinstance(argv, (list, tuple)):
        raise InvalidArgumentType(f"argv={argv!r} must be a list of notebook paths, not a single "
                                  f"{type(argv).__name__}")
    if not argv:
        print("usage: python -m course_lib.grading.scoring NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    failed = False
    for name in argv:
        result = score_notebook(name)
        print(result.report())
        failed |= result.score < result.max_score
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
