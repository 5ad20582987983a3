"""Chapter 03b: Raft's messages, a node base class, a cluster harness, the scenarios and the pictures.

Everything here is *framework*: what 6.5840's ``labrpc``, ``persister`` and
``config.go`` give a student. The Raft algorithm itself (when to vote, how
to handle AppendEntries, when an entry is committed, what to persist) is the
learner's, in the chapter's exercise.

- :mod:`~course_lib.topics.raft.messages`: the builders :func:`RequestVote`, :func:`RequestVoteReply`,
  :func:`AppendEntries` and :func:`AppendEntriesReply`: the two RPCs of
  Figure 2 and their replies, as plain simulator messages handled by
  ``on_request_vote``, ``on_request_vote_reply``, ``on_append_entries`` and
  ``on_append_entries_reply``; and Figure 13's :func:`InstallSnapshot` and
  :func:`InstallSnapshotReply` (``on_install_snapshot``, ``on_install_snapshot_reply``).
- :mod:`~course_lib.topics.raft.node`: :class:`RaftBase`, a :class:`~course_lib.sim.Node` holding Figure 2's state
  (``current_term``, ``voted_for``, ``log``, ``commit_index``,
  ``last_applied``), the role verbs :meth:`~RaftBase.become_follower`,
  :meth:`~RaftBase.become_candidate` and :meth:`~RaftBase.become_leader`
  (which refuse to go backwards), the election and heartbeat timers, log
  helpers, the apply channel :meth:`~RaftBase.apply`, and the persistence
  hooks :meth:`~RaftBase.persist` / :meth:`~RaftBase.restore` (no-ops until
  a subclass fills them in; only ``self.storage`` survives a crash). For
  snapshots: :class:`RaftLog`, a log that compacts a prefix into a snapshot but
  keeps absolute indices, :meth:`~RaftBase.apply_snapshot`, :meth:`~RaftBase.log_size`,
  and the hooks a service on top defines, ``on_apply`` and ``on_apply_snapshot``.
- :mod:`~course_lib.topics.raft.harness`: :class:`RaftCluster`, to start servers, partition them, crash and restart
  them, find the leader, submit commands and wait for agreement within a
  bounded simulated time (``check_one_leader``, ``check_terms``,
  ``n_committed``, ``one``, as in 6.5840's ``config.go``). It registers the
  invariants of :mod:`course_lib.checkers.raft`, checked after every event.
  And :class:`ScriptedPeer`, a stand-in server that scenarios drive by hand, to
  test one rule of Figure 2 at a time.
- :mod:`~course_lib.topics.raft.scenarios`: the graded scenarios (``initial_election`` ...
  ``churn``, all in :data:`SCENARIOS`): each takes the Raft class and a seed and raises
  :class:`~course_lib.grading.ScenarioFailed`; and :func:`election_search`, which searches every
  schedule of three servers' first steps (:mod:`course_lib.search`) instead of one seeded run, and
  :func:`figure8_search`, which finds the paper's Figure 8 in phases, with client commands.
  Part D's scenarios (log compaction: ``snapshot_basic`` ... ``snapshot_churn``) are in
  :data:`SNAPSHOT_SCENARIOS`: they need a Raft that writes ``snapshot(index, data)``.
- :mod:`~course_lib.topics.raft.pictures`: :func:`role_timeline` and :func:`log_rows`.
- :mod:`~course_lib.topics.raft.recorded`, :mod:`~course_lib.topics.raft.client` and
  :mod:`~course_lib.topics.raft.explore`: what the lecture draws a working Raft from: recorded runs
  of the reference solution (``data/raft_traces/``) and their readers, a client that follows the
  leader of the highest term, and the crash-and-cut explorer's runs and picture.

A log is a Python list of ``(term, command)`` pairs; log index ``i`` (1-based,
as in the paper) is ``log[i - 1]``, and index 0 stands for "before the first
entry", with term 0.

Time: election timeouts are drawn from 150-300 time units and leaders send
heartbeats every 50, with message latency of 1-10 units: think of a unit as a
millisecond, as in 6.5840.

Example:
    >>> cluster = RaftCluster(RaftBase, 3, seed=1)
    >>> cluster.sim.run(until=100)
    >>> [n.role for n in cluster.nodes]
    ['follower', 'follower', 'follower']
"""

from .harness import RaftCluster, ScriptedPeer
from .messages import (RAFT_TYPES, AppendEntries, AppendEntriesReply, InstallSnapshot, InstallSnapshotReply,
                       RequestVote, RequestVoteReply)
from .node import ELECTION_TIMEOUT, HEARTBEAT_INTERVAL, ROLES, RaftBase, RaftLog, ServiceHooks
from .pictures import ROLE_COLORS, log_rows, role_spans, role_timeline, term_color
from .scenarios import (SCENARIOS, SEARCH_SCENARIOS, SNAPSHOT_EVERY, SNAPSHOT_SCENARIOS, install_snapshot_rules,
                        snapshot_basic, snapshot_churn, snapshot_init, snapshot_install, snapshot_restart,
                        basic_agreement, churn, concurrent_starts, election_budget,
                        election_search, figure8_search,
                        fast_backup, figure8, follower_failure, follower_log_rules, initial_election,
                        leader_commit_rules, leader_reply_rules, leader_failure, many_elections, message_budget,
                        no_agreement_without_majority, persist1, persist2, persist3, persist_state,
                        reelection, rejoin_follower_catches_up, rejoin_partitioned_leader, unreliable_agreement,
                        vote_rules)

__all__ = [
    "RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply", "RAFT_TYPES",
    "InstallSnapshot", "InstallSnapshotReply", "RaftLog", "ServiceHooks",
    "RaftBase", "ScriptedPeer", "RaftCluster", "ROLES",
    "HEARTBEAT_INTERVAL", "ELECTION_TIMEOUT", "SCENARIOS", "SEARCH_SCENARIOS", "election_search", "figure8_search",
    "ROLE_COLORS", "log_rows", "role_spans", "role_timeline", "term_color",
    "initial_election", "reelection", "many_elections", "election_budget", "vote_rules",
    "basic_agreement", "concurrent_starts", "follower_failure", "leader_failure", "rejoin_follower_catches_up",
    "no_agreement_without_majority", "rejoin_partitioned_leader", "fast_backup", "message_budget",
    "follower_log_rules", "leader_commit_rules", "leader_reply_rules",
    "persist_state", "persist1", "persist2", "persist3", "figure8", "unreliable_agreement", "churn",
    "SNAPSHOT_SCENARIOS", "SNAPSHOT_EVERY", "snapshot_basic", "install_snapshot_rules", "snapshot_install",
    "snapshot_restart", "snapshot_init", "snapshot_churn",
]
