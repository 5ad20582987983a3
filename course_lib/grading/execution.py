"""Run notebooks for grades: every instructor cell runs against the course's own library.

The grader's side of :mod:`course_lib.grading.guard`. Used by ``nbgrader autograde`` (through
``nbgrader_config.py``) and by ``make check`` (:func:`course_lib.grading.scoring.score_notebook`):

- :class:`GuardedExecution` (in :class:`GuardedExecute` for nbgrader, :class:`GuardedClient`
  for ``make check``) installs the guard in the kernel before the first cell, and around
  each instructor cell (a locked cell: setup, sanity checks, tests) asks it to put back what
  the learner's cells changed in the library and in the names instructor cells bound. A
  graded cell says what was put back before it ran (a line of output), and fails when the
  code it ran changed the library while it ran (an error: no points);
- :class:`RestoreCells`, nbgrader's ``OverwriteCells`` that also puts back every instructor
  cell a submission deleted (tests, and the setup cell their names come from), so that a
  deleted test runs anyway and a deleted setup cannot be replaced by a learner's own.

nbgrader already restores the source of edited test cells from the gradebook (their
checksums). The guard runs in the learner's kernel: it stops patches of the course library,
of the notebook's names and of IPython's hooks, not a submission written against the
guard itself (see :mod:`course_lib.grading.guard`).
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, OverwriteCells
from nbgrader.utils import is_grade, is_locked, is_solution
from traitlets import Bool

#: The error a graded cell fails with when its run changed the course library.
TAMPERED = "LibraryChanged"

#: How many changes a note or an error lists before "and N more".
_LISTED = 6


def instructor_cell(cell: NotebookNode) -> bool:
    """Whether ``cell`` is the instructor's: a locked nbgrader cell (setup, sanity check or test)."""
    return (cell.get("cell_type") == "code" and "grade_id" in cell.metadata.get("nbgrader", {})
            and is_locked(cell))


def bound_names(source: str) -> list[str] | None:
    """The notebook names a cell's code binds (assignments, imports, defs), or None if unknown.

    Read from the source in the grader's process, not the kernel's: what the cell
    may rebind is what its code says, whatever the code it calls does.
    """
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, ImportError):
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
    return sorted(names)


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:_LISTED])
    return shown + (f"; and {len(items) - _LISTED} more" if len(items) > _LISTED else "")


class GuardedExecution:
    """Mix into an nbclient ``NotebookClient``: run :mod:`course_lib.grading.guard` around instructor cells."""

    _guarded_kc: Any = None
    _guard_error: str | None = None
    _put_back: tuple[str, ...] = ()  # what was put back since the last test, for the next test's note

    async def _guard(self, call: str) -> dict:
        """Evaluate ``course_lib.grading.guard.<call>`` in the kernel, silently; return its JSON answer.

        A user expression of an empty, silent execution: nothing is shown, nothing enters
        the history, no IPython event fires, no notebook name is bound.
        """
        from jupyter_core.utils import ensure_async

        expression = f"__import__('course_lib.grading.guard', fromlist=['guard']).{call}"
        msg_id = await ensure_async(self.kc.execute(  # type: ignore[attr-defined]
            "", silent=True, store_history=False, stop_on_error=False,
            user_expressions={"guard": expression}))
        reply = await self.async_wait_for_reply(msg_id)  # type: ignore[attr-defined]
        if reply is None:
            return {"error": "the kernel did not answer"}
        result = reply["content"].get("user_expressions", {}).get("guard")
        if not result or result.get("status") != "ok":
            detail = f"{result.get('ename')}: {result.get('evalue')}" if result else "no answer"
            return {"error": detail}
        try:
            return json.loads(ast.literal_eval(result["data"]["text/plain"]))
        except (ValueError, SyntaxError, KeyError, TypeError) as exc:
            return {"error": f"an answer that is not the guard's: {exc}"}

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int, execution_count: int | None = None,
                                 store_history: bool = True) -> NotebookNode:
        runs = cell.cell_type == "code" and cell.source.strip() \
            and self.skip_cells_with_tag not in cell.metadata.get("tags", [])  # type: ignore[attr-defined]
        if runs and self._guarded_kc is not self.kc:  # type: ignore[attr-defined]
            self._guarded_kc = self.kc  # type: ignore[attr-defined]
            self._guard_error = (await self._guard("install()")).get("error")
            self._put_back = ()
        if not runs or not instructor_cell(cell):
            return await super().async_execute_cell(cell, cell_index, execution_count,  # type: ignore[misc]
                                                    store_history)
        before = await self._guard("before()") if self._guard_error is None else {}
        self._put_back += tuple(before.get("restored") or ())
        result = await super().async_execute_cell(cell, cell_index, execution_count,  # type: ignore[misc]
                                                  store_history)
        names = bound_names(cell.source)
        setup = not any(is_solution(c) for c in self.nb.cells[:cell_index])  # type: ignore[attr-defined]
        after = await self._guard(f"after({names!r}, setup={setup})") if self._guard_error is None else {}
        if is_grade(cell):
            self._report(cell, before, after)
            self._put_back = ()
        else:  # a sanity check's run changed the library: the next test says it was put back
            self._put_back += tuple(after.get("changed") or ())
        return result

    # nbconvert's ExecutePreprocessor (nbgrader's Execute) calls the synchronous execute_cell,
    # which nbclient binds to its own async_execute_cell when the class is made: bind ours.
    execute_cell = run_sync(async_execute_cell)

    def _report(self, cell: NotebookNode, before: dict, after: dict) -> None:
        """Write what the guard did into a graded cell: a note, or the error that fails it."""
        restored = list(dict.fromkeys(self._put_back))  # since the last test, each thing once
        if restored:
            cell.outputs.insert(0, NotebookNode(
                output_type="stream", name="stdout",
                text=f"[grader] before this test, what the cells since the last test changed was put "
                     f"back: {_listed(restored)}. Tests run against the course's own library.\n"))
        problem = None
        if self._guard_error is not None:
            problem = f"the grader could not watch the course library in this kernel: {self._guard_error}"
        elif before.get("error") or after.get("error"):
            problem = f"the grader could not check the course library: {before.get('error') or after.get('error')}"
        elif after.get("changed"):
            problem = (f"while this test ran, the code it called changed the course library: "
                       f"{_listed(after['changed'])} (put back). Tests run against the course's "
                       f"own library, so this test fails")
        if problem is not None:
            cell.outputs.append(NotebookNode(output_type="error", ename=TAMPERED, evalue=problem,
                                             traceback=[f"{TAMPERED}: {problem}"]))


class GuardedExecute(GuardedExecution, Execute):
    """nbgrader's ``Execute`` preprocessor, guarded: what ``nbgrader autograde`` runs (nbgrader_config.py)."""


class GuardedClient(GuardedExecution, NotebookClient):
    """nbclient's ``NotebookClient``, guarded: what ``make check`` runs.

    Like nbgrader's ``Execute``, a cell whose run failed but showed no error (its
    traceback display was switched off) gets the error from the kernel's reply.
    """

    def on_cell_executed(self, **kwargs: Any) -> None:  # an nbclient hook, as nbgrader's Execute has
        cell, reply = kwargs["cell"], kwargs["execute_reply"]
        content = reply["content"]
        if content["status"] == "error" and not any(
                o.get("output_type") == "error" and o.get("ename") == content.get("ename") for o in cell.outputs):
            cell.outputs.append(NotebookNode(
                output_type="error", ename=content.get("ename", "Error"), evalue=content.get("evalue", ""),
                traceback=content.get("traceback") or ["an error occurred while tracebacks were switched off"]))


def _cell_id(name: str, taken: set) -> str:
    """A cell id for a restored cell, from its grade id (ids allow letters, digits, - and _)."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", f"restored-{name}")[:56]
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


class RestoreCells(OverwriteCells):
    """nbgrader's ``OverwriteCells``, which also puts back every instructor cell a submission deleted.

    nbgrader restores edited test cells from the gradebook; with ``add_missing_cells``
    it would put back deleted test cells, but only after a graded or solution cell
    (after any other it stops with a KeyError), and a deleted setup or sanity cell
    (locked, not graded) stays deleted, so that a learner's own cell could bind the
    names the tests use. This puts back every deleted locked cell and every deleted
    test, where it was: after the source notebook's cell before it.
    """

    add_missing_cells = Bool(True, help="Put back deleted tests and other locked cells.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        nb, resources = super().preprocess(nb, resources)
        if self.add_missing_cells:
            with Gradebook(self.db_url) as gradebook:
                nb = self._add_missing_cells(nb, gradebook)
        return nb, resources

    def add_missing_grade_cells(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        return nb, resources  # done by _add_missing_cells, for every locked cell and test

    def _add_missing_cells(self, nb: NotebookNode, gradebook: Gradebook) -> NotebookNode:
        notebook = gradebook.find_notebook(self.notebook_id, self.assignment_id)
        points = {cell.name: cell.max_score for cell in notebook.grade_cells}
        solutions = {cell.name for cell in notebook.solution_cells}
        order = [cell.name for cell in notebook.source_cells]
        present = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                   if "grade_id" in c.metadata.get("nbgrader", {})}
        for position, cell in enumerate(notebook.source_cells):
            if cell.name in present or not (cell.locked or cell.name in points):
                continue
            self.log.warning("Missing cell %s: putting it back", cell.name)
            if cell.name in points:
                restored = self.missing_cell_transform(cell, points[cell.name],
                                                       is_solution=cell.name in solutions)
            else:
                restored = self._locked_cell(cell)
            if nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) >= 5:  # cells have ids
                restored["id"] = _cell_id(cell.name, {c.get("id") for c in nb.cells})
            earlier = [name for name in order[:position] if name in present]
            index = 0
            if earlier:
                index = 1 + max(i for i, c in enumerate(nb.cells)
                                if c.metadata.get("nbgrader", {}).get("grade_id") == earlier[-1])
            nb.cells.insert(index, restored)
            present.add(cell.name)
        return nb

    @staticmethod
    def _locked_cell(source: Any) -> NotebookNode:
        meta = {"nbgrader": {"grade": False, "grade_id": source.name, "locked": True,
                             "schema_version": 3, "solution": False, "task": False,
                             "checksum": source.checksum},
                "deletable": False, "editable": False}
        if source.cell_type == "code":
            return NotebookNode(cell_type="code", metadata=NotebookNode(meta), source=source.source,
                                outputs=[], execution_count=None)
        return NotebookNode(cell_type=source.cell_type, metadata=NotebookNode(meta), source=source.source)
