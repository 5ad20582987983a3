"""Every course kernel runs with PYTHONHASHSEED=0, however it is started.

Python salts ``hash(str)`` with a random seed per process, so without a fixed seed
``for p in set(self.peers)`` visits the peers in a different order in each kernel, and the
one-line replay printed by a failing grading test may pass when pasted into a cell. The course
fixes the seed at each place that starts kernels (see the README):

* the venv's ``python3`` kernelspec (``"env": {"PYTHONHASHSEED": "0"}``, installed by
  ``make setup``): JupyterLab started any way from the venv, its Validate button, nbgrader;
* the Makefile (``export PYTHONHASHSEED := 0``): every recipe, including nbval's kernels in
  ``make test``, which are started from the current environment and ignore kernelspecs;
* ``nbgrader_config.py``: every nbgrader command run from the course root, even with a
  ``python3`` kernelspec that does not set the seed (another environment, a JupyterHub);
* ``course_lib.grading.scoring`` (``make check`` and the grading tests), as the autograder does.

Each test starts two fresh kernels one way, from a parent environment where PYTHONHASHSEED
is unset in one and ``random`` in the other, and compares what a cell iterating a set of node
ids prints with what Python prints under PYTHONHASHSEED=0. Where a test checks one layer, the
others are taken away: no Makefile, or a plain ``python3`` kernelspec put first on JUPYTER_PATH.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent

# A set of node ids and a string hash: both differ between hash seeds.
PROBE = 'print(repr((list({"n1", "n2", "n3", "n4", "n5", "a", "b"}), hash("node"))))'

# Start a kernel the way ``sys.argv[1]`` names, run PROBE in it, print what it printed.
LAUNCH = """
import sys
if sys.argv[1] == "nbval":  # pytest --nbval --nbval-current-env, as in `make test`
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, start_new_kernel
    km, kc = start_new_kernel(kernel_name=CURRENT_ENV_KERNEL_NAME)
else:  # the kernelspec by name, as JupyterLab (jupyter_server) and nbclient start it
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name=sys.argv[1])
out = []
def hook(msg):
    if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
        out.append(msg["content"]["text"])
try:
    reply = kc.execute_interactive(sys.argv[2], output_hook=hook, timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print("".join(out).strip())
"""


def _parent_envs() -> list[dict[str, str]]:
    """Two parent environments: PYTHONHASHSEED unset, and PYTHONHASHSEED=random."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("PYTHONHASHSEED", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR")
            and not k.startswith("MAKE") and k != "MFLAGS"}  # when run under `make test`
    base["PATH"] = f"{BIN}{os.pathsep}{base.get('PATH', '')}"
    return [dict(base), dict(base, PYTHONHASHSEED="random")]


def _run_twice(argv: list[str], cwd: pathlib.Path = ROOT, extra_env: dict | None = None,
               timeout: int = 120) -> list[str]:
    """Run ``argv`` in both parent environments at once; return both outputs."""
    procs = [subprocess.Popen(argv, cwd=cwd, env={**env, **(extra_env or {})}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for env in _parent_envs()]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        outputs.append(out)
        assert proc.returncode in (0, 1), f"{argv} failed ({proc.returncode}):\n{out}\n{err}"
    return outputs


def _seeded(seed: str) -> str:
    return subprocess.run([sys.executable, "-c", PROBE], env=dict(os.environ, PYTHONHASHSEED=seed),
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def seed0() -> str:
    """What PROBE prints under PYTHONHASHSEED=0."""
    return _seeded("0")


@pytest.fixture
def plain_kernelspec(tmp_path) -> dict[str, str]:
    """JUPYTER_PATH with a ``python3`` kernelspec that sets no environment, found first."""
    spec = tmp_path / "share" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (no hash seed)", "language": "python"}))
    return {"JUPYTER_PATH": str(tmp_path / "share")}


def _graded_probe(path: pathlib.Path) -> pathlib.Path:
    """A one-cell nbgrader notebook whose graded test fails with PROBE's output as message."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(PROBE.replace("print(", "raise AssertionError(", 1))
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "grade_id": "probe", "points": 1, "schema_version": 3}
    nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def _assertion_messages(outputs: list[str]) -> list[str]:
    found = [re.findall(r"AssertionError: (\(\[.*\]\, -?\d+\))", out) for out in outputs]
    assert all(found), f"no probe output found in:\n{outputs}"
    return [f[-1] for f in found]


def test_probe_depends_on_the_hash_seed(seed0):
    """Set order depends on the hash seed, so it must be fixed: seed 1 prints otherwise than
    seed 0, which prints the same every time (so every test below can fail)."""
    assert _seeded("1") != seed0
    assert _seeded("0") == seed0


def test_venv_kernelspec_sets_the_seed(seed0):
    """The venv's ``python3`` kernelspec alone fixes the seed (JupyterLab, Validate, nbgrader).

    This is what ``make lab`` starts, and what ``.venv/bin/jupyter lab`` started by hand
    starts: a kernel from the venv's kernelspec, with no Makefile in between.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    outputs = _run_twice([sys.executable, "-c", LAUNCH, "python3", PROBE])
    assert [o.strip() for o in outputs] == [seed0, seed0], \
        f"the python3 kernelspec {spec.resource_dir} sets env {spec.env}: run `make setup`"
    assert pathlib.Path(spec.resource_dir).resolve().is_relative_to(pathlib.Path(sys.prefix).resolve())


@pytest.mark.parametrize("launcher", ["nbval", "python3"])
def test_makefile_exports_the_seed_to_kernels(seed0, plain_kernelspec, launcher):
    """Every kernel a make recipe starts has PYTHONHASHSEED=0, from the Makefile alone.

    ``nbval`` is how ``make test`` starts the lecture notebooks' kernels (the current
    environment, no kernelspec); ``python3`` is how ``make lab`` and ``make check`` start
    theirs, here with a kernelspec that sets nothing.
    """
    script = pathlib.Path(plain_kernelspec["JUPYTER_PATH"]).parent / "launch.py"
    script.write_text(LAUNCH)
    probe = f"hashseed-probe: ; @$(BIN)/python {script} {launcher} '{PROBE}'"
    outputs = _run_twice(["make", "-s", "-C", str(ROOT), "--eval", probe, "hashseed-probe"],
                         extra_env=plain_kernelspec)
    assert [o.strip() for o in outputs] == [seed0, seed0]


def test_nbgrader_config_alone_sets_the_seed(seed0, plain_kernelspec, tmp_path):
    """``nbgrader validate`` (and so autograde) run by hand with the course's nbgrader_config.py
    gives kernels PYTHONHASHSEED=0, without make and with a kernelspec that sets nothing."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    notebook = _graded_probe(course / "probe.ipynb")
    outputs = _run_twice([str(BIN / "nbgrader"), "validate", notebook.name], cwd=course,
                         extra_env=plain_kernelspec)
    assert _assertion_messages(outputs) == [seed0, seed0]


def test_scoring_sets_the_seed(seed0, plain_kernelspec, tmp_path, monkeypatch):
    """``course_lib.grading.scoring`` (``make check``, the grading tests) gives its kernels
    PYTHONHASHSEED=0 as the autograder does, without make and with a kernelspec that sets
    nothing."""
    from course_lib.grading.scoring import score_notebook

    notebook = _graded_probe(tmp_path / "probe.ipynb")
    monkeypatch.setenv("JUPYTER_PATH", plain_kernelspec["JUPYTER_PATH"])
    errors = []
    for parent in _parent_envs():  # in this process, whose environment the kernels inherit
        monkeypatch.delenv("PYTHONHASHSEED", raising=False)
        if "PYTHONHASHSEED" in parent:
            monkeypatch.setenv("PYTHONHASHSEED", parent["PYTHONHASHSEED"])
        errors.append(score_notebook(notebook, timeout=60).results[0].error or "")
    assert _assertion_messages(errors) == [seed0, seed0]
