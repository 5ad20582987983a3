"""Lecture 03c's recorded runs of the reference key-value service (data/raft_kv_runs/) are what the recorder makes now.

tools/record_kv_runs.py runs the reference of solutions/03c_raft_kv (read from the solution notebook,
never from course_lib), on the log model and on 03b's reference Raft with Part D, and writes the files
the lecture reads. These tests record them again and compare:
a change to the simulator, the log model, the harness, the reference or the recorder that alters what the
lecture shows fails here until the files are recorded again (`.venv/bin/python tools/record_kv_runs.py`).
The lease runs are the slow part (two drifts over many seeds): only the recorded stale seed is run again,
and the counts are checked for consistency instead.
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

from course_lib.checkers import linearizable

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
FIX = "record them again: .venv/bin/python tools/record_kv_runs.py"


@pytest.fixture(scope="module")
def recorder():
    import record_kv_runs  # tools/record_kv_runs.py

    return record_kv_runs


@pytest.fixture(scope="module")
def reference(recorder):
    return recorder.load_reference()


@pytest.fixture(scope="module")
def raft(recorder):
    return recorder.load_raft()


def recorded(name: str) -> dict:
    return json.loads((ROOT / "data" / "raft_kv_runs" / f"{name}.json").read_text())


def as_file(recorder, record: dict) -> dict:
    """The record as the recorder writes it and the lecture reads it back."""
    return json.loads(recorder.dumps(record))


def test_reads_log_size_and_catch_up_are_fresh(recorder, reference, raft):
    """Recording the reads, the log sizes and both catch-ups again gives the files (else: record them again)."""
    for name, make in (("reads", recorder.reads), ("log_size", recorder.log_sizes), ("catch_up", recorder.catch_up),
                       ("catch_up_raft", lambda ns: recorder.catch_up(ns, raft))):
        assert as_file(recorder, make(reference)) == recorded(name), f"data/raft_kv_runs/{name}.json is stale: {FIX}"


def test_lease_drift_run_is_fresh_and_consistent(recorder, reference):
    """The recorded stale lease run comes out the same; it is the first stale seed, none stale within the bound."""
    drift = recorded("lease_drift")
    seed = drift["run"]["seed"]
    k = int(seed.rsplit("/", 1)[1])
    assert drift["stale"]["within"] == [], "a lease read went stale with drift within the bound"
    assert drift["stale"]["beyond"] and drift["stale"]["beyond"][0] == k
    again = as_file(recorder, recorder.lease_drift(reference, seeds=drift["seeds"], only=k))
    assert again["run"] == drift["run"], f"data/raft_kv_runs/lease_drift.json is stale: {FIX}"
    assert again["stale"] == {"within": [], "beyond": [k]}
    for key in ("bound", "drifts", "cut", "cut_for"):
        assert again[key] == drift[key], f"lease_drift.json's {key} differs from the recorder's: {FIX}"


def test_the_stale_lease_history_fails_the_checker(recorder):
    """The lecture's claim: the recorded lease history is not linearizable, read back as the lecture reads it."""
    history = recorder.history_of(recorded("lease_drift")["run"]["history"])
    assert linearizable(history, "kv").valid is False
