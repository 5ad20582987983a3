"""Chapter 03a's lease scenario: a lock server and leaders through pauses, partitions and crashes."""

from __future__ import annotations

from typing import Any

from ....checkers.invariants import (at_most_one_leader, at_most_one_leader_per_term,
                                     fenced_writes_monotonic)
from ....sim import Constant, Node, Simulation, Uniform
from ....sim.errors import ScenarioFailed
from ....sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_int,
                                check_number, check_positive, check_type)
from .leases import FencedStorage
from .pauses import pause_node


LEASE_TTL = 5.0


def lease_scenario(server_cls: type, leader_cls: type, seed: Any, *, candidates: int = 3,
                   ttl: float = LEASE_TTL, loss: float = 0.0, duplicate: float = 0.0,
                   reorder: float = 0.0, pauses: int = 0, partition: bool = False,
                   server_crash: bool = False, slow_link: bool = False, duration: float = 150.0,
                   progress: bool = True, on_setup: Any = None, max_events: int = 200_000) -> Simulation:
    """Run a lock server and ``candidates`` leaders that write to a :class:`FencedStorage`, and check them.

    Nodes: ``"lock"`` = ``server_cls(ttl)``, ``"n1"``, ``"n2"``, ... =
    ``leader_cls("lock", "store")`` and ``"store"`` = ``FencedStorage()``.
    Checked after every event: :func:`~course_lib.checkers.at_most_one_leader`,
    :func:`~course_lib.checkers.at_most_one_leader_per_term` (a leader's term is
    its fencing token) and :func:`~course_lib.checkers.fenced_writes_monotonic`.
    Faults (all over by 80% of ``duration``):

    - ``pauses``: that many stop-the-world pauses of whoever leads, each for
      2.5 lease times (:func:`pause_node`);
    - ``partition``: the leader is cut off from everyone for 4 lease times;
    - ``server_crash``: the lock server crashes (a lease may be held) and
      restarts 0.4 lease times later, before that lease would have run out;
    - ``slow_link``: for 4 lease times, the leader's messages to the lock
      server take 1.5 lease times to arrive.

    With ``progress``, also checks that the storage accepted writes in the
    last 20% of the run (someone leads again once the faults are over) and,
    without faults, that one leader kept the lease the whole run.
    ``on_setup(sim)``, if given, is called before the run (for example
    ``lambda sim: logs.append(watch_leaders(sim))`` to draw the run afterwards).

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: an invariant broke, or no leader wrote at the end.
    """
    for name, cls in (("server_cls", server_cls), ("leader_cls", leader_cls)):
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise InvalidArgumentType(f"{name}={cls!r} must be a class, a subclass of course_lib.sim.Node")
    check_int("candidates", candidates, low=1)
    check_int("pauses", pauses, low=0)
    for name, flag in (("partition", partition), ("server_crash", server_crash),
                       ("slow_link", slow_link), ("progress", progress)):
        check_type(name, flag, bool, what="True or False")
    check_positive("ttl", ttl)
    check_number("duration", duration, what="a time")
    if on_setup is not None:
        check_callable("on_setup", on_setup, "on_setup(sim)")
    if not duration >= 30 * ttl:
        raise InvalidArgument(f"duration={duration!r} must be at least 30 lease times ({30 * ttl:g})")
    faults = pauses + partition + server_crash + slow_link  # counted before the list is built
    if faults * (10 * ttl) + 4 * ttl > 0.8 * duration:
        raise InvalidArgument(f"duration={duration!r} is too short for {faults} faults "
                              f"(each takes {10 * ttl:g}); make it longer")
    sim = Simulation(seed=seed, latency=Uniform(0.2, 1.0), loss=loss, duplicate=duplicate,
                     reorder=reorder, reorder_delay=2 * ttl, max_events=max_events)
    sim.add_node(server_cls, "lock", ttl)
    ids = [f"n{i + 1}" for i in range(candidates)]
    sim.add_nodes(leader_cls, ids, "lock", "store")
    store = sim.add_node(FencedStorage, "store")
    sim.add_invariant("at_most_one_leader", at_most_one_leader)
    sim.add_invariant("at_most_one_leader_per_term", at_most_one_leader_per_term)
    sim.add_invariant("fenced_writes_monotonic", fenced_writes_monotonic)
    if on_setup is not None:
        on_setup(sim)
    rng = sim.rng_for("lease-faults")
    fault_end = 0.8 * duration
    # The faults take turns in slots of 10 lease times, in a seeded order.
    kinds = ["pause"] * pauses + ["partition"] * partition + ["server_crash"] * server_crash \
        + ["slow_link"] * slow_link
    rng.shuffle(kinds)
    slot = 10 * ttl

    def leader_now() -> Any:
        leaders = [n for n in ids if not sim.node(n).crashed and sim.node(n).is_leader()]
        return leaders[0] if leaders else ids[rng.randrange(len(ids))]

    def slow(victim: Any) -> None:
        sim.network.set_link(victim, "lock", latency=Constant(1.5 * ttl))
        sim.after(4 * ttl, sim.network.clear_link, victim, "lock")

    def cut_off(victim: Any) -> None:
        handle = sim.network.partition([[victim]])
        sim.after(4 * ttl, sim.network.heal, handle)

    for index, kind in enumerate(kinds):
        at = 4 * ttl + index * slot + rng.uniform(0, 2 * ttl)
        if kind == "pause":
            sim.at(at, lambda: pause_node(sim, leader_now(), 2.5 * ttl))
        elif kind == "partition":
            sim.at(at, lambda: cut_off(leader_now()))
        elif kind == "server_crash":
            sim.nemesis.crash("lock", at=at, restart_at=at + 0.4 * ttl)
        else:
            sim.at(at, lambda: slow(leader_now()))
    sim.run(until=duration)
    if progress:
        late = [w for w in store.accepted_writes if w["time"] >= fault_end]
        if not late:
            raise ScenarioFailed(
                f"the storage accepted no write after time {fault_end:g}, when every fault was over: "
                f"nobody led again ({len(store.accepted_writes)} writes accepted in all, "
                f"{len(store.rejected_writes)} rejected)", sim)
        if not kinds:
            tokens = sorted({w["token"] for w in store.accepted_writes}, key=repr)
            writers = sorted({str(w["writer"]) for w in store.accepted_writes})
            if len(writers) > 1 or len(tokens) > 1:
                raise ScenarioFailed(
                    f"without any fault the lease changed hands: writes came from {writers} with "
                    f"tokens {tokens}; a leader should renew its lease and keep it", sim)
            if len(store.accepted_writes) < duration / 3:
                raise ScenarioFailed(
                    f"without any fault the storage accepted only {len(store.accepted_writes)} writes "
                    f"in {duration:g} time units: is the leader losing its lease between renewals?", sim)
    return sim
