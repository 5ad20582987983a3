"""Who believed they led, when, and in which term: the record every election picture reads."""

from __future__ import annotations

from ....sim import Simulation
from ....sim.validation import check_number, check_type


class LeadershipLog:
    """Who believed they were leader, when, and in which term; see :func:`watch_leaders`."""

    def __init__(self, sim: Simulation) -> None:
        check_type("sim", sim, Simulation)
        self.sim = sim
        self._open: dict = {}       # node id -> (start, term)
        self._closed: list = []     # (node id, start, end, term)

    def _observe(self, sim: Simulation) -> None:
        now = sim.now
        for node_id, node in sim.nodes.items():
            is_leader = getattr(node, "is_leader", None)
            leads = callable(is_leader) and not node.crashed and bool(is_leader())
            term = getattr(node, "term", None) if leads else None
            current = self._open.get(node_id)
            if current is not None and (not leads or current[1] != term):
                if now > current[0]:
                    self._closed.append((node_id, current[0], now, current[1]))
                del self._open[node_id]
                current = None
            if leads and current is None:
                self._open[node_id] = (now, term)
        return None

    def intervals(self) -> list[tuple]:
        """Return ``(node, start, end, term)`` for every stretch of leadership, in order of start."""
        now = self.sim.now
        out = self._closed + [(n, start, now, term) for n, (start, term) in self._open.items()
                              if now > start]
        return sorted(out, key=lambda iv: (iv[1], str(iv[0])))

    def leaders_at(self, time: float) -> list:
        """Return the nodes that believed they led at ``time``."""
        check_number("time", time)
        return [n for n, start, end, _ in self.intervals() if start <= time < end]

    def overlap(self) -> float:
        """Return the total time during which two or more nodes believed they led."""
        points = sorted({t for _, s, e, _ in self.intervals() for t in (s, e)})
        total = 0.0
        for a, b in zip(points, points[1:]):
            mid = (a + b) / 2
            if len(self.leaders_at(mid)) > 1:
                total += b - a
        return total


def watch_leaders(sim: Simulation) -> LeadershipLog:
    """Start recording who believes they lead (``is_leader()``) and in which ``term``; returns the log.

    Beliefs are sampled after every event of the run.
    """
    check_type("sim", sim, Simulation)
    log = LeadershipLog(sim)
    sim.add_observer(log._observe)
    return log
