"""Hash functions for placing keys: a counted ring position, mod-N, rendezvous and jump hash.

Every placement in this chapter hashes with :func:`ring_hash`, a 64-bit hash of a label's text
(BLAKE2b, so the same on every machine and in every run, unlike Python's ``hash`` of a str).
It returns a :class:`Position`: an ``int`` that counts how often it is compared with another
number, so the cost of a lookup can be measured by counting comparisons instead of timing it::

    >>> with counting_probes() as probes:
    ...     _ = sorted([ring_hash("a"), ring_hash("b"), ring_hash("c")])
    >>> probes.count > 0
    True
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_ids, check_int

#: Positions on the ring are integers in [0, RING_SIZE).
RING_SIZE = 1 << 64


class _Counter:
    """How many comparisons of positions have run since :func:`counting_probes` began."""

    def __init__(self) -> None:
        self.count = 0


_counters: list[_Counter] = []


class Position(int):
    """A place on the ring: an int that counts its comparisons while :func:`counting_probes` is active."""

    __slots__ = ()

    def _seen(self) -> None:
        for counter in _counters:
            counter.count += 1

    def __lt__(self, other: Any) -> bool:
        if _counters:
            self._seen()
        return int.__lt__(self, other)

    def __le__(self, other: Any) -> bool:
        if _counters:
            self._seen()
        return int.__le__(self, other)

    def __gt__(self, other: Any) -> bool:
        if _counters:
            self._seen()
        return int.__gt__(self, other)

    def __ge__(self, other: Any) -> bool:
        if _counters:
            self._seen()
        return int.__ge__(self, other)

    def __eq__(self, other: Any) -> bool:
        if _counters:
            self._seen()
        return int.__eq__(self, other)

    def __ne__(self, other: Any) -> bool:
        if _counters:
            self._seen()
        return int.__ne__(self, other)

    __hash__ = int.__hash__

    def __repr__(self) -> str:
        return f"Position({int(self)})"


@contextmanager
def counting_probes() -> Iterator[_Counter]:
    """Count every comparison a :class:`Position` takes part in inside the ``with`` block.

    A comparison of two positions counts once (Python asks one of them). The count is the
    number of ring probes a lookup made, whatever data structure holds the ring.
    """
    counter = _Counter()
    _counters.append(counter)
    try:
        yield counter
    finally:
        _counters.remove(counter)


def _check_label(name: str, label: Any) -> str:
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        raise InvalidArgumentType(f"{name}={label!r} must be a str or an int")
    return str(label)


def hash64(label: Any) -> int:
    """Return the 64-bit BLAKE2b hash of ``str(label)`` as a plain int (no counting)."""
    text = _check_label("label", label)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def ring_hash(label: Any) -> Position:
    """Return the ring position of ``label`` (a key, or a virtual node such as ``"n1#7"``).

    Args:
        label: a str or an int; ints hash as their decimal text, so ``7`` and ``"7"`` agree.

    Raises:
        InvalidArgumentType: ``label`` is neither a str nor an int.

    Example:
        >>> ring_hash("user:42") == ring_hash("user:42")
        True
    """
    return Position(hash64(label))


def vnode_label(node: Any, index: int) -> str:
    """Return the label of virtual node ``index`` of ``node``: ``f"{node}#{index}"``."""
    _check_label("node", node)
    check_int("index", index, low=0)
    return f"{node}#{index}"


def mod_n(key: Any, n: int) -> int:
    """Return the partition of ``key`` among ``n`` by ``hash(key) mod n``: the naive scheme.

    Raises:
        InvalidArgument: ``n`` is not a positive int.
    """
    check_int("n", n, low=1)
    return hash64(key) % n


def rendezvous(key: Any, nodes: Sequence[Any]) -> Any:
    """Return the node of ``nodes`` with the highest random weight for ``key`` (Thaler and Ravishankar).

    Each node's weight is ``hash64(f"{node}|{key}")``; ties (astronomically rare) go to the node
    that comes first in ``nodes``. A node that leaves takes only its own keys with it; a node
    that joins takes a 1/n share from everyone.

    Raises:
        InvalidArgument: ``nodes`` is empty or has duplicates.
    """
    nodes = check_ids("nodes", nodes)
    text = _check_label("key", key)
    best, best_weight = None, -1
    for node in nodes:
        weight = int.from_bytes(hashlib.blake2b(f"{node}|{text}".encode(), digest_size=8).digest(), "big")
        if weight > best_weight:
            best, best_weight = node, weight
    return best


def jump_hash(key: int, buckets: int) -> int:
    """Return the bucket in ``range(buckets)`` of a 64-bit ``key`` (Lamping and Veach's jump consistent hash).

    No ring, no memory: growing from ``n`` to ``n + 1`` buckets moves exactly the keys that land
    in the new bucket, about 1/(n+1) of them. Buckets can only be added or removed at the end.

    Raises:
        InvalidArgument: ``key`` is not an int in [0, 2**64) or ``buckets`` not a positive int.

    Example:
        >>> [jump_hash(k, 1) for k in range(3)]
        [0, 0, 0]
    """
    check_int("key", key, low=0, high=RING_SIZE - 1)
    check_int("buckets", buckets, low=1)
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % RING_SIZE
        j = int((b + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return b


def check_vnodes(vnodes: Any) -> int:
    """Return ``vnodes`` if it is an int >= 1, else raise naming it."""
    return check_int("vnodes", vnodes, low=1)


__all__ = ["RING_SIZE", "Position", "counting_probes", "hash64", "ring_hash", "vnode_label", "mod_n",
           "rendezvous", "jump_hash", "InvalidArgument"]
