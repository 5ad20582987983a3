"""Chapter 03a's commit scenario, and what a run's trace says about its transactions."""

from __future__ import annotations

from typing import Any

from ....checkers.invariants import atomic_commit
from ....sim import Node, Simulation, Uniform
from ....sim.errors import ScenarioFailed
from ....sim.validation import (InvalidArgument, InvalidArgumentType, check_choice, check_int,
                                check_non_negative, check_number, check_probability, check_type)
from .base import DEFAULT_REFUSAL_RATE, set_refusal_rate
from .crashes import crash_after


def transaction_outcomes(sim: Simulation) -> dict:
    """Return ``{txid: {node: outcome}}`` from the trace's ``decide`` events (a node's last decision)."""
    check_type("sim", sim, Simulation)
    out: dict = {}
    for event in sim.trace.custom("decide"):
        out.setdefault(event.info["txid"], {})[event.node] = event.info["outcome"]
    return out


def in_doubt_time(sim: Simulation) -> dict:
    """Return, per participant, the total time between voting yes and learning the outcome.

    A transaction still undecided at the end of the run counts until ``sim.now``.
    """
    check_type("sim", sim, Simulation)
    voted: dict = {}
    total: dict = {}
    for event in sim.trace.filter(kind="custom"):
        if event.type == "vote" and event.info["vote"] == "yes":
            voted.setdefault((event.node, event.info["txid"]), event.time)
        elif event.type == "decide":
            start = voted.pop((event.node, event.info["txid"]), None)
            if start is not None:
                total[event.node] = total.get(event.node, 0.0) + event.time - start
    for (node, _), start in voted.items():
        total[node] = total.get(node, 0.0) + sim.now - start
    return dict(sorted(total.items(), key=lambda kv: str(kv[0])))


CRASH_POINTS = ("participant_after_yes", "coordinator_after_prepare", "coordinator_after_commit", "random")


def commit_scenario(coordinator_cls: type, participant_cls: type, seed: Any, *, participants: int = 3,
                    transactions: int = 8, spacing: float = 6.0, loss: float = 0.0,
                    duplicate: float = 0.0, reorder: float = 0.0, crash: str | None = None,
                    restart_after: float | None = 20.0, refusal_rate: float = DEFAULT_REFUSAL_RATE,
                    settle: float = 250.0, progress: bool | None = None,
                    max_events: int = 100_000) -> Simulation:
    """Run ``transactions`` transactions of ``coordinator_cls`` and ``participant_cls`` and check them.

    Every transaction writes one key at every participant. Checked throughout
    the run: :func:`~course_lib.checkers.atomic_commit`. Checked at the end, when
    ``progress`` (default: whenever every crashed node restarts): the
    coordinator and every participant decided every transaction the
    coordinator began, each participant's database holds exactly the
    writes of the committed ones, and, in a run without faults (no crash, loss,
    duplicate or reordering), every transaction all participants voted yes on
    committed.

    Args:
        coordinator_cls: created as ``coordinator_cls()`` with id ``"coord"``.
        participant_cls: created as ``participant_cls()`` with ids ``"p1"``, ``"p2"``, ...
        seed: the simulation seed.
        crash: a crash point of :data:`CRASH_POINTS` (or None):
            ``"participant_after_yes"`` crashes a random participant right
            after a yes vote; ``"coordinator_after_prepare"`` crashes the
            coordinator right after it sends a transaction's prepares;
            ``"coordinator_after_commit"`` right after it decides commit;
            ``"random"`` crashes random nodes at random times.
        restart_after: how long a crashed node stays down (None: for good).
        refusal_rate: the probability that a database refuses a transaction.
        settle: total run time; the last transaction starts well before it.

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: atomicity was violated, or a transaction never finished.
    """
    for name, cls in (("coordinator_cls", coordinator_cls), ("participant_cls", participant_cls)):
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise InvalidArgumentType(f"{name}={cls!r} must be a class, a subclass of course_lib.sim.Node")
    check_int("participants", participants, low=1)
    check_int("transactions", transactions, low=1)
    check_non_negative("spacing", spacing)
    if crash is not None:
        check_choice("crash", crash, CRASH_POINTS)
    if restart_after is not None:
        check_number("restart_after", restart_after, low=0, low_open=True,
                     what="a delay")
    check_probability("refusal_rate", refusal_rate)
    if progress is not None:
        check_type("progress", progress, bool, what="True, False or None")
    check_number("settle", settle, what="a time")
    last_start = 1.0 + spacing * transactions
    if not settle > last_start + 50:
        raise InvalidArgument(f"settle={settle!r} must leave time after the last transaction ({last_start:g})")
    if isinstance(max_events, int) and not isinstance(max_events, bool) \
            and transactions * (participants + 1) > max_events:
        raise InvalidArgument(f"transactions={transactions} with participants={participants} need more "
                              f"than max_events={max_events} events; pass a larger max_events")
    sim = Simulation(seed=seed, latency=Uniform(0.5, 2.0), loss=loss, duplicate=duplicate,
                     reorder=reorder, reorder_delay=6.0, max_events=max_events)
    set_refusal_rate(sim, refusal_rate)
    coordinator = sim.add_node(coordinator_cls, "coord")
    ids = [f"p{i + 1}" for i in range(participants)]
    sim.add_nodes(participant_cls, ids)
    sim.add_invariant("atomic_commit", atomic_commit)
    faults = sim.rng_for("commit-faults")
    nth = 1 + faults.randrange(max(1, transactions // 2))
    if crash == "participant_after_yes":
        crash_after(sim, ids[faults.randrange(participants)], recorded="vote",
                    when=lambda e: e.get("vote") == "yes", nth=nth, restart_after=restart_after)
    elif crash == "coordinator_after_prepare":
        crash_after(sim, "coord", sent="prepare", nth=1 + (nth - 1) * participants,
                    restart_after=restart_after)
    elif crash == "coordinator_after_commit":
        crash_after(sim, "coord", recorded="decide", when=lambda e: e.get("outcome") == "commit",
                    nth=max(1, nth // 2), restart_after=restart_after)
    elif crash == "random":
        sim.nemesis.random_faults(start=1.0, end=last_start + 20, mean_interval=15.0,
                                  duration=restart_after or 10.0, kinds=("crash",),
                                  max_down=max(1, (participants + 1) // 2))
    if progress is None:
        progress = restart_after is not None
    begun: dict = {}

    def start(txid: Any, writes: dict) -> None:
        if coordinator.crashed:
            return  # the client cannot reach a coordinator that is down
        begun[txid] = writes
        coordinator.begin(txid, writes)

    for i in range(transactions):
        txid = f"t{i + 1}"
        writes = {p: (f"k{i + 1}", f"{txid}@{p}") for p in ids}
        sim.at(1.0 + spacing * i, start, txid, writes)
    sim.run(until=settle)
    if progress:
        outcomes = transaction_outcomes(sim)
        faultless = crash is None and not (loss or duplicate or reorder)
        yes = {(e.node, e.info["txid"]): True for e in sim.trace.custom("vote") if e.info["vote"] == "yes"}
        for txid, writes in begun.items():
            decided = outcomes.get(txid, {})
            missing = [n for n in ["coord", *ids] if n not in decided]
            if missing:
                raise ScenarioFailed(
                    f"transaction {txid!r} (begun at the coordinator) was never decided by {missing} "
                    f"by time {settle:g}; decisions: {decided}", sim)
            outcome = decided["coord"]
            if outcome == "abort" and faultless and all(yes.get((p, txid)) for p in writes):
                raise ScenarioFailed(
                    f"transaction {txid!r}: every participant voted yes and nothing failed (no crash, no "
                    f"loss, no duplicate, no reordering), yet the coordinator decided abort; two-phase "
                    f"commit must commit then (a coordinator that aborts everything is atomic, and useless)",
                    sim)
            for p, (key, value) in writes.items():
                held = sim.node(p).data.get(key)
                if outcome == "commit" and held != value:
                    raise ScenarioFailed(f"transaction {txid!r} committed, but {p}'s database holds "
                                         f"{key}={held!r} instead of {value!r}", sim)
                if outcome == "abort" and held is not None:
                    raise ScenarioFailed(f"transaction {txid!r} aborted, but {p}'s database holds "
                                         f"{key}={held!r}", sim)
    return sim
