"""Recorded Raft runs: writing a run down as a small JSON record, and reading it back for the pictures.

The correct Raft is the chapter's exercise, so the lecture cannot run one: it
draws *recorded* runs of the reference solution instead (``tools/record_raft_traces.py``
writes them to ``data/raft_traces/``). A record is a dict:

- ``nodes``, ``end``, ``title``, ``windows`` (time windows whose messages were kept);
- ``rows``: trace rows ``[time, kind, node, peer, type, id, info]``: role changes,
  crashes, restarts, partitions and heals always, messages only inside ``windows``;
- ``snapshots``: at chosen times, each server's ``log`` (the terms of its entries),
  ``commit_index``, ``role``, ``term`` and ``crashed``;
- anything a scenario adds (``steps``, ``events``, ``commands``, ...).

Reading one back: :func:`load_record` finds and parses it, :func:`as_run` makes
the stand-in for a simulation that :func:`~course_lib.topics.raft.role_timeline`
and :func:`~course_lib.viz.space_time` draw, :func:`as_servers` the servers that
:func:`~course_lib.topics.raft.log_rows` draws, and :func:`leaders_by_term` and
:func:`election_rounds` say who led when.

Example:
    >>> record = load_record("election")
    >>> leaders_by_term(record)
    {1: 's2'}
    >>> run = as_run(record)
    >>> run.nodes
    ['s1', 's2', 's3', 's4', 's5']
"""

from __future__ import annotations

import json
import pathlib
from types import SimpleNamespace
from typing import Any, Iterable, Mapping

from ...sim.trace import Trace
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_number, check_type

__all__ = ["traces_dir", "load_record", "as_run", "as_servers", "leaders_by_term", "election_rounds",
           "snapshot_table", "rows_of", "snapshot", "make_record", "KEEP", "MESSAGES"]

#: Trace kinds a record always keeps.
KEEP = ("custom", "crash", "restart", "partition", "heal")
#: Trace kinds a record keeps only inside its windows.
MESSAGES = ("send", "deliver", "drop", "duplicate")


def traces_dir() -> pathlib.Path:
    """The folder of the recorded runs, ``data/raft_traces/`` at the top of the course.

    Raises:
        FileNotFoundError: the folder is missing (run ``tools/record_raft_traces.py``).
    """
    here = pathlib.Path(__file__).resolve()
    for base in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents, *here.parents]:
        if (base / "data" / "raft_traces").is_dir():
            return base / "data" / "raft_traces"
    raise FileNotFoundError("data/raft_traces not found: run tools/record_raft_traces.py")


def load_record(name: str) -> dict:
    """Read the recorded run ``name`` (``"election"``, ``"grid"``, ...) from ``data/raft_traces/``.

    Raises:
        InvalidArgument: there is no record of that name (the message lists those there are).
    """
    check_type("name", name, str, what="the name of a recorded run, such as 'election'")
    folder = traces_dir()
    path = folder / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.json"))
        raise InvalidArgument(f"name={name!r} is not a recorded run; there are {known}")
    return json.loads(path.read_text())


def _check_record(record: Any) -> None:
    if not (isinstance(record, Mapping) and {"rows", "nodes", "end"} <= set(record)):
        raise InvalidArgumentType(f"record={_short(record)} must be a recorded run (a dict with rows, nodes "
                                  "and end, as load_record returns)")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_run(record: Mapping, end: float | None = None) -> SimpleNamespace:
    """A stand-in for the recorded simulation: its ``trace``, ``nodes`` and ``now`` (``end`` if given).

    Raises:
        InvalidArgumentType: ``record`` is not a recorded run, or ``end`` is not a time.
    """
    _check_record(record)
    if end is not None:
        check_number("end", end, low=0, what="a time or None")
    return SimpleNamespace(trace=Trace.from_events(record["rows"]), nodes=list(record["nodes"]),
                           now=record["end"] if end is None else end)


def as_servers(snap: Mapping) -> list[SimpleNamespace]:
    """A snapshot's servers, as :func:`~course_lib.topics.raft.log_rows` reads them (entries' terms only).

    Raises:
        InvalidArgumentType: ``snap`` is not one of a record's ``snapshots``.
    """
    if not (isinstance(snap, Mapping) and isinstance(snap.get("nodes"), list)):
        raise InvalidArgumentType(f"snap={_short(snap)} must be one of a record's snapshots "
                                  "(a dict with time and nodes)")
    return [SimpleNamespace(id=s["id"], log=[(t, None) for t in s["log"]], commit_index=s["commit_index"],
                            role=s["role"], current_term=s["term"], crashed=s["crashed"])
            for s in snap["nodes"]]


def _roles(record: Mapping) -> Iterable[tuple[float, str, str, int]]:
    for row in record["rows"]:
        if row[1] == "custom" and row[4] == "role":
            yield row[0], row[2], row[6]["role"], row[6]["term"]


def leaders_by_term(record: Mapping) -> dict[int, str]:
    """Who became leader of which term, from the recorded role changes.

    Raises:
        InvalidArgumentType: ``record`` is not a recorded run.
    """
    _check_record(record)
    return {term: node for _, node, role, term in _roles(record) if role == "leader"}


def election_rounds(record: Mapping, *, before: float = 4.0, after: float = 8.0) -> list[tuple[int, float, float]]:
    """Each term's election as ``(term, start, end)``: from its first candidacy to the last role change it caused.

    ``before`` and ``after`` pad the window, so that a space-time diagram can be
    cropped to one round of votes (the long quiet wait between rounds left out).

    Raises:
        InvalidArgumentType: ``record`` is not a recorded run.
    """
    _check_record(record)
    check_number("before", before, low=0, what="a duration")
    check_number("after", after, low=0, what="a duration")
    rounds: dict[int, list[float]] = {}
    for time, _, role, term in _roles(record):
        if role == "candidate" and term not in rounds:
            rounds[term] = [time, time]
        elif term in rounds:
            rounds[term][1] = time
    return [(term, round(a - before, 3), round(b + after, 3)) for term, (a, b) in rounds.items()]


# -- writing records (tools/record_raft_traces.py) -------------------------------------------------------
def _r(x: Any) -> Any:
    return round(x, 3) if isinstance(x, float) else x


def rows_of(sim: Any, windows: Iterable[tuple[float, float]] = (), custom: Iterable[str] = ("role",)) -> list:
    """The trace rows a record keeps: role changes and faults always, messages inside ``windows``."""
    windows = list(windows)
    custom = set(custom)
    out = []
    for time, kind, node, peer, mtype, mid, info in Trace.of(sim):
        if kind == "custom" and mtype not in custom:
            continue
        if kind in KEEP or (kind in MESSAGES and any(lo <= time <= hi for lo, hi in windows)):
            if kind in MESSAGES:
                info = info if isinstance(info, (str, type(None))) else str(info)
            out.append([_r(time), kind, node, peer, mtype, mid, info])
    return out


def snapshot(cluster: Any) -> dict:
    """Each server's log (terms only), commit index, role, term and crash state, now."""
    return {"time": _r(cluster.now),
            "nodes": [{"id": n.id, "log": [t for t, _ in n.log], "commit_index": n.commit_index,
                       "role": n.role, "term": n.current_term, "crashed": n.crashed}
                      for n in cluster.nodes]}


def make_record(cluster: Any, title: str, windows: Iterable[tuple[float, float]] = (),
                snapshots: Iterable[dict] = (), **extra: Any) -> dict:
    """A record of ``cluster``'s run so far: its rows, the given snapshots, and ``extra`` fields."""
    windows = [list(w) for w in windows]
    return {"title": title, "nodes": list(cluster.ids), "end": _r(cluster.now), "windows": windows,
            "rows": rows_of(cluster.sim, windows), "snapshots": list(snapshots), **extra}


def snapshot_table(snapshots: Iterable[Mapping], labels: Iterable[str] | None = None) -> str:
    """A small text table of the logs in ``snapshots``: a row per server, a column per snapshot.

    Each cell reads ``entries (commit index)``, and ``down`` for a crashed server.
    ``labels`` name the columns (default: ``t=<time>``).

    Example:
        >>> print(snapshot_table(load_record("election")["snapshots"]))
        server  t=700
        s1      0 (0)
        s2      0 (0)
        s3      0 (0)
        s4      0 (0)
        s5      0 (0)

    Raises:
        InvalidArgumentType: a snapshot is not one of a record's snapshots.
        InvalidArgument: ``labels`` does not name every column.
    """
    snaps = list(snapshots)
    for snap in snaps:
        as_servers(snap)
    names = [f"t={s['time']:.0f}" for s in snaps] if labels is None else [str(x) for x in labels]
    if len(names) != len(snaps):
        raise InvalidArgument(f"labels={names!r} must name each of the {len(snaps)} snapshots")
    servers = [s["id"] for s in snaps[0]["nodes"]] if snaps else []
    cells = [["server", *names]]
    for k, server in enumerate(servers):
        row = [server]
        for snap in snaps:
            s = snap["nodes"][k]
            row.append("down" if s["crashed"] else f"{len(s['log'])} ({s['commit_index']})")
        cells.append(row)
    widths = [max(len(row[c]) for row in cells) for c in range(len(cells[0]))]
    return "\n".join("  ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip() for row in cells)
