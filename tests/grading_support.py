"""Shared machinery of the grading-pipeline tests: assignments, patches, nbgrader runs."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat

from course_lib.grading.classroom import nbgrader_command

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
WRONG = ROOT / "tests" / "wrong"
BIN = pathlib.Path(sys.executable).parent


def assignments() -> list[str]:
    """Every assignment of the course: the folders of solutions/."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and not p.name.startswith("."))


def notebooks(assignment: str) -> list[pathlib.Path]:
    return sorted((SOLUTIONS / assignment).glob("*.ipynb"))


def env() -> dict[str, str]:
    """The environment for nbgrader commands: the venv first on PATH (nbgrader runs alembic)."""
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e.pop("JUPYTER_CONFIG_DIR", None)
    return e


def nbgrader(root: pathlib.Path, *args: str, check: bool = True, extra_env: dict | None = None,
             timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in course directory ``root``; fail loudly with its output.

    Started as ``make grade`` starts it (:func:`course_lib.grading.classroom.nbgrader_command`).
    """
    e = env()
    e.update(extra_env or {})
    proc = subprocess.run([*nbgrader_command(), *args], cwd=root, env=e, text=True,
                          capture_output=True, timeout=timeout)
    # nbgrader may exit 0 after failing an assignment (it only logs "There was an error
    # processing ..."); an interrupted cell is logged at ERROR level too, but is not a failure.
    failed = proc.returncode != 0 or "There was an error processing" in proc.stderr
    if check and failed:
        raise AssertionError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def make_course(tmp: pathlib.Path) -> pathlib.Path:
    """Copy the course's config and solutions/ into a fresh course directory ``tmp``."""
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    shutil.copytree(SOLUTIONS, tmp / "solutions")
    return tmp


# -- wrong implementations -----------------------------------------------------------------------

@dataclasses.dataclass
class WrongImplementation:
    """A plausible learner mistake: replacements inside one solution cell of the reference."""

    path: pathlib.Path
    description: str
    cell: str
    expect_fail: list[str]
    expect_only: bool
    timeout: int
    blocks: list[tuple[str, str]]

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"


_BLOCK = re.compile(r"<<<<<<< reference\n(.*?)=======\n(.*?)>>>>>>> wrong", re.S)


def load_wrong(path: pathlib.Path) -> WrongImplementation:
    text = path.read_text()
    header = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    fields = dict(line.split(": ", 1) for line in header[1:] if ": " in line)
    blocks = _BLOCK.findall(text)
    if not header or "cell" not in fields or not blocks:
        raise ValueError(f"{path}: needs a description line, '# cell: <grade id>' and at least one "
                         "<<<<<<< reference / ======= / >>>>>>> wrong block")
    expected = fields.get("expect-only") or fields.get("expect-fail") or ""
    return WrongImplementation(path, header[0], fields["cell"].strip(),
                               [x.strip() for x in expected.split(",") if x.strip()],
                               "expect-only" in fields, int(fields.get("timeout", 60)), blocks)


def wrong_implementations(assignment: str) -> list[WrongImplementation]:
    folder = WRONG / assignment
    return [load_wrong(p) for p in sorted(folder.glob("*.patch"))] if folder.is_dir() else []


def broken_case(assignment: str, kind: str) -> WrongImplementation | None:
    """The kept mistake of ``kind`` ('loop' or 'raise') that breaks only some tests, or None.

    The first of each kind per assignment (``# expect-only`` patches, a loop when its file name
    says so): test_autograde.py grades it with nbgrader's own autograde, which must finish and
    give every test it does not break its points.
    """
    cases = [w for w in wrong_implementations(assignment) if w.expect_only
             and (("loop" in w.path.stem) == (kind == "loop"))]
    return cases[0] if cases else None


def strip_markers(source: str) -> str:
    """Remove nbgrader's solution and hidden-test delimiter lines (comments) from a cell."""
    return "\n".join(line for line in source.splitlines()
                     if not re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", line))


def apply_wrong(nb: nbformat.NotebookNode, wrong: WrongImplementation) -> nbformat.NotebookNode:
    """Return a copy of the solution notebook with ``wrong`` applied to its cell."""
    nb = nbformat.from_dict(nb)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == wrong.cell]
    if len(cells) != 1:
        raise AssertionError(f"{wrong.path}: no solution cell with grade id {wrong.cell!r}")
    cell = cells[0]
    for reference, replacement in wrong.blocks:
        count = cell.source.count(reference)
        if count != 1:
            raise AssertionError(
                f"{wrong.path}: the reference text occurs {count} times in cell {wrong.cell!r} "
                f"(expected once); update the patch to the current reference:\n{reference}")
        cell.source = cell.source.replace(reference, replacement)
    return nb


def as_submission(release: pathlib.Path, source: pathlib.Path) -> nbformat.NotebookNode:
    """The released notebook with each solution cell answered as in ``source`` (markers removed)."""
    released = nbformat.read(str(release), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(str(source), as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = strip_markers(answers[meta["grade_id"]])
    return released


def gradebook_scores(root: pathlib.Path, assignment: str) -> dict[str, float]:
    """Total score of every student's submission of ``assignment`` in the course at ``root``."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(assignment)}


def max_score(assignment: str) -> float:
    total = 0.0
    for path in notebooks(assignment):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                total += float(meta.get("points", 0))
    return total


def region_lines(assignment: str, region: str) -> tuple[list[str], set[str]]:
    """Stripped code lines inside ``### BEGIN <region>`` / ``### END <region>``, and all other lines."""
    inside_lines, outside = [], set()
    for path in notebooks(assignment):
        for cell in nbformat.read(str(path), as_version=4).cells:
            inside = False
            for line in cell.source.splitlines():
                if f"### BEGIN {region}" in line:
                    inside = True
                elif f"### END {region}" in line:
                    inside = False
                elif inside:
                    inside_lines.append(line.strip())
                else:
                    outside.add(line.strip())
    return inside_lines, outside


def hidden_test_lines(assignment: str, min_length: int = 20) -> list[str]:
    """Code lines that exist only inside hidden-test regions (not also in visible code)."""
    hidden, visible = region_lines(assignment, "HIDDEN TESTS")
    return [line for line in hidden if len(line) >= min_length and line not in visible]


def solution_lines(assignment: str, min_length: int = 30) -> list[str]:
    """Distinctive code lines of the reference solutions (inside BEGIN/END SOLUTION)."""
    answer, given = region_lines(assignment, "SOLUTION")
    return [line for line in answer
            if len(line) >= min_length and not line.startswith("#") and line not in given]


def feedback_code_text(page: pathlib.Path, autograded: pathlib.Path) -> str:
    """The feedback page's text without the error messages of the autograded notebook.

    Error messages name the failing scenario, its seed and a replay line on
    purpose; what must never appear is hidden test *code*, so the messages are
    taken out before searching the page for it.
    """
    import html as html_module
    text = page.read_text()
    nb = nbformat.read(str(autograded), as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                for line in str(output.get("evalue", "")).splitlines():
                    text = text.replace(html_module.escape(line), "").replace(line, "")
    return text
