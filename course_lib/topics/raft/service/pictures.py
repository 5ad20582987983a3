"""Pictures of a service on a replicated log: one key's history, log sizes over time, failures.

- :func:`key_timeline`: the operations on one key as bars per clerk, with chosen operations
  (a stale read, say) in red.
- :func:`log_size_plot`: each server's log size over time (what snapshots keep bounded).
- :func:`applied_plot`: each server's last applied index over time (late, in bursts).
- :func:`failure_picture`: what ``.draw()`` shows for a failed run of a
  :class:`~.cluster.KVCluster`: the failing key's history on top, and under it the
  space-time diagram of the run around those operations.
"""

from __future__ import annotations

from typing import Any, Iterable

from ....history import History, Operation, operations_of
from ....sim.validation import InvalidArgument, InvalidArgumentType, check_number, check_type
from ....viz.failure import failure_diagram, failure_time
from ....viz.spacetime import check_axes
from ....viz.timeline import plot_history
from .base import recorder

#: Time drawn before the first and after the last operation of a failure's key.
MARGIN = 30.0
#: Time drawn before a failure that names no operation (and after an operation that never completed).
WINDOW = 600.0


def key_timeline(history: Any, key: Any, *, highlight: Iterable[Operation] = (), ax: Any = None,
                 title: str | None = None) -> Any:
    """Draw the operations on ``key`` of ``history`` (a History or a KVCluster), one row per clerk.

    ``highlight``: operations to draw in red (a stale read, the operations a checker got
    stuck on). Returns the Axes.

    Raises:
        InvalidArgument: no operation of ``history`` is on ``key``.
        InvalidArgumentType: ``history`` is not a History, a list of operations or a cluster.
    """
    if hasattr(history, "history") and isinstance(history.history, History):
        history = history.history
    ops = [op for op in operations_of(history) if op.key == key]
    if not ops:
        raise InvalidArgument(f"key={key!r}: no operation of the history is on that key")
    marked = list(highlight)
    for op in marked:
        if not isinstance(op, Operation):
            raise InvalidArgumentType(f"highlight holds {op!r}, which is not an Operation")
    if title is not None:
        check_type("title", title, str, what="a str or None")
    check_axes(ax)
    return plot_history(ops, ax=ax, highlight=[op for op in marked if op.key == key],
                        title=title if title is not None else f"operations on key {key!r}")


def log_size_plot(cluster: Any, *, ax: Any = None, threshold: float | None = None,
                  title: str | None = None) -> Any:
    """Draw each server's log size over time (a :class:`~.cluster.KVCluster`, or ``{server: [(t, size)]}``).

    ``threshold``: draw the snapshot threshold as a dashed line. Returns the Axes.

    Raises:
        InvalidArgumentType: ``cluster`` is neither a cluster nor such a dict.
    """
    import matplotlib.pyplot as plt

    samples = cluster.log_sizes() if hasattr(cluster, "log_sizes") else cluster
    if not isinstance(samples, dict):
        raise InvalidArgumentType(f"cluster={cluster!r} must be a KVCluster or a dict server -> [(time, size)]")
    if threshold is not None:
        check_number("threshold", threshold, low=0, what="a log size >= 0 or None")
    if title is not None:
        check_type("title", title, str, what="a str or None")
    check_axes(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3))
    for server, points in samples.items():
        if not isinstance(points, (list, tuple)):
            raise InvalidArgumentType(f"cluster[{server!r}]={points!r} must be a list of (time, size)")
        if points:
            ax.step([t for t, _ in points], [s for _, s in points], where="post", label=str(server))
    if threshold is not None:
        ax.axhline(threshold, color="#d62728", ls="--", lw=1, label="snapshot threshold")
    ax.set_xlabel("simulated time")
    ax.set_ylabel("log entries after the snapshot")
    ax.set_title(title if title is not None else "log size over time")
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax


def failure_picture(sim: Any, error: BaseException, *, mark: int | None = None, **options: Any) -> Any:
    """A failed run of a service: the failing key's history, and the run around it.

    The key is that of the operations the failure names (``error.operations``); the
    space-time diagram shows the servers and the clerks that worked on that key, from a
    little before its first operation to a little after its last. Without such
    operations, the space-time diagram of the failure alone.
    """
    import matplotlib.pyplot as plt

    named = [op for op in getattr(error, "operations", ()) or () if isinstance(op, Operation)]
    history = getattr(error, "history", None) or recorder(sim).history
    servers = recorder(sim).servers or []
    if not named or "ax" in options or not isinstance(history, History):
        when = failure_time(error, sim, mark)
        options.setdefault("start", max(0.0, when - WINDOW))
        options.setdefault("end", max(when + MARGIN, options["start"] + MARGIN))
        return failure_diagram(sim, error, mark, **options)
    key = named[0].key
    ops = [op for op in history.operations() if op.key == key]
    start = max(0.0, min(op.call_time for op in ops) - MARGIN)
    ends = [op.return_time for op in ops if op.return_time is not None] + [op.call_time for op in ops]
    end = max(ends) + MARGIN
    if any(op.return_time is None for op in named):  # never completed: show what followed
        end = max(end, max(op.call_time for op in named) + WINDOW)
    end = min(float(sim.now), end)
    if end <= start:
        end = start + MARGIN
    clerks = []
    for op in ops:
        if op.process not in clerks and op.process in sim.nodes:
            clerks.append(op.process)
    options.setdefault("nodes", [n for n in servers if n in sim.nodes] + clerks)
    options.setdefault("start", start)
    options.setdefault("end", end)
    lanes = len(options["nodes"]) or 1
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 3.4 + 0.55 * lanes),
                                      gridspec_kw={"height_ratios": [1, 1.3]})
    plot_history(ops, ax=top, highlight=[op for op in named if op.key == key],
                 title=f"the history of key {key!r} (operations at fault in red)")
    ax = failure_diagram(sim, error, mark, ax=bottom, **options)
    fig.tight_layout()
    return ax


def applied_plot(cluster: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """Draw, for each server of a :class:`~.cluster.KVCluster`, the last index it applied over time.

    Applies arrive late and in bursts: each step is a burst, followers step after the leader,
    a server cut off stays flat, a restarted one starts again from its snapshot. Crashes are
    drawn as gaps. Returns the Axes.

    Raises:
        InvalidArgumentType: ``cluster`` is not a KVCluster.
    """
    import matplotlib.pyplot as plt

    sim = getattr(cluster, "sim", None)
    servers = getattr(cluster, "ids", None)
    if sim is None or not isinstance(servers, list):
        raise InvalidArgumentType(f"cluster={cluster!r} must be a KVCluster")
    if title is not None:
        check_type("title", title, str, what="a str or None")
    check_axes(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3))
    for server in servers:
        xs: list = [0.0]
        ys: list = [0]
        for event in sim.trace:
            if event.node != server:
                continue
            if event.kind == "crash":
                xs.append(event.time)
                ys.append(ys[-1])
                xs.append(event.time)
                ys.append(float("nan"))
            elif event.kind == "custom" and event.type in ("apply", "apply_snapshot") \
                    and isinstance(event.info, dict) and "index" in event.info:
                xs.append(event.time)
                ys.append(event.info["index"])
        xs.append(float(sim.now))
        ys.append(ys[-1])
        ax.step(xs, ys, where="post", label=str(server))
    ax.set_xlabel("simulated time")
    ax.set_ylabel("last index applied")
    ax.set_title(title if title is not None else "what each server has applied")
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax


__all__ = ["key_timeline", "log_size_plot", "applied_plot", "failure_picture", "MARGIN", "WINDOW"]
