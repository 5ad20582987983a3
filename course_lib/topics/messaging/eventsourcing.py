"""Event sourcing and CQRS: accounts kept as a log of events, a read model that lags behind.

The write model (:class:`AccountLog`) validates commands (``deposit``, ``withdraw``: no
overdraft) against the state folded from its own events, appends the new event to its log
(durable) and forwards it to the read model. The read model (:class:`BalanceView`) applies
forwarded events ``lag`` time units after they arrive and answers ``balance`` queries from its
view: a client that deposits and then reads the view at once may not see its own deposit.

State is never stored, only derived: :func:`fold` replays events into balances, and
:func:`rebuild` does so from the last snapshot (a saved fold every ``snapshot_every`` events),
counting the events it had to apply.

Example:
    >>> fold([("a", "deposited", 5), ("a", "withdrew", 2), ("b", "deposited", 1)])
    {'a': 3, 'b': 1}
    >>> rebuild([("a", "deposited", 1)] * 10, snapshot_every=4).applied
    2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ...sim import Node, Simulation
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_int, check_number

__all__ = ["fold", "rebuild", "Rebuilt", "AccountLog", "BalanceView", "CqrsRun", "run_cqrs"]

_SIGN = {"deposited": 1, "withdrew": -1}


def fold(events: Iterable[tuple], state: dict | None = None) -> dict:
    """Apply account events ``(account, kind, amount)`` to ``state`` (a copy); return balances."""
    out = dict(state or {})
    for i, event in enumerate(events):
        if not isinstance(event, tuple) or len(event) != 3 or event[1] not in _SIGN:
            raise InvalidArgument(f"events[{i}]={event!r} must be (account, 'deposited' or "
                                  "'withdrew', amount)")
        account, kind, amount = event
        out[account] = out.get(account, 0) + _SIGN[kind] * amount
    return out


@dataclass
class Rebuilt:
    """A state rebuilt from a log: the balances and how many events had to be applied."""

    state: dict
    applied: int
    from_snapshot: int


def rebuild(log: list, snapshot_every: int | None = None) -> Rebuilt:
    """Rebuild balances from ``log``, starting at the last snapshot if snapshots are taken.

    A snapshot is taken after every ``snapshot_every`` events, so the rebuild applies only the
    events after the last one.
    """
    if not isinstance(log, (list, tuple)):
        raise InvalidArgumentType(f"log={log!r} must be a list of events")
    if snapshot_every is None:
        return Rebuilt(fold(log), len(log), 0)
    check_int("snapshot_every", snapshot_every, low=1)
    last = (len(log) // snapshot_every) * snapshot_every
    snapshot = fold(log[:last])   # what the snapshot store holds
    return Rebuilt(fold(log[last:], snapshot), len(log) - last, last)


class AccountLog(Node):
    """The write model: validate a command against the folded state, append its event, forward it."""

    durable = ("log",)

    def __init__(self, view: Any = "view") -> None:
        self.view = view
        self.log: list[tuple] = []

    def on_command(self, msg: Any) -> None:
        balance = fold(self.log).get(msg.account, 0)
        if msg.kind == "withdraw" and msg.amount > balance:
            return self.reply(msg, "rejected", account=msg.account)
        event = (msg.account, "deposited" if msg.kind == "deposit" else "withdrew", msg.amount)
        self.log.append(event)
        self.send(self.view, "event", event=event, version=len(self.log))
        self.reply(msg, "accepted", account=msg.account, version=len(self.log))


class BalanceView(Node):
    """The read model: applies each event ``lag`` after it arrives; answers ``balance`` queries."""

    def __init__(self, lag: float = 2.0) -> None:
        self.lag = lag
        self.balances: dict[Any, int] = {}
        self.version = 0

    def on_event(self, msg: Any) -> None:
        self.set_timer(self.lag, self._apply, msg.event, msg.version)

    def _apply(self, event: tuple, version: int) -> None:
        self.balances = fold([event], self.balances)
        self.version = max(self.version, version)

    def on_balance(self, msg: Any) -> None:
        self.reply(msg, "balance_is", account=msg.account, balance=self.balances.get(msg.account, 0),
                   version=self.version)


class _Teller(Node):
    """Deposits, then reads the view ``read_after`` later; counts reads missing the deposit."""

    def __init__(self, deposits: int, read_after: float) -> None:
        self.deposits = deposits
        self.read_after = read_after
        self.expected = 0
        self.reads: list[tuple[float, int, int]] = []   # (time, expected, seen)

    def on_start(self) -> None:
        for i in range(self.deposits):
            self.set_timer(3.0 * i, self._deposit, i + 1)

    def _deposit(self, amount: int) -> None:
        self.request("accounts", "command", account="alice", kind="deposit", amount=amount,
                     timeout=10, on_reply=lambda r: self._deposited(amount))

    def _deposited(self, amount: int) -> None:
        self.expected += amount
        expected = self.expected
        self.set_timer(self.read_after, lambda: self.request(
            "view", "balance", account="alice", timeout=10,
            on_reply=lambda r: self.reads.append((self.sim.now, expected, r.balance))))


@dataclass
class CqrsRun:
    """Reads of the view after one's own deposits: how many missed them."""

    sim: Simulation
    reads: list[tuple[float, int, int]]

    @property
    def stale(self) -> int:
        """Reads that did not yet show the reader's own last deposit."""
        return sum(1 for _, expected, seen in self.reads if seen < expected)


def run_cqrs(*, seed: int = 0, lag: float = 2.0, read_after: float = 0.0, deposits: int = 10) -> CqrsRun:
    """Deposit ``deposits`` times, reading the view ``read_after`` after each acceptance."""
    check_number("lag", lag, low=0)
    check_number("read_after", read_after, low=0)
    check_int("deposits", deposits, low=1)
    sim = Simulation(seed=seed)
    sim.add_node(AccountLog, "accounts")
    sim.add_node(BalanceView, "view", lag)
    teller = sim.add_node(_Teller, "teller", deposits, read_after)
    sim.run(until=3.0 * deposits + lag + read_after + 20)
    return CqrsRun(sim, list(teller.reads))
