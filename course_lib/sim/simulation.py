"""The simulation: one SimPy environment, one seed, the nodes, the network and the trace."""

from __future__ import annotations

import math
import random
import signal
import threading
from heapq import heapify, heappop, heappush
from typing import Any, Callable, Iterable

import simpy
from simpy.events import NORMAL, URGENT

from .errors import (CrashedInHandler, EventBudgetExceeded, HandlerError, HandlerTimeout,
                     InvariantViolation, SimulationError)
from .latency import LatencyLike
from .messages import Message, SlowMessage, check_type_name
from .nemesis import Nemesis
from .network import Network
from .node import Node, Timer
from .trace import DELIVER_REF, DROP_CRASHED, DROP_PARTITION_AT_ARRIVAL, TIMER, Trace
from .validation import (InvalidArgument, InvalidArgumentType, check_callable, check_ids, check_int,
                         check_number)

#: Real seconds without progress after which a run stops (a handler in an infinite loop).
DEFAULT_HANDLER_TIME_LIMIT = 30.0

#: The default event budget: far more than any chapter's run, small enough to stop a storm
#: within seconds. It bounds sends, and separately timer firings and scheduled calls.
DEFAULT_MAX_EVENTS = 2_000_000


class _Watchdog:
    """Stops a run whose handler loops forever: nothing else can interrupt it from inside Python.

    A SIGALRM timer ticks every ``handler_time_limit`` seconds of real time; a tick that finds
    the run exactly where the previous tick left it (same simulated time, sends, events and
    trace length) raises :class:`HandlerTimeout` inside the looping handler. Real time decides
    only *whether* a stuck run is stopped, never what a run that makes progress does.
    """

    def __init__(self, sim: "Simulation", limit: float) -> None:
        self.sim = sim
        self.limit = limit
        self.last: tuple | None = None
        self.previous: Any = None

    @classmethod
    def start(cls, sim: "Simulation") -> "_Watchdog | None":
        limit = sim._handler_time_limit
        if limit is None or not hasattr(signal, "setitimer") \
                or threading.current_thread() is not threading.main_thread():
            return None
        if signal.getitimer(signal.ITIMER_REAL)[0]:
            return None  # someone else's alarm is running: leave it alone
        dog = cls(sim, limit)
        dog.previous = signal.signal(signal.SIGALRM, dog._tick)
        signal.setitimer(signal.ITIMER_REAL, limit, limit)
        return dog

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, self.previous if self.previous is not None else signal.SIG_DFL)

    def _tick(self, signum: int, frame: Any) -> None:
        sim = self.sim
        now = (sim.env._now, sim._sent, sim._events, len(sim.trace))
        if now == self.last:
            node = sim._current
            where = f"node {node.id!r}" if node is not None else "a scheduled call"
            raise HandlerTimeout(
                f"{where} has run for more than handler_time_limit={self.limit:g} s of real time "
                f"without the simulation making progress (at simulated time {sim.env._now:g}): "
                f"an infinite loop in a handler? Handlers must return; set a timer to wait. "
                f"Raise the limit with Simulation(..., handler_time_limit=S) if the work is real")
        self.last = now


#: The run loop's end marker (see :meth:`Simulation.run`).
_STOP = object()


def _check_node_id(node_id: Any) -> Any:
    if isinstance(node_id, bool) or not isinstance(node_id, (str, int)):
        raise InvalidArgumentType(f"node_id={node_id!r} must be a str or an int")
    return node_id


def rng_name(kind: str, node_id: Any) -> str:
    """Return the name of a node's random stream; ``1`` and ``"1"`` get different streams."""
    return f"{kind}/{node_id}" if isinstance(node_id, str) else f"{kind}#{node_id}"


class Simulation:
    """A deterministic world of nodes exchanging messages over a faulty network.

    Args:
        seed: any int or str; the same seed gives the same run, event for event.
        latency, loss, duplicate, reorder, reorder_delay: default network
            settings (see :class:`Network`).
        trace: record a :class:`Trace` of every event (turn off only for speed).
        max_events: stop with :class:`EventBudgetExceeded` after more than
            this many sends, or this many timer firings and scheduled calls
            (every delivery follows a send), which guards against message and
            timer storms and against ``run()`` with a periodic timer and no
            ``until``. ``None`` removes the budget.
        handler_time_limit: stop with :class:`HandlerTimeout` when the run makes
            no progress for this many seconds of real time (a handler in an
            infinite loop). It never fires in a run that makes progress, so it
            cannot change a run's result; ``None`` turns the watchdog off.

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
                 trace: bool = True, max_events: int | None = DEFAULT_MAX_EVENTS,
                 handler_time_limit: float | None = DEFAULT_HANDLER_TIME_LIMIT) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, str)):
            raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
        if max_events is not None and (isinstance(max_events, bool) or not isinstance(max_events, int)
                                       or max_events <= 0):
            raise InvalidArgument(f"max_events={max_events!r} must be a positive int or None")
        if handler_time_limit is not None:
            check_number("handler_time_limit", handler_time_limit, low=0, low_open=True,
                         what="a positive number of seconds or None")
        self._handler_time_limit = handler_time_limit
        if not isinstance(trace, bool):
            raise InvalidArgumentType(f"trace={trace!r} must be True or False")
        self.seed = seed
        self.env = simpy.Environment()
        self.trace = Trace(enabled=trace)
        self._nodes: dict[Any, Node] = {}
        self._durable_snapshots: dict[Any, dict] = {}
        self._holds: dict[Any, set] = {}       # node -> the crash faults keeping it down
        self._pauses: dict[Any, set] = {}      # node -> the pause faults holding it
        self._invariants: list[tuple[str, Callable]] = []
        self._observers: list[Callable] = []
        self._memos: dict[Any, Any] = {}
        self._crash_points: dict[Any, list[list]] = {}  # node -> [type, where, count left, restart_after]
        self._watching = False  # any invariant or observer: checked after every event
        self._events = 0
        self._max_events = max_events if max_events is not None else math.inf
        self._running = False
        self._current: Node | None = None      # the node whose handler is running
        # SimPy's event heap and counter: the run loop and the hot paths push onto them directly
        # (tests/test_simulation.py pins this contract with SimPy).
        self._queue = self.env._queue
        self._eid = self.env._eid
        self._net_faults = False  # the network's partitions or cuts, mirrored for the hot path
        self._fast_delay: float | None = None  # the network's delay when every link is plain
        self._sent = 0  # messages sent: the last message id
        self._traced = self.trace.enabled
        self._peer_code: dict[Any, int] = {}  # node id -> its place in a trace row as receiver
        self._tb_append = self.trace._tbuf.append
        self._cb_append = self.trace._code.append
        self._name_code = self.trace._name_code
        self.network = Network(self, latency=latency, loss=loss, duplicate=duplicate,
                               reorder=reorder, reorder_delay=reorder_delay)
        self.nemesis = Nemesis(self)

    # -- randomness and time ---------------------------------------------------------------
    def rng_for(self, name: str) -> random.Random:
        """Return a new generator for component ``name``, derived from the seed only."""
        if not isinstance(name, str):
            raise InvalidArgumentType(f"name={name!r} must be a str naming the component")
        return random.Random(f"{self.seed}/{name}")

    @property
    def now(self) -> float:
        """The true simulated time."""
        return self.env.now

    @property
    def events_processed(self) -> int:
        """How many sends, timer firings and scheduled calls have run so far (deliveries follow sends)."""
        return self._events + self._sent

    # -- nodes -------------------------------------------------------------------------------
    def add_node(self, cls: type, node_id: Any, *args: Any, clock_offset: float = 0.0,
                 clock_drift: float = 0.0, **kwargs: Any) -> Node:
        """Create node ``node_id`` of class ``cls``, calling ``cls.__init__(*args, **kwargs)``.

        Its ``on_start`` runs at the current simulated time once the run starts.
        A node added while the network is partitioned joins each partition's
        "everyone else" group.

        Raises:
            InvalidArgumentType: ``cls`` is not a subclass of :class:`Node`, or
                ``node_id`` is not a str or an int.
            InvalidArgument: ``node_id`` is already taken.
        """
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise InvalidArgumentType(f"cls={cls!r} must be a subclass of course_lib.sim.Node")
        _check_node_id(node_id)
        if node_id in self._nodes:
            raise InvalidArgument(f"node_id={node_id!r} is already taken")
        node = cls._create(self, node_id, args, kwargs, clock_offset, clock_drift)
        self._nodes[node_id] = node
        self.network._node_added(node_id)
        self._at_now(self._start_node, node_id, node._incarnation)
        return node

    def add_nodes(self, cls: type, node_ids: Iterable[Any], *args: Any, **kwargs: Any) -> list[Node]:
        """Create one node of ``cls`` per id (same constructor arguments); return them in order.

        Raises:
            InvalidArgumentType: ``node_ids`` is a single str (``"n1"``) instead of a list.
        """
        ids = check_ids("node_ids", node_ids)
        for node_id in ids:
            _check_node_id(node_id)
        return [self.add_node(cls, node_id, *args, **kwargs) for node_id in ids]

    @property
    def nodes(self) -> dict[Any, Node]:
        """The nodes by id, in the order they were added (a copy)."""
        return dict(self._nodes)

    @property
    def node_ids(self) -> list:
        """The node ids, in the order they were added."""
        return list(self._nodes)

    def node(self, node_id: Any) -> Node:
        """Return node ``node_id``.

        Raises:
            InvalidArgument: there is no such node.
        """
        return self._nodes[self.check_node("node_id", node_id)]

    def __getitem__(self, node_id: Any) -> Node:
        return self.node(node_id)

    def check_node(self, name: str, node_id: Any) -> Any:
        """Return ``node_id`` if it names a node of this simulation, else raise naming ``name``.

        For harnesses that take node ids from a learner: the error shows the parameter, the
        value and the nodes there are.

        Raises:
            InvalidArgument: ``node_id`` is not a node of this simulation.
        """
        try:
            known = node_id in self._nodes and not isinstance(node_id, bool)
        except TypeError:
            known = False
        if not known:
            raise InvalidArgument(f"{name}={node_id!r} is not a node of this simulation; "
                                  f"nodes are {list(self._nodes)}")
        return node_id

    # -- crash and restart -------------------------------------------------------------------------
    def crash(self, node_id: Any) -> None:
        """Crash node ``node_id`` now, for good: it stops; its timers and volatile state are lost.

        Only :meth:`restart` brings it back (a nemesis fault's scheduled restart
        does not). Crashing a node that is down already does nothing more.
        """
        self._crash(self.check_node("node_id", node_id), "manual")

    def restart(self, node_id: Any) -> None:
        """Restart node ``node_id`` now, ending every crash fault that keeps it down.

        ``__init__`` runs again, durable state is restored, then ``on_start``
        runs as an event of its own (so, called from a handler, the handler
        finishes first). Restarting a node that is up does nothing.
        """
        self.check_node("node_id", node_id)
        self._holds.pop(node_id, None)
        self._bring_up(node_id)

    def crash_on_send(self, node_id: Any, msg_type: str | None = None, *, nth: int = 1,
                      where: Callable[[Message], Any] | None = None,
                      restart_after: float | None = None) -> None:
        """Crash node ``node_id`` in the middle of a handler: right after it sends a message.

        The ``nth`` message the node sends from now on whose type is ``msg_type`` (any type
        if None) and for which ``where(msg)`` is true leaves the node; then the node crashes
        at once and the rest of the handler (or timer callback, or scheduled call) does not
        run, as if the machine lost power between two lines of its code. What the handler
        changed before the send stays changed in ``storage`` and in durable attributes; the
        rest is lost, as at any crash. This is how a test finds out whether a node writes
        what it promises to disk *before* it answers (Raft's "persist before replying").

        A crash point fires once, only while the simulation runs: in the node's own handlers and
        timers, or in a call made from outside (``sim.at(t, node.method)``), never from another
        node's handler. A message sent with ``reply`` or ``request`` leaves as a reply or a
        request. The node stays down until :meth:`restart`, or for ``restart_after`` time
        units if given.

        Args:
            node_id: the node to crash.
            msg_type: the type of message after which to crash, or None for any.
            nth: crash after the nth matching send (1: the first).
            where: a further condition on the message, e.g. ``lambda m: m.vote_granted``.
            restart_after: restart the node this long after the crash (None: stay down).

        Raises:
            InvalidArgument: ``node_id`` is not a node, ``nth`` < 1, ``restart_after`` < 0
                (also a ValueError).
            InvalidArgumentType: ``msg_type`` is not a str or ``where`` not callable (also a TypeError).
        """
        self.check_node("node_id", node_id)
        if msg_type is not None:
            check_type_name(msg_type, "msg_type")
        check_int("nth", nth, low=1)
        if where is not None:
            check_callable("where", where)
        if restart_after is not None:
            check_number("restart_after", restart_after, low=0, what="a finite delay >= 0 or None")
        self._crash_points.setdefault(node_id, []).append([msg_type, where, nth, restart_after])

    def _crash_point_reached(self, node: Node, msg: Message) -> None:
        """``node`` just sent ``msg``: crash it there if one of its crash points says so."""
        node_id = node._id
        points = self._crash_points.get(node_id)
        if not points or not self._running or self._current not in (None, node):
            # (not while another node's handler runs: a crash would cut that handler short)
            return
        for point in points:
            msg_type, where, left, restart_after = point
            if (msg_type is None or msg.type == msg_type) and (where is None or where(msg)):
                point[2] = left - 1
                if left == 1:
                    points.remove(point)
                    if not points:
                        del self._crash_points[node_id]
                    self._crash(node_id, "manual", f"after sending {msg.type} to {msg.dst!r}")
                    if restart_after is not None:
                        self._schedule(restart_after, self.restart, (node_id,))
                    raise CrashedInHandler(node_id, msg)
                return

    def _crash(self, node_id: Any, hold: Any, info: Any = None) -> None:
        self._holds.setdefault(node_id, set()).add(hold)
        node = self._nodes[node_id]
        if node._crashed:
            return
        self._durable_snapshots[node_id] = node._do_crash()
        self._pauses.pop(node_id, None)
        self.trace.record(self.env.now, "crash", node_id, info=info)
        self._events += 1
        if not self._running:
            self._check_after_event()

    def _end_crash(self, node_id: Any, hold: Any) -> None:
        """End one crash fault; the node comes back only when no other fault holds it down."""
        holds = self._holds.get(node_id)
        if holds is None or hold not in holds:
            return
        holds.discard(hold)
        if not holds:
            del self._holds[node_id]
            self._bring_up(node_id)

    def _bring_up(self, node_id: Any) -> None:
        node = self._nodes[node_id]
        if not node._crashed:
            return
        node._do_restart(self._durable_snapshots.pop(node_id, {}))
        self.trace.record(self.env.now, "restart", node_id, info=node._incarnation)
        self._at_now(self._start_node, node_id, node._incarnation, priority=URGENT)

    # -- pauses (scheduled by the nemesis) -------------------------------------------------------
    def _pause(self, node_id: Any, hold: Any) -> None:
        node = self._nodes[node_id]
        if node._crashed:
            return
        self._pauses.setdefault(node_id, set()).add(hold)
        if not node._paused:
            node._paused = node._blocked = True
            self.trace.record(self.env.now, "pause", node_id)

    def _resume(self, node_id: Any, hold: Any) -> None:
        holds = self._pauses.get(node_id)
        if holds is None or hold not in holds:
            return  # crashed meanwhile: the crash ended the pause
        holds.discard(hold)
        if holds:
            return
        del self._pauses[node_id]
        node = self._nodes[node_id]
        node._paused = False
        node._blocked = node._crashed
        held, node._held = node._held, []
        node._held_timers = set()
        self.trace.record(self.env.now, "resume", node_id, info=len(held))
        incarnation = node._incarnation
        for kind, item in held:  # everything that waited, in the order it came, one event each
            if node._crashed or node._incarnation != incarnation or node._paused:
                break
            self._current = node
            try:
                if kind == "message":
                    if self.trace._enabled:
                        self.trace._ref(self.env.now, DELIVER_REF, item.id)
                    node._receive(item)
                else:
                    self.trace.record(self.env.now, "timer", node_id, info=item.name)
                    node._fire_held_timer(item)
            finally:
                self._current = None
            self._after_event()

    def _start_node(self, node_id: Any, incarnation: int) -> None:
        node = self._nodes[node_id]
        if node._crashed or node._incarnation != incarnation:
            return
        self._current = node
        try:
            node._call(node.on_start, (), "on_start")
        finally:
            self._current = None
        self._after_event()

    # -- scheduling --------------------------------------------------------------------------------
    def at(self, time: float, fn: Callable, *args: Any) -> None:
        """Call ``fn(*args)`` at simulated ``time`` (for clients, workloads and experiments).

        Called from a node's handler, the call belongs to that node: it is
        dropped if the node crashes before ``time`` (use the node's timers).

        Raises:
            InvalidArgument: ``time`` is in the past or not finite.
        """
        check_number("time", time, low=self.env.now, what=f"a finite time >= now ({self.env.now:g})")
        check_callable("fn", fn)
        owner = self._current if self._running else None
        if owner is not None:
            self._schedule(time - self.env.now, self._run_owned, (owner, owner._incarnation, fn, args))
        else:
            self._schedule(time - self.env.now, self._run_external, (fn, args))

    def after(self, delay: float, fn: Callable, *args: Any) -> None:
        """Call ``fn(*args)`` after ``delay`` simulated time units (see :meth:`at`)."""
        check_number("delay", delay, low=0, what="a finite delay >= 0")
        self.at(self.env.now + delay, fn, *args)

    def _schedule(self, delay: float, fn: Callable, args: tuple, priority: int = NORMAL) -> None:
        """Call ``fn(*args)`` after ``delay`` (framework use: no checks, no owner)."""
        heappush(self._queue, (self.env._now + delay, priority, next(self._eid), (fn, args)))

    def _at_now(self, fn: Callable, *args: Any, priority: int = NORMAL) -> None:
        self._schedule(0, fn, args, priority)

    def _run_external(self, fn: Callable, args: tuple) -> None:
        self._current = None
        fn(*args)
        self._after_event()

    def _run_owned(self, owner: Node, incarnation: int, fn: Callable, args: tuple) -> None:
        if owner._crashed or owner._incarnation != incarnation:
            return
        self._current = owner
        try:
            owner._call(fn, args, f"scheduled call {getattr(fn, '__name__', fn)!r}")
        finally:
            self._current = None
        self._after_event()

    # -- running -------------------------------------------------------------------------------------
    def run(self, until: float | None = None) -> None:
        """Run until simulated time ``until`` (or until nothing is left to happen).

        Events due exactly at ``until`` have not run yet when it returns; the
        next ``run`` starts with them. A run that raises leaves nothing behind:
        a later ``run(until=...)`` runs to its own ``until``.

        Raises:
            InvalidArgument: ``until`` is not after the current time.
            SimulationError: called from inside a handler (handlers run to completion).
            InvariantViolation: a registered invariant failed (the run stops there).
            HandlerError: a node's handler raised.
            EventBudgetExceeded: more than ``max_events`` events.
        """
        if self._running:
            raise SimulationError(
                "sim.run() was called while the simulation is running (from a handler, a timer "
                "or a scheduled call): handlers run to completion; set a timer instead")
        env = self.env
        if until is not None:
            check_number("until", until, low=env.now, low_open=True,
                         what=f"a finite time after now ({env.now:g})")
        queue = self._queue
        arrive_slow, nodes = self._arrive_slow, self._nodes
        traced, tb_append, cb_append = self._traced, self._tb_append, self._cb_append
        # A sentinel marks the end: popped before anything else due at `until` (SimPy's rule:
        # events at exactly `until` run in the next run), so the loop needs no bound check.
        sentinel = (math.inf if until is None else until, -1, next(self._eid), _STOP)
        heappush(queue, sentinel)
        self._running = True
        watchdog = _Watchdog.start(self)
        try:
            # Our own events are plain entries in SimPy's heap: a Message (or SlowMessage) is an
            # arrival, a tuple (fn, args) a call; anything else is a SimPy event, processed as SimPy's step() does.
            # A node that reaches a crash point (crash_on_send) leaves its handler by raising
            # CrashedInHandler; the inner loop is resumed after it, so the hot loop carries no try.
            while True:
                try:
                    while True:
                        now, _, _, item = heappop(queue)
                        cls = item.__class__
                        if cls is Message:  # a plain message arrives: the hot path of every run, inlined
                            env._now = now      # (see benchmarks/bench_delivery.py); others take _arrive_slow
                            node = nodes[item.dst]
                            if (node._blocked or self._net_faults) and self._held_or_dropped(node, item):
                                continue
                            if traced:
                                tb_append(now)
                                cb_append(DELIVER_REF | item.id << 5)
                            self._current = node
                            handler = node._handlers.get(item.type)  # Node._receive, inlined
                            if handler is None:
                                handler = node._inline_handler(item.type)  # raises the helpful error if none
                            try:
                                handler(node, item)
                            except SimulationError:
                                raise
                            except Exception as exc:  # a learner's bug: say where and when
                                raise HandlerError(node._id, "on_" + item.type, now, exc, self) from exc
                            if self._watching:
                                self._check_after_event()
                        elif cls is tuple:
                            env._now = now
                            item[0](*item[1])
                        elif cls is SlowMessage:
                            env._now = now
                            arrive_slow(item, now)
                        elif item is _STOP:
                            break  # out of both loops: see below
                        else:
                            env._now = now
                            callbacks, item.callbacks = item.callbacks, None
                            for callback in callbacks:
                                callback(item)
                            if not item._ok and not hasattr(item, "_defused"):
                                raise item._value  # a failed SimPy event nobody handled
                    break
                except CrashedInHandler:
                    self._current = None
                    self._after_event()
        except BaseException as exc:
            if isinstance(exc, SimulationError) and exc.sim is None:
                exc.sim = self  # the run stopped here: the error can draw it
            if sentinel in queue:  # stopped early: leave no stale end behind (rare, so O(n) is fine)
                queue.remove(sentinel)
                heapify(queue)
            raise
        finally:
            self._running = False
            self._current = None
            if watchdog is not None:
                watchdog.stop()
        if until is not None:
            env._now = until

    # -- invariants and observers ---------------------------------------------------------------------
    def add_invariant(self, name: str, check: Callable[["Simulation"], Any]) -> None:
        """Check ``check(sim)`` after every event; a False or a str result is a violation.

        The run stops with :class:`InvariantViolation` naming the invariant, the
        time and the explanation (the str returned).
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgumentType(f"name={name!r} must be a non-empty str")
        check_callable("check", check, "check(sim)")
        if any(n == name for n, _ in self._invariants):
            raise InvalidArgument(f"name={name!r}: an invariant of that name is already registered")
        self._invariants.append((name, check))
        self._watching = True

    @property
    def invariants(self) -> list[str]:
        """The names of the registered invariants, in the order they are checked."""
        return [name for name, _ in self._invariants]

    def add_observer(self, observe: Callable[["Simulation"], Any]) -> None:
        """Call ``observe(sim)`` after every event, before the invariants (recorders, monitors).

        An observer watches and records; it must not send, crash or schedule.
        """
        check_callable("observe", observe, "observe(sim)")
        self._observers.append(observe)
        self._watching = True

    def memo(self, key: Any, factory: Callable[[], Any]) -> Any:
        """Return this simulation's value for ``key``, made by ``factory()`` the first time.

        Where checkers, recorders and harnesses keep what they remember about a
        run (a cursor into the trace, decisions seen so far), so that nothing
        keeps a module-level table keyed by simulation.

        Example:
            >>> sim = Simulation(seed=1)
            >>> sim.memo("seen", list).append(3)
            >>> sim.memo("seen", list)
            [3]
        """
        try:
            return self._memos[key]
        except KeyError:
            value = self._memos[key] = check_callable("factory", factory)()
            return value
        except TypeError:
            raise InvalidArgumentType(f"key={key!r} must be hashable (a str or a tuple)") from None

    def check_invariants(self) -> None:
        """Check every registered invariant now; raise :class:`InvariantViolation` on the first failure."""
        for name, check in self._invariants:
            try:
                result = check(self)
            except InvariantViolation:
                raise
            except Exception as exc:  # a learner's invariant with a bug: say which
                error = SimulationError(f"invariant {name!r} raised {type(exc).__name__}: {exc} "
                                        f"(at simulated time {self.env.now:g})")
                error.sim = self
                raise error from exc
            if result is False or isinstance(result, str):
                detail = result if isinstance(result, str) else "check returned False"
                raise InvariantViolation(name, self.env.now, detail, self.trace, self.seed, self)

    def _after_event(self) -> None:
        self._events += 1
        self._check_after_event()

    def _check_after_event(self) -> None:
        self._current = None  # observers and invariants act for nobody
        if self._events > self._max_events:
            self._over_budget()
        for observe in self._observers:
            observe(self)
        if self._invariants:
            self.check_invariants()

    def _over_budget(self) -> None:
        raise EventBudgetExceeded(
            f"more than max_events={self._max_events} events (sends, or timer firings and calls) "
            f"by simulated time {self.env.now:g} (seed={self.seed!r}): a message or timer storm, or "
            f"run() without until= while a periodic timer is set? Pass until=, or raise the "
            f"budget with Simulation(..., max_events=N)", self)

    # -- framework callbacks -------------------------------------------------------------------------
    def _arrive_slow(self, msg: Message, now: float) -> None:
        """Deliver a reply, or a message whose fields are copied per delivery."""
        node = self._nodes[msg.dst]
        if (node._blocked or self._net_faults) and self._held_or_dropped(node, msg):
            return
        if self._traced:
            self._tb_append(now)
            self._cb_append(DELIVER_REF | msg.id << 5)
        self._current = node
        node._receive(msg)
        if self._watching:
            self._check_after_event()

    def _held_or_dropped(self, node: Node, msg: Message) -> bool:
        """Drop a message reaching a crashed node or across a partition, hold it at a paused one."""
        trace = self.trace
        if node._crashed:
            if trace._enabled:
                trace._ref(self.env._now, DROP_CRASHED, msg.id)
            return True
        if not self.network.reachable(msg.src, msg.dst):
            if trace._enabled:
                trace._ref(self.env._now, DROP_PARTITION_AT_ARRIVAL, msg.id)
            return True
        if node._paused:
            node._held.append(("message", msg))
            return True
        return False

    def _fire_timer(self, timer: Timer, generation: int) -> None:
        node = timer.node
        if (not timer.active or timer.generation != generation or node._crashed
                or node._incarnation != timer.incarnation):
            return
        if node._paused:
            if timer not in node._held_timers:  # a periodic timer due again runs once at resume
                node._held_timers.add(timer)
                node._held.append(("timer", timer))
            if timer.interval is not None:
                node._arm(timer, timer.interval)
            return
        if timer.interval is not None:
            node._arm(timer, timer.interval)
        else:
            timer.active = False
            node._timers.pop(timer, None)
        trace = self.trace
        if trace.enabled:
            trace._append(self.env._now, TIMER | node._tnode | trace._name(timer.name))
        self._current = node
        try:
            node._call(timer.callback, timer.args, f"timer {timer.name!r}")
        finally:
            self._current = None
        self._after_event()

    def _count_send(self) -> None:
        """Count a send against the budget (a handler sending a million messages stops early)."""
        self._events += 1
        if self._events > self._max_events:
            self._over_budget()

    def _record_fault(self, kind: str, info: Any, node: Any = None) -> None:
        self.trace.record(self.env.now, kind, node, info=info)

    def __repr__(self) -> str:
        return f"<Simulation seed={self.seed!r} t={self.env.now:g} nodes={list(self._nodes)}>"

