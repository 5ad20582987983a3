"""The cluster harness (6.5840's ``config.go``) and a scripted stand-in server.

- :class:`RaftCluster`: start servers, partition them, crash and restart
  them, find the leader, submit commands and wait for agreement within a
  bounded simulated time (``check_one_leader``, ``check_terms``,
  ``n_committed``, ``one``). It registers the invariants of
  :mod:`course_lib.checkers.raft`, checked after every event.
- :class:`ScriptedPeer`: a stand-in server that scenarios drive by hand, to
  test one rule of Figure 2 at a time.

Example:
    >>> from course_lib.topics.raft import RaftBase
    >>> cluster = RaftCluster(RaftBase, 3, seed=1)
    >>> cluster.sim.run(until=100)
    >>> [n.role for n in cluster.nodes]
    ['follower', 'follower', 'follower']
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ...checkers import raft as raft_invariants
from ...sim import Message, Node, Simulation, Uniform
from ...sim.errors import ScenarioFailed
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_int, check_positive, check_type
from ...viz.failure import use_picture
from .messages import RAFT_TYPES, AppendEntriesReply, InstallSnapshotReply, RequestVoteReply
from .node import IN_SNAPSHOT, RaftBase, _book
from .pictures import failure_picture


class ScriptedPeer(Node):
    """A stand-in server that scenarios drive by hand; it remembers every message it receives.

    It grants every vote asked in a term at least its own (when
    ``grant_votes``) and accepts every AppendEntries of a current term,
    answering with ``match_index = prev_log_index + len(entries)``, and every
    InstallSnapshot, answering with its ``last_included_index``. Scenarios
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

    def on_install_snapshot(self, msg: Message) -> None:
        self.inbox.append(msg)
        self.term = max(self.term, msg.term)
        self.send(msg.src, InstallSnapshotReply(term=self.term, last_included_index=msg.last_included_index))

    def on_install_snapshot_reply(self, msg: Message) -> None:
        self.inbox.append(msg)

    def on_request_vote_reply(self, msg: Message) -> None:
        self.inbox.append(msg)

    def on_append_entries_reply(self, msg: Message) -> None:
        self.inbox.append(msg)


def _fail(message: str, sim: Simulation | None = None) -> ScenarioFailed:
    return ScenarioFailed(message, sim)


def watch(sim: Simulation) -> Simulation:
    """Check the four Raft invariants after every event of ``sim``, and draw its failures as Raft runs."""
    raft_invariants.register(sim)
    use_picture(sim, failure_picture)
    return sim


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
        snapshot_every: None, or ask each server to ``snapshot(index, data)`` every this many
            applied entries (after applying ``index``, a multiple of it), as 6.5840's tests do
            for Part D; ``data`` is the tuple of the commands the server applied, 1 to ``index``,
            so a server restored from a snapshot can be checked.

    Example:
        >>> cluster = RaftCluster(RaftBase, 5, seed=3)
        >>> cluster.ids
        ['s1', 's2', 's3', 's4', 's5']
    """

    def __init__(self, cls: type, n: int = 3, seed: Any = 0, *, unreliable: bool = False,
                 long_reordering: bool = False, invariants: bool = True,
                 max_events: int = 400_000, snapshot_every: int | None = None) -> None:
        if not (isinstance(cls, type) and issubclass(cls, RaftBase)):
            raise InvalidArgumentType(f"cls={cls!r} must be a subclass of course_lib.topics.raft.RaftBase")
        check_int("n", n, low=1)
        for name, flag in (("unreliable", unreliable), ("long_reordering", long_reordering),
                           ("invariants", invariants)):
            check_type(name, flag, bool, what="True or False")
        if snapshot_every is not None:
            check_int("snapshot_every", snapshot_every, low=1)
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
        self.snapshot_every = snapshot_every
        if snapshot_every is not None:
            self.book.listeners.append(self._maybe_snapshot)
        use_picture(self.sim, failure_picture)  # .draw() on any failure shows roles, messages and logs
        if invariants:
            raft_invariants.register(self.sim)

    def _maybe_snapshot(self, node: RaftBase, index: int, command: Any) -> None:
        """After ``node`` applied ``index``: every ``snapshot_every`` entries, ask it to snapshot."""
        if index % self.snapshot_every:
            return
        applied = self.book.applied_list(node)
        node.snapshot(index, tuple(applied[:index]))

    # -- snapshots ------------------------------------------------------------------------------------
    def log_size(self, server: Any) -> int:
        """How many entries ``server``'s log holds after its snapshot (:meth:`RaftBase.log_size`)."""
        return self.node(server).log_size()

    def log_sizes(self) -> dict:
        """Each server's :meth:`log_size`, by id (crashed ones included: their log as it was)."""
        return {i: self.sim.node(i).log_size() for i in self.ids}

    def applied(self, server: Any) -> list:
        """The commands ``server`` applied in its current incarnation (index 1 first), snapshots included."""
        node = self.node(server)
        incarnation, commands = self.book.applied.get(node.id, (None, []))
        return list(commands) if incarnation == node.incarnation else []

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
        handle = self.sim.memo("course_lib.topics.raft/partition", dict).pop("handle", None)
        if handle is not None:
            network.heal(handle)
        if self.disconnected:
            handle = network.partition([[x] for x in sorted(self.disconnected)])
            self.sim.memo("course_lib.topics.raft/partition", dict)["handle"] = handle

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
            if incarnation != node.incarnation or len(applied) < index or applied[index - 1] is IN_SNAPSHOT:
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
