"""Shared test configuration: the deterministic Hypothesis profile, loaded by default.

The ``ci`` profile derandomizes Hypothesis so that every run of the suite draws
the same examples, as the simulator itself does (same seed, same run). Export
``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples locally.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


#: About the seconds of wall time the suite's longest scopes take under ``make test`` (two workers,
#: quiet machine; 2026-12-02, with chapter 03c): a scope is a file, or a class of
#: test_wrong_implementations (one per assignment). Only their order matters: a scope that comes to
#: take more than ~10 s belongs here (re-measure with ``--durations``), or it may be handed out
#: last and run alone at the end.
SCOPE_SECONDS = {
    "tests/test_autograde.py": 190,
    "tests/test_browser.py": 120,
    "tests/test_tampering.py": 45,
    "tests/test_exercises_sync.py": 45,
    "tests/test_wrong_implementations.py::TestAssignment_03b_raft": 30,
    "tests/test_raft_reference.py": 25,
    "tests/test_wrong_implementations.py::TestAssignment_02_clocks": 23,
    "tests/test_wrong_implementations.py::TestAssignment_01_consistency": 20,
    "tests/test_wrong_implementations.py::TestAssignment_05_partitioning": 19,
    "tests/test_hash_seed.py": 16,
    "tests/test_wrong_implementations.py::TestAssignment_03a_agreement": 15,
    "tests/test_kernels.py": 15,
    "tests/test_wrong_implementations.py::TestAssignment_04_replication": 14,
    "tests/test_book.py": 13,
    "tests/test_linearizability.py": 12,
    "tests/test_wrong_implementations.py::TestAssignment_06a_resilience": 12,
    "tests/test_wrong_implementations.py::TestAssignment_00_welcome": 10,
    "tests/test_wrong_implementations.py::TestAssignment_03c_raft_kv": 10,
    "tests/test_wrong_implementations.py::TestAssignment_06b_workflows": 4,
}
#: Scopes not in the table (a new assignment's kept mistakes, a new lecture, a new test file).
DEFAULT_SECONDS = (("tests/test_wrong_implementations.py::", 20), ("notebooks/", 8))


def scope_of(nodeid: str) -> str:
    """The scope xdist's ``--dist loadscope`` keeps on one worker: the node id up to its last ``::``."""
    return nodeid.rsplit("::", 1)[0]


def scope_seconds(scope: str) -> float:
    """The measured (or, for a scope not measured yet, estimated) seconds of one scope."""
    if scope in SCOPE_SECONDS:
        return SCOPE_SECONDS[scope]
    return next((seconds for prefix, seconds in DEFAULT_SECONDS if scope.startswith(prefix)), 1)


def pytest_collection_modifyitems(config, items):
    """Collect the longest scopes first, the order inside each scope kept.

    ``make test`` runs ``--dist loadscope --no-loadscope-reorder``: xdist hands out whole scopes in
    collection order, each to the first worker that runs short of work. Longest first (the LPT
    rule) starts the two longest, the autograde round trip and the browser, on the two workers at
    once and leaves short scopes to even out the end; xdist's own order (by number of tests) left
    the browser last, running alone for two minutes while the other worker idled.
    """
    items.sort(key=lambda item: -scope_seconds(scope_of(item.nodeid)))
