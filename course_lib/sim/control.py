"""Drive a simulation one chosen event at a time: the simulator's side of a schedule search.

In an ordinary run the clock decides what happens next. A :class:`Controlled`
simulation lets its caller decide: :meth:`Controlled.choices` lists every
:class:`Step` that may happen next (any message in flight may be delivered, any
armed timer may fire, and where the caller allows it a message may be delivered
twice and a node may crash or restart), and :meth:`Controlled.take` does one.

**Time is abstract.** Timers fire in any order relative to messages and to
each other, whatever their delays, as in DSLabs' model checker: a schedule
search asks what *can* happen, not what usually does. During a search the clock
stands still at the time the search started (a protocol whose safety depends on
clock readings, such as a lease, is outside what a search can check); when a
schedule is replayed to be drawn, step ``k`` happens at time ``k``.

**States are values.** :meth:`Controlled.save` returns a :class:`Saved` state
(every node's state, the messages in flight, the checkers' memory in
``sim.memo``, the crash bookkeeping) and :meth:`Controlled.load` puts one back;
two saved states with the same :attr:`Saved.fingerprint` are the same state. A
node's state is, by default, every attribute it set itself (not the
framework's), plus whether it is crashed, its armed timers (name and arguments),
its pending requests and its ``storage``. A node class may say what its state is
instead by defining ``search_state(self)``, returning a hashable value built from
what matters (the framework parts are still added). Objects kept in ``sim.memo``
may do the same, and may name the attributes that are scratch, not state (a cache,
a stamp), in a class attribute ``search_transient``: those are neither saved nor
compared, and an object restored from a saved state has its class's value for them.
Each node's random generator is saved and restored with it, so the draws along a
schedule are the draws a replay sees; they are not part of the fingerprint.

**What a search does not model:** pauses, partitions and network loss (for
safety, a message lost is a message never delivered, which the search covers by
not delivering it), clock drift and jumps, and calls scheduled with
``sim.after`` or ``sim.at``, which run at once, in the order they were scheduled.

This module is the simulator's own: :mod:`course_lib.search` builds the searches
on it, using only what is public here.

Example:
    >>> from course_lib.sim import Simulation, Node
    >>> class Ping(Node):
    ...     def on_start(self):
    ...         if self.id == "a":
    ...             self.send("b", "ping", n=1)
    ...     def on_ping(self, msg):
    ...         self.got = msg.n
    >>> sim = Simulation(seed=1)
    >>> _ = sim.add_nodes(Ping, ["a", "b"])
    >>> ctl = Controlled(sim)
    >>> [str(s) for s in ctl.choices()]
    ['b receives ping from a (n=1)']
    >>> ctl.take(ctl.choices()[0])
    >>> sim.node("b").got, ctl.choices()
    (1, [])
"""

from __future__ import annotations

import copy
import marshal
import random
from contextlib import contextmanager
from heapq import heappop
from operator import attrgetter, itemgetter
from types import BuiltinFunctionType, FunctionType
from types import MethodType as _METHOD
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from .errors import CrashedInHandler, SimulationError
from .messages import _ATOMIC, Message, SlowMessage
from .node import _FRAMEWORK_ATTRS, Node, Request, Storage, Timer
from .simulation import Simulation, _Watchdog
from .validation import InvalidArgument, InvalidArgumentType

_new = object.__new__

__all__ = ["Controlled", "Saved", "Step", "STEP_KINDS"]

#: What a step can be.
STEP_KINDS = ("deliver", "duplicate", "timer", "crash", "restart", "action")

# A node's attributes that are the framework's and never change while it lives (not saved).
_CONSTANT = frozenset({"_sim", "_id", "_tnode", "_rng", "_net_rng", "_clock", "_init_args",
                       "_init_kwargs"})
_LEARNER_SKIP = frozenset(_FRAMEWORK_ATTRS)


class Step(NamedTuple):
    """One thing that happens in a schedule, named by what it is (not by message ids).

    ``kind`` is one of :data:`STEP_KINDS`; ``node`` is the node it happens at (the
    receiver of a message, the owner of a timer, the node that crashes or
    restarts, the node an action is done at); ``peer`` the sender of a message;
    ``name`` the message type, the timer's name or the action's label; ``detail``
    the message's fields or the timer's arguments, as sorted ``(name, value)``
    pairs or a tuple.
    """

    kind: str
    node: Any
    peer: Any = None
    name: str | None = None
    detail: tuple = ()

    def __str__(self) -> str:
        if self.kind in ("deliver", "duplicate"):
            fields = ", ".join(f"{k}={v!r}" for k, v in self.detail)
            what = "receives" if self.kind == "deliver" else "receives a duplicate of"
            return f"{self.node} {what} {self.name} from {self.peer}" + (f" ({fields})" if fields else "")
        if self.kind == "timer":
            args = ", ".join(repr(a) for a in self.detail)
            return f"{self.node}: timer {self.name!r} fires" + (f" ({args})" if args else "")
        if self.kind == "action":
            return f"{self.node}: {self.name}"
        return f"{self.node} {'crashes' if self.kind == 'crash' else 'restarts'}"


def _message_step(kind: str, msg: Message) -> Step:
    d = msg.__dict__
    return Step(kind, d["dst"], d["src"], d["type"], tuple(sorted(msg.fields.items())))


class _NodeSaved:
    """One node's saved state: its attributes (``fast``: encoded, see :func:`_encode_node`;
    otherwise a copy), its generator's state, its fingerprint."""

    __slots__ = ("data", "rng", "fast", "_fp")

    def __init__(self, data: Any, rng: Any, fast: bool) -> None:
        self.data = data
        self.rng = rng
        self.fast = fast
        self._fp: int | None = None


class _MemoSaved:
    """The checkers' memory (``sim.memo``), saved: one record per key, and its frozen form."""

    __slots__ = ("records", "fz")

    def __init__(self, records: tuple, fz: Any) -> None:
        self.records = records
        self.fz = fz


class Saved:
    """A saved state of a controlled simulation (see :meth:`Controlled.save`). Never change one."""

    __slots__ = ("nodes", "inflight", "memos", "crash_state", "flight", "_fp")

    def __init__(self, nodes: tuple, inflight: tuple, memos: dict, crash_state: tuple) -> None:
        self.nodes = nodes
        self.inflight = inflight
        self.memos = memos
        self.crash_state = crash_state
        self.flight: int | None = None
        self._fp: int | None = None

    @property
    def fingerprint(self) -> int:
        """Equal for equal states: every node's state, the multiset of messages in flight, the checkers' memory."""
        if self._fp is None:
            flight = sum([_message_key(m) for m in self.inflight]) & _MASK64
            self._fp = _state_fp([n._fp for n in self.nodes], flight, self.memos.fz, self.crash_state)
        return self._fp

    @property
    def in_flight(self) -> int:
        """How many messages are in flight in this state."""
        return len(self.inflight)


class Controlled:
    """A simulation whose next event is chosen by the caller; see the module's documentation.

    Creating it runs what is due at once (every node's ``on_start``) and keeps
    the messages those send in flight.

    Args:
        sim: a simulation that has not run yet, with its nodes added (and its
            invariants registered); it is the Controlled's from now on.
        replay: run as a replay, to be read and drawn: the trace records as in
            an ordinary run and step ``k`` happens at time ``k``. Otherwise (a
            search) the trace keeps only the current step's events and the clock
            stands still.
        actions: what may be done to a node from outside, by label: ``call(node)``
            (a client submitting a command, say). A step ``Step("action", node_id,
            name=label)`` calls it at that node as if a handler ran there (what it
            sends goes into flight, an exception is the node's ``HandlerError``),
            then checks the invariants. Which actions :meth:`choices` offers is
            the caller's to say.

    Raises:
        InvalidArgument: ``sim`` has run already, or a fault such as a partition, a
            pause or a crash point is in place (a search does not model them).
    """

    def __init__(self, sim: Simulation, *, replay: bool = False,
                 actions: Mapping[str, Any] | None = None) -> None:
        if not isinstance(sim, Simulation):
            raise InvalidArgumentType(f"sim={sim!r} must be a Simulation")
        if actions is None:
            actions = {}
        if not isinstance(actions, Mapping):
            raise InvalidArgumentType(f"actions={actions!r} must be a mapping from labels to call(node)")
        for label, call in actions.items():
            if not isinstance(label, str) or not label:
                raise InvalidArgumentType(f"actions: label {label!r} must be a non-empty string")
            if not callable(call):
                raise InvalidArgumentType(f"actions[{label!r}]={call!r} must be callable as call(node)")
        self.actions = dict(actions)
        if sim.events_processed or sim.env.now:
            raise InvalidArgument(f"sim={sim!r} has run already: give the search a fresh simulation")
        if sim._net_faults or sim._pauses:
            raise InvalidArgument(f"sim={sim!r} has a partition or a pause in place: a search does not model them")
        if sim._crash_points:
            raise InvalidArgument(f"sim={sim!r} has crash points (crash_on_send): a search offers crashes as "
                                  "steps of its own and does not model them")
        self.sim = sim
        self.replay = bool(replay)
        self.steps_taken = 0
        self._nodes: list[Node] = list(sim._nodes.values())
        self._index = {node._id: i for i, node in enumerate(self._nodes)}
        self._consts = [{k: node.__dict__[k] for k in _CONSTANT if k in node.__dict__}
                        for node in self._nodes]
        self._inflight: list[Message] = []
        self._steps: dict[int, Step] = {}  # a message's key -> the step delivering it
        self._flight = 0  # the multiset of messages in flight, hashed: the sum of their keys (mod 2**64)
        self._loaded: list[_NodeSaved | None] = [None] * len(self._nodes)
        self._memo_loaded: _MemoSaved | None = None  # the saved memory equal to the live one, if any
        self._memo_before: _MemoSaved | None = None  # the saved memory equal to the live one before this step
        self._crash_loaded: tuple | None = None
        self._live_fp: list = [None] * len(self._nodes)  # fingerprints of changed nodes, not yet saved
        self._layouts: list[dict] = [{} for _ in self._nodes]  # per node: its shapes' _Layouts
        self._fz: dict = {}  # marshal bytes of a state's containers -> their frozen form (see _encode_node)
        self._dog: Any = None
        for node in self._nodes:  # a generator whose whole state is one int (see _SearchRandom)
            rng = node._rng
            if rng.__class__ is random.Random:
                state = rng.getrandbits(64)
                rng.__class__ = _SearchRandom
                rng._s = state
        sim._max_events = float("inf")  # the search bounds itself
        sim._fast_delay = 0.0           # every send goes straight into flight
        self._time = sim.env._now
        if not self.replay:
            sim._traced = False         # no send or delivery rows: positions restart at each step
            sim.trace._window = True
        self._memo = {id(sim): sim, id(sim.trace): sim.trace}
        for node in self._nodes:
            self._memo[id(node)] = node
        self._guard(self._drain)

    # -- what may happen ------------------------------------------------------------------------
    def choices(self, *, duplicates: bool = False, crashes: bool = False,
                restarts: bool = False, actions: Iterable[str] = ()) -> list[Step]:
        """Every step that may happen next, in a fixed order (messages as sent, then timers, then
        faults, then actions).

        Args:
            duplicates: also offer delivering a message in flight while keeping it in flight.
            crashes: also offer crashing each node that is up.
            restarts: also offer restarting each crashed node.
            actions: labels of actions (given at construction) to offer at each node that is up.
        """
        out: list[Step] = []
        seen: set = set()
        nodes, index = self._nodes, self._index
        for msg in self._inflight:
            if nodes[index[msg.dst]]._crashed:
                continue  # waits in flight until the node restarts
            key = _message_key(msg)
            if key in seen:
                continue  # two copies of one message: delivering either is the same step
            seen.add(key)
            step = self._steps.get(key)
            if step is None:
                step = self._steps[key] = _message_step("deliver", msg)
            out.append(step)
            if duplicates:
                out.append(step._replace(kind="duplicate"))
        for node in nodes:
            if node._crashed:
                continue
            for timer in node._timers:
                if timer.active:
                    step = Step("timer", node._id, None, timer.name, _timer_detail(node, timer))
                    if step not in out:
                        out.append(step)
        if crashes or restarts:
            for node in nodes:
                if crashes and not node._crashed:
                    out.append(Step("crash", node._id))
                elif restarts and node._crashed:
                    out.append(Step("restart", node._id))
        for label in actions:
            if label not in self.actions:
                raise InvalidArgument(f"actions: {label!r} is not one of this simulation's actions "
                                      f"{sorted(self.actions)}")
            for node in nodes:
                if not node._crashed:
                    out.append(Step("action", node._id, None, label))
        return out

    def take(self, step: Step) -> None:
        """Make ``step`` happen now, with every invariant checked after it.

        Raises:
            InvalidArgument: ``step`` is not possible in this state.
            InvariantViolation, HandlerError, ...: what the step caused.
        """
        if not isinstance(step, Step):
            raise InvalidArgumentType(f"step={step!r} must be a Step from choices()")
        self._guard(self._take, step)

    @contextmanager
    def watchdog(self) -> Iterator[None]:
        """Keep the simulation's watchdog running across many steps (a search starts it once).

        Without it, each :meth:`take` starts and stops the watchdog itself: a handler
        that loops forever is stopped either way (``handler_time_limit``).
        """
        dog = _Watchdog.start(self.sim) if self._dog is None else None
        if dog is not None:
            self._dog = dog
        try:
            yield
        finally:
            if dog is not None:
                self._dog = None
                dog.stop()

    def _guard(self, fn: Any, *args: Any) -> None:
        sim = self.sim
        if sim._running:
            raise SimulationError("a controlled simulation cannot take a step from inside a handler")
        watchdog = _Watchdog.start(sim) if self._dog is None else None
        sim._running = True
        try:
            fn(*args)
        finally:
            sim._running = False
            sim._current = None
            if watchdog is not None:
                watchdog.stop()

    def _take(self, step: Step) -> None:
        sim = self.sim
        self.steps_taken += 1
        sim._events += 1  # a step is an event: the watchdog sees the search progress
        if self.replay:
            self._time = float(self.steps_taken)
        else:
            sim.trace._reset_window()
        sim.env._now = self._time
        kind = step.kind
        try:
            if kind in ("deliver", "duplicate"):
                at, msg = self._find_message(step)
                node = self._nodes[self._index[msg.dst]]
                self._loaded[self._index[msg.dst]] = self._live_fp[self._index[msg.dst]] = None
                if kind == "deliver":
                    del self._inflight[at]  # by position: list.remove would compare messages by value
                    self._flight = (self._flight - _message_key(msg)) & _MASK64
                if not self.replay:  # one row naming the receiver, for the checkers
                    sim.trace.record(self._time, "deliver", node._id, msg.src, msg.type, msg.id)
                sim._arrive_slow(msg, self._time)
            elif kind == "timer":
                timer = self._find_timer(step)
                self._loaded[self._index[step.node]] = self._live_fp[self._index[step.node]] = None
                sim._fire_timer(timer, timer.generation)
            elif kind in ("crash", "restart"):
                i = self._node_index(step)
                self._loaded[i] = self._live_fp[i] = None
                down = self._nodes[i]._crashed
                if (kind == "crash") == down:
                    raise InvalidArgument(f"step={step!r}: node {step.node!r} is {'down' if down else 'up'}")
                self._crash_loaded = None
                if kind == "crash":
                    sim.crash(step.node)
                    sim._check_after_event()
                else:
                    sim.restart(step.node)
            elif kind == "action":
                i = self._node_index(step)
                call = self.actions.get(step.name)
                if call is None:
                    raise InvalidArgument(f"step={step!r}: {step.name!r} is not one of this simulation's "
                                          f"actions {sorted(self.actions)}")
                node = self._nodes[i]
                if node._crashed:
                    raise InvalidArgument(f"step={step!r}: node {step.node!r} is down")
                self._loaded[i] = self._live_fp[i] = None
                sim._current = node
                node.record("action", label=step.name)
                node._call(call, (node,), f"action {step.name!r}")
                sim._check_after_event()
            else:
                raise InvalidArgument(f"step={step!r}: kind must be one of {STEP_KINDS}")
        except CrashedInHandler:  # the node reached a crash point (Simulation.crash_on_send)
            sim._current = None
            sim._check_after_event()
        self._memo_before, self._memo_loaded = self._memo_loaded, None
        self._drain()

    def _drain(self) -> None:
        """Move what the step sent into flight, forget timer entries, run calls due at once."""
        sim, queue = self.sim, self.sim._queue
        fire_timer = sim._fire_timer
        while queue:
            _, _, _, item = heappop(queue)
            cls = item.__class__
            if cls is Message or cls is SlowMessage:
                self._inflight.append(item)
                self._flight = (self._flight + _message_key(item)) & _MASK64
            elif cls is tuple:
                if item[0] == fire_timer:
                    continue  # armed timers are listed from the nodes themselves
                sim.env._now = self._time
                item[0](*item[1])
                self._loaded = [None] * len(self._nodes)  # a call may change any node
                self._live_fp = [None] * len(self._nodes)
                self._crash_loaded = None
            else:
                raise SimulationError(
                    f"a controlled simulation cannot run SimPy events ({item!r}): nodes must use "
                    "messages, timers and sim.after only")

    def _find_message(self, step: Step) -> tuple[int, Message]:
        want, steps = step[1:], self._steps
        for at, msg in enumerate(self._inflight):
            key = _message_key(msg)
            mine = steps.get(key)
            if mine is None:
                mine = steps[key] = _message_step("deliver", msg)
            if mine[1:] == want and not self._nodes[self._index[msg.dst]]._crashed:
                return at, msg
        raise InvalidArgument(f"step={step!r}: no such message is in flight to a node that is up")

    def _find_timer(self, step: Step) -> Timer:
        i = self._node_index(step)
        node = self._nodes[i]
        if not node._crashed:
            for timer in node._timers:
                if timer.active and timer.name == step.name and _timer_detail(node, timer) == step.detail:
                    return timer
        raise InvalidArgument(f"step={step!r}: node {step.node!r} has no such timer armed")

    def _node_index(self, step: Step) -> int:
        try:
            return self._index[step.node]
        except (KeyError, TypeError):
            raise InvalidArgument(f"step={step!r}: {step.node!r} is not a node of this simulation") from None

    # -- states ------------------------------------------------------------------------------------
    def _encode(self, i: int) -> _NodeSaved | None:
        """Node ``i``'s live state as a snapshot (the fast form), or None where only a copy will do."""
        node = self._nodes[i]
        got = _encode_node(node, node.__dict__, self._fz, self._layouts[i])
        if got is None:
            return None
        data, fp = got
        saved = _NodeSaved(data, node._rng.getstate(), True)
        saved._fp = fp
        return saved

    def _memo_state(self) -> _MemoSaved:
        """The checkers' memory, saved (once per state). A step that left it as it was (the same
        records as before the step) gets the saved memory it started from back, so restoring
        that state again costs nothing."""
        enc = self._memo_loaded
        if enc is None:
            records, fz = _snapshot_memos(self.sim._memos, self._fz, self._memo)
            before = self._memo_before
            enc = before if before is not None and before.records == records else _MemoSaved(records, fz)
            self._memo_loaded = enc
        return enc

    def fingerprint(self) -> int:
        """The current state's fingerprint, without saving it: equal to ``save().fingerprint``.

        A search asks this first and saves only states it has not seen.
        """
        fps = []
        for i, node in enumerate(self._nodes):
            saved = self._loaded[i]
            if saved is None:
                saved = self._loaded[i] = self._encode(i)
            if saved is not None:
                fps.append(saved._fp)
            else:  # a node whose state only a copy can save: fingerprint it live, copy it if saved
                fp = self._live_fp[i]
                if fp is None:
                    fp = self._live_fp[i] = _node_fp(node, node.__dict__)
                fps.append(fp)
        sim = self.sim
        crash = self._crash_loaded or (sim._durable_snapshots, sim._holds)
        return _state_fp(fps, self._flight, self._memo_state().fz, crash)

    def save(self) -> Saved:
        """Return the current state (nodes, messages in flight, checkers' memory, crash bookkeeping)."""
        sim = self.sim
        nodes = []
        for i, node in enumerate(self._nodes):
            saved = self._loaded[i]
            if saved is None:
                saved = self._loaded[i] = self._encode(i)
            if saved is None:
                memo = dict(self._memo)
                data = {k: (v if v.__class__ in _ATOMIC else _clone(v, memo))
                        for k, v in node.__dict__.items() if k not in _CONSTANT}
                saved = self._loaded[i] = _NodeSaved(data, node._rng.getstate(), False)
                fp = self._live_fp[i]
                saved._fp = fp if fp is not None else _node_fp(node, data)
            nodes.append(saved)
        memos = self._memo_state()
        crash_state = self._crash_loaded
        if crash_state is None:
            crash_state = self._crash_loaded = (_clone(sim._durable_snapshots, dict(self._memo)),
                                                {k: set(v) for k, v in sim._holds.items()})
        saved = Saved(tuple(nodes), tuple(self._inflight), memos, crash_state)
        saved.flight = self._flight
        return saved

    def load(self, saved: Saved) -> None:
        """Put ``saved`` back: every node, the messages in flight and the checkers' memory are as they were."""
        if not isinstance(saved, Saved):
            raise InvalidArgumentType(f"saved={saved!r} must come from save()")
        sim = self.sim
        for i, node in enumerate(self._nodes):
            mine = saved.nodes[i]
            if self._loaded[i] is mine:
                continue
            if mine.fast:
                node.__dict__ = _decode_node(node, mine.data)
            else:
                memo = dict(self._memo)
                data = {k: (v if v.__class__ in _ATOMIC else _clone(v, memo)) for k, v in mine.data.items()}
                data.update(self._consts[i])
                node.__dict__ = data
            node._rng.setstate(mine.rng)
            self._loaded[i] = mine
            self._live_fp[i] = None
        self._inflight = list(saved.inflight)
        self._flight = saved.flight
        if self._memo_loaded is not saved.memos:
            sim._memos.clear()
            sim._memos.update(_decode_memos(saved.memos, self._memo))
            self._memo_loaded = saved.memos
        if self._crash_loaded is not saved.crash_state:
            durable, holds = saved.crash_state
            sim._durable_snapshots = _clone(durable, dict(self._memo))
            sim._holds = {k: set(v) for k, v in holds.items()}
            self._crash_loaded = saved.crash_state

    @property
    def in_flight(self) -> list[Message]:
        """The messages in flight now, oldest first (a copy)."""
        return list(self._inflight)


_MASK64 = (1 << 64) - 1


class _SearchRandom(random.Random):
    """A node's generator in a controlled simulation: splitmix64 over one int, its whole state.

    Saving and restoring it with the node's state costs nothing (a Mersenne Twister's state is
    625 words: copying it was a fifth of a search's time). The draws are not those of an
    ordinary run with the same seed, which does not matter where time is abstract; a search
    and the replay of its schedule draw the same numbers. Every draw goes through
    :meth:`random` or :meth:`getrandbits`.
    """

    _s = 0

    def seed(self, a: Any = None, version: int = 2) -> None:
        if isinstance(a, int):
            self._s = a & _MASK64
        else:  # a str, bytes or None: through a Mersenne Twister, deterministically for str and bytes
            self._s = random.Random(a).getrandbits(64)

    def getstate(self) -> int:
        return self._s

    def setstate(self, state: Any) -> None:
        self._s = state

    def _next(self) -> int:
        z = self._s = (self._s + 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next() >> 11) * (1.0 / 9007199254740992.0)

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        out, have = 0, 0
        while have < k:
            out = (out << 64) | self._next()
            have += 64
        return out >> (have - k)


def _timer_detail(node: Node, timer: Timer) -> tuple:
    """A timer's arguments; a request's timeout is named by the request's fields (ids differ per run)."""
    if getattr(timer.callback, "__func__", None) is Node._request_timed_out:
        req = node._pending.get(timer.args[0])
        return tuple(sorted(req.msg.fields.items())) if req is not None else ()
    return timer.args


# -- copying and fingerprints -------------------------------------------------------------------
def _clone(value: Any, memo: dict) -> Any:
    """A deep copy that shares what cannot change (numbers, strings, frozen messages) and is fast on
    the containers node state is made of; ``memo`` maps what was copied already (so two references
    to one list stay one list) and the objects never copied (nodes, the simulation) to themselves."""
    cls = value.__class__
    if cls in _ATOMIC or cls is Message or cls is frozenset or cls in _SHARED:
        return value
    if cls is tuple:
        for v in value:
            if v.__class__ not in _ATOMIC:
                return tuple([_clone(v, memo) for v in value])
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if cls is list:
        out = memo[id(value)] = []
        out.extend([v if v.__class__ in _ATOMIC else _clone(v, memo) for v in value])
        return out
    if cls is dict:  # keys too: a node's timers are the keys of a dict
        out = memo[id(value)] = {}
        for k, v in value.items():
            out[k if k.__class__ in _ATOMIC else _clone(k, memo)] = \
                v if v.__class__ in _ATOMIC else _clone(v, memo)
        return out
    if cls is set:
        out = memo[id(value)] = {v if v.__class__ in _ATOMIC else _clone(v, memo) for v in value}
        return out
    if cls is Timer:  # its node is never copied, so its callback (bound to the node) is shared
        out = object.__new__(Timer)
        memo[id(value)] = out
        out.node, out.callback, out.name, out.interval = value.node, value.callback, value.name, value.interval
        out.active, out.incarnation, out.due, out.generation = (value.active, value.incarnation,
                                                                 value.due, value.generation)
        out.args = _clone(value.args, memo)
        return out
    if cls is Request:
        out = object.__new__(cls)
        memo[id(value)] = out
        for slot in cls.__slots__:
            if slot != "__weakref__":
                setattr(out, slot, _clone(getattr(value, slot), memo))
        return out
    if cls is Storage:
        out = memo[id(value)] = Storage()
        out.update({k: _clone(v, memo) for k, v in value.items()})
        return out
    if cls is _METHOD:  # a timer's callback: bound to its node, which is never copied
        return _METHOD(value.__func__, _clone(value.__self__, memo))
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _PLAIN[cls] = _is_plain(cls)
    if plain:  # an object of a plain class (a checker's memory, a dataclass): copy its __dict__
        out = object.__new__(cls)
        memo[id(value)] = out
        out.__dict__.update(_clone(value.__dict__, memo))
        return out
    if callable(value) and not hasattr(value, "__dict__"):  # builtins: shared
        return value
    return copy.deepcopy(value, memo)


_PLAIN: dict = {}
# Functions and classes kept in state (a registry in sim.memo, a callback) are shared, never copied.
_SHARED = frozenset({FunctionType, BuiltinFunctionType, type})

# The fast form of a node's state. Most node state is numbers, strings and containers of them,
# plus the framework's timers and requests. Such a state is saved as one marshal string (C speed,
# shared references kept) of its plain values and containers, read all at once by the layout of
# the node's shape (see _Layout), and its timers and requests as tuples; restoring it copies the
# layout's template and fills it in (no Python work per attribute). The fingerprint is looked
# up by what it depends on (the marshal string, the plain values, the timers' names and
# arguments): equal keys are equal states, so it is computed (by freezing, as on the general
# path, so both paths agree) only the first time a key is seen; unequal keys may still be equal
# states (a dict filled in another order), which the frozen form then merges.
# Anything else (a message kept in a list, an object of the learner's class, a timer inside a
# container) makes the node take the slow, general path: :func:`_clone` and :func:`_freeze`.
_CONTAINERS = frozenset({list, dict, set, tuple, frozenset})
_NODE_SPECIAL = frozenset({"_timers", "_pending", "_storage", "_held", "_held_timers"})
_EMPTY = frozenset()
_marshal_dumps = marshal.dumps
_marshal_loads = marshal.loads
_timer_snapshot = attrgetter("callback", "args", "name", "interval", "active", "incarnation", "due",
                             "generation")


class _Layout:
    """What a node's ``__dict__`` of one shape (its keys in order, the class of each value) is made
    of, worked out once per shape: ``keys``, the attributes saved in the marshal string (plain
    values and containers), and ``pick``, which reads them all at once; ``refs``, the attributes
    holding a timer; ``template``, a dict with every key in order and the constant attributes'
    values, which a restore copies and fills in (so the restored ``__dict__`` has the same shape)."""

    __slots__ = ("keys", "pick", "refs", "template")

    def __init__(self, keys: tuple, pick: Any, refs: tuple, template: dict) -> None:
        self.keys, self.pick, self.refs, self.template = keys, pick, refs, template


def _make_layout(d: dict) -> _Layout | None:
    """The layout of ``d``'s shape, or None if it has no fast form (a value of another class)."""
    keys, refs = [], []
    for k, v in d.items():
        cls = v.__class__
        if cls in _ATOMIC:
            if k not in _CONSTANT:
                keys.append(k)
        elif k in _CONSTANT or k in _NODE_SPECIAL:
            continue
        elif cls in _CONTAINERS:
            keys.append(k)
        elif cls is Timer:
            refs.append(k)
        else:
            return None
    if len(keys) > 1:
        pick = itemgetter(*keys)
    elif keys:
        only = keys[0]
        pick = lambda d: (d[only],)  # noqa: E731
    else:
        pick = lambda d: ()  # noqa: E731
    template = {k: (v if k in _CONSTANT else None) for k, v in d.items()}
    return _Layout(tuple(keys), pick, tuple(refs), template)


def _encode_node(node: Node, d: dict, cache: dict, layouts: dict | None = None) -> tuple[tuple, int] | None:
    """``(data, fingerprint)`` of a node's state in the fast form, or None if it has no fast form.

    ``layouts`` keeps the node's :class:`_Layout` by shape (its keys, the classes of its values),
    so the attributes are sorted into kinds once per shape, not once per state."""
    if d.get("_held") or d.get("_held_timers"):
        return None
    shape = (tuple(d), tuple(map(type, d.values())))
    layout = layouts.get(shape, _EMPTY) if layouts is not None else _EMPTY
    if layout is _EMPTY:
        layout = _make_layout(d)
        if layouts is not None:
            layouts[shape] = layout
    if layout is None:
        return None
    timers = list(d.get("_timers", ()))
    armed = len(timers)
    refs: tuple = ()
    where = None
    if layout.refs:
        where = {id(t): i for i, t in enumerate(timers)}
        out = []
        for k in layout.refs:
            v = d[k]
            i = where.get(id(v))
            if i is None:
                i = where[id(v)] = len(timers)
                timers.append(v)
            out.append((k, i))
        refs = tuple(out)
    pending = []
    requests = d.get("_pending")
    if requests:
        if where is None:
            where = {id(t): i for i, t in enumerate(timers)}
        for key, req in requests.items():
            if req.__class__ is not Request or req.node is not node:
                return None
            t = req.timer
            ti = -1
            if t is not None:
                ti = where.get(id(t))
                if ti is None:
                    ti = where[id(t)] = len(timers)
                    timers.append(t)
            pending.append((key, req.msg, req.on_reply, req.on_timeout, ti, req.done))
    tsnap = []
    for t in timers:
        for a in t.args:
            if a.__class__ not in _ATOMIC:
                return None
        if t.node is not node:
            return None
        tsnap.append(_timer_snapshot(t))
    storage = d.get("_storage")
    values = layout.pick(d)
    try:
        blob = _marshal_dumps(values)
        sblob = _marshal_dumps(dict(storage)) if storage else None
    except ValueError:
        return None
    # Everything the fingerprint depends on, as one key: a state seen before costs a lookup.
    own = getattr(node, "search_state", None)
    tkeys = tuple([(t.name, t.args, t.interval, t.active) for t in timers])
    pkeys = tuple([(_message_key(p[1]), p[5]) for p in pending])
    key = (layout.keys, blob, refs, tkeys, armed, pkeys, sblob)
    fp = None if callable(own) else cache.get(key)
    if fp is None:
        if callable(own):
            learner = _freeze(own())
        else:
            items = [(k, _freeze(v)) for k, v in zip(layout.keys, values) if k not in _LEARNER_SKIP]
            items.extend([(k, _freeze(timers[i])) for k, i in refs if k not in _LEARNER_SKIP])
            learner = frozenset(items)
        sfz = _EMPTY if sblob is None else _freeze(storage)
        tfps = sorted([hash(_timer_key(node, t)) for t in timers[:armed] if t.active])
        pfps = sorted([hash(("request", _message_key(p[1]), p[5])) for p in pending])
        fp = hash((d.get("_crashed"), learner, tuple(tfps), tuple(pfps), sfz))
        if not callable(own):
            cache[key] = fp
    data = (layout, blob, refs, tuple(tsnap), armed, tuple(pending), sblob)
    return data, fp


def _decode_node(node: Node, data: tuple) -> dict:
    """A fresh ``__dict__`` for ``node`` from the fast form ``data`` (see :func:`_encode_node`)."""
    layout, blob, refs, tsnap, armed, pending, sblob = data
    new = layout.template.copy()
    if layout.keys:
        new.update(zip(layout.keys, _marshal_loads(blob)))
    timers = []
    for snap in tsnap:
        t = _new(Timer)
        t.node = node
        t.callback, t.args, t.name, t.interval, t.active, t.incarnation, t.due, t.generation = snap
        timers.append(t)
    for k, i in refs:
        new[k] = timers[i]
    new["_timers"] = dict.fromkeys(timers[:armed])
    requests = {}
    for key, msg, on_reply, on_timeout, ti, done in pending:
        r = _new(Request)
        r.node, r.msg, r.on_reply, r.on_timeout, r.done = node, msg, on_reply, on_timeout, done
        r.timer = timers[ti] if ti >= 0 else None
        requests[key] = r
    new["_pending"] = requests
    storage = new["_storage"] = Storage()
    if sblob is not None:
        storage.update(_marshal_loads(sblob))
    new["_held"] = []
    new["_held_timers"] = set()
    return new


def _snapshot_memos(memos: dict, cache: dict, never_copied: dict) -> tuple[tuple, Any]:
    """The checkers' memory, saved, and its frozen form (equal to ``_freeze(memos)``).

    A record per key: a container as one marshal string; a plain object as its class and one
    marshal string of its ``__dict__``, less the attributes its class names in
    ``search_transient``; anything else (or what marshal cannot write) copied. The frozen form of
    a marshal string is computed once (from the object's ``search_state()`` if it has one) and
    then looked up in ``cache``."""
    if not memos:
        return (), None
    records, frozen = [], []
    for key, value in memos.items():
        cls = value.__class__
        what = marker = None
        if cls in _CONTAINERS:
            what, marker = value, _CONTAINERS
        else:
            plain = _PLAIN.get(cls)
            if plain is None:
                plain = _PLAIN[cls] = _is_plain(cls)
            if plain:
                what, marker = value.__dict__, cls
                transient = getattr(cls, "search_transient", None)
                if transient:
                    what = dict(what)
                    for name in transient:
                        what.pop(name, None)
        blob = None
        if what is not None:
            try:
                blob = _marshal_dumps(what)
            except ValueError:
                blob = None
        if blob is None:
            records.append((key, None, _clone(value, dict(never_copied))))
            frozen.append((key, _freeze(value)))
            continue
        records.append((key, marker, blob))
        fz = cache.get((marker, blob))
        if fz is None:
            if marker is _CONTAINERS:
                fz = _freeze(value)
            else:
                own = getattr(value, "search_state", None)
                fz = (cls.__qualname__, _freeze(own() if callable(own) else what))
            cache[(marker, blob)] = fz
        frozen.append((key, fz))
    return tuple(records), frozenset(frozen)


def _decode_memos(saved: _MemoSaved, never_copied: dict) -> dict:
    out = {}
    for key, cls, payload in saved.records:
        if cls is None:
            out[key] = _clone(payload, dict(never_copied))
        elif cls is _CONTAINERS:
            out[key] = _marshal_loads(payload)
        else:
            obj = _new(cls)
            obj.__dict__.update(_marshal_loads(payload))
            out[key] = obj
    return out


def _is_plain(cls: type) -> bool:
    """Whether copying an instance's __dict__ copies it (no slots, no custom copy or pickling)."""
    return (cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
            and getattr(cls, "__deepcopy__", None) is None and "__slots__" not in cls.__dict__
            and cls.__new__ is object.__new__ and cls.__setattr__ is object.__setattr__
            and type(cls) is type and all(b.__dict__.get("__slots__") is None for b in cls.__mro__[1:-1])
            and isinstance(getattr(cls, "__dict__", None), Mapping) and "__dict__" in dir(cls))


def _freeze(value: Any) -> Any:
    """A hashable value equal for equal states (dicts and sets ignore their order)."""
    cls = value.__class__
    if cls in _ATOMIC:
        return value
    if cls is list or cls is tuple:
        return tuple([_freeze(v) for v in value])
    if cls is dict or cls is Storage:
        return frozenset([(k, _freeze(v)) for k, v in value.items()])
    if cls is set or cls is frozenset:
        return frozenset(value)
    if isinstance(value, Message):
        return _message_key(value)
    if cls in _SHARED:
        return (cls.__name__, getattr(value, "__module__", None), getattr(value, "__qualname__", repr(value)))
    if cls is Timer:
        return ("timer", value.name, _freeze(value.args), value.interval, value.active)
    if cls is Request:
        return ("request", _message_key(value.msg), value.done)
    state = getattr(value, "search_state", None)
    if callable(state):
        return (cls.__qualname__, _freeze(state()))
    if callable(value) and hasattr(value, "__func__"):
        return ("method", value.__func__.__qualname__)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return (cls.__qualname__, _freeze(vars(value)))
    try:
        hash(value)
    except TypeError:
        return (cls.__qualname__, repr(value))
    return value


def _message_key(msg: Message) -> int:
    """The message's value (type, route, fields) as a hash, computed once per message.

    Mixed by splitmix64's finaliser: a state hashes its messages in flight as the *sum* of their
    keys, and Python's tuple hashes of similar messages are related linearly enough for two
    different pairs of messages to have one sum (it happened in a 3-server Raft search)."""
    d = msg.__dict__
    key = d.get("_fp")
    if key is None:
        z = hash((d["type"], d["src"], d["dst"], _freeze(dict(msg.fields)),
                  d.get("reply_to") is not None)) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        key = d["_fp"] = z ^ (z >> 31)
    return key


def _state_fp(node_fps: list, flight: int, memos_fz: Any, crash_state: Any) -> int:
    """A state's fingerprint: ``flight`` hashes the multiset of messages in flight as the sum of
    their keys modulo 2**64 (kept up to date step by step, so no step sorts the messages)."""
    return hash((tuple(node_fps), flight, memos_fz,
                 _freeze(crash_state) if crash_state[0] or crash_state[1] else None))


def _node_fp(node: Node, data: dict) -> int:
    """A node's fingerprint, from its live state (``data`` is the copy being saved)."""
    own = getattr(node, "search_state", None)
    if callable(own):
        learner = _freeze(own())
    else:
        learner = _freeze({k: v for k, v in data.items() if k not in _LEARNER_SKIP})
    timers = sorted(hash(_timer_key(node, t)) for t in data.get("_timers", ()) if t.active)
    pending = sorted(hash(_freeze(r)) for r in data.get("_pending", {}).values())
    return hash((data.get("_crashed"), learner, tuple(timers), tuple(pending),
                 _freeze(data.get("_storage", {}))))


def _timer_key(node: Node, timer: Timer) -> tuple:
    if getattr(timer.callback, "__func__", None) is Node._request_timed_out:
        return ("timeout", timer.name, timer.interval)  # the request itself is in _pending
    return ("timer", timer.name, _freeze(timer.args), timer.interval)


def steps_text(steps: Iterable[Step]) -> str:
    """A schedule as a numbered list, one step per line."""
    return "\n".join(f"{i:>3}. {step}" for i, step in enumerate(steps, 1))
