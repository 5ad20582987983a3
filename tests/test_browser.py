"""End to end: a new learner's JupyterLab on the course, in a real (headless Chromium) browser.

Executing notebooks with a kernel (nbval) proves the Python runs; these tests prove what a learner
sees: JupyterLab opens each lecture notebook, Run All Cells finishes without an error, widgets
render (the widget extension matches ipywidgets), a slider reaches the kernel and the picture
changes, and an exercise notebook has nbgrader's Validate button.

All tests share one server, one browser and one JupyterLab tab (module-scoped fixtures;
``--dist loadscope`` keeps the file on one xdist worker): JupyterLab loads once, and each notebook
is opened in it with File → Open from Path…, then closed with its kernel. Notebooks are opened as
copies under ``artifacts/browser-tmp/`` because JupyterLab autosaves into the file it shows.
Screenshots, the server log and timings go to ``artifacts/browser/``.

Needs Debian's Chromium (``apt-get install -y chromium``). ``COURSE_SKIP_BROWSER=1`` skips, loudly,
for contributors without root; CI must never set it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from browser_support import (CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT, REPO, VENV, LabPage, LabServer,
                             copy_into, fresh_user_env)

LECTURES = sorted((REPO / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((REPO / "exercises").glob("*/*.ipynb"))
ARTIFACTS = REPO / "artifacts" / "browser"
RUN_ALL_TIMEOUT_MS = 150_000
SLIDER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium, or a failure saying how to install it (a skip only when asked to)."""
    if os.environ.get("COURSE_SKIP_BROWSER") == "1":
        reason = ("COURSE_SKIP_BROWSER=1: the JupyterLab browser tests did NOT run; "
                  "nothing checked what a learner sees. CI must not set this.")
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no browser: {INSTALL_HINT}", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="module")
def workdir():
    """A folder inside the served root (git-ignored) for this run's notebook copies."""
    folder = REPO / "artifacts" / "browser-tmp" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()  # only if no concurrent run still uses it
    except OSError:
        pass


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """artifacts/browser/, emptied of the last run's screenshots, log and timings."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in [*ARTIFACTS.glob("*.png"), ARTIFACTS / "timings.json",
                  ARTIFACTS / "jupyter-server.log"]:
        stale.unlink(missing_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def lab(chromium, artifacts, tmp_path_factory):
    """The course's JupyterLab, started as `make lab` does, for a fresh temporary user."""
    if not (VENV / "bin/jupyter").exists():
        pytest.fail(f"{VENV}/bin/jupyter is missing: run `make setup` first", pytrace=False)
    server = LabServer(tmp_path_factory.mktemp("learner-home"), artifacts / "jupyter-server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_context(chromium, tmp_path_factory):
    """Headless Chromium with an empty profile; never a browser download."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(chromium),
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def timings(artifacts):
    """Wall time per notebook, written to artifacts/browser/timings.json at the end."""
    times: dict[str, float] = {}
    yield times
    (artifacts / "timings.json").write_text(json.dumps(times, indent=2) + "\n")


@contextmanager
def screenshots(lab_page: LabPage, name: str):
    """Save a screenshot at the end, and another one if the body fails."""
    try:
        yield
    except BaseException:
        try:
            lab_page.screenshot(ARTIFACTS / f"{name}-failure.png")
        finally:
            raise
    lab_page.screenshot(ARTIFACTS / f"{name}.png")


@pytest.fixture(scope="module")
def lab_tab(lab, browser_context):
    """One JupyterLab tab for the whole file: the application loads once, notebooks open inside it."""
    lab.forget_workspaces()  # the tab starts with no notebook open
    page = browser_context.new_page()
    tab = LabPage(page, lab)
    tab.boot()
    yield tab
    page.close()


@pytest.fixture
def lab_page(lab_tab, lab, workdir):
    """The JupyterLab tab, with no notebook open and no dialog; the test's notebook is closed
    and its kernel shut down afterwards. After a failure the tab loads JupyterLab afresh, so
    that what a failed test left behind (a dialog, a busy kernel) cannot fail the next one."""
    assert not lab_tab.dialogs(), f"a dialog is open before the test: {lab_tab.dialogs()}"
    clean = False
    try:
        yield lab_tab
        lab_tab.close()
        clean = not lab_tab.dialogs()
    finally:
        lab_tab.panel = None
        lab.shutdown_kernels_under(workdir.relative_to(REPO).as_posix())
        if not clean:
            lab.forget_workspaces()
            lab_tab.boot()


def test_fresh_user_finds_the_course_kernel(tmp_path):
    """With an empty JUPYTER_DATA_DIR, `python3` is still the venv's kernel via sys.prefix."""
    env = fresh_user_env(tmp_path)
    listing = subprocess.run([str(VENV / "bin/jupyter"), "kernelspec", "list", "--json"], env=env,
                             capture_output=True, text=True, check=True, cwd=REPO)
    specs = json.loads(listing.stdout)["kernelspecs"]
    assert "python3" in specs, f"no python3 kernel for a fresh user: {sorted(specs)}"
    resource_dir = Path(specs["python3"]["resource_dir"]).resolve()
    assert resource_dir == (VENV / "share/jupyter/kernels/python3").resolve(), resource_dir
    # The spec says "python"; jupyter_client runs it as the server's own interpreter.
    probe = subprocess.run(
        [str(VENV / "bin/python"), "-c",
         "import sys; from jupyter_client.kernelspec import KernelSpecManager as K; "
         "from jupyter_client.manager import KernelManager as M; "
         "m = M(kernel_name='python3', kernel_spec_manager=K()); "
         "print(m.format_kernel_cmd()[0])"],
        env=env, capture_output=True, text=True, check=True, cwd=REPO)
    assert Path(probe.stdout.strip()).parent == (VENV / "bin"), probe.stdout


@pytest.mark.parametrize("notebook", LECTURES, ids=[nb.stem for nb in LECTURES])
def test_lecture_runs_in_jupyterlab(notebook, lab_page, workdir, timings):
    """A lecture notebook opens, runs all cells without error, and its widgets render and react."""
    started = time.monotonic()
    copy = copy_into(notebook, workdir / "lectures")
    with screenshots(lab_page, notebook.stem):
        lab_page.open(copy.relative_to(REPO).as_posix())
        lab_page.clear_outputs()

        outcome = lab_page.run_all(RUN_ALL_TIMEOUT_MS)
        assert outcome == "done" and not lab_page.error_outputs(), (
            f"{notebook.name}: Run All Cells ended with {outcome!r}:\n"
            + "\n---\n".join(lab_page.error_outputs()))
        assert not lab_page.widget_errors(), lab_page.widget_errors()

        widgets = lab_page.panel.locator(".jupyter-widgets")
        assert widgets.count() > 0, (
            f"{notebook.name}: no ipywidget rendered (the course asks every chapter for one "
            f"to explore); page errors: {lab_page.page_errors}")
        _move_a_slider(lab_page, notebook.name)

        assert not lab_page.error_outputs(), lab_page.error_outputs()
        assert not lab_page.widget_errors(), lab_page.widget_errors()
        _assert_no_news_prompt(lab_page)
    timings[notebook.name] = round(time.monotonic() - started, 1)


def _move_a_slider(lab_page: LabPage, name: str) -> None:
    """Press ArrowRight on the first slider; its value and the picture beside it must change."""
    moved = lab_page.move_first_slider(presses=3, timeout_ms=SLIDER_TIMEOUT_MS)
    if moved is None:
        warnings.warn(f"{name}: widgets but no slider; only rendering was checked", stacklevel=2)
        return
    before, after = moved
    assert before != after, f"{name}: ArrowRight left the slider at {before}"


def _assert_no_news_prompt(lab_page: LabPage) -> None:
    """JupyterLab 4 asks new users about news; the Makefile disables that for the course."""
    toasts = lab_page.page.locator(".Toastify__toast").all_inner_texts()
    assert not [t for t in toasts if "news" in t.lower()], f"news prompt shown: {toasts}"


def test_exercise_notebook_has_validate_button(lab_page, workdir, timings):
    """An exercise notebook shows nbgrader's Validate button in its toolbar."""
    from playwright.sync_api import expect

    started = time.monotonic()
    if EXERCISES:
        copy = copy_into(EXERCISES[0], workdir / "exercises" / EXERCISES[0].parent.name)
    else:
        warnings.warn("no exercises/*/*.ipynb yet: checking a stand-in nbgrader notebook", stacklevel=2)
        copy = _stand_in_exercise(workdir / "exercises" / "stand_in" / "stand_in.ipynb")
    with screenshots(lab_page, f"exercise-{copy.stem}"):
        lab_page.open(copy.relative_to(REPO).as_posix())
        validate = lab_page.panel.locator(".jp-NotebookPanel-toolbar .validate-button")
        expect(validate).to_be_visible(timeout=30_000)
        expect(validate).to_have_text("Validate")
        _assert_no_news_prompt(lab_page)
    timings[f"exercise:{copy.name}"] = round(time.monotonic() - started, 1)


def _stand_in_exercise(path: Path) -> Path:
    """Write a minimal nbgrader-style notebook (one solution cell, one graded test)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}})
    nb.cells = [
        nbformat.v4.new_code_cell("def double(x):\n    raise NotImplementedError()", metadata={
            "nbgrader": {"grade": False, "grade_id": "double", "locked": False,
                         "schema_version": 3, "solution": True, "task": False}}),
        nbformat.v4.new_code_cell("assert double(2) == 4", metadata={
            "nbgrader": {"grade": True, "grade_id": "double_test", "locked": True, "points": 1,
                         "schema_version": 3, "solution": False, "task": False}}),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
