"""Chapter 03b's graded scenarios: each runs the learner's Raft class and raises ScenarioFailed.

Invariant violations and handler errors surface through
:func:`course_lib.grading.run_once` with the seed and a replay line. The parts
follow the exercise: :mod:`.election` (A), :mod:`.replication` (B) and
:mod:`.persistence` (C). :data:`SCENARIOS` lists them all by name, in that order.
Part D's, :mod:`.snapshots` (log compaction), need a Raft that snapshots, so they
are listed apart, in :data:`SNAPSHOT_SCENARIOS`.
"""

from __future__ import annotations

from typing import Callable

from .election import election_budget, initial_election, many_elections, reelection, vote_rules
from .persistence import churn, figure8, persist1, persist2, persist3, persist_state, unreliable_agreement
from .search import FIGURE8_PHASES, election_search, figure8_search
from .snapshots import (SNAPSHOT_EVERY, install_snapshot_rules, snapshot_basic, snapshot_churn, snapshot_init,
                        snapshot_install, snapshot_restart)
from .replication import (basic_agreement, concurrent_starts, fast_backup, follower_failure,
                          follower_log_rules, leader_commit_rules, leader_reply_rules, leader_failure, message_budget,
                          no_agreement_without_majority, rejoin_follower_catches_up,
                          rejoin_partitioned_leader)

SCENARIOS: dict[str, Callable] = {scenario.__name__: scenario for scenario in (
    # Part A: leader election
    initial_election, reelection, many_elections, election_budget, vote_rules,
    # Part B: log replication
    basic_agreement, concurrent_starts, follower_failure, leader_failure, rejoin_follower_catches_up,
    no_agreement_without_majority, rejoin_partitioned_leader, fast_backup, message_budget,
    follower_log_rules, leader_commit_rules, leader_reply_rules,
    # Part C: persistence
    persist_state, persist1, persist2, persist3, figure8, unreliable_agreement, churn,
)}
"""Every graded scenario by name, in the order of the exercise's parts."""

SNAPSHOT_SCENARIOS: dict[str, Callable] = {scenario.__name__: scenario for scenario in (
    # Part D: log compaction (a Raft class that writes snapshot())
    snapshot_basic, install_snapshot_rules, snapshot_install, snapshot_restart, snapshot_init, snapshot_churn,
)}
"""Part D's graded scenarios by name: they need a Raft that snapshots (``snapshot(index, data)``)."""

SEARCH_SCENARIOS: dict[str, Callable] = {"election_search": election_search, "figure8_search": figure8_search}
"""Scenarios that search every schedule of a small cluster (the seed only names the run)."""

__all__ = [
    "SCENARIOS", "SEARCH_SCENARIOS", "SNAPSHOT_SCENARIOS", "SNAPSHOT_EVERY",
    "snapshot_basic", "install_snapshot_rules", "snapshot_install", "snapshot_restart", "snapshot_init",
    "snapshot_churn", "election_search", "figure8_search", "FIGURE8_PHASES",
    "initial_election", "reelection", "many_elections", "election_budget", "vote_rules",
    "basic_agreement", "concurrent_starts", "follower_failure", "leader_failure", "rejoin_follower_catches_up",
    "no_agreement_without_majority", "rejoin_partitioned_leader", "fast_backup", "message_budget",
    "follower_log_rules", "leader_commit_rules", "leader_reply_rules",
    "persist_state", "persist1", "persist2", "persist3", "figure8", "unreliable_agreement", "churn",
]
