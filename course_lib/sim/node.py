"""The node base class: what a learner subclasses.

The node contract (read this before writing a node):

* **Handlers run to completion.** ``on_<type>(self, msg)`` is called for each
  delivered message of that type, timer callbacks when their timer fires; each
  runs in zero simulated time, and no other handler of any node runs meanwhile.
  Never sleep, block, loop waiting for a message or start threads: set a timer
  and return instead.
* **Only simulated time and seeded randomness.** Read time with
  ``self.clock.now()`` (this node's own, possibly wrong, clock) and draw random
  numbers from ``self.rng``. Never the wall clock or the global ``random`` module:
  the same seed must give the same run.
* **Send nothing from ``__init__``.** The constructor sets up state only; start
  timers and send first messages in :meth:`Node.on_start`, which runs when the
  simulation starts and again after every restart.
* **Crashes lose volatile state.** After :meth:`crash` and :meth:`restart`
  the node is rebuilt by calling ``__init__`` again; only the attributes named
  in the class attribute ``durable`` and the contents of ``self.storage``
  survive, as if written to disk at the end of each handler.

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
import math
import random
from typing import TYPE_CHECKING, Any, Callable

from simpy.events import Timeout

from .clock import PhysicalClock
from .errors import HandlerError, NoHandlerError
from .messages import Message, check_type_name

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

# Attributes the framework owns; they survive a restart and are not the learner's.
_FRAMEWORK_ATTRS = (
    "_sim", "_id", "_rng", "_net_rng", "_clock", "_storage", "_crashed", "_incarnation",
    "_pending", "_init_args", "_init_kwargs", "_timers",
)
_HANDLER_NAMES: dict[str, str] = {}


class Storage(dict):
    """A node's disk: a dict whose contents survive crashes and restarts."""

    def __repr__(self) -> str:
        return f"Storage({dict.__repr__(self)})"


class Timer:
    """A handle on a scheduled one-shot or periodic timer; call :meth:`cancel` to stop it."""

    __slots__ = ("node", "callback", "args", "name", "interval", "active", "incarnation", "due")

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

    def cancel(self) -> None:
        """Stop the timer; a cancelled timer never fires again. Cancelling twice is harmless."""
        self.active = False

    def __repr__(self) -> str:
        state = "active" if self.active else "cancelled"
        kind = f"every {self.interval:g}" if self.interval else "once"
        return f"<Timer {self.name!r} of {self.node.id!r} {kind}, due {self.due:g}, {state}>"


class Request:
    """A request awaiting its reply; see :meth:`Node.request`."""

    __slots__ = ("msg", "on_reply", "on_timeout", "timer", "done")

    def __init__(self, msg: Message, on_reply: Callable, on_timeout: Callable | None) -> None:
        self.msg = msg
        self.on_reply = on_reply
        self.on_timeout = on_timeout
        self.timer: Timer | None = None
        self.done = False

    def cancel(self) -> None:
        """Stop waiting: neither ``on_reply`` nor ``on_timeout`` will be called."""
        self.done = True
        if self.timer is not None:
            self.timer.cancel()

    def __repr__(self) -> str:
        return f"<Request {self.msg.type!r} #{self.msg.id} to {self.msg.dst!r}{' done' if self.done else ''}>"


class Node:
    """Base class of every simulated process; subclass it and add ``on_<type>`` handlers.

    Create nodes with :meth:`Simulation.add_node`, never by calling the class.
    """

    #: Names of attributes that survive a crash (as if persisted to disk).
    durable: tuple[str, ...] = ()

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
        node = object.__new__(cls)
        node._sim = sim
        node._id = node_id
        node._rng = sim.rng_for(f"node/{node_id}")
        node._net_rng = sim.rng_for(f"net/{node_id}")
        node._clock = PhysicalClock(lambda: sim.env.now, offset=clock_offset, drift=clock_drift)
        node._storage = Storage()
        node._crashed = False
        node._incarnation = 0
        node._pending = {}
        node._timers = []
        node._init_args = args
        node._init_kwargs = kwargs
        cls.__init__(node, *args, **kwargs)
        node._check_durable_declared()
        return node

    def _check_durable_declared(self) -> None:
        durable = type(self).durable
        if isinstance(durable, str) or not all(isinstance(n, str) for n in durable):
            raise TypeError(
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
            ValueError: ``dst`` is not a node of this simulation.
        """
        if type(msg) is str:
            return self._sim.network._transmit(self, dst, msg, None, fields)
        return self._sim.network._transmit(self, dst, _as_message(msg, fields), None)

    def broadcast(self, msg: Message | str, /, **fields: Any) -> list[Message]:
        """Send the message to every peer (not to this node)."""
        message = _as_message(msg, fields)
        net = self._sim.network
        return [net._transmit(self, dst, message, None) for dst in self.peers]

    def reply(self, request: Message, msg: Message | str, /, **fields: Any) -> Message:
        """Answer ``request`` (a message this node received) with a message to its sender."""
        if not isinstance(request, Message) or request.id is None:
            raise TypeError(f"request={request!r} must be a message this node received")
        return self._sim.network._transmit(self, request.src, _as_message(msg, fields), request.id)

    def request(self, dst: Any, msg: Message | str, /, *, timeout: float,
                on_reply: Callable[[Message], Any],
                on_timeout: Callable[[Message], Any] | None = None, **fields: Any) -> Request:
        """Send a request and call ``on_reply(reply)`` or, after ``timeout``, ``on_timeout(request)``.

        The receiver answers with ``self.reply(msg, ...)``. A timeout is an
        **indefinite** failure: the request or its reply may have been lost or
        delayed, so the receiver may or may not have acted on it; retry only
        what is safe to repeat (idempotent). A reply that says "no" (a message
        type you define, such as ``"rejected"``) is a **definite** failure.
        Replies arriving after the timeout, or twice, are discarded and traced
        as drops with reason ``"late reply"``, unless this node also has an
        ``on_<type>`` handler for the reply's type, which then receives them as
        ordinary messages.

        Raises:
            ValueError: ``timeout`` is not a positive number, or ``dst`` is unknown.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (0 < timeout < math.inf):
            raise ValueError(f"timeout={timeout!r} must be a positive number")
        if not callable(on_reply):
            raise TypeError(f"on_reply={on_reply!r} must be callable")
        if on_timeout is not None and not callable(on_timeout):
            raise TypeError(f"on_timeout={on_timeout!r} must be callable or None")
        wire = self._sim.network._transmit(self, dst, _as_message(msg, fields), None)
        req = Request(wire, on_reply, on_timeout)
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

        ``callback`` is a callable or the name of a timer, which calls ``self.on_<name>()``.

        Raises:
            ValueError: ``delay`` is negative or not a finite number.
        """
        return self._schedule_timer(delay, callback, args, name, None)

    def every(self, interval: float, callback: Callable | str, *args: Any, name: str | None = None) -> Timer:
        """Call ``callback(*args)`` every ``interval`` (first after one interval) until cancelled.

        Raises:
            ValueError: ``interval`` is not a positive finite number.
        """
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not (0 < interval < math.inf):
            raise ValueError(f"interval={interval!r} must be a positive number")
        return self._schedule_timer(interval, callback, args, name, float(interval))

    def _schedule_timer(self, delay: Any, callback: Any, args: tuple, name: str | None,
                        interval: float | None) -> Timer:
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not (0 <= delay < math.inf):
            raise ValueError(f"delay={delay!r} must be a finite number >= 0")
        if self._crashed:
            raise RuntimeError(f"node {self._id!r} is crashed and cannot set timers")
        if isinstance(callback, str):
            timer_name = name or callback
            method = getattr(self, "on_" + check_type_name(callback), None)
            if method is None:
                raise AttributeError(
                    f"node {self._id!r} ({type(self).__name__}) has no method on_{callback} "
                    f"for timer {callback!r}"
                )
            callback = method
        elif callable(callback):
            timer_name = name or getattr(callback, "__name__", "timer")
        else:
            raise TypeError(f"callback={callback!r} must be callable or a timer name")
        timer = Timer(self, callback, args, timer_name, interval, self._incarnation)
        self._arm(timer, float(delay))
        return timer

    def _arm(self, timer: Timer, local_delay: float) -> None:
        sim = self._sim
        true_delay = local_delay / (1.0 + self._clock.drift)
        timer.due = sim.env.now + true_delay
        Timeout(sim.env, true_delay, timer).callbacks.append(sim._fire_timer)

    # -- bookkeeping ------------------------------------------------------------------------
    def record(self, name: str, **data: Any) -> None:
        """Add a custom event to the trace (state changes, client operations, decisions)."""
        self._sim.trace.record(self._sim.env.now, "custom", self._id, None, name, None,
                               data or None)

    def crash(self) -> None:
        """Crash this node now (same as ``sim.crash(node.id)``)."""
        self._sim.crash(self._id)

    def restart(self) -> None:
        """Restart this node now (same as ``sim.restart(node.id)``)."""
        self._sim.restart(self._id)

    # -- framework: delivery ---------------------------------------------------------------
    def _handler_for(self, msg_type: str) -> Callable:
        name = _HANDLER_NAMES.get(msg_type)
        if name is None:
            name = _HANDLER_NAMES[msg_type] = "on_" + msg_type
        handler = getattr(self, name, None)
        if handler is None:
            have = sorted(n for n in dir(type(self)) if n.startswith("on_") and n != "on_start")
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
                    req.timer.active = False
                self._call(req.on_reply, (msg._delivery_copy(),), f"reply handler for {msg.type!r}")
                return
            if _is_answer_only(self, msg.type):
                self._sim.trace.record(self._sim.env.now, "drop", self._id, msg.src, msg.type,
                                       msg.id, "late reply")
                return
        msg_type = msg.type
        name = _HANDLER_NAMES.get(msg_type)
        if name is None:
            name = _HANDLER_NAMES[msg_type] = "on_" + msg_type
        handler = getattr(self, name, None)
        if handler is None:
            handler = self._handler_for(msg_type)  # raises the helpful error
        if not msg._frozen:
            msg = msg._delivery_copy()
        try:
            handler(msg)
        except (HandlerError, NoHandlerError):
            raise
        except Exception as exc:  # a learner's bug: say where and when
            raise HandlerError(self._id, name, self._sim.env.now, exc) from exc

    def _call(self, fn: Callable, args: tuple, where: str) -> None:
        try:
            fn(*args)
        except (HandlerError, NoHandlerError):
            raise
        except Exception as exc:  # a learner's bug: say where and when
            raise HandlerError(self._id, where, self._sim.env.now, exc) from exc

    # -- framework: crash and restart --------------------------------------------------------
    def _do_crash(self) -> dict:
        saved = {name: copy.deepcopy(getattr(self, name)) for name in type(self).durable}
        self._crashed = True
        self._pending = {}
        return saved

    def _do_restart(self, saved: dict) -> None:
        keep = {name: self.__dict__[name] for name in _FRAMEWORK_ATTRS}
        self.__dict__.clear()
        self.__dict__.update(keep)
        self._crashed = False
        self._incarnation += 1
        self._pending = {}
        type(self).__init__(self, *self._init_args, **self._init_kwargs)
        for name, value in saved.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        state = " crashed" if getattr(self, "_crashed", False) else ""
        return f"<{type(self).__name__} {getattr(self, '_id', '?')!r}{state}>"


def _is_answer_only(node: Node, msg_type: str) -> bool:
    """A reply with no pending request and no handler of its own is a late reply."""
    return getattr(node, "on_" + msg_type, None) is None


def _as_message(msg: Any, fields: dict) -> Message:
    if isinstance(msg, Message):
        if fields:
            raise TypeError(
                f"pass fields either inside the Message or as keywords, not both (got {sorted(fields)})"
            )
        return msg
    if isinstance(msg, str):
        return Message(msg, **fields)
    raise TypeError(f"msg={msg!r} must be a Message or a message type name such as 'ping'")
