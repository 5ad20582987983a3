"""The node base class: what a learner subclasses.

The node contract (read this before writing a node):

* **Handlers run to completion.** ``on_<type>(self, msg)`` is called for each
  delivered message of that type, ``timer_<name>(self)`` (or the callable you
  gave) when a timer fires; each runs in zero simulated time, and no other
  handler of any node runs meanwhile. Never sleep, block, loop waiting for a
  message, start threads or call ``sim.run()``: set a timer and return
  instead. A generator or ``async`` handler is refused when the class is
  defined (its body would never run); a handler that loops forever is stopped
  by the watchdog (``handler_time_limit``).
* **Messages and timers have separate names.** A message ``"tick"`` calls
  ``on_tick(msg)``; a timer ``"tick"`` calls ``timer_tick()``. ``on_`` methods a
  framework calls itself with no argument are listed in the class's ``hooks``.
* **Only simulated time and seeded randomness.** Read time with
  ``self.clock.now()`` (this node's own, possibly wrong, clock) and draw random
  numbers from ``self.rng``. Never the wall clock or the global ``random`` module:
  the same seed must give the same run.
* **Never let the order of a set decide anything.** Iterating a ``set`` of node
  ids (``for p in set(self.peers)``) follows Python's hash seed. Every course
  kernel fixes it (``PYTHONHASHSEED=0``) only so that runs and replays are the
  same everywhere; iterate ``self.peers`` or ``sorted(...)`` when order matters.
* **Send nothing from ``__init__``.** The constructor sets up state only; start
  timers and send first messages in :meth:`Node.on_start`, which runs when the
  simulation starts and again after every restart.
* **Crashes lose volatile state.** After a crash and a restart the node is
  rebuilt by calling ``__init__`` again; only the attributes named in the class
  attribute ``durable`` and the contents of ``self.storage`` survive, as if
  written to disk at the end of each handler. Timers, pending requests and
  calls it scheduled with ``self.sim.after`` die with it.
* **Messages are values.** A received message cannot be changed; two messages
  with the same type, route and fields are equal and hash alike.

Example:
    >>> from course_lib.sim import Simulation, Node
    >>> class Pinger(Node):
    ...     def on_start(self):
    ...         if self.id == "a":
    ...             self.send("b", "ping", n=1)
    ...     def on_ping(self, msg):
    ...         self.record("got_ping", n=msg.n)
    >>> sim = Simulation(seed=7, latency=1.0)
    >>> _ = sim.add_nodes(Pinger, ["a", "b"])
    >>> sim.run(until=5)
    >>> [e.time for e in sim.trace.custom("got_ping")]
    [1.0]
"""

from __future__ import annotations

import copy
import inspect
import random
from heapq import heappush
from typing import TYPE_CHECKING, Any, Callable

from simpy.events import NORMAL

from .clock import PhysicalClock
from .errors import (CrashedInHandler, HandlerError, NoHandlerError, NodeCrashedError, NodeDefinitionError,
                     SimulationError)
from .messages import (_ATOMIC, _CHECKED_TYPES, _RESERVED, Message, SlowMessage, _check,
                       check_type_name, is_immutable)
from .trace import DROP_LATE, SEND_SEQ
from .validation import InvalidArgument, InvalidArgumentType, check_callable, check_number

_new = object.__new__
_set = object.__setattr__

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

# Attributes the framework owns; they survive a restart and are not the learner's.
_FRAMEWORK_ATTRS = (
    "_sim", "_id", "_tnode", "_rng", "_net_rng", "_clock", "_storage", "_crashed", "_incarnation",
    "_pending", "_init_args", "_init_kwargs", "_timers", "_paused", "_held", "_held_timers",
    "_blocked",
)


class Storage(dict):
    """A node's disk: a dict whose contents survive crashes and restarts."""

    def __repr__(self) -> str:
        return f"Storage({dict.__repr__(self)})"


class Timer:
    """A handle on a scheduled one-shot or periodic timer; call :meth:`cancel` to stop it."""

    __slots__ = ("node", "callback", "args", "name", "interval", "active", "incarnation", "due",
                 "generation", "__weakref__")

    def __init__(self, node: "Node", callback: Callable, args: tuple, name: str,
                 interval: float | None, incarnation: int) -> None:
        self.node = node
        self.callback = callback
        self.args = args
        self.name = name
        self.interval = interval
        self.active = True
        self.incarnation = incarnation
        self.due = 0.0
        self.generation = 0

    def cancel(self) -> None:
        """Stop the timer; a cancelled timer never fires again. Cancelling twice is harmless."""
        self.active = False
        self.node._timers.pop(self, None)

    def __repr__(self) -> str:
        state = "active" if self.active else "cancelled"
        kind = f"every {self.interval:g}" if self.interval else "once"
        return f"<Timer {self.name!r} of {self.node.id!r} {kind}, due {self.due:g}, {state}>"


class Request:
    """A request awaiting its reply; see :meth:`Node.request`."""

    __slots__ = ("msg", "on_reply", "on_timeout", "timer", "done", "node")

    def __init__(self, node: "Node", msg: Message, on_reply: Callable, on_timeout: Callable | None) -> None:
        self.node = node
        self.msg = msg
        self.on_reply = on_reply
        self.on_timeout = on_timeout
        self.timer: Timer | None = None
        self.done = False

    def cancel(self) -> None:
        """Stop waiting: neither ``on_reply`` nor ``on_timeout`` will be called.

        A reply that still arrives is then a late reply (dropped, see :meth:`Node.request`).
        """
        self.done = True
        self.node._pending.pop(self.msg.id, None)
        if self.timer is not None:
            self.timer.cancel()

    def __repr__(self) -> str:
        return f"<Request {self.msg.type!r} #{self.msg.id} to {self.msg.dst!r}{' done' if self.done else ''}>"


def _check_handler(cls: type, name: str, fn: Any, positional: int | None) -> None:
    """Refuse, at class definition, a handler the simulator could never call correctly."""
    where = f"{cls.__name__}.{name}"
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise NodeDefinitionError(
            f"{where} is an async function: the simulator calls handlers and never awaits them, "
            "so its body would never run. Make it a plain def; to wait, set a timer")
    if inspect.isgeneratorfunction(fn):
        raise NodeDefinitionError(
            f"{where} is a generator (it contains yield): calling it would only create a "
            "generator, so its body would never run. Handlers run to completion: remove the "
            "yield, and set a timer to do something later")
    if positional is None:
        return
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or something odd: nothing to check
        return
    params = list(sig.parameters.values())[1:]  # drop self
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return
    required = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                and p.default is p.empty]
    accepted = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required_kw = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if len(required) > positional or len(accepted) < positional or required_kw:
        shape = "(self)" if positional == 0 else "(self, msg)"
        raise NodeDefinitionError(
            f"{where}{sig} has the wrong parameters: the simulator calls it as "
            f"{name}{shape}")


class Node:
    """Base class of every simulated process; subclass it and add ``on_<type>`` handlers.

    Create nodes with :meth:`Simulation.add_node`, never by calling the class.
    Handlers are checked when the subclass is defined: ``on_<type>(self, msg)``
    for messages, ``on_start(self)``, ``timer_<name>(self, *args)`` for named
    timers; a generator or ``async`` handler is refused with
    :class:`~course_lib.sim.errors.NodeDefinitionError`.
    """

    #: Names of attributes that survive a crash (as if persisted to disk).
    durable: tuple[str, ...] = ()

    #: Names of ``on_`` methods that are hooks the class calls itself with no
    #: argument (``on_start``, a framework's ``on_election_timeout``), not
    #: message handlers; a message of such a type is refused.
    hooks: tuple[str, ...] = ("on_start",)
    _handlers: dict = {}
    _dispatch_hooks = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hooks = cls.hooks
        if isinstance(hooks, str) or not all(isinstance(h, str) for h in hooks):
            raise NodeDefinitionError(f"{cls.__name__}.hooks={hooks!r} must be a tuple of method names")
        if "on_start" not in hooks:
            cls.hooks = ("on_start",) + tuple(hooks)
        cls._handlers = {}  # message type -> handler function, filled as messages arrive
        # A class that overrides _receive (a test double) gets it called for every message.
        cls._dispatch_hooks = cls._receive is not Node._receive
        for name, fn in vars(cls).items():
            if not inspect.isfunction(fn):
                continue
            if name in cls.hooks:
                _check_handler(cls, name, fn, 0)
            elif name.startswith("on_"):
                _check_handler(cls, name, fn, 1)
            elif name.startswith("timer_"):
                _check_handler(cls, name, fn, None)

    def __new__(cls, *args: Any, **kwargs: Any) -> "Node":
        raise TypeError(
            f"create nodes with sim.add_node({cls.__name__}, node_id, ...), "
            f"not {cls.__name__}(...): the simulation must own every node"
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up volatile state; the framework has already attached ``id``, ``rng``, ``clock``."""

    # -- framework construction ---------------------------------------------------
    @classmethod
    def _create(cls, sim: "Simulation", node_id: Any, args: tuple, kwargs: dict,
                clock_offset: float, clock_drift: float) -> "Node":
        from .simulation import rng_name
        node = object.__new__(cls)
        node._sim = sim
        node._id = node_id
        tix = sim.trace._node_ix(node_id)
        node._tnode = tix << 5  # this node's place in a trace row, as sender
        sim._peer_code[node_id] = tix << 25  # and as receiver: read at each send, so kept in one
        # small dict rather than on the receiver (one cache miss less per send with 1000 nodes)
        node._rng = sim.rng_for(rng_name("node", node_id))
        node._net_rng = sim.rng_for(rng_name("net", node_id))
        node._clock = PhysicalClock(lambda: sim.env.now, offset=clock_offset, drift=clock_drift)
        node._clock._on_rate_change = node._retime_timers
        node._storage = Storage()
        node._crashed = False
        node._incarnation = 0
        node._pending = {}
        node._timers = {}
        node._paused = False
        node._blocked = False  # crashed or paused: the slow path of a delivery
        node._held = []
        node._held_timers = set()
        node._init_args = args
        node._init_kwargs = kwargs
        sim._current = node  # __init__ may read self.rng, never send
        try:
            cls.__init__(node, *args, **kwargs)
        finally:
            sim._current = None
        node._check_durable_declared()
        return node

    def _check_durable_declared(self) -> None:
        durable = type(self).durable
        if isinstance(durable, str) or not all(isinstance(n, str) for n in durable):
            raise InvalidArgumentType(
                f"{type(self).__name__}.durable={durable!r} must be a tuple of attribute names"
            )
        missing = [n for n in durable if not hasattr(self, n)]
        if missing:
            raise AttributeError(
                f"{type(self).__name__}.durable names {missing} but __init__ of node "
                f"{self._id!r} did not set them"
            )

    # -- identity and environment ---------------------------------------------------
    @property
    def id(self) -> Any:
        """This node's id."""
        return self._id

    @property
    def sim(self) -> "Simulation":
        """The simulation this node lives in (tests and harnesses; nodes rarely need it)."""
        return self._sim

    @property
    def rng(self) -> random.Random:
        """This node's own random generator, derived from the simulation's seed."""
        return self._rng

    @property
    def clock(self) -> PhysicalClock:
        """This node's physical clock (may be offset, drift and jump)."""
        return self._clock

    @property
    def storage(self) -> Storage:
        """This node's disk: a dict that survives crashes."""
        return self._storage

    @property
    def peers(self) -> list:
        """The ids of every other node in the simulation, in the order they were added."""
        return [n for n in self._sim._nodes if n != self._id]

    @property
    def crashed(self) -> bool:
        """Whether the node is down."""
        return self._crashed

    @property
    def paused(self) -> bool:
        """Whether the node is in a stop-the-world pause (see :meth:`Nemesis.pause`)."""
        return self._paused

    @property
    def pending(self) -> list[Request]:
        """The requests this node is still waiting on (not answered, timed out or cancelled)."""
        return list(self._pending.values())

    @property
    def incarnation(self) -> int:
        """How many times this node has restarted."""
        return self._incarnation

    # -- hooks ------------------------------------------------------------------------
    def on_start(self) -> None:
        """Run when the simulation starts and after each restart: start timers, send hellos."""

    # -- messaging ----------------------------------------------------------------------
    def send(self, dst: Any, msg: Message | str, /, **fields: Any) -> Message:
        """Send a message to node ``dst``; returns the message as it travels.

        Args:
            dst: the receiving node's id.
            msg: a :class:`Message`, or a type name with the fields as keywords:
                ``self.send("b", "replicate", key="x", value=1)``.

        Raises:
            InvalidArgument: ``dst`` is not a node of this simulation.
            NodeCrashedError: this node is crashed.
        """
        # The hot path of every run: keep it flat (see benchmarks/bench_delivery.py).
        sim = self._sim
        if self._crashed:
            raise NodeCrashedError(f"node {self._id!r} is crashed and cannot send")
        try:
            peer = sim._peer_code[dst]  # every node has one: this also checks dst
        except (KeyError, TypeError):  # unknown, or unhashable (a list of peers): say so plainly
            sim.check_node("dst", dst)
        if dst is True or dst is False:  # True == 1: never deliver to node 1 by mistake
            sim.check_node("dst", dst)
        sim._sent += 1
        msg_id = sim._sent
        if msg_id > sim._max_events:  # the event budget counts sends: every delivery follows one
            sim._over_budget()
        traced = sim._traced
        if msg.__class__ is str:  # build the wire message from the keywords we own
            if traced:  # a type with a name in the trace has been checked already
                name = sim._name_code.get(msg)
                if name is None:
                    check_type_name(msg)
                    name = sim.trace._name(msg)
            elif msg not in _CHECKED_TYPES:
                check_type_name(msg)
                _CHECKED_TYPES.add(msg)
            frozen = True
            for key, value in fields.items():
                if key in _RESERVED or key[0] == "_":
                    _check(msg, fields)  # raises the full error
                if frozen and value.__class__ not in _ATOMIC and not is_immutable(value):
                    frozen = False
            if not frozen:
                fields = copy.deepcopy(fields)
                fields["_frozen"] = False
            fields["type"] = msg
            fields["src"] = self._id
            fields["dst"] = dst
            fields["id"] = msg_id
            wire = _new(Message if frozen else SlowMessage)
            _set(wire, "__dict__", fields)
        else:
            wire = _as_message(msg, fields)._stamped(self._id, dst, msg_id, None)
            if traced:
                name = sim.trace._name(wire.type)
        now = sim.env._now
        if traced:
            sim._tb_append(now)
            sim._cb_append(SEND_SEQ | self._tnode | peer | name)
            if not msg_id & 255:  # pack the times often: their floats are then reused while hot
                sim.trace._flush()
        delay = sim._fast_delay
        if delay is not None and not sim._net_faults:  # a plain network: no loss, no fault
            heappush(sim._queue, (now + delay, NORMAL, next(sim._eid), wire))
        else:
            sim.network._route(self, wire, now)
        if sim._crash_points:  # a test asked for a crash right after some send
            sim._crash_point_reached(self, wire)
        return wire

    def broadcast(self, msg: Message | str, /, **fields: Any) -> list[Message]:
        """Send the message to every peer (not to this node), in the order peers were added."""
        message = _as_message(msg, fields)
        return [self.send(dst, message) for dst in self.peers]

    def reply(self, request: Message, msg: Message | str, /, **fields: Any) -> Message:
        """Answer ``request`` (a message this node received) with a message to its sender."""
        if not isinstance(request, Message) or request.id is None:
            raise InvalidArgumentType(f"request={request!r} must be a message this node received")
        if request.dst != self._id:
            raise InvalidArgument(f"request={request!r} was sent to {request.dst!r}, not to this "
                                  f"node {self._id!r}: only its receiver can reply to it")
        try:
            wire = self.send(request.src, msg, **fields)
        except CrashedInHandler as crash:  # a crash point right after this send: it left as a reply
            _mark_reply(crash.msg, request)
            raise
        _mark_reply(wire, request)
        return wire

    def request(self, dst: Any, msg: Message | str, /, *, timeout: float,
                on_reply: Callable[[Message], Any],
                on_timeout: Callable[[Message], Any] | None = None, **fields: Any) -> Request:
        """Send a request and call ``on_reply(reply)`` or, after ``timeout``, ``on_timeout(request)``.

        The receiver answers with ``self.reply(msg, ...)``. A timeout is an
        **indefinite** failure: the request or its reply may have been lost or
        delayed, so the receiver may or may not have acted on it; retry only
        what is safe to repeat (idempotent). A reply that says "no" (a message
        type you define, such as ``"rejected"``) is a **definite** failure.
        Replies arriving after the timeout, after :meth:`Request.cancel`, or
        twice, are discarded and traced as drops with reason ``"late reply"``,
        unless this node also has an ``on_<type>`` handler for the reply's
        type, which then receives them as ordinary messages.
        Choose ``timeout`` longer than the round trip: a reply that arrives at
        the very instant the timeout expires comes too late (with a latency
        of 1, a timeout of 2 always fires first).

        Raises:
            InvalidArgument: ``timeout`` is not a positive number, or ``dst`` is unknown.
        """
        check_number("timeout", timeout, low=0, low_open=True, what="a positive finite number")
        check_callable("on_reply", on_reply, "on_reply(reply)")
        if on_timeout is not None:
            check_callable("on_timeout", on_timeout, "on_timeout(request)")
        _refuse_generator("on_reply", on_reply)
        _refuse_generator("on_timeout", on_timeout)
        try:
            wire = self.send(dst, msg, **fields)
        except CrashedInHandler as crash:  # a crash point right after this send: it left as a request
            crash.msg.__dict__["_rpc"] = True
            raise
        wire.__dict__["_rpc"] = True
        req = Request(self, wire, on_reply, on_timeout)
        self._pending[wire.id] = req
        req.timer = self.set_timer(timeout, self._request_timed_out, wire.id,
                                   name=f"timeout:{wire.type}")
        return req

    def _request_timed_out(self, msg_id: int) -> None:
        req = self._pending.pop(msg_id, None)
        if req is None or req.done:
            return
        req.done = True
        if req.on_timeout is not None:
            req.on_timeout(req.msg)

    # -- timers ---------------------------------------------------------------------------
    def set_timer(self, delay: float, callback: Callable | str, *args: Any, name: str | None = None) -> Timer:
        """Call ``callback(*args)`` once after ``delay`` on this node's clock; returns the :class:`Timer`.

        ``callback`` is a callable, or the name of a timer: ``set_timer(5, "election")``
        calls ``self.timer_election()``. Timers have their own names, apart from
        message types: a timer ``"tick"`` and a message ``"tick"`` never share a method.

        Raises:
            InvalidArgument: ``delay`` is negative or not a finite number.
        """
        check_number("delay", delay, low=0, what="a finite delay >= 0")
        return self._schedule_timer(delay, callback, args, name, None)

    def every(self, interval: float, callback: Callable | str, *args: Any, name: str | None = None) -> Timer:
        """Call ``callback(*args)`` every ``interval`` (first after one interval) until cancelled.

        Raises:
            InvalidArgument: ``interval`` is not a positive finite number.
        """
        check_number("interval", interval, low=0, low_open=True, what="a positive finite interval")
        return self._schedule_timer(interval, callback, args, name, float(interval))

    def _schedule_timer(self, delay: Any, callback: Any, args: tuple, name: str | None,
                        interval: float | None) -> Timer:
        if self._crashed:
            raise NodeCrashedError(f"node {self._id!r} is crashed and cannot set timers")
        if name is not None and not isinstance(name, str):
            raise InvalidArgumentType(f"name={name!r} must be a str or None")
        if isinstance(callback, str):
            timer_name = name or callback
            method = getattr(self, "timer_" + check_type_name(callback, "callback"), None)
            if method is None:
                raise InvalidArgument(
                    f"callback={callback!r}: node {self._id!r} ({type(self).__name__}) has no "
                    f"method timer_{callback} for the timer {callback!r}"
                )
            callback = method
        elif callable(callback):
            _refuse_generator("callback", callback)
            timer_name = name or getattr(callback, "__name__", "timer")
        else:
            raise InvalidArgumentType(f"callback={callback!r} must be callable or a timer name")
        timer = Timer(self, callback, args, timer_name, interval, self._incarnation)
        self._timers[timer] = None
        self._arm(timer, float(delay))
        return timer

    def _arm(self, timer: Timer, local_delay: float) -> None:
        sim = self._sim
        true_delay = local_delay / (1.0 + self._clock.drift)
        timer.due = sim.env.now + true_delay
        timer.generation += 1
        heappush(sim._queue, (sim.env._now + true_delay, NORMAL, next(sim._eid),
                              (sim._fire_timer, (timer, timer.generation))))

    def _retime_timers(self, old_drift: float, new_drift: float) -> None:
        """The clock's rate changed: armed timers come due after the same *local* time."""
        now = self._sim.env.now
        for timer in list(self._timers):
            if not timer.active:
                continue
            local_left = max(0.0, timer.due - now) * (1.0 + old_drift)
            self._arm(timer, local_left)

    def _fire_held_timer(self, timer: Timer) -> None:
        self._held_timers.discard(timer)
        if not timer.active:
            return
        if timer.interval is None:
            timer.active = False
            self._timers.pop(timer, None)
        self._call(timer.callback, timer.args, f"timer {timer.name!r}")

    # -- bookkeeping ------------------------------------------------------------------------
    def record(self, name: str, **data: Any) -> None:
        """Add a custom event to the trace (state changes, client operations, decisions).

        The data is copied as it is now: changing a recorded list later does not change the trace.
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgumentType(f"name={name!r} must be a non-empty str naming the event")
        self._sim.trace.record(self._sim.env.now, "custom", self._id, None, name, None,
                               data or None)

    # -- framework: delivery ---------------------------------------------------------------
    def _handler_for(self, msg_type: str) -> Callable:
        name = "on_" + msg_type
        handler = getattr(self, name, None)
        if name in type(self).hooks:
            raise NoHandlerError(
                f"node {self._id!r} ({type(self).__name__}) got a {msg_type!r} message, but {name} "
                f"is a hook the node calls itself, not a message handler; name the message type "
                f"differently")
        if handler is None:
            have = sorted(n for n in dir(type(self))
                          if n.startswith("on_") and n not in type(self).hooks)
            raise NoHandlerError(
                f"node {self._id!r} ({type(self).__name__}) has no handler on_{msg_type} for a "
                f"{msg_type!r} message; its handlers are {have}"
            )
        return handler

    def _receive(self, msg: Message) -> None:
        if msg.reply_to is not None:
            req = self._pending.pop(msg.reply_to, None)
            if req is not None and not req.done:
                req.done = True
                if req.timer is not None:
                    req.timer.cancel()
                self._call(req.on_reply, (msg._delivery_copy(),), f"reply handler for {msg.type!r}")
                return
            if msg._rpc and self._handlers.get(msg.type) is None \
                    and getattr(self, "on_" + msg.type, None) is None:
                if self._sim.trace._enabled:
                    self._sim.trace._ref(self._sim.env._now, DROP_LATE, msg.id)
                return
        handler = self._handlers.get(msg.type)
        if handler is None:
            handler = self._handler_function(msg.type)  # raises the helpful error if there is none
        if not msg._frozen:
            msg = msg._delivery_copy()
        try:
            handler(self, msg)
        except SimulationError:
            raise
        except Exception as exc:  # a learner's bug: say where and when
            raise HandlerError(self._id, "on_" + msg.type, self._sim.env.now, exc, self._sim) from exc

    def _inline_handler(self, msg_type: str) -> Callable:
        """The handler the simulator's delivery path calls: ``_receive`` itself if a class overrides it."""
        if type(self)._dispatch_hooks:  # a test double overriding _receive: not cached
            return _call_receive
        return self._handler_function(msg_type)

    def _handler_function(self, msg_type: str) -> Callable:
        """Return the handler function for ``msg_type`` and remember it for the class, or raise."""
        self._handler_for(msg_type)
        name = "on_" + msg_type
        function = inspect.getattr_static(type(self), name, None)
        if not inspect.isfunction(function):  # on the instance, or a static or class method
            return lambda node, msg: getattr(node, name)(msg)
        type(self)._handlers[msg_type] = function
        return function

    def _call(self, fn: Callable, args: tuple, where: str) -> None:
        try:
            fn(*args)
        except (HandlerError, NoHandlerError, SimulationError):
            raise
        except Exception as exc:  # a learner's bug: say where and when
            raise HandlerError(self._id, where, self._sim.env.now, exc, self._sim) from exc

    # -- framework: crash and restart --------------------------------------------------------
    def _do_crash(self) -> dict:
        saved = {}
        for name in type(self).durable:
            try:
                saved[name] = copy.deepcopy(getattr(self, name))
            except Exception as exc:
                raise HandlerError(self._id, f"saving durable attribute {name!r} at a crash",
                                   self._sim.env.now, exc, self._sim) from exc
        self._crashed = True
        self._blocked = True
        self._pending = {}
        self._timers = {}
        self._paused = False
        self._held = []
        self._held_timers = set()
        return saved

    def _do_restart(self, saved: dict) -> None:
        keep = {name: self.__dict__[name] for name in _FRAMEWORK_ATTRS}
        self.__dict__.clear()
        self.__dict__.update(keep)
        self._crashed = False
        self._blocked = False
        self._incarnation += 1
        self._pending = {}
        sim = self._sim
        previous, sim._current = sim._current, self
        try:
            type(self).__init__(self, *self._init_args, **self._init_kwargs)
        except Exception as exc:
            raise HandlerError(self._id, "__init__ at a restart", sim.env.now, exc, sim) from exc
        finally:
            sim._current = previous
        for name, value in saved.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        state = " crashed" if getattr(self, "_crashed", False) else ""
        return f"<{type(self).__name__} {getattr(self, '_id', '?')!r}{state}>"


def _mark_reply(wire: Message, request: Message) -> None:
    wire.__dict__["reply_to"] = request.id  # in flight: read when it arrives
    _set(wire, "__class__", SlowMessage)  # replies take the general delivery path
    if request._rpc:
        wire.__dict__["_rpc"] = True  # answers a request(): the sender may drop it as late


def _call_receive(node: Node, msg: Message) -> None:
    node._receive(msg)


def _refuse_generator(name: str, fn: Any) -> None:
    if fn is None:
        return
    target = getattr(fn, "__func__", fn)
    if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
        raise InvalidArgumentType(f"{name}={fn!r} is an async function: the simulator never awaits "
                                  "it, so its body would never run; make it a plain def")
    if inspect.isgeneratorfunction(target):
        raise InvalidArgumentType(f"{name}={fn!r} is a generator (it contains yield), so its body "
                                  "would never run; make it a plain function")


def _as_message(msg: Any, fields: dict) -> Message:
    if isinstance(msg, Message):
        if fields:
            raise InvalidArgumentType(
                f"pass fields either inside the Message or as keywords, not both (got {sorted(fields)})"
            )
        return msg
    if isinstance(msg, str):
        return Message(msg, **fields)
    raise InvalidArgumentType(f"msg={msg!r} must be a Message or a message type name such as 'ping'")
