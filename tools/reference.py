"""Load an exercise's reference solution from its solutions/ notebook, for the project's own use.

Tests, benchmarks and recorders need the reference classes (the answer lives
only in ``solutions/``), so they execute the notebook's cells instead of
keeping a copy: ``load_reference("03b_raft", cells=("setup", "raft"))``.
"""

from __future__ import annotations

import pathlib
import re
from typing import Iterable

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
_MARKER = re.compile(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)")


def load_reference(assignment: str, cells: Iterable[str] | None = None) -> dict:
    """Execute the named cells (grade ids; default: every solution cell) in order; return the namespace.

    Raises:
        FileNotFoundError: the assignment has no source notebook.
        KeyError: a named cell does not exist.
    """
    path = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"assignment={assignment!r}: no {path}")
    nb = nbformat.read(str(path), as_version=4)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    wanted = [g for g, c in by_id.items() if c.metadata["nbgrader"].get("solution")] \
        if cells is None else list(cells)
    missing = [g for g in wanted if g not in by_id]
    if missing:
        raise KeyError(f"cells={missing!r} are not cells of {path.name}; it has {sorted(by_id)}")
    namespace: dict = {}
    for grade_id in [g for g in by_id if g in wanted]:  # notebook order
        source = "\n".join(line for line in by_id[grade_id].source.splitlines()
                           if not _MARKER.search(line))
        exec(compile(source, f"{path.name}:{grade_id}", "exec"), namespace)
    return namespace
