"""Chapter 00 scaffolding: the seeds' naive replicate-to-peers node, and its workload.

:class:`NaiveReplica` is a faithful port of the course brief's first example
(a Ruby ``Node`` whose ``write`` stores locally and calls
``receive_replication`` on every peer). In the simulator the call becomes a
fire-and-forget message, which is exactly what it was all along: nothing checks
that it arrived, nothing retries, nothing notices a duplicate.

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=0)
    >>> nodes = sim.add_nodes(NaiveReplica, ["n1", "n2", "n3"])
    >>> sim.at(1.0, nodes[0].write, "user:123", "Alice")
    >>> sim.run(until=10)
    >>> [n.read("user:123") for n in nodes]
    ['Alice', 'Alice', 'Alice']
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

from .sim import Node, Simulation


class NaiveReplica(Node):
    """Store writes locally and tell every peer once; the "before" version of replication."""

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    def write(self, key: Any, value: Any) -> None:
        """Client write: store locally, then replicate to peers (fire and forget)."""
        self.data[key] = value
        self.record("write", key=key, value=value)
        self.replicate_to_peers(key, value)

    def read(self, key: Any) -> Any:
        """Client read of the local copy (``None`` when missing)."""
        return self.data.get(key)

    def replicate_to_peers(self, key: Any, value: Any) -> None:
        for peer in self.peers:
            self.send(peer, "replicate", key=key, value=value)

    def on_replicate(self, msg: Any) -> None:
        self.data[msg.key] = msg.value


def schedule_writes(sim: Simulation, writes: Iterable[tuple[float, Any, Any, Any]]) -> None:
    """Schedule client writes ``(time, node_id, key, value)``: each calls ``node.write(key, value)``."""
    planned = []
    for index, item in enumerate(writes):  # check them all before scheduling any
        if not (isinstance(item, tuple) and len(item) == 4):
            raise ValueError(f"writes[{index}]={item!r} must be a tuple (time, node_id, key, value)")
        time, node_id, key, value = item
        node = sim.node(node_id)
        if not callable(getattr(node, "write", None)):
            raise TypeError(f"writes[{index}]: node {node_id!r} has no write(key, value) method")
        if isinstance(time, bool) or not isinstance(time, (int, float)) or not sim.now <= time < math.inf:
            raise ValueError(f"writes[{index}]: time={time!r} must be a finite time >= now ({sim.now:g})")
        planned.append((time, node, key, value))
    for time, node, key, value in planned:
        sim.at(time, _client_write, node, key, value)


def _client_write(node: Node, key: Any, value: Any) -> None:
    if not node.crashed:  # a client cannot write to a node that is down
        node.write(key, value)


def random_writes(sim: Simulation, node_ids: Sequence[Any], *, count: int, keys: Sequence[Any],
                  start: float = 0.0, end: float = 50.0,
                  stream: str = "workload") -> list[tuple[float, Any, Any, Any]]:
    """Draw ``count`` writes at seeded random times in ``[start, end)``, unique values ``v1, v2, ...``.

    ``stream`` names the random stream: two calls with the same name draw the same writes.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count={count!r} must be an int >= 0")
    if not keys:
        raise ValueError(f"keys={keys!r} must name at least one key")
    if not node_ids:
        raise ValueError(f"node_ids={node_ids!r} must name at least one node")
    if not end > start:
        raise ValueError(f"end={end!r} must be after start={start!r}")
    rng = sim.rng_for(stream)
    times = sorted(rng.uniform(start, end) for _ in range(count))
    return [(t, node_ids[rng.randrange(len(node_ids))], keys[rng.randrange(len(keys))], f"v{i + 1}")
            for i, t in enumerate(times)]


def replica_states(sim: Simulation, attribute: str = "data") -> dict[Any, dict]:
    """Return each node's copy of the data (``node.<attribute>``), by node id."""
    return {node_id: dict(getattr(node, attribute)) for node_id, node in sim.nodes.items()}


def divergent_keys(sim: Simulation, attribute: str = "data") -> list[Any]:
    """Return the keys on which the replicas disagree (missing counts as a different value)."""
    states = replica_states(sim, attribute)
    keys: dict[Any, None] = {}
    for state in states.values():
        for k in state:
            keys.setdefault(k, None)
    missing = object()
    return [k for k in keys if len({repr(s.get(k, missing)) for s in states.values()}) > 1]
