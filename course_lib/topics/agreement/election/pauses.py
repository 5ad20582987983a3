"""Stop-the-world pauses (garbage collection, a stalled VM): a node keeps its memory and its beliefs."""

from __future__ import annotations

from typing import Any

from ....sim import Node, Simulation
from ....sim.validation import check_type


def is_paused(node: Node) -> bool:
    """Whether ``node`` is in a stop-the-world pause right now (same as ``node.paused``)."""
    check_type("node", node, Node, what="a node (not its id: pass sim.node(node_id))")
    return node.paused


def pause_node(sim: Simulation, node_id: Any, duration: float) -> None:
    """Stop ``node_id`` for ``duration`` from now, as a long garbage collection or a stalled VM would.

    The node is not crashed: it keeps its memory (including its belief that it
    holds a lease), messages still reach it and its timers still come due, but
    it handles none of them until the pause ends; then it handles them all, in
    the order they came (a periodic timer that came due several times runs
    once). Its clock keeps running, so a node that looks at it after the pause
    can notice how much time went by. This is the core's pause fault,
    :meth:`course_lib.sim.Nemesis.pause`; the trace shows ``pause`` and ``resume`` events.

    Raises:
        InvalidArgument: ``duration`` is not a positive number, or ``node_id`` is not a node.
    """
    check_type("sim", sim, Simulation)
    sim.nemesis.pause(node_id, duration=duration)


def pause(sim: Simulation, node_id: Any, *, at: float, duration: float) -> None:
    """Schedule a stop-the-world pause of ``node_id`` at time ``at`` (see :func:`pause_node`)."""
    check_type("sim", sim, Simulation)
    sim.nemesis.pause(node_id, at=at, duration=duration)
