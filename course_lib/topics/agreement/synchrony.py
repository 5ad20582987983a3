"""Paxos under partial synchrony (Dwork, Lynch and Stockmeyer 1988): no bounds before GST, bounds after.

Before the *global stabilisation time* (GST) the network behaves as badly as an
asynchronous one may: here it is split into groups none of which is a majority,
and delays inside a group have a long tail. From GST on, every message arrives
within known bounds. Nobody is told when GST comes. A protocol that is safe
always and live after GST is exactly what the FLP result leaves room for.
"""

from __future__ import annotations

from typing import Any, Sequence

from ...sim import LogNormal, Simulation, Uniform
from ...sim.validation import InvalidArgument, check_choice, check_ids, check_number, check_positive
from .paxos import BACKOFFS, PaxosNode


def run_partially_synchronous(gst: float, *, seed: Any = 0, members: Sequence[Any] = ("a", "b", "c", "d", "e"),
                              proposers: Sequence[tuple[float, Any, Any]] = ((0.0, "a", "x"), (0.5, "e", "y")),
                              backoff: str = "random", timeout: float = 2.5, after: float = 40.0) -> Simulation:
    """Run one Paxos instance whose network stabilises at ``gst``; return the simulation.

    Before ``gst``: the members are split into pairs (and a single), so no
    group holds a majority, and delays are log-normal (median 1, sigma 1.5).
    From ``gst``: one network, delays in [0.9, 1.1]. The run lasts until ``gst + after``.

    Raises:
        InvalidArgument: a bad argument, named in the message (such as fewer
            than three members, or a proposer that is not a member).
    """
    check_number("gst", gst, low=0, what="a time")
    members = check_ids("members", members)
    if len(members) < 3:
        raise InvalidArgument(f"members={members!r} needs at least three nodes to have minorities")
    check_choice("backoff", backoff, BACKOFFS)
    check_positive("timeout", timeout)
    check_positive("after", after)
    for index, item in enumerate(proposers):
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            raise InvalidArgument(f"proposers[{index}]={item!r} must be a triple (time, node, value)")
        check_number(f"proposers[{index}]: time", item[0], low=0, what="a time")
        if isinstance(item[1], bool) or item[1] not in members:
            raise InvalidArgument(f"proposers[{index}]: node={item[1]!r} is not one of members={members!r}")
    sim = Simulation(seed=seed, latency=LogNormal(1.0, 1.5) if gst > 0 else Uniform(0.9, 1.1))
    sim.add_nodes(PaxosNode, members, members, timeout=timeout, backoff=backoff)
    if gst > 0:
        groups = [members[i:i + 2] for i in range(0, len(members), 2)]
        sim.nemesis.partition(groups, at=0.0, heal_at=gst)
        sim.at(gst, lambda: sim.network.configure(latency=Uniform(0.9, 1.1)))
    for time, node_id, value in proposers:
        sim.at(time, sim.node(node_id).propose, value)
    sim.run(until=gst + after)
    return sim
