"""Delivery guarantees on one call: a payment service, its card processor, clients that retry.

The tutorial's ``PaymentService`` (charge with an idempotency key, check the store first, pass
the key on to the processor, record the answer) is ported as :class:`PaymentService` with
``mode="keyed"``; ``mode="none"`` is the same service without keys, and ``mode="claimed"``
writes the key into the store as *in progress* before it calls the processor, so a retry that
arrives meanwhile waits for the first attempt's answer instead of charging again.

The :class:`CardProcessor` (the tutorial's Stripe) charges cards; with ``dedupe=True`` it also
remembers keys, as Stripe does; an internal service may not. The :class:`PaymentClient` makes up
one key per payment before the first attempt and retries with it after a timeout
(``attempts``; 1 means no retry).

:func:`run_payments` measures what happened to each payment: charged once, twice or more, or
never, under loss, duplication and crashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgumentType, check_choice, check_int, check_number,
                               check_positive, check_probability)

__all__ = ["PaymentService", "CardProcessor", "PaymentClient", "PaymentReport", "run_payments",
           "PAYMENT_MODES"]

PAYMENT_MODES = ("none", "keyed", "claimed")


class CardProcessor(Node):
    """Charges cards after ``work`` time units; with ``dedupe``, a known key returns its first charge."""

    durable = ("charges", "seen")

    def __init__(self, dedupe: bool = True, work: float = 0.5) -> None:
        self.dedupe = dedupe
        self.work = work
        self.charges: list[tuple[Any, int]] = []   # (payment, amount) for every card charge
        self.seen: dict[Any, int] = {}             # key -> charge id

    def on_charge(self, msg: Any) -> None:
        self.set_timer(self.work, self._charge, msg)

    def _charge(self, msg: Any) -> None:
        if self.dedupe and msg.key is not None and msg.key in self.seen:
            charge_id = self.seen[msg.key]
        else:
            self.charges.append((msg.payment, msg.amount))
            charge_id = len(self.charges)
            if msg.key is not None:
                self.seen[msg.key] = charge_id
        self.reply(msg, "charged", charge_id=charge_id)


class PaymentService(Node):
    """The tutorial's ``PaymentService.charge``, ported; ``storage`` is its ``IdempotencyStore``.

    Args:
        mode: "none" (no keys), "keyed" (the tutorial's) or "claimed" (claim the key first).
        processor: the card processor's node id.
    """

    def __init__(self, mode: str = "keyed", processor: Any = "stripe", timeout: float = 30.0) -> None:
        self.mode = check_choice("mode", mode, PAYMENT_MODES)
        self.processor = processor
        self.timeout = timeout
        self.waiting: dict[Any, list] = {}   # key -> requests parked behind an attempt in progress

    def on_charge(self, msg: Any) -> None:
        store = self.storage.setdefault("idempotency", {})
        key = msg.key if self.mode != "none" else None
        if key is not None:
            cached = store.get(key)
            if cached is not None and cached[0] == "complete":
                return self.reply(msg, "receipt", payment=msg.payment, charge_id=cached[1])
            if cached is not None and self.mode == "claimed":
                if key in self.waiting:     # the first attempt is still running: wait for it
                    self.waiting[key].append(msg)
                    return
                # claimed by an attempt that died with a crash: ask the processor again, same key
            if self.mode == "claimed":
                store[key] = ("in_progress", None)
                self.waiting[key] = []
        self.request(self.processor, "charge", payment=msg.payment, amount=msg.amount, key=key,
                     timeout=self.timeout, on_reply=lambda r: self._charged(msg, key, r.charge_id))

    def on_charged(self, msg: Any) -> None:
        pass   # the answer to a call made before a crash: nobody is waiting for it any more

    def _charged(self, msg: Any, key: Any, charge_id: int) -> None:
        if key is not None:
            self.storage["idempotency"][key] = ("complete", charge_id)   # IdempotencyStore.record
        self.reply(msg, "receipt", payment=msg.payment, charge_id=charge_id)
        for parked in self.waiting.pop(key, []):
            self.reply(parked, "receipt", payment=parked.payment, charge_id=charge_id)


class PaymentClient(Node):
    """Pays ``payments`` amounts, one every ``spacing``; retries with the same key after ``timeout``."""

    def __init__(self, amounts: tuple, spacing: float = 1.0, timeout: float = 6.0,
                 attempts: int = 4) -> None:
        self.amounts = amounts
        self.spacing = spacing
        self.timeout = timeout
        self.attempts = attempts
        self.receipts: dict[Any, int] = {}

    def on_start(self) -> None:
        for i, amount in enumerate(self.amounts):
            key = f"key-{self.rng.getrandbits(32):08x}"   # made before the first attempt
            self.set_timer(i * self.spacing, self._pay, f"p{i + 1}", amount, key, 1)

    def _pay(self, payment: Any, amount: int, key: str, attempt: int) -> None:
        if payment in self.receipts or attempt > self.attempts:
            return
        self.request("payments", "charge", payment=payment, amount=amount, key=key,
                     timeout=self.timeout, on_reply=lambda r: self._receipt(r),
                     on_timeout=lambda _: self._pay(payment, amount, key, attempt + 1))

    def _receipt(self, msg: Any) -> None:
        self.receipts.setdefault(msg.payment, msg.charge_id)

    def on_receipt(self, msg: Any) -> None:
        self._receipt(msg)   # a late or duplicated receipt


@dataclass
class PaymentReport:
    """Per payment: how many times the card was charged."""

    charged: dict[Any, int]
    answered: int

    @property
    def payments(self) -> int:
        """Payments the client made."""
        return len(self.charged)

    @property
    def once(self) -> int:
        """Payments charged exactly once."""
        return sum(1 for n in self.charged.values() if n == 1)

    @property
    def never(self) -> int:
        """Payments never charged."""
        return sum(1 for n in self.charged.values() if n == 0)

    @property
    def twice(self) -> int:
        """Payments charged more than once."""
        return sum(1 for n in self.charged.values() if n > 1)

    def row(self) -> dict:
        """The counts as a dict (a table row)."""
        return {"payments": self.payments, "once": self.once, "never": self.never,
                "more than once": self.twice, "answered": self.answered}


def run_payments(mode: str = "keyed", *, seed: int = 0, payments: int = 20, attempts: int = 4,
                 loss: float = 0.0, duplicate: float = 0.0, dedupe: bool = True,
                 work: float = 0.5, client_timeout: float = 6.0, crashes: Any = (),
                 until: float = 200.0) -> PaymentReport:
    """Run ``payments`` payments through a :class:`PaymentService` in ``mode``; count the charges.

    Args:
        mode: the service's mode (:data:`PAYMENT_MODES`).
        attempts: the client's attempts per payment (1: at most once).
        loss, duplicate: the network's loss and duplication probabilities.
        dedupe: whether the card processor dedupes by key.
        work: the processor's time per charge (longer than ``client_timeout``: retries overlap).
        crashes: ``((msg_type, nth), ...)``: crash the service right after its nth send of that
            type (``"charge"``: between calling the processor and recording the answer); it
            restarts 2 time units later.
    """
    check_choice("mode", mode, PAYMENT_MODES)
    check_int("payments", payments, low=1)
    check_int("attempts", attempts, low=1)
    check_probability("loss", loss)
    check_probability("duplicate", duplicate)
    if not isinstance(dedupe, bool):
        raise InvalidArgumentType(f"dedupe={dedupe!r} must be True or False")
    check_number("work", work, low=0)
    check_positive("client_timeout", client_timeout)
    if isinstance(crashes, (str, bytes)) or not isinstance(crashes, (tuple, list)):
        raise InvalidArgumentType(f"crashes={crashes!r} must be a tuple of (msg_type, nth)")
    sim = Simulation(seed=seed, loss=loss, duplicate=duplicate)
    processor = sim.add_node(CardProcessor, "stripe", dedupe, work)
    sim.add_node(PaymentService, "payments", mode)
    rng = sim.rng_for("amounts")
    amounts = tuple(rng.randrange(1, 500) for _ in range(payments))
    client = sim.add_node(PaymentClient, "client", amounts, 1.0, client_timeout, attempts)
    for i, row in enumerate(crashes):
        if not isinstance(row, (tuple, list)) or len(row) != 2:
            raise InvalidArgumentType(f"crashes[{i}]={row!r} must be (msg_type, nth)")
        sim.crash_on_send("payments", row[0], nth=row[1], restart_after=2.0)
    sim.run(until=until)
    charged = {f"p{i + 1}": 0 for i in range(payments)}
    for payment, _ in processor.charges:
        charged[payment] += 1
    return PaymentReport(charged, len(client.receipts))
