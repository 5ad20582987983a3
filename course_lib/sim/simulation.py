"""The simulation: one SimPy environment, one seed, the nodes, the network and the trace."""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Iterable

import simpy
from simpy.events import Timeout

from .errors import EventBudgetExceeded, InvariantViolation
from .latency import LatencyLike
from .messages import Message
from .nemesis import Nemesis
from .network import Network
from .node import Node, Timer
from .trace import Trace


class Simulation:
    """A deterministic world of nodes exchanging messages over a faulty network.

    Args:
        seed: any int or str; the same seed gives the same run, event for event.
        latency, loss, duplicate, reorder, reorder_delay: default network
            settings (see :class:`Network`).
        trace: record a :class:`Trace` of every event (turn off only for speed).
        max_events: stop with :class:`EventBudgetExceeded` after this many
            deliveries and timer firings (guards against message storms).

    Example:
        >>> from course_lib.sim import Simulation, Node
        >>> class Echo(Node):
        ...     def on_ping(self, msg):
        ...         self.reply(msg, "pong")
        >>> sim = Simulation(seed=42)
        >>> a, b = sim.add_nodes(Echo, ["a", "b"])
        >>> sim.run(until=10)
        >>> sim.now
        10
    """

    def __init__(self, seed: int | str, *, latency: LatencyLike = 1.0, loss: float = 0.0,
                 duplicate: float = 0.0, reorder: float = 0.0, reorder_delay: float = 10.0,
                 trace: bool = True, max_events: int | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, str)):
            raise TypeError(f"seed={seed!r} must be an int or a str")
        if max_events is not None and (isinstance(max_events, bool) or not isinstance(max_events, int)
                                       or max_events <= 0):
            raise ValueError(f"max_events={max_events!r} must be a positive int or None")
        self.seed = seed
        self.env = simpy.Environment()
        self.trace = Trace(enabled=trace)
        self._nodes: dict[Any, Node] = {}
        self._durable_snapshots: dict[Any, dict] = {}
        self._invariants: list[tuple[str, Callable]] = []
        self._events = 0
        self._max_events = max_events if max_events is not None else math.inf
        self.network = Network(self, latency=latency, loss=loss, duplicate=duplicate,
                               reorder=reorder, reorder_delay=reorder_delay)
        self.nemesis = Nemesis(self)

    # -- randomness and time ---------------------------------------------------------------
    def rng_for(self, name: str) -> random.Random:
        """Return a new generator for component ``name``, derived from the seed only."""
        return random.Random(f"{self.seed}/{name}")

    @property
    def now(self) -> float:
        """The true simulated time."""
        return self.env.now

    # -- nodes -------------------------------------------------------------------------------
    def add_node(self, cls: type, node_id: Any, *args: Any, clock_offset: float = 0.0,
                 clock_drift: float = 0.0, **kwargs: Any) -> Node:
        """Create node ``node_id`` of class ``cls``, calling ``cls.__init__(*args, **kwargs)``.

        Its ``on_start`` runs at the current simulated time once the run starts.

        Raises:
            TypeError: ``cls`` is not a subclass of :class:`Node`.
            ValueError: ``node_id`` is already taken.
        """
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise TypeError(f"cls={cls!r} must be a subclass of course_lib.sim.Node")
        try:
            hash(node_id)
        except TypeError:
            raise TypeError(f"node_id={node_id!r} must be hashable, e.g. a str or an int") from None
        if node_id is None:
            raise TypeError("node_id=None is not allowed; use a str or an int")
        if node_id in self._nodes:
            raise ValueError(f"node_id={node_id!r} is already taken")
        node = cls._create(self, node_id, args, kwargs, clock_offset, clock_drift)
        self._nodes[node_id] = node
        if self.network._group:  # a node joining mid-partition joins the "everyone else" group
            self.network._group[node_id] = max(self.network._group.values())
        self._at(self.env.now, self._start_node, node_id, node._incarnation)
        return node

    def add_nodes(self, cls: type, node_ids: Iterable[Any], *args: Any, **kwargs: Any) -> list[Node]:
        """Create one node of ``cls`` per id (same constructor arguments); return them in order."""
        return [self.add_node(cls, node_id, *args, **kwargs) for node_id in node_ids]

    @property
    def nodes(self) -> dict[Any, Node]:
        """The nodes by id, in the order they were added (a copy)."""
        return dict(self._nodes)

    def node(self, node_id: Any) -> Node:
        """Return node ``node_id``.

        Raises:
            ValueError: there is no such node.
        """
        return self._nodes[self._check_node("node_id", node_id)]

    def __getitem__(self, node_id: Any) -> Node:
        return self.node(node_id)

    def _check_node(self, name: str, node_id: Any) -> Any:
        try:
            known = node_id in self._nodes
        except TypeError:
            known = False
        if not known:
            raise ValueError(f"{name}={node_id!r} is not a node of this simulation; "
                             f"nodes are {list(self._nodes)}")
        return node_id

    # -- crash and restart -------------------------------------------------------------------------
    def crash(self, node_id: Any) -> None:
        """Crash node ``node_id`` now: it stops; its timers and volatile state are lost.

        Crashing a node that is down already does nothing.
        """
        node = self.node(node_id)
        if node._crashed:
            return
        self._durable_snapshots[node_id] = node._do_crash()
        self.trace.record(self.env.now, "crash", node_id)
        self._after_event()

    def restart(self, node_id: Any) -> None:
        """Restart a crashed node: ``__init__`` runs again, durable state is restored, then ``on_start``.

        Restarting a node that is up does nothing.
        """
        node = self.node(node_id)
        if not node._crashed:
            return
        node._do_restart(self._durable_snapshots.pop(node_id, {}))
        self.trace.record(self.env.now, "restart", node_id, info=node._incarnation)
        self._start_node(node_id, node._incarnation)

    def _start_node(self, node_id: Any, incarnation: int) -> None:
        node = self._nodes[node_id]
        if node._crashed or node._incarnation != incarnation:
            return
        node._call(node.on_start, (), "on_start")
        self._after_event()

    # -- scheduling --------------------------------------------------------------------------------
    def at(self, time: float, fn: Callable, *args: Any) -> None:
        """Call ``fn(*args)`` at simulated ``time`` (for clients, workloads and experiments).

        Raises:
            ValueError: ``time`` is in the past or not finite.
        """
        if isinstance(time, bool) or not isinstance(time, (int, float)) or not (self.env.now <= time < math.inf):
            raise ValueError(f"time={time!r} must be a finite time >= now ({self.env.now:g})")
        if not callable(fn):
            raise TypeError(f"fn={fn!r} must be callable")
        self._at(time, self._run_external, fn, *args)

    def after(self, delay: float, fn: Callable, *args: Any) -> None:
        """Call ``fn(*args)`` after ``delay`` simulated time units."""
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not (0 <= delay < math.inf):
            raise ValueError(f"delay={delay!r} must be a finite number >= 0")
        self.at(self.env.now + delay, fn, *args)

    def _at(self, time: float, fn: Callable, *args: Any) -> None:
        Timeout(self.env, time - self.env.now, (fn, args)).callbacks.append(self._call_scheduled)

    @staticmethod
    def _call_scheduled(event: Any) -> None:
        fn, args = event._value
        fn(*args)

    def _run_external(self, fn: Callable, *args: Any) -> None:
        fn(*args)
        self._after_event()

    # -- running -------------------------------------------------------------------------------------
    def run(self, until: float | None = None) -> None:
        """Run until simulated time ``until`` (or until nothing is left to happen).

        Raises:
            ValueError: ``until`` is not after the current time.
            InvariantViolation: a registered invariant failed (the run stops there).
            HandlerError: a node's handler raised.
        """
        if until is not None:
            if isinstance(until, bool) or not isinstance(until, (int, float)) or not until > self.env.now:
                raise ValueError(f"until={until!r} must be a number after now ({self.env.now:g})")
        self.env.run(until=until)

    # -- invariants ----------------------------------------------------------------------------------
    def add_invariant(self, name: str, check: Callable[["Simulation"], Any]) -> None:
        """Check ``check(sim)`` after every event; a False or a str result is a violation.

        The run stops with :class:`InvariantViolation` naming the invariant, the
        time and the explanation (the str returned).
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"name={name!r} must be a non-empty str")
        if not callable(check):
            raise TypeError(f"check={check!r} must be callable as check(sim)")
        if any(n == name for n, _ in self._invariants):
            raise ValueError(f"name={name!r}: an invariant of that name is already registered")
        self._invariants.append((name, check))

    def check_invariants(self) -> None:
        """Check every registered invariant now; raise :class:`InvariantViolation` on the first failure."""
        for name, check in self._invariants:
            result = check(self)
            if result is False or isinstance(result, str):
                detail = result if isinstance(result, str) else "check returned False"
                raise InvariantViolation(name, self.env.now, detail, self.trace, self.seed)

    def _after_event(self) -> None:
        self._events += 1
        self._check_after_event()

    def _check_after_event(self) -> None:
        if self._events > self._max_events:
            raise EventBudgetExceeded(
                f"more than max_events={self._max_events} events by simulated time {self.env.now:g} "
                f"(seed={self.seed!r}): a message or timer storm?"
            )
        if self._invariants:
            self.check_invariants()

    # -- framework callbacks -------------------------------------------------------------------------
    def _arrive(self, event: Any) -> None:
        # The hot path of every run: keep it flat (see benchmarks/bench_delivery.py).
        msg: Message = event._value
        dst = msg.dst
        node = self._nodes[dst]
        trace = self.trace
        if node._crashed:
            trace.record(self.env.now, "drop", dst, msg.src, msg.type, msg.id, "crashed")
            return
        network = self.network
        if (network._group or network._blocked) and not network.reachable(msg.src, dst):
            trace.record(self.env.now, "drop", dst, msg.src, msg.type, msg.id, "partition")
            return
        if trace.enabled:
            trace._rows.append((self.env.now, "deliver", dst, msg.src, msg.type, msg.id, None))
        node._receive(msg)
        self._events += 1
        if self._invariants or self._events > self._max_events:
            self._check_after_event()

    def _fire_timer(self, event: Any) -> None:
        timer: Timer = event._value
        node = timer.node
        if not timer.active or node._crashed or node._incarnation != timer.incarnation:
            return
        if timer.interval is not None:
            node._arm(timer, timer.interval)
        else:
            timer.active = False
        if self.trace.enabled:
            self.trace._rows.append((self.env.now, "timer", node._id, None, None, None, timer.name))
        node._call(timer.callback, timer.args, f"timer {timer.name!r}")
        self._after_event()

    def _record_fault(self, kind: str, info: Any) -> None:
        self.trace.record(self.env.now, kind, None, info=info)

    def __repr__(self) -> str:
        return f"<Simulation seed={self.seed!r} t={self.env.now:g} nodes={list(self._nodes)}>"
