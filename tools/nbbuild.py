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
