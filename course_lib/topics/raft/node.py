"""A Raft server's state and bookkeeping (Figure 2): what a learner's Raft class subclasses.

:class:`RaftBase` holds Figure 2's state, the role verbs (which refuse to go
backwards), the election and heartbeat timers, log helpers, the apply channel
and the persistence hooks; the rules of the algorithm are the learner's.

:class:`RaftLog` is a log that can drop a prefix into a snapshot (Figure 13)
and still speaks in absolute indices: ``log[i - 1]`` is entry ``i`` and
``len(log)`` the last index, before and after compaction. A Raft that
snapshots (Part D) keeps its log in one; Parts A-C keep a plain list.

A service on top of the log (chapter 03c) defines the hooks :meth:`on_apply`
and :meth:`on_apply_snapshot`; the checked :meth:`RaftBase.apply` and
:meth:`RaftBase.apply_snapshot` call them.

Time: election timeouts are drawn from 150-300 time units and leaders send
heartbeats every 50, with message latency of 1-10 units: think of a unit as a
millisecond, as in 6.5840.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ...sim import Message, Node, NodeDefinitionError, Simulation
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_int

ROLES = ("follower", "candidate", "leader")
HEARTBEAT_INTERVAL = 50.0
ELECTION_TIMEOUT = (150.0, 300.0)


class RaftLog:
    """A Raft log that can drop a prefix into a snapshot, and still speaks in absolute indices.

    It behaves like the plain list of ``(term, command)`` pairs of Parts A-C:
    ``log[i - 1]`` is entry ``i`` (1-based, as in the paper), ``len(log)`` is
    the last index, and slicing, ``del``, ``append`` and ``extend`` use the
    same positions. After :meth:`compact` or :meth:`reset`, entries
    ``1..snapshot_index`` are gone: the snapshot (:attr:`snapshot`, the
    service's state then) stands for them, and :attr:`snapshot_term` is the
    term of the last one. Reading or deleting one of them raises an
    ``IndexError`` that names the entry: a follower that needs it must be sent
    the snapshot (InstallSnapshot) instead.

    Iterating it (``list(log)``, ``for entry in log``) gives the entries it
    holds, those after the snapshot; :meth:`copy` copies the whole log,
    snapshot included (what to persist).

    Example:
        >>> log = RaftLog([(1, "a"), (1, "b"), (2, "c")])
        >>> log.compact(2, data=("a", "b"))
        >>> len(log), log.snapshot_index, log.snapshot_term, log[2]
        (3, 2, 1, (2, 'c'))
        >>> log[0]  # doctest: +ELLIPSIS
        Traceback (most recent call last):
          ...
        IndexError: log[0] is entry 1, which is inside the snapshot (entries 1..2 were compacted; ...
    """

    def __init__(self, entries: Iterable = (), *, snapshot_index: int = 0, snapshot_term: int = 0,
                 snapshot: Any = None) -> None:
        if isinstance(entries, (str, bytes, dict)) or not isinstance(entries, Iterable):
            raise InvalidArgumentType(f"RaftLog(entries={entries!r}): entries must be a list of "
                                      "(term, command) pairs")
        check_int("snapshot_index", snapshot_index, low=0)
        check_int("snapshot_term", snapshot_term, low=0)
        self._entries = list(entries)
        self._base = snapshot_index
        self._base_term = snapshot_term
        self._data = snapshot

    # -- the snapshot -------------------------------------------------------------------------
    @property
    def snapshot_index(self) -> int:
        """The index of the last entry the snapshot replaces (0: no snapshot)."""
        return self._base

    @property
    def snapshot_term(self) -> int:
        """The term of the entry at :attr:`snapshot_index` (0: no snapshot)."""
        return self._base_term

    @property
    def snapshot(self) -> Any:
        """The snapshot: the service's state after entry :attr:`snapshot_index` (None: no snapshot)."""
        return self._data

    def compact(self, index: int, data: Any) -> None:
        """Drop entries ``1..index``, which ``data`` (the state after applying them) replaces.

        The entries after ``index`` stay. ``snapshot_term`` becomes the term of entry ``index``.

        Raises:
            InvalidArgument: ``index`` is below the current snapshot (a snapshot never moves
                back) or beyond the last entry.
        """
        check_int("index", index, low=0)
        if index < self._base:
            raise InvalidArgument(f"compact(index={index}): the log's snapshot already covers entries "
                                  f"1..{self._base}; a snapshot never moves back")
        if index > len(self):
            raise InvalidArgument(f"compact(index={index}): the log's last entry is {len(self)}; "
                                  "compact only entries it holds (reset() replaces the whole log)")
        if index > self._base:
            self._base_term = self._entries[index - self._base - 1][0]
            del self._entries[:index - self._base]
            self._base = index
        self._data = data

    def reset(self, index: int, term: int, data: Any) -> None:
        """Discard every entry: the log is now the snapshot ``data`` through ``index`` (of ``term``).

        What a follower does with a leader's snapshot that its log does not contain (Figure 13,
        InstallSnapshot rule 7): afterwards ``len(log) == index`` and it holds no entry.

        Raises:
            InvalidArgument: ``index`` or ``term`` is not an int >= 0.
        """
        check_int("index", index, low=0)
        check_int("term", term, low=0)
        self._entries = []
        self._base, self._base_term, self._data = index, term, data

    # -- entries -------------------------------------------------------------------------------
    def entries(self) -> list:
        """The entries held after the snapshot, ``snapshot_index + 1`` first (a new list)."""
        return list(self._entries)

    def last_term(self) -> int:
        """The term of the last entry (the snapshot's term if no entry follows it)."""
        return self._entries[-1][0] if self._entries else self._base_term

    def copy(self) -> "RaftLog":
        """A copy of the whole log, snapshot included (the snapshot's data is shared, not copied)."""
        return RaftLog(self._entries, snapshot_index=self._base, snapshot_term=self._base_term,
                       snapshot=self._data)

    def __len__(self) -> int:
        return self._base + len(self._entries)

    def _in_snapshot(self, what: str, index: int) -> IndexError:
        return IndexError(f"{what} is entry {index}, which is inside the snapshot (entries "
                          f"1..{self._base} were compacted; the log holds entries "
                          f"{self._base + 1}..{len(self)}): a peer that needs it must be sent the "
                          "snapshot (InstallSnapshot)")

    def _position(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, int):
            raise InvalidArgumentType(f"log[{i!r}]: log positions are ints (log[i - 1] is entry i) or slices")
        n = len(self)
        p = i + n if i < 0 else i
        if not 0 <= p < n:
            raise IndexError(f"log[{i}]: the log holds entries up to {n} (log[{n - 1}])")
        if p < self._base:
            raise self._in_snapshot(f"log[{i}]", p + 1)
        return p - self._base

    def _range(self, s: slice) -> tuple[int, int]:
        start, stop, step = s.indices(len(self))
        if step != 1:
            raise ValueError(f"log[{s.start}:{s.stop}:{s.step}]: a log is sliced without a step")
        stop = max(start, stop)
        if start < self._base and stop > start:
            raise self._in_snapshot(f"log[{s.start}:{s.stop}] starts at position {start}, which",
                                    start + 1)
        return max(start - self._base, 0), max(stop - self._base, 0)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            a, b = self._range(i)
            return self._entries[a:b]
        return self._entries[self._position(i)]

    def __setitem__(self, i: Any, value: Any) -> None:
        if isinstance(i, slice):
            a, b = self._range(i)
            self._entries[a:b] = list(value)
        else:
            self._entries[self._position(i)] = value

    def __delitem__(self, i: Any) -> None:
        if isinstance(i, slice):
            a, b = self._range(i)
            del self._entries[a:b]
        else:
            del self._entries[self._position(i)]

    def append(self, entry: Any) -> None:
        """Append ``entry`` (a ``(term, command)`` pair) as entry ``len(log) + 1``."""
        self._entries.append(entry)

    def extend(self, entries: Iterable) -> None:
        """Append ``entries`` in order."""
        self._entries.extend(entries)

    def __iter__(self) -> Iterator:
        return iter(self._entries)

    def __reversed__(self) -> Iterator:
        return reversed(self._entries)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, RaftLog):
            return (self._base, self._base_term, self._entries) == (other._base, other._base_term, other._entries)
        if isinstance(other, (list, tuple)):
            return self._base == 0 and self._entries == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not self._base:
            return repr(self._entries)
        return (f"RaftLog(snapshot_index={self._base}, snapshot_term={self._base_term}, "
                f"entries={self._entries!r})")


class ServiceHooks:
    """What a service on top of the log is told (chapter 03c): no-ops here, a service defines them.

    They are plain methods, not message handlers: :meth:`RaftBase.apply` and
    :meth:`RaftBase.apply_snapshot` call them after their checks.
    """

    def on_apply(self, index: int, command: Any) -> None:
        """The committed entry ``index`` holds ``command``: apply it (in index order, once per incarnation)."""

    def on_apply_snapshot(self, index: int, term: int, data: Any) -> None:
        """Replace the service's state by ``data``, the state after entry ``index`` (of ``term``).

        The next :meth:`on_apply` is ``index + 1``.
        """


class RaftBase(ServiceHooks, Node):
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

    Snapshots (Part D, Figure 13): :meth:`snapshot` is yours; keep the log in
    a :class:`RaftLog` (``self.log = RaftLog()`` in ``__init__``), which keeps
    absolute indices after compaction. :meth:`apply_snapshot` hands a
    snapshot to the state machine, as :meth:`apply` hands it an entry;
    :meth:`on_start` delivers a restored snapshot before anything else.

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
        """Read back persisted state, deliver a restored snapshot, then start the election timer.

        If :meth:`restore` left a :class:`RaftLog` with a snapshot, the snapshot
        goes to the state machine through :meth:`apply_snapshot` before anything
        else is applied (``restore`` must set ``commit_index`` and
        ``last_applied`` to its index: the state machine starts from it).
        """
        self.restore()
        log = self.log
        if log.__class__ is not list and getattr(log, "snapshot_index", 0):
            self.apply_snapshot(log.snapshot_index, log.snapshot_term, log.snapshot)
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
        """The index of the last entry (0 when the log is empty; a snapshot's index counts)."""
        return len(self.log)

    def last_log_term(self) -> int:
        """The term of the last entry (0 when the log is empty; the snapshot's term if it holds no entry)."""
        log = self.log
        if log.__class__ is list:
            return log[-1][0] if log else 0
        return log.last_term()

    def term_at(self, index: int) -> int:
        """The term of the entry at ``index`` (1-based; index 0 has term 0).

        With a :class:`RaftLog`, ``term_at(log.snapshot_index)`` is ``log.snapshot_term``.

        Raises:
            IndexError: there is no entry at ``index`` (as indexing a list would), or it is
                inside the snapshot.
            InvalidArgumentType: ``index`` is not an int.
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidArgumentType(f"term_at(index={index!r}): index must be an int")
        if index == 0:
            return 0
        log = self.log
        base = 0 if log.__class__ is list else getattr(log, "snapshot_index", 0)
        if not base <= index <= len(log):
            if 0 < index < base:
                raise IndexError(f"term_at(index={index!r}): node {self.id!r} compacted entries 1..{base} "
                                 f"into its snapshot (term_at({base}) is the snapshot's term); it holds "
                                 f"entries {base + 1}..{len(log)}")
            raise IndexError(f"term_at(index={index!r}): node {self.id!r} holds entries "
                             f"{base + 1 if base else 1}..{len(log)}")
        if index == base:
            return log.snapshot_term
        return log[index - 1][0]

    def log_size(self) -> int:
        """The number of entries the log holds after its snapshot (all of them without one)."""
        log = self.log
        return len(log) - (0 if log.__class__ is list else getattr(log, "snapshot_index", 0))

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
        log = self.log
        if log.__class__ is not list and index <= getattr(log, "snapshot_index", 0):
            raise InvalidArgument(f"apply(index={index}): entry {index} is inside node {self.id!r}'s snapshot "
                                  f"(entries 1..{log.snapshot_index}); a snapshot reaches the state machine "
                                  "through apply_snapshot")
        if index > len(log) or log[index - 1][1] != command:
            held = repr(log[index - 1][1]) if index <= len(log) else "no entry"
            raise InvalidArgument(f"apply(index={index}, command={command!r}): node {self.id!r} holds {held} "
                             "at that index")
        applied.append(command)
        book.note_apply(index, command)
        self.record("apply", index=index, command=command, term=self.current_term)
        self.on_apply(index, command)
        for listener in book.listeners:
            listener(self, index, command)

    def apply_snapshot(self, index: int, term: int, data: Any) -> None:
        """Hand the snapshot ``data`` (the state after entry ``index``, of ``term``) to the state machine.

        Use it when a snapshot replaces entries the state machine has not applied: after a
        restart (:meth:`on_start` does it for you) and when a leader's InstallSnapshot takes the
        node past what it applied. The next entry to :meth:`apply` is then ``index + 1``.

        Raises:
            InvalidArgument: ``index`` is not beyond what was applied (a snapshot must never
                take the state machine back), is beyond ``commit_index``, or the log holds an
                entry at ``index`` whose term is not ``term``.
            InvalidArgumentType: ``index`` or ``term`` is not an int.
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidArgumentType(f"apply_snapshot(index={index!r}): index must be an int")
        if isinstance(term, bool) or not isinstance(term, int):
            raise InvalidArgumentType(f"apply_snapshot(term={term!r}): term must be an int")
        if index < 1 or term < 0:
            raise InvalidArgument(f"apply_snapshot(index={index}, term={term}): a snapshot covers entries "
                                  "1..index, index >= 1, of a term >= 0")
        book = _book(self.sim)
        applied = book.applied_list(self)
        if index <= len(applied):
            raise InvalidArgument(f"apply_snapshot(index={index}): node {self.id!r} has applied entries "
                                  f"1..{len(applied)} already; a snapshot that is not ahead of what was "
                                  "applied would take the state machine back: ignore it")
        if index > self.commit_index:
            raise InvalidArgument(f"apply_snapshot(index={index}): node {self.id!r} has commit_index="
                                  f"{self.commit_index}; a snapshot holds only committed entries: set "
                                  "commit_index (and last_applied) to its index before you apply it")
        log = self.log
        base = 0 if log.__class__ is list else getattr(log, "snapshot_index", 0)
        if base <= index <= len(log) and self.term_at(index) != term:
            raise InvalidArgument(f"apply_snapshot(index={index}, term={term}): node {self.id!r}'s log "
                                  f"holds an entry of term {self.term_at(index)} at that index")
        book.note_snapshot(self, index, data)
        self.record("apply_snapshot", index=index, term=term, data=data, current_term=self.current_term)
        self.on_apply_snapshot(index, term, data)
        for listener in book.snapshot_listeners:
            listener(self, index, data)

    # -- persistence hooks ------------------------------------------------------------------------
    def persist(self) -> None:
        """Save the state Figure 2 calls persistent to ``self.storage`` (a no-op here).

        Call it whenever that state changes, before sending a message that
        depends on it: only ``self.storage`` survives a crash.
        """

    def restore(self) -> None:
        """Read back what :meth:`persist` saved (a no-op here); :meth:`on_start` calls it."""

    # -- snapshots (Part D) ----------------------------------------------------------------------------
    def snapshot(self, index: int, data: Any) -> None:
        """The service applied everything through ``index`` and ``data`` is its state then.

        Keep ``data`` durably and drop the log's entries up to ``index``
        (6.5840's ``Snapshot(index, snapshot)``); a service may call it from
        inside :meth:`on_apply`.
        """
        raise NotImplementedError

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


#: What the book records for an entry a server received in a snapshot whose data is not the list
#: of the commands it replaces (a service's state): the entry was applied, its command is unknown.
IN_SNAPSHOT = type("InSnapshot", (), {"__repr__": lambda self: "IN_SNAPSHOT", "__slots__": ()})()


class _Book:
    """The harness's record of a run: what each server applied, entries sent."""

    def __init__(self) -> None:
        self.applied: dict[Any, tuple[int, list]] = {}   # node id -> (incarnation, commands applied)
        self.max_index = 0
        self.entries_sent = 0
        self.listeners: list = []           # called (node, index, command) after each apply
        self.snapshot_listeners: list = []  # called (node, index, data) after each apply_snapshot

    def applied_list(self, node: Node) -> list:
        incarnation, commands = self.applied.get(node.id, (None, None))
        if incarnation != node.incarnation:
            commands = []
            self.applied[node.id] = (node.incarnation, commands)
        return commands

    def note_apply(self, index: int, command: Any) -> None:
        self.max_index = max(self.max_index, index)

    def note_snapshot(self, node: Node, index: int, data: Any) -> None:
        """``node`` applied a snapshot through ``index``: the entries it had not applied are now.

        When ``data`` is the tuple (or list) of the ``index`` commands it replaces, as in
        :class:`~course_lib.topics.raft.RaftCluster`'s snapshots, those are the commands recorded;
        otherwise :data:`IN_SNAPSHOT`.
        """
        applied = self.applied_list(node)
        if isinstance(data, (tuple, list)) and len(data) == index:
            applied.extend(data[len(applied):])
        else:
            applied.extend([IN_SNAPSHOT] * (index - len(applied)))
        self.max_index = max(self.max_index, index)

    def search_state(self) -> dict:
        """What a schedule search compares (course_lib.sim.control): what each server applied,
        not the counters, which differ between schedules that reach the same state."""
        return {node: commands for node, (_, commands) in self.applied.items()}


def _book(sim: Simulation) -> _Book:
    return sim.memo("course_lib.topics.raft/book", _Book)
