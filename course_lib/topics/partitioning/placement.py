"""Where keys land, and how evenly: Zipf keys, range and hash partitions, rings, moved keys.

These are the lecture's meters. They place many keys at once (NumPy), so a picture over a
hundred thousand keys takes milliseconds; they are not a ring a program would run (no node
can join or leave one of them), which is what the exercise builds.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np

from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_ids, check_int,
                               check_number)
from .hashing import hash64, jump_hash, rendezvous, vnode_label


def zipf_keys(count: int, universe: int, s: float, *, seed: int) -> np.ndarray:
    """Draw ``count`` key ids from ``range(universe)`` with Zipf popularity: key k has weight 1/(k+1)^s.

    Key 0 is the most popular, key 1 the next, and so on: popular keys are *close together*,
    as recent timestamps or new user ids are. ``s=0`` is uniform.

    Raises:
        InvalidArgument: ``count`` or ``universe`` not a positive int, ``s`` negative.
    """
    check_int("count", count, low=1)
    check_int("universe", universe, low=1)
    check_number("s", s, low=0)
    check_int("seed", seed)
    weights = 1.0 / np.arange(1, universe + 1) ** s
    rng = np.random.default_rng(seed)
    return rng.choice(universe, size=count, p=weights / weights.sum())


def load_cv(loads: Sequence[float]) -> float:
    """Return the coefficient of variation of ``loads`` (standard deviation / mean; 0 = perfectly even).

    Raises:
        InvalidArgument: ``loads`` is empty or sums to 0.
    """
    values = np.asarray(list(loads), dtype=float)
    if values.size == 0 or values.sum() == 0:
        raise InvalidArgument(f"loads={list(loads)!r} must be a non-empty list with a positive sum")
    return float(values.std() / values.mean())


def range_partition(keys: np.ndarray, universe: int, partitions: int) -> np.ndarray:
    """Return the partition of each key when ``range(universe)`` is cut into ``partitions`` equal ranges."""
    check_int("universe", universe, low=1)
    check_int("partitions", partitions, low=1)
    return np.minimum(np.asarray(keys) * partitions // universe, partitions - 1)


def key_positions(keys: Sequence[Any]) -> np.ndarray:
    """Return the 64-bit ring position (:func:`hash64`) of every key, as a NumPy array of uint64.

    Raises:
        InvalidArgumentType: ``keys`` is a single str, or holds a key that is neither a str nor an int.
    """
    if isinstance(keys, (str, bytes)):
        raise InvalidArgumentType(f"keys={keys!r} must be a list of keys, not a single {type(keys).__name__}")
    blake2b = hashlib.blake2b
    try:   # all str: one digest each, joined and read by NumPy (a million keys in well under a second)
        digests = b"".join([blake2b(k.encode(), digest_size=8).digest() for k in keys])
    except AttributeError:
        return np.fromiter((hash64(int(k) if isinstance(k, np.integer) else k) for k in keys),
                           dtype=np.uint64, count=len(keys))
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


def hash_partition(keys: Sequence[Any], partitions: int) -> np.ndarray:
    """Return ``hash64(key) mod partitions`` for every key (mod-N hashing)."""
    check_int("partitions", partitions, low=1)
    return (key_positions(keys) % np.uint64(partitions)).astype(np.int64)


def ring_points(nodes: Sequence[Any], vnodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted positions of the nodes' virtual nodes and, for each, the index of its node.

    Virtual node i of node n sits at ``hash64(f"{n}#{i}")``.
    """
    nodes = check_ids("nodes", nodes)
    check_int("vnodes", vnodes, low=1)
    points = np.fromiter((hash64(vnode_label(n, i)) for n in nodes for i in range(vnodes)),
                         dtype=np.uint64, count=len(nodes) * vnodes)
    owner = np.repeat(np.arange(len(nodes)), vnodes)
    order = np.argsort(points, kind="stable")
    return points[order], owner[order]


def ring_owner(nodes: Sequence[Any], vnodes: int, positions: np.ndarray) -> np.ndarray:
    """Return, for each key position, the index in ``nodes`` of the node owning it on the ring.

    The owner is the node of the first virtual node at or after the position, wrapping round.
    """
    points, owner = ring_points(nodes, vnodes)
    positions = np.asarray(positions, dtype=np.uint64)
    at = np.searchsorted(points, positions, side="left") % len(points)
    return owner[at]


def ring_shares(nodes: Sequence[Any], vnodes: int) -> np.ndarray:
    """Return the fraction of the ring (of all possible keys) each node owns."""
    points, owner = ring_points(nodes, vnodes)
    arcs = np.diff(points.astype(np.float64), prepend=points[-1].astype(np.float64) - 2.0 ** 64)
    shares = np.bincount(owner, weights=arcs, minlength=len(nodes))
    return shares / 2.0 ** 64


def loads_of(owners: np.ndarray, count: int) -> np.ndarray:
    """Return how many entries of ``owners`` name each of ``count`` owners."""
    check_int("count", count, low=1)
    return np.bincount(np.asarray(owners, dtype=np.int64), minlength=count)


def moved_fraction(before: Sequence[Any], after: Sequence[Any]) -> float:
    """Return the fraction of keys whose owner differs between two placements of the same keys."""
    a, b = np.asarray(before), np.asarray(after)
    if a.shape != b.shape or a.size == 0:
        raise InvalidArgument(f"before and after must place the same non-empty keys "
                              f"(got {a.size} and {b.size} owners)")
    return float(np.mean(a != b))


def placement(scheme: str, keys: Sequence[Any], nodes: Sequence[Any], *, vnodes: int = 100) -> np.ndarray:
    """Return the owner (a node id) of each key under ``scheme``.

    Args:
        scheme: ``"mod-N"``, ``"ring"`` (``vnodes`` virtual nodes each), ``"rendezvous"`` or ``"jump"``.
        keys: key ids or labels.
        nodes: node ids; for ``"jump"`` their order matters (buckets are positions in the list).

    Raises:
        InvalidArgument: an unknown scheme, empty ``nodes``.
    """
    schemes = ("mod-N", "ring", "rendezvous", "jump")
    if scheme not in schemes:
        raise InvalidArgument(f"scheme={scheme!r} must be one of {schemes!r}")
    nodes = check_ids("nodes", nodes)
    if isinstance(keys, (str, bytes)):
        raise InvalidArgumentType(f"keys={keys!r} must be a list of keys, not a single str")
    names = np.array(nodes, dtype=object)
    if scheme == "mod-N":
        return names[hash_partition(keys, len(nodes))]
    if scheme == "ring":
        return names[ring_owner(nodes, vnodes, key_positions(keys))]
    if scheme == "rendezvous":
        return np.array([rendezvous(k, nodes) for k in keys], dtype=object)
    positions = key_positions(keys)
    return names[[jump_hash(int(p), len(nodes)) for p in positions]]


__all__ = ["zipf_keys", "load_cv", "range_partition", "key_positions", "hash_partition", "ring_points",
           "ring_owner", "ring_shares", "loads_of", "moved_fraction", "placement"]
