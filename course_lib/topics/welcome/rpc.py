"""Remote calls over a lossy network: at-most-once, at-least-once and "exactly-once" deposits.

A :class:`Teller` makes deposits at a :class:`Bank` by remote call: a request,
then a reply or a timeout. A timeout is ambiguous (the request or the reply may
have been lost), and what the teller does about it decides the semantics:

- **at-most-once**: never retry. A deposit is applied once or not at all; lost
  requests are lost deposits.
- **at-least-once**: retry until a reply comes. Every deposit is applied, but a
  deposit whose *reply* was lost is applied again.
- **exactly-once** (in effect): retry, and let the bank remember the id of every
  request it applied and answer a repeat from that record. Delivery is still
  at-least-once; the *effect* is once. The record must survive crashes, so the
  bank keeps it ``durable``.

Example:
    >>> sim = rpc_run("at-least-once", seed=3, loss=0.3)
    >>> report = rpc_report(sim)
    >>> report["balance"] >= report["intended"]
    True
"""

from __future__ import annotations

from typing import Any

from ...sim import Node, Simulation, Uniform
from ...sim.validation import InvalidArgumentType, check_choice, check_int, check_number, check_probability

__all__ = ["SEMANTICS", "Bank", "Teller", "rpc_report", "rpc_run"]

#: Each semantics as (does the teller retry on a timeout?, does the bank remember request ids?).
SEMANTICS = {"at-most-once": (False, False), "at-least-once": (True, False), "exactly-once": (True, True)}


class Bank(Node):
    """Apply deposits and reply with the new balance; with ``dedup``, apply each request id once.

    Args:
        dedup: remember every applied request id and answer a repeat from the record.
    """

    durable = ("balance", "applied")

    def __init__(self, dedup: bool = False) -> None:
        self.dedup = dedup
        self.balance = 0
        self.applied: dict[str, int] = {}  # request id -> the balance it left (kept only with dedup)

    def on_deposit(self, msg: Any) -> None:
        if self.dedup and msg.rid in self.applied:  # a retry of a deposit already made
            self.reply(msg, "deposited", balance=self.applied[msg.rid])
            return
        self.balance += msg.amount
        self.record("applied", rid=msg.rid, amount=msg.amount)
        if self.dedup:
            self.applied[msg.rid] = self.balance
        self.reply(msg, "deposited", balance=self.balance)


class Teller(Node):
    """Make ``deposits`` deposits of ``amount`` at ``bank``, one after another, by remote call.

    Args:
        deposits: how many deposits.
        amount: the amount of each.
        retry: on a timeout, send the same request (same id) again, until a reply comes.
        timeout: how long to wait for a reply.
        bank: the bank's node id.
    """

    def __init__(self, deposits: int, amount: int = 10, retry: bool = False, timeout: float = 4.0,
                 bank: Any = "bank") -> None:
        self.deposits = deposits
        self.amount = amount
        self.retry = retry
        self.timeout = timeout
        self.bank = bank
        self.made = 0  # deposits started

    def on_start(self) -> None:
        self.set_timer(1.0, self.next_deposit)

    def next_deposit(self) -> None:
        if self.made == self.deposits:
            return
        self.made += 1
        self.call(f"{self.id}:{self.made}", attempt=1)

    def call(self, rid: str, attempt: int) -> None:
        self.request(self.bank, "deposit", rid=rid, amount=self.amount, timeout=self.timeout,
                     on_reply=lambda reply: self.done(rid, "ok"),
                     on_timeout=lambda request: self.timed_out(rid, attempt))

    def timed_out(self, rid: str, attempt: int) -> None:
        if self.retry:
            self.record("retry", rid=rid, attempt=attempt + 1)
            self.call(rid, attempt + 1)
        else:
            self.done(rid, "gave up")

    def done(self, rid: str, outcome: str) -> None:
        self.record("outcome", rid=rid, outcome=outcome)
        self.next_deposit()


def rpc_run(semantics: str, *, seed: int | str, deposits: int = 20, loss: float = 0.2,
            latency: Any = Uniform(0.5, 1.5), timeout: float = 4.0, until: float = 400.0) -> Simulation:
    """Run one teller's deposits at one bank under ``semantics``; return the finished simulation.

    Args:
        semantics: ``"at-most-once"``, ``"at-least-once"`` or ``"exactly-once"`` (:data:`SEMANTICS`).
        seed: the simulation's seed.
        deposits: how many deposits of 10 the teller makes.
        loss: the probability that any message (request or reply) is lost.
        latency: the network's delay model.
        timeout: how long the teller waits for a reply.
        until: how long to run.

    Raises:
        InvalidArgument: an unknown semantics, or a count, probability or time out of range.
    """
    check_choice("semantics", semantics, list(SEMANTICS))
    check_int("deposits", deposits, low=0)
    check_probability("loss", loss)
    check_number("timeout", timeout, low=0, low_open=True, what="a positive duration")
    retry, dedup = SEMANTICS[semantics]
    sim = Simulation(seed=seed, latency=latency, loss=loss)
    sim.add_node(Bank, "bank", dedup=dedup)
    sim.add_node(Teller, "teller", deposits, retry=retry, timeout=timeout)
    sim.run(until=until)
    return sim


def rpc_report(sim: Simulation) -> dict[str, Any]:
    """Return what the teller meant and what the bank did: intended and real balance, lost and doubled deposits."""
    if not isinstance(sim, Simulation) or "bank" not in sim.nodes or "teller" not in sim.nodes:
        raise InvalidArgumentType(f"sim={sim!r} must be the Simulation of an rpc_run")
    teller, bank = sim["teller"], sim["bank"]
    times: dict[str, int] = {f"teller:{k}": 0 for k in range(1, teller.made + 1)}
    for e in sim.trace.custom("applied"):
        times[e.info["rid"]] = times.get(e.info["rid"], 0) + 1
    outcomes = [e.info["outcome"] for e in sim.trace.custom("outcome")]
    return {"intended": teller.amount * teller.deposits, "balance": bank.balance,
            "lost": sum(n == 0 for n in times.values()), "applied twice or more": sum(n > 1 for n in times.values()),
            "retries": len(sim.trace.custom("retry")), "gave up": outcomes.count("gave up"),
            "finished": len(outcomes) == teller.deposits}
