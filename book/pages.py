"""The site's sources, made from the files present: what Sphinx reads for `make book`.

``stage(srcdir)`` writes, under ``srcdir`` (``_build/src``), every page of the site:

- ``index.md``, the landing page: ``book/index.md`` with the chapter table (the README's
  "Chapters" table with links to the pages, a page it does not name yet linked in its chapter's
  row or a new one) and the hidden tables of contents, one entry per lecture and per exercise
  found on disk;
- ``instructors.md``: ``book/instructors.md`` with the README's "Teaching with nbgrader" section;
- ``notebooks/<name>.ipynb``, every executed lecture, and ``exercises/<a>/<a>.ipynb``, every
  learner's release (never ``solutions/``), each with a note under its title, and with each
  widget replaced by its static state (the picture it showed, and its controls' values), so
  pages need no widget JavaScript from elsewhere and read offline.

The layout under ``srcdir`` is the repository's, so the lectures' relative links
(``../exercises/02_clocks/02_clocks.ipynb``, ``03b_raft.ipynb``) are links between pages. Files
are rewritten only when their content changes, so Sphinx rebuilds only the pages that changed.
A new lecture or exercise needs no edit here: it is found, put in the table of contents and
given its note.
"""

from __future__ import annotations

import copy
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BOOK = Path(__file__).resolve().parent
REPO = BOOK.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
LAB_NOTE = ("Its widgets show their first state here (the picture, and the controls' values); they "
            "come alive in JupyterLab: run `make lab`, open the notebook, and moving a control re-runs "
            "the simulation.")


@dataclass(frozen=True)
class Page:
    """One notebook of the site: where it is in the repository, its chapter and its title."""

    path: Path      # relative to the repository, e.g. notebooks/00_welcome.ipynb
    chapter: str    # 00, 03a, ...: the file name up to its first underscore
    title: str      # the notebook's first level-1 heading

    @property
    def docname(self) -> str:
        return self.path.with_suffix("").as_posix()


def _title_line(lines: list[str]) -> int | None:
    """The index of the first level-1 heading among a markdown cell's lines (not in code)."""
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("# "):
            return i
    return None


def _title(nb: nbformat.NotebookNode, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            i = _title_line(lines)
            if i is not None:
                return lines[i][2:].strip()
    raise ValueError(f"{path}: no level-1 heading ('# Title') in any markdown cell; the site "
                     "needs one as the page's title")


def _page(repo: Path, path: Path) -> Page:
    nb = nbformat.read(path, as_version=4)
    return Page(path.relative_to(repo), path.stem.split("_", 1)[0], _title(nb, path))


def lectures(repo: Path = REPO) -> list[Page]:
    """Every lecture notebook present (``notebooks/*.ipynb``), in file-name order."""
    return [_page(repo, p) for p in sorted((repo / "notebooks").glob("*.ipynb"))]


def exercises(repo: Path = REPO) -> list[Page]:
    """Every learner's release present (``exercises/*/*.ipynb``), in file-name order."""
    return [_page(repo, p) for p in sorted((repo / "exercises").glob("*/*.ipynb"))]


# -- the README's sections -------------------------------------------------------------------------

def readme_section(title: str, repo: Path = REPO) -> str:
    """The body of the README's level-2 section ``title`` (up to the next level-2 heading)."""
    text = (repo / "README.md").read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not match:
        raise ValueError(f"README.md has no '## {title}' section, which the site shows")
    return match.group(1).strip() + "\n"


def chapter_table(repo: Path = REPO) -> str:
    """The README's chapter table, names linked to their pages, and every page in it.

    In the README's rows a lecture or an exercise is named in backquotes (`` `00_welcome` ``);
    each name with a page becomes a link to it titled by the notebook. A page the table does not
    name yet is linked in the row of its chapter (in front of the row's text, or instead of
    "planned"), or in a row of its own, so that every page is on the landing page.
    """
    body = readme_section("Chapters", repo)
    lines = [line for line in body.splitlines() if line.startswith("|")]
    if len(lines) < 3:
        raise ValueError("README.md's Chapters section has no table (| # | lecture | exercise |)")
    kinds = {1: {p.path.stem: p for p in lectures(repo)},
             2: {p.path.parent.name: p for p in exercises(repo)}}
    named: set[Page] = set()

    def link(page: Page) -> str:
        return f"[{page.title}](<{page.path.as_posix()}>)"

    def link_names(cell: str, pages: dict[str, Page]) -> str:
        def replace(match: re.Match) -> str:
            page = pages.get(match.group(1))
            if page is None:
                return match.group(0)
            named.add(page)
            return link(page)
        return re.sub(r"`([0-9][0-9a-z]*_[A-Za-z0-9_]+)`", replace, cell)

    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            raise ValueError(f"README.md's chapter table: a row without 3 columns: {line!r}")
        rows.append([cells[0], *(link_names(cells[i], kinds[i]) for i in (1, 2))])
    for column, pages in kinds.items():
        for page in pages.values():
            if page in named:
                continue
            row = next((r for r in rows if r[0] == page.chapter), None)
            if row is None:
                row = [page.chapter, "not yet", "not yet"]
                rows.append(row)
            text = row[column]
            row[column] = link(page) if text in ("planned", "not yet", "") else f"{link(page)}: {text}"
    rows.sort(key=lambda row: row[0])
    return "\n".join([*lines[:2], *("| " + " | ".join(row) + " |" for row in rows)]) + "\n"


def toctrees(repo: Path = REPO) -> str:
    """The site's tables of contents: every lecture, every exercise, the instructors' page."""
    def tree(caption: str, docnames: list[str]) -> str:
        entries = "\n".join(docnames)
        return f"```{{toctree}}\n:caption: {caption}\n:hidden:\n:maxdepth: 1\n\n{entries}\n```\n"
    return "\n".join([
        tree("Lectures", [p.docname for p in lectures(repo)]),
        tree("Exercises", [p.docname for p in exercises(repo)]),
        tree("Teaching", ["instructors"]),
    ])


# -- notebooks as pages ----------------------------------------------------------------------------

def _note(repo: Path, page: Page, kind: str) -> str:
    path = page.path.as_posix()
    if kind == "lecture":
        return (f"```{{note}}\nThis page is the lecture notebook `{path}`, shown as it ran. "
                f"{LAB_NOTE}\n```\n")
    assignment = page.path.parent.name
    lecture = next((p for p in lectures(repo) if p.chapter == page.chapter), None)
    read_first = (f"It builds on the lecture [{lecture.title}](<../../{lecture.path.as_posix()}>). "
                  if lecture else "")
    return (f"```{{admonition}} To work on this exercise\n:class: tip\n"
            f"This page is the learner's release `{path}`, to read. {read_first}To solve it, clone the "
            f"course, run `make lab` and open that notebook: write your code where it says "
            f"`# YOUR CODE HERE` and run its visible tests as you go. Check your answers with the "
            f"notebook's **Validate** button or, in a terminal, `make check "
            f"ASSIGNMENT={assignment}`: every graded test is reported with its points, and a "
            f"failing one with its seed and a line that replays it. Graders also run hidden "
            f"tests, so passing the visible ones is not the whole grade. Widgets, where the "
            f"exercise has any, come alive in JupyterLab.\n```\n")


def _with_note(nb: nbformat.NotebookNode, note: str) -> None:
    """Put ``note`` right under the notebook's title (its first level-1 heading)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        i = _title_line(lines)
        if i is not None:
            cell.source = "\n".join([*lines[:i + 1], "", note, *lines[i + 1:]])
            return


def _controls(model: dict) -> str | None:
    """One control's description and value, as text, or None if the model is no control."""
    state = model.get("state", {})
    name = model.get("model_name", "")
    if "value" not in state and "index" not in state:
        return None
    label = state.get("description") or name.removesuffix("Model")
    if "_options_labels" in state and state.get("index") is not None:
        value = state["_options_labels"][state["index"]]
    else:
        value = state.get("value")
    if isinstance(value, list):
        value = " to ".join(map(str, value))
    return f"{label} = {value}"


def _static_widget(model_id: str, models: dict) -> list[dict]:
    """The outputs that show a widget's saved state: its controls' values, then its outputs."""
    controls: list[str] = []
    outputs: list[dict] = []

    def visit(mid: str) -> None:
        model = models.get(mid)
        if model is None:
            return
        state = model.get("state", {})
        if model.get("model_name") == "OutputModel":
            outputs.extend(copy.deepcopy(state.get("outputs", [])))
        text = _controls(model)
        if text is not None:
            controls.append(text)
        for child in state.get("children", []):
            if isinstance(child, str) and child.startswith("IPY_MODEL_"):
                visit(child[len("IPY_MODEL_"):])

    visit(model_id)
    shown = []
    if controls:
        items = "".join(f"<code>{html.escape(c)}</code> " for c in controls)
        shown.append(nbformat.v4.new_output("display_data", data={"text/html": (
            f'<p class="course-widget-controls">Controls, live in JupyterLab: {items}</p>')}))
    return shown + [nbformat.from_dict(o) for o in outputs]


def static_widgets(nb: nbformat.NotebookNode) -> None:
    """Replace every widget output by its saved state, and drop the notebook's widget state."""
    saved = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {})
    models = saved.get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new_outputs = []
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                new_outputs.append(output)
                continue
            model_id = data[WIDGET_VIEW].get("model_id", "")
            if model_id in models:
                new_outputs.extend(_static_widget(model_id, models))
            else:  # no saved state: keep what the notebook has besides the widget
                rest = {k: v for k, v in data.items() if k != WIDGET_VIEW}
                if rest:
                    new_outputs.append(nbformat.from_dict(dict(output, data=rest)))
        cell.outputs = new_outputs


def page_notebook(repo: Path, page: Page, kind: str) -> str:
    """The notebook of ``page`` as the site shows it (note under the title, static widgets)."""
    nb = nbformat.read(repo / page.path, as_version=4)
    _with_note(nb, _note(repo, page, kind))
    static_widgets(nb)
    return nbformat.writes(nb)


# -- staging ---------------------------------------------------------------------------------------

def _write(path: Path, text: str, written: set[Path]) -> None:
    written.add(path)
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _fill(template: str, **parts: str) -> str:
    for name, text in parts.items():
        marker = f"<!-- {name} -->"
        if marker not in template:
            raise ValueError(f"book template lacks the marker {marker}")
        template = template.replace(marker, text.rstrip("\n"))
    return template


def stage(srcdir: Path, repo: Path = REPO) -> list[Path]:
    """Write the site's sources under ``srcdir``; delete what a removed notebook left there.

    Returns the files written (all of the site's sources), relative to ``srcdir``.
    """
    written: set[Path] = set()
    _write(srcdir / "index.md", _fill(
        (BOOK / "index.md").read_text(), CHAPTERS=chapter_table(repo), TOCTREES=toctrees(repo),
        SELF_STUDY=readme_section("Self-study", repo)), written)
    teaching = readme_section("Teaching with nbgrader", repo)
    _write(srcdir / "instructors.md", _fill((BOOK / "instructors.md").read_text(),
                                            TEACHING=teaching), written)
    for kind, pages in (("lecture", lectures(repo)), ("exercise", exercises(repo))):
        for page in pages:
            _write(srcdir / page.path, page_notebook(repo, page, kind), written)
    for stale in [*srcdir.rglob("*.md"), *srcdir.rglob("*.ipynb")]:
        if stale not in written:
            stale.unlink()
    return sorted(p.relative_to(srcdir) for p in written)


def site_pages(repo: Path = REPO) -> dict[str, str]:
    """Every page the site must have: its HTML path (relative to the site) and its title."""
    pages = {"index.html": "", "instructors.html": ""}
    for page in [*lectures(repo), *exercises(repo)]:
        pages[page.path.with_suffix(".html").as_posix()] = page.title
    return pages


if __name__ == "__main__":  # print the chapter table the landing page shows
    print(json.dumps(site_pages(), indent=2))
    print(chapter_table())
