"""A replicated-log model: what a service on Raft sees, without a Raft.

:class:`LogModel` is a :class:`~course_lib.sim.Node` that offers a service the interface of
a Raft server (``start``, ``get_state``, ``snapshot``, ``log_size``, and the hooks
``on_apply`` and ``on_apply_snapshot``) and shows it every behaviour a real Raft shows
under partitions, crashes and a lossy network. It is a *model*, not an implementation: a
shared oracle (one per simulation, :func:`world`) holds the authoritative committed log and
each leader's log, and servers copy entries from it instead of checking and repairing logs
entry by entry as Raft's AppendEntries does. So it is no answer to chapter 03b; a learner's
own 03b Raft can replace it under the same service (see :class:`~.cluster.KVCluster`).

What a service sees, and when (every behaviour can be forced by a partition or a crash at
a chosen time; the chapter's tests do):

- **Leaders change.** A follower that hears no leader for a random 150-300 units (on its
  own clock) starts an election in the next term; a majority of votes makes it leader.
  Votes go only to a candidate whose log is at least as up to date, and a server that heard
  from a leader within the last 150 units ignores vote requests (what leases rely on).
- **A deposed leader still leads, in its own eyes.** A leader cut off from the majority
  keeps its role and its term and keeps accepting ``start()`` (``is_leader`` True) until it
  hears of a higher term. Those entries never commit; once it is back, the new leader's
  entries replace them: another command commits at the index ``start()`` returned.
- **An uncommitted entry may survive.** An entry that reached a majority's logs but whose
  commit its leader never learnt of is committed by the next leader, in a later term.
- **Commits need a majority**, and a new leader first commits a no-op (command ``None``)
  of its own term; services ignore it.
- **Applies are late and in bursts**: a server applies what it knows is committed a
  random 1-8 units after learning it, all at once; followers learn of commits with the next
  heartbeat (every 50 units, or right after a ``start()``), so they apply later than the
  leader, and a server cut off applies nothing until it is back.
- **Crashes lose volatile state**: a restarted server knows its term, vote, log and
  snapshot (kept in ``self.storage``) but nothing of what it applied. It first hands its
  snapshot to the service (``on_apply_snapshot``), then applies its log again from there
  once it learns the commit index from a leader.
- **Snapshots**: ``snapshot(index, data)`` keeps ``data`` (pickled) and trims the log up to
  ``index``; a follower whose log ends before the leader's snapshot gets the leader's
  snapshot instead of entries (InstallSnapshot) and hands it to its service.
- **Reads** (this model only; a 03b Raft does not offer them): ``read_index(callback)``
  runs a confirmation round; ``lease_valid()`` reads a lease on the leader's drifting
  clock, safe while every clock's drift stays within :attr:`LogModel.DRIFT_BOUND`.

How to force each (``tests/test_raft_service.py`` does): a leader change, by cutting the
leader off (``cluster.isolate(leader)``, or ``cluster.partition([[leader], others])``, which
leaves the clerks reaching both sides) or crashing it; a deposed leader accepting commands and
an index reused, by cutting it off while clerks still reach it, then healing; an entry that
survives into the next term, by losing one follower's acknowledgements
(``sim.network.partition_one_way([follower], [leader])``) with the other follower cut off,
then crashing the leader; a follower behind the leader's snapshot, by isolating it while the
others snapshot; overlapping leases, by making the leader's clock slow and the others' fast
beyond ``DRIFT_BOUND`` (``clock_drift=``) and cutting the leader off. There is no PreVote: a
server cut off keeps starting elections, and when it is back its higher term deposes the
leader, as in a Raft without PreVote.

Its traffic is real simulator messages, drawn in every space-time diagram: ``lm_append``
(entries and heartbeats, carrying the commit index) and its answer ``lm_ack``, ``lm_vote``
and ``lm_voted``, ``lm_install`` (a leader's snapshot), ``lm_confirm`` and
``lm_confirmed`` (a read's confirmation round). Role changes are recorded as ``"role"``
events (as :class:`~course_lib.topics.raft.RaftBase` records them, so
:func:`~course_lib.topics.raft.role_timeline` draws them) and applies as ``"apply"`` events.

Example:
    >>> from course_lib.sim import Simulation, Uniform
    >>> sim = Simulation(seed=3, latency=Uniform(1.0, 10.0))
    >>> servers = sim.add_nodes(LogModel, ["s1", "s2", "s3"])
    >>> sim.run(until=600)
    >>> [s.id for s in servers if s.get_state()[1]]
    ['s2']
"""

from __future__ import annotations

import copy
import pickle
from typing import Any, Callable

from ....sim import Node, Simulation
from ....sim.messages import is_immutable
from ....sim.validation import InvalidArgument, InvalidArgumentType, check_callable, check_int

#: The message types of the model's own traffic (what pictures and metrics tell apart).
MODEL_TYPES = ("lm_append", "lm_ack", "lm_vote", "lm_voted", "lm_install", "lm_confirm",
               "lm_confirmed")

_WORLD = "course_lib.topics.raft.service/world"


class World:
    """The model's oracle, one per simulation: what no real server could know.

    ``committed`` is the authoritative committed log (``(term, command)`` pairs, index 1
    first); ``leaders`` the leader of each term; ``logs`` each leader's whole log by term
    (a leader only appends to its log while it leads, so a prefix of it never changes).
    ``problems`` lists the model's own inconsistencies (none, unless it has a bug or a
    service misuses it): the harness checks it after every event.
    """

    def __init__(self) -> None:
        self.committed: list[tuple[int, Any]] = []
        self.leaders: dict[int, Any] = {}
        self.logs: dict[int, list] = {}
        self.problems: list[str] = []
        self.servers: list | None = None
        self.elections: list[tuple[float, int, Any]] = []  # (time, term, leader)

    def server_ids(self, sim: Simulation) -> list:
        if self.servers is None:
            self.servers = [i for i, n in sim.nodes.items() if isinstance(n, LogModel)]
        return self.servers

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)

    def elect(self, term: int, node: Any, now: float, log: list) -> None:
        if term in self.leaders and self.leaders[term] != node:
            self.problem(f"two leaders in term {term}: {self.leaders[term]} and {node}")
        self.leaders[term] = node
        self.logs[term] = log
        self.elections.append((now, term, node))

    def commit(self, term: int, upto: int) -> None:
        """The leader of ``term`` learnt that its entries up to ``upto`` are committed."""
        log = self.logs[term]
        have = len(self.committed)
        check = min(have, upto)
        if check and log[check - 1] != self.committed[check - 1]:
            self.problem(f"the leader of term {term} committed {log[check - 1]!r} at index {check}, "
                         f"where {self.committed[check - 1]!r} was committed before")
        if upto > have:
            self.committed.extend(log[have:upto])


def world(sim: Simulation) -> World:
    """The oracle of the log model in ``sim`` (made the first time it is asked for)."""
    if not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation")
    return sim.memo(_WORLD, World)


def model_consistent(sim: Simulation) -> str | None:
    """An invariant: the log model found nothing wrong (one leader per term, a committed prefix that
    never changes, every server applying exactly the committed commands)."""
    problems = world(sim).problems
    return problems[0] if problems else None


class LogModel(Node):
    """A server of the replicated-log model (see the module): Raft's interface for a service.

    A service class (a :class:`~.base.KVServiceBase`) is combined with it by the harness;
    the service calls :meth:`start`, :meth:`get_state`, :meth:`snapshot`,
    :meth:`log_size`, :meth:`read_index` and :meth:`lease_valid` on ``self``, and the model
    calls the service's ``on_apply(index, command)`` and
    ``on_apply_snapshot(index, term, data)``.
    """

    #: Election timeouts are drawn from this range (own clock); leaders send heartbeats this often.
    ELECTION_TIMEOUT = (150.0, 300.0)
    HEARTBEAT_INTERVAL = 50.0
    #: A ``start()`` is replicated after this long (entries started meanwhile travel together).
    FLUSH_DELAY = 2.0
    #: A server applies what it learns is committed after a random delay in this range.
    APPLY_DELAY = (1.0, 8.0)
    #: A read's confirmation round gives up after this long (own clock).
    CONFIRM_TIMEOUT = 100.0
    #: Leases are safe while every clock's rate error stays within this bound (10%).
    DRIFT_BOUND = 0.1
    hooks = ("on_start", "on_apply", "on_apply_snapshot")

    def __init__(self) -> None:
        super().__init__()
        self._lm = self.storage.setdefault("logmodel", {
            "term": 0, "voted": None, "entries": [], "snap_index": 0, "snap_term": 0,
            "snap_data": None, "snap_object": None})
        self._lm_leads = False         # believes it leads _lm["term"]
        self._lm_candidate = False
        self._lm_votes: set = set()
        self._lm_commit = self._lm["snap_index"]
        self._lm_applied = 0
        self._lm_synced = False        # own log is a prefix of the current term's leader log
        self._lm_heard: float | None = None   # own clock when a leader was last heard
        self._lm_match: dict = {}
        self._lm_acked: dict = {}      # follower -> latest heartbeat send time (own clock) it acked
        self._lm_noop = 0              # index of this leader's no-op
        self._lm_reads: list = []      # open read_index rounds
        self._lm_round = 0
        self._lm_election: Any = None
        self._lm_heartbeat: Any = None
        self._lm_flush: Any = None
        self._lm_burst: Any = None
        self._lm_started = False

    # -- hooks a service overrides -------------------------------------------------------------
    def on_apply(self, *entry: Any) -> None:
        """``on_apply(index, command)``: a committed entry (the service's hook; a no-op here)."""

    def on_apply_snapshot(self, *snapshot: Any) -> None:
        """``on_apply_snapshot(index, term, data)``: replace the state (the service's hook)."""

    # -- the interface a service calls --------------------------------------------------------------
    def get_state(self) -> tuple[int, bool]:
        """Return ``(term, is_leader)``: this server's term and whether it believes it leads."""
        return self._lm["term"], self._lm_leads

    @property
    def current_term(self) -> int:
        """This server's term (read-only)."""
        return self._lm["term"]

    @property
    def commit_index(self) -> int:
        """The highest index this server knows is committed (read-only)."""
        return self._lm_commit

    @property
    def last_applied(self) -> int:
        """The highest index handed to the service, by ``on_apply`` or a snapshot (read-only)."""
        return self._lm_applied

    @property
    def log(self) -> Any:
        """A copy of this server's log (read-only): a :class:`~course_lib.topics.raft.RaftLog` of
        ``(term, command)`` entries with absolute indices, those after the snapshot held, so 03b's
        pictures (:func:`~course_lib.topics.raft.log_rows`) draw it."""
        from ..node import RaftLog
        lm = self._lm
        return RaftLog(lm["entries"], snapshot_index=lm["snap_index"], snapshot_term=lm["snap_term"])

    @property
    def role(self) -> str:
        """``"leader"``, ``"candidate"`` or ``"follower"``, as this server believes (read-only)."""
        return "leader" if self._lm_leads else "candidate" if self._lm_candidate else "follower"

    def start(self, command: Any) -> tuple[int, int, bool]:
        """Append ``command`` to the log if this server believes it leads; return ``(index, term, is_leader)``.

        Not leading: nothing is appended and the result is ``(-1, term, False)``. Leading,
        the command may still never commit (this leader may be deposed already), and
        another command may then commit at the returned index.
        """
        lm = self._lm
        if not self._lm_leads:
            return -1, lm["term"], False
        if not is_immutable(command):  # the log keeps the command as it was, whatever the caller does next
            command = copy.deepcopy(command)
        entry = (lm["term"], command)
        lm["entries"].append(entry)
        full = world(self.sim).logs[lm["term"]]
        full.append(entry)
        if self._lm_flush is None and not self.crashed:
            self._lm_flush = self.set_timer(self.FLUSH_DELAY, self._lm_replicate, name="lm_flush")
        if len(self._lm_servers()) == 1:
            self._lm_advance(len(full))
        return len(full), lm["term"], True

    def log_size(self) -> int:
        """The number of entries this server's log holds after its snapshot."""
        return len(self._lm["entries"])

    def snapshot(self, index: int, data: Any) -> None:
        """The service has applied everything through ``index`` and ``data`` is its whole state then.

        The model keeps ``data`` (pickled, so :meth:`snapshot_size` is its size in bytes) and
        drops the log's entries up to ``index``. A snapshot at or below the current one is
        ignored (as 6.5840's ``Snapshot``). ``data`` must be a copy, not the service's live
        state: a Raft that keeps the object would later restore a newer state under this
        index, so the model reports a ``data`` that changed afterwards as a broken invariant.

        Raises:
            InvalidArgument: ``index`` is beyond what this server has applied, or ``data``
                cannot be pickled.
        """
        check_int("index", index, low=0)
        lm = self._lm
        if index > self._lm_applied:
            raise InvalidArgument(f"snapshot(index={index}): server {self.id!r} has applied entries only "
                                  f"up to {self._lm_applied}; snapshot only what the service has applied")
        if index <= lm["snap_index"]:
            return
        try:
            blob = pickle.dumps(data, protocol=4)
        except Exception as exc:
            raise InvalidArgument(f"snapshot(data={data!r:.80}): the data must be picklable (plain dicts, "
                                  f"lists, str, int): {exc}") from None
        self._lm_check_snapshot_kept()
        cut = index - lm["snap_index"]
        lm["snap_term"] = lm["entries"][cut - 1][0]
        del lm["entries"][:cut]
        lm["snap_index"] = index
        lm["snap_data"] = blob
        lm["snap_object"] = data
        self.record("snapshot", index=index, size=len(blob))

    def snapshot_size(self) -> int:
        """The size in bytes of the snapshot this server keeps (0 without one)."""
        blob = self._lm["snap_data"]
        return 0 if blob is None else len(blob)

    def snapshot_index(self) -> int:
        """The last index the snapshot this server keeps covers (0 without one)."""
        return self._lm["snap_index"]

    def read_index(self, callback: Callable[[Any], Any]) -> None:
        """Confirm leadership with a round trip; then ``callback(index)``, else ``callback(None)``.

        If this server leads, it asks every other server whether it still leads its term;
        once a majority (itself included) said yes, and an entry of its own term has
        committed, it calls ``callback(index)`` with its commit index of that moment (that
        of the call, or of its own term's first commit if later): a read that waits until
        the service has applied ``index`` is linearizable. A deposed leader cannot gather
        the majority: after ``CONFIRM_TIMEOUT`` (or as soon as it learns of a higher term)
        it calls ``callback(None)``, as does a server that does not lead (right away, as
        a timer). Only the log model offers this (a 03b Raft does not).

        Raises:
            InvalidArgumentType: ``callback`` is not callable.
        """
        check_callable("callback", callback, "callback(index)")
        if not self._lm_leads:
            self.set_timer(0.0, callback, None, name="lm_read_refused")
            return
        self._lm_round += 1
        known = self._lm_commit if self._lm_commit >= self._lm_noop else None
        read = {"round": self._lm_round, "callback": callback, "index": known, "yes": {self.id},
                "term": self._lm["term"]}
        read["timer"] = self.set_timer(self.CONFIRM_TIMEOUT, self._lm_read_expired, read,
                                       name="lm_read_timeout")
        self._lm_reads.append(read)
        for peer in self._lm_peers():
            self.send(peer, "lm_confirm", term=self._lm["term"], round=self._lm_round)
        self._lm_read_check()

    def lease_valid(self) -> bool:
        """Whether this server leads and holds a lease now, on its own clock.

        A leader holds a lease until ``lease`` units (its clock) after sending the latest
        heartbeat a majority acknowledged, with ``lease`` =
        ``ELECTION_TIMEOUT[0] * (1 - DRIFT_BOUND) / (1 + DRIFT_BOUND)``: servers that heard
        that heartbeat vote for nobody for ``ELECTION_TIMEOUT[0]`` units of their own clocks,
        so no other leader can exist before the lease ends while every clock's drift stays
        within ``DRIFT_BOUND`` (and no clock jumps). Beyond it, two leaders' leases may overlap
        and a lease read may be stale. The lease needs an entry of the leader's own term committed (until
        then the leader may not know everything committed), and a lease read must still
        wait until the service has applied :attr:`commit_index`. Only the log model
        offers this (a 03b Raft does not).
        """
        if not self._lm_leads or self._lm_commit < self._lm_noop:
            return False
        return self.clock.now() < self._lm_lease_until()

    def lease_length(self) -> float:
        """How long (own clock) a lease lasts after the heartbeat a majority acknowledged."""
        low = self.ELECTION_TIMEOUT[0]
        return low * (1 - self.DRIFT_BOUND) / (1 + self.DRIFT_BOUND)

    # -- start and crash -------------------------------------------------------------------------------
    def on_start(self) -> None:
        """Start the election timer; after a restart, hand the snapshot kept (if any) to the service."""
        self._lm_started = True
        # a restarted server may have acknowledged a leader's heartbeat just before it crashed: it
        # votes for nobody for an election timeout, as if it had just heard from that leader
        self._lm_heard = self.clock.now()
        if self.incarnation:
            self.record("role", role="follower", term=self._lm["term"])
        lm = self._lm
        if lm["snap_index"] > self._lm_applied and lm["snap_data"] is not None:
            self._lm_deliver_snapshot()
        self._lm_reset_election()

    # -- internals: roles ------------------------------------------------------------------------------------
    def _lm_servers(self) -> list:
        servers = getattr(type(self), "_kv_servers", None)
        return list(servers) if servers is not None else world(self.sim).server_ids(self.sim)

    def _lm_peers(self) -> list:
        return [s for s in self._lm_servers() if s != self.id]

    def _lm_majority(self) -> int:
        return len(self._lm_servers()) // 2 + 1

    def _lm_last(self) -> tuple[int, int]:
        """(index, term) of this server's last entry."""
        lm = self._lm
        if lm["entries"]:
            return lm["snap_index"] + len(lm["entries"]), lm["entries"][-1][0]
        return lm["snap_index"], lm["snap_term"]

    def _lm_reset_election(self) -> None:
        if self._lm_election is not None:
            self._lm_election.cancel()
        self._lm_election = self.set_timer(self.rng.uniform(*self.ELECTION_TIMEOUT), self._lm_timeout,
                                           name="lm_election")

    def _lm_adopt(self, term: int) -> None:
        """Move to a higher ``term`` as a follower (stepping down if leading)."""
        lm = self._lm
        was = self.role
        if term > lm["term"]:
            lm["term"] = term
            lm["voted"] = None
            self._lm_synced = False
            if was == "follower":
                self.record("role", role="follower", term=term)
        if was != "follower":
            self._lm_step_down()

    def _lm_step_down(self) -> None:
        self._lm_leads = False
        self._lm_candidate = False
        if self._lm_heartbeat is not None:
            self._lm_heartbeat.cancel()
            self._lm_heartbeat = None
        if self._lm_flush is not None:
            self._lm_flush.cancel()
            self._lm_flush = None
        reads, self._lm_reads = self._lm_reads, []
        for read in reads:
            read["timer"].cancel()
            read["callback"](None)
        self.record("role", role="follower", term=self._lm["term"])
        self._lm_reset_election()

    def _lm_timeout(self) -> None:
        self._lm_election = None
        if self._lm_leads:
            return
        lm = self._lm
        lm["term"] += 1
        lm["voted"] = self.id
        self._lm_synced = False
        self._lm_candidate = True
        self._lm_votes = {self.id}
        self.record("role", role="candidate", term=lm["term"])
        self._lm_reset_election()
        index, term = self._lm_last()
        for peer in self._lm_peers():
            self.send(peer, "lm_vote", term=lm["term"], last_index=index, last_term=term)
        if len(self._lm_votes) >= self._lm_majority():
            self._lm_win()

    def on_lm_vote(self, msg: Any) -> None:
        lm = self._lm
        if self._lm_leads:
            return  # a leader steps down only on hearing of a higher term in an answer to it
        if self._lm_heard is not None and self.clock.now() - self._lm_heard < self.ELECTION_TIMEOUT[0]:
            return  # heard from a leader lately: no votes (what makes leases safe)
        if msg.term > lm["term"]:
            self._lm_adopt(msg.term)
        grant = (msg.term == lm["term"] and lm["voted"] in (None, msg.src)
                 and (msg.last_term, msg.last_index) >= self._lm_last()[::-1])
        if grant:
            lm["voted"] = msg.src
            self._lm_reset_election()
        self.send(msg.src, "lm_voted", term=lm["term"], granted=grant)

    def on_lm_voted(self, msg: Any) -> None:
        lm = self._lm
        if msg.term > lm["term"]:
            self._lm_adopt(msg.term)
            return
        if self._lm_candidate and msg.term == lm["term"] and msg.granted:
            self._lm_votes.add(msg.src)
            if len(self._lm_votes) >= self._lm_majority():
                self._lm_win()

    def _lm_win(self) -> None:
        lm = self._lm
        self._lm_candidate = False
        self._lm_leads = True
        if self._lm_election is not None:
            self._lm_election.cancel()
            self._lm_election = None
        w = world(self.sim)
        full = w.committed[:lm["snap_index"]] + lm["entries"]
        noop = (lm["term"], None)
        full.append(noop)
        lm["entries"].append(noop)
        w.elect(lm["term"], self.id, self.sim.now, full)
        self._lm_noop = len(full)
        self._lm_synced = True
        self._lm_match = {peer: 0 for peer in self._lm_peers()}
        self._lm_acked = {}
        self.record("role", role="leader", term=lm["term"])
        self._lm_heartbeat = self.every(self.HEARTBEAT_INTERVAL, self._lm_replicate, name="lm_heartbeat")
        self._lm_replicate()
        if len(self._lm_servers()) == 1:
            self._lm_advance(len(full))

    # -- internals: replication ---------------------------------------------------------------------------
    def _lm_replicate(self) -> None:
        self._lm_flush = None
        if not self._lm_leads:
            return
        lm = self._lm
        upto = len(world(self.sim).logs[lm["term"]])
        sent = self.clock.now()
        for peer in self._lm_peers():
            self.send(peer, "lm_append", term=lm["term"], upto=upto, commit=self._lm_commit,
                      snap=lm["snap_index"], sent=sent)

    def _lm_from_leader(self, msg: Any) -> bool:
        """A leader's ``lm_append`` or ``lm_install``: refuse an older term (False), else follow it."""
        lm = self._lm
        if msg.term < lm["term"]:
            self.send(msg.src, "lm_ack", term=lm["term"], match=0, sent=msg.sent, need=False)
            return False
        if msg.term > lm["term"] or self.role != "follower":
            self._lm_adopt(msg.term)
        self._lm_heard = self.clock.now()
        self._lm_reset_election()
        return True

    def on_lm_append(self, msg: Any) -> None:
        if not self._lm_from_leader(msg):
            return
        lm = self._lm
        last, _ = self._lm_last()
        if last < msg.snap:
            # the leader no longer holds the entries this server lacks: it needs its snapshot
            self.send(msg.src, "lm_ack", term=lm["term"], match=0, sent=msg.sent, need=True)
            return
        match = self._lm_sync(world(self.sim).logs[msg.term], msg.upto)
        commit = min(msg.commit, match)
        if commit > self._lm_commit:
            self._lm_commit = commit
            self._lm_check_log()
            self._lm_schedule_burst()
        self.send(msg.src, "lm_ack", term=lm["term"], match=match, sent=msg.sent, need=False)

    def _lm_sync(self, full: list, upto: int) -> int:
        """Make this server's log agree with the leader's log ``full`` up to ``upto``; return how far it agrees."""
        lm = self._lm
        entries, base = lm["entries"], lm["snap_index"]
        last = base + len(entries)
        if self._lm_synced:  # already a prefix of the leader's log: at most extend it
            if upto > last:
                entries.extend(full[last:upto])
                return upto
            return last
        # keep what agrees with the leader's log beyond upto (it may be committed), drop the rest
        keep = max(upto, base)
        while keep < last and keep < len(full) and entries[keep - base][0] == full[keep][0]:
            keep += 1
        if keep > base:
            entries[:] = full[base:keep]
        else:  # a snapshot covers all of it
            entries[:] = []
        self._lm_synced = True
        return max(keep, base)

    def on_lm_ack(self, msg: Any) -> None:
        lm = self._lm
        if msg.term > lm["term"]:
            self._lm_adopt(msg.term)
            return
        if not self._lm_leads or msg.term != lm["term"]:
            return
        if msg.need:
            self.send(msg.src, "lm_install", term=lm["term"], index=lm["snap_index"],
                      snap_term=lm["snap_term"], data=lm["snap_data"], sent=msg.sent)
            return
        if msg.sent > self._lm_acked.get(msg.src, float("-inf")):
            self._lm_acked[msg.src] = msg.sent
        if msg.match > self._lm_match.get(msg.src, 0):
            self._lm_match[msg.src] = msg.match
            ranked = sorted(list(self._lm_match.values()) + [lm["snap_index"] + len(lm["entries"])],
                            reverse=True)
            self._lm_advance(ranked[self._lm_majority() - 1])
        self._lm_read_check()

    def _lm_advance(self, n: int) -> None:
        """A majority holds this leader's entries up to ``n``: commit them if the last is of its term."""
        full = world(self.sim).logs[self._lm["term"]]
        if n > self._lm_commit and full[n - 1][0] == self._lm["term"]:
            self._lm_commit = n
            world(self.sim).commit(self._lm["term"], n)
            for read in self._lm_reads:
                if read["index"] is None and n >= self._lm_noop:
                    read["index"] = n
            self._lm_schedule_burst()

    def on_lm_install(self, msg: Any) -> None:
        if not self._lm_from_leader(msg):
            return
        lm = self._lm
        if msg.index > lm["snap_index"]:
            last, _ = self._lm_last()
            offset = msg.index - lm["snap_index"]
            if last >= msg.index and lm["entries"][offset - 1][0] == msg.snap_term:
                del lm["entries"][:offset]   # the entries after the snapshot are kept
            else:
                lm["entries"][:] = []
                self._lm_synced = True       # empty beyond the snapshot: a prefix of the leader's log
            self._lm_check_snapshot_kept()
            lm["snap_index"], lm["snap_term"], lm["snap_data"] = msg.index, msg.snap_term, msg.data
            self.record("install_snapshot", index=msg.index, size=len(msg.data or b""))
            self._lm_commit = max(self._lm_commit, msg.index)
            self._lm_schedule_burst()
        match = self._lm_sync(world(self.sim).logs[msg.term], msg.index)
        self.send(msg.src, "lm_ack", term=lm["term"], match=match, sent=msg.sent, need=False)

    def _lm_check_log(self) -> None:
        """Model self-check: this server's committed entries are the committed log's."""
        lm = self._lm
        w = world(self.sim)
        n = self._lm_commit
        if n > len(w.committed):
            w.problem(f"{self.id} believes {n} entries are committed; only {len(w.committed)} are")
            return
        if n > lm["snap_index"] and lm["entries"][n - lm["snap_index"] - 1] != w.committed[n - 1]:
            w.problem(f"{self.id} holds {lm['entries'][n - lm['snap_index'] - 1]!r} at index {n}, "
                      f"but {w.committed[n - 1]!r} is committed there")

    # -- internals: applying ------------------------------------------------------------------------------------
    def _lm_schedule_burst(self) -> None:
        if self._lm_burst is None and not self.crashed:
            self._lm_burst = self.set_timer(self.rng.uniform(*self.APPLY_DELAY), self._lm_apply_burst,
                                            name="lm_apply")

    def _lm_check_snapshot_kept(self) -> None:
        """The object handed to snapshot() must still be the state of then: a service that passes its
        live state and changes it afterwards would, on a Raft that keeps the object, restore a later
        state under an earlier index (and apply entries twice)."""
        lm = self._lm
        kept = lm.get("snap_object")
        if kept is None or lm["snap_data"] is None:
            return
        try:
            same = pickle.dumps(kept, protocol=4) == lm["snap_data"]
        except Exception:
            same = False
        if not same:
            world(self.sim).problem(
                f"{self.id}'s service changed the data it handed to snapshot(index={lm['snap_index']}, data) "
                "afterwards: data must be the state as it was then, not the live state; pass a copy "
                "(copy.deepcopy(...), or new dicts) so the log keeps the state of that index")
        lm["snap_object"] = None

    def _lm_deliver_snapshot(self) -> None:
        lm = self._lm
        self._lm_check_snapshot_kept()
        self._lm_applied = lm["snap_index"]
        self._lm_commit = max(self._lm_commit, lm["snap_index"])
        self.record("apply_snapshot", index=lm["snap_index"], term=lm["snap_term"], size=len(lm["snap_data"]))
        self.on_apply_snapshot(lm["snap_index"], lm["snap_term"], pickle.loads(lm["snap_data"]))

    def _lm_apply_burst(self) -> None:
        self._lm_burst = None
        lm = self._lm
        committed = world(self.sim).committed
        if lm["snap_index"] > self._lm_applied:
            self._lm_deliver_snapshot()
        while self._lm_applied < self._lm_commit:
            index = self._lm_applied + 1
            entry = lm["entries"][index - lm["snap_index"] - 1]
            if index > len(committed) or committed[index - 1] != entry:
                world(self.sim).problem(f"{self.id} applies {entry!r} at index {index}, but "
                                        f"{committed[index - 1] if index <= len(committed) else 'nothing'!r} "
                                        "is committed there")
            self._lm_applied = index
            self.record("apply", index=index, command=entry[1], term=entry[0])
            command = entry[1]
            self.on_apply(index, command if is_immutable(command) else copy.deepcopy(command))

    # -- internals: reads -------------------------------------------------------------------------------------------
    def on_lm_confirm(self, msg: Any) -> None:
        lm = self._lm
        if msg.term > lm["term"] or (msg.term == lm["term"] and self.role == "candidate"):
            self._lm_adopt(msg.term)
        ok = msg.term == lm["term"] and not self._lm_leads
        if ok:
            self._lm_heard = self.clock.now()
            self._lm_reset_election()
        self.send(msg.src, "lm_confirmed", term=lm["term"], round=msg.round, ok=ok)

    def on_lm_confirmed(self, msg: Any) -> None:
        if msg.term > self._lm["term"]:
            self._lm_adopt(msg.term)
            return
        if not msg.ok:
            return
        for read in self._lm_reads:
            if read["round"] == msg.round:
                read["yes"].add(msg.src)
        self._lm_read_check()

    def _lm_read_check(self) -> None:
        if not self._lm_reads:
            return
        done = [r for r in self._lm_reads
                if r["index"] is not None and len(r["yes"]) >= self._lm_majority()]
        if not done:
            return
        self._lm_reads = [r for r in self._lm_reads if r not in done]
        for read in done:
            read["timer"].cancel()
            read["callback"](read["index"])

    def _lm_read_expired(self, read: dict) -> None:
        if read in self._lm_reads:
            self._lm_reads.remove(read)
            read["callback"](None)

    def _lm_lease_until(self) -> float:
        times = sorted(self._lm_acked.values(), reverse=True)
        need = self._lm_majority() - 1  # the leader itself is one
        if need == 0:
            return float("inf")
        if len(times) < need:
            return float("-inf")
        return times[need - 1] + self.lease_length()
