"""The chapter's pictures: availability and stale reads per window, small histories, the map of models."""

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


def _short_label(op: Any) -> str:
    """Return ``w1`` for a write of 1, ``r→2`` for a read that returned 2, ``r→∅`` for the initial value."""
    if op.f in ("write", "put"):
        return f"w{op.value}" + ("?" if op.indeterminate else "")
    if op.status != "ok":
        return "r?"
    return "r→∅" if op.output is None else f"r→{op.output}"


def plot_register_history(history: Any, *, ax: Any = None, highlight: Any = (), title: str | None = None,
                          fontsize: float = 9) -> Any:
    """Draw a small history of one register, each operation a bar labelled inside: ``w1``, ``r→2``.

    For hand-made histories of a few operations, where the value each read
    returned is the lesson; :func:`course_lib.viz.plot_history` draws long ones.

    Args:
        history: a :class:`~course_lib.history.History` or a list of its operations.
        ax: a matplotlib Axes (default: a new figure).
        highlight: operations to draw in red.
        title: the Axes title.
        fontsize: the labels' size in points.

    Returns:
        The Axes.

    Raises:
        InvalidArgumentType: ``history`` is not a History or a list of operations,
            or ``ax`` not an Axes (also a TypeError).
        InvalidArgument: ``fontsize`` is not positive (also a ValueError).

    Example:
        >>> from course_lib.history import History
        >>> h = History()
        >>> _ = h.invoke(0, "write", "x", 1, time=0); _ = h.ok(0, time=1)
        >>> _ = h.invoke(1, "read", "x", time=2); _ = h.ok(1, value=1, time=3)
        >>> ax = plot_register_history(h)
        >>> [t.get_text() for t in ax.texts]
        ['w1', 'r→1']
    """
    import matplotlib.pyplot as plt

    from ...history import History, Operation, operations_of

    if not isinstance(history, History) and (isinstance(history, (str, bytes))
                                             or not hasattr(history, "__iter__")):
        raise InvalidArgumentType(f"history={history!r} must be a History or a list of its operations")
    ops = operations_of(history)
    marked = set()
    for op in highlight:
        if not isinstance(op, Operation):
            raise InvalidArgumentType(f"highlight holds {op!r}, which is not an Operation")
        marked.add(op.id)
    if ax is not None and not (hasattr(ax, "barh") and hasattr(ax, "set_xlim")):
        raise InvalidArgumentType(f"ax={ax!r} must be a matplotlib Axes or None")
    if title is not None:
        check_type("title", title, str, what="a str or None")
    fontsize = check_positive("fontsize", fontsize)
    rows: dict[Any, int] = {}
    for op in sorted(ops, key=lambda o: str(o.process)):
        rows.setdefault(op.process, len(rows))
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.5 * len(rows) + 0.9))
    end = max([op.return_time for op in ops if op.return_time is not None] + [1.0])
    for op in ops:
        stop = op.return_time if op.return_time is not None and not op.indeterminate else end + 0.5
        colour = "#fb6a4a" if op.id in marked else ("#c6dbef" if op.f in ("read", "get") else "#fdd49e")
        ax.barh(rows[op.process], stop - op.call_time, left=op.call_time, height=0.62, color=colour,
                edgecolor="black", linewidth=0.6, hatch="//" if op.indeterminate else None)
        ax.text((op.call_time + stop) / 2, rows[op.process], _short_label(op), ha="center", va="center",
                fontsize=fontsize)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"p{p}" for p in rows], fontsize=fontsize)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(min([op.call_time for op in ops] + [0.0]) - 0.2, end + 0.2)
    ax.tick_params(axis="x", labelsize=fontsize - 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax


#: The models of this chapter, weakest at the bottom; an arrow goes from a model to one it implies.
MODEL_MAP = {
    "positions": {
        "linearizable": (0.45, 5), "sequential": (0.45, 4), "causal memory": (0.45, 3),
        "the four session guarantees": (0.45, 2), "read-your-writes": (-0.05, 1), "monotonic reads": (0.28, 1),
        "monotonic writes": (0.61, 1), "writes-follow-reads": (0.95, 1),
        "causal+ (COPS)": (1.3, 3.6), "eventual (convergence)": (1.3, 2.0),
    },
    "implies": [
        ("linearizable", "sequential"), ("sequential", "causal memory"),
        ("causal memory", "the four session guarantees"),
        ("the four session guarantees", "read-your-writes"), ("the four session guarantees", "monotonic reads"),
        ("the four session guarantees", "monotonic writes"),
        ("the four session guarantees", "writes-follow-reads"),
        ("causal+ (COPS)", "causal memory"), ("causal+ (COPS)", "eventual (convergence)"),
    ],
}


def plot_model_map(separations: Mapping[tuple[str, str], str] | None = None, *, ax: Any = None,
                   fontsize: float = 9) -> Any:
    """Draw the consistency models of the chapter as the partial order they form.

    An arrow from one model to another means "every history the first allows,
    the second allows too". Models with no path between them (read-your-writes
    and monotonic reads; causal memory and eventual convergence) are incomparable.

    Args:
        separations: text to write on an arrow, by ``(stronger, weaker)``, such
            as the history that the weaker model allows and the stronger forbids.
        ax: a matplotlib Axes (default: a new figure).
        fontsize: the labels' size in points.

    Returns:
        The Axes.

    Raises:
        InvalidArgument: a separation names an arrow the map does not have (also a ValueError).
        InvalidArgumentType: ``separations`` is not a dict, or ``ax`` not an Axes (also a TypeError).

    Example:
        >>> ax = plot_model_map({("linearizable", "sequential"): "h2"})
        >>> "h2" in [t.get_text() for t in ax.texts]
        True
    """
    import matplotlib.pyplot as plt

    separations = {} if separations is None else separations
    if not isinstance(separations, Mapping):
        raise InvalidArgumentType(f"separations={separations!r} must be a dict {{(stronger, weaker): text}}")
    edges = MODEL_MAP["implies"]
    for pair in separations:
        if pair not in edges:
            raise InvalidArgument(f"separations names {pair!r}, which is not an arrow of the map; "
                                  f"arrows are {edges}")
    if ax is not None and not (hasattr(ax, "annotate") and hasattr(ax, "set_xlim")):
        raise InvalidArgumentType(f"ax={ax!r} must be a matplotlib Axes or None")
    fontsize = check_positive("fontsize", fontsize)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.2))
    where = MODEL_MAP["positions"]
    boxes = {}
    for name, (x, y) in where.items():
        boxes[name] = ax.text(x, y, name, ha="center", va="center", fontsize=fontsize, zorder=3,
                              bbox=dict(boxstyle="round,pad=0.35", fc="#eef3fb" if x < 1.2 else "#fdf0e0",
                                        ec="#555"))
    ax.set_xlim(-0.3, 1.6)
    ax.set_ylim(0.5, 5.5)
    ax.axis("off")
    ax.figure.canvas.draw()  # the boxes' sizes are known only once drawn; the arrows stop at their edges
    for strong, weak in edges:
        ax.annotate("", xy=where[weak], xytext=where[strong], zorder=4,
                    arrowprops=dict(arrowstyle="-|>", color="#555", lw=1, shrinkA=1, shrinkB=1, mutation_scale=12,
                                    patchA=boxes[strong].get_bbox_patch(), patchB=boxes[weak].get_bbox_patch()))
        text = separations.get((strong, weak))
        if text:
            (x0, y0), (x1, y1) = where[strong], where[weak]
            ax.text((x0 + x1) / 2 + 0.02, (y0 + y1) / 2 + 0.08, text, fontsize=fontsize - 0.5,
                    color="#b2182b", ha="left", va="center", zorder=4)
    return ax
