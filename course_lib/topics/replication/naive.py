"""The tutorials' replication code, ported faithfully: the "before" versions this chapter breaks.

* :class:`QuorumStore` is a common tutorial's quorum read/write: write to every
  node and succeed if ``write_quorum`` of them say yes; read from every node and
  return the answer with the highest version. The version is whatever number the
  caller passes in. There is no read repair, no hinted handoff, and nothing stops
  two callers from choosing the same version.
* :class:`LWWResolver` is a tutorial's last-write-wins conflict resolver: keep the
  value with the largest timestamp, drop the others.
* :class:`MemoryReplica` is the in-process replica the port talks to (the
  tutorial calls ``node.write`` and ``node.read`` on objects; it never says what
  they do, so this one keeps a write whose version is newer than the one it holds).

The simulated form of :class:`QuorumStore` is
:class:`~course_lib.topics.replication.quorum.TutorialQuorumClient`.

Example:
    >>> nodes = [MemoryReplica(f"r{i}") for i in range(3)]
    >>> store = QuorumStore(nodes, write_quorum=2, read_quorum=2)
    >>> store.write("x", "a", 1)
    {'success': True, 'replicas': 3}
    >>> nodes[0].down = True
    >>> store.read("x")["value"]
    'a'
"""

from __future__ import annotations

from typing import Any

from ...sim.validation import InvalidArgument, check_int


class QuorumStore:
    """A tutorial's quorum store, ported faithfully (threads become a loop: each node answers at once)."""

    def __init__(self, nodes, write_quorum, read_quorum):
        self.nodes = nodes
        self.write_quorum = write_quorum
        self.read_quorum = read_quorum

    def write(self, key, value, version):
        results = [node.write(key, value, version) for node in self.nodes]
        successes = sum(1 for r in results if r["success"])
        if successes < self.write_quorum:
            raise RuntimeError("Write failed: insufficient quorum")
        return {"success": True, "replicas": successes}

    def read(self, key):
        results = [r for r in (node.read(key) for node in self.nodes) if r is not None]
        if len(results) < self.read_quorum:
            raise RuntimeError("Read failed: insufficient quorum")
        # Return value with highest version
        return max(results, key=lambda r: r["version"])


class LWWResolver:
    """Last-write-wins, as in many tutorials: the value with the highest timestamp wins."""

    def resolve(self, values):
        return max(values, key=lambda v: v.timestamp)


class MemoryReplica:
    """An in-process replica for :class:`QuorumStore`: a dict of ``key -> (version, value)``.

    Set ``down = True`` to make it fail every call (a write answers
    ``{"success": False}``, a read ``None``, as a timed-out thread would).
    """

    def __init__(self, name: Any = "r", *, down: bool = False) -> None:
        self.name = name
        self.down = down
        self.data: dict = {}

    def write(self, key: Any, value: Any, version: Any) -> dict:
        if self.down:
            return {"success": False}
        held = self.data.get(key)
        if held is None or version > held[0]:
            self.data[key] = (version, value)
        return {"success": True}

    def read(self, key: Any) -> dict | None:
        if self.down or key not in self.data:
            return None
        version, value = self.data[key]
        return {"value": value, "version": version}

    def __repr__(self) -> str:
        return f"MemoryReplica({self.name!r}, {len(self.data)} keys{', down' if self.down else ''})"


def quorum_overlap(n: int, r: int, w: int) -> bool:
    """Return True if every read quorum of ``r`` meets every write quorum of ``w`` among ``n`` replicas.

    Raises:
        InvalidArgument: ``n`` < 1, or ``r`` or ``w`` not in ``[1, n]``.
    """
    check_int("n", n, low=1)
    check_quorum_sizes(n, r, w)
    return r + w > n


def check_quorum_sizes(n: int, r: int, w: int) -> None:
    """Raise naming ``r`` or ``w`` unless both are ints in ``[1, n]`` (``n`` checked already)."""
    check_int("r", r, low=1)
    check_int("w", w, low=1)
    if r > n:
        raise InvalidArgument(f"r={r!r} exceeds n={n!r} replicas")
    if w > n:
        raise InvalidArgument(f"w={w!r} exceeds n={n!r} replicas")
