"""Chapter 03b scaffolding for Raft: messages, a node base class, a cluster harness and the scenarios.

Everything here is *framework*: what 6.5840's ``labrpc``, ``persister`` and
``config.go`` give a student. The Raft algorithm itself (when to vote, how
to handle AppendEntries, when an entry is committed, what to persist) is the
learner's, in the chapter's exercise.

- Message builders :func:`RequestVote`, :func:`RequestVoteReply`,
  :func:`AppendEntries` and :func:`AppendEntriesReply`: the two RPCs of
  Figure 2 and their replies, as plain simulator messages handled by
  ``on_request_vote``, ``on_request_vote_reply``, ``on_append_entries`` and
  ``on_append_entries_reply``.
- :class:`RaftBase`: a :class:`~course_lib.sim.Node` holding Figure 2's state
  (``current_term``, ``voted_for``, ``log``, ``commit_index``,
  ``last_applied``), the role verbs :meth:`~RaftBase.become_follower`,
  :meth:`~RaftBase.become_candidate` and :meth:`~RaftBase.become_leader`
  (which refuse to go backwards), the election and heartbeat timers, log
  helpers, the apply channel :meth:`~RaftBase.apply`, and the persistence
  hooks :meth:`~RaftBase.persist` / :meth:`~RaftBase.restore` (no-ops until
  a subclass fills them in; only ``self.storage`` survives a crash).
- :class:`RaftCluster`: start servers, partition them, crash and restart
  them, find the leader, submit commands and wait for agreement within a
  bounded simulated time (``check_one_leader``, ``check_terms``,
  ``n_committed``, ``one``, as in 6.5840's ``config.go``). It registers the
  invariants of :mod:`course_lib.checkers.raft`, checked after every event.
- :class:`ScriptedPeer`: a stand-in server that scenarios drive by hand, to
  test one rule of Figure 2 at a time.
- The graded scenarios (``initial_election`` ... ``churn``): each takes the
  Raft class and a seed and raises :class:`~course_lib.grading.ScenarioFailed`.

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

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from .checkers import raft as raft_invariants
from .sim.errors import ScenarioFailed
from .sim import Message, Node, Simulation, Uniform
from .sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_positive,
                             check_type)

__all__ = [
    "RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply",
    "RaftBase", "ScriptedPeer", "RaftCluster", "ROLES",
    "HEARTBEAT_INTERVAL", "ELECTION_TIMEOUT", "SCENARIOS",
]

ROLES = ("follower", "candidate", "leader")
HEARTBEAT_INTERVAL = 50.0
ELECTION_TIMEOUT = (150.0, 300.0)
RAFT_TYPES = ("request_vote", "request_vote_reply", "append_entries", "append_entries_reply")


# -- the messages of Figure 2 -------------------------------------------------------------------

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


# -- the node base class --------------------------------------------------------------------------

class RaftBase(Node):
    """A Raft server's state and bookkeeping (Figure 2); subclass it and write the rules.

    State, with Figure 2's names:

    - ``current_term``, ``voted_for``, ``log``: "persistent state on all
      servers" (persistence is yours: see :meth:`persist`);
    - ``commit_index``, ``last_applied``: volatile state;
    - ``role``: ``"follower"``, ``"candidate"`` or ``"leader"``, read-only;
      change it with the verbs :meth:`become_follower`,
      :meth:`become_candidate` and :meth:`become_leader`.

    Timers: the election timer runs from the start; it calls
    :meth:`on_election_timeout` after a random 150-300 units unless
    :meth:`reset_election_timer` pushes it back (it is re-armed every time it
    fires; a leader's is ignored). :meth:`start_heartbeats` calls
    :meth:`on_heartbeat` every 50 units until the node stops leading.

    Messages: send at most ``MAX_ENTRIES`` (64) entries per AppendEntries.

    Everything a subclass must write raises ``NotImplementedError`` here.
    """

    ELECTION_TIMEOUT = ELECTION_TIMEOUT
    HEARTBEAT_INTERVAL = HEARTBEAT_INTERVAL
    #: Called by the timers with no argument: hooks, not message handlers.
    hooks = ("on_start", "on_election_timeout", "on_heartbeat")
    #: At most this many entries per AppendEntries: a follower far behind catches up in batches,
    #: and a leader cut off from its followers does not resend an ever longer log.
    MAX_ENTRIES = 64

    def __init__(self) -> None:
        self.current_term = 0
        self.voted_for: Any = None
        self.log: list[tuple[int, Any]] = []
        self.commit_index = 0
        self.last_applied = 0
        self._role = "follower"
        self._election_timer: Any = None
        self._heartbeat_timer: Any = None

    def on_start(self) -> None:
        """Read back persisted state, then start the election timer."""
        self.restore()
        self.reset_election_timer()

    # -- role verbs ---------------------------------------------------------------------
    @property
    def role(self) -> str:
        """``"follower"``, ``"candidate"`` or ``"leader"`` (change it with the ``become_*`` verbs)."""
        return self._role

    @role.setter
    def role(self, value: Any) -> None:
        raise AttributeError(
            f"role={value!r}: change a node's role with become_follower(term), become_candidate() "
            "or become_leader(), which keep the term and the trace right")

    def get_state(self) -> tuple[int, bool]:
        """Return ``(current_term, is_leader)``, as 6.5840's ``GetState``."""
        return self.current_term, self._role == "leader"

    def become_follower(self, term: int) -> None:
        """Follow in ``term`` (>= ``current_term``); a new term forgets the vote. Stops heartbeats.

        Raises:
            ValueError: ``term`` is older than ``current_term`` (terms never go backwards).
        """
        if isinstance(term, bool) or not isinstance(term, int):
            raise InvalidArgumentType(f"become_follower(term={term!r}): term must be an int")
        if term < self.current_term:
            raise InvalidArgument(f"become_follower(term={term}): node {self.id!r} is already in term "
                             f"{self.current_term}; a node's term never goes backwards")
        changed = term > self.current_term or self._role != "follower"
        if term > self.current_term:
            self.current_term = term
            self.voted_for = None
        self._role = "follower"
        self.stop_heartbeats()
        if changed:
            self.record("role", role="follower", term=self.current_term)

    def become_candidate(self) -> None:
        """Start an election: move to the next term, as a candidate that votes for itself.

        Raises:
            RuntimeError: the node is the leader (a leader only steps down, with
                :meth:`become_follower`, on seeing a higher term).
        """
        if self._role == "leader":
            raise RuntimeError(f"become_candidate(): node {self.id!r} leads term {self.current_term}; "
                               "a leader only steps down, with become_follower(term), on seeing a higher term")
        self.current_term += 1
        self.voted_for = self.id
        self._role = "candidate"
        self.record("role", role="candidate", term=self.current_term)

    def become_leader(self) -> None:
        """Lead the current term (only a candidate can: it must have won a majority of votes).

        Raises:
            RuntimeError: the node is not a candidate.
        """
        if self._role != "candidate":
            raise RuntimeError(f"become_leader(): node {self.id!r} is a {self._role} in term "
                               f"{self.current_term}; only a candidate that won a majority becomes leader")
        self._role = "leader"
        self.record("role", role="leader", term=self.current_term)

    # -- timers ---------------------------------------------------------------------------
    def reset_election_timer(self) -> None:
        """Push the election timeout back by a fresh random 150-300 units."""
        if self._election_timer is not None:
            self._election_timer.cancel()
        lo, hi = self.ELECTION_TIMEOUT
        self._election_timer = self.set_timer(self.rng.uniform(lo, hi), self._election_timer_fired,
                                              name="election_timeout")

    def _election_timer_fired(self) -> None:
        self._election_timer = None
        self.reset_election_timer()
        if self._role != "leader":
            self.on_election_timeout()

    def start_heartbeats(self) -> None:
        """Call :meth:`on_heartbeat` every ``HEARTBEAT_INTERVAL`` until :meth:`stop_heartbeats`."""
        self.stop_heartbeats()
        self._heartbeat_timer = self.every(self.HEARTBEAT_INTERVAL, self._heartbeat_fired, name="heartbeat")

    def stop_heartbeats(self) -> None:
        """Stop the heartbeat timer (:meth:`become_follower` does it for you)."""
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
            self._heartbeat_timer = None

    def _heartbeat_fired(self) -> None:
        if self._role == "leader":
            self.on_heartbeat()

    # -- the log ------------------------------------------------------------------------------
    def last_log_index(self) -> int:
        """The index of the last entry (0 when the log is empty)."""
        return len(self.log)

    def last_log_term(self) -> int:
        """The term of the last entry (0 when the log is empty)."""
        return self.log[-1][0] if self.log else 0

    def term_at(self, index: int) -> int:
        """The term of the entry at ``index`` (1-based; index 0 has term 0).

        Raises:
            IndexError: there is no entry at ``index`` (as indexing a list would).
            InvalidArgumentType: ``index`` is not an int.
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidArgumentType(f"term_at(index={index!r}): index must be an int")
        if index == 0:
            return 0
        if not 0 < index <= len(self.log):
            raise IndexError(f"term_at(index={index!r}): node {self.id!r} holds entries 1..{len(self.log)}")
        return self.log[index - 1][0]

    # -- the apply channel ------------------------------------------------------------------
    def apply(self, index: int, command: Any) -> None:
        """Hand the committed entry at ``index`` to the state machine (6.5840's ``applyCh``).

        Apply every committed entry exactly once, in log order: 1, 2, 3, ...
        The state machine is volatile: after a restart it starts again from 1.

        Raises:
            ValueError: ``index`` is not the next one to apply, is beyond
                ``commit_index``, or ``command`` is not the command at ``index``.
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidArgumentType(f"apply(index={index!r}): index must be an int")
        book = _book(self.sim)
        applied = book.applied_list(self)
        expected = len(applied) + 1
        if index != expected:
            raise InvalidArgument(f"apply(index={index!r}): node {self.id!r} has applied entries 1..{expected - 1}, "
                             f"so the next one to apply is {expected}; apply committed entries in order, "
                             "each exactly once")
        if index > self.commit_index:
            raise InvalidArgument(f"apply(index={index}): node {self.id!r} has commit_index={self.commit_index}; "
                             "apply only committed entries")
        if index > len(self.log) or self.log[index - 1][1] != command:
            held = repr(self.log[index - 1][1]) if index <= len(self.log) else "no entry"
            raise InvalidArgument(f"apply(index={index}, command={command!r}): node {self.id!r} holds {held} "
                             "at that index")
        applied.append(command)
        book.note_apply(index, command)
        self.record("apply", index=index, command=command, term=self.current_term)

    # -- persistence hooks ------------------------------------------------------------------------
    def persist(self) -> None:
        """Save the state Figure 2 calls persistent to ``self.storage`` (a no-op here).

        Call it whenever that state changes, before sending a message that
        depends on it: only ``self.storage`` survives a crash.
        """

    def restore(self) -> None:
        """Read back what :meth:`persist` saved (a no-op here); :meth:`on_start` calls it."""

    # -- what a subclass writes ------------------------------------------------------------------
    def on_election_timeout(self) -> None:
        """The election timer fired and this node does not lead: start an election."""
        raise NotImplementedError

    def on_heartbeat(self) -> None:
        """Every ``HEARTBEAT_INTERVAL`` while leading (after :meth:`start_heartbeats`)."""
        raise NotImplementedError

    def start(self, command: Any) -> tuple[int, int, bool]:
        """Append ``command`` to the log if leading; return ``(index, term, is_leader)``."""
        raise NotImplementedError

    # -- counting, for the message budgets ------------------------------------------------------------
    def send(self, dst: Any, msg: Message | str, /, **fields: Any) -> Message:
        wire = super().send(dst, msg, **fields)
        if wire.type == "append_entries":
            _book(self.sim).entries_sent += len(wire.get("entries", ()))
        return wire

    def broadcast(self, msg: Message | str, /, **fields: Any) -> list[Message]:
        return [self.send(peer, msg, **fields) for peer in self.peers]


class _Book:
    """The harness's record of a run: what each server applied, entries sent."""

    def __init__(self) -> None:
        self.applied: dict[Any, tuple[int, list]] = {}   # node id -> (incarnation, commands applied)
        self.max_index = 0
        self.entries_sent = 0

    def applied_list(self, node: Node) -> list:
        incarnation, commands = self.applied.get(node.id, (None, None))
        if incarnation != node.incarnation:
            commands = []
            self.applied[node.id] = (node.incarnation, commands)
        return commands

    def note_apply(self, index: int, command: Any) -> None:
        self.max_index = max(self.max_index, index)


def _book(sim: Simulation) -> _Book:
    return sim.memo("course_lib.raft/book", _Book)


# -- a scripted peer -----------------------------------------------------------------------------------

class ScriptedPeer(Node):
    """A stand-in server that scenarios drive by hand; it remembers every message it receives.

    It grants every vote asked in a term at least its own (when
    ``grant_votes``) and accepts every AppendEntries of a current term,
    answering with ``match_index = prev_log_index + len(entries)``. Scenarios
    make it send crafted messages with ``peer.send(...)``.
    """

    def __init__(self, grant_votes: bool = True) -> None:
        check_type("grant_votes", grant_votes, bool, what="True or False")
        self.inbox: list[Message] = []
        self.grant_votes = grant_votes
        self.term = 0

    def received(self, msg_type: str) -> list[Message]:
        """The messages of ``msg_type`` received so far."""
        check_type("msg_type", msg_type, str, what="a message type such as 'request_vote'")
        return [m for m in self.inbox if m.type == msg_type]

    def on_request_vote(self, msg: Message) -> None:
        self.inbox.append(msg)
        grant = self.grant_votes and msg.term >= self.term
        self.term = max(self.term, msg.term)
        self.send(msg.src, RequestVoteReply(term=self.term, vote_granted=grant))

    def on_append_entries(self, msg: Message) -> None:
        self.inbox.append(msg)
        ok = msg.term >= self.term
        self.term = max(self.term, msg.term)
        self.send(msg.src, AppendEntriesReply(term=self.term, success=ok,
                                              match_index=msg.prev_log_index + len(msg.entries)))

    def on_request_vote_reply(self, msg: Message) -> None:
        self.inbox.append(msg)

    def on_append_entries_reply(self, msg: Message) -> None:
        self.inbox.append(msg)


# -- the cluster harness --------------------------------------------------------------------------------

def _fail(message: str, sim: Simulation | None = None) -> ScenarioFailed:
    return ScenarioFailed(message, sim)


class RaftCluster:
    """``n`` servers of class ``cls`` in one simulation, with 6.5840's test helpers.

    Args:
        cls: the Raft class (a subclass of :class:`RaftBase`).
        n: the number of servers, named ``s1`` ... ``sn``.
        seed: the simulation seed.
        unreliable: lose 10% of messages, duplicate 2%, delay them 1-27 units.
        long_reordering: hold back 30% of messages by up to 1500 units.
        invariants: check the four Raft invariants after every event.
        max_events: stop a run that never settles (a message storm).

    Example:
        >>> cluster = RaftCluster(RaftBase, 5, seed=3)
        >>> cluster.ids
        ['s1', 's2', 's3', 's4', 's5']
    """

    def __init__(self, cls: type, n: int = 3, seed: Any = 0, *, unreliable: bool = False,
                 long_reordering: bool = False, invariants: bool = True,
                 max_events: int = 400_000) -> None:
        if not (isinstance(cls, type) and issubclass(cls, RaftBase)):
            raise InvalidArgumentType(f"cls={cls!r} must be a subclass of course_lib.raft.RaftBase")
        check_int("n", n, low=1)
        for name, flag in (("unreliable", unreliable), ("long_reordering", long_reordering),
                           ("invariants", invariants)):
            check_type(name, flag, bool, what="True or False")
        if isinstance(max_events, int) and not isinstance(max_events, bool) and n > max_events:
            raise InvalidArgument(f"n={n} servers need more than max_events={max_events} events; "
                                  "pass a larger max_events")
        self.cls = cls
        self.n = n
        self.sim = Simulation(seed=seed, latency=Uniform(1.0, 10.0), max_events=max_events)
        self.set_unreliable(unreliable)
        self.set_long_reordering(long_reordering)
        self.ids = [f"s{i + 1}" for i in range(n)]
        self.nodes: list[RaftBase] = self.sim.add_nodes(cls, self.ids)
        self.rng = self.sim.rng_for("raft-harness")
        self.disconnected: set = set()
        self.book = _book(self.sim)
        if invariants:
            raft_invariants.register(self.sim)

    # -- faults ---------------------------------------------------------------------------------------
    def set_unreliable(self, unreliable: bool) -> None:
        """Lose 10% of messages, duplicate 2%, and spread delays over 1-27 units (or undo it)."""
        check_type("unreliable", unreliable, bool, what="True or False")
        self.unreliable = unreliable
        if unreliable:
            self.sim.network.configure(loss=0.1, duplicate=0.02, latency=Uniform(1.0, 27.0))
        else:
            self.sim.network.configure(loss=0.0, duplicate=0.0, latency=Uniform(1.0, 10.0))

    def set_long_reordering(self, on: bool) -> None:
        """Hold back 30% of messages by up to 1500 units (6.5840's ``LongReordering``), or stop."""
        check_type("on", on, bool, what="True or False")
        self.sim.network.configure(reorder=0.3 if on else 0.0, reorder_delay=1500.0)

    def _id(self, server: Any) -> Any:
        if isinstance(server, int) and not isinstance(server, bool):
            return self.ids[server % self.n]
        try:
            known = server in self.ids
        except TypeError:
            known = False
        if known:
            return server
        raise InvalidArgument(f"server={server!r} is not a server of this cluster; servers are {self.ids}")

    def node(self, server: Any) -> RaftBase:
        """The server ``server`` (an id such as ``"s2"``, or a position, 0-based, taken modulo n).

        A position wraps around (with three servers, 3 is ``"s1"`` and -1 is
        ``"s3"``), so scenarios can say "the leader's next neighbour" as ``i + 1``.
        """
        return self.sim.node(self._id(server))

    def _apply_partition(self) -> None:
        network = self.sim.network
        handle = self.sim.memo("course_lib.raft/partition", dict).pop("handle", None)
        if handle is not None:
            network.heal(handle)
        if self.disconnected:
            handle = network.partition([[x] for x in sorted(self.disconnected)])
            self.sim.memo("course_lib.raft/partition", dict)["handle"] = handle

    def disconnect(self, server: Any) -> None:
        """Cut ``server`` off from every other server (messages in flight to or from it are lost)."""
        self.disconnected.add(self._id(server))
        self._apply_partition()

    def connect(self, server: Any) -> None:
        """Reconnect ``server``."""
        self.disconnected.discard(self._id(server))
        self._apply_partition()

    def crash(self, server: Any) -> None:
        """Crash ``server``: it loses everything but ``storage``."""
        self.sim.crash(self._id(server))

    def restart(self, server: Any) -> None:
        """Restart a crashed ``server`` (a running one is crashed first, as 6.5840's ``start1``)."""
        node_id = self._id(server)
        self.sim.crash(node_id)
        self.sim.restart(node_id)
        self.sim.check_invariants()

    def connected(self) -> list:
        """The ids of the servers that are up and connected."""
        return [i for i in self.ids if i not in self.disconnected and not self.sim.node(i).crashed]

    # -- running --------------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.sim.now

    def run(self, duration: float) -> None:
        """Let ``duration`` units of simulated time pass (a positive finite number)."""
        check_positive("duration", duration)
        self.sim.run(until=self.sim.now + duration)

    def submit(self, server: Any, command: Any) -> tuple[int, int, bool]:
        """Call ``start(command)`` on ``server``; return its ``(index, term, is_leader)``."""
        node = self.node(server)
        if node.crashed:
            return (-1, -1, False)
        node.record("submit", command=command)
        try:
            result = node.start(command)
        except NotImplementedError as exc:
            raise _fail(f"{node.id}.start({command!r}) raised NotImplementedError "
                        "(a method is not written yet)", self.sim) from exc
        except Exception as exc:  # the learner's start() is called from outside a handler
            raise _fail(f"{node.id}.start({command!r}) raised {type(exc).__name__}: {exc}", self.sim) from exc
        if not (isinstance(result, tuple) and len(result) == 3):
            raise _fail(f"{node.id}.start({command!r}) returned {result!r}; it must return "
                        "(index, term, is_leader)", self.sim)
        self.sim.check_invariants()
        return result

    # -- 6.5840's checks ---------------------------------------------------------------------------
    def leaders(self) -> dict[int, list]:
        """The connected servers that believe they lead, by term."""
        out: dict[int, list] = {}
        for i in self.connected():
            node = self.sim.node(i)
            if node.role == "leader":
                out.setdefault(node.current_term, []).append(i)
        return out

    def check_one_leader(self) -> Any:
        """Wait (up to ten rounds of ~500 units) for a leader among the connected servers; return it.

        Raises:
            ScenarioFailed: two connected servers lead the same term, or no leader emerges.
        """
        for _ in range(10):
            self.run(self.rng.uniform(450, 550))
            leaders = self.leaders()
            for term, ids in leaders.items():
                if len(ids) > 1:
                    raise _fail(f"term {term} has {len(ids)} leaders: {ids}", self.sim)
            if leaders:
                return leaders[max(leaders)][0]
        raise _fail(f"expected one leader among the connected servers {self.connected()}, got none "
                    f"by time {self.now:g}", self.sim)

    def check_terms(self) -> int:
        """Return the term every connected server is in.

        Raises:
            ScenarioFailed: they disagree.
        """
        terms = {i: self.sim.node(i).current_term for i in self.connected()}
        if len(set(terms.values())) > 1:
            raise _fail(f"connected servers disagree on the term at time {self.now:g}: {terms}", self.sim)
        return next(iter(terms.values()), -1)

    def check_no_leader(self) -> None:
        """Fail if a connected server believes it leads."""
        for i in self.connected():
            if self.sim.node(i).role == "leader":
                raise _fail(f"{i} is leader of term {self.sim.node(i).current_term} at time {self.now:g}, "
                            f"but only {self.connected()} are connected: no majority, so no leader expected",
                            self.sim)

    def n_committed(self, index: int) -> tuple[int, Any]:
        """How many servers have applied ``index``, and the command they applied."""
        check_int("index", index, low=1)
        count, command = 0, None
        for i in self.ids:
            node = self.sim.node(i)
            incarnation, applied = self.book.applied.get(i, (None, []))
            if incarnation != node.incarnation or len(applied) < index:
                continue
            if count and applied[index - 1] != command:
                raise _fail(f"servers applied different commands at index {index}: "
                            f"{command!r} and {applied[index - 1]!r} ({i})", self.sim)
            count, command = count + 1, applied[index - 1]
        return count, command

    def wait(self, index: int, n: int, start_term: int = -1) -> Any:
        """Wait until at least ``n`` servers applied ``index``; return the command (None if the term moved on)."""
        check_int("index", index, low=1)
        check_int("n", n, low=1, high=self.n)
        check_int("start_term", start_term, low=-1)
        pause = 10.0
        for _ in range(30):
            count, _ = self.n_committed(index)
            if count >= n:
                break
            self.run(pause)
            pause = min(pause * 2, 1000.0)
            if start_term > -1 and any(self.sim.node(i).current_term > start_term for i in self.connected()):
                return None
        count, command = self.n_committed(index)
        if count < n:
            raise _fail(f"only {count} servers applied index {index} by time {self.now:g}; wanted {n}", self.sim)
        return command

    def one(self, command: Any, expected: int, retry: bool = True) -> int:
        """Submit ``command`` to a leader and wait until ``expected`` servers applied it; return its index.

        Tries for up to 10000 units; with ``retry``, submits again (to the
        current leader) when the command does not commit within 2000 units.

        Raises:
            ScenarioFailed: no agreement in time.
            InvalidArgument: ``expected`` is not a server count in ``[1, n]``.
        """
        check_int("expected", expected, low=1, high=self.n)
        check_type("retry", retry, bool, what="True or False")
        t0 = self.now
        starts = 0
        while self.now - t0 < 10_000:
            index = -1
            for _ in range(self.n):
                starts = (starts + 1) % self.n
                node_id = self.ids[starts]
                if node_id in self.connected():
                    i, _, ok = self.submit(node_id, command)
                    if ok:
                        index = i
                        break
            if index != -1:
                t1 = self.now
                while self.now - t1 < 2000:
                    count, got = self.n_committed(index)
                    if count > 0 and count >= expected and got == command:
                        return index
                    self.run(20)
                if not retry:
                    raise _fail(f"one({command!r}) failed to reach agreement on {expected} servers "
                                f"(submitted at index {index}, time {t1:g})", self.sim)
            else:
                self.run(50)
        raise _fail(f"one({command!r}) failed to reach agreement on {expected} servers within 10000 units "
                    f"(from time {t0:g})", self.sim)

    def message_count(self, types: Sequence[str] = RAFT_TYPES) -> int:
        """Messages of ``types`` sent so far."""
        if isinstance(types, (str, bytes)) or not isinstance(types, Iterable):
            raise InvalidArgumentType(f"types={types!r} must be a list of message types such as "
                                      "['append_entries']")
        wanted = set(types)
        return sum(1 for row in self.sim.trace.filter(kind="send") if row.type in wanted)


# -- scenarios ---------------------------------------------------------------------------------------------
# Each runs the learner's Raft class and raises ScenarioFailed; invariant violations and handler
# errors surface through course_lib.grading.run_once with the seed and a replay line.

def _scenario(fn: Callable) -> Callable:
    SCENARIOS[fn.__name__] = fn
    return fn


SCENARIOS: dict[str, Callable] = {}


def _new(cls: type, n: int, seed: Any, **options: Any) -> RaftCluster:
    return RaftCluster(cls, n, seed, **options)


def _counts(low: int, **counts: Any) -> None:
    """Check a scenario's counts (iterations, commands, ...): ints >= ``low``."""
    for name, value in counts.items():
        check_int(name, value, low=low)


def _cmd(cluster: RaftCluster) -> int:
    """A fresh command: a random int, unique within the run."""
    used = cluster.__dict__.setdefault("_used_commands", set())
    while True:
        c = cluster.rng.randrange(1, 10**9)
        if c not in used:
            used.add(c)
            return c


# Part A: leader election ------------------------------------------------------------------------------

@_scenario
def initial_election(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """One leader is elected, all servers agree on its term, and without faults it stays (6.5840 3A)."""
    c = _new(cls, n, seed)
    c.check_one_leader()
    c.run(50)  # let followers hear the new term
    term1 = c.check_terms()
    if term1 < 1:
        raise _fail(f"the leader's term is {term1}; the first election should make it at least 1", c.sim)
    c.run(2 * ELECTION_TIMEOUT[1])  # without failures the term must not change
    term2 = c.check_terms()
    if term1 != term2:
        raise _fail(f"the term changed from {term1} to {term2} by time {c.now:g} although nothing failed: "
                    "do followers reset their election timer on the leader's heartbeats?", c.sim)
    c.check_one_leader()
    return c.sim


@_scenario
def reelection(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A new leader after the leader is cut off; none without a majority; recovery after healing (3A)."""
    c = _new(cls, n, seed)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)  # the others elect a new leader
    c.check_one_leader()
    c.connect(leader1)  # the old leader rejoins: it must not disturb the new one
    leader2 = c.check_one_leader()
    li = c.ids.index(leader2)
    gone = [c.ids[(li + k) % n] for k in range(n // 2 + 1)]
    for i in gone:  # the leader and enough others that no majority is left: nobody may be elected
        c.disconnect(i)
    c.run(2 * ELECTION_TIMEOUT[1])
    c.check_no_leader()
    c.connect(gone[1])  # a majority again
    c.check_one_leader()
    for i in gone:
        c.connect(i)
    c.check_one_leader()
    return c.sim


@_scenario
def many_elections(cls: type, seed: Any, *, n: int = 7, iterations: int = 6) -> Simulation:
    """Seven servers, three cut off at random, again and again: always one leader (3A)."""
    _counts(0, iterations=iterations)
    c = _new(cls, n, seed)
    c.check_one_leader()
    for _ in range(iterations):
        cut = [c.rng.randrange(n) for _ in range(3)]
        for i in cut:
            c.disconnect(i)
        c.check_one_leader()  # there is a majority, or the cut repeated a server
        for i in cut:
            c.connect(i)
    c.check_one_leader()
    return c.sim


@_scenario
def election_budget(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """An election and a few heartbeats take at most 30 messages (6.5840's RPC count, 3B)."""
    c = _new(cls, n, seed)
    for _ in range(300):
        c.run(10)
        if c.leaders():
            break
    else:
        raise _fail(f"no leader elected by time {c.now:g}", c.sim)
    c.run(HEARTBEAT_INTERVAL)
    sent = c.message_count()
    if sent > 30:
        raise _fail(f"{sent} messages by time {c.now:g} to elect a leader and send a heartbeat; at most 30 "
                    "expected (are RequestVotes or heartbeats sent too often?)", c.sim)
    return c.sim


@_scenario
def vote_rules(cls: type, seed: Any) -> Simulation:
    """One server against scripted peers: one vote per term, none for a stale term, heartbeats hold elections off."""
    sim = Simulation(seed=seed, latency=1.0)
    raft_invariants.register(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    # Keep s1 a follower: s2 leads term 1 and sends heartbeats every 100 units, under the 150 minimum.
    for t in range(0, 2000, 100):
        sim.at(t, a.send, "s1", AppendEntries(term=1, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                              entries=(), leader_commit=0))
    sim.run(until=1000)
    asked = sim.trace.filter(kind="send", type="request_vote")
    if asked:
        raise _fail(f"s1 asked for votes at time {asked[0].time:g} although the leader s2 sent it a heartbeat "
                    "every 100 units (election timeouts are 150-300): reset the election timer on a valid "
                    "AppendEntries", sim)
    if node.current_term != 1 or node.role != "follower":
        raise _fail(f"after heartbeats of term 1 from s2, s1 is a {node.role} in term {node.current_term}; "
                    "expected a follower in term 1", sim)
    # Two candidates of term 5 ask s1 for its vote: only the first may get it.
    sim.at(1100, a.send, "s1", RequestVote(term=5, candidate_id="s2", last_log_index=0, last_log_term=0))
    sim.at(1110, b.send, "s1", RequestVote(term=5, candidate_id="s3", last_log_index=0, last_log_term=0))
    # A candidate of a stale term asks.
    sim.at(1120, b.send, "s1", RequestVote(term=4, candidate_id="s3", last_log_index=0, last_log_term=0))
    sim.run(until=1130)
    replies_a = [m for m in a.received("request_vote_reply")]
    replies_b = [m for m in b.received("request_vote_reply")]
    if len(replies_a) != 1 or not replies_a[0].vote_granted or replies_a[0].term != 5:
        raise _fail(f"s2, the first candidate of term 5, asked s1 for its vote and got {replies_a}; expected "
                    "one reply granting the vote in term 5", sim)
    if len(replies_b) != 2:
        raise _fail(f"s3 asked s1 for its vote twice and got {len(replies_b)} replies; answer every "
                    "RequestVote", sim)
    if replies_b[0].vote_granted:
        raise _fail("s1 granted its vote in term 5 to s3 after granting it to s2: a server votes at most "
                    "once per term (Figure 2, RequestVote RPC, rule 2)", sim)
    if replies_b[1].vote_granted or replies_b[1].term != 5:
        raise _fail(f"s3 asked for a vote in term 4 while s1 was in term 5 and got {replies_b[1]}; a stale "
                    "candidate gets no vote, and the reply carries the current term 5", sim)
    # A stale heartbeat (term 1) is refused with the current term, and does not hold elections off.
    sim.at(1140, a.send, "s1", AppendEntries(term=1, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                             entries=(), leader_commit=0))
    sim.run(until=1150)
    stale = a.received("append_entries_reply")[-1]
    if stale.success or stale.term != 5:
        raise _fail(f"s1 (term 5) answered a heartbeat of term 1 with {stale}; expected success=False "
                    "and term=5 so the stale leader steps down", sim)
    return sim


# Part B: log replication ------------------------------------------------------------------------------

@_scenario
def basic_agreement(cls: type, seed: Any, *, n: int = 3, commands: int = 3) -> Simulation:
    """Commands submitted one after another are applied by every server, at indices 1, 2, 3 (3B)."""
    _counts(1, commands=commands)
    c = _new(cls, n, seed)
    c.check_one_leader()
    for index in range(1, commands + 1):
        count, _ = c.n_committed(index)
        if count > 0:
            raise _fail(f"some server applied index {index} before start() was called", c.sim)
        got = c.one(_cmd(c), n, retry=False)
        if got != index:
            raise _fail(f"the command went to index {got}, expected {index}", c.sim)
    return c.sim


@_scenario
def concurrent_starts(cls: type, seed: Any, *, n: int = 3, commands: int = 5) -> Simulation:
    """Commands submitted at once to the leader all commit, at distinct indices, in one term (3B)."""
    _counts(1, commands=commands)
    c = _new(cls, n, seed)
    for _ in range(5):
        leader = c.check_one_leader()
        _, term, ok = c.submit(leader, _cmd(c))
        if not ok:
            continue  # the leader moved on already: try again
        submitted = {}
        for _ in range(commands):
            cmd = _cmd(c)
            index, term1, ok = c.submit(leader, cmd)
            if term1 != term or not ok:
                break
            submitted[index] = cmd
        else:
            if len(submitted) != commands:
                raise _fail(f"{commands} commands submitted at once got indices {sorted(submitted)}: "
                            "each must get its own index", c.sim)
            for index, cmd in submitted.items():
                got = c.wait(index, n, term)
                if got is None:
                    break  # the term changed: try again
                if got != cmd:
                    raise _fail(f"index {index} applied {got!r}, but start() put {cmd!r} there", c.sim)
            else:
                return c.sim
    raise _fail("the term changed too often to get five concurrent commands committed", c.sim)


@_scenario
def follower_failure(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """Agreement goes on without one follower, and stops without two (3B)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    c.disconnect(c.ids.index(leader1) + 1)  # one follower gone: the other two still agree
    c.one(_cmd(c), n - 1)
    c.run(ELECTION_TIMEOUT[1])
    c.one(_cmd(c), n - 1)
    leader2 = c.check_one_leader()  # both remaining followers gone: nothing commits
    c.disconnect(c.ids.index(leader2) + 1)
    c.disconnect(c.ids.index(leader2) + 2)
    index, _, ok = c.submit(leader2, _cmd(c))
    if not ok:
        raise _fail(f"{leader2} rejected start() although it led a moment ago", c.sim)
    if index != 4:
        raise _fail(f"start() put the 4th command at index {index}, expected 4", c.sim)
    c.run(2 * ELECTION_TIMEOUT[1])
    count, _ = c.n_committed(index)
    if count > 0:
        raise _fail(f"{count} servers applied index {index} although the leader had no majority", c.sim)
    return c.sim


@_scenario
def leader_failure(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A new leader takes over from a cut-off one; with the new one cut off too, nothing commits (3B)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    c.one(_cmd(c), n - 1)
    c.run(ELECTION_TIMEOUT[1])
    c.one(_cmd(c), n - 1)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    for i in c.ids:  # submit everywhere: no majority is connected, so nothing may commit
        c.submit(i, _cmd(c))
    c.run(2 * ELECTION_TIMEOUT[1])
    count, _ = c.n_committed(4)
    if count > 0:
        raise _fail(f"{count} servers applied index 4 although no majority was connected", c.sim)
    return c.sim


@_scenario
def rejoin_follower_catches_up(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A follower cut off while the others agree catches up when it reconnects (3B, FailAgree)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader = c.check_one_leader()
    c.disconnect(c.ids.index(leader) + 1)
    for _ in range(4):
        c.one(_cmd(c), n - 1)
    c.run(ELECTION_TIMEOUT[1])
    c.one(_cmd(c), n - 1)
    c.connect(c.ids.index(leader) + 1)
    c.one(_cmd(c), n)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def no_agreement_without_majority(cls: type, seed: Any, *, n: int = 5) -> Simulation:
    """With 3 of 5 cut off nothing commits; after healing the index is reused (3B, FailNoAgree)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader = c.check_one_leader()
    li = c.ids.index(leader)
    for k in (1, 2, 3):
        c.disconnect(li + k)
    index, _, ok = c.submit(leader, _cmd(c))
    if not ok:
        raise _fail(f"{leader} rejected start() although it led a moment ago", c.sim)
    if index != 2:
        raise _fail(f"start() put the second command at index {index}, expected 2", c.sim)
    c.run(2 * ELECTION_TIMEOUT[1])
    count, _ = c.n_committed(index)
    if count > 0:
        raise _fail(f"{count} servers applied index {index} although only 2 of 5 were connected", c.sim)
    for k in (1, 2, 3):
        c.connect(li + k)
    leader2 = c.check_one_leader()  # the disconnected majority may have elected a leader of its own
    index2, _, ok = c.submit(leader2, _cmd(c))
    if not ok:
        raise _fail(f"{leader2} rejected start() although it led a moment ago", c.sim)
    if index2 < 2 or index2 > 3:
        raise _fail(f"after healing, a new command went to index {index2}; expected 2 or 3 (the "
                    "uncommitted entry at 2 may be replaced)", c.sim)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def rejoin_partitioned_leader(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A leader cut off with uncommitted entries rejoins; its entries are replaced (3B, Rejoin)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)  # it takes commands it can never commit
    for _ in range(3):
        c.submit(leader1, _cmd(c))
    c.one(_cmd(c), 2)  # the new leader commits index 2
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.connect(leader1)  # the old leader is back, with its stale entries
    c.one(_cmd(c), 2)
    c.connect(leader2)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def fast_backup(cls: type, seed: Any, *, n: int = 5, entries: int = 50) -> Simulation:
    """A leader backs up quickly over 50+ conflicting entries of a follower (3B, Backup)."""
    _counts(1, entries=entries)
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    li = c.ids.index(leader1)
    for k in (2, 3, 4):  # the leader and one follower alone
        c.disconnect(li + k)
    for _ in range(entries):  # uncommitted entries on the leader's side
        c.submit(leader1, _cmd(c))
    c.run(ELECTION_TIMEOUT[0] / 2)
    c.disconnect(li)
    c.disconnect(li + 1)
    for k in (2, 3, 4):  # the other three commit many entries of their own
        c.connect(li + k)
    for _ in range(entries):
        c.one(_cmd(c), 3)
    leader2 = c.check_one_leader()
    other = c.ids.index(leader2)
    other = li + 2 if other != (li + 2) % n else li + 3
    c.disconnect(other)  # only two of them left: more uncommitted entries
    for _ in range(entries):
        c.submit(leader2, _cmd(c))
    c.run(ELECTION_TIMEOUT[0] / 2)
    for i in c.ids:  # bring back the first leader's pair and the one cut off
        c.disconnect(i)
    c.connect(li)
    c.connect(li + 1)
    c.connect(other)
    for _ in range(entries):  # they must overwrite the stale entries and agree
        c.one(_cmd(c), 3)
    for i in c.ids:
        c.connect(i)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def message_budget(cls: type, seed: Any, *, n: int = 3, commands: int = 10) -> Simulation:
    """Few AppendEntries for a burst of commands, and each entry sent about once per follower (3B, Count, Bytes)."""
    _counts(1, commands=commands)
    c = _new(cls, n, seed)
    leader = c.check_one_leader()
    for attempt in range(4):  # a stable term is needed to count
        if attempt:
            leader = c.check_one_leader()
        start_msgs = c.message_count(("append_entries",))
        index, term, ok = c.submit(leader, _cmd(c))
        if not ok:
            continue
        for _ in range(commands):  # a burst, all at once
            c.submit(leader, _cmd(c))
        if any(c.wait(index + k, n, term) is None for k in range(commands + 1)):
            continue
        sent = c.message_count(("append_entries",)) - start_msgs
        limit = (commands + 1 + 3) * (n - 1)
        if sent > limit:
            raise _fail(f"a burst of {commands + 1} commands took {sent} AppendEntries to {n - 1} followers; "
                        f"at most {limit} expected", c.sim)
        start_entries = c.book.entries_sent
        for _ in range(commands):  # one after another
            c.one(_cmd(c), n)
        if c.check_terms() != term:
            continue
        sent = c.book.entries_sent - start_entries
        limit = int(commands * (n - 1) * 1.5) + 5
        if sent > limit:
            raise _fail(f"{commands} commands, one after another, took {sent} entries in AppendEntries to "
                        f"{n - 1} followers (at most {limit} expected): send each entry about once per "
                        "follower, not the whole log every time", c.sim)
        return c.sim
    raise _fail("the term changed too often to count messages", c.sim)


@_scenario
def follower_log_rules(cls: type, seed: Any) -> Simulation:
    """One server against a scripted leader: consistency check, truncation of conflicts, commit and apply order."""
    sim = Simulation(seed=seed, latency=1.0)
    raft_invariants.register(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])

    def ae(at: float, term: int, prev: int, prev_term: int, entries: tuple, commit: int) -> None:
        sim.at(at, a.send, "s1", AppendEntries(term=term, leader_id="s2", prev_log_index=prev,
                                               prev_log_term=prev_term, entries=entries, leader_commit=commit))

    def expect_log(want: list, when: str) -> None:
        if node.log != want:
            raise _fail(f"{when}: s1's log is {node.log}, expected {want}", sim)

    def last_reply() -> Message:
        replies = a.received("append_entries_reply")
        if not replies:
            raise _fail("s1 never answered an AppendEntries", sim)
        return replies[-1]

    # Term 1 leader s2 sends three entries, commits none.
    ae(10, 1, 0, 0, ((1, "x1"), (1, "x2"), (1, "x3")), 0)
    sim.run(until=15)
    expect_log([(1, "x1"), (1, "x2"), (1, "x3")], "after AppendEntries(prev=0, three entries of term 1)")
    if not last_reply().success or last_reply().match_index != 3:
        raise _fail(f"s1 accepted three entries but replied {last_reply()}; expected success with "
                    "match_index=3", sim)
    # A mismatching prev_log_term is refused.
    ae(20, 1, 3, 2, ((2, "y"),), 0)
    sim.run(until=25)
    if last_reply().success:
        raise _fail("s1 accepted an AppendEntries whose prev_log_term (2) differs from its own entry's "
                    "term at index 3 (1): the consistency check of Figure 2, AppendEntries rule 2", sim)
    expect_log([(1, "x1"), (1, "x2"), (1, "x3")], "after a refused AppendEntries")
    # Too far ahead: refused too.
    ae(30, 1, 7, 1, ((1, "z"),), 0)
    sim.run(until=35)
    if last_reply().success:
        raise _fail("s1 accepted an AppendEntries with prev_log_index=7 although its log has 3 entries", sim)
    # A heartbeat commits index 2: two entries applied, in order.
    ae(40, 1, 3, 1, (), 2)
    sim.run(until=45)
    if node.commit_index != 2:
        raise _fail(f"a heartbeat with leader_commit=2 left s1's commit_index at {node.commit_index}", sim)
    # A leader of term 2 overwrites index 3 (a conflict) and adds index 4.
    ae(50, 2, 2, 1, ((2, "w3"), (2, "w4")), 2)
    sim.run(until=55)
    expect_log([(1, "x1"), (1, "x2"), (2, "w3"), (2, "w4")],
               "after AppendEntries(term 2, prev=2, entries w3, w4) conflicting at index 3")
    # A delayed, stale copy of an earlier request must not cut the log short.
    ae(60, 2, 2, 1, ((2, "w3"),), 2)
    sim.run(until=65)
    expect_log([(1, "x1"), (1, "x2"), (2, "w3"), (2, "w4")],
               "after a repeated AppendEntries carrying only w3 (entries already held are kept)")
    # A conflict in the middle of a longer log: everything after it goes.
    ae(70, 2, 4, 2, ((2, "w5"), (2, "w6"), (2, "w7")), 2)
    ae(80, 3, 3, 2, ((3, "v4"),), 4)
    sim.run(until=85)
    expect_log([(1, "x1"), (1, "x2"), (2, "w3"), (3, "v4")],
               "after AppendEntries(term 3, prev=3, entry v4) conflicting at index 4 of a 7-entry log")
    if node.commit_index != 4:
        raise _fail(f"leader_commit=4 with s1 holding index 4 left commit_index at {node.commit_index}", sim)
    if node.last_applied != 4:
        raise _fail(f"s1 applied up to {node.last_applied} with commit_index 4", sim)
    # The election restriction: s1 (last entry: index 4, term 3) votes only for logs at least as up to date.
    for at, term, last_index, last_term, grant in ((90, 4, 5, 2, False), (100, 5, 3, 3, False),
                                                   (110, 6, 4, 3, True)):
        sim.at(at, b.send, "s1", RequestVote(term=term, candidate_id="s3", last_log_index=last_index,
                                             last_log_term=last_term))
        sim.run(until=at + 5)
        replies = b.received("request_vote_reply")
        if not replies or replies[-1].term != term:
            raise _fail(f"s1 did not answer RequestVote(term={term}) from s3 with term {term}: {replies[-1:]}", sim)
        if replies[-1].vote_granted != grant:
            what = "granted" if replies[-1].vote_granted else "refused"
            raise _fail(f"s1, whose last entry is index 4 of term 3, {what} its vote to a candidate whose last "
                        f"entry is index {last_index} of term {last_term}: vote only for a log at least as up "
                        "to date as yours, comparing last terms first, then lengths (section 5.4.1)", sim)
    return sim


@_scenario
def leader_commit_rules(cls: type, seed: Any) -> Simulation:
    """A leader of term 3 holding an uncommitted entry of term 1 does not commit it by counting replicas (Figure 8)."""
    sim = Simulation(seed=seed, latency=1.0)
    raft_invariants.register(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    # s2 leads term 1 and gives s1 an entry it never commits, then goes quiet.
    sim.at(5, a.send, "s1", AppendEntries(term=1, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                          entries=((1, "old"),), leader_commit=0))
    sim.run(until=400)  # s1 times out and wins an election: the scripted peers grant every vote
    for _ in range(20):
        if node.role == "leader":
            break
        sim.run(until=sim.now + 100)
    if node.role != "leader":
        raise _fail(f"s1 is a {node.role} in term {node.current_term} at time {sim.now:g}, although both "
                    "peers grant every vote it asks for", sim)
    term = node.current_term
    sim.run(until=sim.now + 300)  # heartbeats: both peers answer success with match_index 1
    if node.commit_index >= 1:
        raise _fail(f"s1, leader of term {term}, committed index 1 (an entry of term 1) by counting the "
                    "replicas that hold it: a leader commits only entries of its own term by counting, "
                    "earlier ones follow (Figure 8; Figure 2, Rules for Servers, Leaders, last rule)", sim)
    index, t, ok = node.start("new")
    if not ok or index != 2:
        raise _fail(f"s1.start('new') returned {(index, t, ok)}; expected index 2 in term {term}", sim)
    sim.run(until=sim.now + 300)
    if node.commit_index != 2 or node.last_applied != 2:
        raise _fail(f"after both peers acknowledged index 2 (term {term}), s1 has commit_index="
                    f"{node.commit_index}, last_applied={node.last_applied}; expected both 2", sim)
    return sim


# Part C: persistence ------------------------------------------------------------------------------------

@_scenario
def persist_state(cls: type, seed: Any) -> Simulation:
    """One server against scripted peers: its term, vote and log survive a crash."""
    sim = Simulation(seed=seed, latency=1.0)
    raft_invariants.register(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    sim.at(10, a.send, "s1", AppendEntries(term=3, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                           entries=((2, "p1"), (3, "p2")), leader_commit=1))
    sim.at(20, b.send, "s1", RequestVote(term=4, candidate_id="s3", last_log_index=2, last_log_term=3))
    sim.at(30, sim.crash, "s1")
    sim.at(40, sim.restart, "s1")
    sim.run(until=45)
    if (node.current_term, node.voted_for) != (4, "s3"):
        raise _fail(f"after a crash, s1 is in term {node.current_term} having voted for {node.voted_for!r}; "
                    "before it, it was in term 4 having voted for 's3': persist current_term and voted_for", sim)
    if node.log != [(2, "p1"), (3, "p2")]:
        raise _fail(f"after a crash, s1's log is {node.log}; before it, it was [(2, 'p1'), (3, 'p2')]: "
                    "persist the log", sim)
    sim.at(50, a.send, "s1", RequestVote(term=4, candidate_id="s2", last_log_index=2, last_log_term=3))
    sim.run(until=55)
    reply = a.received("request_vote_reply")[-1]
    if reply.vote_granted:
        raise _fail("s1 voted for s3 in term 4, crashed, restarted and voted for s2 in term 4: the vote "
                    "must be persisted before it is sent", sim)
    return sim


def _crash_restart(c: RaftCluster, server: Any) -> None:
    c.crash(server)
    c.restart(server)


@_scenario
def persist1(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """Agreement survives crashing and restarting every server, the leader, and a follower (3C, Persist1)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    for i in c.ids:  # crash and restart all
        _crash_restart(c, i)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    _crash_restart(c, leader1)
    c.one(_cmd(c), n)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.one(_cmd(c), n - 1)
    _crash_restart(c, leader2)
    c.connect(leader2)
    c.wait(4, n)  # the restarted server catches up
    i3 = c.ids.index(c.check_one_leader()) + 1
    c.disconnect(i3)
    c.one(_cmd(c), n - 1)
    _crash_restart(c, i3)
    c.connect(i3)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def persist2(cls: type, seed: Any, *, n: int = 5, iterations: int = 3) -> Simulation:
    """Partitions and crashes of the leader and followers, with commands in between (3C, Persist2)."""
    _counts(0, iterations=iterations)
    c = _new(cls, n, seed)
    for _ in range(iterations):
        c.one(_cmd(c), n)
        li = c.ids.index(c.check_one_leader())
        c.disconnect(li + 1)
        c.disconnect(li + 2)
        c.one(_cmd(c), n - 2)
        c.disconnect(li)
        c.disconnect(li + 3)
        c.disconnect(li + 4)
        _crash_restart(c, li + 1)
        _crash_restart(c, li + 2)
        c.connect(li + 1)
        c.connect(li + 2)
        c.run(ELECTION_TIMEOUT[1])
        _crash_restart(c, li + 3)
        c.connect(li + 3)
        c.one(_cmd(c), n - 2)
        c.connect(li + 4)
        c.connect(li)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def persist3(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A partitioned leader and a follower crash; the leader restarts and the cluster goes on (3C, Persist3)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    li = c.ids.index(c.check_one_leader())
    c.disconnect(li + 2)
    c.one(_cmd(c), 2)
    c.crash(li)
    c.crash(li + 1)
    c.connect(li + 2)
    c.restart(li)
    c.one(_cmd(c), 2)
    c.restart(li + 1)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def figure8(cls: type, seed: Any, *, n: int = 5, iterations: int = 300, unreliable: bool = False) -> Simulation:
    """Leaders crash right after taking commands, again and again, as in the paper's Figure 8 (3C).

    With ``unreliable``, leaders are cut off instead of crashed, on a lossy
    network with long reordering from the first fifth of the run
    (6.5840's Figure8Unreliable).
    """
    _counts(0, iterations=iterations)
    c = _new(cls, n, seed, unreliable=unreliable)
    c.one(_cmd(c), 1)
    up = n
    for it in range(iterations):
        if unreliable and it == iterations // 5:
            c.set_long_reordering(True)
        leader = None
        for i in c.ids:
            node = c.sim.node(i)
            if node.crashed:
                continue
            _, _, ok = c.submit(i, _cmd(c))
            if ok and (not unreliable or i not in c.disconnected):
                leader = i
        if c.rng.random() < 0.1:
            c.run(c.rng.uniform(0, ELECTION_TIMEOUT[1] / 2))
        else:
            c.run(c.rng.uniform(0.1, 13))
        if unreliable:
            if leader is not None and c.rng.random() < 0.5:
                c.disconnect(leader)
                up -= 1
            if up < 3:
                s = c.ids[c.rng.randrange(n)]
                if s in c.disconnected:
                    c.connect(s)
                    up += 1
        else:
            if leader is not None:
                c.crash(leader)
                up -= 1
            if up < 3:
                s = c.ids[c.rng.randrange(n)]
                if c.sim.node(s).crashed:
                    c.restart(s)
                    up += 1
    c.set_long_reordering(False)
    c.set_unreliable(False)
    for i in c.ids:
        if c.sim.node(i).crashed:
            c.restart(i)
        c.connect(i)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def unreliable_agreement(cls: type, seed: Any, *, n: int = 5, rounds: int = 10) -> Simulation:
    """Commands from concurrent clients commit on a lossy, duplicating, delaying network (3C)."""
    _counts(0, rounds=rounds)
    c = _new(cls, n, seed, unreliable=True)
    for _ in range(rounds):
        for _ in range(4):  # concurrent clients: submit to whoever leads
            for i in c.ids:
                c.submit(i, _cmd(c))
        c.one(_cmd(c), 1)
    c.set_unreliable(False)
    c.one(_cmd(c), n)
    return c.sim


@_scenario
def churn(cls: type, seed: Any, *, n: int = 5, rounds: int = 20, unreliable: bool = False,
          clients: int = 3) -> Simulation:
    """Servers are cut off, crashed and restarted at random while clients submit commands (3C, churn).

    At the end every command a client saw committed must be applied by every server.
    """
    _counts(0, rounds=rounds)
    _counts(1, clients=clients)
    c = _new(cls, n, seed, unreliable=unreliable)
    committed: list = []
    state = {"stop": False}

    def client(k: int, pending: tuple | None) -> None:
        if state["stop"]:
            return
        if pending is not None:
            index, cmd, since = pending
            count, got = c.n_committed(index)
            if count and got == cmd:
                committed.append(cmd)
            elif c.now - since < 1000 and not (count and got != cmd):
                c.sim.after(10, client, k, pending)
                return
        cmd = _cmd(c)
        for i in c.ids:
            node = c.sim.node(i)
            if node.crashed:
                continue
            index, _, ok = c.submit(i, cmd)
            if ok:
                c.sim.after(10, client, k, (index, cmd, c.now))
                return
        c.sim.after(c.rng.uniform(10, 80), client, k, None)

    for k in range(clients):
        c.sim.after(1.0 + k, client, k, None)
    for _ in range(rounds):
        if c.rng.random() < 0.2:
            c.disconnect(c.rng.randrange(n))
        if c.rng.random() < 0.5:
            i = c.ids[c.rng.randrange(n)]
            if c.sim.node(i).crashed:
                c.restart(i)
            c.connect(i)
        if c.rng.random() < 0.2:
            i = c.ids[c.rng.randrange(n)]
            if not c.sim.node(i).crashed:
                c.crash(i)
        c.run(0.7 * ELECTION_TIMEOUT[1])
    c.run(ELECTION_TIMEOUT[1])
    c.set_unreliable(False)
    for i in c.ids:
        if c.sim.node(i).crashed:
            c.restart(i)
        c.connect(i)
    c.run(ELECTION_TIMEOUT[1])
    state["stop"] = True
    last = c.one(_cmd(c), n)
    applied = {c.n_committed(index)[1] for index in range(1, last + 1)}
    missing = [cmd for cmd in committed if cmd not in applied]
    if missing:
        raise _fail(f"{len(missing)} commands that clients saw committed are not applied by every server "
                    f"at the end, e.g. {missing[0]!r}", c.sim)
    if len(committed) < 3:
        raise _fail(f"only {len(committed)} client commands committed during {rounds} rounds of churn", c.sim)
    return c.sim
