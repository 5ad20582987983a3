"""The register's clients: closed-loop readers and writers that record what they saw in a history.

Created by :func:`~course_lib.topics.consistency.run_workload`; see the package
docs for the client/replica protocol.
"""

from __future__ import annotations

from typing import Any, Sequence

from ...history import History
from ...sim import Message, Node

ROUTES = ("home", "random", "rotate")
"""How a client picks the replica of each operation (see :class:`RegisterClient`)."""


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
                f"protocol expects '{self._open}_ok' or 'error' (see course_lib.topics.consistency)")
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
