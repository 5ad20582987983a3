"""Heartbeats: the tutorial's heartbeat election (highest live id leads) and its failure detector."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ....sim import Node, Simulation
from ....sim.validation import check_callable, check_ids, check_int, check_number, check_positive, check_type
from .classic import _run


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
        check_type("first_heard", first_heard, bool, what="True or False")
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
