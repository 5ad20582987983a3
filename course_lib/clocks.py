"""Chapter 02 scaffolding: the seeds' naive clock code, and a harness that drives learners' clocks.

* :class:`LWWResolver` and :class:`NaiveVectorClock` are faithful ports of the
  common tutorials' conflict-resolution snippets, the "before" versions:
  last-write-wins trusts physical timestamps, and ``happens_before`` answers
  True for equal clocks and cannot tell "before" from "concurrent".
* :class:`LWWReplica` and :func:`lww_scenario` show last-write-wins losing an
  update when the writers' clocks disagree.
* :class:`ClockNode` and :func:`run_clocks` drive clock classes (a learner's, or
  none) through a random workload of local events, sends and receives on a
  random topology with drifting, offset and jumping physical clocks, and record
  every event's timestamp in the trace, so the happens-before oracle
  (:mod:`course_lib.checkers.happens_before`) can judge them.
* :func:`lamport_scenario`, :func:`vector_scenario` and :func:`hlc_scenario` are
  the chapter's graded scenarios; a failure names the two events at fault.

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
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .checkers.happens_before import HappensBefore
from .sim import Exponential, Node, Simulation, Uniform
from .sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice,
                             check_ids, check_int, check_non_negative, check_number, check_positive,
                             check_type)

EVENT = "clock"   # the custom trace event recorded for every local event, send and receive


# -- the seeds' "before" versions ----------------------------------------------------------------

class LWWResolver:
    """Last-write-wins, as in many tutorials: the value with the highest timestamp wins."""

    def resolve(self, values):
        return max(values, key=lambda v: v.timestamp)


class NaiveVectorClock:
    """A common tutorial's ``VectorClock``, ported faithfully: a dict of counters per node.

    Its ``happens_before`` checks ``<=`` on every entry, so it answers True for
    two *equal* clocks and, read on its own, cannot tell "before" from
    "concurrent" (it returns False for both "after" and "concurrent").
    """

    def __init__(self):
        self.clock = {}

    def increment(self, node):
        self.clock[node] = self.clock.get(node, 0) + 1

    def merge(self, other):
        for node, time in other.clock.items():
            self.clock[node] = max(self.clock.get(node, 0), time)

    def happens_before(self, other):
        # Check if self happened before other
        return all(
            self.clock.get(n, 0) <= other.clock.get(n, 0)
            for n in set(self.clock.keys()) | set(other.clock.keys())
        )


@dataclass(frozen=True)
class Versioned:
    """A value with the physical timestamp its writer gave it (what :class:`LWWResolver` compares)."""

    value: Any
    timestamp: float
    writer: Any


class LWWReplica(Node):
    """A replica that timestamps writes with its own physical clock and resolves with :class:`LWWResolver`."""

    def __init__(self) -> None:
        self.data: dict[Any, Versioned] = {}
        self.resolver = LWWResolver()

    def write(self, key: Any, value: Any) -> Versioned:
        """Client write: stamp it with this node's clock, keep the winner, replicate."""
        item = Versioned(value, self.clock.now(), self.id)
        self.record("write", key=key, value=value, timestamp=round(item.timestamp, 3))
        self._keep(key, item)
        for peer in self.peers:
            self.send(peer, "replicate", key=key, value=value, timestamp=item.timestamp, writer=self.id)
        return item

    def read(self, key: Any) -> Any:
        """Client read of the local copy (``None`` when missing)."""
        item = self.data.get(key)
        return None if item is None else item.value

    def on_replicate(self, msg: Any) -> None:
        self._keep(msg.key, Versioned(msg.value, msg.timestamp, msg.writer))

    def _keep(self, key: Any, item: Versioned) -> None:
        current = self.data.get(key)
        self.data[key] = item if current is None else self.resolver.resolve([current, item])


def lww_scenario(seed: Any = 0, *, skew: float = 2.0, gap: float = 1.5,
                 latency: float = 0.5) -> Simulation:
    """Two replicas, ``n2``'s clock ``skew`` behind; n1 writes x=1, n2 reads it and writes x=2 ``gap`` later.

    The second write happened after the first (n2 had read the first value),
    but when ``skew > gap`` its timestamp is smaller, so last-write-wins keeps
    x=1 on both replicas: the later update is silently lost.

    Returns:
        The simulation after the run (read ``sim["n1"].read("x")``).
    """
    check_number("skew", skew)
    check_positive("latency", latency)
    check_number("gap", gap)
    if not gap > latency:
        raise InvalidArgument(f"gap={gap!r} must be a number larger than latency={latency!r}")
    sim = Simulation(seed=seed, latency=latency)
    sim.add_node(LWWReplica, "n1", clock_offset=0.0)
    sim.add_node(LWWReplica, "n2", clock_offset=-float(skew))
    sim.at(10.0, sim["n1"].write, "x", 1)

    def read_then_write() -> None:
        seen = sim["n2"].read("x")
        sim["n2"].record("read", key="x", value=seen)
        sim["n2"].write("x", seen + 1)

    sim.at(10.0 + gap, read_then_write)
    sim.run(until=10.0 + gap + 5 * latency + 1)
    return sim


# -- the harness ------------------------------------------------------------------------------------

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
    ts: dict[str, Any] = field(default_factory=dict)  # clock name -> timestamp


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
        stamps = {name: _snapshot(ts) for name, ts in stamps.items()}
        sim = self.sim
        pt = self.clock.now()
        horizon = self.horizon() if self.horizon is not None else math.nan
        event = ClockEvent(len(sim.trace), self.id, op, peer, msg_id, sim.now, pt, horizon, stamps)
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


# -- the chapter 02 exercise's scenarios ----------------------------------------------------------

def _scenario_failed(message: str, run: ClockRun) -> Exception:
    from .sim.errors import ScenarioFailed
    return ScenarioFailed(message, run.sim)


def _stamps(run: ClockRun) -> dict[int, Any]:
    return run.timestamps("clock")


#: What a scenario's ``**options`` may set: run_clocks' workload and faults (the scenario sets the rest).
_RUN_OPTIONS = ("nodes", "sends", "local_events", "topology", "latency", "duplicate", "reorder",
                "max_offset", "max_drift", "jumps", "jump_size", "think", "max_events")


def _check_scenario_args(cls: Any, options: Mapping[str, Any], **flags: Any) -> None:
    """Check a scenario's clock class, its bool flags and that ``options`` are run_clocks options."""
    check_callable("cls", cls, "cls(node_id)")
    for name, value in flags.items():
        check_type(name, value, bool, what="True or False")
    for name, value in options.items():
        if name not in _RUN_OPTIONS:
            raise InvalidArgumentType(f"{name}={value!r} is not an option of the scenario; options "
                                      f"(passed to run_clocks) are {', '.join(_RUN_OPTIONS)}")


def lamport_scenario(cls: type, seed: Any, *, exact: bool = False, **options: Any) -> ClockRun:
    """Drive ``cls(node_id)`` as each node's Lamport clock; check the clock condition.

    Checks that a → b implies C(a) < C(b) for every pair of events (exactly:
    along program order and each event's causal frontier), that timestamps are
    ints, and with ``exact`` that C(e) is the lecture's counting rule (tick by 1
    at every event, receive = max then tick), i.e. the longest causal chain
    ending at e. ``options`` go to :func:`run_clocks`.

    Raises:
        ScenarioFailed: naming the two events that break the property.
        InvalidArgument: a bad argument or option (named in the message).
    """
    _check_scenario_args(cls, options, exact=exact)
    run = run_clocks(lambda node: cls(node.id), seed, **options)
    stamps = _stamps(run)
    for index, ts in stamps.items():
        if isinstance(ts, bool) or not isinstance(ts, int):
            raise _scenario_failed(
                f"a Lamport timestamp must be an int, but {run.describe(index)} got {ts!r} "
                f"({type(ts).__name__})", run)
    oracle = run.oracle
    bad = oracle.find_violation(stamps.__getitem__)
    if bad is not None:
        a, b = bad
        raise _scenario_failed(
            f"clock condition broken: {run.describe(a, 'clock')} happened before "
            f"{run.describe(b, 'clock')}, but {stamps[a]!r} is not < {stamps[b]!r}", run)
    if exact:
        for e in oracle.events:
            if stamps[e] != oracle.lamport(e):
                raise _scenario_failed(
                    f"{run.describe(e, 'clock')} should have Lamport time {oracle.lamport(e)} "
                    f"(tick by 1 at every event; receive = max(own, message) + 1)", run)
    return run


def _vector_tuple(ts: Any, nodes: Sequence[Any], where: str) -> tuple:
    if not isinstance(ts, Mapping):
        raise TypeError(f"{where}: a vector timestamp must be a dict {{node id: count}}, "
                        f"got {ts!r} ({type(ts).__name__})")
    unknown = [k for k in ts if k not in nodes]
    if unknown:
        raise TypeError(f"{where}: vector {ts!r} has entries for unknown nodes {unknown} "
                        f"(nodes are {list(nodes)})")
    return tuple(ts.get(n, 0) for n in nodes)


def _strictly_less(a: tuple, b: tuple) -> bool:
    return a != b and all(x <= y for x, y in zip(a, b))


def vector_scenario(cls: type, seed: Any, *, check: str = "causality", pairs: int = 400,
                    all_pairs_up_to: int = 250, **options: Any) -> ClockRun:
    """Drive ``cls(node_id)`` as each node's vector clock and check it against the oracle.

    Args:
        check: ``"causality"``: a → b if and only if V(a) < V(b) (every entry
            <=, one <), so V(a), V(b) incomparable exactly for concurrent events;
            all pairs of a run with at most ``all_pairs_up_to`` events, else
            ``pairs`` seeded random pairs plus each event's causal frontier.
            ``"compare"``: ``cls.compare(V(a), V(b))`` answers ``"before"``,
            ``"after"``, ``"equal"`` or ``"concurrent"`` as the oracle does, on
            ``pairs`` seeded pairs and every event with itself.
            ``"exact"``: V(e)[n] is the number of events of node n that
            happened before or equal e, the lecture's rule (tick at every event;
            receive = merge, then tick).
        options: passed to :func:`run_clocks`.

    Raises:
        ScenarioFailed: naming the two events (or the one event) at fault.
        InvalidArgument: a bad argument or option (named in the message).
    """
    _check_vector_args(cls, check, pairs, all_pairs_up_to)
    _check_scenario_args(cls, options)
    run = run_clocks(lambda node: cls(node.id), seed, **options)
    check_vectors(run, cls, check=check, pairs=pairs, all_pairs_up_to=all_pairs_up_to)
    return run


VECTOR_CHECKS = ("causality", "compare", "exact")


def _check_vector_args(cls: Any, check: Any, pairs: Any, all_pairs_up_to: Any) -> None:
    check_choice("check", check, VECTOR_CHECKS)
    check_int("pairs", pairs, low=1)
    check_int("all_pairs_up_to", all_pairs_up_to, low=0)
    if check == "compare" and not callable(getattr(cls, "compare", None)):
        raise InvalidArgumentType(f"cls={cls!r} has no compare(a, b) method, which check='compare' calls")


def check_vectors(run: ClockRun, cls: type, *, check: str = "causality", pairs: int = 400,
                  all_pairs_up_to: int = 250, clock: str = "clock") -> None:
    """Check the vector timestamps of a finished run (see :func:`vector_scenario` for ``check``).

    Large runs are checked on ``pairs`` seeded random pairs plus the causal
    frontier of about ``pairs / nodes`` sampled events, so the cost stays linear.

    Raises:
        ScenarioFailed: naming the two events (or the one event) at fault.
        InvalidArgument: a bad argument (named in the message).
    """
    check_type("run", run, ClockRun, what="a ClockRun (from run_clocks)")
    _check_vector_args(cls, check, pairs, all_pairs_up_to)
    oracle = run.oracle
    nodes = oracle.nodes
    raw = run.timestamps(clock)
    try:
        vec = {e: _vector_tuple(ts, nodes, run.describe(e)) for e, ts in raw.items()}
    except TypeError as exc:
        raise _scenario_failed(str(exc), run) from None
    rng = run.sim.rng_for("vector-check")
    events = oracle.events
    if check == "exact":
        for e in events:
            if vec[e] != oracle.vector(e):
                raise _scenario_failed(
                    f"{run.describe(e, clock)} should be {oracle.vector_dict(e)} (per node, the number "
                    f"of its events that happened before or equal this one)", run)
        return
    if check == "compare":
        chosen = oracle.sample_pairs(pairs, rng) + [(e, e) for e in events[:: max(1, len(events) // 50)]]
        for a, b in chosen:
            want = oracle.relation(a, b)
            got = cls.compare(raw[a], raw[b])
            if got != want:
                raise _scenario_failed(
                    f"compare({raw[a]!r}, {raw[b]!r}) returned {got!r}, but {run.describe(a)} and "
                    f"{run.describe(b)} are {want!r}"
                    + (" (the same event)" if a == b else ""), run)
        return
    if len(events) <= all_pairs_up_to:
        chosen = [(a, b) for a in events for b in events if a != b]
    else:
        chosen = [(a, b) for a, b in oracle.sample_pairs(pairs, rng) if a != b]
        some = rng.sample(events, min(len(events), max(1, pairs // max(1, len(nodes)))))
        chosen += [(a, b) for b in some for a in oracle.frontier(b)]
    for a, b in chosen:
        hb = oracle.happened_before(a, b)
        less = _strictly_less(vec[a], vec[b])
        if hb != less:
            fact = ("happened before" if hb else
                    "is concurrent with" if oracle.concurrent(a, b) else "happened after")
            clock_says = "V(a) < V(b)" if less else "not V(a) < V(b)"
            raise _scenario_failed(
                f"a = {run.describe(a, clock)} {fact} b = {run.describe(b, clock)}, "
                f"but the vectors say {clock_says}", run)


def _hlc_pair(ts: Any, where: str) -> tuple[float, int]:
    if (not isinstance(ts, tuple) or len(ts) != 2 or isinstance(ts[1], bool)
            or not isinstance(ts[1], int) or not isinstance(ts[0], (int, float))):
        raise TypeError(f"{where}: a hybrid timestamp must be a tuple (l, c) of a number and an int, "
                        f"got {ts!r}")
    return ts


HLC_CHECKS = ("causality", "physical", "bounded")


def hlc_scenario(cls: type, seed: Any, *, check: str = "causality", **options: Any) -> ClockRun:
    """Drive ``cls(node_id, physical)`` as each node's hybrid logical clock and check it.

    ``physical`` is the node's own physical clock (``node.clock.now``), which is
    offset, drifts and may jump.

    Args:
        check: ``"causality"``: a → b implies (l, c)(a) < (l, c)(b).
            ``"physical"``: pt(e) <= l(e) <= the highest physical clock reading
            anywhere so far, so l - pt never exceeds the clocks' skew.
            ``"bounded"``: c(e) is at most the number of events f → e with
            l(f) = l(e) (Kulkarni et al. 2014, theorem 3), so c stays small.
        options: passed to :func:`run_clocks`.

    Raises:
        ScenarioFailed: naming the event(s) at fault.
        InvalidArgument: a bad argument or option (named in the message).
    """
    check_choice("check", check, HLC_CHECKS)
    _check_scenario_args(cls, options)
    run = run_clocks(lambda node: cls(node.id, node.clock.now), seed, track_horizon=True, **options)
    raw = _stamps(run)
    try:
        stamps = {e: _hlc_pair(ts, run.describe(e)) for e, ts in raw.items()}
    except TypeError as exc:
        raise _scenario_failed(str(exc), run) from None
    oracle = run.oracle
    if check == "causality":
        bad = oracle.find_violation(stamps.__getitem__)
        if bad is not None:
            a, b = bad
            raise _scenario_failed(
                f"causality broken: {run.describe(a, 'clock')} happened before "
                f"{run.describe(b, 'clock')}, but {stamps[a]!r} is not < {stamps[b]!r}", run)
    elif check == "physical":
        for e in oracle.events:
            ev = run.by_index[e]
            logical = stamps[e][0]
            if logical < ev.pt:
                raise _scenario_failed(
                    f"{run.describe(e, 'clock')}: l={logical!r} is behind the node's physical clock "
                    f"{ev.pt!r}; l must never lag physical time", run)
            if logical > ev.horizon + 1e-9:
                raise _scenario_failed(
                    f"{run.describe(e, 'clock')}: l={logical!r} is ahead of every physical clock so far "
                    f"(the highest reading was {ev.horizon!r}); l must be a physical time some node "
                    f"has read", run)
    else:
        groups: dict[float, list[int]] = defaultdict(list)
        for e in oracle.events:
            groups[stamps[e][0]].append(e)
        for same_l in groups.values():
            for k, e in enumerate(same_l):
                c = stamps[e][1]
                if c == 0:
                    continue
                allowed = sum(1 for f in same_l[:k] if oracle.happened_before(f, e))
                if c > allowed:
                    raise _scenario_failed(
                        f"{run.describe(e, 'clock')}: c={c} but only {allowed} earlier events with the "
                        f"same l={stamps[e][0]!r} happened before it: reset c to 0 whenever l moves "
                        f"on", run)
    return run
