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
