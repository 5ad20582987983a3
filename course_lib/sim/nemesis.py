"""The nemesis: faults scheduled in advance, at given times or at seeded random times.

Every fault method takes ``at=`` (default: now) and, where a fault has an
end, ``heal_at=`` / ``restart_at=`` / ``duration=``. Faults compose: each
one's end ends only that fault. A node crashed by two overlapping faults
comes back when the second of them ends; a partition healed by a random
fault does not end a partition you scheduled yourself; a node crashed for
good (no ``restart_at``) stays down until you restart it explicitly.

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

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .network import check_groups
from .validation import (InvalidArgument, check_choice, check_int, check_number,
                         check_positive)

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation

FAULT_KINDS = ("partition", "crash", "clock_jump", "pause")


class Nemesis:
    """Schedules partitions, crashes, restarts, pauses and clock jumps for a simulation."""

    def __init__(self, sim: "Simulation") -> None:
        self._sim = sim
        self._rng = sim.rng_for("nemesis")
        self._next_fault = 0
        self.schedule: list[tuple[float, str, Any]] = []

    # -- helpers --------------------------------------------------------------------------------
    def _when(self, name: str, value: float | None) -> float:
        now = self._sim.now
        if value is None:
            return now
        return check_number(name, value, low=now, what=f"a finite time >= now ({now:g})")

    def _end(self, name: str, value: float | None, start: float) -> float | None:
        if value is None:
            return None
        check_number(name, value, what="a finite time")
        if value <= start:
            raise InvalidArgument(f"{name}={value!r} must be after at={start!r}")
        return value

    def _plan(self, at: float, kind: str, info: Any, fn: Any, *args: Any) -> None:
        self.schedule.append((at, kind, info))
        self._sim._schedule(at - self._sim.now, self._sim._run_external, (fn, args))

    def _fault_id(self) -> int:
        self._next_fault += 1
        return self._next_fault

    # -- partitions ---------------------------------------------------------------------------
    def partition(self, groups: Sequence[Iterable[Any]], *, at: float | None = None,
                  heal_at: float | None = None) -> None:
        """Partition the network into ``groups`` at time ``at`` (default now); heal it at ``heal_at``.

        ``groups`` is what :meth:`Network.partition` takes: a list of groups of
        node ids, ``[["a"], ["b", "c"]]``. The heal at ``heal_at`` ends only
        this partition.
        """
        groups = check_groups(self._sim, groups)
        at = self._when("at", at)
        heal_at = self._end("heal_at", heal_at, at)
        handle: list = []
        self._plan(at, "partition", groups, self._start_partition, groups, handle)
        if heal_at is not None:
            self._plan(heal_at, "heal", None, self._end_partition, handle)

    def partition_one_way(self, src_group: Iterable[Any], dst_group: Iterable[Any], *,
                          at: float | None = None, heal_at: float | None = None) -> None:
        """Cut messages from ``src_group`` to ``dst_group`` (only that way) at ``at``; heal at ``heal_at``."""
        from .network import _ids
        srcs = [self._sim.check_node("src_group", n) for n in _ids("src_group", src_group)]
        dsts = [self._sim.check_node("dst_group", n) for n in _ids("dst_group", dst_group)]
        at = self._when("at", at)
        heal_at = self._end("heal_at", heal_at, at)
        handle: list = []
        self._plan(at, "partition_one_way", (srcs, dsts), self._start_cut, srcs, dsts, handle)
        if heal_at is not None:
            self._plan(heal_at, "heal", None, self._end_partition, handle)

    def heal(self, *, at: float | None = None) -> None:
        """Heal every partition and one-way cut at time ``at`` (default now)."""
        self._plan(self._when("at", at), "heal", None, self._sim.network.heal)

    def _start_partition(self, groups: list, handle: list) -> None:
        handle.append(self._sim.network.partition(groups))

    def _start_cut(self, srcs: list, dsts: list, handle: list) -> None:
        handle.append(self._sim.network.partition_one_way(srcs, dsts))

    def _end_partition(self, handle: list) -> None:
        if handle:
            self._sim.network.heal(handle[0])

    # -- crashes ----------------------------------------------------------------------------------
    def crash(self, node_id: Any, *, at: float | None = None, restart_at: float | None = None) -> None:
        """Crash ``node_id`` at ``at`` (default now); restart it at ``restart_at``.

        Without ``restart_at`` the node is down for good: only an explicit
        :meth:`restart` brings it back. With it, the restart ends only this
        crash: a node that another fault also keeps down stays down.
        """
        self._sim.check_node("node_id", node_id)
        at = self._when("at", at)
        restart_at = self._end("restart_at", restart_at, at)
        hold = ("nemesis", self._fault_id()) if restart_at is not None else "manual"
        self._plan(at, "crash", node_id, self._sim._crash, node_id, hold)
        if restart_at is not None:
            self._plan(restart_at, "restart", node_id, self._sim._end_crash, node_id, hold)

    def restart(self, node_id: Any, *, at: float | None = None) -> None:
        """Restart ``node_id`` at ``at`` (default now), ending every crash that keeps it down."""
        self._sim.check_node("node_id", node_id)
        self._plan(self._when("at", at), "restart", node_id, self._sim.restart, node_id)

    # -- pauses -------------------------------------------------------------------------------------
    def pause(self, node_id: Any, *, at: float | None = None, duration: float) -> None:
        """Stop ``node_id`` for ``duration`` from ``at`` (default now), as a long GC pause would.

        The node is not crashed: it keeps its memory, messages still reach it
        and its timers still come due, but it handles none of them until the
        pause ends; then it handles them all, in the order they came (a
        periodic timer that came due several times runs once). Its clock keeps
        running. Overlapping pauses stack: the node resumes when the last ends.
        """
        self._sim.check_node("node_id", node_id)
        at = self._when("at", at)
        check_positive("duration", duration)
        hold = self._fault_id()
        self._plan(at, "pause", node_id, self._sim._pause, node_id, hold)
        self._plan(at + duration, "resume", node_id, self._sim._resume, node_id, hold)

    # -- clocks ----------------------------------------------------------------------------------------
    def clock_jump(self, node_id: Any, delta: float, *, at: float | None = None) -> None:
        """Step ``node_id``'s clock by ``delta`` at ``at`` (default now)."""
        node = self._sim.node(node_id)
        check_number("delta", delta, what="a finite number")
        self._plan(self._when("at", at), "clock_jump", (node_id, delta), self._jump, node, delta)

    def _jump(self, node: Any, delta: float) -> None:
        node.clock.jump(delta)
        self._sim.trace.record(self._sim.now, "clock_jump", node.id, info=delta)

    # -- random faults ----------------------------------------------------------------------------------
    def random_faults(self, *, start: float, end: float, mean_interval: float,
                      duration: float, kinds: Sequence[str] = ("partition", "crash"),
                      max_down: int | None = None, clock_jump: float = 1.0) -> list[tuple[float, str, Any]]:
        """Schedule faults at seeded random times in ``[start, end)``; return what was planned.

        Fault starts are a Poisson process with ``mean_interval``; each fault lasts
        ``duration`` and does not overlap the next. A partition splits the nodes
        into a random minority and majority; a crash takes down at most
        ``max_down`` nodes at once (default: a minority); a pause stops one node.
        Each fault's end ends only that fault (see the module's docstring).
        """
        start = check_number("start", start, low=0, what="a finite time")
        end = check_number("end", end, what="a finite time")
        if end <= start:
            raise InvalidArgument(f"end={end!r} must be after start={start!r}")
        if start < self._sim.now:
            raise InvalidArgument(f"start={start!r} must be >= now ({self._sim.now:g})")
        check_positive("mean_interval", mean_interval)
        check_positive("duration", duration)
        kinds = tuple(kinds) if not isinstance(kinds, str) else (kinds,)
        if not kinds:
            raise InvalidArgument(f"kinds={kinds!r} must be a non-empty selection of {FAULT_KINDS}")
        for kind in kinds:
            check_choice("kinds", kind, FAULT_KINDS)
        check_number("clock_jump", clock_jump, low=0, what="a finite number")
        ids = list(self._sim._nodes)
        if not ids:
            raise InvalidArgument("random_faults needs nodes: add them first")
        minority = max(1, (len(ids) - 1) // 2)
        max_down = minority if max_down is None else check_int("max_down", max_down, low=1, high=len(ids))
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
            elif kind == "pause":
                victim = ids[rng.randrange(len(ids))]
                self.pause(victim, at=t, duration=stop - t)
            t = stop + rng.expovariate(1.0 / mean_interval)
        return self.schedule[planned_before:]

