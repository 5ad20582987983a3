"""A Raft server's state and bookkeeping (Figure 2): what a learner's Raft class subclasses.

:class:`RaftBase` holds Figure 2's state, the role verbs (which refuse to go
backwards), the election and heartbeat timers, log helpers, the apply channel
and the persistence hooks; the rules of the algorithm are the learner's.

Time: election timeouts are drawn from 150-300 time units and leaders send
heartbeats every 50, with message latency of 1-10 units: think of a unit as a
millisecond, as in 6.5840.
"""

from __future__ import annotations

from typing import Any

from ...sim import Message, Node, NodeDefinitionError, Simulation
from ...sim.validation import InvalidArgument, InvalidArgumentType

ROLES = ("follower", "candidate", "leader")
HEARTBEAT_INTERVAL = 50.0
ELECTION_TIMEOUT = (150.0, 300.0)


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.durable:
            raise NodeDefinitionError(
                f"{cls.__name__}.durable={cls.durable!r}: a Raft server keeps what must survive a crash "
                "in self.storage itself: write persist() (save current_term, voted_for and the log "
                "there before you answer) and restore() (read them back), as Figure 2 asks; the "
                "simulator's durable shortcut would do it for you, so Raft classes may not declare it")

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

    def search_state(self) -> dict:
        """What a schedule search compares (course_lib.sim.control): what each server applied,
        not the counters, which differ between schedules that reach the same state."""
        return {node: commands for node, (_, commands) in self.applied.items()}


def _book(sim: Simulation) -> _Book:
    return sim.memo("course_lib.topics.raft/book", _Book)
