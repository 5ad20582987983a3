"""The lecture's "crash a server, cut the leader off" explorer: twelve recorded runs and their picture.

Each run (:func:`explore_run`) has five servers and a :class:`~course_lib.topics.raft.client.LeaderClient`
submitting a command every 80 units to the highest-term leader. At time 600
one server crashes (``crash``; it restarts at 1400) and, with ``cut``, the
leader of the moment is cut off from the other servers (until 1600). The
recorder (``tools/record_raft_traces.py``) runs the reference Raft through the
twelve combinations into ``data/raft_traces/grid.json``; :func:`draw_explore`
draws one of them at a chosen time, and :func:`outage_table` sums them up.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...sim.validation import InvalidArgument, InvalidArgumentType, check_choice, check_number, check_type
from .client import LeaderClient, outage
from .recorded import as_run, as_servers, make_record, snapshot

__all__ = ["CRASH_CHOICES", "FAULT_AT", "RESTART_AT", "RECONNECT_AT", "GRID_END", "GRID_STEP", "explore_run",
           "grid_key", "draw_explore", "outage_table"]

CRASH_CHOICES = ("nobody", "s1", "s2", "s3", "s4", "s5")
FAULT_AT, RESTART_AT, RECONNECT_AT = 600.0, 1400.0, 1600.0
GRID_END = 2400.0
GRID_STEP = 100.0


def grid_key(crash: str, cut: bool) -> str:
    """The key of a run in ``grid["runs"]``: ``"s2/1"`` for crash s2, cut the leader."""
    check_choice("crash", crash, CRASH_CHOICES)
    check_type("cut", cut, bool, what="True or False")
    return f"{crash}/{int(cut)}"


def explore_run(cls: type, crash: str, cut: bool, seed: Any = "2024/grid") -> dict:
    """Run five servers of ``cls`` with a client, crash ``crash`` and maybe cut the leader off; return the record.

    Snapshots of the logs are taken every 100 units, just before that moment's faults.

    Raises:
        InvalidArgument: ``crash`` is not one of :data:`CRASH_CHOICES`.
        InvalidArgumentType: ``cut`` is not a bool, or ``cls`` is not a Raft class.
    """
    from .harness import RaftCluster

    grid_key(crash, cut)
    c = RaftCluster(cls, 5, seed=seed)
    client = LeaderClient(c, every=80.0)
    snaps, events = [], []
    while c.now < GRID_END - 1e-9:
        t = c.now
        snaps.append(snapshot(c))
        if t == FAULT_AT:
            if cut:
                victim = client.leader()
                if victim is not None:
                    c.disconnect(victim)
                    events.append([FAULT_AT, f"cut off leader {victim}"])
            if crash != "nobody":
                c.crash(crash)
                events.append([FAULT_AT, f"crash {crash}"])
        if t == RESTART_AT and crash != "nobody":
            c.restart(crash)
            events.append([RESTART_AT, f"restart {crash}"])
        if t == RECONNECT_AT and cut:
            for i in sorted(c.disconnected):
                c.connect(i)
            events.append([RECONNECT_AT, "reconnect"])
        c.run(GRID_STEP)
    snaps.append(snapshot(c))
    rec = make_record(c, f"crash {crash}, cut leader {cut}", snapshots=snaps, events=events,
                      commands=client.table())
    rec["applied"] = {i: sum(1 for e in c.sim.trace.custom("apply") if e.node == i) for i in c.ids}
    return rec


def _grid_run(grid: Any, crash: str, cut: bool) -> dict:
    if not (isinstance(grid, Mapping) and isinstance(grid.get("runs"), Mapping)):
        raise InvalidArgumentType("grid must be the recorded grid of runs, load_record('grid')")
    key = grid_key(crash, cut)
    if key not in grid["runs"]:
        raise InvalidArgument(f"crash={crash!r}, cut={cut!r}: no such run in the grid")
    return grid["runs"][key]


def draw_explore(grid: Mapping, crash: str = "s2", cut: bool = True, t: float = 1500.0) -> Any:
    """Draw one run of the grid: roles and the client's commands over time, and the logs at time ``t``.

    Top: :func:`~course_lib.topics.raft.role_timeline` with a "client" lane above
    the servers, a dot per command at its submission time, filled if it committed
    and a red cross if it was lost; a dashed line at ``t``. Bottom: the logs
    at ``t`` (:func:`~course_lib.topics.raft.log_rows`). Returns the figure.

    Raises:
        InvalidArgument: ``crash`` is not one of :data:`CRASH_CHOICES`, or ``t`` is outside the run.
        InvalidArgumentType: ``grid`` is not the recorded grid, ``cut`` not a bool.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from .pictures import log_rows, role_timeline

    rec = _grid_run(grid, crash, cut)
    check_number("t", t, low=0, high=GRID_END, what=f"a time in [0, {GRID_END:g}]")
    snap = min(rec["snapshots"], key=lambda s: abs(s["time"] - t))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.8), gridspec_kw={"height_ratios": [1.15, 1]})
    what = "; ".join(f"{e[1]} at {e[0]:g}" for e in rec["events"]) or "no fault"
    role_timeline(as_run(rec), ax=ax1, title=what)
    n = len(rec["nodes"])
    for time, _, _, _, _, ok in rec["commands"]:
        if ok:
            ax1.plot([time], [n], ls="", marker="o", ms=5, color="#2ca02c")
        else:
            ax1.plot([time], [n], ls="", marker="x", ms=6, mew=2, color="#d62728")
    ax1.set_yticks(range(n + 1))
    ax1.set_yticklabels([*[str(x) for x in reversed(rec["nodes"])], "client"])
    ax1.set_ylim(-0.6, n + 0.6)
    ax1.axvline(snap["time"], color="black", ls="--", lw=1)
    handles, labels = ax1.get_legend_handles_labels()
    legend = ax1.get_legend()
    extra = [Line2D([0], [0], ls="", marker="o", color="#2ca02c", label="command committed"),
             Line2D([0], [0], ls="", marker="x", mew=2, color="#d62728", label="command lost")]
    ax1.legend(handles=[*legend.legend_handles, *extra], loc="upper left", bbox_to_anchor=(1.0, 1.0),
               fontsize=8, frameon=False)
    last = max(len(s["log"]) for s in rec["snapshots"][-1]["nodes"])
    log_rows(as_servers(snap), ax=ax2, last=last, title=f"logs at t={snap['time']:.0f}")
    fig.tight_layout()
    return fig


def outage_table(grid: Mapping) -> str:
    """A small text table of the twelve runs: commands committed and lost, and how long the fault cost.

    Raises:
        InvalidArgumentType: ``grid`` is not the recorded grid.
    """
    if not (isinstance(grid, Mapping) and isinstance(grid.get("runs"), Mapping)):
        raise InvalidArgumentType("grid must be the recorded grid of runs, load_record('grid')")
    head = ["crash", "cut leader", "commands", "committed", "lost", "first commit after 600"]
    cells = [head]
    for crash in CRASH_CHOICES:
        for cut in (False, True):
            rec = grid["runs"][grid_key(crash, cut)]
            rows = rec["commands"]
            out = outage(rows, FAULT_AT)
            done = sum(1 for r in rows if r[5])
            after = "never" if out.unavailable is None else f"+{out.unavailable:.0f} ({out.leader})"
            cells.append([crash, "yes" if cut else "no", str(len(rows)), str(done), str(len(rows) - done), after])
    widths = [max(len(row[c]) for row in cells) for c in range(len(head))]
    return "\n".join("  ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip() for row in cells)
