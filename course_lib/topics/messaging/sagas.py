"""Sagas: an order across four services, the tutorials' two "before" versions, and the harness
that crashes an orchestrator after each of its sends in turn.

The world (:func:`run_sagas`): a ``shop`` asks the ``orchestrator`` to run sagas (``start_saga``
with ``saga`` and ``fail``, the step the business will refuse or None), retrying until the
orchestrator answers ``accepted``; four :class:`~course_lib.topics.messaging.services.StepService`
nodes perform the steps (``orders``, ``inventory``, ``payments``, ``shipping``). The orchestrator
is any :class:`SagaNode` subclass built as ``cls(services)``, ``services`` mapping each step to
its service's node id.

:class:`SagaNode` gives orchestrators one helper, :meth:`SagaNode.call`: send ``do`` or ``undo``
to a step's service and retry with the *same* key after each timeout until an answer comes
(a timeout is an indefinite failure: the step may or may not have happened). What it does not
give is the saga log: that is the orchestrator's own design.

The tutorials' versions, ported: :class:`TutorialOrderSaga` (the orchestrator that keeps its
completed steps in a local list) and :class:`SidekiqOrderJob` (a background job that reserves and
charges, then compensates only the inventory, re-run from the top when its worker dies).

:func:`saga_outcomes` reads the services' books: a saga is **committed** (every step applied
once, none compensated), **compensated** (every step's effects undone), or **half-applied**;
a step applied or compensated more than once is a problem of its own. :func:`crash_runs` runs a
world once without faults, counts the orchestrator's sends, then once more for every send with a
crash right after it (``sim.crash_on_send``), so every step of every saga gets its crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_number,
                               check_positive, check_probability)
from .services import SAGA_STEPS, StepService

__all__ = ["SagaNode", "TutorialOrderSaga", "SidekiqOrderJob", "Shop", "SagaRun", "SagaReport",
           "SERVICE_OF", "run_sagas", "saga_outcomes", "crash_runs", "DEFAULT_ORDERS"]

#: The service node performing each step.
SERVICE_OF = {"create_order": "orders", "reserve_inventory": "inventory",
              "process_payment": "payments", "ship_order": "shipping"}

#: Three orders: one that goes through, one whose card is declined, one that cannot ship.
DEFAULT_ORDERS = (("o1", None), ("o2", "process_payment"), ("o3", "ship_order"))


class SagaNode(Node):
    """Base of orchestrators: the step services' ids and a call that retries with the same key.

    Args:
        services: ``{step: node id}`` for every step of :data:`SAGA_STEPS`.
        timeout: how long to wait for an answer before sending the request again.
    """

    def __init__(self, services: dict, timeout: float = 4.0) -> None:
        self.services = dict(services)
        self.timeout = timeout

    def call(self, step: str, action: str, saga: Any, key: Any, then: Callable[[Any], Any],
             fail: Any = None) -> None:
        """Send ``action`` ("do" or "undo") of ``step`` for ``saga`` with idempotency ``key``.

        Resends the same request after every timeout until an answer arrives, then calls
        ``then(answer)``; ``answer.ok`` says whether the step was applied (for "do").
        """
        if step not in self.services:
            raise InvalidArgument(f"step={step!r} is not a step of this saga; steps are "
                                  f"{tuple(self.services)}")
        if action not in ("do", "undo"):
            raise InvalidArgument(f"action={action!r} must be 'do' or 'undo'")
        if not callable(then):
            raise InvalidArgumentType(f"then={then!r} must be callable as then(answer)")
        self.request(self.services[step], action, saga=saga, step=step, key=key, fail=fail,
                     timeout=self.timeout, on_reply=then,
                     on_timeout=lambda _: self.call(step, action, saga, key, then, fail))

    def tell_shop(self, saga: Any, outcome: str) -> None:
        """Tell the shop how ``saga`` ended: ``outcome`` is "committed" or "compensated"."""
        if outcome not in ("committed", "compensated"):
            raise InvalidArgument(f"outcome={outcome!r} must be 'committed' or 'compensated'")
        self.send("shop", "saga_done", saga=saga, outcome=outcome)


class TutorialOrderSaga(SagaNode):
    """The tutorial's ``OrderSaga``, ported: steps one by one, completed steps in a local list.

    Faithful to the original: no idempotency keys, the list of completed steps lives in memory,
    a step that fails *or times out* is not compensated (only the completed ones are, in reverse),
    and ``ship_order`` has no compensation. A crash forgets every saga in flight.
    """

    def __init__(self, services: dict, timeout: float = 4.0) -> None:
        super().__init__(services, timeout)
        self.running: dict[Any, dict] = {}

    def on_start_saga(self, msg: Any) -> None:
        self.reply(msg, "accepted", saga=msg.saga)
        if msg.saga in self.running:
            return
        self.running[msg.saga] = {"fail": msg.fail, "completed": []}
        self._step(msg.saga, 0)

    def _step(self, saga: Any, i: int) -> None:
        if i == len(SAGA_STEPS):
            return self.tell_shop(saga, "committed")
        step = SAGA_STEPS[i]
        state = self.running[saga]
        # await step(order_data): one attempt; a timeout raises like a refusal does
        self.request(self.services[step], "do", saga=saga, step=step, key=None, fail=state["fail"],
                     timeout=self.timeout,
                     on_reply=lambda answer: self._after(saga, i, answer.ok),
                     on_timeout=lambda _: self._after(saga, i, False))

    def _after(self, saga: Any, i: int, ok: bool) -> None:
        state = self.running[saga]
        if ok:
            state["completed"].append(SAGA_STEPS[i])
            return self._step(saga, i + 1)
        for step in reversed(state["completed"]):   # compensate in reverse order
            if step != "ship_order":
                self.send(self.services[step], "undo", saga=saga, step=step, key=None)
        self.tell_shop(saga, "compensated")

    def on_undone(self, msg: Any) -> None:
        pass


class SidekiqOrderJob(SagaNode):
    """The tutorial's Sidekiq ``OrderProcessingJob``, ported, with its worker's retries.

    ``perform`` reserves inventory, then charges the card whatever the reservation said, then
    confirms and ships if both succeeded, or fails the order and releases the inventory if the
    reservation had succeeded (a successful charge is never refunded). The job stays in the
    (durable) queue until ``perform`` returns, so a worker that dies mid-job runs it again from
    the top after its restart (Sidekiq's retry), with no idempotency keys.
    """

    durable = ("queue",)
    STEPS = ("reserve_inventory", "process_payment", "ship_order")

    def __init__(self, services: dict, timeout: float = 4.0) -> None:
        super().__init__(services, timeout)
        self.queue: list[tuple] = []   # jobs (saga, fail) in Redis: survive the worker

    def on_start(self) -> None:
        for saga, fail in list(self.queue):  # a retry: perform again from the top
            self.perform(saga, fail)

    def on_start_saga(self, msg: Any) -> None:
        self.reply(msg, "accepted", saga=msg.saga)
        if any(job[0] == msg.saga for job in self.queue):
            return
        self.queue.append((msg.saga, msg.fail))    # perform_async
        self.perform(msg.saga, msg.fail)

    def perform(self, saga: Any, fail: Any) -> None:
        results: dict[str, bool] = {}

        def charged(answer: Any) -> None:
            results["payment"] = answer.ok
            if results["inventory"] and results["payment"]:
                self.send("shop", "order_status", saga=saga, status="confirmed")
                self.call("ship_order", "do", saga, None, lambda a: self._finish(saga), fail)
            else:
                self.send("shop", "order_status", saga=saga, status="failed")
                if results["inventory"]:   # compensating transactions
                    self.call("reserve_inventory", "undo", saga, None, lambda a: None)
                self._finish(saga)

        def reserved(answer: Any) -> None:
            results["inventory"] = answer.ok
            self.call("process_payment", "do", saga, None, charged, fail)

        self.call("reserve_inventory", "do", saga, None, reserved, fail)

    def _finish(self, saga: Any) -> None:
        self.queue = [job for job in self.queue if job[0] != saga]

    def on_undone(self, msg: Any) -> None:
        pass


class Shop(Node):
    """Starts each saga at its time and asks again (same saga id) until the orchestrator accepts."""

    def __init__(self, orders: tuple, spacing: float = 1.0, retry: float = 5.0) -> None:
        self.orders = orders
        self.spacing = spacing
        self.retry = retry
        self.outcomes: dict[Any, str] = {}
        self.accepted: set = set()

    def on_start(self) -> None:
        for i, (saga, fail) in enumerate(self.orders):
            self.set_timer(i * self.spacing, self._ask, saga, fail)

    def _ask(self, saga: Any, fail: Any) -> None:
        if saga in self.accepted:
            return
        self.request("orchestrator", "start_saga", saga=saga, fail=fail, timeout=self.retry,
                     on_reply=lambda m: self.accepted.add(saga),
                     on_timeout=lambda _: self._ask(saga, fail))

    def on_saga_done(self, msg: Any) -> None:
        self.outcomes[msg.saga] = msg.outcome

    def on_order_status(self, msg: Any) -> None:
        self.outcomes[msg.saga] = msg.status

    def on_accepted(self, msg: Any) -> None:
        pass   # a late acceptance of a retried start


@dataclass
class SagaReport:
    """What the services' books say about each saga."""

    outcomes: dict[Any, str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No saga half-applied, no step applied or compensated twice."""
        return not self.problems

    def count(self, outcome: str) -> int:
        """How many sagas ended with ``outcome``."""
        return sum(1 for o in self.outcomes.values() if o == outcome)


@dataclass
class SagaRun:
    """A finished saga world: the simulation, its services and the report."""

    sim: Simulation
    orders: tuple
    steps: tuple
    report: SagaReport
    orchestrator_sends: int

    @property
    def told(self) -> dict:
        """What the orchestrator told the shop: ``{saga: outcome}``."""
        return dict(self.sim.node("shop").outcomes)

    @property
    def services(self) -> dict:
        """``{node id: StepService}``."""
        return {name: self.sim.node(name) for name in sorted(set(SERVICE_OF.values()))}


def _check_orders(orders: Any) -> tuple:
    if isinstance(orders, (str, bytes)) or not isinstance(orders, (tuple, list)) or not orders:
        raise InvalidArgumentType(f"orders={orders!r} must be a non-empty tuple of (saga id, fail step or None)")
    ids = set()
    for i, order in enumerate(orders):
        if not isinstance(order, (tuple, list)) or len(order) != 2:
            raise InvalidArgument(f"orders[{i}]={order!r} must be a pair (saga id, fail step or None)")
        if order[1] is not None and order[1] not in SAGA_STEPS:
            raise InvalidArgument(f"orders[{i}]={order!r}: the step to fail must be None or one of {SAGA_STEPS}")
        if order[0] in ids:
            raise InvalidArgument(f"orders[{i}]={order!r} repeats saga id {order[0]!r}")
        ids.add(order[0])
    return tuple(tuple(o) for o in orders)


def saga_outcomes(services: dict, sagas: Any, steps: tuple = SAGA_STEPS) -> SagaReport:
    """Judge each saga from the services' counts: committed, compensated or half-applied."""
    outcomes: dict[Any, str] = {}
    problems: list[str] = []
    by_step = {step: services[SERVICE_OF[step]] for step in steps}
    for saga in sagas:
        nets = {}
        for step, svc in by_step.items():
            applied = svc.applied.get((saga, step), 0)
            undone = svc.compensated.get((saga, step), 0)
            if applied > 1:
                problems.append(f"saga {saga!r}: {step} applied {applied} times")
            if undone > 1:
                problems.append(f"saga {saga!r}: {step} compensated {undone} times")
            nets[step] = applied - undone
        if all(n == 1 for n in nets.values()) and not any(
                by_step[s].compensated.get((saga, s), 0) for s in steps):
            outcomes[saga] = "committed"
        elif all(n == 0 for n in nets.values()):
            outcomes[saga] = "compensated"
        else:
            left = [s for s, n in nets.items() if n > 0]
            outcomes[saga] = "half-applied"
            problems.append(f"saga {saga!r} half-applied: {', '.join(left) or 'over-compensated'} "
                            "still in effect")
    return SagaReport(outcomes, problems)


def run_sagas(orchestrator: type, orders: Any = DEFAULT_ORDERS, *, seed: int = 0,
              crashes: Any = (), restart_after: float = 5.0, loss: float = 0.0,
              until: float = 300.0, steps: tuple = SAGA_STEPS, timeout: float = 4.0) -> SagaRun:
    """Run the sagas ``orders`` through ``orchestrator``; crash it after its nth sends in ``crashes``.

    Args:
        orchestrator: a :class:`SagaNode` subclass.
        orders: ``((saga id, step to fail or None), ...)``.
        seed: the random seed.
        crashes: send counts: crash after the orchestrator's ``crashes[0]``-th send, then after
            the ``crashes[1]``-th send following its restart, and so on.
        restart_after: how long each crash lasts.
        loss: the network's loss probability.
        until: the simulated time to run for.
        steps: the steps the orchestrator runs (the Sidekiq job runs three).
        timeout: the orchestrator's request timeout.
    """
    if not (isinstance(orchestrator, type) and issubclass(orchestrator, SagaNode)):
        raise InvalidArgumentType(f"orchestrator={orchestrator!r} must be a SagaNode subclass")
    orders = _check_orders(orders)
    if isinstance(crashes, (str, bytes)) or not isinstance(crashes, (tuple, list)):
        raise InvalidArgumentType(f"crashes={crashes!r} must be a tuple of send counts")
    for i, n in enumerate(crashes):
        check_int(f"crashes[{i}]", n, low=1)
    check_positive("restart_after", restart_after)
    check_probability("loss", loss)
    check_number("until", until, low=0, low_open=True)
    sim = Simulation(seed=seed, loss=loss)
    for name in sorted(set(SERVICE_OF.values())):
        sim.add_node(StepService, name, tuple(s for s in SAGA_STEPS if SERVICE_OF[s] == name))
    sim.add_node(Shop, "shop", orders)
    sim.add_node(orchestrator, "orchestrator", dict(SERVICE_OF), timeout)
    for n in crashes:
        sim.crash_on_send("orchestrator", nth=n, restart_after=restart_after)
    sim.run(until=until)
    services = {name: sim.node(name) for name in sorted(set(SERVICE_OF.values()))}
    report = saga_outcomes(services, [o[0] for o in orders], steps)
    sends = len(sim.trace.filter(kind="send", node="orchestrator"))
    return SagaRun(sim, orders, tuple(steps), report, sends)


def crash_runs(orchestrator: type, orders: Any = DEFAULT_ORDERS, *, seed: int = 0,
               second: int | None = None, **options: Any) -> Iterator[tuple[tuple, SagaRun]]:
    """Yield ``(crashes, run)``: one run per send of a fault-free run, crashing right after it.

    With ``second=k``, each run also crashes after the k-th send following the restart (a crash
    during recovery).
    """
    if second is not None:
        check_int("second", second, low=1)
    clean = run_sagas(orchestrator, orders, seed=seed, **options)
    yield (), clean
    for n in range(1, clean.orchestrator_sends + 1):
        crashes = (n,) if second is None else (n, second)
        yield crashes, run_sagas(orchestrator, orders, seed=seed, crashes=crashes, **options)
