"""The tutorials' naive clock code: last-write-wins on physical timestamps, and a tutorial's vector clock.

* :class:`LWWResolver` and :class:`NaiveVectorClock` are faithful ports of the
  common tutorials' conflict-resolution snippets, the "before" versions:
  last-write-wins trusts physical timestamps, and ``happens_before`` answers
  True for equal clocks and cannot tell "before" from "concurrent".
* :class:`LWWReplica` and :func:`lww_scenario` show last-write-wins losing an
  update when the writers' clocks disagree.

Example:
    >>> sim = lww_scenario(seed=0, skew=2.0, gap=1.5)
    >>> sim["n1"].read("x"), sim["n2"].read("x")
    (1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import InvalidArgument, check_number, check_positive


class LWWResolver:
    """Last-write-wins, as in many tutorials: the value with the highest timestamp wins."""

    def resolve(self, values):
        return max(values, key=lambda v: v.timestamp)


class NaiveVectorClock:
    """A common tutorial's ``VectorClock``, ported faithfully: a dict of counters per node.

    Its ``happens_before`` checks ``<=`` on every entry, so it answers True for
    two *equal* clocks and, read on its own, cannot tell "before" from
    "concurrent" (it returns False for both "after" and "concurrent").
    """

    def __init__(self):
        self.clock = {}

    def increment(self, node):
        self.clock[node] = self.clock.get(node, 0) + 1

    def merge(self, other):
        for node, time in other.clock.items():
            self.clock[node] = max(self.clock.get(node, 0), time)

    def happens_before(self, other):
        # Check if self happened before other
        return all(
            self.clock.get(n, 0) <= other.clock.get(n, 0)
            for n in set(self.clock.keys()) | set(other.clock.keys())
        )


@dataclass(frozen=True)
class Versioned:
    """A value with the physical timestamp its writer gave it (what :class:`LWWResolver` compares)."""

    value: Any
    timestamp: float
    writer: Any


class LWWReplica(Node):
    """A replica that timestamps writes with its own physical clock and resolves with :class:`LWWResolver`."""

    def __init__(self) -> None:
        self.data: dict[Any, Versioned] = {}
        self.resolver = LWWResolver()

    def write(self, key: Any, value: Any) -> Versioned:
        """Client write: stamp it with this node's clock, keep the winner, replicate."""
        item = Versioned(value, self.clock.now(), self.id)
        self.record("write", key=key, value=value, timestamp=round(item.timestamp, 3))
        self._keep(key, item)
        for peer in self.peers:
            self.send(peer, "replicate", key=key, value=value, timestamp=item.timestamp, writer=self.id)
        return item

    def read(self, key: Any) -> Any:
        """Client read of the local copy (``None`` when missing)."""
        item = self.data.get(key)
        return None if item is None else item.value

    def on_replicate(self, msg: Any) -> None:
        self._keep(msg.key, Versioned(msg.value, msg.timestamp, msg.writer))

    def _keep(self, key: Any, item: Versioned) -> None:
        current = self.data.get(key)
        self.data[key] = item if current is None else self.resolver.resolve([current, item])


def lww_scenario(seed: Any = 0, *, skew: float = 2.0, gap: float = 1.5,
                 latency: float = 0.5) -> Simulation:
    """Two replicas, ``n2``'s clock ``skew`` behind; n1 writes x=1, n2 reads it and writes x=2 ``gap`` later.

    The second write happened after the first (n2 had read the first value),
    but when ``skew > gap`` its timestamp is smaller, so last-write-wins keeps
    x=1 on both replicas: the later update is silently lost.

    Returns:
        The simulation after the run (read ``sim["n1"].read("x")``).
    """
    check_number("skew", skew)
    check_positive("latency", latency)
    check_number("gap", gap)
    if not gap > latency:
        raise InvalidArgument(f"gap={gap!r} must be a number larger than latency={latency!r}")
    sim = Simulation(seed=seed, latency=latency)
    sim.add_node(LWWReplica, "n1", clock_offset=0.0)
    sim.add_node(LWWReplica, "n2", clock_offset=-float(skew))
    sim.at(10.0, sim["n1"].write, "x", 1)

    def read_then_write() -> None:
        seen = sim["n2"].read("x")
        sim["n2"].record("read", key="x", value=seen)
        sim["n2"].write("x", seen + 1)

    sim.at(10.0 + gap, read_then_write)
    sim.run(until=10.0 + gap + 5 * latency + 1)
    return sim
