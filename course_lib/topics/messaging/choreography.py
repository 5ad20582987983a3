"""Choreography: the tutorial's ``EventBus`` with its order and inventory services, ported.

No one directs the saga: the order service publishes ``order.created``; the inventory service,
subscribed to it, reserves stock and publishes ``inventory.reserved`` or
``inventory.insufficient``; the order service, subscribed to those, confirms or cancels. The
:class:`EventBus` delivers each event to every subscriber of its type, fire and forget (the
tutorial starts a thread per handler and forgets it), so an event lost on the way, or delivered
to a subscriber that is down, is lost for good: an order then stays ``pending`` forever.

With ``cyclic=True`` the services also keep each other informed, as teams add subscriptions
one at a time: the order service publishes ``order.updated`` whenever an order changes, and the
inventory service, subscribed to ``order.updated`` to release stock of cancelled orders,
re-announces the reservation of any order still reserved, which updates the order again: a
cycle of events that never ends.

:func:`run_choreography` runs it and counts orders by status and events by type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgumentType, check_int, check_number, check_positive,
                               check_probability)

__all__ = ["EventBus", "ChoreoOrderService", "ChoreoInventoryService", "ChoreographyRun",
           "run_choreography"]


class EventBus(Node):
    """The tutorial's ``EventBus``: ``subscribe(type, handler)`` and ``publish(event)`` as messages."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list] = {}
        self.published: list[tuple[float, str, Any]] = []

    def subscribe(self, event_type: str, node: Any) -> None:
        """Add ``node`` to the subscribers of ``event_type`` (set-up, before the run)."""
        self.subscribers.setdefault(event_type, []).append(node)

    def on_publish(self, msg: Any) -> None:
        self.published.append((self.sim.now, msg.event_type, msg.data))
        for node in self.subscribers.get(msg.event_type, []):   # Thread.new { handler.call(event) }
            self.send(node, "event", event_type=msg.event_type, data=msg.data)


class ChoreoOrderService(Node):
    """Creates orders (``Order.create``, then publish ``order.created``) and follows inventory's answers."""

    durable = ("orders",)

    def __init__(self, bus: Any = "bus", cyclic: bool = False) -> None:
        self.bus = bus
        self.cyclic = cyclic
        self.orders: dict[Any, str] = {}

    def on_create_order(self, msg: Any) -> None:
        self.orders[msg.order] = "pending"                  # Order.create(status: 'pending')
        self.publish("order.created", (msg.order, msg.items))

    def publish(self, event_type: str, data: Any) -> None:
        """Publish an event on the bus."""
        self.send(self.bus, "publish", event_type=event_type, data=data)

    def on_event(self, msg: Any) -> None:
        order = msg.data[0]
        status = {"inventory.reserved": "confirmed", "inventory.insufficient": "cancelled"}.get(msg.event_type)
        if status is None or order not in self.orders:
            return
        self.orders[order] = status
        if self.cyclic:
            self.publish("order.updated", (order, status))


class ChoreoInventoryService(Node):
    """Reserves stock for each ``order.created`` and announces the outcome."""

    durable = ("stock", "reserved")

    def __init__(self, stock: int = 10, bus: Any = "bus") -> None:
        self.bus = bus
        self.stock = stock
        self.reserved: dict[Any, int] = {}

    def on_event(self, msg: Any) -> None:
        if msg.event_type == "order.created":
            order, items = msg.data
            if self.reserve_inventory(order, items):
                self.send(self.bus, "publish", event_type="inventory.reserved", data=(order,))
            else:
                self.send(self.bus, "publish", event_type="inventory.insufficient", data=(order,))
        elif msg.event_type == "order.updated":
            order, status = msg.data
            if status == "cancelled" and order in self.reserved:
                self.stock += self.reserved.pop(order)
            elif order in self.reserved:   # keep the order service in the picture
                self.send(self.bus, "publish", event_type="inventory.reserved", data=(order,))

    def reserve_inventory(self, order: Any, items: int) -> bool:
        """Check and reserve inventory."""
        if order in self.reserved:
            return True
        if items > self.stock:
            return False
        self.stock -= items
        self.reserved[order] = items
        return True


@dataclass
class ChoreographyRun:
    """Orders by status and the events the bus carried."""

    sim: Simulation
    statuses: dict[Any, str]
    events: dict[str, int]

    def count(self, status: str) -> int:
        """Orders with ``status``."""
        return sum(1 for s in self.statuses.values() if s == status)


class _Customer(Node):
    def __init__(self, orders: int, items: tuple) -> None:
        self.count = orders
        self.items = items

    def on_start(self) -> None:
        for i in range(self.count):
            self.set_timer(float(i), self._order, i)

    def _order(self, i: int) -> None:
        self.send("orders", "create_order", order=f"o{i + 1}", items=self.items[i])


def run_choreography(*, seed: int = 0, orders: int = 20, stock: int = 30, loss: float = 0.0,
                     cyclic: bool = False, until: float = 60.0,
                     max_events: int | None = 100_000) -> ChoreographyRun:
    """Place ``orders`` orders of 1-3 items against ``stock`` items through the choreography."""
    check_int("orders", orders, low=1)
    check_int("stock", stock, low=0)
    check_probability("loss", loss)
    check_number("until", until, low=0, low_open=True)
    if not isinstance(cyclic, bool):
        raise InvalidArgumentType(f"cyclic={cyclic!r} must be True or False")
    if max_events is not None:
        check_positive("max_events", max_events)
    sim = Simulation(seed=seed, loss=loss, max_events=max_events)
    bus = sim.add_node(EventBus, "bus")
    order_service = sim.add_node(ChoreoOrderService, "orders", "bus", cyclic)
    sim.add_node(ChoreoInventoryService, "inventory", stock)
    rng = sim.rng_for("items")
    sim.add_node(_Customer, "customer", orders, tuple(rng.randint(1, 3) for _ in range(orders)))
    bus.subscribe("order.created", "inventory")
    bus.subscribe("inventory.reserved", "orders")
    bus.subscribe("inventory.insufficient", "orders")
    if cyclic:
        bus.subscribe("order.updated", "inventory")
    sim.run(until=until)
    events: dict[str, int] = {}
    for _, event_type, _ in bus.published:
        events[event_type] = events.get(event_type, 0) + 1
    statuses = {f"o{i + 1}": order_service.orders.get(f"o{i + 1}", "never created") for i in range(orders)}
    return ChoreographyRun(sim, statuses, dict(sorted(events.items())))
