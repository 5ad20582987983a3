"""A common first attempt at replication: store locally, tell every peer once.

:class:`NaiveReplica` is a faithful port of a common tutorial's first example
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

from typing import Any

from ...sim import Node


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
