"""The chapter's pictures: rings, load spread against virtual nodes, balancer latencies, caches."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_ids, check_int
from .balancers import BalanceRun
from .caching import CacheRun
from .hashing import RING_SIZE
from .placement import load_cv, ring_points, ring_shares


def _axes(ax: Any, figsize: tuple = (6, 4)) -> Any:
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def draw_ring(nodes: Sequence[Any], vnodes: int, *, keys: Sequence[int] | None = None, ax: Any = None) -> Any:
    """Draw the ring: each node's virtual nodes as dots, the arc each owns in its colour; return the Axes.

    Args:
        keys: optional key positions (ints in [0, 2**64)) drawn as small ticks inside the ring.
    """
    nodes = check_ids("nodes", nodes)
    check_int("vnodes", vnodes, low=1)
    import matplotlib.pyplot as plt
    ax = _axes(ax, (5, 5))
    points, owner = ring_points(nodes, vnodes)
    colours = plt.get_cmap("tab10")
    angle = lambda p: 2 * math.pi * (float(p) / RING_SIZE)   # noqa: E731
    previous = float(points[-1]) - RING_SIZE
    for p, o in zip(points, owner):
        theta = np.linspace(2 * math.pi * previous / RING_SIZE, angle(p), 30)
        ax.plot(np.cos(theta), np.sin(theta), lw=6, color=colours(o % 10), solid_capstyle="butt")
        previous = float(p)
    for i, node in enumerate(nodes):
        mine = points[owner == i]
        ax.plot([math.cos(angle(p)) * 1.08 for p in mine], [math.sin(angle(p)) * 1.08 for p in mine],
                "o", ms=4, color=colours(i % 10), label=str(node))
    if keys is not None:
        for k in keys:
            a = angle(k)
            ax.plot([0.88 * math.cos(a), 0.94 * math.cos(a)], [0.88 * math.sin(a), 0.94 * math.sin(a)],
                    color="#555555", lw=0.8)
    shares = ring_shares(nodes, vnodes)
    ax.set_title(f"{len(nodes)} nodes x {vnodes} virtual nodes: shares "
                 f"{min(shares):.0%}..{max(shares):.0%}")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(loc="center", fontsize=8, frameon=False, ncol=2)
    return ax


def plot_cv_vs_vnodes(nodes: Sequence[Any], vnode_counts: Sequence[int], *, ax: Any = None) -> Any:
    """Plot the coefficient of variation of the nodes' ring shares against virtual nodes per node (log-log)."""
    nodes = check_ids("nodes", nodes)
    if isinstance(vnode_counts, (str, bytes)) or not vnode_counts:
        raise InvalidArgumentType(f"vnode_counts={vnode_counts!r} must be a non-empty list of ints")
    counts = [check_int("vnode_counts", v, low=1) for v in vnode_counts]
    ax = _axes(ax)
    cvs = [load_cv(ring_shares(nodes, v)) for v in counts]
    ax.loglog(counts, cvs, "o-", label="measured")
    ax.loglog(counts, [1 / math.sqrt(v) for v in counts], "--", color="grey", label=r"$1/\sqrt{v}$")
    ax.set_xlabel("virtual nodes per node")
    ax.set_ylabel("load spread (CV of shares)")
    ax.set_title(f"{len(nodes)} nodes")
    ax.legend()
    return ax


def plot_latencies(runs: Sequence[BalanceRun], *, ax: Any = None) -> Any:
    """Bar chart of p50 and p99 latency per balancer run (log scale)."""
    if isinstance(runs, BalanceRun) or not runs or not all(isinstance(r, BalanceRun) for r in runs):
        raise InvalidArgumentType("runs must be a non-empty list of BalanceRun (from run_balancer)")
    ax = _axes(ax, (9, 3.8))
    x = np.arange(len(runs))
    ax.bar(x - 0.2, [r.p50 for r in runs], 0.4, label="p50")
    ax.bar(x + 0.2, [r.p99 for r in runs], 0.4, label="p99")
    ax.set_yscale("log")
    ax.set_xticks(x, [r.name for r in runs], rotation=15, fontsize=8)
    ax.set_ylabel("latency (ms)")
    ax.legend()
    return ax


def plot_queues(run: BalanceRun, *, ax: Any = None) -> Any:
    """Plot each server's reported queue length over time, labelled with its speed."""
    if not isinstance(run, BalanceRun):
        raise InvalidArgumentType(f"run={run!r} must be a BalanceRun (from run_balancer)")
    ax = _axes(ax, (7, 3))
    for server, samples in run.queues.items():
        if samples:
            t, q = zip(*samples)
            ax.plot(t, q, lw=1, label=f"{server} (speed {run.speeds.get(server, 1):g})")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("queue length")
    ax.set_title(run.name)
    ax.legend(fontsize=7, ncol=2)
    return ax


def plot_db_queue(runs: Sequence[CacheRun], *, ax: Any = None) -> Any:
    """Plot the database's queue length over time for each cache run (a stampede is a spike)."""
    if isinstance(runs, CacheRun) or not runs or not all(isinstance(r, CacheRun) for r in runs):
        raise InvalidArgumentType("runs must be a non-empty list of CacheRun")
    ax = _axes(ax, (8, 3))
    for run in runs:
        if run.db_queue:
            t, q = zip(*run.db_queue)
            ax.step(t, q, where="post", label=f"{run.name}: {run.db_reads} database reads")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("database queue")
    ax.legend(fontsize=8)
    return ax


def check_same_length(name: str, values: Sequence[Any], other: Sequence[Any]) -> None:
    """Raise naming ``name`` unless ``values`` and ``other`` have the same length."""
    if len(values) != len(other):
        raise InvalidArgument(f"{name} has {len(values)} values, expected {len(other)}")


__all__ = ["draw_ring", "plot_cv_vs_vnodes", "plot_latencies", "plot_queues", "plot_db_queue"]
