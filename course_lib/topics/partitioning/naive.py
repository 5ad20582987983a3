"""The common tutorial's consistent hash with virtual nodes, ported faithfully (the "before" version).

The original (Ruby) keeps the ring in a hash map from MD5 position to node and, on every
lookup, **sorts all the positions** and scans them for the first one at or after the key's::

    def get_node(key)
      return @nodes.first if @ring.empty?
      hash = Digest::MD5.hexdigest(key).to_i(16)
      @ring.keys.sort.each { |ring_hash| return @ring[ring_hash] if ring_hash >= hash }
      @ring[@ring.keys.min]
    end

So a lookup costs O(V log V) for V = nodes x virtual nodes points, where a sorted ring and a
binary search cost O(log V). The port keeps the other quirks too: ``add_node`` and
``remove_node`` never update the node list that an empty ring falls back on (so it can hand
out a node that was removed), and there is no way to ask for the N distinct nodes that should
hold a key's replicas. Here a node is its id (the original's ``node.id``).

Positions are :class:`~course_lib.topics.partitioning.hashing.Position` values, so
:func:`~course_lib.topics.partitioning.hashing.counting_probes` counts a lookup's comparisons.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...sim.validation import InvalidArgumentType, check_ids, check_int
from .hashing import Position


def md5_position(label: str) -> Position:
    """Return the original's position of ``label``: its MD5 digest as a 128-bit integer."""
    if not isinstance(label, str):
        raise InvalidArgumentType(f"label={label!r} must be a str")
    return Position(int(hashlib.md5(label.encode()).hexdigest(), 16))


class ConsistentHash:
    """The tutorial's ring: ``virtual_nodes`` MD5 points per node, sorted again on every lookup.

    Example:
        >>> ring = ConsistentHash(["n1", "n2", "n3"])
        >>> ring.get_node("user:12345") in ("n1", "n2", "n3")
        True
    """

    def __init__(self, nodes: list, virtual_nodes: int = 150) -> None:
        self.nodes = check_ids("nodes", nodes, allow_empty=True)
        self.virtual_nodes = check_int("virtual_nodes", virtual_nodes, low=1)
        self.ring: dict[Position, Any] = {}
        for node in self.nodes:
            self.add_node(node)

    def add_node(self, node: Any) -> None:
        """Put ``virtual_nodes`` points of ``node`` on the ring (the node list is not updated)."""
        for i in range(self.virtual_nodes):
            self.ring[md5_position(f"{node}:{i}")] = node

    def remove_node(self, node: Any) -> None:
        """Take every point of ``node`` off the ring (the node list is not updated)."""
        self.ring = {h: n for h, n in self.ring.items() if n != node}

    def get_node(self, key: str) -> Any:
        """Return the node of the first point at or after the key's position, sorting the ring first."""
        if not isinstance(key, str):
            raise InvalidArgumentType(f"key={key!r} must be a str")
        if not self.ring:
            return self.nodes[0] if self.nodes else None
        position = md5_position(key)
        for ring_hash in sorted(self.ring):
            if ring_hash >= position:
                return self.ring[ring_hash]
        return self.ring[min(self.ring)]   # wrap around to the first point


__all__ = ["ConsistentHash", "md5_position"]
