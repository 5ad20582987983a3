"""exercises/ is exactly what nbgrader generates from solutions/, and nothing leaks into it."""

from __future__ import annotations

import filecmp
import pathlib
import re

import nbformat
import pytest

from grading_support import (EXERCISES, ROOT, SOLUTIONS, assignments, hidden_test_lines,
                             make_course, nbgrader, notebooks, solution_lines)

ASSIGNMENTS = assignments()


def test_there_are_assignments():
    """The course has at least one assignment in solutions/."""
    assert ASSIGNMENTS, "solutions/ holds no assignment folder"


def test_exercises_has_no_assignment_that_solutions_lacks():
    """Every folder of exercises/ comes from a folder of solutions/."""
    released = sorted(p.name for p in EXERCISES.iterdir() if p.is_dir())
    assert released == ASSIGNMENTS, (
        f"exercises/ has {released} but solutions/ has {ASSIGNMENTS}: run `make exercises`")


@pytest.fixture(scope="module")
def generated_course(tmp_path_factory):
    """A temporary course where one ``nbgrader generate_assignment "*"`` released every assignment.

    One run for all: nbgrader's start-up (imports, the gradebook's migrations) costs more than
    generating an assignment, and it was paid once per assignment (~4 s of CPU each).
    """
    course = make_course(tmp_path_factory.mktemp("generated") / "course")
    nbgrader(course, "generate_assignment", "*", "--force")
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_are_generated_from_solutions(assignment, generated_course):
    """nbgrader generate_assignment, run on a copy, reproduces exercises/<assignment> byte for byte.

    The check works in a temporary course: it never touches exercises/, where a
    learner may have written answers.
    """
    generated = generated_course / "exercises" / assignment
    committed = EXERCISES / assignment
    gen_files = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file())
    com_files = sorted(p.relative_to(committed).as_posix() for p in committed.rglob("*")
                       if p.is_file() and ".ipynb_checkpoints" not in p.parts)
    assert gen_files == com_files, (
        f"exercises/{assignment} holds {com_files}, but solutions/ generates {gen_files}. "
        "Run `make exercises` (it refuses to overwrite uncommitted answers).")
    differ = [f for f in gen_files if not filecmp.cmp(generated / f, committed / f, shallow=False)]
    assert not differ, (
        f"exercises/{assignment}: {differ} differ from what solutions/{assignment} generates. "
        "Either solutions/ changed and exercises/ was not regenerated (run `make exercises`), "
        "or someone edited exercises/ directly (edit solutions/ instead). This test did not "
        "modify exercises/.")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebooks_are_saved_clean(assignment):
    """Solution notebooks have cell ids, no outputs and no execution counts (reproducible generation)."""
    for path in notebooks(assignment):
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec"
        for index, cell in enumerate(nb.cells):
            assert cell.get("id"), f"{path.name} cell {index} has no id"
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} cell {index} has outputs"
                assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"
                assert "execution" not in cell.metadata, f"{path.name} cell {index} has timing metadata"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cells_are_named_scored_and_explained(assignment):
    """Every graded cell has a unique grade id, positive points and a first line saying what it checks."""
    seen = set()
    for path in notebooks(assignment):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta:
                continue
            gid = meta["grade_id"]
            assert re.fullmatch(r"[a-z][a-z0-9_]*", gid), f"grade id {gid!r} should be snake_case"
            assert gid not in seen, f"grade id {gid!r} is used twice"
            seen.add(gid)
            if meta.get("grade"):
                assert meta.get("points", 0) > 0, f"{gid} has no points"
                assert cell.source.startswith("# Checks"), f"{gid}: first line must say what it checks"
                assert meta.get("locked"), f"{gid}: test cells must be locked"


def _notebook_text(path):
    """A notebook's cell sources and text outputs as the reader sees them: a line holding a quote or
    a backslash is escaped in the .ipynb's JSON and would never match there."""
    nb = nbformat.read(str(path), as_version=4)
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for kind in ("text/plain", "text/markdown", "text/html"):
                parts.append(out.get("data", {}).get(kind, ""))
    return "\n".join(part if isinstance(part, str) else "".join(part) for part in parts)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_answer_leaks(assignment):
    """Reference solutions and hidden tests appear only in solutions/: not in course_lib/, notebooks/ or exercises/."""
    places = list((ROOT / "course_lib").rglob("*.py")) + list((ROOT / "notebooks").glob("*.ipynb")) \
        + list(EXERCISES.rglob("*.ipynb"))
    texts = {p: _notebook_text(p) if p.suffix == ".ipynb" else p.read_text() for p in places}
    secret = solution_lines(assignment) + hidden_test_lines(assignment, min_length=30)
    assert secret, f"solutions/{assignment} has no solution or hidden-test code to protect?"
    leaks = [(str(p.relative_to(ROOT)), line) for line in secret for p, t in texts.items() if line in t]
    assert not leaks, f"answer or hidden-test lines found outside solutions/: {leaks[:5]}"
    for path in EXERCISES.rglob("*.ipynb"):
        assert not re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", path.read_text()), f"markers in {path}"


def test_solutions_folder_is_the_nbgrader_source():
    """nbgrader_config.py maps solutions/ to the source and exercises/ to the release directory."""
    text = (ROOT / "nbgrader_config.py").read_text()
    assert 'source_directory = "solutions"' in text
    assert 'release_directory = "exercises"' in text
    assert pathlib.Path(SOLUTIONS).is_dir() and pathlib.Path(EXERCISES).is_dir()
