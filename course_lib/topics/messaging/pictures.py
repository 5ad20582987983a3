"""The chapter's pictures: a trace as a waterfall, consumer lag, calls through a registry.

Every function draws on ``ax`` (a new figure if ``None``) and returns the ``Axes``.
"""

from __future__ import annotations

from typing import Any

from ...sim.validation import InvalidArgumentType, check_number
from .discovery import DiscoveryRun
from .tracing import Span, slowest_hop

__all__ = ["draw_waterfall", "plot_lag", "plot_calls"]


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def draw_waterfall(spans: list[Span], *, ax: Any = None, title: str | None = None) -> Any:
    """Draw one trace as Jaeger does: a bar per span, children under their parent, the slowest hop red."""
    if not isinstance(spans, list) or not spans or not all(isinstance(s, Span) for s in spans):
        raise InvalidArgumentType(f"spans={spans!r} must be a non-empty list of Spans of one trace")
    worst = slowest_hop(spans)
    by_parent: dict[Any, list[Span]] = {}
    for s in spans:
        by_parent.setdefault(s.parent_id, []).append(s)
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if s.parent_id not in ids]
    rows: list[tuple[Span, int]] = []

    def walk(span: Span, depth: int) -> None:
        rows.append((span, depth))
        for child in sorted(by_parent.get(span.span_id, []), key=lambda c: c.start):
            walk(child, depth + 1)
    for root in sorted(roots, key=lambda r: r.start):
        walk(root, 0)
    ax = _axes(ax, (9, 0.45 * len(rows) + 1.2))
    t0 = min(s.start for s in spans)
    for y, (span, depth) in enumerate(rows):
        color = "tab:red" if span is worst else "tab:blue"
        ax.barh(y, span.duration, left=span.start - t0, color=color, alpha=0.75, height=0.6)
        ax.text(span.start - t0 + span.duration + 0.3, y, f"{span.duration:.1f}", va="center", fontsize=8)
        ax.text(-0.5, y, "  " * depth + f"{span.service}: {span.operation}", va="center", ha="right",
                fontsize=9)
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.set_xlabel("time since the request arrived")
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.set_title(title or f"trace {spans[0].trace_id}: slowest hop {worst.service} (red)")
    return ax


def plot_lag(runs: dict, *, ax: Any = None, title: str | None = None) -> Any:
    """Consumer-group lag over time, one line per labelled run (``{label: StreamRun}``)."""
    if not isinstance(runs, dict) or not runs:
        raise InvalidArgumentType(f"runs={runs!r} must be a non-empty dict {{label: StreamRun}}")
    ax = _axes(ax, (9, 3.2))
    for label, run in runs.items():
        times, lags = zip(*run.lag)
        ax.step(times, lags, where="post", label=label)
        for time, *_ in run.broker.rebalances:
            if time > 2.0:   # not the first joins
                ax.axvline(time, color="gray", lw=0.6, ls=":")
    ax.set_xlabel("simulated time")
    ax.set_ylabel("records not yet committed")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "consumer lag (dotted: rebalances)")
    return ax


def plot_calls(run: DiscoveryRun, *, bin: float = 5.0, ax: Any = None,  # noqa: A002
               title: str | None = None) -> Any:
    """Failed calls per ``bin`` of time, and the registry's status changes as vertical lines."""
    if not isinstance(run, DiscoveryRun):
        raise InvalidArgumentType(f"run={run!r} must be a DiscoveryRun (from run_discovery)")
    check_number("bin", bin, low=0, low_open=True)
    ax = _axes(ax, (9, 2.8))
    end = max((t for t, _, _ in run.calls), default=0.0) + bin
    edges = [i * bin for i in range(int(end // bin) + 1)]
    failed = [run.failed_between(a, a + bin) for a in edges]
    ax.bar(edges, failed, width=bin * 0.9, align="edge", color="tab:red", alpha=0.7, label="failed calls")
    for time, instance, status in run.changes:
        if status != "passing" or time > 5:
            ax.axvline(time, color="gray", ls=":", lw=0.8)
            ax.text(time, ax.get_ylim()[1] * 0.9, f" {instance} {status}", fontsize=8, rotation=90,
                    va="top")
    ax.set_xlabel("simulated time")
    ax.set_ylabel(f"failed calls per {bin:g}")
    ax.set_title(title or "calls through the registry")
    return ax
