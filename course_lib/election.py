"""Chapter 03a scaffolding for leader election: the seeds' elections, bully, ring, leases, fencing.

- :class:`HeartbeatElection`: a port of a common tutorial's ``LeaderElection``
  (heartbeats, a timeout, the highest id wins), which a partition splits into
  two leaders.
- :class:`BullyNode` and :class:`RingNode`: the two classic elections, with
  :func:`run_bully` and :func:`run_ring` to count their messages.
- :class:`LeaseStore`: a Redis / etcd-like key-value server with
  ``set_nx`` (create if absent, with a time to live) and ``expire``; ports of
  the tutorial's lease elections on top of it (:class:`RedisLeaderElection`,
  :class:`EtcdLeaderElection`).
- :class:`FencedStorage`: a storage service that checks fencing tokens.
- :func:`pause`: a stop-the-world pause (garbage collection, a stalled VM): the
  node keeps its memory and its beliefs, handles nothing meanwhile, and then
  handles everything that waited.
- :func:`watch_leaders`: record who believed they led, when, and in which term
  (draw it with :func:`course_lib.viz.leaders.leader_timeline`).
- :class:`FailureDetector` and :class:`HeartbeatMonitor`: the tutorial's
  missed-heartbeats failure detector.
- :func:`lease_scenario`: run a lock server and leader class through pauses,
  partitions and crashes, with the election invariants checked throughout.

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=1)
    >>> nodes = sim.add_nodes(HeartbeatElection, ["n1", "n2", "n3"])
    >>> sim.run(until=20)
    >>> [n.current_leader for n in nodes]
    ['n3', 'n3', 'n3']
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

from .checkers.invariants import (at_most_one_leader, at_most_one_leader_per_term,
                                  fenced_writes_monotonic)
from .sim.errors import EventBudgetExceeded, ScenarioFailed
from .sim import Constant, Node, Simulation, Uniform
from .sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice,
                             check_ids, check_int, check_number, check_positive, check_type)


def _check_flag(name: str, value: Any) -> None:
    check_type(name, value, bool, what="True or False")


def _run(sim: Simulation, until: float, caller: str) -> None:
    """Run ``sim`` to ``until``; a run over its event budget says which argument raises it."""
    try:
        sim.run(until=until)
    except EventBudgetExceeded as exc:
        raise EventBudgetExceeded(f"{exc} (here: pass {caller}(..., max_events=N))") from None

# -- pauses ---------------------------------------------------------------------------------------

def is_paused(node: Node) -> bool:
    """Whether ``node`` is in a stop-the-world pause right now (same as ``node.paused``)."""
    check_type("node", node, Node, what="a node (not its id: pass sim.node(node_id))")
    return node.paused


def pause_node(sim: Simulation, node_id: Any, duration: float) -> None:
    """Stop ``node_id`` for ``duration`` from now, as a long garbage collection or a stalled VM would.

    The node is not crashed: it keeps its memory (including its belief that it
    holds a lease), messages still reach it and its timers still come due, but
    it handles none of them until the pause ends; then it handles them all, in
    the order they came (a periodic timer that came due several times runs
    once). Its clock keeps running, so a node that looks at it after the pause
    can notice how much time went by. This is the core's pause fault,
    :meth:`course_lib.sim.Nemesis.pause`; the trace shows ``pause`` and ``resume`` events.

    Raises:
        InvalidArgument: ``duration`` is not a positive number, or ``node_id`` is not a node.
    """
    check_type("sim", sim, Simulation)
    sim.nemesis.pause(node_id, duration=duration)


def pause(sim: Simulation, node_id: Any, *, at: float, duration: float) -> None:
    """Schedule a stop-the-world pause of ``node_id`` at time ``at`` (see :func:`pause_node`)."""
    check_type("sim", sim, Simulation)
    sim.nemesis.pause(node_id, at=at, duration=duration)


# -- who led, when ------------------------------------------------------------------------------------

class LeadershipLog:
    """Who believed they were leader, when, and in which term; see :func:`watch_leaders`."""

    def __init__(self, sim: Simulation) -> None:
        check_type("sim", sim, Simulation)
        self.sim = sim
        self._open: dict = {}       # node id -> (start, term)
        self._closed: list = []     # (node id, start, end, term)

    def _observe(self, sim: Simulation) -> None:
        now = sim.now
        for node_id, node in sim.nodes.items():
            is_leader = getattr(node, "is_leader", None)
            leads = callable(is_leader) and not node.crashed and bool(is_leader())
            term = getattr(node, "term", None) if leads else None
            current = self._open.get(node_id)
            if current is not None and (not leads or current[1] != term):
                if now > current[0]:
                    self._closed.append((node_id, current[0], now, current[1]))
                del self._open[node_id]
                current = None
            if leads and current is None:
                self._open[node_id] = (now, term)
        return None

    def intervals(self) -> list[tuple]:
        """Return ``(node, start, end, term)`` for every stretch of leadership, in order of start."""
        now = self.sim.now
        out = self._closed + [(n, start, now, term) for n, (start, term) in self._open.items()
                              if now > start]
        return sorted(out, key=lambda iv: (iv[1], str(iv[0])))

    def leaders_at(self, time: float) -> list:
        """Return the nodes that believed they led at ``time``."""
        check_number("time", time)
        return [n for n, start, end, _ in self.intervals() if start <= time < end]

    def overlap(self) -> float:
        """Return the total time during which two or more nodes believed they led."""
        points = sorted({t for _, s, e, _ in self.intervals() for t in (s, e)})
        total = 0.0
        for a, b in zip(points, points[1:]):
            mid = (a + b) / 2
            if len(self.leaders_at(mid)) > 1:
                total += b - a
        return total


def watch_leaders(sim: Simulation) -> LeadershipLog:
    """Start recording who believes they lead (``is_leader()``) and in which ``term``; returns the log.

    Beliefs are sampled after every event of the run.
    """
    check_type("sim", sim, Simulation)
    log = LeadershipLog(sim)
    sim.add_observer(log._observe)
    return log


# -- the tutorial's heartbeat election ----------------------------------------------------------------

class HeartbeatElection(Node):
    """The tutorial's ``LeaderElection``, ported: heartbeats, a timeout, and the highest live id leads.

    The Ruby original keeps ``@last_heartbeat`` per node, checks the leader's
    health every second, and when the leader has been silent for longer than
    ``timeout`` picks the highest id heard from within the timeout. Here each
    node runs it and sends its own heartbeat to everyone every ``interval``.

    One adaptation: the original makes the *first* node it hears from the
    leader; with ``first_heard=False`` (the default) a node instead waits one
    timeout and then runs the highest-id rule, so that nodes start agreeing.
    """

    def __init__(self, timeout: float = 5.0, interval: float = 1.0, first_heard: bool = False) -> None:
        check_positive("timeout", timeout)
        check_positive("interval", interval)
        _check_flag("first_heard", first_heard)
        self.timeout = timeout
        self.interval = interval
        self.first_heard = first_heard
        self.current_leader = None
        self.last_heartbeat: dict = {}

    def on_start(self) -> None:
        self.every(self.interval, self.heartbeat)
        self.every(1.0, self.check_leader_health)       # the Ruby thread's `sleep 1`
        if not self.first_heard:
            self.set_timer(self.timeout, self.elect_new_leader)

    def heartbeat(self) -> None:
        self.receive_heartbeat(self.id)                  # a node knows it is alive
        self.broadcast("heartbeat")

    def on_heartbeat(self, msg: Any) -> None:
        self.receive_heartbeat(msg.src)

    def receive_heartbeat(self, node_id: Any) -> None:
        self.last_heartbeat[node_id] = self.clock.now()
        if self.current_leader is None and self.first_heard:
            self.current_leader = node_id

    def check_leader_health(self) -> None:
        if self.current_leader is None:
            return
        last_seen = self.last_heartbeat.get(self.current_leader)
        if last_seen is None or self.clock.now() - last_seen > self.timeout:
            self.elect_new_leader()

    def elect_new_leader(self) -> None:
        now = self.clock.now()
        candidates = [n for n in [self.id, *self.peers]
                      if n in self.last_heartbeat and now - self.last_heartbeat[n] < self.timeout]
        leader = max(candidates) if candidates else None
        if leader != self.current_leader:
            self.record("leader", leader=leader)
        self.current_leader = leader

    def is_leader(self) -> bool:
        """Whether this node believes it is the leader."""
        return self.current_leader == self.id


# -- bully and ring ----------------------------------------------------------------------------------

class BullyNode(Node):
    """The bully algorithm (Garcia-Molina 1982): the highest live id bullies its way to leader.

    A node that suspects the leader sends ``election`` to every higher id. A
    higher node answers ``alive`` and starts its own election. A node that
    hears no ``alive`` within ``timeout`` wins and tells everyone
    (``coordinator``); one that heard ``alive`` waits for the winner, and
    starts again if none is announced. Ids must be comparable (ints here).
    """

    def __init__(self, timeout: float = 4.0) -> None:
        check_positive("timeout", timeout)
        self.timeout = timeout
        self.current_leader = None
        self.electing = False
        self.timer = None

    def start_election(self) -> None:
        """Suspect the leader: challenge every higher id."""
        if self.electing:
            return
        self.electing = True
        higher = [p for p in self.peers if p > self.id]
        for p in higher:
            self.send(p, "election")
        self.timer = self.set_timer(self.timeout, self._no_answer)

    def _no_answer(self) -> None:
        self.current_leader = self.id
        self.electing = False
        self.record("leader", leader=self.id)
        self.broadcast("coordinator")

    def on_election(self, msg: Any) -> None:
        self.send(msg.src, "alive")
        self.start_election()

    def on_alive(self, msg: Any) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.set_timer(2 * self.timeout, self._no_winner)

    def _no_winner(self) -> None:
        self.electing = False
        self.start_election()

    def on_coordinator(self, msg: Any) -> None:
        self.current_leader = msg.src
        self.electing = False
        if self.timer is not None:
            self.timer.cancel()

    def is_leader(self) -> bool:
        return self.current_leader == self.id


class RingNode(Node):
    """Chang and Roberts' ring election (1979): the largest id travels once around the ring.

    Nodes sit on a ring (``ring`` lists the ids in order; each sends only to
    its successor). An initiator sends ``election(candidate=its id)``; a node
    forwards a larger candidate, replaces a smaller one by its own (once), and
    swallows a smaller one if it already sent its own. The node that receives
    its own id is the leader and sends ``elected`` once around the ring.
    """

    def __init__(self, ring: Sequence[Any]) -> None:
        ring = check_ids("ring", ring)
        if self.id not in ring:
            raise InvalidArgument(f"ring={ring!r} must contain this node's id {self.id!r}")
        self.ring = ring
        self.current_leader = None
        self.participant = False

    @property
    def successor(self) -> Any:
        i = self.ring.index(self.id)
        return self.ring[(i + 1) % len(self.ring)]

    def start_election(self) -> None:
        """Become an initiator."""
        if not self.participant:
            self.participant = True
            self.send(self.successor, "election", candidate=self.id)

    def on_election(self, msg: Any) -> None:
        if msg.candidate > self.id:
            self.participant = True
            self.send(self.successor, "election", candidate=msg.candidate)
        elif msg.candidate < self.id:
            self.start_election()
        else:
            self.current_leader = self.id
            self.record("leader", leader=self.id)
            self.send(self.successor, "elected", leader=self.id)

    def on_elected(self, msg: Any) -> None:
        self.participant = False
        if msg.leader != self.id:
            self.current_leader = msg.leader
            self.send(self.successor, "elected", leader=msg.leader)

    def is_leader(self) -> bool:
        return self.current_leader == self.id


def run_bully(n: int, initiator: Any, *, seed: Any = 0, leader_down: bool = True,
              max_events: int = 2_000_000) -> Simulation:
    """Run a bully election among ids ``1..n`` started by ``initiator``; the old leader ``n`` is down.

    Returns the simulation; ``sim.trace.summary()["sent"]`` counts the messages.

    Raises:
        InvalidArgument: ``n`` < 2, more nodes than ``max_events`` allows, or
            ``initiator`` not one of the ids ``1..n``.
        EventBudgetExceeded: the election took more than ``max_events`` events.
    """
    check_int("n", n, low=2)
    check_int("max_events", max_events, low=1)
    if n > max_events:
        raise InvalidArgument(f"n={n} nodes need more than max_events={max_events} events; pass a "
                              "larger max_events")
    if isinstance(initiator, bool) or not isinstance(initiator, int) or not 1 <= initiator <= n:
        raise InvalidArgument(f"initiator={initiator!r} must be one of the ids 1..{n}")
    _check_flag("leader_down", leader_down)
    sim = Simulation(seed=seed, latency=Uniform(0.5, 1.5), max_events=max_events)
    sim.add_nodes(BullyNode, range(1, n + 1))
    if leader_down:
        sim.at(0.0, sim.crash, n)
    sim.at(0.5, sim.node(initiator).start_election)
    _run(sim, 60, "run_bully")
    return sim


ARRANGEMENTS = ("increasing", "decreasing", "random")


def ring_order(n: int, arrangement: str, seed: Any = 0) -> list[int]:
    """Ids ``1..n`` around a ring: ``"increasing"``, ``"decreasing"`` or ``"random"`` (seeded)."""
    check_int("n", n, low=1)
    check_choice("arrangement", arrangement, ARRANGEMENTS)
    ids = list(range(1, n + 1))
    if arrangement == "increasing":
        return ids
    if arrangement == "decreasing":
        return ids[::-1]
    import random as _random  # "random", the only arrangement left
    rng = _random.Random(f"{seed}/ring/{n}")
    rng.shuffle(ids)
    return ids


def run_ring(n: int, *, initiators: str = "one", arrangement: str = "random", seed: Any = 0,
             max_events: int = 2_000_000) -> Simulation:
    """Run a ring election among ``n`` nodes; ``initiators`` is ``"one"`` (the first on the ring) or ``"all"``.

    Raises:
        InvalidArgument: a bad ``n``, ``initiators`` or ``arrangement``, or more
            nodes than ``max_events`` allows.
        EventBudgetExceeded: the election took more than ``max_events`` events.
    """
    check_int("n", n, low=1)
    check_choice("initiators", initiators, ("one", "all"))
    check_int("max_events", max_events, low=1)
    if n > max_events:
        raise InvalidArgument(f"n={n} nodes need more than max_events={max_events} events; pass a "
                              "larger max_events")
    ring = ring_order(n, arrangement, seed)
    sim = Simulation(seed=seed, latency=1.0, max_events=max_events)
    sim.add_nodes(RingNode, ring, ring)
    starters = ring if initiators == "all" else ring[:1]
    for node_id in starters:
        sim.at(0.0, sim.node(node_id).start_election)
    _run(sim, 10 * n + 10, "run_ring")
    return sim


# -- a Redis / etcd-like server and the tutorial's lease elections ---------------------------------------

class LeaseStore(Node):
    """A key-value server with expiring keys, as Redis and etcd are used for leader election.

    Requests (answer with the reply type ``"result"`` and a ``value`` field):

    - ``set_nx(key, value, ttl)``: store ``value`` only if the key is absent
      (or expired); ``ttl=None`` never expires. Result True if stored.
    - ``expire(key, ttl)``: give an existing key a new time to live, whoever
      set it (Redis ``EXPIRE``). Result True if the key existed.
    - ``get(key)``: the value, or None.

    Expiry is measured on this server's clock.
    """

    def __init__(self) -> None:
        self.values: dict = {}
        self.expiry: dict = {}

    def _live(self, key: Any) -> bool:
        if key in self.values and self.expiry.get(key, math.inf) <= self.clock.now():
            del self.values[key]
            self.expiry.pop(key, None)
        return key in self.values

    def on_set_nx(self, msg: Any) -> None:
        stored = not self._live(msg.key)
        if stored:
            self.values[msg.key] = msg.value
            if msg.ttl is None:
                self.expiry.pop(msg.key, None)
            else:
                self.expiry[msg.key] = self.clock.now() + msg.ttl
        self.reply(msg, "result", value=stored)

    def on_expire(self, msg: Any) -> None:
        found = self._live(msg.key)
        if found:
            self.expiry[msg.key] = self.clock.now() + msg.ttl
        self.reply(msg, "result", value=found)

    def on_get(self, msg: Any) -> None:
        self.reply(msg, "result", value=self.values.get(msg.key) if self._live(msg.key) else None)


class RedisLeaderElection(Node):
    """The tutorial's ``RedisLeaderElection``, ported: ``SET NX EX 10`` to lead, ``EXPIRE`` to renew.

    As in the tutorial, a candidate that got the key believes it leads, and
    nothing ever makes it stop believing. Every ``tick`` a leader renews its
    lease and does one unit of work (a ``write`` to ``storage``); a follower
    tries to become leader.
    """

    def __init__(self, redis: Any, storage: Any, election_name: str = "main", ttl: float = 10.0,
                 tick: float = 1.0) -> None:
        check_type("election_name", election_name, str)
        check_positive("ttl", ttl)
        check_positive("tick", tick)
        self.redis = redis
        self.storage_node = storage
        self.key = f"election:{election_name}"
        self.ttl = ttl
        self.tick_interval = tick
        self.leading = False
        self.done = 0

    def on_start(self) -> None:
        self.every(self.tick_interval, self.tick)

    def tick(self) -> None:
        if self.leading:
            self.renew_lease()
            self.done += 1
            self.send(self.storage_node, "write", value=f"{self.id}#{self.done}")
        else:
            self.become_candidate()

    def become_candidate(self) -> None:
        self.request(self.redis, "set_nx", key=self.key, value=self.id, ttl=self.ttl,
                     timeout=3 * self.tick_interval, on_reply=self._got_key)

    def _got_key(self, reply: Any) -> None:
        if reply.value:
            self.leading = True
            self.record("leader", leader=self.id)

    def renew_lease(self) -> None:
        self.send(self.redis, "expire", key=self.key, ttl=self.ttl)

    def on_result(self, msg: Any) -> None:
        pass  # answers to renewals: the tutorial's code ignores them

    def on_write_ok(self, msg: Any) -> None:
        pass  # the storage's answer to a write: the tutorial's code ignores it too

    def is_leader(self) -> bool:
        return self.leading


class EtcdLeaderElection(Node):
    """The tutorial's etcd ``LeaderElection``, ported: create the election key if absent, no lease.

    ``put(..., prevExist=False)`` without a lease never expires, so when the
    leader dies the key stays, and nobody else can ever be elected.
    """

    def __init__(self, etcd: Any, election_name: str = "main", retry: float = 2.0) -> None:
        check_type("election_name", election_name, str)
        check_positive("retry", retry)
        self.etcd = etcd
        self.key = f"/elections/{election_name}"
        self.retry = retry
        self.leading = False

    def on_start(self) -> None:
        self.every(self.retry, self.elect)

    def elect(self) -> None:
        if not self.leading:
            self.request(self.etcd, "set_nx", key=self.key, value=self.id, ttl=None,
                         timeout=self.retry, on_reply=self._answer)

    def _answer(self, reply: Any) -> None:
        if reply.value:
            self.leading = True
            self.record("leader", leader=self.id)

    def is_leader(self) -> bool:
        return self.leading


# -- storage with fencing --------------------------------------------------------------------------

class FencedStorage(Node):
    """A storage service that takes ``write(value, token)`` requests and checks fencing tokens.

    With ``check_tokens=True`` it rejects a write whose token is lower than the
    highest it has accepted (and a write with no token), answering
    ``write_rejected(token, highest)``; otherwise it stores the value and
    answers ``write_ok(token)``. With ``check_tokens=False`` it accepts
    everything, as most storage does. Every accepted write is listed in
    :attr:`accepted_writes` (checked by
    :func:`~course_lib.checkers.fenced_writes_monotonic`).
    """

    durable = ("value", "highest", "accepted_writes", "rejected_writes")

    def __init__(self, check_tokens: bool = True) -> None:
        _check_flag("check_tokens", check_tokens)
        self.check_tokens = check_tokens
        self.value = None
        self.highest = None
        self.accepted_writes: list[dict] = []
        self.rejected_writes: list[dict] = []

    def on_write(self, msg: Any) -> None:
        token = msg.get("token")
        write = {"time": self.sim.now, "writer": msg.src, "token": token, "value": msg.value}
        if self.check_tokens and (token is None or (self.highest is not None and token < self.highest)):
            self.rejected_writes.append(write)
            self.record("rejected", writer=msg.src, token=token)
            self.reply(msg, "write_rejected", token=token, highest=self.highest)
            return
        if token is not None:
            self.highest = token if self.highest is None else max(self.highest, token)
        self.value = msg.value
        self.accepted_writes.append(write)
        self.reply(msg, "write_ok", token=token)


# -- the tutorial's failure detector ---------------------------------------------------------------------

class FailureDetector:
    """The tutorial's ``FailureDetector``, ported: count checks without a heartbeat; suspect at ``threshold``.

    A plain object, as in the tutorial; :class:`HeartbeatMonitor` drives it.
    ``on_suspect(node)`` is called when a node crosses the threshold (the
    tutorial prints "Node ... is suspected to have failed"). As in the tutorial, a
    heartbeat from a node it does not watch yet starts watching that node.

    Raises:
        InvalidArgument: ``nodes`` is empty or names a node twice, or
            ``threshold`` is not an int >= 1.
        InvalidArgumentType: ``nodes`` is a single str, or ``on_suspect`` is
            neither None nor callable.
    """

    def __init__(self, nodes: Iterable[Any], threshold: int = 3, on_suspect: Any = None) -> None:
        nodes = check_ids("nodes", nodes)
        check_int("threshold", threshold, low=1)
        if on_suspect is not None:
            check_callable("on_suspect", on_suspect, "on_suspect(node)")
        self.nodes = {node: 0 for node in nodes}
        self.threshold = threshold
        self.on_suspect = on_suspect
        self.suspected: set = set()

    def record_heartbeat(self, node: Any) -> None:
        self.nodes[node] = 0
        self.suspected.discard(node)

    def check_failures(self) -> None:
        for node in self.nodes:
            self.nodes[node] += 1
            if self.nodes[node] >= self.threshold:
                self.mark_node_failed(node)

    def mark_node_failed(self, node: Any) -> None:
        if node not in self.suspected:  # the tutorial prints every check; we note each suspicion once
            self.suspected.add(node)
            if self.on_suspect is not None:
                self.on_suspect(node)


class HeartbeatMonitor(Node):
    """Watches ``nodes`` with a :class:`FailureDetector`, checking every ``interval``.

    Records a ``"suspect"`` event when a node is suspected and an
    ``"unsuspect"`` event when a heartbeat from a suspected node arrives.
    """

    def __init__(self, nodes: Sequence[Any], threshold: int = 3, interval: float = 1.0) -> None:
        check_positive("interval", interval)
        self.interval = interval
        self.detector = FailureDetector(nodes, threshold, on_suspect=self._suspect)

    def on_start(self) -> None:
        self.every(self.interval, self.detector.check_failures)

    def _suspect(self, node: Any) -> None:
        self.record("suspect", peer=node)

    def on_heartbeat(self, msg: Any) -> None:
        if msg.src in self.detector.suspected:
            self.record("unsuspect", peer=msg.src)
        self.detector.record_heartbeat(msg.src)


class Heartbeater(Node):
    """Sends a ``heartbeat`` to ``monitor`` every ``interval`` while it is up."""

    def __init__(self, monitor: Any, interval: float = 1.0) -> None:
        check_positive("interval", interval)
        self.monitor = monitor
        self.interval = interval

    def on_start(self) -> None:
        self.every(self.interval, self.beat)

    def beat(self) -> None:
        self.send(self.monitor, "heartbeat")


def run_failure_detector(*, threshold: int = 3, latency: Any = 0.2, nodes: int = 4,
                         crash: Any = None, crash_at: float = 50.0, until: float = 200.0,
                         seed: Any = 0, max_events: int = 2_000_000) -> Simulation:
    """Monitor ``nodes`` heartbeating nodes (``"w1"``, ...) over a network with ``latency``.

    ``crash`` names a node to crash (for good) at ``crash_at``. Returns the
    simulation; ``"suspect"`` events in the trace are the detector's verdicts.

    Raises:
        InvalidArgument: a bad argument (named in the message), such as a
            ``crash`` that is not a node of the run.
        EventBudgetExceeded: the run took more than ``max_events`` events
            (heartbeats over a very long ``until``).
    """
    check_int("nodes", nodes, low=1)
    check_positive("until", until)
    check_number("crash_at", crash_at, low=0, what="a time")
    ids = [f"w{i + 1}" for i in range(nodes)]
    sim = Simulation(seed=seed, latency=latency, max_events=max_events)
    sim.add_node(HeartbeatMonitor, "monitor", ids, threshold)
    sim.add_nodes(Heartbeater, ids, "monitor")
    if crash is not None:
        sim.check_node("crash", crash)
        sim.nemesis.crash(crash, at=crash_at)
    _run(sim, until, "run_failure_detector")
    return sim


def suspicions(sim: Simulation) -> list[tuple[float, Any]]:
    """Return ``(time, node)`` for every suspicion the monitor raised."""
    check_type("sim", sim, Simulation)
    return [(e.time, e.info["peer"]) for e in sim.trace.custom("suspect")]


# -- the chapter's lease scenario ------------------------------------------------------------------------

LEASE_TTL = 5.0


def lease_scenario(server_cls: type, leader_cls: type, seed: Any, *, candidates: int = 3,
                   ttl: float = LEASE_TTL, loss: float = 0.0, duplicate: float = 0.0,
                   reorder: float = 0.0, pauses: int = 0, partition: bool = False,
                   server_crash: bool = False, slow_link: bool = False, duration: float = 150.0,
                   progress: bool = True, on_setup: Any = None, max_events: int = 200_000) -> Simulation:
    """Run a lock server and ``candidates`` leaders that write to a :class:`FencedStorage`, and check them.

    Nodes: ``"lock"`` = ``server_cls(ttl)``, ``"n1"``, ``"n2"``, ... =
    ``leader_cls("lock", "store")`` and ``"store"`` = ``FencedStorage()``.
    Checked after every event: :func:`~course_lib.checkers.at_most_one_leader`,
    :func:`~course_lib.checkers.at_most_one_leader_per_term` (a leader's term is
    its fencing token) and :func:`~course_lib.checkers.fenced_writes_monotonic`.
    Faults (all over by 80% of ``duration``):

    - ``pauses``: that many stop-the-world pauses of whoever leads, each for
      2.5 lease times (:func:`pause_node`);
    - ``partition``: the leader is cut off from everyone for 4 lease times;
    - ``server_crash``: the lock server crashes (a lease may be held) and
      restarts 0.4 lease times later, before that lease would have run out;
    - ``slow_link``: for 4 lease times, the leader's messages to the lock
      server take 1.5 lease times to arrive.

    With ``progress``, also checks that the storage accepted writes in the
    last 20% of the run (someone leads again once the faults are over) and,
    without faults, that one leader kept the lease the whole run.
    ``on_setup(sim)``, if given, is called before the run (for example
    ``lambda sim: logs.append(watch_leaders(sim))`` to draw the run afterwards).

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: an invariant broke, or no leader wrote at the end.
    """
    for name, cls in (("server_cls", server_cls), ("leader_cls", leader_cls)):
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise InvalidArgumentType(f"{name}={cls!r} must be a class, a subclass of course_lib.sim.Node")
    check_int("candidates", candidates, low=1)
    check_int("pauses", pauses, low=0)
    for name, flag in (("partition", partition), ("server_crash", server_crash),
                       ("slow_link", slow_link), ("progress", progress)):
        _check_flag(name, flag)
    check_positive("ttl", ttl)
    check_number("duration", duration, what="a time")
    if on_setup is not None:
        check_callable("on_setup", on_setup, "on_setup(sim)")
    if not duration >= 30 * ttl:
        raise InvalidArgument(f"duration={duration!r} must be at least 30 lease times ({30 * ttl:g})")
    faults = pauses + partition + server_crash + slow_link  # counted before the list is built
    if faults * (10 * ttl) + 4 * ttl > 0.8 * duration:
        raise InvalidArgument(f"duration={duration!r} is too short for {faults} faults "
                              f"(each takes {10 * ttl:g}); make it longer")
    sim = Simulation(seed=seed, latency=Uniform(0.2, 1.0), loss=loss, duplicate=duplicate,
                     reorder=reorder, reorder_delay=2 * ttl, max_events=max_events)
    sim.add_node(server_cls, "lock", ttl)
    ids = [f"n{i + 1}" for i in range(candidates)]
    sim.add_nodes(leader_cls, ids, "lock", "store")
    store = sim.add_node(FencedStorage, "store")
    sim.add_invariant("at_most_one_leader", at_most_one_leader)
    sim.add_invariant("at_most_one_leader_per_term", at_most_one_leader_per_term)
    sim.add_invariant("fenced_writes_monotonic", fenced_writes_monotonic)
    if on_setup is not None:
        on_setup(sim)
    rng = sim.rng_for("lease-faults")
    fault_end = 0.8 * duration
    # The faults take turns in slots of 10 lease times, in a seeded order.
    kinds = ["pause"] * pauses + ["partition"] * partition + ["server_crash"] * server_crash \
        + ["slow_link"] * slow_link
    rng.shuffle(kinds)
    slot = 10 * ttl

    def leader_now() -> Any:
        leaders = [n for n in ids if not sim.node(n).crashed and sim.node(n).is_leader()]
        return leaders[0] if leaders else ids[rng.randrange(len(ids))]

    def slow(victim: Any) -> None:
        sim.network.set_link(victim, "lock", latency=Constant(1.5 * ttl))
        sim.after(4 * ttl, sim.network.clear_link, victim, "lock")

    def cut_off(victim: Any) -> None:
        handle = sim.network.partition([[victim]])
        sim.after(4 * ttl, sim.network.heal, handle)

    for index, kind in enumerate(kinds):
        at = 4 * ttl + index * slot + rng.uniform(0, 2 * ttl)
        if kind == "pause":
            sim.at(at, lambda: pause_node(sim, leader_now(), 2.5 * ttl))
        elif kind == "partition":
            sim.at(at, lambda: cut_off(leader_now()))
        elif kind == "server_crash":
            sim.nemesis.crash("lock", at=at, restart_at=at + 0.4 * ttl)
        else:
            sim.at(at, lambda: slow(leader_now()))
    sim.run(until=duration)
    if progress:
        late = [w for w in store.accepted_writes if w["time"] >= fault_end]
        if not late:
            raise ScenarioFailed(
                f"the storage accepted no write after time {fault_end:g}, when every fault was over: "
                f"nobody led again ({len(store.accepted_writes)} writes accepted in all, "
                f"{len(store.rejected_writes)} rejected)", sim)
        if not kinds:
            tokens = sorted({w["token"] for w in store.accepted_writes}, key=repr)
            writers = sorted({str(w["writer"]) for w in store.accepted_writes})
            if len(writers) > 1 or len(tokens) > 1:
                raise ScenarioFailed(
                    f"without any fault the lease changed hands: writes came from {writers} with "
                    f"tokens {tokens}; a leader should renew its lease and keep it", sim)
            if len(store.accepted_writes) < duration / 3:
                raise ScenarioFailed(
                    f"without any fault the storage accepted only {len(store.accepted_writes)} writes "
                    f"in {duration:g} time units: is the leader losing its lease between renewals?", sim)
    return sim
