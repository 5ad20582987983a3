"""Chapter 03c: a key-value service on a replicated log, checked by chapter 01's linearizability checker.

- :mod:`~course_lib.topics.raft.service.log`: :class:`LogModel`, a model of a replicated log
  that shows a service every behaviour a Raft shows it (leaders change, a deposed leader still
  accepts commands, uncommitted entries are lost and their indices reused, applies come late and
  in bursts, restarts replay from a snapshot) without being a Raft; and its oracle, :func:`world`.
- :mod:`~course_lib.topics.raft.service.base`: :class:`KVServiceBase` (the service half of a
  server, combined with a log class into one node) and :class:`ClerkBase` (a client: the learner
  writes ``get``, ``put`` and ``append``; the base class runs the workload and records the history).
- :mod:`~course_lib.topics.raft.service.cluster`: :class:`KVCluster`, servers and clerks in one
  simulation, with the nemesis, workloads, invariants, metrics and the checker.
- :mod:`~course_lib.topics.raft.service.naive`: :class:`NaiveKVServer` and :class:`NaiveClerk`,
  the lecture's "before" versions (wrong on purpose).
- :mod:`~course_lib.topics.raft.service.pictures`: the chapter's pictures.
- :mod:`~course_lib.topics.raft.service.scenarios`: the exercise's graded scenarios (random
  workloads under faults, reads, snapshots, and scripted schedules, ``kv_scripted``).

The service runs on :class:`LogModel` by default; a learner's own 03b Raft (a subclass of
:class:`~course_lib.topics.raft.RaftBase`, with Part D for snapshots) plugs in instead with
``KVCluster(KVServer, Clerk, log=MyRaft)``.
"""

from .base import ClerkBase, KVServiceBase
from .cluster import KVCluster
from .log import MODEL_TYPES, LogModel, World, model_consistent, world
from .naive import NaiveClerk, NaiveKVServer
from .scenarios import (SCHEDULES, FollowersApplyLate, kv_crashes, kv_many_clients, kv_one_client, kv_partitions,
                        kv_reads_skip_log, kv_scripted, kv_snapshot_restart, kv_snapshot_size, kv_unreliable)

__all__ = [
    "LogModel", "World", "world", "model_consistent", "MODEL_TYPES",
    "KVServiceBase", "ClerkBase", "KVCluster", "NaiveKVServer", "NaiveClerk",
    "kv_one_client", "kv_many_clients", "kv_unreliable", "kv_partitions", "kv_crashes", "kv_reads_skip_log",
    "kv_snapshot_size", "kv_snapshot_restart", "kv_scripted", "SCHEDULES", "FollowersApplyLate",
]
