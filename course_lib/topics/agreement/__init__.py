"""Chapter 03a: agreement. Atomic commit, leader election, Paxos, and who led when.

- :mod:`~course_lib.topics.agreement.commit`: participants' databases, naive two-phase commit,
  three-phase commit, crash points, the commit scenario and the commit search;
- :mod:`~course_lib.topics.agreement.election`: the tutorials' elections, bully and ring, leases,
  fencing, pauses, failure detection and the lease scenario;
- :mod:`~course_lib.topics.agreement.paxos`: single-decree Paxos;
- :mod:`~course_lib.topics.agreement.pictures`: :func:`leader_timeline`.

The lecture reads them by topic (``from course_lib.topics.agreement import commit, election,
paxos`` and then ``commit.crash_after``); every name is also here, for the exercise's imports.
"""

from . import commit, election, paxos
from .commit import (CRASH_POINTS, DEFAULT_REFUSAL_RATE, OUTCOMES, CommitCoordinator, CommitParticipant,
                     NaiveCoordinator, NaiveParticipant, ThreePCCoordinator, ThreePCParticipant,
                     commit_scenario, commit_search, crash_after, in_doubt_time, set_refusal_rate,
                     transaction_outcomes)
from .election import (ARRANGEMENTS, LEASE_TTL, BullyNode, EtcdLeaderElection, FailureDetector,
                       FencedStorage, HeartbeatElection, Heartbeater, HeartbeatMonitor, LeadershipLog,
                       LeaseStore, RedisLeaderElection, RingNode, is_paused, lease_scenario, pause,
                       pause_node, ring_order, run_bully, run_failure_detector, run_ring, suspicions,
                       watch_leaders)
from .paxos import BACKOFFS, PaxosNode, decision_time, learned_values, run_paxos
from .pictures import leader_timeline

__all__ = [
    "commit", "election", "paxos",
    "CRASH_POINTS", "DEFAULT_REFUSAL_RATE", "OUTCOMES", "CommitCoordinator", "CommitParticipant",
    "NaiveCoordinator", "NaiveParticipant", "ThreePCCoordinator", "ThreePCParticipant", "commit_scenario",
    "commit_search", "crash_after", "in_doubt_time", "set_refusal_rate", "transaction_outcomes",
    "ARRANGEMENTS", "LEASE_TTL", "BullyNode", "EtcdLeaderElection", "FailureDetector", "FencedStorage",
    "HeartbeatElection", "Heartbeater", "HeartbeatMonitor", "LeadershipLog", "LeaseStore",
    "RedisLeaderElection", "RingNode", "is_paused", "lease_scenario", "pause", "pause_node", "ring_order",
    "run_bully", "run_failure_detector", "run_ring", "suspicions", "watch_leaders",
    "BACKOFFS", "PaxosNode", "decision_time", "learned_values", "run_paxos",
    "leader_timeline",
]
