"""Each lecture is a MyST markdown source paired with its executed notebook, and the two agree.

notebooks/<name>.md is what contributors edit; notebooks/<name>.ipynb is what learners open and
nbval checks. Jupytext pairs them (notebooks/jupytext.toml) and `make notebooks` syncs them. These
tests read both files with jupytext's own reader, as the pairing does, and fail when a pair is
incomplete or stale. The last tests break copies of a pair in tmp_path to show that the checks can
go red.
"""

from __future__ import annotations

import pathlib
import shutil

import jupytext
import nbformat
import pytest
from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file
from jupytext.formats import long_form_multiple_formats

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
FIX = "run `make notebooks` (or `jupytext --sync` on the file you edited last)"


def lecture_names(directory: pathlib.Path) -> tuple[list[str], list[str]]:
    """Return the stems of the lectures that have an .ipynb and of those that have an .md."""
    return (sorted(p.stem for p in directory.glob("*.ipynb")),
            sorted(p.stem for p in directory.glob("*.md")))


def unpaired(directory: pathlib.Path) -> list[str]:
    """Return one line per lecture file of ``directory`` that lacks its partner."""
    ipynbs, mds = lecture_names(directory)
    return ([f"{name}.ipynb has no {name}.md" for name in ipynbs if name not in mds]
            + [f"{name}.md has no {name}.ipynb" for name in mds if name not in ipynbs])


def disagreements(md: pathlib.Path, ipynb: pathlib.Path) -> list[str]:
    """Return one line per difference in cell count, types, sources or tags between a pair."""
    source = jupytext.read(md, fmt="md:myst")
    executed = jupytext.read(ipynb)
    problems = []
    if len(source.cells) != len(executed.cells):
        problems.append(f"{md.name} has {len(source.cells)} cells, "
                        f"{ipynb.name} has {len(executed.cells)}")
    for index, (a, b) in enumerate(zip(source.cells, executed.cells)):
        first_line = b.source.splitlines()[0][:60] if b.source else ""
        where = f"cell {index} ({b.cell_type} {first_line!r})"
        if a.cell_type != b.cell_type:
            problems.append(f"{where}: {a.cell_type} in {md.name}, {b.cell_type} in {ipynb.name}")
        if a.source != b.source:
            problems.append(f"{where}: the source differs between {md.name} and {ipynb.name}")
        tags_a, tags_b = a.metadata.get("tags", []), b.metadata.get("tags", [])
        if tags_a != tags_b:
            problems.append(f"{where}: tags {tags_a} in {md.name}, {tags_b} in {ipynb.name}")
    return problems


def volatile_metadata(ipynb: pathlib.Path) -> list[str]:
    """Return one line per cell of ``ipynb`` that records execution timings."""
    return [f"{ipynb.name} cell {index} has metadata {key!r}"
            for index, cell in enumerate(jupytext.read(ipynb).cells)
            for key in ("execution", "ExecuteTime") if key in cell.metadata]


IPYNBS, MDS = lecture_names(NOTEBOOKS)


def test_there_are_lectures():
    """notebooks/ holds lecture notebooks (a wrong path would make every other test vacuous)."""
    assert IPYNBS, f"no .ipynb in {NOTEBOOKS}"


def test_jupytext_pairs_the_lectures_as_myst():
    """The Jupytext configuration that governs notebooks/ pairs each .ipynb with a MyST .md.

    The CLI, `make notebooks` and JupyterLab's Jupytext extension all find it there.
    """
    path = find_jupytext_configuration_file(str(NOTEBOOKS))
    assert path, f"no jupytext configuration applies to {NOTEBOOKS}"
    formats = load_jupytext_configuration_file(path).default_formats(str(NOTEBOOKS / "any.ipynb"))
    assert long_form_multiple_formats(formats) == long_form_multiple_formats("ipynb,md:myst"), (
        f"{path} pairs the lectures as {formats!r}")


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_assignments_are_not_paired(folder):
    """No Jupytext configuration of the repository reaches solutions/ or exercises/.

    The pairing lives in notebooks/jupytext.toml, not at the root, so that saving an assignment
    in JupyterLab writes no .md next to it (a configuration outside the clone is the user's own).
    """
    found = find_jupytext_configuration_file(str(NOTEBOOKS.parent / folder))
    assert found is None or NOTEBOOKS.parent not in pathlib.Path(found).parents, (
        f"{found} pairs the notebooks of {folder}/")


def test_every_lecture_notebook_has_its_source_and_back():
    """Each notebooks/<name>.ipynb has a notebooks/<name>.md, and each .md has its .ipynb."""
    missing = unpaired(NOTEBOOKS)
    assert not missing, "\n".join(missing) + f"\n{FIX}"


@pytest.mark.parametrize("name", sorted(set(IPYNBS) & set(MDS)))
def test_lecture_source_and_notebook_agree(name):
    """A lecture's .md and .ipynb have the same cells: types, sources and tags, in order."""
    problems = disagreements(NOTEBOOKS / f"{name}.md", NOTEBOOKS / f"{name}.ipynb")
    assert not problems, "\n".join(problems[:10]) + f"\n{FIX}"


@pytest.mark.parametrize("name", IPYNBS)
def test_lecture_notebook_records_no_execution_timings(name):
    """A committed lecture notebook keeps no execution timings, which change on every run."""
    problems = volatile_metadata(NOTEBOOKS / f"{name}.ipynb")
    assert not problems, "\n".join(problems[:10]) + f"\n{FIX}"


# The checks can fail: each test below breaks a copy of a real pair and expects a report.

@pytest.fixture
def pair(tmp_path):
    """A copy of the first lecture's pair in tmp_path."""
    name = IPYNBS[0]
    for suffix in (".md", ".ipynb"):
        shutil.copy(NOTEBOOKS / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.md", tmp_path / f"{name}.ipynb"


def test_an_intact_copy_agrees(pair):
    """An unmodified copy of a pair passes, so the reports below come from the edits alone."""
    assert disagreements(*pair) == [] and unpaired(pair[0].parent) == []


def test_a_source_edited_without_syncing_is_reported(pair):
    """Editing a line of code in the .md and not re-syncing makes the pair disagree."""
    md, ipynb = pair
    text = md.read_text()
    assert "SEED = " in text
    md.write_text(text.replace("SEED = ", "SEED = 1 + ", 1))
    assert any("source differs" in p for p in disagreements(md, ipynb))


def test_a_removed_tag_is_reported(pair):
    """Dropping `nbval-ignore-output` from a cell of the .md makes the pair disagree."""
    md, ipynb = pair
    text = md.read_text()
    assert ":tags: [nbval-ignore-output]\n" in text
    md.write_text(text.replace(":tags: [nbval-ignore-output]\n", "", 1))
    assert any("tags" in p for p in disagreements(md, ipynb))


def test_a_cell_added_to_the_notebook_only_is_reported(pair):
    """A cell added in JupyterLab without the Jupytext extension makes the pair disagree."""
    md, ipynb = pair
    notebook = jupytext.read(ipynb)
    notebook.cells.append(nbformat.v4.new_code_cell("print('new')"))
    jupytext.write(notebook, ipynb)
    assert any("cells" in p for p in disagreements(md, ipynb))


def test_a_cell_type_changed_is_reported(pair):
    """Turning a code cell of the .ipynb into markdown makes the pair disagree."""
    md, ipynb = pair
    notebook = jupytext.read(ipynb)
    index = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells[index] = nbformat.v4.new_markdown_cell(notebook.cells[index].source)
    jupytext.write(notebook, ipynb)
    expected = f"code in {md.name}, markdown in {ipynb.name}"
    assert any(expected in p for p in disagreements(md, ipynb))


def test_a_missing_partner_is_reported(pair):
    """A lecture with only its .ipynb, or only its .md, is reported by name."""
    md, ipynb = pair
    md.unlink()
    assert unpaired(ipynb.parent) == [f"{ipynb.stem}.ipynb has no {md.name}"]
    md.write_text("# a new lecture\n")
    ipynb.unlink()
    assert unpaired(md.parent) == [f"{md.name} has no {ipynb.name}"]


def test_execution_timings_are_reported(pair):
    """A notebook saved with nbclient's execution timings in a cell's metadata is reported."""
    _, ipynb = pair
    notebook = jupytext.read(ipynb)
    notebook.cells[0].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    jupytext.write(notebook, ipynb)
    assert volatile_metadata(ipynb) == [f"{ipynb.name} cell 0 has metadata 'execution'"]
