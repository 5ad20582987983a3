"""The chapter's pictures: replication lag, repair costs, stale copies over time, broadcast latencies."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ...sim.validation import InvalidArgumentType


def _axes(ax: Any, size=(7, 3)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_lag(run: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """Draw each follower's lag behind the leader (log entries) over time, from a :class:`LeaderRun`."""
    from .leader import LeaderRun

    if not isinstance(run, LeaderRun):
        raise InvalidArgumentType(f"run={run!r} must be a LeaderRun from leader_run()")
    ax = _axes(ax)
    series = run.applied_series()
    leader = series["r1"]
    for name in run.replicas[1:]:
        times, lags = [], []
        j = 0
        for t, idx in series[name]:
            while j + 1 < len(leader) and leader[j + 1][0] <= t:
                j += 1
            times.append(t)
            lags.append(max(0, leader[j][1] - idx))
        ax.step(times, lags, where="post", label=name)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("entries behind the leader")
    ax.set_title(title or f"replication lag ({run.mode})")
    ax.legend()
    return ax


def plot_sync_costs(sizes: Sequence[int], merkle: Sequence[int], full: Sequence[int], *,
                    ax: Any = None) -> Any:
    """Draw the bytes of a Merkle sync and of a full exchange against the number of keys (log-log)."""
    if not (len(sizes) == len(merkle) == len(full)):
        raise InvalidArgumentType("sizes, merkle and full must have the same length")
    ax = _axes(ax)
    ax.loglog(sizes, full, "o-", label="full exchange")
    ax.loglog(sizes, merkle, "s-", label="Merkle tree walk")
    ax.set_xlabel("keys per replica")
    ax.set_ylabel("bytes sent")
    ax.legend()
    ax.set_title("anti-entropy: bytes to find a few differences")
    return ax


def plot_staleness(curves: Mapping[str, Sequence[int]], *, ax: Any = None) -> Any:
    """Draw stale keys over time, one curve per repair mechanism."""
    if not isinstance(curves, Mapping):
        raise InvalidArgumentType(f"curves={curves!r} must be a dict of name -> counts")
    ax = _axes(ax)
    for name, counts in curves.items():
        ax.plot(range(1, len(counts) + 1), counts, label=name)
    ax.set_xlabel("time (ticks)")
    ax.set_ylabel("stale keys on the replica")
    ax.legend()
    return ax


def plot_broadcast(runs: Mapping[str, Any], *, ax: Any = None) -> Any:
    """Scatter messages per broadcast against median latency, one point per run."""
    if not isinstance(runs, Mapping):
        raise InvalidArgumentType(f"runs={runs!r} must be a dict of name -> BroadcastRun")
    ax = _axes(ax, (6, 4))
    for name, run in runs.items():
        ax.scatter([run.messages_per_op], [run.median_latency], s=40)
        ax.annotate(name, (run.messages_per_op, run.median_latency), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    ax.set_xlabel("messages per broadcast")
    ax.set_ylabel("median latency (ms)")
    return ax
