"""Atomic commit (chapter 03a): participants' databases, naive 2PC, 3PC, crash points, the scenario.

A distributed transaction writes at several *participants*; a *coordinator*
asks each one to prepare and then tells all of them the outcome. Every
participant must end with the same outcome (atomicity), and commit only if
every participant's database could (validity).

The pieces, one module each:

- :mod:`.base`: :class:`CommitParticipant` and :class:`CommitCoordinator`, base classes with
  the helpers every protocol needs: a participant's database (``data``,
  which survives crashes), :meth:`~CommitParticipant.local_vote` (may this
  database commit the transaction?), :meth:`~CommitParticipant.commit` and
  :meth:`~CommitParticipant.abort`; the coordinator's
  :meth:`~CommitCoordinator.decide`. They record ``"vote"`` and ``"decide"``
  events, which :func:`course_lib.checkers.atomic_commit` checks.
- :mod:`.two_phase`: :class:`NaiveCoordinator` / :class:`NaiveParticipant`, two-phase commit as it
  is usually first drawn: no log, no recovery, decisions sent once.
- :mod:`.three_phase`: :class:`ThreePCCoordinator` / :class:`ThreePCParticipant`, three-phase commit
  with a timeout-based termination protocol.
- :mod:`.crashes`: :func:`crash_after`, crash a node at a protocol point ("right after it
  voted yes"), not at a clock time.
- :mod:`.scenario`: :func:`commit_scenario`, run any coordinator and participant classes through
  transactions under loss and crashes, and check atomicity and progress; and
  :func:`transaction_outcomes` and :func:`in_doubt_time`, which read a run's trace.
- :mod:`.scripted`: :func:`participant_scenario` and :func:`coordinator_scenario`, one node of
  a protocol among scripted peers on a fixed schedule (a repeated prepare or decision, a query
  that goes unanswered, a duplicated vote), so each rule is exercised on every seed.
- :mod:`.search`: :func:`commit_search`, every schedule of one transaction's first steps
  (messages in any order, timers at any time, a crash), with atomicity checked in every state
  (:mod:`course_lib.search`), instead of one seeded run.

The two-phase commit protocol the classes speak
-----------------------------------------------
======================================  ==================================================
message                                  meaning
======================================  ==================================================
``prepare(txid, key, value)``            coordinator -> participant: can you commit this write?
``vote(txid, vote)``                     participant -> coordinator: ``"yes"`` or ``"no"``
``decision(txid, outcome)``              coordinator -> participant: ``"commit"`` or ``"abort"``
``ack(txid)``                            participant -> coordinator: decision applied
``query(txid)``                          participant -> coordinator: what was decided?
======================================  ==================================================

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=3)
    >>> set_refusal_rate(sim, 0.0)
    >>> coord = sim.add_node(NaiveCoordinator, "coord")
    >>> _ = sim.add_nodes(NaiveParticipant, ["p1", "p2"])
    >>> sim.at(1.0, coord.begin, "t1", {"p1": ("x", 1), "p2": ("y", 2)})
    >>> sim.run(until=20)
    >>> sorted(transaction_outcomes(sim)["t1"].items())
    [('coord', 'commit'), ('p1', 'commit'), ('p2', 'commit')]
"""


from .base import (DEFAULT_REFUSAL_RATE, OUTCOMES, CommitCoordinator, CommitParticipant,
                   set_refusal_rate)
from .crashes import crash_after
from .scenario import CRASH_POINTS, commit_scenario, in_doubt_time, transaction_outcomes
from .scripted import COORDINATOR_CASES, PARTICIPANT_CASES, coordinator_scenario, participant_scenario
from .search import commit_search
from .three_phase import ThreePCCoordinator, ThreePCParticipant
from .two_phase import NaiveCoordinator, NaiveParticipant

__all__ = [
    "DEFAULT_REFUSAL_RATE", "OUTCOMES", "CommitCoordinator", "CommitParticipant", "set_refusal_rate",
    "crash_after", "CRASH_POINTS", "commit_scenario", "commit_search", "in_doubt_time", "transaction_outcomes",
    "ThreePCCoordinator", "ThreePCParticipant", "NaiveCoordinator", "NaiveParticipant",
    "COORDINATOR_CASES", "PARTICIPANT_CASES", "coordinator_scenario", "participant_scenario",
]
