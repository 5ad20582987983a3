"""Chapter 04: replication: leaders and followers, leaderless quorums, conflicts, CRDTs and gossip.

- :mod:`~course_lib.topics.replication.naive`: the tutorials' :class:`QuorumStore` and
  :class:`LWWResolver`, ported faithfully (the "before" versions);
- :mod:`~course_lib.topics.replication.leader`: single-leader replication (sync, semi-sync,
  async), lag, failover, reads from followers; primary-backup, chain replication, CRAQ;
- :mod:`~course_lib.topics.replication.quorum`: leaderless storage replicas, quorum clients
  recording histories, the tutorial's store on the simulator, :func:`run_quorum`;
- :mod:`~course_lib.topics.replication.antientropy`: Merkle-tree sync against a full exchange,
  stale copies under read repair, hinted handoff and anti-entropy;
- :mod:`~course_lib.topics.replication.conflicts`: version vectors, siblings, a multi-leader
  shopping cart under last-write-wins and under siblings;
- :mod:`~course_lib.topics.replication.crdts`: a harness for state-based CRDTs;
- :mod:`~course_lib.topics.replication.gossip`: broadcast over a topology with meters;
- :mod:`~course_lib.topics.replication.pictures`: the chapter's pictures.
"""

from .antientropy import MECHANISMS, SyncCost, full_exchange, merkle_exchange, staleness_run
from .conflicts import SiblingStore, Stamped, VersionVector, multi_leader_run
from .crdts import KINDS, CRDTRun, merge_orders, random_ops, run_crdt
from .gossip import (TOPOLOGIES, BroadcastNode, BroadcastRun, FloodNode, RumourMonger, run_broadcast,
                     topology)
from .leader import DESIGNS, MODES, ROUTES, ChainRun, LeaderRun, chain_run, leader_run
from .naive import LWWResolver, MemoryReplica, QuorumStore, quorum_overlap
from .pictures import plot_broadcast, plot_lag, plot_staleness, plot_sync_costs
from .quorum import (QuorumClient, QuorumRun, StorageReplica, TutorialQuorumClient, lost_writes,
                     newer, run_quorum, stale_reads)

__all__ = [
    "QuorumStore", "LWWResolver", "MemoryReplica", "quorum_overlap",
    "MODES", "ROUTES", "DESIGNS", "LeaderRun", "ChainRun", "leader_run", "chain_run",
    "QuorumClient", "QuorumRun", "StorageReplica", "TutorialQuorumClient", "lost_writes", "newer",
    "run_quorum", "stale_reads",
    "MECHANISMS", "SyncCost", "full_exchange", "merkle_exchange", "staleness_run",
    "VersionVector", "SiblingStore", "Stamped", "multi_leader_run",
    "KINDS", "CRDTRun", "merge_orders", "random_ops", "run_crdt",
    "TOPOLOGIES", "BroadcastNode", "BroadcastRun", "FloodNode", "RumourMonger", "run_broadcast", "topology",
    "plot_broadcast", "plot_lag", "plot_staleness", "plot_sync_costs",
]
