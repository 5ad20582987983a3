"""Pictures of Raft runs: each server's role and term over time, logs as rows coloured by term, failures.

They read only what any Raft node exposes: the ``"role"`` custom events that
:class:`course_lib.topics.raft.RaftBase`'s verbs record (``role``, ``term``), the
crash and restart events of the trace, and each node's ``log`` (a list of
``(term, command)`` pairs) and ``commit_index``. :func:`failure_picture` puts the
three together for a failed run: what ``.draw()`` shows for every failure of a
Raft simulation made by the chapter's harness and scenarios.
"""

from __future__ import annotations

from typing import Any, Sequence

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_int, check_number, check_type
from ...viz.failure import failure_diagram, failure_time, failure_title
from ...viz.spacetime import check_axes, check_lanes, check_window

ROLE_COLORS = {"follower": "#c7d3e0", "candidate": "#f2a33a", "leader": "#2ca02c"}
_TERM_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#17becf", "#bcbd22", "#7f7f7f"]


def term_color(term: int) -> str:
    """The colour of ``term`` in every Raft picture (terms cycle through ten colours; 0 is grey)."""
    if term.__class__ is not int:
        check_int("term", term)
    return _TERM_COLORS[(term - 1) % len(_TERM_COLORS)] if term > 0 else "#dddddd"


def _check_sim(sim: Any) -> None:
    """A Simulation, or anything that reads like one here: a ``trace``, ``nodes`` and ``now``."""
    from ...sim import Trace

    if not (isinstance(getattr(sim, "trace", None), Trace) and hasattr(sim, "nodes")
            and hasattr(sim, "now")):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation (or an object with its trace, "
                                  "nodes and now)")


def role_spans(sim: Any) -> dict[Any, list[tuple[float, float, str, int]]]:
    """Each node's ``(start, end, role, term)`` intervals; role ``"down"`` while crashed.

    Example:
        >>> from course_lib.sim import Simulation, Node
        >>> sim = Simulation(seed=1)
        >>> _ = sim.add_nodes(Node, ["a"])
        >>> sim.run(until=5)
        >>> role_spans(sim)
        {'a': [(0.0, 5, 'follower', 0)]}
    """
    _check_sim(sim)
    end = sim.now
    current: dict[Any, tuple[float, str, int]] = {n: (0.0, "follower", 0) for n in sim.nodes}
    spans: dict[Any, list] = {n: [] for n in sim.nodes}
    for row in sim.trace:
        time, kind, node = row[0], row[1], row[2]
        if node not in current:
            continue
        if kind == "custom" and row[4] == "role":
            info = row[6] or {}
            state = (info.get("role", "follower"), info.get("term", 0))
        elif kind == "crash":
            state = ("down", current[node][2])
        elif kind == "restart":
            state = ("follower", current[node][2])
        else:
            continue
        t0, role, term = current[node]
        if time > t0:
            spans[node].append((t0, time, role, term))
        current[node] = (time, *state)
    for node, (t0, role, term) in current.items():
        if end > t0:
            spans[node].append((t0, end, role, term))
    return spans


def role_timeline(sim: Any, *, nodes: Sequence[Any] | None = None, ax: Any = None,
                  title: str | None = None, start: float | None = None, end: float | None = None) -> Any:
    """Draw one lane per server: its role over time (colour) and its term (number); return the Axes.

    Crashed intervals are black; partitions shade the background, as in
    :func:`course_lib.viz.space_time`.

    Raises:
        InvalidArgument: ``end`` is not after ``start``, or a lane is not a node of ``sim``.
        InvalidArgumentType: an argument has the wrong type (named in the message).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    _check_sim(sim)
    check_window(start, end)
    check_axes(ax)
    if title is not None:
        check_type("title", title, str, what="a str or None")
    spans = role_spans(sim)
    nodes = check_lanes("nodes", nodes, list(spans)) if nodes is not None else list(spans)
    lo = 0.0 if start is None else float(start)
    hi = float(sim.now if end is None else end) or 1.0
    if hi <= lo:
        raise InvalidArgument(f"end={end!r} must be after start={start!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.55 * len(nodes) + 1.4))
    for t0, t1 in sim.trace.partition_spans(hi):
        if t1 > lo and t0 < hi:
            ax.axvspan(max(t0, lo), min(t1, hi), color="#f4cccc", alpha=0.5, lw=0, zorder=0)
    for lane, node in enumerate(nodes):
        y = len(nodes) - 1 - lane
        for t0, t1, role, term in spans.get(node, []):
            if t1 <= lo or t0 >= hi:
                continue
            a, b = max(t0, lo), min(t1, hi)
            color = "#222222" if role == "down" else ROLE_COLORS.get(role, "#cccccc")
            ax.broken_barh([(a, b - a)], (y - 0.35, 0.7), facecolors=color, edgecolor="white", lw=0.5)
            if role != "down" and (b - a) > (hi - lo) / 60:
                ax.text((a + b) / 2, y, str(term), ha="center", va="center", fontsize=7,
                        color="white" if role == "leader" else "#333333")
    ax.set_yticks(range(len(nodes)))
    ax.set_yticklabels([str(n) for n in reversed(nodes)])
    ax.set_xlim(lo, hi)
    ax.set_xlabel("simulated time (numbers: each server's term)")
    handles = [Patch(color=c, label=r) for r, c in ROLE_COLORS.items()]
    handles.append(Patch(color="#222222", label="crashed"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def log_rows(nodes: Any, *, ax: Any = None, title: str | None = None, last: int | None = None) -> Any:
    """Draw each server's log as a row of cells coloured by term; a bar marks its commit index.

    Args:
        nodes: a Simulation, or a list of nodes.
        last: draw indices up to this one (default: the longest log).

    Raises:
        InvalidArgumentType: ``nodes`` is neither a Simulation nor a list of
            nodes (objects with an ``id``), or ``last`` is not an int >= 1.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if hasattr(nodes, "nodes") and not isinstance(nodes, (list, tuple)):
        nodes = list(nodes.nodes.values())
    if isinstance(nodes, (str, bytes)) or not hasattr(nodes, "__iter__"):
        raise InvalidArgumentType(f"nodes={nodes!r} must be a Simulation or a list of nodes")
    nodes = list(nodes)
    for node in nodes:
        if not hasattr(node, "id"):
            raise InvalidArgumentType(f"nodes holds {node!r}, which is not a node (pass the nodes, "
                                      "e.g. cluster.nodes, not their ids)")
    if last is not None:
        check_int("last", last, low=1)
    check_axes(ax)
    if title is not None:
        check_type("title", title, str, what="a str or None")
    width = max([len(getattr(n, "log", [])) for n in nodes] + [1]) if last is None else last
    if ax is None:
        _, ax = plt.subplots(figsize=(min(0.45 * width + 2, 14), 0.5 * len(nodes) + 1))
    for lane, node in enumerate(nodes):
        y = len(nodes) - 1 - lane
        full = getattr(node, "log", [])
        # A compacted log (RaftLog) holds only the entries after its snapshot: draw them at their
        # own indices, after a block that stands for the snapshot.
        base = min(getattr(full, "snapshot_index", 0), width)
        if base:
            ax.add_patch(Rectangle((0.05, y - 0.4), base - 0.1, 0.8, facecolor="#dddddd", edgecolor="#999999",
                                   hatch="//"))
            ax.text(base / 2, y, f"snapshot 1..{base}", ha="center", va="center", fontsize=8)
        for i, entry in enumerate(list(full)[:width - base], start=base):
            term = entry[0]
            ax.add_patch(Rectangle((i + 0.05, y - 0.4), 0.9, 0.8, color=term_color(term)))
            if width <= 40:
                ax.text(i + 0.5, y, str(term), ha="center", va="center", color="white", fontsize=8)
        commit = getattr(node, "commit_index", 0)
        if commit:
            ax.plot([commit, commit], [y - 0.48, y + 0.48], color="black", lw=2)
        if getattr(node, "crashed", False):
            ax.text(width + 0.3, y, "crashed", va="center", fontsize=8, color="#666666")
        elif getattr(node, "role", None) == "leader":
            ax.text(width + 0.3, y, f"leader, term {node.current_term}", va="center", fontsize=8)
    ax.set_xlim(0, width + 3)
    ax.set_ylim(-0.6, len(nodes) - 0.4)
    ax.set_yticks(range(len(nodes)))
    ax.set_yticklabels([str(n.id) for n in reversed(nodes)])
    # As many index labels as fit side by side (about a third of an inch each): every 1st, 2nd, 5th, 10th...
    inches = ax.get_position().width * ax.figure.get_figwidth()
    fit = max(1, int(inches / 0.3 * width / (width + 3)))
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10 ** 9) if width / s <= fit)
    ticks = [*([0] if step >= 5 else []), *range(step - 1, width, step)]
    ax.set_xticks([i + 0.5 for i in ticks])
    ax.set_xticklabels([str(i + 1) for i in ticks])
    ax.set_xlabel("log index (colour and number: the entry's term; black bar: commit index)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


#: How much simulated time before a failure its picture's space-time diagram shows by default.
FAILURE_WINDOW = 300.0


def failure_picture(sim: Any, error: BaseException, *, mark: int | None = None,
                    window: float = FAILURE_WINDOW, **options: Any) -> Any:
    """Draw a failed Raft run: roles over time, the messages before the failure, the logs then.

    Three panels: :func:`role_timeline` of the whole run with the failing moment
    marked; the space-time diagram of the last ``window`` time units with the
    failing event marked (the star); and :func:`log_rows` as the logs stood at
    the failing moment (the run stopped there). Returns the space-time diagram's Axes.

    Args:
        sim: the failed run's simulation.
        error: the failure (an invariant violation, a handler's error, a failed check).
        mark: the trace index of the failing event, or None.
        window: how much time before the failure the diagram shows.
        options: passed to the space-time diagram (``start``, ``end``, ``types``, ``nodes``, ...).

    Raises:
        InvalidArgumentType: ``sim`` is not a Simulation, or ``window`` is not a number.
        InvalidArgument: ``window`` is not positive.
    """
    import matplotlib.pyplot as plt

    _check_sim(sim)
    check_number("window", window, low=0, low_open=True, what="a positive time")
    when = failure_time(error, sim, mark)
    n = len(sim.nodes)
    fig, (roles, diagram, logs) = plt.subplots(
        3, 1, figsize=(11, 3.6 + 1.6 * n), gridspec_kw={"height_ratios": [0.6 * n + 0.8, n + 1, 0.6 * n + 0.6]})
    fig.suptitle(failure_title(error), fontsize=10, color="#d62728")
    role_timeline(sim, ax=roles, title="roles and terms (the dashed line: the failure)")
    roles.axvline(when, color="#d62728", ls="--", lw=1.2)
    options.setdefault("start", max(0.0, when - window))
    options.setdefault("end", max(when + 0.02 * window, options["start"] + 1.0))
    options.setdefault("title", f"messages from t={options['start']:g} to the failure" + (
        " (the star: the failing event)" if mark is not None else " (checked when the run stopped)"))
    ax = failure_diagram(sim, error, mark, ax=diagram, **options)
    log_rows(sim, ax=logs, title=f"the logs at t={when:g}, when it failed (black bar: commit index)")
    fig.tight_layout()
    return ax
