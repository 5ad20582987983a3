"""The two RPCs of Raft's Figure 2, Figure 13's InstallSnapshot, and their replies, as plain simulator messages.

Handled by ``on_request_vote``, ``on_request_vote_reply``, ``on_append_entries``,
``on_append_entries_reply``, ``on_install_snapshot`` and ``on_install_snapshot_reply``.
A log is a Python list of ``(term, command)`` pairs; log index ``i`` (1-based,
as in the paper) is ``log[i - 1]``.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ...sim import Message
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_int

RAFT_TYPES = ("request_vote", "request_vote_reply", "append_entries", "append_entries_reply",
              "install_snapshot", "install_snapshot_reply")


def _index(name: str, value: Any) -> int:
    """A term or log index: an int >= 0 (not a bool)."""
    if value.__class__ is int and value >= 0:  # the common case, cheaply
        return value
    return check_int(name, value, low=0)

def RequestVote(*, term: int, candidate_id: Any, last_log_index: int, last_log_term: int) -> Message:
    """A candidate asks for a vote (Figure 2, "RequestVote RPC, Arguments").

    Example:
        >>> RequestVote(term=2, candidate_id="s1", last_log_index=0, last_log_term=0).type
        'request_vote'

    Raises:
        InvalidArgument: ``term``, ``last_log_index`` or ``last_log_term`` is not an int >= 0.
    """
    _index("term", term)
    _index("last_log_index", last_log_index)
    _index("last_log_term", last_log_term)
    return Message("request_vote", term=term, candidate_id=candidate_id,
                   last_log_index=last_log_index, last_log_term=last_log_term)


def RequestVoteReply(*, term: int, vote_granted: bool) -> Message:
    """The answer to a RequestVote: the voter's term, and whether it granted its vote (made a bool)."""
    _index("term", term)
    return Message("request_vote_reply", term=term, vote_granted=bool(vote_granted))


def AppendEntries(*, term: int, leader_id: Any, prev_log_index: int, prev_log_term: int,
                  entries: Sequence[tuple] = (), leader_commit: int) -> Message:
    """A leader replicates entries, or says "I am still here" with none (a heartbeat).

    ``entries`` are ``(term, command)`` pairs following ``prev_log_index``; they
    travel as a tuple, so the receiver never shares the leader's list.

    Raises:
        InvalidArgument: a term or index is not an int >= 0, or ``entries`` is
            not a list of ``(term, command)`` pairs.
    """
    _index("term", term)
    _index("prev_log_index", prev_log_index)
    _index("prev_log_term", prev_log_term)
    _index("leader_commit", leader_commit)
    if isinstance(entries, (str, bytes, dict)) or not isinstance(entries, Iterable):
        raise InvalidArgumentType(f"entries={entries!r} must be a list of (term, command) pairs")
    entries = tuple(entries)
    for i, entry in enumerate(entries):
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise InvalidArgument(f"entries[{i}]={entry!r} must be a pair (term, command)")
    return Message("append_entries", term=term, leader_id=leader_id, prev_log_index=prev_log_index,
                   prev_log_term=prev_log_term, entries=entries, leader_commit=leader_commit)


def AppendEntriesReply(*, term: int, success: bool, match_index: int = 0,
                       conflict_index: int = 0, conflict_term: int | None = None) -> Message:
    """The answer to an AppendEntries.

    Args:
        term: the follower's current term (the leader steps down if it is higher).
        success: whether the follower's log matched ``prev_log_index``/``prev_log_term``.
        match_index: on success, the index of the last entry the request made
            the follower hold (``prev_log_index + len(entries)``): replies may
            arrive late or twice, so the leader must not guess it.
        conflict_index, conflict_term: on failure, hints for backing up fast
            (6.5840's "fast backup"): the term of the follower's conflicting
            entry (None if its log is too short) and the first index it holds
            for that term (or its log length + 1).

    Raises:
        InvalidArgument: ``term``, ``match_index`` or ``conflict_index`` is not
            an int >= 0, or ``conflict_term`` neither None nor one.
    """
    _index("term", term)
    _index("match_index", match_index)
    _index("conflict_index", conflict_index)
    if conflict_term is not None:
        _index("conflict_term", conflict_term)
    return Message("append_entries_reply", term=term, success=bool(success), match_index=match_index,
                   conflict_index=conflict_index, conflict_term=conflict_term)


def InstallSnapshot(*, term: int, leader_id: Any, last_included_index: int, last_included_term: int,
                    data: Any) -> Message:
    """A leader sends its snapshot to a follower that needs entries it has compacted (Figure 13).

    The snapshot travels whole (Figure 13's ``offset`` and ``done``, for sending
    it in chunks, are left out, as in 6.5840).

    Args:
        term: the leader's term.
        leader_id: the leader, so the follower can redirect clients.
        last_included_index, last_included_term: the snapshot replaces every entry up
            to and including this index, whose term is this.
        data: the snapshot: the service's state after entry ``last_included_index``.

    Example:
        >>> InstallSnapshot(term=3, leader_id="s1", last_included_index=10, last_included_term=2,
        ...                 data=("a",) * 10).type
        'install_snapshot'

    Raises:
        InvalidArgument: ``term``, ``last_included_index`` or ``last_included_term`` is not an int >= 0.
    """
    _index("term", term)
    _index("last_included_index", last_included_index)
    _index("last_included_term", last_included_term)
    return Message("install_snapshot", term=term, leader_id=leader_id, last_included_index=last_included_index,
                   last_included_term=last_included_term, data=data)


def InstallSnapshotReply(*, term: int, last_included_index: int = 0) -> Message:
    """The answer to an InstallSnapshot.

    Args:
        term: the follower's current term (the leader steps down if it is higher).
        last_included_index: the ``last_included_index`` of the snapshot this answers: the
            follower now holds everything up to it, so the leader may raise the follower's
            ``match_index`` to it (replies arrive late or twice: the leader must not guess it).

    Raises:
        InvalidArgument: ``term`` or ``last_included_index`` is not an int >= 0.
    """
    _index("term", term)
    _index("last_included_index", last_included_index)
    return Message("install_snapshot_reply", term=term, last_included_index=last_included_index)
