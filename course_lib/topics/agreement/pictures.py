"""Leadership timelines: who believed they were leader, when, and in which term or lease.

One lane per node, time running right, a bar wherever the node believed it led,
coloured by its term (a lease's fencing token); two bars above each other are
two leaders at once. Partitions shade the background, crashes are grey
hatching, stop-the-world pauses are outlined in red.

Import it from the chapter (``from course_lib.topics.agreement import leader_timeline``).
"""

from __future__ import annotations

from typing import Any, Sequence

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_type
from ...viz.spacetime import check_axes, check_lanes, check_window, shade_partitions

_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#d62728", "#7f7f7f"]


def leader_timeline(log: Any, *, nodes: Sequence[Any] | None = None, start: float | None = None,
                    end: float | None = None, ax: Any = None, title: str | None = None) -> Any:
    """Draw who led when from a :class:`~course_lib.topics.agreement.election.LeadershipLog`; return the ``Axes``.

    Args:
        log: the log returned by :func:`course_lib.topics.agreement.watch_leaders` before the run.
        nodes: lanes to draw, top to bottom (default: the nodes that ever led, then the rest
            that have an ``is_leader`` method, in the order they were added).
        start, end: the time window (default: the whole run).
        ax: draw into this Axes instead of a new figure.
        title: the figure title.

    Example:
        >>> from course_lib.sim import Simulation
        >>> from course_lib.topics.agreement import HeartbeatElection, watch_leaders
        >>> sim = Simulation(seed=1)
        >>> _ = sim.add_nodes(HeartbeatElection, ["n1", "n2", "n3"])
        >>> log = watch_leaders(sim)
        >>> sim.run(until=20)
        >>> leader_timeline(log).get_xlabel()
        'simulated time'

    Raises:
        InvalidArgument: ``end`` is not after ``start``, or a lane is not a node of the run.
        InvalidArgumentType: ``log`` is not a LeadershipLog, or another argument
            has the wrong type (such as a single str for ``nodes``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    sim = getattr(log, "sim", None)
    if sim is None or not callable(getattr(log, "intervals", None)):
        raise InvalidArgumentType(f"log={log!r} must be the LeadershipLog returned by watch_leaders(sim)")
    check_window(start, end)
    check_axes(ax)
    if title is not None:
        check_type("title", title, str, what="a str or None")
    intervals = log.intervals()
    if nodes is None:
        nodes = [n for n, node in sim.nodes.items() if callable(getattr(node, "is_leader", None))]
    nodes = check_lanes("nodes", nodes, list(sim.nodes)) if nodes else []
    lane = {n: i for i, n in enumerate(nodes)}
    lo = 0.0 if start is None else float(start)
    hi = float(sim.now) if end is None else float(end)
    if hi <= lo:
        raise InvalidArgument(f"end={end!r} must be after start={start!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.55 * len(nodes) + 1.6))

    events = sim.trace.events
    spans = shade_partitions(ax, sim.trace, lo, hi)

    def stretches(begin_kind: str, end_kind: str, custom: bool) -> list:
        began: dict = {}
        out = []
        for e in events:
            kind = e.type if custom and e.kind == "custom" else e.kind
            if kind == begin_kind and e.node in lane:
                began[e.node] = e.time
            elif kind == end_kind and e.node in began:
                out.append((e.node, began.pop(e.node), e.time))
        out += [(n, t, hi) for n, t in began.items()]
        return out

    for n, a, b in stretches("crash", "restart", custom=False):
        ax.fill_between([a, b], lane[n] - 0.4, lane[n] + 0.4, color="#999999", alpha=0.5,
                        hatch="///", lw=0, zorder=1)
    pauses = stretches("pause", "resume", custom=True)
    for n, a, b in pauses:
        ax.add_patch(plt.Rectangle((a, lane[n] - 0.42), b - a, 0.84, fill=False, ec="#d62728",
                                   lw=1.5, ls="--", zorder=4))

    terms: dict = {}
    for n, a, b, term in intervals:
        if n not in lane or b < lo or a > hi:
            continue
        if term not in terms:
            numbered = len([t for t in terms if t is not None])
            terms[term] = "#bbbbbb" if term is None else _PALETTE[numbered % len(_PALETTE)]
        ax.barh(lane[n], b - a, left=a, height=0.6, color=terms[term], edgecolor="black", lw=0.5, zorder=3)
        if term is not None and b - a > (hi - lo) / 40:
            ax.text((a + b) / 2, lane[n], str(term), ha="center", va="center", fontsize=7, zorder=5)

    ax.set_yticks(range(len(nodes)))
    ax.set_yticklabels([str(n) for n in nodes])
    ax.set_ylim(len(nodes) - 0.5, -0.5)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("simulated time")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    handles = [Patch(color=c, label="leader" if t is None else f"term/token {t}") for t, c in terms.items()]
    if spans:
        handles.append(Patch(color="#f4cccc", label="partition"))
    if pauses:
        handles.append(Patch(fill=False, ec="#d62728", ls="--", label="paused"))
    if any(e.kind == "crash" and e.node in lane for e in events):
        handles.append(Patch(color="#999999", hatch="///", label="crashed"))
    if handles:
        ax.legend(handles=handles[:12], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                  frameon=False)
    return ax
