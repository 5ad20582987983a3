"""Record runs of the reference key-value service for lecture 03c (run: .venv/bin/python tools/record_kv_runs.py).

A working service and its clerks are the exercise's answer (``solutions/03c_raft_kv``), so they
never appear in ``notebooks/`` or ``course_lib/``. The lecture's measurements of a *working*
service are recorded here instead: this tool reads the reference classes from the solution
notebook (its solution cells, nbgrader markers stripped, with ``tools/reference.py``), runs them
in :class:`course_lib.topics.raft.service.KVCluster` on the log model, and writes small JSON
files to ``data/raft_kv_runs/``:

- ``reads.json``: linearizable reads three ways (through the log, ReadIndex, a lease): for 3 and
  5 servers, one clerk that reads one key back to back; messages per read beyond the
  heartbeats the leader sends anyway, log entries per read, and latency; and the trace rows of
  one read in each way, for a space-time diagram;
- ``lease_drift.json``: lease reads with clocks that drift within ``LogModel.DRIFT_BOUND`` and far
  beyond it, over several seeds, the leader cut off from the others while a clerk keeps reading
  from it; how many runs read a stale value, and the first such run (its history and trace rows);
- ``log_size.json``: each server's log size over time under a write-heavy workload, without
  snapshots and with them;
- ``catch_up.json``: a follower that was down while the others snapshotted catches up by the
  leader's snapshot (InstallSnapshot): each server's last applied index over time and the trace
  rows around the install; ``catch_up_raft.json``: the same on the reference Raft of chapter 03b
  with its Part D (``solutions/03b_raft``, class ``SnapshotRaft``) instead of the log model.

Trace rows are ``[time, kind, node, peer, type, id, info]`` as
:func:`course_lib.topics.raft.recorded.rows_of` writes them (:func:`~course_lib.topics.raft.recorded.as_run`
reads them back for ``space_time``); history events are ``[process, type, f, key, value, time]``
(:func:`history_of` reads them back). ``tests/test_raft_kv_runs.py`` records the cheap ones again
and fails when the files are stale. Same code, same seeds, same files, byte for byte.
"""

from __future__ import annotations

import json
import pathlib
import statistics
import sys
from typing import Any, Iterable

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from course_lib.history import Event, History  # noqa: E402
from course_lib.topics.raft.recorded import rows_of  # noqa: E402
from course_lib.topics.raft.service import KVCluster, LogModel  # noqa: E402
import reference  # noqa: E402  (tools/reference.py, beside this file)

OUT = ROOT / "data" / "raft_kv_runs"
ASSIGNMENT = "03c_raft_kv"
CELLS = ("setup", "kv_server", "kv_clerk", "kv_reads", "kv_snapshots")
RAFT_ASSIGNMENT = "03b_raft"
RAFT_CELLS = ("setup", "raft", "raft_persistence", "raft_snapshots")
SEED = 2024
MODES = ("log", "read_index", "lease")
#: Reads per measurement, and the cluster sizes measured.
READS = 100
SIZES = (3, 5)
#: The lease runs: how many seeds, when the leader is cut off and for how long, the drifts.
LEASE_SEEDS = 20
CUT, CUT_FOR = 600.0, 600.0
DRIFTS = {"within": (-0.09, 0.09), "beyond": (-0.45, 0.45)}
#: The log-size runs: the snapshot threshold and the workload.
THRESHOLD = 20
#: The catch-up run: the follower is down from CRASH_AT to RESTART_AT.
CRASH_AT, RESTART_AT = 500.0, 1500.0


def _r(x: Any) -> Any:
    return round(x, 3) if isinstance(x, float) else x


def load_reference() -> dict:
    """Execute the solution notebook's setup and solution cells; return their namespace."""
    return reference.load_reference(ASSIGNMENT, cells=CELLS)


def load_raft() -> type:
    """03b's reference Raft with Part D (snapshots), from its solution notebook."""
    return reference.load_reference(RAFT_ASSIGNMENT, cells=RAFT_CELLS)["SnapshotRaft"]


def server_class(ns: dict, mode: str) -> type:
    """The reference server that reads ``mode``'s way: ``"log"``, ``"read_index"`` or ``"lease"``."""
    if mode == "log":
        return ns["KVServer"]
    base = ns["FastReadKVServer"]
    return type(f"{base.__name__}_{mode}", (base,), {"READ_MODE": mode})


def events_of(history: History) -> list:
    """A history as rows ``[process, type, f, key, value, time]``."""
    return [[e.process, e.type, e.f, e.key, e.value, _r(e.time)] for e in history]


def history_of(rows: Iterable) -> History:
    """The history back from :func:`events_of`'s rows."""
    return History(Event(process=p, type=t, f=f, key=k, value=v, time=time) for p, t, f, k, v, time in rows)


def _percentile(values: list, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# -- reads three ways ---------------------------------------------------------------------------------
def read_cost(server_cls: type, clerk_cls: type, n: int, reads: int = READS, shown: int = 10) -> dict:
    """One clerk writes a key, then reads it ``reads`` times back to back; what each read cost."""
    c = KVCluster(server_cls, clerk_cls, n=n, seed=f"{SEED}/reads", clerks=1)
    c.script("c1", [(400.0, "put", "x", "v")] + [(400.0, "get", "x")] * reads)
    c.run(400.0)
    mark = c.sim.trace.mark()
    if not c.run_until_done(limit=20_000.0):
        raise RuntimeError(f"{server_cls.__name__}, {n} servers: the reads did not finish by t=20000")
    verdict = c.linearizable()
    if verdict.valid is not True:
        raise RuntimeError(f"{server_cls.__name__}: the reads are not linearizable: {verdict.reason}")
    rows = c.sim.trace.since(mark)
    sends = [e for e in rows if e.kind == "send"]
    # Heartbeats go out every 50 units whatever the clients do: each round is one append and one
    # ack per follower. What is left is what the clients' operations cost.
    beats = sum(1 for e in rows if e.kind == "timer" and e.info == "lm_heartbeat")
    gets = [op for op in c.operations() if op.f == "get"]
    put = next(op for op in c.operations() if op.f == "put")
    client = sum(1 for e in sends if e.node in c.clerk_ids or e.peer in c.clerk_ids)
    servers = len(sends) - client - 2 * (n - 1) * beats
    latency = [op.return_time - op.call_time for op in gets]
    applies = c.sim.trace.custom("apply")
    entries_before = max(e.info["index"] for e in applies if e.time <= put.return_time)
    entries = max(e.info["index"] for e in applies)
    one = gets[shown]
    window = (_r(one.call_time - 1.0), _r(one.return_time + 1.0))
    return {
        "n": n, "reads": len(gets),
        "client_messages_per_read": _r((client - 2) / len(gets)),   # the put's request and reply left out
        "server_messages_per_read": _r((servers - 2 * (n - 1)) / len(gets)),  # the put's round left out
        "log_entries_per_read": _r((entries - entries_before) / len(gets)),
        "latency": {"median": _r(statistics.median(latency)), "p90": _r(_percentile(latency, 0.9)),
                    "max": _r(max(latency))},
        "run": {"nodes": list(c.ids) + list(c.clerk_ids), "end": window[1], "windows": [list(window)],
                "rows": [r for r in rows_of(c.sim, [window]) if r[1] != "custom" or window[0] <= r[0] <= window[1]],
                "read": [_r(one.call_time), _r(one.return_time)]},
    }


def reads(ns: dict) -> dict:
    clerk = ns["Clerk"]
    return {"modes": list(MODES), "sizes": list(SIZES), "reads": READS,
            "costs": {mode: {str(n): read_cost(server_class(ns, mode), clerk, n) for n in SIZES} for mode in MODES}}


# -- a lease on a drifting clock ----------------------------------------------------------------------------
def lease_run(server_cls: type, clerk_cls: type, seed: Any, slow: float, fast: float) -> tuple[KVCluster, Any]:
    """Cut the leader off at CUT; from then on its clock runs ``slow`` and the others' ``fast``.

    c1 wrote through the leader before the cut and reads the key every 10 units after it;
    c2 and c3 keep writing it, through whichever server leads.
    """
    c = KVCluster(server_cls, clerk_cls, n=3, seed=seed, clerks=3)
    c.script("c1", [(400.0, "put", "x", "a")] + [(CUT + 10.0 * k, "get", "x") for k in range(40)])
    c.workload(ops=30, keys=("x",), read_fraction=0.0, append_fraction=0.0, think=(0.0, 20.0), start=450.0,
               clerks=["c2", "c3"])
    c.run(CUT)
    leader = c.leader()
    for server in c.servers:
        server.clock.set_drift(slow if server.id == leader else fast)
    c.partition([[leader], [s for s in c.ids if s != leader]], heal_at=CUT + CUT_FOR)
    if not c.run_until_done(limit=6000.0):
        raise RuntimeError(f"lease run {seed!r}: the clerks did not finish by t=6000")
    return c, leader


def lease_drift(ns: dict, seeds: int = LEASE_SEEDS, only: Any = None) -> dict:
    """Lease reads with drift within the bound and beyond it, over ``seeds`` seeds; the first stale run.

    ``only``: record just that seed's run (the freshness test's shortcut); the counts are left out.
    """
    server_cls, clerk = server_class(ns, "lease"), ns["Clerk"]
    out: dict = {"bound": LogModel.DRIFT_BOUND, "drifts": {k: list(v) for k, v in DRIFTS.items()},
                 "cut": CUT, "cut_for": CUT_FOR, "seeds": seeds, "stale": {}}
    first = None
    for name, (slow, fast) in DRIFTS.items():
        stale = []
        for k in ([only] if only is not None else range(seeds)):
            c, leader = lease_run(server_cls, clerk, f"{SEED}/lease/{k}", slow, fast)
            if c.linearizable().valid is False:
                stale.append(k)
                if name == "beyond" and first is None:
                    first = (k, c, leader)
        out["stale"][name] = stale
    if first is None:
        raise RuntimeError(f"no stale lease read in {seeds} seeds with drift {DRIFTS['beyond']}")
    k, c, leader = first
    verdict = c.linearizable()
    new = next(e.node for e in c.sim.trace.custom("role")
               if e.time > CUT and e.info["role"] == "leader")
    window = (_r(CUT - 60.0), _r(verdict.stuck_time + 30.0))
    out["run"] = {"seed": f"{SEED}/lease/{k}", "old_leader": leader, "new_leader": new,
                  "history": events_of(c.history), "stuck_time": _r(verdict.stuck_time),
                  "nodes": list(c.ids) + list(c.clerk_ids), "end": _r(c.now), "windows": [list(window)],
                  "rows": rows_of(c.sim, [window])}
    return out


# -- log size over time ------------------------------------------------------------------------------------
def _workload(c: KVCluster) -> None:
    c.workload(ops=60, keys=("x", "y", "z"), read_fraction=0.2, append_fraction=0.4, start=300.0)


def log_sizes(ns: dict) -> dict:
    """Three clerks, 60 operations each on three keys: log sizes without snapshots and with them (same service)."""
    out: dict = {"threshold": THRESHOLD}
    for name, threshold in (("without", None), ("with", THRESHOLD)):
        c = KVCluster(ns["SnapshotKVServer"], ns["Clerk"], n=3, seed=f"{SEED}/log_size", clerks=3,
                      snapshot_threshold=threshold)
        _workload(c)
        if not c.run_until_done(limit=10_000.0):
            raise RuntimeError(f"log size run {name}: the clerks did not finish by t=10000")
        if c.linearizable().valid is not True:
            raise RuntimeError(f"log size run {name}: not linearizable")
        out[name] = {"samples": {s: [[_r(t), size] for t, size in samples] for s, samples in c.log_sizes().items()},
                     "max": c.max_log_size(), "snapshot_bytes": c.snapshot_sizes(),
                     "ops": len(c.operations()), "end": _r(c.now),
                     "entries": max(e.info["index"] for e in c.sim.trace.custom("apply"))}
    return out


# -- a lagging follower catches up by snapshot ---------------------------------------------------------------
def catch_up(ns: dict, raft: type | None = None) -> dict:
    """The same workload with snapshots; a follower is down from CRASH_AT to RESTART_AT.

    ``raft``: run on that Raft class (03b's reference with Part D) instead of the log model; a Raft
    offers no ReadIndex or lease, so the reference service's gets go through the log there.
    """
    c = KVCluster(ns["SnapshotKVServer"], ns["Clerk"], n=3, seed=f"{SEED}/catch_up", clerks=3,
                  snapshot_threshold=THRESHOLD, log=LogModel if raft is None else raft)
    _workload(c)
    c.run(CRASH_AT)
    leader = c.leader()
    lagging = next(s for s in c.ids if s != leader)
    c.crash(lagging, restart_at=RESTART_AT)
    if not c.run_until_done(limit=10_000.0):
        raise RuntimeError("catch-up run: the clerks did not finish by t=10000")
    c.run_for(150.0)   # followers learn the last commits with the next heartbeats
    if c.linearizable().valid is not True:
        raise RuntimeError("catch-up run: not linearizable")
    # The log model records a follower's install as "install_snapshot"; a Raft hands every snapshot it
    # installs to the service through its checked apply_snapshot, recorded as "apply_snapshot".
    install = "install_snapshot" if raft is None else "apply_snapshot"
    installs = [e for e in c.sim.trace.custom(install) if e.node == lagging and e.time > RESTART_AT]
    if not installs:
        raise RuntimeError(f"catch-up run: {lagging} never installed a snapshot")
    applied: dict = {s: [] for s in c.ids}
    for e in c.sim.trace:
        if e.kind == "custom" and e.type in ("apply", install):
            applied[e.node].append([_r(e.time), e.info["index"]])
    window = (_r(RESTART_AT - 5.0), _r(installs[0].time + 40.0))
    rows = rows_of(c.sim, [window], custom=("role", install, "snapshot"))
    for row in rows:
        if row[1] == "custom" and row[4] == install:
            row[6] = {"index": row[6]["index"]}    # not the snapshot's data
    return {"log": "LogModel" if raft is None else raft.__name__,
            "leader": leader, "lagging": lagging, "crash": CRASH_AT, "restart": RESTART_AT,
            "threshold": THRESHOLD, "install": install,
            "installs": [[_r(e.time), e.info["index"]] for e in installs],
            "snapshots": [[_r(e.time), e.node, e.info["index"]] for e in c.sim.trace.custom("snapshot")],
            "applied": applied,
            "install_sends": [_r(e.time) for e in c.sim.trace.filter(kind="send")
                              if e.type in ("lm_install", "install_snapshot") and e.peer == lagging],
            "samples": {s: [[_r(t), size] for t, size in samples] for s, samples in c.log_sizes().items()},
            "nodes": list(c.ids), "end": _r(c.now), "windows": [list(window)], "rows": rows}


def record_all(ns: dict, raft: type) -> dict:
    """Every record, by file name (``raft``: 03b's reference Raft with Part D)."""
    return {"reads": reads(ns), "lease_drift": lease_drift(ns), "log_size": log_sizes(ns),
            "catch_up": catch_up(ns), "catch_up_raft": catch_up(ns, raft)}


def dumps(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"


def main() -> None:
    records = record_all(load_reference(), load_raft())
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, rec in records.items():
        path = OUT / f"{name}.json"
        path.write_text(dumps(rec))
        total += path.stat().st_size
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB)")
    print(f"total {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
