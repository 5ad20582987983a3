"""The machinery behind tests/test_browser.py: a learner's JupyterLab server and a page driving it.

``LabServer`` starts the course's JupyterLab the way ``make lab`` does, for a fresh user whose
Jupyter and IPython state lives in a temporary folder, and always takes it down again, kernels
included. ``LabPage`` is one JupyterLab tab in headless Chromium, with the few gestures a learner
makes: open a notebook, clear its outputs, run all cells, move a slider.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google on this closed network.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
INSTALL_HINT = (
    f"the browser test needs Debian's Chromium at {CHROMIUM}: install it with "
    "`apt-get install -y chromium` (as root; `.ci/run` does this on CI), or, if you cannot, "
    "export COURSE_SKIP_BROWSER=1 to skip the browser test on your machine (never on CI)"
)
STDERR_MIME = "application/vnd.jupyter.stderr"
# Variables that would let the developer's own Jupyter, IPython or XDG state leak into the test.
_USER_STATE_VARS = ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_PLATFORM_DIRS",
                    "JUPYTERLAB_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR",
                    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
                    "MPLCONFIGDIR", "JUPYTER_PORT", "JUPYTER_TOKEN")


def fresh_user_env(home: Path) -> dict[str, str]:
    """Return os.environ for a new learner whose home and Jupyter state live under ``home``.

    Nothing points at the course's venv: its kernel must be found through ``sys.prefix``.
    """
    env = {k: v for k, v in os.environ.items() if k not in _USER_STATE_VARS}
    dirs = {"HOME": home, "JUPYTER_CONFIG_DIR": home / ".jupyter",
            "JUPYTER_DATA_DIR": home / ".local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": home / ".local/share/jupyter/runtime",
            "IPYTHONDIR": home / ".ipython"}
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return env


def free_port() -> int:
    """Return a TCP port on localhost that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_mentioning(text: str) -> list[int]:
    """Return the ids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


class LabServer:
    """The course's JupyterLab for one fresh user, on a free port, with a token.

    Args:
        home: an empty folder that becomes the learner's HOME and holds all Jupyter state.
        log_path: where the server's output goes (kept as a test artefact).
    """

    def __init__(self, home: Path, log_path: Path):
        self.home = home
        self.env = fresh_user_env(home)
        self.log_path = log_path
        self.token = uuid.uuid4().hex
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """Return `make lab`'s command line, pinned to one port (port and token come from env)."""
        cmd = [str(VENV / "bin/jupyter"), "lab", "--no-browser", f"--ServerApp.root_dir={REPO}",
               "--ServerApp.port_retries=0"]
        if os.geteuid() == 0:  # CI runs as root, and jupyter_server refuses root without this
            cmd.append("--ServerApp.allow_root=True")
        return cmd

    def start(self, attempts: int = 3, timeout: float = 60.0) -> None:
        """Start the server and wait until /api/status answers with the token.

        A port picked free can be taken before the server binds it; port_retries=0 makes the
        server exit then instead of wandering to another port, and we try a new one.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(attempts):
            self.port = free_port()
            env = dict(self.env, JUPYTER_PORT=str(self.port), JUPYTER_TOKEN=self.token)
            with open(self.log_path, "a") as log:
                log.write(f"--- attempt {attempt + 1}: {' '.join(self.command())} "
                          f"(JUPYTER_PORT={self.port})\n")
                log.flush()
                self.proc = subprocess.Popen(self.command(), cwd=REPO, env=env, stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
            if self._wait_ready(timeout):
                return
            self.stop()
        raise RuntimeError(f"JupyterLab did not answer /api/status after {attempts} attempts; "
                           f"its log ends with:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                status = self.api("GET", "/api/status")
                if "started" in status:
                    return True
            except (OSError, urllib.error.URLError, ValueError):
                pass
            time.sleep(0.25)
        return False

    def api(self, method: str, path: str, timeout: float = 10.0):
        """Call the server's REST API with the token; return the decoded JSON (or None)."""
        request = urllib.request.Request(self.base_url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, relpath: str) -> str:
        """Return the address that opens ``relpath`` (relative to the repository) in JupyterLab."""
        return f"{self.base_url}/lab/tree/{relpath}?token={self.token}"

    def forget_workspaces(self) -> None:
        """Delete saved workspaces, so that the next page does not reopen the last notebooks."""
        for workspace_id in self.api("GET", "/lab/api/workspaces")["workspaces"]["ids"]:
            self.api("DELETE", f"/lab/api/workspaces/{workspace_id}")

    def shutdown_kernels_under(self, folder: str) -> None:
        """Shut down the sessions (and kernels) of notebooks under ``folder``."""
        for session in self.api("GET", "/api/sessions"):
            if session.get("path", "").startswith(folder):
                self.api("DELETE", f"/api/sessions/{session['id']}")

    def stop(self) -> None:
        """Stop the server and its kernels, however far it got; kill whatever is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=5)  # shuts kernels down cleanly
                self.proc.wait(timeout=15)
            except (OSError, urllib.error.URLError, ValueError, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        # Kernels run in sessions of their own; any survivor names a connection file in our
        # runtime dir, so this kills only what this server started.
        for pid in pids_mentioning(self.env["JUPYTER_RUNTIME_DIR"]):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def copy_into(src: Path, folder: Path) -> Path:
    """Copy the notebook ``src`` into ``folder``; JupyterLab autosaves into it, not into src."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(src, folder / src.name))


# -- the page ------------------------------------------------------------------------------

_WAIT_RUN_ALL = """
([panelId, stderrMime]) => {
  const panel = document.getElementById(panelId);
  if (!panel) return 'panel closed';
  const stderr = `.jp-OutputArea-output[data-mime-type="${stderrMime}"]`;
  for (const out of panel.querySelectorAll(stderr)) {
    if (/Traceback|Error/.test(out.textContent)) return 'error';
  }
  const prompts = [...panel.querySelectorAll('.jp-CodeCell')]
    .filter(cell => (cell.querySelector('.cm-content')?.textContent ?? '').trim() !== '')
    .map(cell => cell.querySelector('.jp-InputPrompt')?.textContent.trim() ?? '');
  const allNumbered = prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
  const status = document.getElementById('jp-main-statusbar')?.textContent ?? '';
  return (window.__courseSawBusy && allNumbered && /\\|\\s*Idle/.test(status)) ? 'done' : false;
}
"""

_TAB_OF_PATH = """
(relpath) => {
  const tabs = document.querySelectorAll(
    ".lm-DockPanel-tabBar .lm-TabBar-tab[data-type='document-title']");
  for (const tab of tabs) {
    if (tab.title.split('\\n').includes(`Path: ${relpath}`)) return tab.dataset.id;
  }
  return false;
}
"""

# Remember whether the status bar ever said Busy: it flickers to Idle between cells.
_WATCH_BUSY = """
() => {
  window.__courseSawBusy = false;
  const bar = document.getElementById('jp-main-statusbar');
  const check = () => { if (/\\|\\s*Busy/.test(bar.textContent)) window.__courseSawBusy = true; };
  window.__courseBusyObserver?.disconnect();
  window.__courseBusyObserver = new MutationObserver(check);
  window.__courseBusyObserver.observe(bar, {subtree: true, childList: true, characterData: true});
  check();
}
"""

_OUTPUT_SIGNATURE = """
(cell) => {
  const areas = cell.querySelectorAll('.widget-output');
  const scope = areas.length ? [...areas] : [cell.querySelector('.jp-Cell-outputArea')];
  return scope.map(a => [...a.querySelectorAll('img')].map(i => i.src).join('|')
                        + '#' + a.textContent).join('||');
}
"""


class LabPage:
    """One JupyterLab tab showing one notebook, driven as a learner would."""

    def __init__(self, page, server: LabServer):
        self.page = page
        self.server = server
        self.panel = None
        self.page_errors: list[str] = []
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def boot(self, timeout_ms: int = 90_000) -> None:
        """Load JupyterLab itself (no notebook) in this tab: every notebook then opens inside it."""
        self.page.goto(f"{self.server.base_url}/lab?token={self.server.token}")
        self.page.locator("#jp-main-statusbar").wait_for(timeout=timeout_ms)
        self.page.locator(".lm-MenuBar-item", has_text=re.compile("^File$")).wait_for(timeout=timeout_ms)

    def open(self, relpath: str, timeout_ms: int = 90_000) -> None:
        """Open the notebook at ``relpath`` with File → Open from Path…, accept a kernel-select
        dialog, and wait for Idle. The tab must show JupyterLab already (:meth:`boot`): loading the
        whole application again for each notebook cost Chromium seconds of CPU a notebook."""
        self.page_errors.clear()
        self.menu("File", "Open from Path…")
        dialog = self.page.locator(".jp-Dialog")
        dialog.locator("input").fill(relpath)
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        # Find the notebook by its tab's tooltip ("Name: ...\nPath: ...", set once the file is
        # loaded): another tab may carry the same file name.
        panel_id = self.page.wait_for_function(_TAB_OF_PATH, arg=relpath, timeout=timeout_ms,
                                               polling=200).json_value()
        self.panel = self.page.locator(f"[id='{panel_id}']")
        self.panel.locator(".jp-Cell").first.wait_for(timeout=timeout_ms)
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            dialog = self.page.locator(".jp-Dialog")
            if dialog.count():
                text = dialog.first.inner_text()
                if "Select Kernel" not in text:
                    raise AssertionError(f"unexpected dialog on opening {relpath}: {text!r}")
                dialog.first.locator(".jp-Dialog-button.jp-mod-accept").click()
            if re.search(r"\|\s*Idle", self.status_text()):
                return
            time.sleep(0.2)
        raise AssertionError(f"kernel of {relpath} never became Idle; status bar: "
                             f"{self.status_text()!r}; server log:\n{self.server.log_tail()}")

    def close(self, timeout_ms: int = 30_000) -> None:
        """File → Close and Shut Down Notebook…, confirmed: the tab goes, and its kernel with it."""
        if self.panel is None:
            return
        self.focus_notebook()
        self.menu("File", "Close and Shut Down Notebook…")
        self.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
        self.panel.wait_for(state="detached", timeout=timeout_ms)
        self.panel = None

    def dialogs(self) -> list[str]:
        """Return the text of every dialog open in the tab."""
        return self.page.locator(".jp-Dialog").all_inner_texts()

    def status_text(self) -> str:
        return self.page.locator("#jp-main-statusbar").inner_text()

    def menu(self, menu: str, item: str) -> None:
        """Click ``menu`` in the menu bar, then the entry labelled exactly ``item``."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{re.escape(menu)}$")).click()
        label = self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
        entry = self.page.locator(".lm-Menu .lm-Menu-item", has=label)
        entry.click()

    def focus_notebook(self) -> None:
        """Make the notebook the current widget, so menu commands apply to it."""
        self.panel.locator(".jp-InputPrompt").first.click()

    def prompts(self) -> list[str]:
        """Return the input prompts of the code cells, read from the DOM (also off-screen)."""
        return self.panel.locator(".jp-CodeCell .jp-InputPrompt").evaluate_all(
            "els => els.map(e => e.textContent.trim())")

    def clear_outputs(self) -> None:
        """Edit → Clear Outputs of All Cells, and check that no output or number is left."""
        self.focus_notebook()
        self.menu("Edit", "Clear Outputs of All Cells")
        self.page.wait_for_function(
            "id => !document.getElementById(id).querySelector('.jp-OutputArea-output')",
            arg=self.panel_id, timeout=10_000)
        left = [p for p in self.prompts() if re.fullmatch(r"\[\d+\]:", p)]
        assert not left, f"prompts still numbered after clearing outputs: {left}"

    @property
    def panel_id(self) -> str:
        return self.panel.get_attribute("id")

    def run_all(self, timeout_ms: int) -> str:
        """Run → Run All Cells; wait until every code cell is numbered and the kernel is Idle.

        Returns 'done', or 'error' as soon as an error output shows up.
        """
        self.page.evaluate(_WATCH_BUSY)
        self.focus_notebook()
        self.menu("Run", "Run All Cells")
        handle = self.page.wait_for_function(_WAIT_RUN_ALL, arg=[self.panel_id, STDERR_MIME],
                                             timeout=timeout_ms, polling=250)
        return handle.json_value()

    def error_outputs(self) -> list[str]:
        """Return the text of every error or traceback output of the notebook."""
        outs = self.panel.locator(f'.jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]')
        return [t for t in outs.all_text_contents() if re.search(r"Traceback|Error", t)]

    def widget_errors(self) -> list[str]:
        """Return every widget that failed to show: the widget extension and ipywidgets disagree.

        The manager writes "Error displaying widget..." in place of a view it cannot build, and
        an error widget ("Failed to load model class ...") for a model it cannot load.
        """
        text = self.panel.text_content() or ""
        errors = re.findall(r"Error displaying widget[^\n]{0,120}", text)
        return errors + self.panel.locator(".jupyter-widgets-error-widget").all_text_contents()

    def output_signature(self, cell) -> str:
        """Return what the outputs of ``cell`` show (image sources and text), to spot changes."""
        return cell.evaluate(_OUTPUT_SIGNATURE)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))

    def move_first_slider(self, presses: int, timeout_ms: int) -> tuple[str, str] | None:
        """Focus the first slider's handle and press ArrowRight; wait for its cell's outputs.

        Returns the slider's value before and after (None if the notebook has no slider), once
        the outputs linked to it (the cell's Output widget, or its output area) have changed and
        the kernel is Idle again. Raises playwright's TimeoutError if the outputs never change.
        """
        handles = self.panel.locator(".widget-slider .noUi-handle")
        if handles.count() == 0:
            return None
        handle = handles.first
        cell = handle.locator(
            "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' jp-CodeCell ')]")
        handle.scroll_into_view_if_needed()
        # The readout shows the value at the slider's precision; aria-valuenow is rounded
        # to one decimal by the slider library (0.05 and 0.08 both read "0.1").
        slider = handle.locator(
            "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' widget-slider ')][1]")
        readout = slider.locator(".widget-readout")

        def value() -> str:
            if readout.count():
                return (readout.first.text_content() or "").strip()
            return handle.get_attribute("aria-valuenow") or ""

        before_value = value()
        before = self.output_signature(cell)
        self.page.evaluate(_WATCH_BUSY)
        handle.focus()
        for _ in range(presses):
            self.page.keyboard.press("ArrowRight")
        self.page.wait_for_function(
            f"([cell, before]) => ({_OUTPUT_SIGNATURE})(cell) !== before",
            arg=[cell.element_handle(), before], timeout=timeout_ms, polling=250)
        after_value = value()
        # Let the last update finish before anyone looks for errors or takes a screenshot.
        self.page.wait_for_function(
            "() => window.__courseSawBusy && /\\|\\s*Idle/.test("
            "document.getElementById('jp-main-statusbar').textContent)",
            timeout=timeout_ms, polling=250)
        return before_value, after_value
