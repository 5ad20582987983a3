"""The dual-write problem and the transactional outbox.

The world (:func:`run_orders`): a ``client`` places orders with the ``orders`` service, asking
again (same order id) until it gets ``placed``; the service keeps orders in the ``db``
(:class:`~.database.Database`, table ``orders``) and announces each with an ``order_created``
event on the ``orders`` topic of the ``broker`` (:class:`~.log.Broker`); the event's id is
:func:`event_id` of the order.

* :class:`DualWriteOrderService`, the tutorial's ``OrderService.create_order`` ported: write the
  order, then publish. A crash between the two loses the event for good.
* :class:`PublishFirstOrderService`: publish, then write. A crash between the two announces an
  order that does not exist.
* :class:`OutboxOrderService`: one transaction writes the order *and* a row of the ``outbox``
  table (key: the event id, value: ``(topic, key, value)``). Publishing is someone else's job: a
  **relay**, a node built as ``relay(db, broker)`` that reads the outbox and publishes its rows.
  The relay is the exercise; :class:`DeleteFirstRelay` is a relay that deletes a row, then
  publishes it, to show what a relay must not do.

:class:`OutboxReport` compares the orders the database committed with the events on the log:
**lost** (a committed order never announced), **invented** (an event for an order that does not
exist) and duplicates (an order announced twice: allowed, consumers dedupe by event id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgumentType, check_int, check_number, check_positive,
                               check_probability)
from .database import Database
from .log import Broker

__all__ = ["OrderServiceBase", "DualWriteOrderService", "PublishFirstOrderService",
           "OutboxOrderService", "DeleteFirstRelay", "OrderClient", "OutboxRun", "OutboxReport",
           "run_orders", "event_id", "outbox_report"]


def event_id(order: Any) -> str:
    """The id of the event announcing ``order``."""
    return f"{order}:created"


class OrderServiceBase(Node):
    """An order service: answers ``place_order`` (``order``) with ``placed`` once it is stored."""

    def __init__(self, db: Any = "db", broker: Any = "broker", timeout: float = 4.0) -> None:
        self.db = db
        self.broker = broker
        self.timeout = timeout

    def write(self, ops: tuple, then: Any) -> None:
        """Run the transaction ``ops`` on the database, retrying after timeouts; then ``then(answer)``."""
        self.request(self.db, "txn", ops=ops, timeout=self.timeout, on_reply=then,
                     on_timeout=lambda _: self.write(ops, then))

    def publish(self, order: Any) -> None:
        """Announce ``order`` on the ``orders`` topic (fire and forget, as the tutorial's bus)."""
        self.send(self.broker, "produce", topic="orders", key=order, value=("order_created", order),
                  eid=event_id(order))


class DualWriteOrderService(OrderServiceBase):
    """The tutorial's ``OrderService.create_order``: ``Order.create``, then ``event_bus.publish``."""

    def on_place_order(self, msg: Any) -> None:
        def created(answer: Any) -> None:
            if answer.ok:   # Order.create raises on a duplicate id: no publish then
                self.publish(msg.order)
            self.reply(msg, "placed", order=msg.order)
        self.write((("insert", "orders", msg.order, "pending"),), created)


class PublishFirstOrderService(OrderServiceBase):
    """Publish first, then write the order: the opposite order, the opposite failure."""

    def on_place_order(self, msg: Any) -> None:
        self.publish(msg.order)
        self.write((("insert", "orders", msg.order, "pending"),),
                   lambda answer: self.reply(msg, "placed", order=msg.order))


class OutboxOrderService(OrderServiceBase):
    """Write the order and its event into the outbox table in one transaction; publish nothing."""

    def on_place_order(self, msg: Any) -> None:
        row = ("orders", msg.order, ("order_created", msg.order))
        self.write((("insert", "orders", msg.order, "pending"),
                    ("put", "outbox", event_id(msg.order), row)),
                   lambda answer: self.reply(msg, "placed", order=msg.order))


class DeleteFirstRelay(Node):
    """A relay that removes each outbox row, then publishes it: a crash in between loses the event."""

    def __init__(self, db: Any = "db", broker: Any = "broker", interval: float = 2.0) -> None:
        self.db = db
        self.broker = broker
        self.interval = interval

    def on_start(self) -> None:
        self.every(self.interval, self._poll, name="poll")

    def _poll(self) -> None:
        self.request(self.db, "read", table="outbox", timeout=self.interval + 4,
                     on_reply=self.rows_read)

    def rows_read(self, answer: Any) -> None:
        for row_id, (topic, key, value) in answer.rows:
            self.send(self.db, "txn", ops=(("delete", "outbox", row_id),), reply=False)
            self.send(self.broker, "produce", topic=topic, key=key, value=value, eid=row_id)


class OrderClient(Node):
    """Places ``orders`` one every ``spacing``; asks again after ``retry``, ``attempts`` times in all."""

    def __init__(self, orders: tuple, spacing: float = 1.0, retry: float = 6.0,
                 attempts: int = 3) -> None:
        self.orders = orders
        self.spacing = spacing
        self.retry = retry
        self.attempts = attempts
        self.placed: set = set()

    def on_start(self) -> None:
        for i, order in enumerate(self.orders):
            self.set_timer(i * self.spacing, self._place, order, 1)

    def _place(self, order: Any, attempt: int) -> None:
        if order not in self.placed and attempt <= self.attempts:
            self.request("orders", "place_order", order=order, timeout=self.retry,
                         on_reply=lambda m: self.placed.add(order),
                         on_timeout=lambda _: self._place(order, attempt + 1))

    def on_placed(self, msg: Any) -> None:
        self.placed.add(msg.order)


@dataclass
class OutboxReport:
    """Orders committed against events published."""

    committed: list
    lost: list = field(default_factory=list)
    invented: list = field(default_factory=list)
    duplicates: int = 0

    @property
    def ok(self) -> bool:
        """No event lost, none invented (duplicates are allowed)."""
        return not self.lost and not self.invented

    def __str__(self) -> str:
        return (f"{len(self.committed)} orders committed; lost events: {self.lost or 'none'}; "
                f"invented events: {self.invented or 'none'}; duplicates: {self.duplicates}")


def outbox_report(db: Database, broker: Broker) -> OutboxReport:
    """Compare the ``orders`` table of ``db`` with the ``orders`` topic of ``broker``."""
    orders = sorted(db.table("orders"), key=repr)
    eids = [r.eid for r in broker.all_records("orders")]
    wanted = {event_id(o): o for o in orders}
    lost = [o for o in orders if event_id(o) not in eids]
    invented = sorted({e for e in eids if e not in wanted}, key=repr)
    return OutboxReport(orders, lost, invented, len(eids) - len(set(eids)))


@dataclass
class OutboxRun:
    """A finished order world."""

    sim: Simulation
    db: Database
    broker: Broker
    report: OutboxReport


def run_orders(service: type, relay: type | None = None, *, seed: int = 0, orders: int = 10,
               crashes: Any = (), restart_after: float = 3.0, loss: float = 0.0,
               until: float = 120.0, attempts: int = 3) -> OutboxRun:
    """Place ``orders`` orders through ``service`` (and ``relay``, if given) and report.

    Args:
        service: an :class:`OrderServiceBase` subclass.
        relay: a node class built as ``relay(db, broker)``, or None.
        crashes: ``((node, msg_type, nth), ...)``: crash ``"orders"`` or ``"relay"`` right after
            its nth send of ``msg_type`` (None: any type); it restarts after ``restart_after``.
        loss: the network's loss probability; until: simulated time to run.
        attempts: how many times the client places an order before giving up.
    """
    if not (isinstance(service, type) and issubclass(service, OrderServiceBase)):
        raise InvalidArgumentType(f"service={service!r} must be an OrderServiceBase subclass")
    if relay is not None and not (isinstance(relay, type) and issubclass(relay, Node)):
        raise InvalidArgumentType(f"relay={relay!r} must be a Node subclass or None")
    check_int("orders", orders, low=1)
    check_int("attempts", attempts, low=1)
    check_positive("restart_after", restart_after)
    check_probability("loss", loss)
    check_number("until", until, low=0, low_open=True)
    if isinstance(crashes, (str, bytes)) or not isinstance(crashes, (tuple, list)):
        raise InvalidArgumentType(f"crashes={crashes!r} must be a tuple of (node, msg_type, nth)")
    sim = Simulation(seed=seed, loss=loss)
    db = sim.add_node(Database, "db")
    broker = sim.add_node(Broker, "broker", {"orders": 2})
    sim.add_node(service, "orders")
    if relay is not None:
        sim.add_node(relay, "relay", "db", "broker")
    sim.add_node(OrderClient, "client", tuple(f"o{i + 1}" for i in range(orders)),
                 attempts=attempts)
    for i, row in enumerate(crashes):
        if not isinstance(row, (tuple, list)) or len(row) != 3:
            raise InvalidArgumentType(f"crashes[{i}]={row!r} must be (node, msg_type, nth)")
        node, msg_type, nth = row
        sim.crash_on_send(node, msg_type, nth=nth, restart_after=restart_after)
    sim.run(until=until)
    return OutboxRun(sim, db, broker, outbox_report(db, broker))
