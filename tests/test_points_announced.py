"""The points each assignment announces for its parts (in its first cell) add up to what its tests are worth."""

from __future__ import annotations

import pathlib
import re

import nbformat
import pytest

SOLUTIONS = pathlib.Path(__file__).resolve().parent.parent / "solutions"
NOTEBOOKS = sorted(SOLUTIONS.glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_announced_points_add_up(path):
    nb = nbformat.read(str(path), as_version=4)
    worth = sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade"))
    announced = [int(n) for n in re.findall(r"\((\d+) points?\)", nb.cells[0].source)]
    assert announced, f"{path.name}: the first cell announces no part's points"
    assert sum(announced) == worth, (f"{path.name}: the parts announce {announced} points "
                                     f"(sum {sum(announced)}); the graded cells are worth {worth}")
