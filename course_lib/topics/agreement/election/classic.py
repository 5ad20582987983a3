"""The two classic elections, bully (Garcia-Molina 1982) and ring (Chang and Roberts 1979).

:func:`run_bully` and :func:`run_ring` run one election, to count its messages.
"""

from __future__ import annotations

from typing import Any, Sequence

from ....sim import Node, Simulation, Uniform
from ....sim.errors import EventBudgetExceeded
from ....sim.validation import InvalidArgument, check_choice, check_ids, check_int, check_positive, check_type


def _run(sim: Simulation, until: float, caller: str) -> None:
    """Run ``sim`` to ``until``; a run over its event budget says which argument raises it."""
    try:
        sim.run(until=until)
    except EventBudgetExceeded as exc:
        raise EventBudgetExceeded(f"{exc} (here: pass {caller}(..., max_events=N))") from None


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
    check_type("leader_down", leader_down, bool, what="True or False")
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
