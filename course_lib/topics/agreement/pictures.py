"""Leadership timelines: who believed they were leader, when, and in which term or lease.

One lane per node, time running right, a bar wherever the node believed it led,
coloured by its term (a lease's fencing token); two bars above each other are
two leaders at once. Partitions shade the background, crashes are grey
hatching, stop-the-world pauses are outlined in red.

Import it from the chapter (``from course_lib.topics.agreement import leader_timeline``).
"""

from __future__ import annotations

from typing import Any, Sequence

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_number, check_type
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


_FAULT_KINDS = ("crash", "restart", "pause", "resume")


def _short(event: Any) -> str:
    """A few characters saying what a recorded event says: its outcome, vote, value or leader."""
    if event.kind in _FAULT_KINDS:
        return str(event.kind)
    info = event.info if isinstance(event.info, dict) else {}
    if event.type == "rejected" and "token" in info:
        return f"rejected token {info['token']}"
    if event.type == "leader" and "leader" in info:
        return "leads" if info["leader"] == event.node else f"leader {info['leader']}"
    if "slot" in info and "value" in info:
        return f"{info['slot']}:{info['value']}"
    for field in ("outcome", "vote", "value", "leader"):
        if field in info:
            value = info[field]
            return "none" if value is None else str(value)
    return str(event.type)


def event_labels(sim: Any, names: Sequence[str], *, nodes: Sequence[Any] | None = None,
                 text: Any = None) -> dict:
    """Return short horizontal labels for the custom events ``names``, for ``space_time(labels=...)``.

    A label says what the event says, in a word: a ``decide``'s outcome, a
    ``vote``, a learned ``value`` (``slot:value`` in a log), a new ``leader``;
    ``text(event)`` overrides it. ``nodes`` keeps only those nodes' events.
    The fault kinds ``"crash"``, ``"restart"``, ``"pause"`` and ``"resume"`` may be named too.

    Example:
        >>> from course_lib.sim import Simulation, Node
        >>> class Voter(Node):
        ...     def on_start(self):
        ...         self.record("vote", txid="t1", vote="yes")
        >>> sim = Simulation(seed=0)
        >>> _ = sim.add_node(Voter, "p1")
        >>> sim.run(until=1)
        >>> list(event_labels(sim, ["vote"]).values())
        ['yes']

    Raises:
        InvalidArgument: ``nodes`` names a node that is not in the run.
        InvalidArgumentType: ``sim`` is not a Simulation, ``names`` or ``nodes``
            a single str, or ``text`` not callable.
    """
    from ...sim import Simulation
    from ...sim.validation import check_callable
    from ...viz.spacetime import check_names

    check_type("sim", sim, Simulation)
    wanted = set(check_names("names", names))
    if text is not None:
        check_callable("text", text, "text(event) -> str")
    keep = None if nodes is None else set(check_lanes("nodes", nodes, list(sim.nodes)))
    label = _short if text is None else text
    return {index: str(label(e)) for index, e in enumerate(sim.trace)
            if ((e.kind == "custom" and e.type in wanted) or (e.kind in _FAULT_KINDS and e.kind in wanted))
            and (keep is None or e.node in keep)}


def mark_cut_off(ax: Any, node: Any, start: float, end: float, *, text: str | None = None) -> None:
    """Shade lane ``node`` of a space-time diagram from ``start`` to ``end`` and say it is cut off.

    The partition's background shading says *when* the network was split; this
    says *who* was on the other side. ``text`` is the note written on the lane
    (default ``"<node> cut off"``; ``""`` for none). Works on any picture whose
    y tick labels are node ids (``space_time``, ``leader_timeline``).

    Raises:
        InvalidArgument: ``node`` is not a lane of ``ax``, or ``end`` is not after ``start``.
    """
    check_axes(ax)
    if ax is None:
        raise InvalidArgumentType("ax=None: pass the Axes that space_time returned")
    check_window(start, end)
    if end <= start:
        raise InvalidArgument(f"end={end!r} must be after start={start!r}")
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    if str(node) not in lanes:
        raise InvalidArgument(f"node={node!r} is not a lane of ax; lanes are {lanes}")
    y = lanes.index(str(node))
    lo, hi = ax.get_xlim()
    a, b = max(start, lo), min(end, hi)
    ax.fill_between([a, b], y - 0.3, y + 0.3, color="#d62728", alpha=0.12, lw=0, zorder=1)
    text = f"{node} cut off" if text is None else text
    if text:
        ax.text(a + 0.01 * (hi - lo), y + 0.3, text, color="#a31515", fontsize=8, va="bottom", ha="left",
                zorder=6, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))


def ballot_timeline(sim: Any, *, proposers: Sequence[Any] | None = None, start: float | None = None,
                    end: float | None = None, gst: float | None = None, ax: Any = None,
                    title: str | None = None) -> Any:
    """Draw each Paxos proposer's rounds as bars on its own lane; return the ``Axes``.

    A round runs from its ``prepare`` to the proposer's next round: light while
    it collects promises (phase 1), dark once it sent ``accept`` (phase 2),
    labelled with its ballot's round number. A star marks when the proposer
    learned the chosen value. ``gst`` draws a dashed line at the global
    stabilisation time of a partially synchronous run.

    Args:
        sim: a finished run of :class:`~course_lib.topics.agreement.paxos.PaxosNode`.
        proposers: lanes, top to bottom (default: every node that started a round).
        start, end: the time window (default: the whole run).

    Raises:
        InvalidArgument: ``end`` is not after ``start``, or a lane is not a node of the run.
        InvalidArgumentType: ``sim`` is not a Simulation, or another argument has the wrong type.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from ...sim import Simulation

    check_type("sim", sim, Simulation)
    check_window(start, end)
    check_axes(ax)
    if gst is not None:
        check_number("gst", gst, what="a time or None")
    if title is not None:
        check_type("title", title, str, what="a str or None")
    prepares = sim.trace.custom("prepare")
    if proposers is None:
        proposers = list(dict.fromkeys(e.node for e in prepares))
    proposers = check_lanes("proposers", proposers, list(sim.nodes)) if proposers else []
    lane = {n: i for i, n in enumerate(proposers)}
    lo = 0.0 if start is None else float(start)
    hi = float(sim.now) if end is None else float(end)
    if hi <= lo:
        raise InvalidArgument(f"end={end!r} must be after start={start!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.6 * len(proposers) + 1.5))
    learned = {e.node: e.time for e in sim.trace.custom("learned")}
    accepts = {(e.node, e.info["ballot"]): e.time for e in sim.trace.custom("accept")}
    rounds: dict = {n: [] for n in proposers}
    for e in prepares:
        if e.node in lane:
            rounds[e.node].append((e.time, e.info["ballot"]))
    for n, mine in rounds.items():
        for k, (t0, ballot) in enumerate(mine):
            t1 = mine[k + 1][0] if k + 1 < len(mine) else min(learned.get(n, hi), hi)
            if t1 < lo or t0 > hi:
                continue
            t2 = accepts.get((n, ballot))
            ax.barh(lane[n], t1 - t0, left=t0, height=0.55, color="#c6dbef", edgecolor="black", lw=0.5,
                    zorder=3)
            if t2 is not None and t2 < t1:
                ax.barh(lane[n], t1 - t2, left=t2, height=0.55, color="#3182bd", edgecolor="black",
                        lw=0.5, zorder=3)
            if (t1 - t0) > (hi - lo) / 60 and lo <= t0 + 0.05 * (t1 - t0) <= hi:
                ax.text(t0 + 0.05 * (t1 - t0), lane[n], str(ballot[0]), ha="left", va="center",
                        fontsize=8, zorder=5)
        if n in learned and lo <= learned[n] <= hi:
            ax.plot([learned[n]], [lane[n]], marker="*", ms=13, color="#2ca02c", mec="black", mew=0.6,
                    zorder=6)
    handles = [Patch(color="#c6dbef", label="phase 1: collecting promises"),
               Patch(color="#3182bd", label="phase 2: accept sent")]
    if any(n in learned and lo <= learned[n] <= hi for n in proposers):
        from matplotlib.lines import Line2D
        handles.append(Line2D([0], [0], marker="*", color="#2ca02c", mec="black", lw=0, ms=10,
                              label="learned the chosen value"))
    if gst is not None and lo <= gst <= hi:
        ax.axvline(gst, color="black", ls="--", lw=1.0, zorder=2)
        ax.text(gst, -0.45, " GST", fontsize=8, va="top", ha="left")
        ax.axvspan(lo, gst, color="#f4cccc", alpha=0.4, zorder=0, lw=0)
        handles.append(Patch(color="#f4cccc", label="before GST: no bound on delays"))
    ax.set_yticks(range(len(proposers)))
    ax.set_yticklabels([f"proposer {n}" for n in proposers])
    ax.set_ylim(len(proposers) - 0.5, -0.5)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("simulated time (bar label: the ballot's round)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return ax
