"""Search scenarios: every schedule of a small cluster, not one seeded run (course_lib.search).

A seeded scenario sees the schedules that happen often. These explore every
order of the first messages and timer firings of three servers, breadth first,
with the four Raft invariants checked in every state: a mistake that breaks
safety in one schedule in a thousand (a vote reply from an older term counted)
is found, with the shortest schedule that shows it. Time is abstract in a
search: timers fire in any order relative to messages, whatever their delays.
"""

from __future__ import annotations

from typing import Any

from ....search import SearchResult, search
from ....sim import Simulation
from ....sim.validation import check_int
from ..harness import RaftCluster

#: Distinct states a search scenario explores at most (a budget: about 10 s on the course machine).
MAX_STATES = 60_000


def election_search(cls: type, seed: Any = 0, *, n: int = 3, depth: int = 7,
                    max_states: int = MAX_STATES) -> SearchResult:
    """Every schedule of ``n`` servers' first ``depth`` steps keeps the Raft invariants (election safety first).

    A step delivers one message in flight or fires one armed timer, in any order.
    Depth 7 reaches two elections in one term: the shortest schedule in which a
    candidate that counts a vote reply from an older term becomes a second leader.

    Returns:
        The search's result (what it covered), when no schedule breaks an invariant.

    Raises:
        ScenarioFailed: a schedule breaks an invariant or makes a handler raise; the
            message numbers its steps, and ``.draw()`` draws it replayed.
    """
    check_int("n", n, low=1)
    check_int("depth", depth, low=1)
    check_int("max_states", max_states, low=1)

    def make_sim() -> Simulation:
        return RaftCluster(cls, n, seed=seed).sim

    return search(make_sim, max_depth=depth, max_states=max_states).check(
        f"every schedule of {n} servers up to {depth} steps")
