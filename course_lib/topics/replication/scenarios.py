"""The exercise's graded scenarios: quorum stores under crashes and scripted schedules, CRDTs under
duplication and reordering, broadcasts against Gossip Glomers' budgets.

Each scenario takes the learner's class and a ``seed``, runs the simulator, and
raises :class:`~course_lib.sim.ScenarioFailed` (with the run, drawable) on a
wrong outcome; run them with :func:`course_lib.grading.check_scenario`. The
scripted ones fix the schedule (which client reaches which replica first), so a
mistake they target fails on every seed.
"""

from __future__ import annotations

from typing import Any, Callable

from ...sim import ScenarioFailed
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_choice, check_int
from .crdts import random_ops, run_crdt
from .gossip import BroadcastNode, run_broadcast
from .quorum import QuorumClient, QuorumRun, run_quorum


def _check_client(cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, QuorumClient)):
        raise InvalidArgumentType(f"cls={cls!r} must be a subclass of QuorumClient")


def _lin(run: QuorumRun, what: str) -> None:
    verdict = run.linearizable()
    stale = run.stale_reads()
    if stale:
        op = stale[0]
        raise ScenarioFailed(f"{what}: {op} at t={op.call_time:.1f} is stale: a write of "
                             f"{op.key!r} acknowledged before it began is missing "
                             f"({len(stale)} stale reads)", run.sim, history=run.history,
                             operations=stale)
    if verdict.valid is False:
        raise ScenarioFailed(f"{what}: the history is not linearizable:\n{verdict.explain()}",
                             run.sim, history=run.history)


def _lost(run: QuorumRun, what: str) -> None:
    lost = run.lost_writes()
    if lost:
        raise ScenarioFailed(f"{what}: acknowledged write {lost[0]} is on no live replica and no "
                             f"later write replaced it", run.sim, history=run.history, operations=lost)


def quorum_crash_keeps_writes(cls: type, seed: int | str, *, case: str = "isolated") -> QuorumRun:
    """No acknowledged write is lost when one replica crashes (N=3, W=2, R=2).

    ``"isolated"`` (scripted): r1 is 1 ms from client c1, r2 and r3 are 10 ms away, and
    from t=15 to t=100 nothing c1 sends reaches r2 or r3. c1 puts ``x`` at t=1; r1
    crashes for good at t=23.5, right after acknowledging c1's store; c2 reads ``x`` at
    t=60. A put acknowledged by fewer than W replicas is lost.
    ``"random"``: three clients, random puts and gets; r2 crashes for good at a
    seeded time. Both end with reads of every key by a fresh client.
    """
    _check_client(cls)
    check_choice("case", case, ("isolated", "random"))
    if case == "isolated":
        def faults(sim):
            for replica, delay in (("r1", 1.0), ("r2", 10.0), ("r3", 10.0)):
                sim.network.set_link("c1", replica, latency=delay)
                sim.network.set_link(replica, "c1", latency=delay)
            sim.nemesis.partition_one_way(["c1"], ["r2", "r3"], at=15, heal_at=100)
            sim.nemesis.crash("r1", at=23.5)
        run = run_quorum(cls, seed=seed, scripts=[[(1.0, "put", "x")], [(60.0, "get", "x")]],
                         faults=faults, final_reads=True, restart=False, timeout=30.0, op_timeout=50.0)
    else:
        def faults(sim):
            sim.nemesis.crash("r2", at=sim.rng_for("crash time").uniform(5.0, 40.0))
        run = run_quorum(cls, seed=seed, ops=12, faults=faults, final_reads=True, restart=False)
    _lost(run, f"one crash ({case})")
    _lin(run, f"one crash ({case})")
    return run


# Scripted schedules: which replicas each client reaches quickly (1 ms) and slowly (40 ms).
_SCHEDULES = {
    # c1's put reaches r1 fast, r2 and r3 slowly; c2 then reads r1+r2 (new and old), c3 reads r2+r3.
    "inversion": ({"c1": ("r1",), "c2": ("r1", "r2"), "c3": ("r2", "r3")},
                  [[(0.0, "put", "x")], [(85.0, "get", "x")], [(95.0, "get", "x")]]),
    # c1 writes twice, then c2 writes once; c3 reads last: a client-chosen version loses c2's write.
    "versions": ({"c1": ("r1", "r2", "r3"), "c2": ("r1", "r2", "r3"), "c3": ("r1", "r2", "r3")},
                 [[(0.0, "put", "x"), (20.0, "put", "x")], [(60.0, "put", "x")], [(100.0, "get", "x")]]),
    # c1's put is acknowledged by r1 and r2 while r3 still has nothing; c2 hears r3 first.
    "first_answer": ({"c1": ("r1", "r2"), "c2": ("r3",)},
                     [[(0.0, "put", "x")], [(10.0, "get", "x")]]),
}


def _scripted(sim, fast: dict) -> None:
    for client in ("c1", "c2", "c3"):
        if client not in sim.nodes:
            continue
        near = fast.get(client, ())
        for replica in ("r1", "r2", "r3"):
            delay = 1.0 if replica in near else 40.0
            sim.network.set_link(client, replica, latency=delay)
            sim.network.set_link(replica, client, latency=delay)


def quorum_scripted(cls: type, seed: int | str, *, schedule: str) -> QuorumRun:
    """A scripted schedule with R + W > N (N=3, R=W=2): the history must be linearizable.

    ``schedule`` is ``"inversion"`` (a read must not return a value an earlier read already
    saw overwritten: write back what you read), ``"versions"`` (the version of a put must be
    newer than every version a read quorum holds) or ``"first_answer"`` (a get waits for R answers).
    """
    _check_client(cls)
    check_choice("schedule", schedule, tuple(_SCHEDULES))
    fast, scripts = _SCHEDULES[schedule]
    run = run_quorum(cls, seed=seed, scripts=scripts, faults=lambda sim: _scripted(sim, fast),
                     timeout=100.0, op_timeout=300.0, final_reads=True)
    unfinished = [op for op in run.operations() if op.status != "ok"]
    if unfinished:
        raise ScenarioFailed(f"schedule {schedule!r}: {unfinished[0]} did not complete, with every "
                             "replica up and no message lost", run.sim, history=run.history,
                             operations=unfinished)
    _lin(run, f"schedule {schedule!r}")
    return run


def quorum_linearizable(cls: type, seed: int | str, *, clients: int = 3, ops: int = 12,
                        reorder: bool = True) -> QuorumRun:
    """A random workload (N=3, R=W=2, latencies 1-3 ms, or 1-15 ms with ``reorder``) is linearizable."""
    from ...sim import Uniform

    _check_client(cls)
    check_int("clients", clients, low=1, high=10)
    run = run_quorum(cls, seed=seed, clients=clients, ops=ops, final_reads=True,
                     latency=Uniform(1.0, 15.0) if reorder else None, timeout=40.0, op_timeout=200.0)
    _lin(run, "random workload")
    return run


def quorum_converges(cls: type, seed: int | str, *, fault: str = "partition") -> QuorumRun:
    """After the faults end and every key is read once, every replica holds the same data.

    ``"partition"``: r3 is cut off while the clients work, then the network heals;
    ``"crash"``: r3 is down while the clients work, then restarts (its disk intact).
    """
    _check_client(cls)
    check_choice("fault", fault, ("partition", "crash"))

    def faults(sim):
        for other in sim.node_ids:
            if other.startswith(("c", "final")):  # r3's answers arrive last: not in the first R
                sim.network.set_link("r3", other, latency=8.0)
        if fault == "partition":
            others = [n for n in sim.node_ids if n != "r3"]
            sim.nemesis.partition([["r3"], others], at=0)
        else:
            sim.nemesis.crash("r3", at=0)
    run = run_quorum(cls, seed=seed, ops=8, keys=("x", "y", "z"), read_fraction=0.3, faults=faults,
                     final_reads=True)
    _lin(run, f"convergence after a {fault}")
    verdict = run.converged()
    if not verdict.valid:
        raise ScenarioFailed(f"after a {fault}, a read of every key, and time to settle, the replicas "
                             f"differ:\n{verdict.explain()}", run.sim, history=run.history)
    return run


def quorum_hands_off(cls: type, seed: int | str) -> QuorumRun:
    """Hinted handoff: writes a down replica missed reach it after it restarts, with no read at all."""
    _check_client(cls)

    def faults(sim):
        sim.nemesis.crash("r3", at=0, restart_at=80)
    run = run_quorum(cls, seed=seed, ops=6, read_fraction=0.0, keys=("x", "y"), faults=faults,
                     settle=150.0)
    others = run.states["r1"], run.states["r2"]
    latest = {}
    for state in others:
        for key, value in state.items():
            latest[key] = max(latest.get(key, value), value)
    if run.states["r3"] != latest:
        raise ScenarioFailed(f"r3 was down while writes were acknowledged and came back at t=80; "
                             f"150 ms after the last write it holds {run.states['r3']!r}, the others "
                             f"{latest!r}: nobody handed it the writes it missed", run.sim,
                             history=run.history)
    return run


# -- CRDTs ------------------------------------------------------------------------------------------

_CRDT_KINDS = {"gcounter": "counter", "pncounter": "pn-counter", "orset": "set"}


def _expected(kind: str, script: list) -> Any:
    if kind == "gcounter":
        return sum(args[0] for _, _, _, args in script)
    if kind == "pncounter":
        return sum(args[0] if m == "increment" else -args[0] for _, _, m, args in script)
    return None


def crdt_converges(factory: Callable, seed: int | str, *, kind: str, count: int = 40,
                   replicas: int = 3, duplicate: float = 0.3, reorder: float = 0.3,
                   loss: float = 0.2) -> Any:
    """Replicas of ``factory`` converge under loss, duplication and reordering (to the right count).

    ``kind`` is ``"gcounter"``, ``"pncounter"`` or ``"orset"``; counters must also end at the
    sum of the increments (minus the decrements). Returns the run.
    """
    check_choice("kind", kind, tuple(_CRDT_KINDS))
    script = random_ops(_CRDT_KINDS[kind], seed=seed, count=count, replicas=replicas)
    run = run_crdt(factory, script, seed=seed, replicas=replicas, duplicate=duplicate,
                   reorder=reorder, loss=loss)
    if not run.converged:
        raise ScenarioFailed(f"{kind}: after every state reached every replica, the replicas' "
                             f"values differ: {run.values!r}", run.sim)
    want = _expected(kind, script)
    got = next(iter(run.values.values()))
    if want is not None and got != want:
        raise ScenarioFailed(f"{kind}: the replicas agree on {got!r}, but the {len(script)} "
                             f"operations add up to {want!r} (duplicated or reordered states "
                             "must not count twice, concurrent updates must not be lost)", run.sim)
    return run


# -- broadcast ---------------------------------------------------------------------------------------

BUDGETS = {"fast": (30.0, 400.0, 600.0), "efficient": (20.0, 1000.0, 2000.0)}
"""Gossip Glomers' budgets: (messages per broadcast, median latency, maximum latency), in ms."""


def _check_node(cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, BroadcastNode)):
        raise InvalidArgumentType(f"cls={cls!r} must be a subclass of BroadcastNode")


def broadcast_delivers(cls: type, seed: int | str, *, partition: bool = False,
                       broadcasts: int = 100, loss: float = 0.0) -> Any:
    """Every value reaches every node (with ``partition``: half the nodes cut off from 1 to 4 s)."""
    _check_node(cls)
    run = run_broadcast(cls, seed=seed, broadcasts=broadcasts, loss=loss,
                        partition=(1000.0, 4000.0) if partition else None, settle=6000.0)
    if not run.complete:
        have = {v: len(nodes) for v, nodes in run.sim.node(run.nodes[0]).meter.have.items()}
        short = [v for v in range(broadcasts) if have.get(v, 0) < len(run.nodes)]
        raise ScenarioFailed(f"{run.missing} deliveries never happened"
                             f"{' (a partition from 1 s to 4 s, healed)' if partition else ''}: "
                             f"value {short[0]} reached {have.get(short[0], 0)} of {len(run.nodes)} "
                             "nodes", run.sim)
    return run


def broadcast_budget(cls: type, seed: int | str, *, budget: str, broadcasts: int = 1000) -> Any:
    """25 nodes, 100 ms links, ``broadcasts`` values at 100 per second: within the ``budget``.

    ``"fast"``: fewer than 30 messages per broadcast, median latency under 400 ms, maximum
    under 600 ms; ``"efficient"``: under 20, 1 s and 2 s. Latency is the time until the last
    node has the value, measured by the simulator.
    """
    _check_node(cls)
    check_choice("budget", budget, tuple(BUDGETS))
    if isinstance(broadcasts, bool) or not isinstance(broadcasts, int) or broadcasts < 1:
        raise InvalidArgument(f"broadcasts={broadcasts!r} must be a positive int")
    per_op, median, worst = BUDGETS[budget]
    run = run_broadcast(cls, seed=seed, broadcasts=broadcasts, nodes=25, latency=100.0, rate=0.1)
    problems = []
    if not run.complete:
        problems.append(f"{run.missing} deliveries missing")
    if run.messages_per_op >= per_op:
        problems.append(f"{run.messages_per_op:.1f} messages per broadcast (budget < {per_op:g})")
    if run.median_latency >= median:
        problems.append(f"median latency {run.median_latency:.0f} ms (budget < {median:g})")
    if run.max_latency >= worst:
        problems.append(f"maximum latency {run.max_latency:.0f} ms (budget < {worst:g})")
    if problems:
        raise ScenarioFailed(f"budget {budget!r}: " + "; ".join(problems), run.sim)
    return run
