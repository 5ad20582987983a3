"""The clock harness: drive clock classes through a random workload and record every timestamp.

:class:`ClockNode` and :func:`run_clocks` drive clock classes (a learner's, or
none) through a random workload of local events, sends and receives on a
random topology with drifting, offset and jumping physical clocks, and record
every event's timestamp in the trace, so the happens-before oracle
(:mod:`course_lib.checkers.happens_before`) can judge them.

The clock interface the harness drives (the exercise's classes implement it)::

    clock.tick()        # a local event; returns its timestamp
    clock.send()        # a send event; returns the timestamp the message carries
    clock.receive(ts)   # a receive event of a message stamped ts; returns its timestamp

Example:
    >>> run = run_clocks(None, seed=1, nodes=3, sends=2, local_events=1)
    >>> len(run.events), run.oracle.nodes
    (15, ['n1', 'n2', 'n3'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ...checkers.happens_before import HappensBefore
from ...sim import Exponential, Node, Simulation, Uniform
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice,
                               check_ids, check_int, check_non_negative, check_number, check_positive,
                               check_type)

EVENT = "clock"   # the custom trace event recorded for every local event, send and receive


@dataclass
class ClockEvent:
    """One event as the harness saw it: its trace index, node, operation and timestamps."""

    index: int
    node: Any
    op: str                  # "local", "send" or "receive"
    peer: Any                # the other end of a message (None for local events)
    msg: int | None          # the message id of a send or receive
    time: float              # true simulated time
    pt: float                # the node's physical clock reading
    horizon: float           # the highest physical clock reading anywhere so far
    ts: dict[str, Any] = field(default_factory=dict)  # clock name -> timestamp (a copy, as returned)
    #: clock name -> the very object the clock returned (a send's is what the message carries), to
    #: tell later whether it changed: a clock that hands out its own state, or a receive that
    #: changes the timestamp it was given.
    returned: dict[str, Any] = field(default_factory=dict, repr=False)


def _snapshot(ts: Any) -> Any:
    """A copy the learner's later mutations cannot change (the trace keeps it)."""
    if isinstance(ts, dict):
        return dict(ts)
    if isinstance(ts, list):
        return tuple(ts)
    return ts


class ClockNode(Node):
    """Runs a random workload and drives one or more clocks through it.

    Each node performs ``sends`` sends (to random neighbours in ``topology``) and
    ``local_events`` local events, in a random order, one every
    ``Exponential(think)`` of its own clock; every message received is a
    receive event. Each event calls the clocks (``tick``, ``send`` or
    ``receive``) and is recorded as a custom ``"clock"`` trace event whose info
    holds the operation and every clock's timestamp; messages carry the
    sending clocks' timestamps.

    Create these with :func:`run_clocks`.
    """

    def __init__(self, clocks: Mapping[str, Callable[[Node], Any]], neighbours: Sequence[Any],
                 sends: int, local_events: int, think: float, log: list,
                 horizon: Callable[[], float] | None) -> None:
        self.clocks = {name: make(self) for name, make in clocks.items()}
        self.neighbours = list(neighbours)
        self.plan = ["send"] * sends + ["local"] * local_events
        self.rng.shuffle(self.plan)
        self.think = think
        self.log = log
        self.horizon = horizon

    def on_start(self) -> None:
        if self.plan:
            self.set_timer(self.rng.expovariate(1.0 / self.think), self.act)

    def act(self) -> None:
        op = self.plan.pop()
        if op == "local" or not self.neighbours:
            self._event("local", None, None, {name: c.tick() for name, c in self.clocks.items()})
        else:
            dst = self.neighbours[self.rng.randrange(len(self.neighbours))]
            stamps = {name: c.send() for name, c in self.clocks.items()}
            event = self._event("send", dst, None, stamps)  # recorded before the message leaves
            event.msg = self.send(dst, "app", ts=stamps).id
        if self.plan:
            self.set_timer(self.rng.expovariate(1.0 / self.think), self.act)

    def on_app(self, msg: Any) -> None:
        stamps = {}
        for name, clock in self.clocks.items():
            stamps[name] = clock.receive(msg.ts[name])
        self._event("receive", msg.src, msg.id, stamps)

    def _event(self, op: str, peer: Any, msg_id: int | None, stamps: dict) -> ClockEvent:
        returned = dict(stamps)
        stamps = {name: _snapshot(ts) for name, ts in stamps.items()}
        sim = self.sim
        pt = self.clock.now()
        horizon = self.horizon() if self.horizon is not None else math.nan
        event = ClockEvent(len(sim.trace), self.id, op, peer, msg_id, sim.now, pt, horizon, stamps,
                           returned)
        self.log.append(event)
        self.record(EVENT, op=op, peer=peer, ts=stamps)
        return event


class ClockRun:
    """A finished harness run: the simulation, its events and their timestamps, and the oracle."""

    def __init__(self, sim: Simulation, events: list[ClockEvent], topology: dict[Any, list]) -> None:
        self.sim = sim
        self.trace = sim.trace
        self.nodes = sim.nodes
        self.topology = topology
        self.events = events
        self.by_index = {e.index: e for e in events}
        self._oracle: HappensBefore | None = None

    @property
    def oracle(self) -> HappensBefore:
        """The happens-before oracle over this run's clock events (built on first use)."""
        if self._oracle is None:
            self._oracle = HappensBefore(self.sim, select=EVENT)
        return self._oracle

    def timestamps(self, clock: str = "clock") -> dict[int, Any]:
        """The timestamp of every event under ``clock``, by trace index."""
        if self.events:
            check_type("clock", clock, str, what="a clock name such as 'clock'")
            if clock not in self.events[0].ts:
                raise InvalidArgument(f"clock={clock!r} did not run; clocks are {sorted(self.events[0].ts)}")
        return {e.index: e.ts[clock] for e in self.events}

    def describe(self, index: int, clock: str | None = None) -> str:
        """A readable name of the event at trace ``index`` (with its timestamp under ``clock``)."""
        try:
            known = not isinstance(index, bool) and index in self.by_index
        except TypeError:  # an unhashable index
            known = False
        if not known:
            raise InvalidArgument(f"index={index!r} is not the trace index of a clock event of this run")
        e = self.by_index[index]
        if clock is not None and clock not in e.ts:
            raise InvalidArgument(f"clock={clock!r} did not run; clocks are {sorted(e.ts)}")
        where = {"local": "local event", "send": f"send to {e.peer}",
                 "receive": f"receive from {e.peer}"}[e.op]
        text = f"event #{index} ({e.node} {where} at t={e.time:.3f}"
        if clock is not None:
            text += f", timestamp {e.ts[clock]!r}"
        return text + ")"

    def __repr__(self) -> str:
        return f"<ClockRun seed={self.sim.seed!r} {len(self.events)} events on {len(self.nodes)} nodes>"


TOPOLOGIES = ("complete", "ring", "star", "line", "random")


def make_topology(ids: Sequence[Any], kind: str, rng: Any) -> dict[Any, list]:
    """Return each node's neighbours: ``complete``, ``ring``, ``star``, ``line`` or a ``random`` connected graph."""
    ids = check_ids("ids", ids)
    check_choice("kind", kind, TOPOLOGIES)
    if kind == "random" and not all(callable(getattr(rng, m, None))
                                    for m in ("shuffle", "randrange", "random")):
        raise InvalidArgumentType(f"rng={rng!r} must be a random.Random (a random topology draws from it)")
    n = len(ids)
    links: set[tuple[int, int]] = set()
    if kind == "complete":
        links = {(i, j) for i in range(n) for j in range(i + 1, n)}
    elif kind == "ring":
        links = {tuple(sorted((i, (i + 1) % n))) for i in range(n) if n > 1 and i != (i + 1) % n}
    elif kind == "star":
        links = {(0, j) for j in range(1, n)}
    elif kind == "line":
        links = {(i, i + 1) for i in range(n - 1)}
    elif kind == "random":  # a random spanning tree, plus each other link with probability 0.3
        order = list(range(n))
        rng.shuffle(order)
        for k in range(1, n):
            a, b = order[k], order[rng.randrange(k)]
            links.add((min(a, b), max(a, b)))
        for i in range(n):
            for j in range(i + 1, n):
                if rng.random() < 0.3:
                    links.add((i, j))
    out: dict[Any, list] = {node: [] for node in ids}
    for i, j in sorted(links):
        out[ids[i]].append(ids[j])
        out[ids[j]].append(ids[i])
    return out


def _clock_factories(clocks: Any) -> dict[str, Callable[[Node], Any]]:
    if clocks is None:
        return {}
    if isinstance(clocks, Mapping):
        out = {}
        for name, make in clocks.items():
            check_callable(f"clocks[{name!r}]", make, "make(node)")
            out[str(name)] = make
        return out
    if callable(clocks):
        return {"clock": clocks}
    raise InvalidArgumentType(f"clocks={clocks!r} must be None, make(node) -> clock, or a dict of them")


def run_clocks(clocks: Any, seed: Any, *, nodes: int = 4, sends: int = 6, local_events: int = 3,
               topology: str | None = None, latency: Any = None, duplicate: float = 0.0,
               reorder: float = 0.0, max_offset: float = 2.0, max_drift: float = 0.05,
               jumps: int = 0, jump_size: float = 3.0, think: float = 2.0,
               track_horizon: bool = False, max_events: int = 2_000_000) -> ClockRun:
    """Run the random clock workload under ``seed`` and return the :class:`ClockRun`.

    Args:
        clocks: ``None`` (no clock: the oracle's ideal timestamps only), a
            factory ``make(node) -> clock``, or a dict ``{name: make}`` to drive
            several clocks on the same run.
        seed: the simulation seed; everything else random is drawn from it.
        nodes: number of nodes ``n1 .. nN``.
        sends, local_events: per node.
        topology: one of :data:`TOPOLOGIES` (default: drawn per seed).
        latency: a latency model (default: drawn per seed, Uniform or Exponential).
        duplicate, reorder: network faults.
        max_offset, max_drift: physical clocks start at an offset in
            ``[0, max_offset]`` and drift at a rate in ``[-max_drift, max_drift]``.
        jumps: number of clock steps (by up to ``jump_size`` either way), at
            random times and nodes, as NTP or an operator might cause.
        think: mean time between a node's actions.
        track_horizon: record, at every event, the highest reading of any
            physical clock so far (O(nodes) per event; the HLC checks need it).
        max_events: the run's budget of events; a workload that cannot fit in
            it (actions, links and clock jumps) is refused before anything runs.

    Raises:
        InvalidArgument: a bad argument (named in the message), or a workload
            larger than ``max_events`` (also a ValueError).
        InvalidArgumentType: an argument of the wrong type (also a TypeError).
    """
    check_int("nodes", nodes, low=1)
    for name, value in (("sends", sends), ("local_events", local_events), ("jumps", jumps)):
        check_int(name, value, low=0)
    check_number("max_drift", max_drift, low=0, high=0.5, high_open=True)
    check_non_negative("max_offset", max_offset)
    check_non_negative("jump_size", jump_size)
    check_positive("think", think)
    check_type("track_horizon", track_horizon, bool, what="True or False")
    if topology is not None:
        check_choice("topology", topology, TOPOLOGIES)
    if isinstance(max_events, int) and not isinstance(max_events, bool):
        work = nodes * (sends + local_events) + jumps + nodes * (nodes - 1) // 2
        if work > max_events:
            raise InvalidArgument(
                f"nodes={nodes}, sends={sends}, local_events={local_events}, jumps={jumps}: about "
                f"{work} actions and links, more than max_events={max_events}; pass a larger "
                "max_events (or a smaller workload)")
    factories = _clock_factories(clocks)
    draw = Simulation(seed=seed).rng_for("clock-scenario")
    if latency is None:
        latency = (Uniform(0.2, 3.0) if draw.random() < 0.5 else Exponential(1.0, minimum=0.1))
    if topology is None:
        topology = TOPOLOGIES[draw.randrange(len(TOPOLOGIES))]
    sim = Simulation(seed=seed, latency=latency, duplicate=duplicate, reorder=reorder,
                     reorder_delay=5.0, max_events=max_events)
    ids = [f"n{i + 1}" for i in range(nodes)]
    neighbours = make_topology(ids, topology, draw)
    log: list[ClockEvent] = []
    horizon_fn = None
    if track_horizon:
        seen = [-math.inf]
        clocks_of = []

        def horizon_fn() -> float:
            best = max(c.now() for c in clocks_of)
            if best > seen[0]:
                seen[0] = best
            return seen[0]

    for node_id in ids:
        node = sim.add_node(ClockNode, node_id, factories, neighbours[node_id], sends, local_events,
                            think, log, horizon_fn, clock_offset=draw.uniform(0.0, max_offset),
                            clock_drift=draw.uniform(-max_drift, max_drift))
        if track_horizon:
            clocks_of.append(node.clock)
    expected_end = think * (sends + local_events) * 1.2 + 1.0
    for _ in range(jumps):
        victim = ids[draw.randrange(nodes)]
        sim.nemesis.clock_jump(victim, draw.uniform(-jump_size, jump_size),
                               at=draw.uniform(0.1, 0.9) * expected_end)
    sim.run()
    return ClockRun(sim, log, neighbours)
