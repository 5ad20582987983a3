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


def _up(sim: Simulation, node: str) -> bool:
    return not sim.node(node).crashed


def _leads(sim: Simulation, node: str) -> bool:
    return _up(sim, node) and sim.node(node).role == "leader"


def _commands(sim: Simulation, node: str) -> list:
    return [entry[1] for entry in sim.node(node).log]


#: Figure 8 on three servers, as a search in phases: each phase searches, breadth first, for the
#: shortest way to its goal from where the previous phase ended (``crashes``: how many crashes it
#: may add, a crashed server may restart; ``depth``: at most this many new steps, and never more
#: than the ``depth`` given to :func:`figure8_search`). The last phase looks for a violation.
FIGURE8_PHASES: tuple = (
    ("s1 leads and alone holds x",
     lambda sim: _leads(sim, "s1") and _commands(sim, "s1") == ["x"]
     and not _commands(sim, "s2") and not _commands(sim, "s3"), 0, 6),
    ("s1 is down; s2 leads a later term", lambda sim: not _up(sim, "s1") and _leads(sim, "s2"), 1, 6),
    ("s2 alone holds y, at index 1", lambda sim: _commands(sim, "s2") == ["y"], 0, 6),
    ("s2 is down, s1 is back", lambda sim: not _up(sim, "s2") and _up(sim, "s1"), 1, 6),
    ("s1 leads again", lambda sim: _leads(sim, "s1"), 0, 6),
    ("s1 commits x", lambda sim: sim.node("s1").commit_index >= 1, 0, 4),
    ("s1 is down, s2 is back", lambda sim: not _up(sim, "s1") and _up(sim, "s2"), 1, 6),
    (None, None, 0, 6),
)


def figure8_search(cls: type, seed: Any = 0, *, depth: int = 6,
                   max_states: int = MAX_STATES) -> list[tuple[str, SearchResult]]:
    """Search for Figure 8 of the Raft paper on three servers, in phases; return each phase's result.

    A client submits ``x``, then ``y`` (each at any server, at any moment). Each
    phase of :data:`FIGURE8_PHASES` searches breadth first, at most ``depth`` new
    steps (fewer where the phase says so), for its goal, from where the previous one ended, with the four Raft
    invariants checked in every state: s1 leads and alone holds x; s1 crashes and s2
    leads a later term; s2 alone holds y at the same index; s2 crashes and s1
    restarts; s1 leads again; s1 commits x; s1 crashes and s2 restarts; then
    anything that breaks an invariant. A Raft that commits an entry of an earlier
    term by counting its copies commits x in phase 6, and s2, whose log ends in a
    later term, is elected in phase 8 without x: leader completeness fails. A
    correct Raft cannot commit x before an entry of s1's current term is committed
    too: phase 6 exhausts its 4 steps (the counting mistake needs 4: two AppendEntries and
    their replies) and the phases stop there.

    Returns:
        ``[(phase, result), ...]`` for the phases run.

    Raises:
        ScenarioFailed: a phase found a schedule that breaks an invariant or makes a
            handler raise; the message numbers the whole schedule, ``.draw()`` draws it.
    """
    check_int("depth", depth, low=1)
    check_int("max_states", max_states, low=1)

    done = figure8_phases(cls, seed, depth=depth, max_states=max_states)
    name, result = done[-1]
    result.check(f"Figure 8's phases on 3 servers, up to {depth} steps each (phase {len(done)}: {name})")
    return done


def figure8_phases(cls: type, seed: Any = 0, *, depth: int = 6,
                   max_states: int = MAX_STATES) -> list[tuple[str, SearchResult]]:
    """Run :data:`FIGURE8_PHASES` as :func:`figure8_search` does, without raising: each phase's
    name and result, up to the first that does not reach its goal (the recorder's view)."""
    check_int("depth", depth, low=1)
    check_int("max_states", max_states, low=1)

    def make_sim() -> Simulation:
        return RaftCluster(cls, 3, seed=seed).sim

    actions = [("submit x", lambda node: node.start("x")), ("submit y", lambda node: node.start("y"))]
    done: list[tuple[str, SearchResult]] = []
    start = None
    for name, goal, crashes, most in FIGURE8_PHASES:
        result = search(make_sim, actions=actions, start=start, goal=goal, crashes=crashes,
                        max_depth=min(depth, most), max_states=max_states)
        done.append((name or "an invariant broken", result))
        if result.outcome != "goal":
            break
        start = result.schedule
    return done
