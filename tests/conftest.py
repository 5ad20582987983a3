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


#: The suite's longest scopes (files, or kept-mistake classes), longest first. ``make test`` hands
#: whole scopes to its two xdist workers in collection order (``--dist loadscope``); starting with
#: the longest leaves short ones to fill in at the end, instead of one worker finishing a long
#: scope alone while the other idles (the longest-processing-time-first rule).
LONGEST_FIRST = (
    "tests/test_autograde.py",
    "tests/test_browser.py",
    "tests/test_wrong_implementations.py",
    "notebooks/",
    "tests/test_raft_reference.py",
    "tests/test_tampering.py",
    "tests/test_book.py",
)


def pytest_collection_modifyitems(config, items):
    """Collect the longest scopes first (see LONGEST_FIRST); the order within a file is kept."""
    def rank(item):
        return next((k for k, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                    len(LONGEST_FIRST))
    items.sort(key=rank)
