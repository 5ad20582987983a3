"""Global snapshots: a cut by the wall clock, and Chandy and Lamport's marker algorithm.

A small bank: each :class:`Branch` holds money and keeps sending random amounts
to the others, so the total is constant, but at any instant some of it is on
the wire. A *snapshot* records each branch's balance and, to be useful, the
money in flight on each channel; it is *consistent* when it could have been
taken at one instant: no transfer is counted as received but not yet sent
(an *orphan*), so the recorded money adds up to the true total.

Two ways to take one, in the same run, so they can be compared:

- ``clock_at=T``: every branch records its balance when its own clock reads
  ``T`` (the common first attempt). Clocks disagree, and nobody records what
  is on the wire, so money goes missing or is counted twice.
- ``marker_at=T``: at true time ``T`` the branch ``initiator`` starts Chandy and
  Lamport's algorithm: it records its balance and sends a *marker* on every
  channel; a branch that gets its first marker records its balance, sends
  markers on, and records every transfer that arrives on each other channel
  until that channel's marker arrives. It needs FIFO channels: here every link
  has a constant delay (its own), so messages never overtake each other.

Example:
    >>> sim = bank_run(seed=1, clock_at=20.0, marker_at=20.0)
    >>> snapshot_report(sim, "marker")["total"] == snapshot_report(sim, "marker")["expected"]
    True
"""

from __future__ import annotations

from typing import Any

from ...sim import Constant, Node, Simulation
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_choice, check_int, check_number

__all__ = ["KINDS", "Branch", "bank_run", "cut_indices", "draw_cut", "snapshot_report"]

#: The two snapshots a :class:`Branch` can take: by its clock, or by markers.
KINDS = ("clock", "marker")


class Branch(Node):
    """A bank branch that sends random transfers, and can take part in either kind of snapshot.

    Args:
        balance: the money it starts with.
        every: how often (on its own clock) it sends a transfer.
        stop_at: when it stops sending (true time), so the bank goes quiet.
    """

    def __init__(self, balance: int = 100, every: float = 1.0, stop_at: float = 40.0) -> None:
        self.balance = balance
        self.interval = every
        self.stop_at = stop_at
        self.recorded: int | None = None           # the marker snapshot: my balance, once recorded
        self.channels: dict[Any, int] = {}         # sender -> money recorded on its channel
        self.open: set = set()                     # senders whose marker has not arrived yet

    def on_start(self) -> None:
        self.set_timer(self.rng.uniform(0, self.interval), self.transfer)

    def transfer(self) -> None:
        if self.sim.now >= self.stop_at:
            return
        if self.balance > 0:
            amount = self.rng.randint(1, min(10, self.balance))
            self.balance -= amount
            msg = self.send(self.rng.choice(self.peers), "transfer", amount=amount)
            self.record("transfer", msg=msg.id, amount=amount)
        self.set_timer(self.rng.uniform(0.5, 1.5) * self.interval, self.transfer)

    def on_transfer(self, msg: Any) -> None:
        self.balance += msg.amount
        if msg.src in self.open:  # recorded my state, and this channel's marker is still to come
            self.channels[msg.src] = self.channels.get(msg.src, 0) + msg.amount

    # -- the first attempt: record when my clock says so
    def record_by_clock(self) -> None:
        self.record("snapshot", kind="clock", balance=self.balance)

    # -- Chandy and Lamport
    def start_snapshot(self) -> None:
        """Start a marker snapshot here (the initiator)."""
        self._record_state(first_marker_from=None)

    def on_marker(self, msg: Any) -> None:
        if self.recorded is None:
            self._record_state(first_marker_from=msg.src)
        else:
            self.open.discard(msg.src)
        if not self.open:
            self.record("snapshot_done", channels=dict(self.channels))

    def _record_state(self, first_marker_from: Any) -> None:
        self.recorded = self.balance
        self.record("snapshot", kind="marker", balance=self.balance)
        self.open = {p for p in self.peers if p != first_marker_from}
        for peer in self.peers:
            self.send(peer, "marker")


def bank_run(*, seed: int | str, branches: int = 4, clock_at: float | None = 20.0,
             marker_at: float | None = 20.0, initiator: str = "n1", max_offset: float = 2.0,
             delays: tuple[float, float] = (0.5, 3.0), until: float = 60.0) -> Simulation:
    """Run the bank and take the snapshots asked for; return the finished simulation.

    Args:
        seed: the simulation's seed (transfers, link delays and clock offsets).
        branches: how many branches (``n1``, ``n2``, ...), each starting with 100.
        clock_at: the clock time at which each branch records its balance (None: no such snapshot).
        marker_at: the true time at which ``initiator`` starts a marker snapshot (None: none).
        initiator: the branch that starts the marker snapshot.
        max_offset: each branch's clock is off by up to this much, either way.
        delays: each link gets a constant delay drawn from this range (so channels are FIFO).
        until: how long to run; branches stop sending at two thirds of it.

    Raises:
        InvalidArgument: a count, time or range is out of bounds, or ``initiator`` is no branch.
    """
    check_int("branches", branches, low=2)
    check_number("max_offset", max_offset, low=0, what="a non-negative offset")
    check_number("until", until, low=0, low_open=True, what="a positive duration")
    if not (isinstance(delays, tuple) and len(delays) == 2 and 0 < delays[0] <= delays[1]):
        raise InvalidArgument(f"delays={delays!r} must be (low, high) with 0 < low <= high")
    ids = [f"n{k}" for k in range(1, branches + 1)]
    if marker_at is not None:
        check_number("marker_at", marker_at, low=0, what="a time or None")
        check_choice("initiator", initiator, ids)
    if clock_at is not None:
        check_number("clock_at", clock_at, low=0, what="a time or None")
    sim = Simulation(seed=seed, latency=Constant(1.0))
    rng = sim.rng_for("bank")
    for node_id in ids:
        sim.add_node(Branch, node_id, stop_at=until * 2 / 3,
                     clock_offset=rng.uniform(-max_offset, max_offset))
    for src in ids:
        for dst in ids:
            if src != dst:
                sim.network.set_link(src, dst, latency=Constant(round(rng.uniform(*delays), 2)))
    if clock_at is not None:
        for node in sim.nodes.values():
            # The branch's clock reads clock_at after (clock_at - its offset) of true time.
            sim.at(max(0.0, clock_at - (node.clock.now() - sim.now)), node.record_by_clock)
    if marker_at is not None:
        sim.at(marker_at, sim[initiator].start_snapshot)
    sim.run(until=until)
    return sim


def cut_indices(sim: Simulation, kind: str) -> dict[Any, int]:
    """Return, per branch, the trace index at which it recorded its state in snapshot ``kind``."""
    check_choice("kind", kind, KINDS)
    if not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be the Simulation of a bank_run")
    cut = {}
    for index, e in enumerate(sim.trace):
        if e.kind == "custom" and e.type == "snapshot" and e.info["kind"] == kind:
            cut.setdefault(e.node, index)
    if set(cut) != set(sim.nodes):
        raise InvalidArgument(f"kind={kind!r}: only {sorted(cut)} of {list(sim.nodes)} recorded a "
                              "snapshot; was it asked for (clock_at=, marker_at=) and did it finish?")
    return cut


def snapshot_report(sim: Simulation, kind: str) -> dict[str, Any]:
    """Judge snapshot ``kind`` of a bank run.

    Returns a dict: ``balances`` (recorded, by branch), ``in_flight`` (money the
    snapshot recorded on channels; always 0 for ``"clock"``), ``total`` (their
    sum), ``expected`` (the bank's real total), ``orphans`` (transfers the cut
    counts as received but not as sent: the pairs of trace indices ``(send,
    delivery)``) and ``missed`` (transfers in flight at the cut that the
    snapshot did not record).
    """
    cut = cut_indices(sim, kind)
    events = sim.trace.events
    balances = {e.node: e.info["balance"] for i, e in enumerate(events) if i in cut.values()}
    sends = {e.id: (i, e) for i, e in enumerate(events) if e.kind == "send" and e.type == "transfer"}
    amounts = {e.info["msg"]: e.info["amount"] for e in sim.trace.custom("transfer")}
    in_flight = 0
    if kind == "marker":
        for e in sim.trace.custom("snapshot_done"):
            in_flight += sum(e.info["channels"].values())
    orphans, missed = [], 0
    for i, e in enumerate(events):
        if e.kind != "deliver" or e.type != "transfer" or e.id not in sends:
            continue
        j, s = sends[e.id]
        sent_before, received_before = j < cut[s.node], i < cut[e.node]
        if received_before and not sent_before:
            orphans.append((j, i))
        elif sent_before and not received_before:
            missed += amounts[e.id]
    expected = 100 * len(sim.nodes)
    return {"balances": balances, "in_flight": in_flight, "total": sum(balances.values()) + in_flight,
            "expected": expected, "orphans": orphans,
            "missed": missed if kind == "clock" else max(0, missed - in_flight)}


def draw_cut(ax: Any, sim: Simulation, kind: str, nodes: list | None = None, **style: Any) -> None:
    """Draw snapshot ``kind``'s cut on a space-time diagram of ``sim``: a line through each lane's recording."""
    cut = cut_indices(sim, kind)
    nodes = list(sim.nodes) if nodes is None else list(nodes)
    events = sim.trace.events
    points = [(events[cut[n]].time, lane) for lane, n in enumerate(nodes)]
    options = dict(color="#d62728", lw=2, marker="|", ms=18, zorder=7)
    options.update(style)
    ax.plot([t for t, _ in points], [y for _, y in points], **options)
