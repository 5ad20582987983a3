"""Space-time (Lamport) diagrams: one lane per node, an arrow per message.

The course's signature picture. Time runs left to right; each node is a
horizontal lane; a message is an arrow from the sender's lane at the send time
to the receiver's lane at the delivery time. Lost messages end in a red cross,
crashed intervals are hatched on the lane, partitions shade the background.
"""

from __future__ import annotations

from statistics import median
from typing import Any, Iterable, Mapping, Sequence

from ..sim.trace import Trace
from ..sim.validation import InvalidArgument, InvalidArgumentType, check_ids, check_number, check_type

_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f", "#d62728"]


#: Node-level fault events that ``annotate`` can mark by kind, like custom events by name.
_NODE_FAULTS = ("pause", "resume", "clock_jump")


def check_window(start: Any, end: Any) -> None:
    """Check a picture's ``start`` and ``end`` times: each None or a finite number."""
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            check_number(name, value, what="a time or None")


def check_axes(ax: Any) -> None:
    """Check that ``ax`` is None or a matplotlib Axes."""
    if ax is not None and not (hasattr(ax, "plot") and hasattr(ax, "set_xlim")):
        raise InvalidArgumentType(f"ax={ax!r} must be a matplotlib Axes or None")


def check_names(name: str, value: Any) -> list:
    """Return ``value`` as a list of names: an iterable of them, not a single str."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgumentType(f"{name}={value!r} must be a list of names such as [{value!r}]"
                                  if isinstance(value, str) else
                                  f"{name}={value!r} must be a list of names")
    return list(value)


def check_lanes(name: str, nodes: Any, known: Sequence[Any] | None) -> list:
    """Return the lanes to draw: ids without repeats, each one of ``known`` (when given)."""
    nodes = check_ids(name, nodes)
    if known is not None:
        for node in nodes:
            if node not in known:
                raise InvalidArgument(f"{name} holds {node!r}, which is not a node of the run; "
                                      f"nodes are {list(known)}")
    return nodes


#: The size of annotate= labels, in points, and the longest label drawn whole.
LABEL_SIZE = 9
LABEL_CHARS = 24


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _label(event: Any) -> str:
    """A short label for a custom event: ``key=value`` for writes, else its name and its values.

    ``decide`` with ``txid="t1", outcome="commit"`` reads ``decide t1 commit``; labels
    longer than :data:`LABEL_CHARS` end in an ellipsis.
    """
    info = event.info
    if event.kind in _NODE_FAULTS:
        return event.kind
    if isinstance(info, dict) and set(info) == {"key", "value"}:
        text = f"{info['key']}={_value(info['value'])}"
    elif isinstance(info, dict):
        text = " ".join([str(event.type), *(_value(v) for v in info.values())])
    else:
        text = str(event.type)
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "\u2026"


class _LabelPlacer:
    """Place annotate= labels when the figure is drawn, once the axes have their final size.

    Each label is horizontal, beside its dot (right or left, above or below the
    lane, then a little further out with a leader line), inside the axes and clear
    of the other labels, the title, the ``labels=`` texts and the annotated dots.
    A label with no free place is left out, and a note in the corner says how
    many were and how to zoom in.
    """

    GAP = 4.0   # points between a dot (radius 3) and its label

    def __init__(self, ax: Any, items: list, fixed: list, note: Any, points: list = ()) -> None:
        self.ax, self.items, self.fixed, self.note, self.points = ax, items, fixed, note, list(points)

    def place(self, renderer: Any) -> None:
        ax = self.ax
        px = renderer.points_to_pixels(1.0)
        frame = ax.get_window_extent(renderer)
        inside = (frame.x0 + px, frame.y0 + px, frame.x1 - px, frame.y1 - px)
        taken = [tuple(t.get_window_extent(renderer).extents) for t in [ax.title, *self.fixed] if t.get_text()]
        anchors = [tuple(ax.transData.transform((x, y))) for _, x, y in self.items]
        r = 3.0 * px
        others = [tuple(ax.transData.transform(p)) for p in self.points]
        taken += [(a - r, b - r, a + r, b + r) for a, b in [*anchors, *others]]
        lane_px = abs(ax.transData.transform((0, 1))[1] - ax.transData.transform((0, 0))[1]) or frame.height
        sizes = []
        for ann, _, _ in self.items:   # each label's size, without its leader line
            ann.arrow_patch.set_visible(False)
            box = ann.get_window_extent(renderer)
            sizes.append((box.width + 2 * px, box.height + 2 * px))
        self.note.set_text("")
        hidden = self._place_all(anchors, sizes, inside, list(taken), lane_px, px)
        if hidden:  # again, clear of the note that says so
            self.note.set_text("99 labels left out: zoom in (start=, end=)")
            note = tuple(self.note.get_window_extent(renderer).extents)
            hidden = self._place_all(anchors, sizes, inside, [*taken, note], lane_px, px)
            self.note.set_text(f"{hidden} label{'s' if hidden > 1 else ''} left out: zoom in (start=, end=)")

    def _place_all(self, anchors: list, sizes: list, inside: tuple, boxes: list, lane_px: float,
                   px: float) -> int:
        hidden = 0
        for (ann, _, _), (a, b), (w, h) in zip(self.items, anchors, sizes):
            spot = self._spot(a, b, w, h, inside, boxes, lane_px, px)
            if spot is None:
                ann.set_visible(False)
                hidden += 1
                continue
            dx, dy, far = spot
            ann.set_visible(True)
            ann.xyann = ((dx + px) / px, (dy + px) / px)   # the text sits 1 px inside its box
            ann.arrow_patch.set_visible(far)
            boxes.append((a + dx, b + dy, a + dx + w, b + dy + h))
        return hidden

    def _spot(self, a: float, b: float, w: float, h: float, inside: tuple, boxes: list, lane_px: float,
              px: float) -> tuple | None:
        g = self.GAP * px
        x0, y0, x1, y1 = inside
        near = [box for box in boxes   # only boxes within reach of this label's candidate places
                if box[0] < a + g + w and box[2] > a - g - w and box[1] < b + lane_px and box[3] > b - lane_px]
        for k in range(4):
            lift = g + k * (h + px)
            if k and lift + h > 0.95 * lane_px:
                break
            for dy in (lift, -lift - h):
                for dx in ((g, -g - w) if k == 0 else (g, -g - w, -w / 2)):
                    bx0, by0 = a + dx, b + dy
                    bx1, by1 = bx0 + w, by0 + h
                    if bx0 < x0 or bx1 > x1 or by0 < y0 or by1 > y1:
                        continue
                    if any(bx0 < c2 and c0 < bx1 and by0 < c3 and c1 < by1 for c0, c1, c2, c3 in near):
                        continue
                    return dx, dy, k > 0
        return None


def _placer_artist(placer: _LabelPlacer) -> Any:
    """An invisible artist, drawn before the labels, that places them (see :class:`_LabelPlacer`)."""
    from matplotlib.artist import Artist

    class Placer(Artist):
        def draw(self, renderer: Any) -> None:
            placer.place(renderer)

    artist = Placer()
    artist.set_zorder(-100)
    artist.set_in_layout(False)
    return artist


def _check_index(name: str, index: Any, count: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise InvalidArgument(f"{name} names event {index!r}, which is not a trace index in "
                              f"[0, {count})")


def shade_partitions(ax: Any, trace: Trace, lo: float, hi: float) -> list[tuple[float, float]]:
    """Shade the background of ``ax`` wherever the network was partitioned; return the spans."""
    check_type("trace", trace, Trace)
    spans = trace.partition_spans(end=hi)
    for a, b in spans:
        ax.axvspan(max(a, lo), min(b, hi), color="#f4cccc", alpha=0.5, zorder=0, lw=0)
    return spans


def space_time(source: Any, *, nodes: Sequence[Any] | None = None, start: float | None = None,
               end: float | None = None, types: Iterable[str] | None = None,
               annotate: Iterable[str] = (), ax: Any = None, title: str | None = None,
               legend: bool = True, labels: Mapping[int, str] | None = None,
               highlight: Iterable[tuple[int, int]] = (), highlight_label: str = "concurrent",
               mark: int | None = None) -> Any:
    """Draw the space-time diagram of a run and return the matplotlib ``Axes``.

    Args:
        source: a :class:`~course_lib.sim.Simulation` or its :class:`~course_lib.sim.Trace`.
        nodes: lanes to draw, top to bottom (default: every node, in order added).
        start, end: the time window (default: the whole run).
        types: only draw messages of these types.
        annotate: names of custom events (``node.record(name, ...)``) to mark with a dot,
            and the fault kinds ``"pause"``, ``"resume"``, ``"clock_jump"``.
        ax: draw into this Axes instead of a new figure.
        title: the figure title.
        legend: show the legend of message types.
        labels: text to write beside events, by trace index (``sim.trace[i]``),
            such as each event's timestamp.
        highlight: pairs of trace indices to ring and join with a dotted line,
            such as concurrent events.
        highlight_label: what the legend calls the highlighted pairs.
        mark: the trace index of the failing event: a red star on its lane and a
            dashed red line at its time (what a failure's ``.draw()`` passes).

    Example:
        >>> from course_lib.sim import Simulation, Node
        >>> sim = Simulation(seed=1)
        >>> _ = sim.add_nodes(Node, ["a", "b"])
        >>> sim.run(until=1)
        >>> space_time(sim).get_xlabel()
        'simulated time'

    Raises:
        InvalidArgument: ``end`` is not after ``start``, a lane is not a node of
            the run, or a label or highlight names no event of the trace.
        InvalidArgumentType: an argument has the wrong type, such as a single
            str for ``nodes``, ``types`` or ``annotate`` (which take lists).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    trace = Trace.of(source)
    events = trace.events
    check_window(start, end)
    check_axes(ax)
    if title is not None:
        check_type("title", title, str, what="a str or None")
    check_type("legend", legend, bool, what="True or False")
    check_type("highlight_label", highlight_label, str, what="a str naming the highlighted pairs")
    if types is not None:
        types = check_names("types", types)
    annotate = check_names("annotate", annotate)
    if labels is not None:
        if not isinstance(labels, Mapping):
            raise InvalidArgumentType(f"labels={labels!r} must be a dict {{trace index: text}}")
        for index in labels:
            _check_index("labels", index, len(events))
    if isinstance(highlight, (str, bytes)) or not isinstance(highlight, Iterable):
        raise InvalidArgumentType(f"highlight={highlight!r} must be a list of pairs of trace indices")
    pairs = []
    for pair in highlight:
        both = tuple(pair) if isinstance(pair, Iterable) and not isinstance(pair, (str, bytes)) else ()
        if len(both) != 2:
            raise InvalidArgumentType(f"highlight holds {pair!r}; it must be a list of pairs of trace "
                                      "indices, such as [(3, 7)]")
        for index in both:
            _check_index("highlight", index, len(events))
        pairs.append(both)
    if mark is not None:
        _check_index("mark", mark, len(events))
    if nodes is not None:
        sim_nodes = getattr(source, "nodes", None)
        known = list(sim_nodes) if isinstance(sim_nodes, (Mapping, list, tuple)) else None
        nodes = check_lanes("nodes", nodes, known)
    if nodes is None:
        sim_nodes = getattr(source, "nodes", None)
        if sim_nodes:
            nodes = list(sim_nodes)
        else:
            seen: dict[Any, None] = {}
            for e in events:
                if e.node is not None:
                    seen.setdefault(e.node, None)
            nodes = list(seen)
    nodes = list(nodes)
    lane = {n: i for i, n in enumerate(nodes)}
    t_end = max([e.time for e in events], default=1.0)
    lo = 0.0 if start is None else float(start)
    if end is not None:
        hi = float(end)
    else:  # a simulation knows how far it ran; a bare trace only its last event
        hi = max(float(getattr(source, "now", 0.0) or 0.0), t_end) or 1.0
    if hi <= lo:
        raise InvalidArgument(f"end={end!r} must be after start={start!r}")
    wanted = None if types is None else set(types)
    annotate = list(annotate)

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.7 * len(nodes) + 1.6))
    sends: dict[int, Any] = {}
    colors: dict[str, str] = {}
    latencies: list[float] = []
    for e in events:
        if e.kind == "send":
            sends[e.id] = e
        elif e.kind == "deliver" and e.id in sends:
            latencies.append(e.time - sends[e.id].time)
    stub = median(latencies) if latencies else (hi - lo) / 40

    def color(t: str) -> str:
        if t not in colors:
            colors[t] = _PALETTE[len(colors) % len(_PALETTE)]
        return colors[t]

    def visible(e_send: Any) -> bool:
        return (e_send.node in lane and e_send.peer in lane
                and (wanted is None or e_send.type in wanted))

    spans = shade_partitions(ax, trace, lo, hi)

    # crashes: hatch the lane between crash and restart
    down: dict[Any, float] = {}
    for e in events:
        if e.kind == "crash":
            down[e.node] = e.time
        elif e.kind == "restart" and e.node in down:
            t0 = down.pop(e.node)
            if e.node in lane:
                ax.fill_between([t0, e.time], lane[e.node] - 0.18, lane[e.node] + 0.18,
                                color="#999999", alpha=0.5, hatch="///", lw=0, zorder=1)
    for n, t0 in down.items():
        if n in lane:
            ax.fill_between([t0, hi], lane[n] - 0.18, lane[n] + 0.18,
                            color="#999999", alpha=0.5, hatch="///", lw=0, zorder=1)

    for i, _ in enumerate(nodes):
        ax.axhline(i, color="black", lw=1.0, zorder=2)

    arrow = dict(arrowstyle="-|>", lw=0.9, shrinkA=0, shrinkB=0, mutation_scale=8)
    notes: list = []
    crosses: list = []   # where lost messages end: annotate= labels keep clear of them
    for e in events:
        if e.kind == "deliver":
            s = sends.get(e.id)
            if s is None or not visible(s) or e.time < lo or s.time > hi:
                continue
            ax.annotate("", xy=(e.time, lane[e.node]), xytext=(s.time, lane[s.node]),
                        arrowprops=dict(arrow, color=color(s.type), alpha=0.85), zorder=3)
        elif e.kind == "drop":
            s = sends.get(e.id)
            if s is None or not visible(s) or e.time < lo or s.time > hi:
                continue
            y0, y1 = lane[s.node], lane[s.peer]
            if e.time > s.time:  # lost on arrival (crashed receiver, partition in flight)
                x1, y_end = e.time, y1 - 0.12 * (1 if y1 > y0 else -1)
            else:  # lost on the wire: dashed to where it would have arrived
                x1, y_end = s.time + stub, y1
            ax.plot([s.time, x1], [y0, y_end], ls="--", lw=0.9, color=color(s.type), alpha=0.7, zorder=3)
            ax.plot([x1], [y_end], marker="x", color="#d62728", ms=7, mew=2, zorder=4)
            crosses.append((x1, y_end))
        elif ((e.kind == "custom" and e.type in annotate) or (e.kind in _NODE_FAULTS and e.kind in annotate)) \
                and e.node in lane and lo <= e.time <= hi:
            ax.plot([e.time], [lane[e.node]], marker="o", ms=6, color="black", zorder=5)
            note = ax.annotate(_label(e), (e.time, lane[e.node]), xytext=(_LabelPlacer.GAP, _LabelPlacer.GAP),
                               textcoords="offset points", fontsize=LABEL_SIZE, ha="left", va="bottom", zorder=6,
                               bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.85),
                               arrowprops=dict(arrowstyle="-", color="#555555", lw=0.6, shrinkA=0, shrinkB=3))
            note.set_in_layout(False)
            notes.append((note, e.time, lane[e.node]))

    fixed = []
    placed: dict[Any, int] = {}
    for index, text in (labels or {}).items():
        e = events[index]
        if e.node not in lane or not lo <= e.time <= hi:
            continue
        k = placed[e.node] = placed.get(e.node, -1) + 1  # alternate above and below the lane
        ax.plot([e.time], [lane[e.node]], marker="o", ms=3.5, color="black", zorder=5)
        fixed.append(ax.annotate(str(text), (e.time, lane[e.node]), xytext=(2, 6 if k % 2 == 0 else -11),
                                 textcoords="offset points", fontsize=7, zorder=6,
                                 bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8)))
    if notes:
        corner = ax.text(0.995, 0.01, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                         color="#666666", zorder=7)
        corner.set_in_layout(False)
        ax.add_artist(_placer_artist(_LabelPlacer(ax, sorted(notes, key=lambda n: n[1]), fixed, corner, crosses)))
    for a, b in pairs:
        ea, eb = events[a], events[b]
        if ea.node not in lane or eb.node not in lane:
            continue
        ax.plot([ea.time, eb.time], [lane[ea.node], lane[eb.node]], ls=":", lw=1.2,
                color="#d62728", alpha=0.6, zorder=4)
        ax.plot([ea.time, eb.time], [lane[ea.node], lane[eb.node]], ls="", marker="o", ms=11,
                mfc="none", mec="#d62728", mew=1.6, zorder=6)

    if mark is not None:
        failed = events[mark]
        ax.axvline(failed.time, color="#d62728", ls="--", lw=1.0, alpha=0.8, zorder=2)
        if failed.node in lane:
            ax.plot([failed.time], [lane[failed.node]], marker="*", ms=15, color="#d62728",
                    mec="black", mew=0.6, zorder=7)

    ax.set_yticks(range(len(nodes)))
    ax.set_yticklabels([str(n) for n in nodes])
    ax.set_ylim(len(nodes) - 0.5, -0.5)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("simulated time")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    if legend:
        handles = [Line2D([0], [0], color=c, lw=1.5, label=t) for t, c in colors.items()]
        if any(e.kind == "drop" for e in events):
            handles.append(Line2D([0], [0], marker="x", color="#d62728", lw=0, mew=2, label="lost"))
        if spans:
            handles.append(Patch(color="#f4cccc", label="partition"))
        if any(e.kind == "crash" for e in events):
            handles.append(Patch(color="#999999", hatch="///", label="crashed"))
        if pairs:
            handles.append(Line2D([0], [0], marker="o", ls=":", color="#d62728", mfc="none",
                                  label=highlight_label))
        if mark is not None:
            handles.append(Line2D([0], [0], marker="*", ls="--", color="#d62728", mec="black",
                                  mew=0.6, ms=10, label="failing event"))
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                      frameon=False)
    return ax
