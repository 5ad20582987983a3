"""The chapter's picture: availability and stale reads per time window for several runs."""

from __future__ import annotations

from typing import Any, Mapping

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_positive, check_type
from .workload import RegisterRun


def plot_windows(runs: Mapping[str, RegisterRun], width: float = 10.0, *, axes: Any = None,
                 title: str | None = None) -> Any:
    """Draw availability and stale reads per time window for several runs, partitions shaded.

    The top panel is the share of operations that succeeded in each window;
    the bottom one the number of stale reads, with a dashed line where each
    run's history stops being linearizable.

    Args:
        runs: label -> :class:`RegisterRun` (e.g. ``{"AP": ap_run, "CP": cp_run}``).
        width: the window length.
        axes: two matplotlib Axes to draw on (default: a new figure).
        title: the figure title.

    Returns:
        The two Axes.

    Raises:
        InvalidArgument: ``runs`` is empty or ``width`` is not positive (also a ValueError).
        InvalidArgumentType: ``runs`` is not a dict of RegisterRuns, or ``axes``
            not two Axes (also a TypeError).
    """
    import matplotlib.pyplot as plt

    if not isinstance(runs, Mapping):
        raise InvalidArgumentType(f"runs={runs!r} must be a non-empty dict of label -> RegisterRun")
    if not runs:
        raise InvalidArgument(f"runs={runs!r} must be a non-empty dict of label -> RegisterRun")
    for label, run in runs.items():
        if not isinstance(run, RegisterRun):
            raise InvalidArgumentType(f"runs[{label!r}]={run!r} is not a RegisterRun")
    width = check_positive("width", width)
    if title is not None:
        check_type("title", title, str, what="a str or None")
    if axes is not None:
        try:
            pair = len(axes) == 2 and all(hasattr(ax, "axvspan") for ax in axes)
        except TypeError:  # a single Axes has no len()
            pair = False
        if not pair:
            raise InvalidArgumentType(f"axes={axes!r} must be two matplotlib Axes (top, bottom) or None")
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(10, 5.2), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2]})
    top, bottom = axes
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
    shaded = set()
    n = len(runs)
    for k, (label, run) in enumerate(runs.items()):
        colour = colours[k % len(colours)]
        for span in run.partitions:
            if span not in shaded:
                shaded.add(span)
                for ax in axes:
                    ax.axvspan(*span, color="#f4cccc", alpha=0.6, lw=0, zorder=0)
        rows = run.windows(width)
        mids = [(w.start + w.end) / 2 for w in rows]
        top.plot(mids, [w.availability for w in rows], marker="o", ms=4, color=colour, label=label)
        offset = (k - (n - 1) / 2) * width * 0.8 / n
        bottom.bar([m + offset for m in mids], [w.stale_reads for w in rows],
                   width=width * 0.8 / n, color=colour, label=label)
        when = run.first_violation()
        if when is not None:
            for ax in axes:
                ax.axvline(when, color=colour, ls="--", lw=1.2)
            top.annotate(f" {label}: not linearizable from t={when:.0f}", (when, 0.04),
                         color=colour, fontsize=8)
    top.set_ylim(-0.02, 1.12)
    top.set_ylabel("availability\n(share of ops ok)")
    bottom.set_ylabel("stale reads")
    bottom.set_xlabel("simulated time (window of invocation)")
    top.legend(loc="lower right", fontsize=8)
    if shaded:
        top.text(min(s[0] for s in shaded), 1.1, " partition", fontsize=8, color="#a33", va="top")
    if title:
        top.set_title(title)
    top.figure.tight_layout()
    return axes
