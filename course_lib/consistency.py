"""Chapter 01 scaffolding: a replicated register with a CP/AP switch, its clients and its meters.

Two register replicas, two points of the CAP trade-off:

- :class:`AsyncReplica` (**AP**): every replica answers from its own copy at
  once, pushes each write to its peers in the background and repairs misses
  by periodic anti-entropy (every replica resends its whole copy to every
  other); concurrent writes are reconciled by last-writer-wins on versions
  ``(counter, node id)``. Always available; converges once the network
  heals; reads may be stale, so histories need not be linearizable.
  ``write_acks=k`` makes it wait for ``k`` peers before acknowledging a write
  (the PACELC "else" knob: latency against staleness).
- :class:`PrimaryReplica` (**CP**): one fixed primary holds the only copy of
  the truth; the other replicas forward each client request to it and refuse
  when it does not answer within ``forward_timeout``. Linearizable; not
  available on the far side of a partition from the primary.

Neither is the majority-quorum register: that one is the chapter's exercise.

The client/replica protocol
---------------------------
Clients are nodes (:class:`RegisterClient`) that send *requests* to one
replica with :meth:`~course_lib.sim.Node.request` and wait for the reply.
Any replica class that speaks this protocol can be run, measured and drawn by
:func:`run_workload`:

==========================  ==================================================
client sends                replica answers with ``self.reply(request, ...)``
==========================  ==================================================
``read(key, op)``           ``read_ok(value)``: the value read (None if never
                            written), or ``error(reason, definite)``
``write(key, value, op)``   ``write_ok()``, or ``error(reason, definite)``
==========================  ==================================================

- ``op`` is an operation id, unique over the whole run (a tuple ``(process,
  client incarnation, n)``); a replica may use it to recognise a request the
  network duplicated.
- ``error`` refuses the operation. ``definite=True`` (the default when the
  field is absent) promises that the operation did **not** take effect: the
  client records ``fail``. Send ``definite=False`` when it may have taken
  effect anyway (for instance a write already sent to other replicas before
  giving up): the client records ``info``.
- No reply within the client's ``timeout``: the client records ``info``
  (indeterminate: the request or its reply may be lost, or just slow).
- Anything else (a ``write_ok`` to a read, say) is a protocol error and stops
  the run with an error naming the replica and the message.

A replica class is created as ``cls(replicas, **replica_options)``, where
``replicas`` lists every replica id, its own included (``self.peers`` also
contains the clients, so use this list to talk to other replicas). Subclass
:class:`RegisterReplica` for the list, :attr:`RegisterReplica.others` and the
answering helpers :meth:`~RegisterReplica.answer_read`,
:meth:`~RegisterReplica.answer_write` and :meth:`~RegisterReplica.refuse`.
Define ``snapshot()`` (``{key: value}`` of the local copy) to let
:meth:`RegisterRun.converged` compare replicas.

Measuring
---------
A run's :class:`~course_lib.history.History` is judged by
:func:`stale_reads` (reads that returned a value some acknowledged write had
already overwritten before the read began), :func:`first_violation` (the time
from which the history stops being linearizable), :func:`windows`
(availability, stale reads and "linearizable so far" per time window) and
:func:`latencies`; :func:`plot_windows` draws them with the partitions shaded.

Example:
    >>> run = run_workload("CP", seed=1, duration=60, partition=(20, 40))
    >>> run.check().valid
    True
    >>> s = run.summary()
    >>> s["availability"] < 1.0, s["stale_reads"]
    (True, 0)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from .checkers import converged as _converged
from .checkers import linearizable
from .checkers.convergence import ConvergenceResult
from .checkers.linearizability import DEFAULT_BUDGET, LinearizabilityResult
from .history import History, Operation
from .sim import Message, Node, Simulation, Uniform
from .sim.errors import EventBudgetExceeded
from .sim.latency import as_latency, check_probability
from .sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice,
                             check_int, check_type)

__all__ = [
    "AsyncReplica",
    "INITIAL_VERSION",
    "MODES",
    "PrimaryReplica",
    "RegisterClient",
    "RegisterReplica",
    "RegisterRun",
    "StaleRead",
    "Window",
    "first_violation",
    "interrupted_write_scenario",
    "latencies",
    "plot_windows",
    "quorum_scenario",
    "run_workload",
    "session_run",
    "session_scenario",
    "stale_reads",
    "windows",
]

_READS = ("read", "get")
_WRITES = ("write", "put")

INITIAL_VERSION = (0, "")
"""The version of a key nobody has written yet: below every ``(counter, node id)`` version."""


# -- input checks ---------------------------------------------------------------------------------

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 < value < math.inf:
        error = InvalidArgument if _is_number(value) else InvalidArgumentType
        raise error(f"{name}={value!r} must be a positive finite number")
    return float(value)


def _non_negative(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 <= value < math.inf:
        error = InvalidArgument if _is_number(value) else InvalidArgumentType
        raise error(f"{name}={value!r} must be a finite number >= 0")
    return float(value)


def _count(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        error = InvalidArgument if isinstance(value, int) and not isinstance(value, bool) \
            else InvalidArgumentType
        raise error(f"{name}={value!r} must be an int {bound}")
    return value


def _id_list(name: str, value: Any) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgumentType(f"{name}={value!r} must be a list of node ids, e.g. ['n1', 'n2', 'n3']")
    ids = list(value)
    for item in ids:
        try:
            hash(item)
        except TypeError:
            raise InvalidArgumentType(f"{name}={value!r}: {item!r} is not hashable") from None
    if len(set(ids)) != len(ids):
        raise InvalidArgument(f"{name}={value!r} names a node twice")
    return ids


def _history_ops(name: str, history: Any) -> list[Operation]:
    if isinstance(history, History):
        return history.operations()
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise InvalidArgumentType(f"{name}={history!r} must be a History or a list of its operations")
    ops = list(history)
    for op in ops:
        if not isinstance(op, Operation):
            raise InvalidArgumentType(f"{name} contains {op!r}, which is not an Operation")
    return ops


# -- replicas ----------------------------------------------------------------------------------------

class RegisterReplica(Node):
    """Base class of a register replica: knows the other replicas, answers clients in protocol words.

    Args:
        replicas: every replica's id, this one's included.

    Raises:
        ValueError: ``replicas`` does not contain this node's id, or names one twice.
    """

    def __init__(self, replicas: Sequence[Any]) -> None:
        self.replicas = _id_list("replicas", replicas)
        if self.id not in self.replicas:
            raise InvalidArgument(f"replicas={self.replicas!r} must contain this replica's id {self.id!r}")

    @property
    def others(self) -> list:
        """The other replicas' ids, in the order of ``replicas``."""
        return [r for r in self.replicas if r != self.id]

    def answer_read(self, request: Message, value: Any, **fields: Any) -> None:
        """Answer a client's ``read`` with ``read_ok(value)`` (and ``fields``, e.g. ``version``)."""
        self.reply(request, "read_ok", value=value, **fields)

    def answer_write(self, request: Message, **fields: Any) -> None:
        """Answer a client's ``write`` with ``write_ok()`` (and ``fields``, e.g. ``version``)."""
        self.reply(request, "write_ok", **fields)

    def refuse(self, request: Message, reason: str, *, definite: bool = True) -> None:
        """Answer a client's request with ``error(reason, definite)``.

        Args:
            request: the client's ``read`` or ``write``.
            reason: a short explanation for the client (and the trace).
            definite: True only if the operation certainly did not take effect
                (the client records ``fail``); False if it might have (``info``).
        """
        if not isinstance(definite, bool):
            raise InvalidArgumentType(f"definite={definite!r} must be True or False")
        self.reply(request, "error", reason=str(reason), definite=definite)

    def snapshot(self) -> dict:
        """Return this replica's copy of the register, ``{key: value}`` (override it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define snapshot()")

    def gather(self, msg_type: str, *, needed: int, timeout: float,
               on_done: Callable[[list], Any], on_timeout: Callable[[list], Any],
               resend: float | None = None, **fields: Any) -> None:
        """Ask every replica (this one included) and act once ``needed`` of them have answered.

        Sends the request ``msg_type(**fields)`` to every replica in
        ``replicas``; each answers with ``self.reply(msg, ...)``. As soon as
        replies from ``needed`` different replicas have arrived,
        ``on_done(replies)`` is called with them (in arrival order) and later
        replies are ignored. If fewer have arrived after ``timeout``,
        ``on_timeout(replies)`` is called with those that did. Exactly one of
        the two is called, once (none if this replica crashes meanwhile).
        Duplicated replies count once per replica. With ``resend``, the request
        is sent again every ``resend`` to the replicas that have not answered
        yet (for requests that are safe to repeat), so a lost message costs a
        little time instead of the whole answer.

        Args:
            msg_type: the request's message type (this class answers it in ``on_<msg_type>``).
            needed: how many replicas must answer, in ``[1, len(replicas)]``.
            timeout: how long to wait for them.
            on_done: called as ``on_done(replies)`` with ``needed`` replies.
            on_timeout: called as ``on_timeout(replies)`` with the fewer replies that came.
            resend: the interval between sends to replicas that have not answered (None: once).
            **fields: the request's fields.

        Raises:
            ValueError: ``needed``, ``timeout`` or ``resend`` is out of range.

        Example (inside a handler)::

            self.gather("query", key=msg.key, needed=2, timeout=1.0,
                        on_done=lambda replies: ..., on_timeout=lambda replies: ...)
        """
        check_type("msg_type", msg_type, str, what="a message type such as 'query'")
        needed = _count("needed", needed, 1, len(self.replicas))
        timeout = _positive("timeout", timeout)
        if resend is not None:
            resend = _positive("resend", resend)
        check_callable("on_done", on_done, "on_done(replies)")
        check_callable("on_timeout", on_timeout, "on_timeout(replies)")
        replies: dict[Any, Message] = {}
        requests: list = []
        timers: list = []
        deadline = self.sim.now + timeout

        def close() -> None:
            for item in requests + timers:
                item.cancel()

        def answered(reply: Message) -> None:
            if reply.src in replies or len(replies) >= needed:
                return
            replies[reply.src] = reply
            if len(replies) >= needed:
                close()
                on_done(list(replies.values()))

        def ask(replicas: list) -> None:
            left = deadline - self.sim.now
            if left <= 1e-9:  # the deadline is upon us: expired() decides
                return
            for replica in replicas:
                requests.append(self.request(replica, msg_type, timeout=left, on_reply=answered,
                                             **fields))

        def again() -> None:
            ask([r for r in self.replicas if r not in replies])

        def expired() -> None:
            close()
            on_timeout(list(replies.values()))

        ask(self.replicas)
        timers.append(self.set_timer(timeout, expired, name=f"gather:{msg_type}"))
        if resend is not None and resend < timeout:
            timers.append(self.every(resend, again, name=f"resend:{msg_type}"))


class AsyncReplica(RegisterReplica):
    """An AP register replica: answer locally, replicate in the background, last writer wins.

    A write gets version ``(counter, node id)`` with the counter one above any
    counter this replica has seen, is applied locally and pushed to every other
    replica. Every ``sync_interval`` each replica also sends its whole copy to
    every other (anti-entropy), which repairs pushes lost to loss, partitions
    and crashes. A replica keeps, per key, the value with the highest version,
    so all replicas agree once they have exchanged their copies.

    Its answers carry the version: ``read_ok(value, version)`` (the version of
    the value read, :data:`INITIAL_VERSION` for a key never written) and
    ``write_ok(version)``. A write may carry ``after``, a version its new
    version must exceed (a session's token, see :func:`session_scenario`).

    Args:
        replicas: every replica's id, this one's included.
        write_acks: how many other replicas must confirm a write before the
            client hears ``write_ok`` (0: at once, asynchronous replication).
            When too few confirm within ``ack_timeout`` the client gets
            ``error(definite=False)``: the write stays applied where it got to.
        ack_timeout: how long to wait for those confirmations.
        sync_interval: time between anti-entropy rounds.

    Raises:
        ValueError: a parameter is out of range (named in the message).
    """

    durable = ("store", "counter", "seen")

    def __init__(self, replicas: Sequence[Any], *, write_acks: int = 0, ack_timeout: float = 2.0,
                 sync_interval: float = 5.0) -> None:
        super().__init__(replicas)
        self.write_acks = _count("write_acks", write_acks, 0, len(self.replicas) - 1)
        self.ack_timeout = _positive("ack_timeout", ack_timeout)
        self.sync_interval = _positive("sync_interval", sync_interval)
        self.store: dict[Any, tuple[tuple, Any]] = {}  # key -> (version, value)
        self.counter = 0
        self.seen: dict[Any, tuple] = {}  # op id -> version it got (duplicates are ignored)
        self._waiting: dict[Any, list] = {}  # op id -> [acks, misses, client request]

    def on_start(self) -> None:
        self.every(self.sync_interval, self.anti_entropy)

    def snapshot(self) -> dict:
        """Return ``{key: value}`` of the local copy."""
        return {key: value for key, (_, value) in self.store.items()}

    def apply(self, key: Any, version: tuple, value: Any) -> bool:
        """Keep ``value`` for ``key`` if ``version`` is newer than the local one; return whether it was."""
        self.counter = max(self.counter, version[0])
        current = self.store.get(key)
        if current is None or version > current[0]:
            self.store[key] = (version, value)
            return True
        return False

    def on_read(self, msg: Message) -> None:
        version, value = self.store.get(msg.key, (INITIAL_VERSION, None))
        self.answer_read(msg, value, version=version)

    def on_write(self, msg: Message) -> None:
        if msg.op in self.seen:  # the network duplicated the request: the first copy is answered
            return
        after = msg.get("after")  # a session's token: the new version must be above it
        self.counter = max(self.counter, after[0] if after else 0) + 1
        version = (self.counter, self.id)
        self.seen[msg.op] = version
        self.apply(msg.key, version, msg.value)
        if self.write_acks == 0:
            self.answer_write(msg, version=version)
            for peer in self.others:
                self.send(peer, "replicate", key=msg.key, version=version, value=msg.value, ack=False)
            return
        self._waiting[msg.op] = [0, 0, msg]
        for peer in self.others:
            self.request(peer, "replicate", key=msg.key, version=version, value=msg.value, ack=True,
                         timeout=self.ack_timeout,
                         on_reply=lambda reply, op=msg.op: self._acked(op),
                         on_timeout=lambda request, op=msg.op: self._missed(op))

    def _acked(self, op: Any) -> None:
        waiting = self._waiting.get(op)
        if waiting is None:
            return
        waiting[0] += 1
        if waiting[0] >= self.write_acks:
            del self._waiting[op]
            self.answer_write(waiting[2], version=self.seen[op])

    def _missed(self, op: Any) -> None:
        waiting = self._waiting.get(op)
        if waiting is None:
            return
        waiting[1] += 1
        if waiting[1] > len(self.others) - self.write_acks:  # the needed acks cannot come any more
            del self._waiting[op]
            self.refuse(waiting[2], f"only {waiting[0]} of {self.write_acks} replicas confirmed",
                        definite=False)

    def on_replicate(self, msg: Message) -> None:
        self.apply(msg.key, msg.version, msg.value)
        if msg.ack:
            self.reply(msg, "replicate_ok")

    def anti_entropy(self) -> None:
        """Send the whole local copy to every other replica."""
        entries = tuple(self.store.items())
        for peer in self.others:
            self.send(peer, "sync", entries=entries)

    def on_sync(self, msg: Message) -> None:
        for key, (version, value) in msg.entries:
            self.apply(key, version, value)


class PrimaryReplica(RegisterReplica):
    """A CP register replica: a fixed primary holds the only copy; the others forward to it.

    The primary applies each operation when it receives it, at most once per
    operation id, and answers; its copy is durable (it survives crashes).
    Another replica forwards each client request to the primary and relays the
    answer, or refuses when the primary does not answer within
    ``forward_timeout``: a read with ``error(definite=True)`` (a read changes
    nothing), a write with ``error(definite=False)`` (the primary may have
    applied it and only the answer was lost).

    Args:
        replicas: every replica's id, this one's included.
        primary: the primary's id (default: the first replica).
        forward_timeout: how long a replica waits for the primary.

    Raises:
        ValueError: ``primary`` is not a replica, or ``forward_timeout`` is not positive.
    """

    durable = ("store", "applied")

    def __init__(self, replicas: Sequence[Any], *, primary: Any = None,
                 forward_timeout: float = 2.0) -> None:
        super().__init__(replicas)
        self.primary = self.replicas[0] if primary is None else primary
        if self.primary not in self.replicas:
            raise InvalidArgument(f"primary={primary!r} is not one of replicas={self.replicas!r}")
        self.forward_timeout = _positive("forward_timeout", forward_timeout)
        self.store: dict[Any, Any] = {}
        self.applied: dict[Any, None] = {}  # op ids already applied (duplicates apply once)

    @property
    def is_primary(self) -> bool:
        """Whether this replica is the primary."""
        return self.id == self.primary

    def snapshot(self) -> dict:
        """Return the local copy (only the primary's is the register)."""
        return dict(self.store)

    def _apply_write(self, op: Any, key: Any, value: Any) -> None:
        if op not in self.applied:
            self.applied[op] = None
            self.store[key] = value

    def on_read(self, msg: Message) -> None:
        if self.is_primary:
            self.answer_read(msg, self.store.get(msg.key))
            return
        self.request(self.primary, "forward_read", key=msg.key, timeout=self.forward_timeout,
                     on_reply=lambda reply: self.answer_read(msg, reply.value),
                     on_timeout=lambda request: self.refuse(msg, "primary unreachable"))

    def on_write(self, msg: Message) -> None:
        if self.is_primary:
            self._apply_write(msg.op, msg.key, msg.value)
            self.answer_write(msg)
            return
        self.request(self.primary, "forward_write", op=msg.op, key=msg.key, value=msg.value,
                     timeout=self.forward_timeout,
                     on_reply=lambda reply: self.answer_write(msg),
                     on_timeout=lambda request: self.refuse(
                         msg, "primary unreachable; the write may have reached it", definite=False))

    def on_forward_read(self, msg: Message) -> None:
        self.reply(msg, "forward_read_ok", value=self.store.get(msg.key))

    def on_forward_write(self, msg: Message) -> None:
        self._apply_write(msg.op, msg.key, msg.value)
        self.reply(msg, "forward_write_ok")


MODES: dict[str, type] = {"AP": AsyncReplica, "CP": PrimaryReplica}
"""The chapter's switch: replica classes by CAP mode."""

LATENCY = Uniform(0.2, 0.6)
"""The default latency between replicas in :func:`run_workload`."""

ROUTES = ("home", "random", "rotate")
"""How a client picks the replica of each operation (see :class:`RegisterClient`)."""


# -- clients --------------------------------------------------------------------------------------------

class _Recorder:
    """The history shared by a run's clients, and the source of unique write values."""

    def __init__(self) -> None:
        self.history = History()
        self._next_value = 0

    def next_value(self) -> int:
        self._next_value += 1
        return self._next_value


class RegisterClient(Node):
    """A client that reads and writes through replicas and records what it saw.

    It issues one operation at a time (a closed loop): a read or a write of a
    random key from ``keys``, waits for the answer or ``timeout``, thinks for a
    random time in ``think`` and goes on until ``stop``. Writes write unique
    integers 1, 2, 3, ... (unique across all clients of a run). Each operation
    becomes an ``invoke`` and a completion in the shared history:
    ``read_ok``/``write_ok`` → ``ok``, ``error`` → ``fail`` (or ``info`` if it
    says ``definite=False``), no answer in time → ``info``.

    ``route`` says which replica gets each operation: ``"home"`` (always
    ``replica``), ``"random"`` (a seeded random one of ``replicas``) or
    ``"rotate"`` (the next one of ``replicas`` each time). A ``session`` object
    (see :func:`session_scenario`) enforces session guarantees on top: a write
    carries ``after=session.before_write(key)``, an acknowledged write calls
    ``session.after_write(key, version)``, and a read's answer is accepted only
    if ``session.accept_read(key, version)`` is true; otherwise the client
    asks the next replica (in ``replicas`` order) after ``retry_delay``,
    until ``timeout`` after the invocation, when it records ``fail`` (a read
    changes nothing, so one whose answers were never accepted certainly failed).

    Created by :func:`run_workload`; see the module docs for the protocol.
    """

    def __init__(self, replica: Any, process: int, recorder: _Recorder, *, timeout: float,
                 think: tuple[float, float], read_fraction: float, keys: Sequence[Any],
                 stop: float, replicas: Sequence[Any] | None = None, route: str = "home",
                 session: Any = None, retry_delay: float = 1.0) -> None:
        self.replica = replica
        self.process = process
        self.recorder = recorder
        self.timeout = timeout
        self.think = think
        self.read_fraction = read_fraction
        self.keys = list(keys)
        self.stop = stop
        self.replicas = list(replicas) if replicas is not None else [replica]
        self.route = route
        self.session = session
        self.retry_delay = retry_delay
        self.issued = 0
        self._open: str | None = None
        self._key: Any = None
        self._op: Any = None
        self._since = 0.0
        self._target = replica
        self._turn = self.replicas.index(replica) if replica in self.replicas else 0

    def on_start(self) -> None:
        history = self.recorder.history
        open_ops = [op for op in history.operations()
                    if op.process == self.process and op.status is None]
        if open_ops:  # restarted mid-operation: nobody knows whether it happened
            history.info(self.process, value="client crashed", time=self.sim.now)
        self.set_timer(self.rng.uniform(0.0, self.think[1]), self.next_operation)

    def _pick(self) -> Any:
        if self.route == "random":
            return self.replicas[self.rng.randrange(len(self.replicas))]
        if self.route == "rotate":
            self._turn = (self._turn + 1) % len(self.replicas)
            return self.replicas[self._turn]
        return self.replica

    def next_operation(self) -> None:
        """Issue the next read or write, unless the workload is over."""
        if self.sim.now >= self.stop:
            return
        key = self.keys[self.rng.randrange(len(self.keys))]
        self.issued += 1
        op = (self.process, self.incarnation, self.issued)  # unique even across client restarts
        history = self.recorder.history
        target = self._pick()
        self._key, self._op, self._since, self._target = key, op, self.sim.now, target
        if self.rng.random() < self.read_fraction:
            self._open = "read"
            history.invoke(self.process, "read", key, time=self.sim.now)
            self.request(target, "read", key=key, op=op, timeout=self.timeout,
                         on_reply=self._answered, on_timeout=self._timed_out)
        else:
            self._open = "write"
            value = self.recorder.next_value()
            history.invoke(self.process, "write", key, value, time=self.sim.now)
            extra = {}
            if self.session is not None:
                extra["after"] = self.session.before_write(key)
            self.request(target, "write", key=key, value=value, op=op, timeout=self.timeout,
                         on_reply=self._answered, on_timeout=self._timed_out, **extra)

    def _answered(self, reply: Message) -> None:
        history, now = self.recorder.history, self.sim.now
        if reply.type == "error":
            if reply.get("definite", True):
                history.fail(self.process, value=reply.get("reason"), time=now)
            else:
                history.info(self.process, value=reply.get("reason"), time=now)
        elif reply.type == f"{self._open}_ok":
            if self.session is not None and self._open == "read":
                if not self.session.accept_read(self._key, reply.get("version")):
                    self._rejected(reply)
                    return
            elif self.session is not None:
                self.session.after_write(self._key, reply.get("version"))
            history.ok(self.process, value=reply.get("value") if self._open == "read" else None,
                       time=now)
        else:
            raise ValueError(
                f"replica {reply.src!r} answered a {self._open!r} request with {reply!r}; the "
                f"protocol expects '{self._open}_ok' or 'error' (see course_lib.consistency)")
        self._next()

    def _rejected(self, reply: Message) -> None:
        """The session refused a read's answer: ask the next replica, or give up at the deadline."""
        self.record("session_reject", replica=reply.src, version=reply.get("version"))
        left = self._since + self.timeout - self.sim.now - self.retry_delay
        if left <= 0:
            self.recorder.history.fail(self.process, value="no replica was fresh enough",
                                       time=self.sim.now)
            self._next()
            return
        turn = self.replicas.index(reply.src) if reply.src in self.replicas else self._turn
        target = self.replicas[(turn + 1) % len(self.replicas)]
        self.set_timer(self.retry_delay, self._retry_read, target, left)

    def _retry_read(self, target: Any, left: float) -> None:
        self._target = target
        self.request(target, "read", key=self._key, op=self._op, timeout=left,
                     on_reply=self._answered, on_timeout=self._gave_up)

    def _gave_up(self, request: Message) -> None:
        # A read changes nothing, so one that no replica answered freshly enough certainly failed.
        self.recorder.history.fail(self.process, value="no replica was fresh enough",
                                   time=self.sim.now)
        self._next()

    def _timed_out(self, request: Message) -> None:
        self.recorder.history.info(self.process, value="timeout", time=self.sim.now)
        self._next()

    def _next(self) -> None:
        self._open = None
        self.set_timer(self.rng.uniform(*self.think), self.next_operation)


# -- running -------------------------------------------------------------------------------------------

@dataclass
class RegisterRun:
    """The outcome of :func:`run_workload`: the simulation, the history and the fault plan.

    Attributes:
        sim: the finished :class:`~course_lib.sim.Simulation`.
        history: what the clients saw.
        replicas: the replica ids.
        clients: process number -> the replica that client talks to.
        partitions: ``(start, end)`` of each partition in the run (from the trace).
        mode: the replica class's name.
    """

    sim: Simulation
    history: History
    replicas: list
    clients: dict
    partitions: list
    mode: str
    _check: LinearizabilityResult | None = field(default=None, repr=False)
    _violation: Any = field(default=False, repr=False)

    def check(self) -> LinearizabilityResult:
        """Return the linearizability checker's verdict on the whole history (a register)."""
        if self._check is None:
            self._check = linearizable(self.history, "register")
        return self._check

    def first_violation(self) -> float | None:
        """Return the time from which the history is not linearizable (None if it is)."""
        if self._violation is False:
            self._violation = None if self.check().valid else first_violation(self.history)
        return self._violation

    def stale_reads(self) -> list["StaleRead"]:
        """Return the reads that missed an acknowledged write (see :func:`stale_reads`)."""
        return stale_reads(self.history)

    def windows(self, width: float) -> list["Window"]:
        """Return per-window measurements from time 0 to the end of the workload."""
        end = max([op.call_time for op in self.history.operations()], default=0.0)
        return windows(self.history, width, start=0.0, end=max(end, width),
                       violation=self.first_violation())

    def summary(self) -> dict:
        """Return counts and verdicts: operations, ok, fail, info, availability, stale reads, linearizable."""
        ops = self.history.operations()
        ok = sum(op.status == "ok" for op in ops)
        return {
            "mode": self.mode,
            "operations": len(ops),
            "ok": ok,
            "fail": sum(op.status == "fail" for op in ops),
            "info": sum(op.indeterminate for op in ops),
            "availability": round(ok / len(ops), 3) if ops else float("nan"),
            "stale_reads": len(self.stale_reads()),
            "linearizable": self.check().valid,
        }

    def replica_states(self) -> dict:
        """Return each replica's ``snapshot()``, by replica id."""
        return {r: self.sim.node(r).snapshot() for r in self.replicas}

    def converged(self) -> ConvergenceResult:
        """Check that every replica's snapshot is equal (meaningful for replicated copies, e.g. AP)."""
        return _converged(self.replica_states())


def run_workload(replica: type | str, *, seed: int | str, replicas: Sequence[Any] = ("n1", "n2", "n3"),
                 replica_options: Mapping[str, Any] | None = None, clients_per_replica: int = 1,
                 duration: float = 120.0, settle: float = 30.0,
                 partition: tuple[float, float] | None = None, cut_off: Sequence[Any] | None = None,
                 crashes: Sequence[tuple[Any, float, float | None]] = (), loss: float = 0.0,
                 duplicate: float = 0.0, reorder: float = 0.0, latency: Any = LATENCY,
                 client_latency: float = 0.1, timeout: float = 5.0,
                 think: tuple[float, float] = (3.0, 8.0), read_fraction: float = 0.7,
                 keys: Sequence[Any] = ("x",),
                 faults: Callable[[Simulation], Any] | None = None, route: str = "home",
                 session: Callable[[], Any] | None = None, retry_delay: float = 1.0,
                 max_events: int = 2_000_000) -> RegisterRun:
    """Run clients against a replicated register under faults and record their history.

    Each replica gets ``clients_per_replica`` :class:`RegisterClient` nodes that
    talk only to it, over links of latency ``client_latency`` (a client sits
    next to its replica, in the same partition group). With ``route`` other
    than ``"home"`` clients are mobile: each reaches every replica over such a
    link, sends each operation to the replica ``route`` picks, and a
    ``partition`` cuts only the replicas from each other (Bayou's weakly
    connected servers), never a client from a replica. Clients issue operations
    until ``duration``; the run then goes on for ``settle`` more time units so
    that answers, retries and anti-entropy can finish.

    Args:
        replica: a replica class speaking the protocol of this module (created
            as ``replica(replicas, **replica_options)``), or ``"AP"`` / ``"CP"``
            for :class:`AsyncReplica` / :class:`PrimaryReplica`.
        seed: the simulation's seed.
        replicas: the replica ids.
        replica_options: keyword arguments for the replica class.
        clients_per_replica: clients attached to each replica.
        duration: clients stop issuing operations at this time.
        settle: extra time to run after ``duration``.
        partition: ``(start, end)``: cut ``cut_off`` (and their clients) off
            from the other replicas during that time; None for no partition.
        cut_off: the replicas on the far side (default: the last replica).
        crashes: ``(replica, at, restart_at or None)`` triples.
        loss, duplicate, reorder, latency: network faults between replicas
            (and on client links, except the latency).
        client_latency: latency of a client's link to its replica.
        timeout: how long a client waits for an answer.
        think: ``(low, high)``: a client waits a uniform time in this range
            between operations.
        read_fraction: probability that an operation is a read.
        keys: the register's keys (one key: a single register).
        faults: called as ``faults(sim)`` after setup, to schedule more faults
            with ``sim.nemesis``.
        route: ``"home"`` (each client uses its own replica), ``"random"`` or
            ``"rotate"`` (each operation goes to a random / the next replica).
        session: a class (or factory) called once per client to make its
            session object (see :class:`RegisterClient`); None for no session.
        retry_delay: how long a session waits before asking another replica.
        max_events: the run's budget of events (sends, timer firings), which
            stops a message storm or a very long ``duration``.

    Returns:
        A :class:`RegisterRun`.

    Raises:
        InvalidArgumentType: ``replica`` is not a Node subclass or mode name, or another
            argument has the wrong type (named in the message); also a TypeError.
        InvalidArgument: an argument is out of range (named in the message); also a ValueError.
        EventBudgetExceeded: the run took more than ``max_events`` events.

    Example:
        >>> run = run_workload("AP", seed=3, duration=60, partition=(20, 40))
        >>> run.summary()["availability"]
        1.0
        >>> run.converged().valid
        True
    """
    if isinstance(replica, str):
        if replica not in MODES:
            raise InvalidArgument(f"replica={replica!r} must be one of {sorted(MODES)} or a replica class")
        cls = MODES[replica]
    elif isinstance(replica, type) and issubclass(replica, Node):
        cls = replica
    else:
        raise InvalidArgumentType(f"replica={replica!r} must be a subclass of course_lib.sim.Node "
                                  f"or one of {sorted(MODES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replica_ids = _id_list("replicas", replicas)
    if not replica_ids:
        raise InvalidArgument(f"replicas={replicas!r} must name at least one replica")
    if replica_options is None:
        replica_options = {}
    if not isinstance(replica_options, Mapping):
        raise InvalidArgumentType(f"replica_options={replica_options!r} must be a dict of keyword arguments")
    clients_per_replica = _count("clients_per_replica", clients_per_replica, 1)
    duration = _positive("duration", duration)
    settle = _non_negative("settle", settle)
    check_int("max_events", max_events, low=1)
    if len(replica_ids) * (clients_per_replica + 1) > max_events:
        raise InvalidArgument(f"replicas={replica_ids!r} with clients_per_replica={clients_per_replica} "
                              f"make more nodes than max_events={max_events} events can start; pass a "
                              "larger max_events")
    if partition is not None:
        if not (isinstance(partition, (tuple, list)) and len(partition) == 2):
            raise InvalidArgument(f"partition={partition!r} must be (start, end) or None")
        p_start = _non_negative("partition start", partition[0])
        p_end = _positive("partition end", partition[1])
        if p_end <= p_start:
            raise InvalidArgument(f"partition={partition!r}: end must be after start")
    far = [replica_ids[-1]] if cut_off is None else _id_list("cut_off", cut_off)
    for r in far:
        if r not in replica_ids:
            raise InvalidArgument(f"cut_off={list(far)!r}: {r!r} is not one of replicas={replica_ids!r}")
    if partition is not None and (not far or len(far) == len(replica_ids)):
        raise InvalidArgument(f"cut_off={far!r} must leave replicas on both sides of the partition")
    if isinstance(crashes, (str, bytes)) or not isinstance(crashes, Iterable):
        raise InvalidArgumentType(f"crashes={crashes!r} must be a list of (replica, at, restart_at or "
                                  "None) triples")
    crash_plan = []
    for index, item in enumerate(crashes):
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            raise InvalidArgument(f"crashes[{index}]={item!r} must be (replica, at, restart_at or None)")
        node, at, restart_at = item
        try:
            known = node in replica_ids
        except TypeError:
            known = False
        if not known:
            raise InvalidArgument(f"crashes[{index}]={item!r}: {node!r} is not one of replicas={replica_ids!r}")
        _non_negative(f"crashes[{index}] at", at)
        if restart_at is not None and _positive(f"crashes[{index}] restart_at", restart_at) <= at:
            raise InvalidArgument(f"crashes[{index}]={item!r}: restart_at must be after at")
        crash_plan.append((node, at, restart_at))
    loss = check_probability("loss", loss)
    duplicate = check_probability("duplicate", duplicate)
    reorder = check_probability("reorder", reorder)
    latency = as_latency(latency)
    client_latency = _non_negative("client_latency", client_latency)
    timeout = _positive("timeout", timeout)
    if not (isinstance(think, (tuple, list)) and len(think) == 2):
        raise InvalidArgument(f"think={think!r} must be (low, high)")
    think = (_non_negative("think low", think[0]), _positive("think high", think[1]))
    if think[1] < think[0]:
        raise InvalidArgument(f"think={think!r}: high must be >= low")
    read_fraction = check_probability("read_fraction", read_fraction)
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Iterable):
        raise InvalidArgumentType(f"keys={keys!r} must be a non-empty list of keys")
    if not list(keys):
        raise InvalidArgument(f"keys={keys!r} must be a non-empty list of keys")
    if faults is not None and not callable(faults):
        raise InvalidArgumentType(f"faults={faults!r} must be callable as faults(sim), or None")
    check_choice("route", route, ROUTES)
    if session is not None and not callable(session):
        raise InvalidArgumentType(f"session={session!r} must be a class (called once per client) or None")
    retry_delay = _positive("retry_delay", retry_delay)

    sim = Simulation(seed=seed, latency=latency, loss=loss, duplicate=duplicate, reorder=reorder,
                     max_events=max_events)
    for rid in replica_ids:
        sim.add_node(cls, rid, list(replica_ids), **replica_options)
    recorder = _Recorder()
    clients: dict[int, Any] = {}
    client_ids: dict[Any, list] = {r: [] for r in replica_ids}
    for rid in replica_ids:
        for _ in range(clients_per_replica):
            process = len(clients)
            cid = f"c{process}"
            routed = {} if route == "home" and session is None else dict(
                replicas=list(replica_ids), route=route, retry_delay=retry_delay,
                session=None if session is None else session())
            sim.add_node(RegisterClient, cid, rid, process, recorder, timeout=timeout, think=think,
                         read_fraction=read_fraction, keys=list(keys), stop=duration, **routed)
            for target in (replica_ids if route != "home" else [rid]):
                sim.network.set_link(cid, target, latency=client_latency, both_ways=True)
            clients[process] = rid
            client_ids[rid].append(cid)
    if partition is not None and route != "home":  # mobile clients: cut replicas from replicas
        near = [r for r in replica_ids if r not in far]
        sim.nemesis.partition_one_way(far, near, at=p_start, heal_at=p_end)
        sim.nemesis.partition_one_way(near, far, at=p_start, heal_at=p_end)
    elif partition is not None:
        side = [n for r in far for n in [r] + client_ids[r]]
        sim.nemesis.partition([side], at=p_start, heal_at=p_end)
    for node, at, restart_at in crash_plan:
        sim.nemesis.crash(node, at=at, restart_at=restart_at)
    if faults is not None:
        faults(sim)
    try:
        sim.run(until=duration + settle)
    except EventBudgetExceeded as exc:
        raise EventBudgetExceeded(f"{exc} (here: pass max_events=N to run_workload or to the scenario)") from None

    return RegisterRun(sim, recorder.history, replica_ids, clients,
                       sim.trace.partition_spans(end=sim.now), cls.__name__)


# -- measuring ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaleRead:
    """A read that returned a value an acknowledged write had overwritten before the read began.

    Attributes:
        read: the stale read.
        saw: the write whose value it returned (None: the initial value).
        missed: an ``ok`` write of the same key that completed before the read
            was invoked, and began after ``saw`` completed.
    """

    read: Operation
    saw: Operation | None
    missed: Operation

    def __str__(self) -> str:
        return (f"{self.read} at t={self.read.call_time:g} missed {self.missed}, "
                f"acknowledged at t={self.missed.return_time:g}")


def stale_reads(history: History | Iterable[Operation]) -> list[StaleRead]:
    """Return the reads that are certainly stale: proof enough that a history is not linearizable.

    A read ``r`` is stale if it returned the value of write ``w1`` (or the
    initial None), and some ``ok`` write ``w2`` of the same key completed
    before ``r`` was invoked and was invoked after ``w1`` completed. Then
    ``w2`` must come after ``w1`` and before ``r`` in every linearization, so
    ``r`` cannot return ``w1``'s value. Concurrent writes do not count: either
    may be the last. Needs distinct write values per key (as
    :func:`run_workload` writes); reads of a value nobody wrote are ignored.

    Args:
        history: a History or its operations (``read``/``get``, ``write``/``put``).

    Returns:
        One :class:`StaleRead` per stale read, in invocation order (``missed``
        is the latest-completing such write).

    Raises:
        TypeError: ``history`` is not a History or a list of operations.
        InvalidArgument: two writes of one key write the same value (also a ValueError).

    Example:
        >>> h = History()
        >>> _ = h.invoke(0, "write", "x", 1); _ = h.ok(0)
        >>> _ = h.invoke(1, "read", "x"); _ = h.ok(1, value=None)
        >>> [str(s.read) for s in stale_reads(h)]
        ["p1 read('x') -> None"]
    """
    ops = _history_ops("history", history)
    writes: dict[Hashable, list[Operation]] = {}
    source: dict[tuple, Operation] = {}
    for op in ops:
        if op.f in _WRITES and op.status != "fail":
            if (op.key, op.value) in source:
                raise InvalidArgument(f"key={op.key!r}: value={op.value!r} is written twice "
                                 f"({source[(op.key, op.value)]} and {op}); stale_reads needs "
                                 "distinct write values")
            source[(op.key, op.value)] = op
            writes.setdefault(op.key, []).append(op)
    found = []
    for r in ops:
        if r.f not in _READS or r.status != "ok":
            continue
        if r.output is None:
            w1 = None
        else:
            w1 = source.get((r.key, r.output))
            if w1 is None:
                continue
            if w1.status != "ok":
                continue  # an indeterminate write may take effect at any later time
        missed = None
        for w2 in writes.get(r.key, ()):
            if (w2 is not w1 and w2.status == "ok" and w2.return_index < r.call_index
                    and (w1 is None or w1.return_index < w2.call_index)):
                if missed is None or w2.return_index > missed.return_index:
                    missed = w2
        if missed is not None:
            found.append(StaleRead(r, w1, missed))
    return found


def first_violation(history: History, model: Any = "register", *,
                    budget: int = DEFAULT_BUDGET) -> float | None:
    """Return the time of the first event after which ``history`` is not linearizable.

    Every prefix of a linearizable history is linearizable, so the first
    failing prefix is found by bisection over the events. The history up to
    (not including) the returned time is linearizable; from it on, never again.

    Args:
        history: a History (its events in order).
        model: as for :func:`~course_lib.checkers.linearizable`.
        budget: search steps allowed per check.

    Returns:
        The event's time, or None if the whole history is linearizable.

    Raises:
        TypeError: ``history`` is not a History.
        RuntimeError: a check ran out of ``budget`` (no verdict).

    Example:
        >>> h = History()
        >>> _ = h.invoke(0, "write", "x", 1, time=0); _ = h.ok(0, time=1)
        >>> _ = h.invoke(1, "read", "x", time=2); _ = h.ok(1, value=None, time=3)
        >>> first_violation(h)
        3
    """
    if not isinstance(history, History):
        raise InvalidArgumentType(f"history={history!r} must be a History")
    events = list(history)

    def verdict(n: int) -> bool:
        result = linearizable(History(events[:n]), model, budget=budget)
        if result.valid is None:
            raise RuntimeError(f"budget={budget} ran out checking the first {n} events; "
                               "pass a larger budget")
        return result.valid

    if verdict(len(events)):
        return None
    lo, hi = 0, len(events)  # prefix lo is linearizable, prefix hi is not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if verdict(mid):
            lo = mid
        else:
            hi = mid
    return events[hi - 1].time


@dataclass(frozen=True)
class Window:
    """Measurements of the operations invoked in ``[start, end)``.

    Attributes:
        start, end: the window.
        ops: operations invoked in it.
        ok, failed, indeterminate: how they ended (indeterminate: ``info``
            or never completed).
        reads: ok reads among them.
        stale_reads: stale reads among them (see :func:`stale_reads`).
        linearizable: whether the history up to ``end`` is linearizable.
    """

    start: float
    end: float
    ops: int
    ok: int
    failed: int
    indeterminate: int
    reads: int
    stale_reads: int
    linearizable: bool

    @property
    def availability(self) -> float:
        """The share of operations that succeeded (NaN for an empty window)."""
        return self.ok / self.ops if self.ops else float("nan")


def windows(history: History, width: float, *, start: float = 0.0, end: float | None = None,
            violation: float | None | bool = False, max_windows: int = 10_000) -> list[Window]:
    """Cut the history into windows of ``width`` by invocation time and measure each.

    Args:
        history: a History.
        width: the window length.
        start: where the first window starts.
        end: where the windows stop (default: the last invocation, included).
        violation: the result of :func:`first_violation`, if already known
            (default: compute it).
        max_windows: the most windows to cut (a budget: a tiny ``width``
            over a long history would make millions).

    Returns:
        The windows, in time order.

    Raises:
        InvalidArgumentType: ``history`` is not a History (also a TypeError).
        InvalidArgument: ``width`` is not positive, ``end`` is not after
            ``start``, or more than ``max_windows`` windows (also a ValueError).

    Example:
        >>> h = History()
        >>> _ = h.invoke(0, "write", "x", 1, time=0); _ = h.ok(0, time=1)
        >>> _ = h.invoke(0, "read", "x", time=12); _ = h.fail(0, time=13)
        >>> [(w.start, w.availability) for w in windows(h, 10)]
        [(0.0, 1.0), (10.0, 0.0)]
    """
    if not isinstance(history, History):
        raise InvalidArgumentType(f"history={history!r} must be a History")
    width = _positive("width", width)
    start = float(start) if _is_number(start) else start
    if not isinstance(start, float) or not math.isfinite(start):
        error = InvalidArgument if isinstance(start, float) else InvalidArgumentType
        raise error(f"start={start!r} must be a finite number")
    if violation is not False and violation is not None and (
            not _is_number(violation) or not math.isfinite(violation)):
        raise InvalidArgumentType(f"violation={violation!r} must be a time from first_violation(), "
                                  "None (linearizable) or False (compute it)")
    check_int("max_windows", max_windows, low=1)
    ops = history.operations()
    if end is None:
        end = max([op.call_time for op in ops], default=start) + 1e-9
    if not _is_number(end):
        raise InvalidArgumentType(f"end={end!r} must be a finite number after start={start!r}")
    if not math.isfinite(end) or end <= start:
        raise InvalidArgument(f"end={end!r} must be a finite number after start={start!r}")
    count = max(1, math.ceil((end - start) / width - 1e-9))
    if count > max_windows:
        raise InvalidArgument(f"width={width!r} cuts [{start:g}, {end:g}) into {count} windows, more "
                              f"than max_windows={max_windows}; pass a larger width (or max_windows)")
    if violation is False:
        violation = first_violation(history)
    stale_ids = {s.read.id for s in stale_reads(ops)}
    rows = []
    for k in range(count):
        lo, hi = start + k * width, start + (k + 1) * width
        inside = [op for op in ops if lo <= op.call_time < hi]
        rows.append(Window(
            start=lo, end=hi, ops=len(inside),
            ok=sum(op.status == "ok" for op in inside),
            failed=sum(op.status == "fail" for op in inside),
            indeterminate=sum(op.indeterminate for op in inside),
            reads=sum(op.f in _READS and op.status == "ok" for op in inside),
            stale_reads=sum(op.id in stale_ids for op in inside),
            linearizable=violation is None or violation >= hi,
        ))
    return rows


def latencies(history: History | Iterable[Operation], f: str | None = None) -> list[float]:
    """Return the latency (completion minus invocation time) of every ``ok`` operation.

    Args:
        history: a History or its operations.
        f: only operations of this function (e.g. ``"write"``); None for all.

    Returns:
        The latencies, in invocation order.

    Raises:
        TypeError: ``history`` or ``f`` has the wrong type.
    """
    if f is not None and not isinstance(f, str):
        raise InvalidArgumentType(f"f={f!r} must be a function name such as 'read', or None")
    return [op.return_time - op.call_time for op in _history_ops("history", history)
            if op.status == "ok" and (f is None or op.f == f)]


def plot_windows(runs: Mapping[str, RegisterRun], width: float = 10.0, *, axes: Any = None,
                 title: str | None = None) -> Any:
    """Draw availability and stale reads per time window for several runs, partitions shaded.

    The top panel is the share of operations that succeeded in each window;
    the bottom one the number of stale reads, with a dashed line where each
    run's history stops being linearizable.

    Args:
        runs: label -> :class:`RegisterRun` (e.g. ``{"AP": ap_run, "CP": cp_run}``).
        width: the window length.
        axes: two matplotlib Axes to draw on (default: a new figure).
        title: the figure title.

    Returns:
        The two Axes.

    Raises:
        InvalidArgument: ``runs`` is empty or ``width`` is not positive (also a ValueError).
        InvalidArgumentType: ``runs`` is not a dict of RegisterRuns, or ``axes``
            not two Axes (also a TypeError).
    """
    import matplotlib.pyplot as plt

    if not isinstance(runs, Mapping):
        raise InvalidArgumentType(f"runs={runs!r} must be a non-empty dict of label -> RegisterRun")
    if not runs:
        raise InvalidArgument(f"runs={runs!r} must be a non-empty dict of label -> RegisterRun")
    for label, run in runs.items():
        if not isinstance(run, RegisterRun):
            raise InvalidArgumentType(f"runs[{label!r}]={run!r} is not a RegisterRun")
    width = _positive("width", width)
    if title is not None:
        check_type("title", title, str, what="a str or None")
    if axes is not None:
        try:
            pair = len(axes) == 2 and all(hasattr(ax, "axvspan") for ax in axes)
        except TypeError:  # a single Axes has no len()
            pair = False
        if not pair:
            raise InvalidArgumentType(f"axes={axes!r} must be two matplotlib Axes (top, bottom) or None")
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(10, 5.2), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2]})
    top, bottom = axes
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
    shaded = set()
    n = len(runs)
    for k, (label, run) in enumerate(runs.items()):
        colour = colours[k % len(colours)]
        for span in run.partitions:
            if span not in shaded:
                shaded.add(span)
                for ax in axes:
                    ax.axvspan(*span, color="#f4cccc", alpha=0.6, lw=0, zorder=0)
        rows = run.windows(width)
        mids = [(w.start + w.end) / 2 for w in rows]
        top.plot(mids, [w.availability for w in rows], marker="o", ms=4, color=colour, label=label)
        offset = (k - (n - 1) / 2) * width * 0.8 / n
        bottom.bar([m + offset for m in mids], [w.stale_reads for w in rows],
                   width=width * 0.8 / n, color=colour, label=label)
        when = run.first_violation()
        if when is not None:
            for ax in axes:
                ax.axvline(when, color=colour, ls="--", lw=1.2)
            top.annotate(f" {label}: not linearizable from t={when:.0f}", (when, 0.04),
                         color=colour, fontsize=8)
    top.set_ylim(-0.02, 1.12)
    top.set_ylabel("availability\n(share of ops ok)")
    bottom.set_ylabel("stale reads")
    bottom.set_xlabel("simulated time (window of invocation)")
    top.legend(loc="lower right", fontsize=8)
    if shaded:
        top.text(min(s[0] for s in shaded), 1.1, " partition", fontsize=8, color="#a33", va="top")
    if title:
        top.set_title(title)
    top.figure.tight_layout()
    return axes


# -- the chapter 01 exercise's scenarios ---------------------------------------------------------------
# They only drive and observe the learner's code: the session's enforcement logic (Part A) and the
# majority-quorum replica (Part B) are the learner's, and live only in the exercise.

_GUARANTEES = ("read your writes", "monotonic reads", "monotonic writes", "writes follow reads")


def _check_size(max_events: Any, **sizes: int) -> None:
    """Refuse a cluster too big for ``max_events`` before building it (each node is started once)."""
    check_int("max_events", max_events, low=1)
    for name, size in sizes.items():
        if size > max_events:
            raise InvalidArgument(f"{name}={size} nodes cannot start within max_events={max_events} "
                                  "events; pass a larger max_events")


def session_run(session: Callable[[], Any] | None, seed: int | str, *, replicas: int = 3,
                route: str = "random", clients: int = 6, duration: float = 100.0,
                loss: float = 0.0, duplicate: float = 0.0, reorder: float = 0.0,
                partition: bool = True, crash: bool = False, keys: Sequence[Any] = ("x",),
                read_fraction: float = 0.6, think: tuple[float, float] = (1.0, 4.0),
                max_events: int = 2_000_000) -> RegisterRun:
    """Run mobile clients, each with its own ``session()``, against the AP register under faults.

    Every client sends each operation to a replica chosen by ``route``
    (``"random"`` or ``"rotate"``), so consecutive operations of one client
    land on replicas that may not have heard of each other's writes. Faults
    hit the links between replicas: ``loss``, ``duplicate``, ``reorder``; with
    ``partition``, a random minority of replicas is cut off from the others
    from 15% to 75% of ``duration``; with ``crash``, a random replica is down
    from 30% to 50%. Links between clients and replicas are fast and never
    lose or hold back messages: a write whose ``write_ok`` is lost, or which
    arrives after the client gave up, takes effect with a version its session
    never learns, and no token can protect what the session does not know.

    Args:
        session: the session class (one instance per client), or None for
            clients without sessions (the "before" picture).
        seed: the simulation's seed.
        replicas: the number of AsyncReplica replicas (>= 2).
        route: ``"random"`` or ``"rotate"``.
        clients: the number of clients (>= 1).
        duration: clients stop issuing operations then; the run settles 20 more.
        loss, duplicate, reorder: faults of the links between replicas.
        partition, crash: the faults described above.
        keys: the register's keys.
        read_fraction, think: the clients' workload (see :func:`run_workload`).
        max_events: the run's budget of events (see :func:`run_workload`).

    Returns:
        The :class:`RegisterRun`.

    Raises:
        InvalidArgument: an argument is out of range (named in the message).

    Example:
        >>> run = session_run(None, seed=1)
        >>> from course_lib.checkers import read_your_writes
        >>> read_your_writes(run.history).valid
        False
    """
    if session is not None and not callable(session):
        raise InvalidArgumentType(f"session={session!r} must be a class (called once per client) or None")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replicas = _count("replicas", replicas, 2)
    clients = _count("clients", clients, 1)
    check_choice("route", route, ("random", "rotate"))
    duration = _positive("duration", duration)
    for name, flag in (("partition", partition), ("crash", crash)):
        check_type(name, flag, bool, what="True or False")
    _check_size(max_events, replicas=replicas, clients=clients)
    ids = [f"n{i + 1}" for i in range(replicas)]
    planner = random.Random(f"{seed}/session-faults")  # as sim.rng_for: from the seed only
    far = planner.sample(ids, max(1, (replicas - 1) // 2))
    victim = ids[planner.randrange(replicas)]
    loss = check_probability("loss", loss)

    def faults(sim: Simulation) -> None:
        for client in sim.nodes:
            if client not in ids:
                for replica in ids:
                    sim.network.set_link(client, replica, loss=0.0, reorder=0.0, both_ways=True)
        if crash:
            sim.nemesis.crash(victim, at=0.3 * duration, restart_at=0.5 * duration)

    per_replica, extra = divmod(clients, replicas)
    run = run_workload(AsyncReplica, seed=seed, replicas=ids, clients_per_replica=max(1, per_replica),
                       duration=duration, settle=20.0, loss=loss, duplicate=duplicate,
                       reorder=reorder, partition=(0.15 * duration, 0.75 * duration) if partition else None,
                       cut_off=far, route=route, session=session, think=think,
                       read_fraction=read_fraction, keys=keys, faults=faults, max_events=max_events)
    return run


_SESSION_RUN_OPTIONS = ("replicas", "route", "clients", "duration", "loss", "duplicate", "reorder",
                        "partition", "crash", "keys", "read_fraction", "think", "max_events")


def session_scenario(session: Callable[[], Any], seed: int | str, *,
                     guarantees: Sequence[str] = ("read your writes", "monotonic reads"),
                     min_availability: float = 0.8, **options: Any) -> RegisterRun:
    """Run :func:`session_run` with ``session`` and check the session guarantees on the history.

    Checks that every guarantee in ``guarantees`` holds (judged by
    :mod:`course_lib.checkers.session`), and that at least ``min_availability``
    of the operations succeeded (a session that refuses every answer keeps
    its guarantees by never answering).

    Args:
        session: the session class (one instance per client).
        seed: the simulation's seed.
        guarantees: names of guarantees, among ``"read your writes"``,
            ``"monotonic reads"``, ``"monotonic writes"``, ``"writes follow reads"``.
        min_availability: the least share of operations that must succeed.
        **options: passed to :func:`session_run` (faults, routes, sizes).

    Returns:
        The run, after a successful check.

    Raises:
        ScenarioFailed: a guarantee is violated, or too few operations succeeded.
        InvalidArgument: a guarantee's name is unknown, or another bad argument
            or option (named in the message).
    """
    from .checkers import CHECKERS
    from .sim.errors import ScenarioFailed

    if isinstance(guarantees, str):
        guarantees = [guarantees]
    if not isinstance(guarantees, Iterable):
        raise InvalidArgumentType(f"guarantees={guarantees!r} must be a list of guarantee names, among "
                                  f"{list(_GUARANTEES)}")
    guarantees = list(guarantees)
    if not guarantees:
        raise InvalidArgument(f"guarantees=[] must name at least one of {list(_GUARANTEES)}")
    for name in guarantees:
        if not isinstance(name, str) or name not in _GUARANTEES:
            raise InvalidArgument(f"guarantees contains {name!r}; choose among {list(_GUARANTEES)}")
    if session is None or not callable(session):
        raise InvalidArgumentType(f"session={session!r} must be your session class")
    for name, value in options.items():
        if name not in _SESSION_RUN_OPTIONS:
            raise InvalidArgumentType(f"{name}={value!r} is not an option of session_scenario; options "
                                      f"(passed to session_run) are {', '.join(_SESSION_RUN_OPTIONS)}")
    min_availability = check_probability("min_availability", min_availability)
    run = session_run(session, seed, **options)
    for name in guarantees:
        verdict = CHECKERS[name](run.history)
        if not verdict.valid:
            first = verdict.violations[0]
            raise ScenarioFailed(
                f"{name} is violated {len(verdict.violations)} times; the first: {first.message} "
                f"(t={first.ops[-1].call_time:g})", run.sim)
    ops = run.history.operations()
    ok = sum(op.status == "ok" for op in ops)
    if not ops or ok / len(ops) < min_availability:
        rejected = len(run.sim.trace.custom("session_reject"))
        raise ScenarioFailed(
            f"only {ok} of {len(ops)} operations succeeded (at least {min_availability:.0%} must); "
            f"sessions rejected {rejected} answers: does accept_read refuse answers that are fresh "
            "enough, or a write get a version its own session cannot accept?", run.sim)
    return run


def quorum_scenario(cls: type, seed: int | str, *, replicas: int = 3, loss: float = 0.0,
                    duplicate: float = 0.0, reorder: float = 0.0, partition: bool = True,
                    one_way: bool = False, crash: bool = False, flaky: int = 0,
                    clients_per_replica: int = 1,
                    duration: float = 100.0, min_availability: float = 0.7,
                    think: tuple[float, float] = (1.0, 4.0),
                    replica_options: Mapping[str, Any] | None = None,
                    max_events: int = 2_000_000) -> RegisterRun:
    """Run a CP register ``cls`` under faults and check it is linearizable and serves the majority.

    Each replica has ``clients_per_replica`` clients next to it (in its
    partition group). With ``partition``, a random minority of replicas and
    their clients is cut off from 25% to 65% of ``duration``; with
    ``one_way``, that minority's messages to the others are dropped instead
    (it still hears them); with ``crash``, a random replica is down from 40%
    to 60% (with 5 or more replicas, a second one from 45% to 55%); with
    ``flaky=k``, ``k`` short partitions (a random minority of replicas and
    their clients, for 2 to 6 time units each) come and go after 70% of
    ``duration``: writes caught by one half-way through reach only some
    replicas, which is where a reader must help them along.

    Checks:

    - the whole history is linearizable (``course_lib.checkers.linearizable``);
    - with a (two-way) partition, no client on the minority side gets ``ok``
      for an operation it invoked during the partition: a replica that cannot
      reach a majority must refuse (or stay silent);
    - with a partition and no crash, at least ``min_availability`` of the
      operations that majority-side clients invoked during the partition
      succeed (0 skips this check).

    Args:
        cls: the replica class (created as ``cls(replicas, **replica_options)``).
        seed: the simulation's seed.
        replicas: the cluster size (>= 3).
        loss, duplicate, reorder: network faults on every link.
        partition, one_way, crash, flaky: the faults described above.
        clients_per_replica: clients next to each replica.
        duration: clients stop issuing operations then; the run settles 20 more.
        min_availability: see the checks.
        think: the clients' think time range.
        replica_options: keyword arguments for ``cls``.
        max_events: the run's budget of events (see :func:`run_workload`).

    Returns:
        The run, after a successful check.

    Raises:
        ScenarioFailed: a check failed (the message says which and where).
        InvalidArgument: a bad argument (named in the message).
    """
    from .sim.errors import ScenarioFailed

    _check_replica_class(cls)
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replicas = _count("replicas", replicas, 3)
    duration = _positive("duration", duration)
    min_availability = check_probability("min_availability", min_availability)
    for name, flag in (("partition", partition), ("one_way", one_way), ("crash", crash)):
        check_type(name, flag, bool, what="True or False")
    _check_size(max_events, replicas=replicas)
    flaky = _count("flaky", flaky, 0)
    # The k-th short partition starts at least 3k - 2 after 70% of duration; one that certainly
    # starts after the run (duration + 20) never happens, and a huge count would take long to plan.
    most = max(0, math.floor((0.3 * duration + 22) / 3))
    if flaky > most:
        raise InvalidArgument(f"flaky={flaky} short partitions cannot all start before the run ends "
                              f"(duration={duration:g}): at most {most}")
    ids = [f"n{i + 1}" for i in range(replicas)]
    planner = random.Random(f"{seed}/quorum-faults")  # as sim.rng_for: from the seed only
    minority = sorted(planner.sample(ids, (replicas - 1) // 2))
    victims = planner.sample(ids, 2 if replicas >= 5 else 1)
    start, end = 0.25 * duration, 0.65 * duration
    cuts, at = [], 0.7 * duration
    for _ in range(flaky):
        at += planner.uniform(1.0, 4.0)
        length = planner.uniform(2.0, 6.0)
        cuts.append((planner.sample(ids, (replicas - 1) // 2), at, at + length))
        at += length

    def faults(sim: Simulation) -> None:
        if one_way:
            majority = [n for n in sim.nodes if n not in minority]
            sim.nemesis.partition_one_way(minority, majority, at=start, heal_at=end)
        if crash:
            sim.nemesis.crash(victims[0], at=0.4 * duration, restart_at=0.6 * duration)
            if len(victims) > 1:
                sim.nemesis.crash(victims[1], at=0.45 * duration, restart_at=0.55 * duration)
        for cut, cut_at, heal_at in cuts:
            clients = [c for c in sim.nodes if isinstance(sim.node(c), RegisterClient)
                       and sim.node(c).replica in cut]
            sim.nemesis.partition([cut + clients], at=cut_at, heal_at=heal_at)

    two_way = partition and not one_way
    run = run_workload(cls, seed=seed, replicas=ids, replica_options=replica_options,
                       clients_per_replica=clients_per_replica, duration=duration, settle=20.0,
                       partition=(start, end) if two_way else None, cut_off=minority,
                       loss=loss, duplicate=duplicate, reorder=reorder, think=think, faults=faults,
                       max_events=max_events)
    verdict = run.check()
    if verdict.valid is not True:
        when = run.first_violation() if verdict.valid is False else None
        where = f" from t={when:g}" if when is not None else ""
        raise ScenarioFailed(f"the history is not linearizable{where}: "
                             f"{verdict.explain().splitlines()[0]}", run.sim)
    if not two_way:
        return run
    side = {process: replica in minority for process, replica in run.clients.items()}
    during = [op for op in run.history.operations() if start <= op.call_time < end]
    for op in during:
        if side[op.process] and op.status == "ok" and op.return_time <= end:
            raise ScenarioFailed(
                f"c{op.process}, cut off with the minority {minority}, got ok for {op} at "
                f"t={op.return_time:g} during the partition: a replica that cannot reach a "
                "majority must refuse", run.sim)
    if not crash and min_availability > 0:
        served = [op for op in during if not side[op.process]]
        ok = sum(op.status == "ok" for op in served)
        if not served or ok / len(served) < min_availability:
            raise ScenarioFailed(
                f"clients on the majority side got ok for only {ok} of {len(served)} operations "
                f"during the partition (at least {min_availability:.0%} must succeed): the majority "
                f"{[n for n in ids if n not in minority]} can still serve them", run.sim)
    return run


def _check_replica_class(cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise InvalidArgumentType(f"cls={cls!r} must be your replica class, a subclass of "
                                  "course_lib.sim.Node")


class _InterruptedWriter(Node):
    """A coordinator that sends one ABD ``store`` to a few replicas and dies: a half-done write."""

    def __init__(self, history: History, targets: Sequence[Any], key: Any, value: Any,
                 timestamp: tuple, at: float) -> None:
        self.history = history
        self.targets = list(targets)
        self.key, self.value, self.timestamp, self.at = key, value, timestamp, at

    def on_start(self) -> None:
        self.set_timer(self.at, self.store_and_vanish)

    def store_and_vanish(self) -> None:
        self.history.invoke("w", "write", self.key, self.value, time=self.sim.now)
        for replica in self.targets:
            self.send(replica, "store", key=self.key, timestamp=self.timestamp, value=self.value)
        self.record("interrupted_write", targets=self.targets, value=self.value)
        self.sim.crash(self.id)  # dies: the replicas' answers find nobody


def interrupted_write_scenario(cls: type, seed: int | str, *, replicas: int = 3,
                               duration: float = 60.0, at: float = 15.0,
                               clients_per_replica: int = 1, max_events: int = 2_000_000) -> RegisterRun:
    """Leave a write half done on a minority of replicas, then check that reads stay linearizable.

    At time ``at`` a coordinator that is not a replica (process ``"w"`` of the
    history) sends ``store(key, timestamp, value)``, the second phase of a
    write with a timestamp above every other, to a minority of the replicas,
    and is never heard of again: its write stays pending for ever. Clients
    read (and sometimes write) through replicas in turn (``route="rotate"``).
    Some reads may see the new value and some not, but once one read has
    returned it, no later read may return an older one: the history must be
    linearizable. Relies on the replicas' ``store`` message (the skeleton's
    ``on_store``: keep the value if its timestamp is higher, answer
    ``store_ok``).

    Args:
        cls: the replica class.
        seed: the simulation's seed.
        replicas: the cluster size (>= 3).
        duration: clients stop issuing operations then; the run settles 20 more.
        at: when the interrupted write's store messages are sent.
        clients_per_replica: clients per replica.
        max_events: the run's budget of events (see :func:`run_workload`).

    Returns:
        The run, after a successful check.

    Raises:
        ScenarioFailed: the history is not linearizable.
        InvalidArgument: a bad argument (named in the message), such as an
            ``at`` after ``duration`` (the write would never happen).
    """
    from .sim.errors import ScenarioFailed

    _check_replica_class(cls)
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    replicas = _count("replicas", replicas, 3)
    _check_size(max_events, replicas=replicas)
    duration = _positive("duration", duration)
    _positive("at", at)
    if not at < duration:
        raise InvalidArgument(f"at={at!r} must be before duration={duration!r}, while clients still "
                              "read")
    ids = [f"n{i + 1}" for i in range(replicas)]
    planner = random.Random(f"{seed}/interrupted-write")
    targets = sorted(planner.sample(ids, (replicas - 1) // 2))

    def faults(sim: Simulation) -> None:
        history = sim.node("c0").recorder.history
        sim.add_node(_InterruptedWriter, "w", history, targets, "x", "half-written",
                     (1_000_000, "w"), _positive("at", at))

    run = run_workload(cls, seed=seed, replicas=ids, clients_per_replica=clients_per_replica,
                       duration=_positive("duration", duration), settle=20.0, route="rotate",
                       think=(0.5, 2.0), read_fraction=0.85, faults=faults, max_events=max_events)
    verdict = run.check()
    if verdict.valid is not True:
        when = run.first_violation() if verdict.valid is False else None
        where = f" from t={when:g}" if when is not None else ""
        raise ScenarioFailed(
            f"a write left half done on {targets} at t={at:g} made the history not "
            f"linearizable{where}: {verdict.explain().splitlines()[0]} (once a read returns a "
            "value, a majority must hold it before the read answers)", run.sim)
    return run
