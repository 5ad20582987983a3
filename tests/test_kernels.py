"""The course's kernels start quietly: no "running over TCP without encryption" warning.

ipykernel prints that warning on every start of a kernel whose connection is plain TCP;
``make check``, ``make notebooks`` and nbgrader start kernels with encrypted connections
instead (course_lib.grading.kernels). nbgrader's autograde is checked in test_tampering.py,
which runs it anyway.
"""

from __future__ import annotations

import os
import subprocess

import nbformat

from course_lib.grading.kernels import kernel_config, kernel_settings
from grading_support import ROOT

WARNING = "without encryption"


def make(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "-s", "-C", str(ROOT), *args], env=env, text=True,
                          capture_output=True, timeout=600)


def test_kernels_are_started_with_encrypted_connections_where_the_system_can():
    """With pyzmq's CurveZMQ (as installed here), the kernel manager provisions keys for ipykernel."""
    assert kernel_settings() == {"transport_encryption": "auto"}
    assert kernel_config().KernelManager.transport_encryption == "auto"


def test_make_check_prints_no_kernel_transport_warning():
    """`make check` runs an exercise and reports it, and the kernel's start prints no warning."""
    proc = make("check", "ASSIGNMENT=00_welcome")
    assert "00_welcome.ipynb:" in proc.stdout and "points" in proc.stdout, proc.stdout + proc.stderr
    assert WARNING not in proc.stdout + proc.stderr


def test_executing_a_lecture_prints_no_kernel_transport_warning(tmp_path):
    """`make notebooks` executes lectures in kernels that start without the warning."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(tmp_path / "tiny.ipynb"))
    proc = make("notebooks", f"LECTURES={tmp_path / 'tiny'}")
    assert proc.returncode == 0, proc.stderr
    executed = nbformat.read(str(tmp_path / "tiny.ipynb"), as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert WARNING not in proc.stdout + proc.stderr
