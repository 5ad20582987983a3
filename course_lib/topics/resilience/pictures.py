"""The chapter's pictures: load and goodput over time, a breaker's state against its dependency's
health, a detector's verdicts, and the trade-off between false positives and detection time.

Every function draws on ``ax`` (a new figure if ``None``) and returns the ``Axes``.

Example:
    >>> from course_lib.topics.resilience import run_service
    >>> ax = plot_overload(run_service(seed=1, duration=10, rate=50))
    >>> ax.get_xlabel()
    'time (s)'
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_number
from .clients import ServiceRun
from .detection import DetectionRun

__all__ = ["plot_breaker", "plot_detection", "plot_overload", "plot_tradeoff"]

_STATE_LEVEL = {"closed": 0, "half_open": 1, "open": 2}


def _axes(ax: Any, size: tuple[float, float] = (9, 3.4)) -> Any:
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _shade_health(ax: Any, run: ServiceRun, dependency: Any = None) -> None:
    """Shade the stretches where the dependency is slowed down or failing."""
    rows = run.health.get(dependency if dependency is not None else next(iter(run.health)), [])
    state = {"failure_rate": 0.0, "slowdown": 1.0}
    times = [t for t, _ in rows] + [run.until]
    for (time, change), end in zip(rows, times[1:]):
        state = {**state, **change}
        if state["failure_rate"] > 0 or state["slowdown"] != 1.0:
            label = []
            if state["slowdown"] != 1.0:
                label.append(f"{state['slowdown']:g}x slower")
            if state["failure_rate"] > 0:
                label.append(f"{state['failure_rate']:.0%} failing")
            ax.axvspan(time, end, color="tab:red", alpha=0.08, lw=0)
            ax.text(time, 1.0, " " + ", ".join(label), transform=ax.get_xaxis_transform(),
                    va="top", ha="left", fontsize=8, color="tab:red")


def plot_overload(run: ServiceRun, *, bin: float = 1.0, ax: Any = None, title: str | None = None,  # noqa: A002
                  latency: bool = True, dependency: Any = None) -> Any:
    """Offered load, load reaching the dependency, goodput (calls/s) and p99 latency over time."""
    if not isinstance(run, ServiceRun):
        raise InvalidArgumentType(f"run={run!r} must be a ServiceRun (from run_service or World.run)")
    check_number("bin", bin, low=0, low_open=True, what="a positive number of seconds")
    ax = _axes(ax)
    s = run.series(bin, dependency)
    ax.step(s["t"], s["offered"], where="post", color="tab:gray", ls="--", zorder=3,
            label="offered (new calls/s)")
    ax.step(s["t"], s["load"], where="post", color="tab:orange", label="load at dependency (attempts/s)")
    ax.step(s["t"], s["goodput"], where="post", color="tab:green", lw=2, label="goodput (successes/s)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("per second")
    ax.set_xlim(0, run.until)
    ax.set_ylim(bottom=0)
    _shade_health(ax, run, dependency)
    handles, labels = ax.get_legend_handles_labels()
    if latency:
        twin = ax.twinx()
        p99 = [v if not math.isnan(v) else None for v in s["p99"]]
        twin.plot(s["t"], p99, color="tab:purple", lw=1, ls=":", label="p99 latency of successes (s)")
        twin.set_ylabel("seconds")
        twin.set_ylim(bottom=0)
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper left", fontsize=7, bbox_to_anchor=(1.08, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_breaker(run: ServiceRun, caller: Any = None, *, bin: float = 1.0, ax: Any = None,
                 title: str | None = None) -> Any:
    """A breaker's state over time (closed, half-open, open) above the load reaching the dependency."""
    if not isinstance(run, ServiceRun):
        raise InvalidArgumentType(f"run={run!r} must be a ServiceRun")
    if not run.breaker_states:
        raise InvalidArgument("this run has no breaker: pass breaker= to run_service")
    caller = next(iter(run.breaker_states)) if caller is None else caller
    if caller not in run.breaker_states:
        raise InvalidArgument(f"caller={caller!r} has no breaker; callers with one: "
                              f"{list(run.breaker_states)}")
    import matplotlib.pyplot as plt
    if ax is None:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.2), sharex=True,
                                          gridspec_kw={"height_ratios": [1, 2]})
    else:
        top, bottom = ax
    changes = run.breaker_states[caller]
    xs = [t for t, _ in changes] + [run.until]
    ys = [_STATE_LEVEL.get(s, math.nan) for _, s in changes]
    top.step(xs, ys + ys[-1:], where="post", color="black", lw=1.2)
    top.set_yticks([0, 1, 2], ["closed", "half-open", "open"])
    top.set_ylim(-0.4, 2.4)
    _shade_health(top, run)
    s = run.series(bin)
    bottom.step(s["t"], s["load"], where="post", color="tab:orange", label="load at dependency (attempts/s)")
    bottom.step(s["t"], s["goodput"], where="post", color="tab:green", lw=2, label="goodput (successes/s)")
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("per second")
    bottom.set_xlim(0, run.until)
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper right", fontsize=8)
    _shade_health(bottom, run)
    if title:
        top.set_title(title)
    return bottom


def plot_detection(run: DetectionRun, node: Any, *, start: float = 0.0, end: float | None = None,
                   ax: Any = None, title: str | None = None) -> Any:
    """One node's heartbeat arrivals (ticks), the stretches it was suspected (red) and its crash."""
    if not isinstance(run, DetectionRun):
        raise InvalidArgumentType(f"run={run!r} must be a DetectionRun (from run_detector)")
    if node not in run.watched:
        raise InvalidArgument(f"node={node!r} is not watched in this run; watched: {run.watched}")
    end = run.until if end is None else end
    ax = _axes(ax, (9, 1.8))
    arrivals = [t for t in run.arrivals[node] if start <= t <= end]
    ax.vlines(arrivals, 0.55, 0.95, color="tab:blue", lw=1, label="heartbeat arrives")
    first = True
    for lo, hi in run.episodes(node):
        if hi >= start and lo <= end:
            ax.axvspan(max(lo, start), min(hi, end), 0.05, 0.45, color="tab:red", alpha=0.6,
                       label="suspected" if first else None)
            first = False
    if node in run.crashes and start <= run.crashes[node] <= end:
        ax.axvline(run.crashes[node], color="black", ls="--", label="crash")
    ax.set_xlim(start, end)
    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper left", fontsize=8, bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_tradeoff(curves: Mapping[str, Sequence[Mapping[str, float]]], *, ax: Any = None,
                  title: str | None = None) -> Any:
    """False positives per hour against mean detection time, one curve per detector (rows from
    :func:`~course_lib.topics.resilience.detection.tradeoff`), each point labelled with its knob."""
    if not isinstance(curves, Mapping) or not curves:
        raise InvalidArgumentType(f"curves={curves!r} must be a non-empty dict {{name: rows}}")
    ax = _axes(ax, (6.5, 4))
    for name, rows in curves.items():
        xs = [r["detection"] for r in rows]
        ys = [max(r["false positives per hour"], 0.1) for r in rows]
        ax.plot(xs, ys, marker="o", label=name)
        for r, x, y in zip(rows, xs, ys):
            ax.annotate(f"{r['knob']:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_yscale("log")
    ax.set_xlabel("mean detection time after a crash (s)")
    ax.set_ylabel("false positives per node-hour\n(0 drawn at 0.1)")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
