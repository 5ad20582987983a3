"""What the scenarios share: a cluster of the learner's class, checked counts, fresh commands."""

from __future__ import annotations

from typing import Any

from ....sim.validation import check_int
from ..harness import RaftCluster


def _new(cls: type, n: int, seed: Any, **options: Any) -> RaftCluster:
    return RaftCluster(cls, n, seed, **options)


def _counts(low: int, **counts: Any) -> None:
    """Check a scenario's counts (iterations, commands, ...): ints >= ``low``."""
    for name, value in counts.items():
        check_int(name, value, low=low)


def _cmd(cluster: RaftCluster) -> int:
    """A fresh command: a random int, unique within the run."""
    used = cluster.__dict__.setdefault("_used_commands", set())
    while True:
        c = cluster.rng.randrange(1, 10**9)
        if c not in used:
            used.add(c)
            return c
