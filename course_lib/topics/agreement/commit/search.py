"""The commit search scenario: every schedule of one transaction, not one seeded run (course_lib.search).

A seeded scenario sees the schedules that happen often. :func:`commit_search`
explores every order of one transaction's first steps at a coordinator and
three participants, breadth first: any message in flight delivered next, any
armed timer fired next, and (within the crash budget) any node crashed or
restarted, with :func:`~course_lib.checkers.atomic_commit` checked in every
state. A mistake that breaks atomicity in one schedule in a thousand (a vote
counted after the coordinator gave up on it) is found, with the shortest
schedule that shows it. Time is abstract in a search: a vote timeout may fire
before any vote arrives, whatever the delays.
"""

from __future__ import annotations

from typing import Any

from ....checkers.invariants import atomic_commit
from ....search import SearchResult, search
from ....sim import Node, Simulation
from ....sim.validation import InvalidArgumentType, check_int, check_probability
from .base import set_refusal_rate

#: Distinct states the search scenario explores at most (a budget: about 10 s on the course machine).
MAX_STATES = 30_000


def commit_search(coordinator_cls: type, participant_cls: type, seed: Any = 0, *, participants: int = 3,
                  depth: int = 7, crashes: int = 1, refusal_rate: float = 0.0,
                  max_states: int = MAX_STATES) -> SearchResult:
    """Every schedule of one transaction's first ``depth`` steps keeps atomic commit.

    The coordinator ``"coord"`` begins transaction ``"t1"``, writing one key at
    each participant ``"p1"``, ``"p2"``, ...; then a step delivers one message in
    flight, fires one armed timer, or crashes or restarts a node (at most
    ``crashes`` crashes per schedule), in any order. Depth 7 reaches a vote
    timeout that fires between the prepares and the votes, with every vote
    still to arrive.

    Args:
        coordinator_cls: created as ``coordinator_cls()``.
        participant_cls: created as ``participant_cls()``.
        seed: the simulation seed (the nodes' random draws; a search does not branch on them).
        refusal_rate: the probability that a database refuses the transaction (default 0:
            every database says yes, the runs in which a commit is at stake).
        max_states: stop after this many distinct states (the scenario then passes on what it covered).

    Returns:
        The search's result (what it covered), when no schedule breaks atomic commit.

    Raises:
        ScenarioFailed: a schedule breaks atomic commit or makes a handler raise; the
            message numbers its steps, and ``.draw()`` draws it replayed.

    Example:
        >>> from course_lib.topics.agreement.commit import NaiveCoordinator, NaiveParticipant
        >>> commit_search(NaiveCoordinator, NaiveParticipant, participants=2, depth=6, crashes=0).outcome
        'exhausted'
    """
    for name, cls in (("coordinator_cls", coordinator_cls), ("participant_cls", participant_cls)):
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise InvalidArgumentType(f"{name}={cls!r} must be a class, a subclass of course_lib.sim.Node")
    check_int("participants", participants, low=1)
    check_int("depth", depth, low=1)
    check_int("crashes", crashes, low=0)
    check_probability("refusal_rate", refusal_rate)
    check_int("max_states", max_states, low=1)
    ids = [f"p{i + 1}" for i in range(participants)]

    def make_sim() -> Simulation:
        sim = Simulation(seed=seed)
        set_refusal_rate(sim, refusal_rate)
        coordinator = sim.add_node(coordinator_cls, "coord")
        sim.add_nodes(participant_cls, ids)
        sim.add_invariant("atomic_commit", atomic_commit)
        sim.at(0.0, coordinator.begin, "t1", {p: ("k1", f"t1@{p}") for p in ids})
        return sim

    crashed = f", with at most {crashes} crash{'es' if crashes != 1 else ''}," if crashes else ""
    return search(make_sim, max_depth=depth, crashes=crashes, max_states=max_states).check(
        f"every schedule of one transaction with {participants} participants{crashed} up to {depth} steps")
