"""The services a saga spans: each does one step of an order and can undo it.

A :class:`StepService` answers two requests, both carrying the saga's id, the step's name and an
**idempotency key** chosen by the caller:

* ``do`` (``saga``, ``step``, ``key``, ``fail``): apply the step, unless ``fail`` names this step
  (the business says no: out of stock, card declined); answer ``done`` with ``ok``.
* ``undo`` (``saga``, ``step``, ``key``): compensate the step if it was applied and not yet
  compensated; if it was never applied, remember that, so that a ``do`` arriving late (a retry
  overtaken by its own compensation) is refused instead of applied. Answer ``undone``.

A request whose key the service has seen gets the first answer again and changes nothing. A
request with a *new* key is a new request, even for a step already applied: a caller that makes
up a fresh key for each retry applies the step twice. ``key=None`` means "no key" (every request
is new), as in code written without idempotency in mind.

The service counts its effects per ``(saga, step)`` in ``applied`` and ``compensated``; those
counts are what :func:`~course_lib.topics.messaging.sagas.saga_outcomes` checks.
"""

from __future__ import annotations

from typing import Any

from ...sim import Node
from ...sim.validation import check_type

__all__ = ["StepService", "SAGA_STEPS"]

#: The order saga's steps, in order, and the service that performs each.
SAGA_STEPS = ("create_order", "reserve_inventory", "process_payment", "ship_order")


class StepService(Node):
    """A service performing one or more saga steps, idempotent by the caller's key.

    Args:
        steps: the step names this service performs.
        work: simulated time each request takes before the answer leaves.
    """

    durable = ("applied", "compensated", "answers", "tombstones", "requests")

    def __init__(self, steps: tuple = SAGA_STEPS, work: float = 0.0) -> None:
        self.steps = tuple(check_type("steps", steps, tuple))
        self.work = work
        self.applied: dict[tuple, int] = {}       # (saga, step) -> times applied
        self.compensated: dict[tuple, int] = {}   # (saga, step) -> times compensated
        self.answers: dict[Any, tuple] = {}       # key -> (type, ok), the first answer
        self.tombstones: set = set()              # (saga, step) compensated before it was applied
        self.requests: list[tuple] = []           # (time, kind, saga, step, key)

    def net(self, saga: Any, step: str) -> int:
        """Times ``step`` of ``saga`` was applied minus times it was compensated."""
        return self.applied.get((saga, step), 0) - self.compensated.get((saga, step), 0)

    def on_do(self, msg: Any) -> None:
        self.requests.append((self.sim.now, "do", msg.saga, msg.step, msg.key))
        if msg.key is not None and msg.key in self.answers:
            return self._answer(msg, *self.answers[msg.key])
        job = (msg.saga, msg.step)
        if job in self.tombstones or msg.get("fail") == msg.step:
            ok = False
        else:
            self.applied[job] = self.applied.get(job, 0) + 1
            ok = True
        if msg.key is not None:
            self.answers[msg.key] = ("done", ok)
        self._answer(msg, "done", ok)

    def on_undo(self, msg: Any) -> None:
        self.requests.append((self.sim.now, "undo", msg.saga, msg.step, msg.key))
        if msg.key is not None and msg.key in self.answers:
            return self._answer(msg, *self.answers[msg.key])
        job = (msg.saga, msg.step)
        if self.net(*job) > 0:
            self.compensated[job] = self.compensated.get(job, 0) + 1
        elif self.applied.get(job, 0) == 0:
            self.tombstones.add(job)
        if msg.key is not None:
            self.answers[msg.key] = ("undone", True)
        self._answer(msg, "undone", True)

    def _answer(self, msg: Any, kind: str, ok: bool) -> None:
        if self.work:
            self.set_timer(self.work, self._late_answer, msg, kind, ok)
        else:
            self.reply(msg, kind, saga=msg.saga, step=msg.step, ok=ok)

    def _late_answer(self, msg: Any, kind: str, ok: bool) -> None:
        self.reply(msg, kind, saga=msg.saga, step=msg.step, ok=ok)
