"""What the scenarios share: a cluster of the learner's class, checked counts, fresh commands, healing."""

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


def _heal_all(cluster: RaftCluster) -> None:
    """Restart every crashed server and reconnect every server (the end of a churn scenario)."""
    for i in cluster.ids:
        if cluster.sim.node(i).crashed:
            cluster.restart(i)
        cluster.connect(i)
