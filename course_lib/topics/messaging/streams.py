"""Consumers that apply payment events to a ledger, and the world that runs them under crashes.

The world (:func:`run_stream`): a ``producer`` appends payment events (``eid``, key the account,
value ``(account, amount)``) to the ``payments`` topic of a :class:`~.log.Broker`; a consumer
group of :class:`LedgerConsumer` subclasses applies each to the ``ledger``
(:class:`~.database.Database`, table ``balance``). Every amount is different, so a payment
applied twice or never shows in the balances. :class:`StreamReport` compares the ledger with the
events on the log.

The tutorial's Kafka consumer is :class:`TutorialConsumer`: process the event, then commit the
offset (at least once). :class:`CommitFirstConsumer` commits first (at most once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgumentType, check_int, check_number, check_positive,
                               check_type)
from .database import Database
from .log import Broker, Consumer, Record

__all__ = ["LedgerConsumer", "TutorialConsumer", "CommitFirstConsumer", "PaymentProducer",
           "StreamRun", "StreamReport", "run_stream", "payment_events"]


class LedgerConsumer(Consumer):
    """A consumer whose processing is a transaction on the ledger: ``effect(record)`` says which.

    Args:
        broker, group, topic, poll_interval, max_records: as :class:`~.log.Consumer`.
        ledger: the ledger database's node id.
        join_at: when this member first joins its group (a member arriving later).
        timeout: how long to wait for the ledger's answer before asking again.
    """

    def __init__(self, broker: Any, ledger: Any = "ledger", group: str = "ledger-writers",
                 topic: str = "payments", poll_interval: float = 1.0, max_records: int = 5,
                 join_at: float = 0.0, timeout: float = 4.0) -> None:
        super().__init__(broker, group, topic, poll_interval, max_records)
        self.ledger = ledger
        self.join_at = join_at
        self.timeout = timeout

    def on_start(self) -> None:
        if self.join_at > self.sim.now:
            self.set_timer(self.join_at - self.sim.now, super().on_start)
        else:
            super().on_start()

    def effect(self, record: Record) -> tuple:
        """The ledger operations a payment event stands for: add its amount to its account."""
        account, amount = record.value
        return (("add", "balance", account, amount),)

    def transact(self, ops: tuple, then: Any) -> None:
        """Send the transaction ``ops`` to the ledger; call ``then(answer)`` with its ``txn_ok``.

        Sends it again (the same operations) after each timeout until an answer comes.
        """
        self.request(self.ledger, "txn", ops=ops, timeout=self.timeout, on_reply=then,
                     on_timeout=lambda _: self.transact(ops, then))


class TutorialConsumer(LedgerConsumer):
    """The tutorial's ``KafkaEventConsumer``, ported: process the event, then commit its offset."""

    def handle(self, record: Record) -> None:
        self.transact(self.effect(record), lambda answer: self.done(record))


class CommitFirstConsumer(LedgerConsumer):
    """Commit the offset, then process: a crash in between loses the event (at most once)."""

    def handle(self, record: Record) -> None:
        self.commit(record.partition, record.offset + 1)
        self.transact(self.effect(record), lambda answer: self.done(record, commit=False))


def payment_events(seed: int, count: int, accounts: int) -> list[tuple[Any, str, int]]:
    """``count`` payment events ``(eid, account, amount)`` with distinct amounts, from ``seed``."""
    import random
    rng = random.Random(f"payments:{seed}")
    amounts = rng.sample(range(1, 100_000), count)
    return [(f"e{i}", f"acct{rng.randrange(accounts)}", amounts[i]) for i in range(count)]


class PaymentProducer(Node):
    """Appends the payment events to the topic, one every ``spacing``."""

    def __init__(self, broker: Any, events: list, spacing: float = 0.5, topic: str = "payments") -> None:
        self.broker = broker
        self.events = events
        self.spacing = spacing
        self.topic = topic

    def on_start(self) -> None:
        for i, event in enumerate(self.events):
            self.set_timer(i * self.spacing, self._produce, event)

    def _produce(self, event: tuple) -> None:
        eid, account, amount = event
        self.send(self.broker, "produce", topic=self.topic, key=account, value=(account, amount),
                  eid=eid)


@dataclass
class StreamReport:
    """The ledger against the log: balances, payments applied twice and never."""

    expected: dict
    balances: dict
    events: int
    applied: int

    @property
    def ok(self) -> bool:
        """Every payment applied exactly once."""
        return self.balances == self.expected and self.applied == self.events

    @property
    def duplicates(self) -> int:
        """Effects beyond one per event (a negative number: events never applied)."""
        return self.applied - self.events

    def __str__(self) -> str:
        wrong = sorted(a for a in set(self.expected) | set(self.balances)
                       if self.expected.get(a, 0) != self.balances.get(a, 0))
        return (f"{self.events} events, {self.applied} effects applied "
                f"({self.duplicates:+d}); accounts wrong: {wrong or 'none'}")


@dataclass
class StreamRun:
    """A finished stream world: the simulation, the broker, the ledger and the report."""

    sim: Simulation
    broker: Broker
    ledger: Database
    report: StreamReport
    lag: list[tuple[float, int]]


def run_stream(consumer: type, *, seed: int = 0, events: int = 40, accounts: int = 4,
               partitions: int = 4, consumers: int = 2, spacing: float = 0.5,
               crashes: Any = (), joins: Any = (), pauses: Any = (), until: float = 120.0,
               loss: float = 0.0, restart_after: float = 3.0, max_records: int = 5) -> StreamRun:
    """Run a consumer group of ``consumers`` members of class ``consumer`` over payment events.

    Args:
        consumer: a :class:`LedgerConsumer` subclass.
        seed: the random seed (events, network).
        events, accounts, partitions, consumers, spacing: the workload and the group.
        crashes: ``((member, msg_type, nth), ...)``: crash the member right after its nth send of
            that type (``"txn"``: between processing and committing); it restarts after
            ``restart_after``.
        joins: ``((member, time), ...)``: extra members joining the group later.
        pauses: ``((member, at, duration), ...)``: members stopped for a while (a GC pause).
        until: simulated time to run; loss: the network's loss probability.
    """
    if not (isinstance(consumer, type) and issubclass(consumer, LedgerConsumer)):
        raise InvalidArgumentType(f"consumer={consumer!r} must be a LedgerConsumer subclass")
    check_int("events", events, low=1)
    check_int("accounts", accounts, low=1)
    check_int("partitions", partitions, low=1)
    check_int("consumers", consumers, low=1)
    check_positive("spacing", spacing)
    check_positive("restart_after", restart_after)
    check_number("until", until, low=0, low_open=True)
    for name, rows, width in (("crashes", crashes, 3), ("joins", joins, 2), ("pauses", pauses, 3)):
        if isinstance(rows, (str, bytes)) or not isinstance(rows, (tuple, list)):
            raise InvalidArgumentType(f"{name}={rows!r} must be a tuple of tuples")
        for i, row in enumerate(rows):
            if not isinstance(row, (tuple, list)) or len(row) != width:
                raise InvalidArgumentType(f"{name}[{i}]={row!r} must be a tuple of {width} items")
    sim = Simulation(seed=seed, loss=loss)
    broker = sim.add_node(Broker, "broker", {"payments": partitions})
    ledger = sim.add_node(Database, "ledger")
    stream = payment_events(seed, events, accounts)
    sim.add_node(PaymentProducer, "producer", "broker", stream, spacing)
    members = [f"c{i + 1}" for i in range(consumers)]
    for member in members:
        sim.add_node(consumer, member, "broker", max_records=max_records)
    for member, at in joins:
        check_type("joins member", member, str)
        sim.add_node(consumer, member, "broker", join_at=check_number("join time", at, low=0),
                     max_records=max_records)
    for member, msg_type, nth in crashes:
        sim.crash_on_send(member, msg_type, nth=nth, restart_after=restart_after)
    for member, at, duration in pauses:
        sim.nemesis.pause(member, at=at, duration=duration)
    lag: list[tuple[float, int]] = []

    def sample() -> None:
        lag.append((sim.now, broker.lag("ledger-writers", "payments")))
        if sim.now + 1.0 <= until:
            sim.after(1.0, sample)
    sim.at(0.0, sample)
    sim.run(until=until)
    expected: dict = {}
    seen: set = set()
    for record in broker.all_records("payments"):   # what reached the log (a lost produce did not)
        if record.eid not in seen:
            seen.add(record.eid)
            account, amount = record.value
            expected[account] = expected.get(account, 0) + amount
    report = StreamReport(expected, ledger.table("balance"), len(seen), ledger.applied("add", "balance"))
    return StreamRun(sim, broker, ledger, report, lag)
