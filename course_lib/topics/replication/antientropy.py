"""Repairing replicas: Merkle-tree anti-entropy against a full exchange, and how stale copies fade.

* :func:`merkle_exchange` counts the messages and bytes two replicas of
  ``keys`` keys, differing in ``differences`` of them, send to find and fix the
  differences by walking a Merkle tree (Merkle 1987; Dynamo's anti-entropy)
  from the root down, level by level; :func:`full_exchange` counts what sending
  every key's digest costs. Key digests are 64-bit mixes of (key, version),
  computed with NumPy so a million keys take a fraction of a second; a leaf's
  hash combines the digests of the keys in its range, an inner node's its
  children's.
* :func:`staleness_run` follows a replica that missed the writes of an outage
  and counts its stale keys over time with nothing, read repair, hinted handoff
  or periodic anti-entropy repairing it.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass

import numpy as np

from ...sim.validation import InvalidArgument, check_choice, check_int, check_number, check_probability

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        x = x.astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


@dataclass
class SyncCost:
    """What one synchronisation of two replicas sent."""

    messages: int
    bytes: int
    found: int          # differing keys found
    levels: int = 0     # tree levels walked

    def __repr__(self) -> str:
        return f"<SyncCost {self.messages} messages, {self.bytes:,} bytes, {self.found} differences found>"


def _replicas(keys: int, differences: int, seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(f"merkle/{seed}".encode()))
    ids = np.arange(keys, dtype=np.uint64)
    version = np.ones(keys, dtype=np.uint64)
    other = version.copy()
    changed = rng.choice(keys, size=differences, replace=False) if differences else np.array([], int)
    other[changed] += np.uint64(1)
    with np.errstate(over="ignore"):
        a = _mix(ids * np.uint64(0x9E3779B97F4A7C15) + version)
        b = _mix(ids * np.uint64(0x9E3779B97F4A7C15) + other)
    return a, b, ids


def _check(keys, differences, value_bytes, key_bytes, hash_bytes):
    check_int("keys", keys, low=1, high=10**7)
    check_int("differences", differences, low=0)
    if differences > keys:
        raise InvalidArgument(f"differences={differences!r} exceeds keys={keys!r}")
    check_int("value_bytes", value_bytes, low=0)
    check_int("key_bytes", key_bytes, low=1)
    check_int("hash_bytes", hash_bytes, low=1)


def full_exchange(keys: int, differences: int, *, value_bytes: int = 100, key_bytes: int = 16,
                  hash_bytes: int = 8) -> SyncCost:
    """Cost of a naive sync: one replica sends every key with its digest; the other answers with the values that differ.

    Raises:
        InvalidArgument: a size is out of range, ``differences`` > ``keys``.
    """
    _check(keys, differences, value_bytes, key_bytes, hash_bytes)
    return SyncCost(messages=2, bytes=keys * (key_bytes + hash_bytes) + differences * (key_bytes + value_bytes),
                    found=differences)


def merkle_exchange(keys: int, differences: int, *, seed: int | str = 0, leaf_keys: int = 16,
                    fanout: int = 2, value_bytes: int = 100, key_bytes: int = 16,
                    hash_bytes: int = 8) -> SyncCost:
    """Walk two replicas' Merkle trees from the root and count what the walk sends.

    The key space is cut into about ``keys / leaf_keys`` leaves (rounded up to a
    power of ``fanout``). Round 0 sends the root hash; each later round, one
    replica sends the ``fanout`` child hashes of every node that differed and the
    other answers which differ; at the leaves, the keys of every differing leaf
    are sent with their digests and the other replica answers with the values
    that differ. Each round is two messages.

    Returns:
        A :class:`SyncCost`; ``found`` must equal ``differences`` (the walk misses nothing).

    Raises:
        InvalidArgument: a size is out of range, ``differences`` > ``keys``.
    """
    _check(keys, differences, value_bytes, key_bytes, hash_bytes)
    check_int("leaf_keys", leaf_keys, low=1)
    check_int("fanout", fanout, low=2, high=64)
    a, b, ids = _replicas(keys, differences, seed)
    depth = max(0, math.ceil(math.log(max(1.0, keys / leaf_keys), fanout)))
    leaves = fanout ** depth
    leaf_of = (ids * np.uint64(leaves) // np.uint64(keys)).astype(np.int64)  # contiguous key ranges
    with np.errstate(over="ignore"):
        la = np.zeros(leaves, dtype=np.uint64)
        lb = np.zeros(leaves, dtype=np.uint64)
        np.add.at(la, leaf_of, a)
        np.add.at(lb, leaf_of, b)
    levels_a, levels_b = [la], [lb]
    while len(levels_a[-1]) > 1:
        pa = levels_a[-1].reshape(-1, fanout)
        pb = levels_b[-1].reshape(-1, fanout)
        with np.errstate(over="ignore"):
            weights = _mix(np.arange(1, fanout + 1, dtype=np.uint64))
            levels_a.append(_mix((pa * weights).sum(axis=1, dtype=np.uint64)))
            levels_b.append(_mix((pb * weights).sum(axis=1, dtype=np.uint64)))
    levels_a.reverse()
    levels_b.reverse()
    messages, sent = 2, 2 * hash_bytes  # the roots
    differing = np.nonzero(levels_a[0] != levels_b[0])[0]
    for level in range(1, len(levels_a)):
        if differing.size == 0:
            break
        children = (differing[:, None] * fanout + np.arange(fanout)).ravel()
        messages += 2
        sent += children.size * hash_bytes + children.size // 8 + 1  # hashes there, a bitmap back
        differing = children[levels_a[level][children] != levels_b[level][children]]
    found = 0
    if differing.size and keys:
        in_leaf = np.isin(leaf_of, differing)
        n_keys = int(in_leaf.sum())
        found = int((a[in_leaf] != b[in_leaf]).sum())
        messages += 2
        sent += n_keys * (key_bytes + hash_bytes) + found * (key_bytes + value_bytes)
    return SyncCost(messages=messages, bytes=int(sent), found=found, levels=len(levels_a))


MECHANISMS = ("none", "read repair", "hinted handoff", "anti-entropy")


def staleness_run(mechanism: str, *, seed: int | str, keys: int = 1000, missed: int = 300,
                  reads_per_tick: int = 20, ticks: int = 200, hint_loss: float = 0.1,
                  period: int = 50, zipf: float = 1.1) -> list[int]:
    """Count, tick by tick, the stale keys of a replica that missed ``missed`` writes in an outage.

    * ``"none"``: nothing repairs it;
    * ``"read repair"``: each read of a stale key (keys drawn by a Zipf law,
      ``reads_per_tick`` a tick) repairs it, so hot keys heal and cold ones stay stale;
    * ``"hinted handoff"``: the writes were kept as hints and are replayed when
      the replica returns, except a fraction ``hint_loss`` whose holder failed;
    * ``"anti-entropy"``: every ``period`` ticks a Merkle sync repairs everything.

    Returns:
        The number of stale keys after each tick (``ticks`` numbers).

    Raises:
        InvalidArgument: ``mechanism`` is unknown, or a number is out of range.
    """
    check_choice("mechanism", mechanism, MECHANISMS)
    check_int("keys", keys, low=1, high=10**6)
    check_int("missed", missed, low=0, high=keys)
    check_int("reads_per_tick", reads_per_tick, low=0)
    check_int("ticks", ticks, low=1, high=10**6)
    check_probability("hint_loss", hint_loss)
    check_int("period", period, low=1)
    check_number("zipf", zipf, low=0, low_open=True)
    rng = random.Random(f"{seed}/staleness")
    stale = set(rng.sample(range(keys), missed))
    weights = [1.0 / (k + 1) ** zipf for k in range(keys)]
    if mechanism == "hinted handoff":
        stale = {k for k in sorted(stale) if rng.random() < hint_loss}
    out = []
    for tick in range(1, ticks + 1):
        if mechanism == "read repair" and stale and reads_per_tick:
            for k in rng.choices(range(keys), weights=weights, k=reads_per_tick):
                stale.discard(k)
        if mechanism == "anti-entropy" and tick % period == 0:
            stale.clear()
        out.append(len(stale))
    return out
