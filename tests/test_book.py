"""The course's website (`make book`, book/): every page there, nothing leaked, pictures shown.

The site is built once per test session into a temporary folder (book/build.py's ``main``, what
`make book` runs, warnings as errors, in this process) and checked as files: a page per lecture and per
exercise, the landing page's commands and chapter table, no solution or hidden test anywhere in
the site (its text, its search index, its downloadable sources), every image present and
non-empty, every link between pages resolving, widgets as static state. A small made-up course
checks that a new chapter needs no edit to the book's configuration, and that a broken link
fails the build. Then headless Chromium (as in tests/test_browser.py) reads the site over
loopback HTTP: the landing page, a lecture whose figures must have a size, and the search page
answering for a word from a lecture; screenshots go to ``artifacts/book/``.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml

from browser_support import CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT, REPO
from grading_support import assignments, hidden_test_lines, notebooks, solution_lines


# One worker builds the site and runs every check on it (under `--dist loadgroup`, too).
pytestmark = pytest.mark.xdist_group("book")
ARTIFACTS = REPO / "artifacts" / "book"
TIMINGS: dict[str, float] = {}
# A word the search page must find in a lecture.
SEARCH_WORD = "Lamport"
TEXT_SUFFIXES = {".html", ".js", ".txt", ".ipynb", ".json", ".md", ".inv", ".css"}


@functools.cache
def _book_build():
    """book/build.py as a module, loaded on first use (Sphinx takes seconds to import)."""
    spec = importlib.util.spec_from_file_location("course_book_build", REPO / "book/build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_pages():
    """book/pages.py, what the site is made of, as book/build.py loads it."""
    name = "course_book_pages"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "book/pages.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


pages = _load_pages()


def build(out: Path, repo: Path = REPO) -> tuple[int, str]:
    """Build as `make book` does (book/build.py's main, in this process: Sphinx is imported once)
    into ``out``, staged sources and cache beside it; return its exit status and its output."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output), warnings.catch_warnings():
        # The theme and the MyST parser still use Sphinx APIs deprecated for Sphinx 11: theirs to mend.
        warnings.filterwarnings("ignore", message=r".* is deprecated\. Check CHANGES for Sphinx API")
        status = _book_build().main(["--out", str(out), "--repo", str(repo)])
    return status, output.getvalue()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The course's site, built once per session; fails with Sphinx's output if the build does."""
    out = tmp_path_factory.mktemp("book") / "html"
    started = time.monotonic()
    status, output = build(out)
    TIMINGS["build"] = round(time.monotonic() - started, 1)
    assert status == 0, f"make book failed:\n{output[-6000:]}"
    return out


@pytest.fixture(scope="module", autouse=True)
def timings():
    """Wall times of the build and the browser checks, in artifacts/book/timings.json."""
    yield TIMINGS
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def text_of(page_html: str) -> str:
    """What a page says: its markup without tags (so highlighted code reads as written).

    Inline code keeps a boundary, as its backquotes do in the notebook: prose that names
    `on_timeout=self.f`) is not the code line ``on_timeout=self.f)``.
    """
    page_html = re.sub(r"<(script|style)\b.*?</\1>", "", page_html, flags=re.S)
    page_html = re.sub(r"</?code\b[^>]*>", "`", page_html)
    return html.unescape(re.sub(r"<[^>]+>", "", page_html))


# -- the pages ------------------------------------------------------------------------------------

def test_every_lecture_and_exercise_is_a_page(site):
    """A page per lecture and per exercise present, titled by the notebook, in the landing page's toc."""
    expected = pages.site_pages()
    assert len([p for p in expected if p.startswith("notebooks/")]) == len(list((REPO / "notebooks").glob("*.ipynb")))
    assert len([p for p in expected if p.startswith("exercises/")]) == len(list((REPO / "exercises").glob("*/*.ipynb")))
    index = (site / "index.html").read_text()
    for relpath, title in expected.items():
        page = site / relpath
        assert page.is_file(), f"no page {relpath} in the site"
        if title:
            assert html.escape(title, quote=False) in page.read_text(), f"{relpath}: title {title!r} missing"
        if relpath != "index.html":
            assert f'href="{relpath}"' in index, f"the landing page does not link to {relpath}"
    assert not (site / "solutions").exists(), "solutions/ must never be part of the site"


def test_landing_page_says_what_and_how(site):
    """The landing page: the two commands, the chapter table linking every page, the widgets' note."""
    text = text_of((site / "index.html").read_text())
    for command in ("make lab", "make test", "make book"):
        assert command in text, f"the landing page does not show `{command}`"
    assert "come alive in JupyterLab" in text
    table = re.search(r"<table.*?</table>", (site / "index.html").read_text(), re.S)
    assert table, "no chapter table on the landing page"
    for relpath in pages.site_pages():
        if relpath.startswith(("notebooks/", "exercises/")):
            assert f'href="{relpath}"' in table.group(0), f"the chapter table has no link to {relpath}"


def test_each_notebook_page_says_how_to_run_it(site):
    """Lectures say their widgets come alive in JupyterLab; exercises say how to run and check them."""
    for page in pages.lectures():
        text = text_of((site / page.path.with_suffix(".html")).read_text())
        assert "come alive in JupyterLab" in text and "make lab" in text, page.path
    for page in pages.exercises():
        text = text_of((site / page.path.with_suffix(".html")).read_text())
        assert f"make check ASSIGNMENT={page.path.parent.name}" in text, page.path
        assert "make lab" in text and "come alive in JupyterLab" in text, page.path


def test_instructors_page_is_the_readmes_nbgrader_workflow(site):
    text = text_of((site / "instructors.html").read_text())
    for step in ("nbgrader generate_assignment", "nbgrader collect", "make grade", "generate_feedback"):
        assert step in text, f"the instructors' page lacks {step!r}"


def test_widgets_are_static_state(site):
    """No page loads widget JavaScript; a lecture's widgets show their controls and picture."""
    for page in pages.lectures():
        nb = nbformat.read(REPO / page.path, as_version=4)
        source = (site / page.path.with_suffix(".html")).read_text()
        assert "widget-view+json" not in source and "widget-state+json" not in source, page.path
        if nb.metadata.get("widgets"):
            assert "course-widget-controls" in source, f"{page.path}: widgets not shown"


# -- no answer leaks ------------------------------------------------------------------------------

def test_no_solution_or_hidden_test_in_the_site(site):
    """No solution region, hidden test or answer line anywhere in the site, sources and index included."""
    texts = {}
    for path in site.rglob("*"):  # _static/ holds only the theme's and Sphinx's own files
        if path.is_file() and path.suffix in TEXT_SUFFIXES and "_static" not in path.relative_to(site).parts:
            raw = path.read_text(errors="replace")
            texts[path] = raw + "\n" + (text_of(raw) if path.suffix == ".html" else "")
    assert any(p.suffix == ".ipynb" for p in texts), "no downloadable notebook in the site? (check the scan)"
    for path, text in texts.items():
        marker = re.search(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS)", text)
        assert not marker, f"{path.relative_to(site)} shows nbgrader's {marker.group(0)!r}"
    for assignment in assignments():
        secret = solution_lines(assignment) + hidden_test_lines(assignment, min_length=30)
        # Solution-only grade cells (an answer that is itself graded) keep all their code.
        for notebook in notebooks(assignment):
            for cell in nbformat.read(notebook, as_version=4).cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("solution") and meta.get("grade"):
                    secret += [ln.strip() for ln in cell.source.splitlines() if len(ln.strip()) >= 30]
        leaks = [(str(p.relative_to(site)), line) for line in secret for p, t in texts.items() if line in t]
        assert not leaks, f"{assignment}: answer or hidden-test lines in the site: {leaks[:5]}"


# -- images and links -----------------------------------------------------------------------------

def _local_targets(site: Path, attribute: str):
    """(page, target path, fragment) for every local ``attribute`` (href/src) of every page."""
    for page in html_pages(site):
        for value in re.findall(rf'\b{attribute}="([^"]*)"', page.read_text()):
            parts = urlsplit(html.unescape(value))
            if parts.scheme or parts.netloc or value.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            yield page, target, unquote(parts.fragment)


def test_images_exist_and_are_not_empty(site):
    """Every image a page shows is in the site and non-empty; lectures show all their pictures."""
    for page, target, _ in _local_targets(site, "src"):
        if target.suffix.lower() in {".png", ".jpg", ".jpeg", ".svg", ".gif"}:
            assert target.is_file() and target.stat().st_size > 0, f"{page.name}: image {target} missing or empty"
    for lecture in pages.lectures():
        nb = nbformat.read(REPO / lecture.path, as_version=4)
        pictures = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        widget_state = nb.metadata.get("widgets", {}).get(pages.WIDGET_STATE, {}).get("state", {})
        pictures += sum("image/png" in o.get("data", {}) for m in widget_state.values()
                        for o in m["state"].get("outputs", []))
        shown = (site / lecture.path.with_suffix(".html")).read_text().count("<img ")
        assert shown >= pictures, f"{lecture.path}: {pictures} pictures in the notebook, {shown} on the page"


def test_the_site_loads_nothing_from_another_host(site):
    """Scripts, styles and fonts come with the site (MathJax too): it reads offline, and a reader's
    visit is nobody else's business. Links to papers are plain links, not loaded."""
    remote = re.compile(r'<(?:script|img|iframe)\b[^>]*\bsrc="(?:https?:)?//|<link\b[^>]*\bhref="(?:https?:)?//')
    offenders = [(p.relative_to(site).as_posix(), m.group(0)) for p in html_pages(site)
                 for m in remote.finditer(p.read_text())]
    assert not offenders, f"pages loading from another host: {offenders[:5]}"
    math_pages = [p for p in html_pages(site) if 'class="math' in p.read_text()]
    assert math_pages, "no page with a formula: is dollarmath still on?"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 0


def test_every_internal_link_resolves(site):
    """Every link between pages reaches a file of the site, and its #anchor an id on that page."""
    ids: dict[Path, set[str]] = {}
    broken = []
    for page, target, fragment in _local_targets(site, "href"):
        if not target.exists() or not target.is_relative_to(site.resolve()):
            broken.append(f"{page.relative_to(site)} -> {target}")
            continue
        if fragment and target.suffix == ".html":
            if target not in ids:
                ids[target] = set(re.findall(r'\bid="([^"]+)"', target.read_text()))
            if fragment not in ids[target]:
                broken.append(f"{page.relative_to(site)} -> {target.name}#{fragment}")
    assert not broken, f"links that go nowhere: {broken[:10]}"


def test_pages_workflow_calls_make_book():
    """The GitHub Pages workflow builds with `make book` and publishes _build/html."""
    workflow = yaml.safe_load((REPO / ".github/workflows/pages.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    assert any(re.search(r"(^|\s)make book(\s|$)", step.get("run", "")) for step in steps), steps
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "_build/html", uploads


# -- a new chapter, and a broken link -------------------------------------------------------------

def _tiny_course(root: Path) -> Path:
    """A made-up course: chapter 00 as the README names it, 05 planned there, 06a not there."""
    root.mkdir(parents=True)
    readme = (REPO / "README.md").read_text()
    chapters = ("## Chapters\n\n| # | lecture | exercise |\n|---|---|---|\n"
                "| 00 | `00_intro`: the intro | planned |\n| 05 | a new topic | planned |\n\n")
    sections = {name: pages.readme_section(name) for name in ("Self-study", "Teaching with nbgrader")}
    (root / "README.md").write_text(readme.split("\n## ", 1)[0] + "\n\n" + chapters + "".join(
        f"## {name}\n\n{body}\n" for name, body in sections.items()))
    for relpath, title in [("notebooks/00_intro.ipynb", "00 · Intro"),
                           ("notebooks/05_new_topic.ipynb", "05 · A new topic"),
                           ("exercises/05_new_topic/05_new_topic.ipynb", "05 · Exercise: new"),
                           ("notebooks/06a_unlisted.ipynb", "06a · Unlisted")]:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}\n\nText.")])
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, root / relpath)
    return root


def test_a_new_chapter_needs_no_edit_and_a_broken_link_fails(tmp_path):
    """Files alone make the pages (toc and chapter table); a link to no page fails the build."""
    course = _tiny_course(tmp_path / "course")
    started = time.monotonic()
    status, output = build(tmp_path / "out" / "html", course)
    assert status == 0, output[-4000:]
    index = (tmp_path / "out/html/index.html").read_text()
    table = re.search(r"<table.*?</table>", index, re.S).group(0)
    for relpath in ("notebooks/00_intro.html", "notebooks/05_new_topic.html",
                    "exercises/05_new_topic/05_new_topic.html", "notebooks/06a_unlisted.html"):
        assert (tmp_path / "out/html" / relpath).is_file(), relpath
        assert f'href="{relpath}"' in table, f"the chapter table does not link {relpath}"
    rows = [" ".join(text_of(row).split()) for row in re.findall(r"<tr.*?</tr>", table, re.S)]
    assert rows[1:] == ["00 00 · Intro: the intro planned",
                        "05 05 · A new topic: a new topic 05 · Exercise: new",
                        "06a 06a · Unlisted not yet"], rows

    broken = course / "notebooks/05_new_topic.ipynb"
    nb = nbformat.read(broken, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("See [the missing chapter](09_missing.ipynb)."))
    nbformat.write(nb, broken)
    status, output = build(tmp_path / "out" / "html", course)
    TIMINGS["tiny course, twice"] = round(time.monotonic() - started, 1)
    assert status != 0, "a link to a missing page built without error"
    assert "09_missing" in output, output[-4000:]


# -- in a browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(site):
    """The site over HTTP on a loopback port, as GitHub Pages would serve it."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    """A headless Chromium tab (Debian's Chromium, never a download), as in test_browser.py."""
    if os.environ.get("COURSE_SKIP_BROWSER") == "1":
        reason = "COURSE_SKIP_BROWSER=1: the website was NOT checked in a browser. CI must not set this."
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no browser: {INSTALL_HINT}", pytrace=False)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("*.png"):
        stale.unlink()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.errors = errors
            yield page
        finally:
            browser.close()


def test_site_in_a_browser(site, served, browser_page):
    """The landing page and a lecture render with their figures; search finds a lecture's word."""
    page = browser_page
    started = time.monotonic()
    try:
        page.goto(f"{served}/index.html")
        page.wait_for_selector("table a[href^='notebooks/']")
        page.screenshot(path=ARTIFACTS / "landing.png")

        lecture = pages.lectures()[0]
        page.goto(f"{served}/{lecture.path.with_suffix('.html').as_posix()}")
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all(
            "article img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth, i.naturalHeight])")
        assert sizes, f"{lecture.path}: no figure on its page"
        empty = [s for s in sizes if not (s[1] > 0 and s[2] > 0)]
        assert not empty, f"{lecture.path}: figures that did not render: {empty[:5]}"
        page.screenshot(path=ARTIFACTS / "lecture.png")
        figure = page.locator("article img").first
        figure.scroll_into_view_if_needed()
        box = figure.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, box
        page.screenshot(path=ARTIFACTS / "lecture-figure.png")
        controls = page.locator("p.course-widget-controls")
        if controls.count():  # a widget, as its saved state: its controls' values, then its picture
            controls.first.scroll_into_view_if_needed()
            assert controls.first.is_visible() and "come alive" in page.content()
            page.screenshot(path=ARTIFACTS / "lecture-widget.png")

        # MathJax, served by the site itself, typesets a lecture's formulas.
        formulas = next(p for p in pages.lectures()
                        if 'class="math' in (site / p.path.with_suffix(".html")).read_text())
        page.goto(f"{served}/{formulas.path.with_suffix('.html').as_posix()}")
        page.locator("mjx-container").first.wait_for(timeout=20_000)
        page.screenshot(path=ARTIFACTS / "lecture-math.png")

        page.goto(f"{served}/search.html?q={SEARCH_WORD}")
        results = page.locator("#search-results li a[href*='notebooks/']")
        results.first.wait_for(timeout=20_000)
        page.screenshot(path=ARTIFACTS / "search.png")
        assert results.count() > 0
        assert not page.errors, f"JavaScript errors on the site: {page.errors}"
    except BaseException:
        page.screenshot(path=ARTIFACTS / "failure.png")
        raise
    finally:
        TIMINGS["browser"] = round(time.monotonic() - started, 1)


def test_build_folder_is_git_ignored():
    """`make book` writes into _build/, which git ignores (the test itself builds elsewhere)."""
    ignored = subprocess.run(["git", "check-ignore", "-q", "_build/html/index.html"], cwd=REPO)
    assert ignored.returncode == 0, "_build/ must be git-ignored"
