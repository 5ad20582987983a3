"""Build a notebook from a list of (kind, source[, tags]) cells and execute it in place.

Used by contributors to regenerate a lecture notebook from its build script
(``tools/build_<notebook>.py``); the committed ``.ipynb`` is what learners and
nbval see. Cell ids are derived from the cell's position and notebook name so
rebuilding gives the same file.
"""

from __future__ import annotations

import hashlib
import pathlib
import sys

import nbformat
from nbclient import NotebookClient

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def build(path: str | pathlib.Path, cells: list[tuple], execute: bool = True, timeout: int = 600) -> None:
    """Write the notebook at ``path`` from ``cells`` and (by default) execute it in place."""
    path = pathlib.Path(path)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(cells):
        kind, source, *rest = cell
        tags = rest[0] if rest else []
        source = source.strip("\n")
        if kind == "md":
            c = nbformat.v4.new_markdown_cell(source)
        elif kind == "code":
            c = nbformat.v4.new_code_cell(source)
        else:
            raise ValueError(f"cells[{index}] kind={kind!r} must be 'md' or 'code'")
        if tags:
            c.metadata["tags"] = list(tags)
        c.id = hashlib.sha1(f"{path.stem}:{index}".encode()).hexdigest()[:12]
        nb.cells.append(c)
    if execute:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
        for c in nb.cells:  # execution timings are noise in a diff
            c.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
    print(f"wrote {path}", file=sys.stderr)


def build_assignment(path: str | pathlib.Path, cells: list[tuple]) -> None:
    """Write an nbgrader *source* notebook: cell metadata from ``cells``, no outputs.

    Each cell is ``(kind, source)`` for plain markdown or code, or
    ``(kind, source, spec)`` where ``spec`` has ``id`` (the grade id) and any of
    ``solution``, ``grade``, ``points``, ``locked`` (nbgrader's cell types:
    a solution cell, a graded test cell with points, or a locked read-only cell).
    """
    path = pathlib.Path(path)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        kind, source, *rest = cell
        spec = rest[0] if rest else None
        source = source.strip("\n")
        c = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        if kind not in ("md", "code"):
            raise ValueError(f"cells[{index}] kind={kind!r} must be 'md' or 'code'")
        c.id = hashlib.sha1(f"{path.stem}:{index}".encode()).hexdigest()[:12]
        if spec:
            grade_id = spec["id"]
            if grade_id in seen:
                raise ValueError(f"cells[{index}] grade id {grade_id!r} is used twice")
            seen.add(grade_id)
            meta = {"grade": bool(spec.get("grade", False)), "grade_id": grade_id,
                    "locked": bool(spec.get("locked", spec.get("grade", False))),
                    "schema_version": 3, "solution": bool(spec.get("solution", False)),
                    "task": False}
            if meta["grade"]:
                meta["points"] = spec["points"]
            c.metadata["nbgrader"] = meta
            if meta["locked"]:
                c.metadata["deletable"] = False
                c.metadata["editable"] = False
        nb.cells.append(c)
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    print(f"wrote {path}", file=sys.stderr)
