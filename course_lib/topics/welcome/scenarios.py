"""Chapter 00's graded scenario: a cluster of the learner's replicas under faults must converge.

A replica class under test must offer ``write(key, value) -> version`` (any
orderable version; the newest version of a key must win everywhere) and
``read(key)``. The scenario only drives and observes it: the replication
protocol itself is the learner's.
"""

from __future__ import annotations

from typing import Any, Sequence

from ...sim import Node, Simulation, Uniform
from ...sim.errors import ScenarioFailed
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_int, check_number, check_type
from .workload import _check_list, random_writes


def replication_scenario(cls: type, seed: Any, *, nodes: int = 3, writes: int = 15,
                         keys: Sequence[Any] = ("x", "y", "z"), loss: float = 0.0,
                         duplicate: float = 0.0, reorder: float = 0.0,
                         partition: bool = False, crash: bool = False,
                         write_until: float = 60.0, settle: float = 200.0,
                         quiet_after: float | None = None, max_events: int = 200_000) -> Simulation:
    """Run ``writes`` client writes on a cluster of ``cls`` under faults, then check convergence.

    Checks, after ``settle`` time units with the network healed and every node up:
    every replica reads the same value for every written key, and that value is
    the one of the write with the highest version; and each replica gave its
    writes growing versions (across a crash too: a client's new write must not
    lose to its older one). With ``quiet_after``, also
    checks that no message at all is sent after that time (the protocol stops
    once everything is acknowledged).

    Args:
        cls: the replica class (a :class:`~course_lib.sim.Node` with ``write`` and ``read``).
        seed: the simulation seed.
        nodes: cluster size (>= 2).
        writes: number of client writes, at seeded random times before ``write_until``.
        loss, duplicate, reorder: network faults for the whole run.
        partition: cut a random minority off from 10% to 60% of ``write_until``.
        crash: crash a random node at 30% and restart it at 70% of ``write_until``; it
            takes a write just before the crash and one just after the restart.
        settle: total run time; faults end by ``write_until``.
        quiet_after: if set, the time after which no message may be sent.
        max_events: a cap on deliveries and timer firings (a message storm fails the run).

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: the replicas disagree, lost a write, numbered a write below an
            earlier one of theirs, or never go quiet.
    """
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise InvalidArgumentType(f"cls={cls!r} must be your replica class, a subclass of "
                                  "course_lib.sim.Node")
    for method in ("write", "read"):
        if not callable(getattr(cls, method, None)):
            raise InvalidArgumentType(f"cls={cls.__name__} has no {method}() method; a replica "
                                      "class must offer write(key, value) and read(key)")
    check_int("nodes", nodes, low=2)
    check_int("writes", writes, low=0)
    _check_list("keys", keys, "keys such as ['x', 'y']")
    for name, flag in (("partition", partition), ("crash", crash)):
        check_type(name, flag, bool, what="True or False")
    check_number("write_until", write_until, low=0, low_open=True, what="a time")
    check_number("settle", settle, what="a time")
    if not settle > write_until:
        raise InvalidArgument(f"settle={settle!r} must be after write_until={write_until!r}")
    if quiet_after is not None:
        check_number("quiet_after", quiet_after, what="a time or None")
        if not 0 < quiet_after < settle:
            raise InvalidArgument(f"quiet_after={quiet_after!r} must be a time in (0, settle={settle!r}) "
                                  "or None")
    if isinstance(max_events, int) and not isinstance(max_events, bool):
        for name, count in (("nodes", nodes), ("writes", writes)):
            if count > max_events:
                raise InvalidArgument(f"{name}={count} cannot fit in max_events={max_events} events "
                                      f"(each of the {name} takes at least one); pass a larger max_events")
    sim = Simulation(seed=seed, latency=Uniform(0.5, 2.0), loss=loss, duplicate=duplicate,
                     reorder=reorder, reorder_delay=8.0, max_events=max_events)
    ids = [f"n{i + 1}" for i in range(nodes)]
    sim.add_nodes(cls, ids)
    faults = sim.rng_for("scenario-faults")
    if partition:
        side = faults.sample(ids, max(1, (nodes - 1) // 2))
        sim.nemesis.partition([side], at=0.1 * write_until, heal_at=0.6 * write_until)
    issued: dict[Any, list[tuple[Any, Any, Any]]] = {}
    own: dict[Any, list[tuple[float, Any, Any, Any]]] = {}  # node -> its writes, in order
    if crash:
        victim = ids[faults.randrange(nodes)]
        sim.nemesis.crash(victim, at=0.3 * write_until, restart_at=0.7 * write_until)
        # A write just before the crash: its updates cannot be acknowledged in time,
        # so only a replica that keeps its outbox across the crash delivers them.
        sim.at(0.3 * write_until - 0.1, lambda: client_write(victim, "last-words", f"from {victim}"))
        # And one just after the restart: only a replica that kept its counter numbers it above
        # its earlier writes.
        sim.at(0.7 * write_until + 0.1, lambda: client_write(victim, "first-words", f"from {victim}"))

    def client_write(node_id: Any, key: Any, value: Any) -> None:
        node = sim.node(node_id)
        if node.crashed:
            return  # the client cannot reach a node that is down
        version = node.write(key, value)
        issued.setdefault(key, []).append((version, value, node_id))
        own.setdefault(node_id, []).append((sim.now, key, value, version))

    for time, node_id, key, value in random_writes(sim, ids, count=writes, keys=list(keys),
                                                   end=write_until):
        sim.at(time, client_write, node_id, key, value)
    if quiet_after is not None:
        sim.run(until=quiet_after)
        sent_before = sim.trace.summary()["sent"]
        sim.run(until=settle)
        sent_after = sim.trace.summary()["sent"] - sent_before
        if sent_after:
            late = [e for e in sim.trace.filter(kind="send") if e.time > quiet_after]
            raise ScenarioFailed(
                f"{sent_after} messages were sent after time {quiet_after:g}, when every update "
                f"should long be acknowledged (last at {late[-1].time:g}, e.g. {late[0].type!r} "
                f"{late[0].node}->{late[0].peer}): does your node stop retrying once acknowledged?",
                sim)
    else:
        sim.run(until=settle)
    _check_own_versions(own, sim)
    for key, versions in issued.items():
        try:
            newest = max(versions, key=lambda item: item[0])
        except TypeError as exc:
            raise ScenarioFailed(f"the versions returned by write() cannot be compared: {exc}", sim) from None
        reads = {node_id: sim.node(node_id).read(key) for node_id in ids}
        if len({repr(v) for v in reads.values()}) > 1:
            raise ScenarioFailed(f"replicas disagree on key {key!r} at the end: {reads}", sim)
        if reads[ids[0]] != newest[1]:
            raise ScenarioFailed(
                f"key {key!r} ended as {reads[ids[0]]!r} everywhere, but the newest write was "
                f"{newest[1]!r} (version {newest[0]!r}, written at {newest[2]})", sim)
    return sim


def _check_own_versions(own: dict[Any, list[tuple[float, Any, Any, Any]]], sim: Simulation) -> None:
    """Each replica's writes got growing versions, in the order they were made (a crash included)."""
    for node_id, writes in own.items():
        for (t1, k1, v1, ver1), (t2, k2, v2, ver2) in zip(writes, writes[1:]):
            try:
                grows = ver2 > ver1
            except TypeError as exc:
                raise ScenarioFailed(f"the versions returned by write() cannot be compared: {exc}",
                                     sim) from None
            if not grows:
                raise ScenarioFailed(
                    f"{node_id}'s write {k2}={v2!r} at t={t2:g} got version {ver2!r}, not above its "
                    f"earlier write {k1}={v1!r} at t={t1:g} (version {ver1!r}): a replica's versions "
                    "must keep growing, across a crash too, or a client's new write loses to its old one "
                    "(what must survive a crash?)", sim)
