"""The nemesis: faults scheduled in advance, at given times or at seeded random times.

Example:
    >>> from course_lib.sim import Simulation, Node
    >>> sim = Simulation(seed=1)
    >>> _ = sim.add_nodes(Node, ["a", "b", "c"])
    >>> sim.nemesis.partition([["a"], ["b", "c"]], at=5, heal_at=10)
    >>> sim.nemesis.crash("b", at=2, restart_at=4)
    >>> sim.run(until=20)
    >>> [e.kind for e in sim.trace]
    ['crash', 'restart', 'partition', 'heal']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

FAULT_KINDS = ("partition", "crash", "clock_jump")


def _check_time(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value < math.inf):
        raise ValueError(f"{name}={value!r} must be a finite time >= 0")
    return float(value)


class Nemesis:
    """Schedules partitions, crashes, restarts and clock jumps for a simulation."""

    def __init__(self, sim: "Simulation") -> None:
        self._sim = sim
        self._rng = sim.rng_for("nemesis")
        self.schedule: list[tuple[float, str, Any]] = []

    def _plan(self, at: float, kind: str, info: Any, fn: Any, *args: Any) -> None:
        self.schedule.append((at, kind, info))
        self._sim.at(at, fn, *args)

    def partition(self, groups: Sequence[Iterable[Any]], *, at: float, heal_at: float | None = None) -> None:
        """Partition the network into ``groups`` at time ``at`` (and heal at ``heal_at``)."""
        at = _check_time("at", at)
        groups = [list(g) for g in groups]
        for index, group in enumerate(groups):
            for n in group:
                self._sim._check_node(f"groups[{index}]", n)
        if heal_at is not None and _check_time("heal_at", heal_at) <= at:
            raise ValueError(f"heal_at={heal_at!r} must be after at={at!r}")
        self._plan(at, "partition", groups, self._sim.network.partition, *groups)
        if heal_at is not None:
            self.heal(at=heal_at)

    def partition_one_way(self, src_group: Iterable[Any], dst_group: Iterable[Any], *, at: float,
                          heal_at: float | None = None) -> None:
        """Cut messages from ``src_group`` to ``dst_group`` (only that way) at ``at``."""
        at = _check_time("at", at)
        srcs, dsts = list(src_group), list(dst_group)
        for n in srcs:
            self._sim._check_node("src_group", n)
        for n in dsts:
            self._sim._check_node("dst_group", n)
        if heal_at is not None and _check_time("heal_at", heal_at) <= at:
            raise ValueError(f"heal_at={heal_at!r} must be after at={at!r}")
        self._plan(at, "partition_one_way", (srcs, dsts), self._sim.network.partition_one_way, srcs, dsts)
        if heal_at is not None:
            self.heal(at=heal_at)

    def heal(self, *, at: float) -> None:
        """Heal every partition at time ``at``."""
        self._plan(_check_time("at", at), "heal", None, self._sim.network.heal)

    def crash(self, node_id: Any, *, at: float, restart_at: float | None = None) -> None:
        """Crash ``node_id`` at ``at`` (and restart it at ``restart_at``)."""
        self._sim._check_node("node_id", node_id)
        at = _check_time("at", at)
        if restart_at is not None and _check_time("restart_at", restart_at) <= at:
            raise ValueError(f"restart_at={restart_at!r} must be after at={at!r}")
        self._plan(at, "crash", node_id, self._sim.crash, node_id)
        if restart_at is not None:
            self.restart(node_id, at=restart_at)

    def restart(self, node_id: Any, *, at: float) -> None:
        """Restart ``node_id`` at ``at``."""
        self._sim._check_node("node_id", node_id)
        self._plan(_check_time("at", at), "restart", node_id, self._sim.restart, node_id)

    def clock_jump(self, node_id: Any, delta: float, *, at: float) -> None:
        """Step ``node_id``'s clock by ``delta`` at ``at``."""
        node = self._sim.node(node_id)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not math.isfinite(delta):
            raise ValueError(f"delta={delta!r} must be a finite number")
        self._plan(_check_time("at", at), "clock_jump", (node_id, delta), self._jump, node, delta)

    def _jump(self, node: Any, delta: float) -> None:
        node.clock.jump(delta)
        self._sim.trace.record(self._sim.now, "clock_jump", node.id, info=delta)

    def random_faults(self, *, start: float, end: float, mean_interval: float,
                      duration: float, kinds: Sequence[str] = ("partition", "crash"),
                      max_down: int | None = None, clock_jump: float = 1.0) -> list[tuple[float, str, Any]]:
        """Schedule faults at seeded random times in ``[start, end)``; return what was planned.

        Fault starts are a Poisson process with ``mean_interval``; each fault lasts
        ``duration`` and does not overlap the next. A partition splits the nodes
        into a random minority and majority; a crash takes down at most
        ``max_down`` nodes at once (default: a minority). Everything is healed and
        restarted by ``end``.
        """
        start, end = _check_time("start", start), _check_time("end", end)
        if end <= start:
            raise ValueError(f"end={end!r} must be after start={start!r}")
        if isinstance(mean_interval, bool) or not isinstance(mean_interval, (int, float)) or mean_interval <= 0:
            raise ValueError(f"mean_interval={mean_interval!r} must be a positive number")
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
            raise ValueError(f"duration={duration!r} must be a positive number")
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown or not kinds:
            raise ValueError(f"kinds={tuple(kinds)!r} must be a non-empty selection of {FAULT_KINDS}")
        ids = list(self._sim._nodes)
        if not ids:
            raise ValueError("random_faults needs nodes: add them first")
        minority = max(1, (len(ids) - 1) // 2)
        max_down = minority if max_down is None else max_down
        if isinstance(max_down, bool) or not isinstance(max_down, int) or not 1 <= max_down <= len(ids):
            raise ValueError(f"max_down={max_down!r} must be an int in [1, {len(ids)}]")
        rng = self._rng
        planned_before = len(self.schedule)
        t = start + rng.expovariate(1.0 / mean_interval)
        while t < end:
            stop = min(t + duration, end)
            kind = kinds[rng.randrange(len(kinds))]
            if kind == "partition" and len(ids) > 1:
                side = rng.sample(ids, rng.randint(1, minority))
                self.partition([side], at=t, heal_at=stop)
            elif kind == "crash":
                for victim in rng.sample(ids, rng.randint(1, max_down)):
                    self.crash(victim, at=t, restart_at=stop)
            elif kind == "clock_jump":
                victim = ids[rng.randrange(len(ids))]
                self.clock_jump(victim, rng.uniform(-clock_jump, clock_jump), at=t)
            t = stop + rng.expovariate(1.0 / mean_interval)
        return self.schedule[planned_before:]
