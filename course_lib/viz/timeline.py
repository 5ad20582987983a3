"""Draw a history as a timeline: one row per process, one bar per operation.

The picture of a concurrent history used by Knossos and porcupine: time runs
left to right, each operation is a bar from its invocation to its completion,
and overlapping bars are the operations a checker may order either way.
"""

from __future__ import annotations

import math
from typing import Any, Hashable, Iterable

from course_lib.history import History, Operation
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType, check_int, check_number

__all__ = ["plot_history", "plot_violation"]

_COLOURS = {
    "plain": "#9ecae1",
    "linearized": "#a1d99b",
    "highlight": "#fb6a4a",
    "fail": "#d9d9d9",
}


def _operations(name: str, value: Any) -> list[Operation]:
    """Return the operations of a History, or of a list of operations, naming ``name`` if not."""
    if isinstance(value, History):
        return value.operations()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgumentType(f"{name}={value!r} must be a History or a list of its operations")
    ops = list(value)
    for op in ops:
        if not isinstance(op, Operation):
            raise InvalidArgumentType(f"{name} holds {op!r}, which is not an Operation")
    return ops


def plot_history(
    history: History | Iterable[Operation],
    *,
    ax=None,
    order: Iterable[Operation] = (),
    highlight: Iterable[Operation] = (),
    stuck_time: float | None = None,
    title: str | None = None,
    window: tuple[float, float] | None = None,
    label_chars: int = 28,
):
    """Draw ``history`` as bars on one row per process.

    Completed operations span their invocation and completion times; an
    indeterminate one (``info`` or never completed) fades out towards the
    right edge, since it may take effect at any later time; a failed one is
    grey and dashed. Bars are labelled with the operation (``f(key, value) ->
    output``).

    Args:
        history: A History or its operations.
        ax: A matplotlib Axes; a new figure is made if None.
        order: Operations in a linearization order; each is coloured green and
            numbered ``#1``, ``#2``, ...
        highlight: Operations to draw in red (for example those a checker got
            stuck on).
        stuck_time: If given, a red vertical line marks this time as the point
            where no order works.
        title: The Axes title.
        window: If given, ``(start, end)`` times to show; operations wholly
            outside are left out, and so are processes with none inside.
        label_chars: Labels longer than this are shortened with ``...``.

    Returns:
        The Axes.

    Raises:
        InvalidArgument: ``label_chars`` is less than 4, or ``window`` is not
            ``(start, end)`` with finite ``start < end`` (also a ValueError).
        InvalidArgumentType: an argument of the wrong type, such as a history
            that is not a History or a list of its operations (also a TypeError).

    Example::

        >>> from course_lib.history import History
        >>> h = History()
        >>> _ = h.invoke(0, "write", value=1); _ = h.invoke(1, "read")
        >>> _ = h.ok(0); _ = h.ok(1, value=1)
        >>> ax = plot_history(h, title="a write and a read overlap")
    """
    check_int("label_chars", label_chars, low=4)
    if window is not None:
        if not (isinstance(window, (tuple, list)) and len(window) == 2):
            raise InvalidArgumentType(f"window={window!r} must be (start, end) with start < end")
        for bound in window:
            if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                raise InvalidArgumentType(f"window={window!r} must be (start, end) with start < end")
        if not (math.isfinite(window[0]) and math.isfinite(window[1]) and window[0] < window[1]):
            raise InvalidArgument(f"window={window!r} must be (start, end) with start < end")
    if stuck_time is not None:
        check_number("stuck_time", stuck_time, what="a time or None")
    if title is not None and not isinstance(title, str):
        raise InvalidArgumentType(f"title={title!r} must be a str or None")
    if ax is not None and not (hasattr(ax, "barh") and hasattr(ax, "set_xlim")):
        raise InvalidArgumentType(f"ax={ax!r} must be a matplotlib Axes or None")
    ops = _operations("history", history)
    order = _operations("order", order)
    highlight = _operations("highlight", highlight)
    if window is not None:
        ops = [op for op in ops if op.call_time <= window[1]
               and (op.indeterminate or op.return_time is None
                    or op.return_time >= window[0])]
    rank = {op.id: k for k, op in enumerate(order, start=1)}
    marked = {op.id for op in highlight}
    rows: dict[Hashable, int] = {}
    for op in ops:
        rows.setdefault(op.process, len(rows))

    new_figure = ax is None
    if new_figure:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 1.6 + 0.45 * max(len(rows), 1)))

    times = [op.call_time for op in ops] + [op.return_time for op in ops
                                            if op.return_time is not None]
    if stuck_time is not None:
        times.append(stuck_time)
    start = min(times, default=0.0)
    end = max(times, default=1.0)
    if window is not None:
        start, end = window
    span = (end - start) or 1.0
    right = end + 0.08 * span  # where indeterminate bars fade out
    # Width of one label character in data units (fontsize 7 is about 0.06 inch a character).
    axes_inches = ax.get_position().width * ax.figure.get_figwidth()
    char_width = 0.05 * (right - start + 0.02 * span) / max(axes_inches, 1e-6)

    for op in ops:
        y = rows[op.process]
        left = max(op.call_time, start - 0.02 * span)
        if op.indeterminate or op.return_time is None:
            stop = right
        else:
            stop = min(op.return_time, right)
        width = max(stop - left, 0.004 * span)
        if op.id in marked:
            colour = _COLOURS["highlight"]
        elif op.id in rank:
            colour = _COLOURS["linearized"]
        elif op.status == "fail":
            colour = _COLOURS["fail"]
        else:
            colour = _COLOURS["plain"]
        style = dict(height=0.6, color=colour, edgecolor="black", linewidth=0.6)
        if op.status == "fail":
            style.update(linestyle="--", alpha=0.7)
        if op.indeterminate:
            style.update(hatch="//", alpha=0.55)
        ax.barh(y, width, left=left, **style)
        label = op.describe()
        if len(label) > label_chars:
            label = label[:label_chars - 3] + "..."
        if op.id in rank:
            label = f"#{rank[op.id]} {label}"
        if len(label) * char_width <= width:
            ax.text(left + width / 2, y, label, ha="center", va="center", fontsize=7,
                    clip_on=True)
        else:  # too short a bar: label above it, slanted, so neighbours do not collide
            ax.text(left, y - 0.33, label, ha="left", va="bottom", fontsize=6, rotation=12,
                    rotation_mode="anchor", clip_on=True)

    if stuck_time is not None:
        ax.axvline(stuck_time, color="red", linestyle="--", linewidth=1.2)
        ax.text(stuck_time, -0.7, " no legal order past here", color="red",
                fontsize=8, va="bottom", ha="left")

    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"p{p}" for p in rows])
    ax.set_ylim(len(rows) - 0.4, -1.1)  # first process on top, room for labels above it
    ax.set_xlim(start - 0.02 * span, right)
    ax.set_xlabel("time")
    ax.set_ylabel("process")
    if title:
        ax.set_title(title)
    if new_figure:
        ax.figure.tight_layout()
    return ax


def plot_violation(result: Any, *, ax=None, **kwargs):
    """Draw a linearizability violation: the failing partition's timeline, zoomed where it got stuck.

    One row per process, one bar per operation; the linearized prefix is
    numbered in linearization order, the stuck operations are highlighted and
    a vertical line marks where no order works. By default it zooms on the
    last operations of the prefix and the stuck ones; pass
    ``window=(start, end)`` to choose.

    Args:
        result: What :func:`course_lib.checkers.linearizable` returned for a
            history that is not linearizable.
        ax: A matplotlib Axes to draw on; a new figure if None.
        **kwargs: Passed on to :func:`plot_history`.

    Returns:
        The Axes.

    Raises:
        InvalidArgument: ``result`` is not a violation (valid, or unknown).
    """
    if getattr(result, "valid", None) is not False or not hasattr(result, "stuck"):
        raise InvalidArgument(f"result={result!r}: only a linearizability violation "
                              "(valid=False) has a failing partition to plot")
    kwargs.setdefault("title", f"{result.model}: partition {result.partition!r} is not linearizable")
    if "window" not in kwargs:
        # Zoom on the end of the prefix and the operations it got stuck on.
        near = list(result.linearized[-5:]) + list(result.stuck)
        lo = min(op.call_time for op in near)
        hi = max([result.stuck_time] + [op.return_time for op in near
                                        if op.return_time is not None and not op.indeterminate])
        pad = 0.1 * ((hi - lo) or 1.0)
        kwargs["window"] = (lo - pad, hi + pad)
    return plot_history(result.operations, ax=ax, order=result.linearized,
                        highlight=result.stuck, stuck_time=result.stuck_time, **kwargs)
