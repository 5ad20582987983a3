"""Chapter 03a: agreement. Atomic commit, leader election, Paxos, and who led when.

- :mod:`~course_lib.topics.agreement.commit`: participants' databases, naive two-phase commit,
  three-phase commit, crash points, the commit scenario and the commit search;
- :mod:`~course_lib.topics.agreement.election`: the tutorials' elections, bully and ring, leases,
  fencing, pauses, failure detection and the lease scenario;
- :mod:`~course_lib.topics.agreement.consensus`: the four properties of consensus, checked on a
  run, and the naive protocols that each miss one;
- :mod:`~course_lib.topics.agreement.paxos`: single-decree Paxos;
- :mod:`~course_lib.topics.agreement.synchrony`: Paxos under partial synchrony (a GST);
- :mod:`~course_lib.topics.agreement.multipaxos`: Multi-Paxos, a replicated log (total-order
  broadcast), and consensus built on it;
- :mod:`~course_lib.topics.agreement.byzantine`: a lying acceptor, and the 3f + 1 arithmetic;
- :mod:`~course_lib.topics.agreement.pictures`: :func:`leader_timeline`, :func:`ballot_timeline`,
  :func:`event_labels` and :func:`mark_cut_off`;
- :mod:`~course_lib.topics.agreement.summaries`: runs as small text tables.

The lecture reads them by topic (``from course_lib.topics.agreement import commit, election,
paxos`` and then ``commit.crash_after``); every name is also here, for the exercise's imports.
"""

from . import byzantine, commit, consensus, election, multipaxos, paxos, summaries, synchrony
from .commit import (CRASH_POINTS, DEFAULT_REFUSAL_RATE, OUTCOMES, CommitCoordinator, CommitParticipant,
                     NaiveCoordinator, NaiveParticipant, ThreePCCoordinator, ThreePCParticipant,
                     commit_scenario, commit_search, crash_after, in_doubt_time, set_refusal_rate,
                     transaction_outcomes)
from .election import (ARRANGEMENTS, LEASE_TTL, BullyNode, EtcdLeaderElection, FailureDetector,
                       FencedStorage, HeartbeatElection, Heartbeater, HeartbeatMonitor, LeadershipLog,
                       LeaseStore, RedisLeaderElection, RingNode, is_paused, lease_scenario, pause,
                       pause_node, ring_order, run_bully, run_failure_detector, run_ring, suspicions,
                       watch_leaders)
from .byzantine import LyingAcceptor, quorum_table, run_lying_acceptor
from .consensus import (PROPERTIES, RULES, NaiveConsensus, consensus_report, consensus_safety, property_table,
                        run_consensus)
from .multipaxos import LogConsensus, MultiPaxosNode, one_value_per_slot, run_log
from .paxos import BACKOFFS, PaxosNode, decision_time, learned_values, run_paxos
from .pictures import ballot_timeline, event_labels, leader_timeline, mark_cut_off
from .summaries import message_table, outcome_table, text_table
from .synchrony import run_partially_synchronous

__all__ = [
    "byzantine", "commit", "consensus", "election", "multipaxos", "paxos", "summaries", "synchrony",
    "CRASH_POINTS", "DEFAULT_REFUSAL_RATE", "OUTCOMES", "CommitCoordinator", "CommitParticipant",
    "NaiveCoordinator", "NaiveParticipant", "ThreePCCoordinator", "ThreePCParticipant", "commit_scenario",
    "commit_search", "crash_after", "in_doubt_time", "set_refusal_rate", "transaction_outcomes",
    "ARRANGEMENTS", "LEASE_TTL", "BullyNode", "EtcdLeaderElection", "FailureDetector", "FencedStorage",
    "HeartbeatElection", "Heartbeater", "HeartbeatMonitor", "LeadershipLog", "LeaseStore",
    "RedisLeaderElection", "RingNode", "is_paused", "lease_scenario", "pause", "pause_node", "ring_order",
    "run_bully", "run_failure_detector", "run_ring", "suspicions", "watch_leaders",
    "BACKOFFS", "PaxosNode", "decision_time", "learned_values", "run_paxos",
    "PROPERTIES", "RULES", "NaiveConsensus", "consensus_report", "consensus_safety", "property_table",
    "run_consensus", "LogConsensus", "MultiPaxosNode", "one_value_per_slot", "run_log",
    "run_partially_synchronous", "LyingAcceptor", "quorum_table", "run_lying_acceptor",
    "ballot_timeline", "event_labels", "leader_timeline", "mark_cut_off",
    "message_table", "outcome_table", "text_table",
]
