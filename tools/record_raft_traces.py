"""Record runs of the reference Raft for the lecture notebook 03b (run: .venv/bin/python tools/record_raft_traces.py).

The correct Raft is the exercise's answer, so it never appears in ``notebooks/`` or
``course_lib/``. The lecture's pictures of a *working* Raft are drawn from runs
recorded here: this tool reads the reference classes from
``solutions/03b_raft/03b_raft.ipynb`` (its setup and solution cells, nbgrader
markers stripped, exactly as ``tests/test_raft_reference.py`` does), runs a few
seeded scenarios in :class:`course_lib.topics.raft.RaftCluster`, and writes compact JSON
records to ``data/raft_traces/``:

- ``rows``: trace rows ``[time, kind, node, peer, type, id, info]`` (role changes,
  crashes, restarts, partitions, heals; plus messages inside a chosen window), enough
  to rebuild a :class:`course_lib.sim.trace.Trace` for ``role_timeline`` and ``space_time``;
- ``snapshots``: at chosen times, each server's log (as the list of its entries'
  terms), commit index, role, term and whether it is crashed.

Same seeds, same files, byte for byte.
"""

from __future__ import annotations

import json
import pathlib
import sys


ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_lib.topics.raft import RaftCluster  # noqa: E402
import reference  # noqa: E402  (tools/reference.py, beside this file)
from course_lib.sim.errors import InvariantViolation  # noqa: E402

OUT = ROOT / "data" / "raft_traces"
CELLS = ("setup", "raft", "raft_persistence")
SEED = 2024
KEEP = ("custom", "crash", "restart", "partition", "heal")   # always kept
MESSAGES = ("send", "deliver", "drop", "duplicate")          # kept inside a window


def load_reference() -> dict:
    """Execute the solution notebook's setup and solution cells; return their namespace."""
    return reference.load_reference("03b_raft", cells=CELLS)


def _r(x):
    return round(x, 3) if isinstance(x, float) else x


def rows_of(sim, windows=(), custom=("role",)) -> list:
    """The trace rows the pictures need: role changes and faults always, messages inside ``windows``."""
    out = []
    for time, kind, node, peer, mtype, mid, info in sim.trace:
        if kind == "custom" and mtype not in custom:
            continue
        if kind in KEEP or (kind in MESSAGES and any(lo <= time <= hi for lo, hi in windows)):
            if kind in MESSAGES:
                info = info if isinstance(info, (str, type(None))) else str(info)
            out.append([_r(time), kind, node, peer, mtype, mid, info])
    return out


def snapshot(cluster) -> dict:
    """Each server's log (terms only), commit index, role, term and crash state, now."""
    return {"time": _r(cluster.now),
            "nodes": [{"id": n.id, "log": [t for t, _ in n.log], "commit_index": n.commit_index,
                       "role": n.role, "term": n.current_term, "crashed": n.crashed}
                      for n in cluster.nodes]}


def record(cluster, title: str, windows=(), snapshots=(), **extra) -> dict:
    return {"title": title, "nodes": list(cluster.ids), "end": _r(cluster.now),
            "windows": [list(w) for w in windows], "rows": rows_of(cluster.sim, windows),
            "snapshots": list(snapshots), **extra}


def client(cluster, every: float = 80.0):
    """Submit a command to whoever leads, every ``every`` units, forever."""
    counter = {"n": 0}

    def tick():
        for i in cluster.ids:
            node = cluster.node(i)
            if not node.crashed and node.role == "leader":  # a cut-off leader takes commands too
                counter["n"] += 1
                cluster.submit(i, f"x{counter['n']}")
                break
        cluster.sim.after(every, tick)

    cluster.sim.after(every, tick)


def first_leader_window(cluster) -> tuple:
    """From shortly before the first candidacy to a little after the first leader."""
    roles = cluster.sim.trace.custom("role")
    start = next(e.time for e in roles if e.info["role"] == "candidate")
    won = next(e.time for e in roles if e.info["role"] == "leader")
    return (round(start - 5, 3), round(won + 60, 3))


def election(cls) -> dict:
    """Five servers, no faults: the first election and a few heartbeats."""
    c = RaftCluster(cls, 5, seed=f"{SEED}/election")
    c.run(700)
    return record(c, "the first election", windows=[first_leader_window(c)], snapshots=[snapshot(c)])


def split_vote(cls) -> dict:
    """Search seeds for a first election with a split vote (two candidates in term 1), and record it."""
    for k in range(200):
        c = RaftCluster(cls, 5, seed=f"{SEED}/split/{k}")
        c.run(1000)
        roles = c.sim.trace.custom("role")
        first_term = [e for e in roles if e.info["role"] == "candidate" and e.info["term"] == 1]
        leaders = [e for e in roles if e.info["role"] == "leader"]
        if len(first_term) >= 2 and leaders and leaders[0].info["term"] >= 2:
            start = first_term[0].time - 5
            window = (round(start, 3), round(leaders[0].time + 60, 3))
            return record(c, f"a split vote (seed {SEED}/split/{k})", windows=[window],
                          snapshots=[snapshot(c)], seed=f"{SEED}/split/{k}")
    raise RuntimeError("no split vote found in 200 seeds")


def reelection(cls) -> dict:
    """Five servers with a client; the leader is cut off, the others elect a new one, it rejoins."""
    c = RaftCluster(cls, 5, seed=f"{SEED}/reelection")
    client(c)
    c.run(700)
    old = c.check_one_leader()
    cut = c.now
    snaps = [snapshot(c)]
    c.disconnect(old)
    c.run(700)
    snaps.append(snapshot(c))
    back = c.now
    c.connect(old)
    c.run(500)
    snaps.append(snapshot(c))
    return record(c, f"leader {old} cut off at {cut:g}, reconnected at {back:g}",
                  windows=[(back - 5, back + 120)], snapshots=snaps, old_leader=old,
                  cut=_r(cut), back=_r(back))


def crash_recovery(cls) -> dict:
    """Five servers with a client; the leader crashes, then two followers crash; all restart with their disks."""
    c = RaftCluster(cls, 5, seed=f"{SEED}/crash")
    client(c)
    c.run(600)
    leader = c.check_one_leader()
    snaps = [snapshot(c)]
    c.crash(leader)
    c.run(500)
    others = [i for i in c.ids if i != leader][:2]
    for i in others:
        c.crash(i)
    snaps.append(snapshot(c))
    c.run(400)
    snaps.append(snapshot(c))
    for i in [leader, *others]:
        c.restart(i)
    c.run(600)
    snaps.append(snapshot(c))
    return record(c, f"leader {leader} crashes, then {others[0]} and {others[1]}; all restart",
                  snapshots=snaps, crashed=[leader, *others])


def counting(cls) -> type:
    """The reference Raft with Figure 8's mistake: a leader commits an entry of ANY term by counting replicas."""

    class CountingRaft(cls):
        def advance_commit_index(self):
            for index in range(self.last_log_index(), self.commit_index, -1):
                holders = 1 + sum(1 for peer in self.peers if self.match_index[peer] >= index)
                if holders >= self.majority():
                    self.commit_index = index
                    self.apply_committed()
                    break

    return CountingRaft


def _leader(c):
    leaders = c.leaders()
    return leaders[max(leaders)][0] if leaders else None


def figure8(cls, label: str) -> dict:
    """The paper's Figure 8, scripted with crashes and cuts on five servers (the same script for both classes).

    (a) leader L1 of term t, cut off with one follower F, takes command "a": only F gets it;
    (b) L1 crashes; the three others elect L2, which takes "b" while cut off, then crashes;
    (c) L1 restarts, F reconnects: L1 or F leads and copies "a" to the two others (a majority holds it);
    (d) L1 and F crash; L2 restarts and wins with the votes of the two others (its last term is newer);
    (e) L2 makes the two others' logs match its own: index 1 becomes "b".
    """
    c = RaftCluster(cls, 5, seed=f"{SEED}/figure8")
    snaps, steps = [], []
    out = {"title": f"Figure 8, {label}", "violation": None}

    def snap(step):
        s = snapshot(c)
        s["step"] = step
        snaps.append(s)

    try:
        l1 = c.check_one_leader()
        f = next(i for i in c.ids if i != l1)
        rest = [i for i in c.ids if i not in (l1, f)]
        for i in rest:
            c.disconnect(i)
        c.submit(l1, "a")
        c.run(100)
        snap("(a)")
        steps.append(f"(a) {l1} leads, cut off with {f}; takes 'a'")
        c.crash(l1)
        for i in rest:
            c.connect(i)
        c.disconnect(f)
        l2 = c.check_one_leader()
        others = [i for i in rest if i != l2]
        c.disconnect(l2)
        c.submit(l2, "b")
        c.run(20)
        snap("(b)")
        c.crash(l2)
        steps.append(f"(b) {l1} crashes; {l2} leads and takes 'b' while cut off, then crashes")
        c.connect(l2)
        c.connect(f)
        c.restart(l1)
        l3 = c.check_one_leader()
        c.run(300)
        snap("(c)")
        steps.append(f"(c) {l1} restarts; {l3} leads and copies 'a' to {others[0]} and {others[1]}")
        c.crash(l1)
        c.crash(f)
        c.restart(l2)
        c.check_one_leader()
        c.run(300)
        snap("(d)")
        steps.append(f"(d) {l1} and {f} crash; {l2} restarts and wins with the votes of {others[0]} and {others[1]}")
        c.submit(_leader(c), "c")
        c.run(300)
        snap("(e)")
        steps.append(f"(e) {_leader(c)} takes 'c' and commits it, with 'b' before it")
    except InvariantViolation as exc:
        snap("violation")
        out["violation"] = f"{exc.name} at time {exc.time:g}: {exc.detail}"
    out.update(nodes=list(c.ids), end=_r(c.now), rows=rows_of(c.sim, custom=("role", "apply")),
               snapshots=snaps, steps=steps, windows=[])
    return out


CRASH_CHOICES = ("nobody", "s1", "s2", "s3", "s4", "s5")
CUT_CHOICES = (False, True)
GRID_END = 2400.0
GRID_STEP = 100.0


def grid_run(cls, crash: str, cut: bool) -> dict:
    """Five servers, a client; at 600 crash ``crash`` (restart at 1400).

    With ``cut``, also cut off the leader (till 1600).
    """
    c = RaftCluster(cls, 5, seed=f"{SEED}/grid")
    client(c)
    snaps = []
    events = []
    while c.now < GRID_END - 1e-9:
        t = c.now
        if t == 600.0:
            if cut:
                leaders = c.leaders()
                if leaders:
                    victim = leaders[max(leaders)][0]
                    c.disconnect(victim)
                    events.append([600.0, f"cut off leader {victim}"])
            if crash != "nobody":
                c.crash(crash)
                events.append([600.0, f"crash {crash}"])
        if t == 1400.0 and crash != "nobody":
            c.restart(crash)
            events.append([1400.0, f"restart {crash}"])
        if t == 1600.0 and cut:
            for i in sorted(c.disconnected):
                c.connect(i)
            events.append([1600.0, "reconnect"])
        snaps.append(snapshot(c))
        c.run(GRID_STEP)
    snaps.append(snapshot(c))
    rec = record(c, f"crash {crash}, cut leader {cut}", snapshots=snaps, events=events)
    rec["applied"] = {i: len(c.book.applied.get(i, (None, []))[1]) for i in c.ids}
    return rec


def main() -> None:
    ns = load_reference()
    cls = ns["PersistentRaft"]
    OUT.mkdir(parents=True, exist_ok=True)
    records = {
        "election": election(cls),
        "split_vote": split_vote(cls),
        "reelection": reelection(cls),
        "crash_recovery": crash_recovery(cls),
        "figure8": figure8(cls, "reference Raft"),
        "figure8_counting": figure8(counting(cls), "a Raft that commits by counting"),
    }
    records["grid"] = {"crash": list(CRASH_CHOICES), "cut": list(CUT_CHOICES),
                       "runs": {f"{crash}/{int(cut)}": grid_run(cls, crash, cut)
                                for crash in CRASH_CHOICES for cut in CUT_CHOICES}}
    total = 0
    for name, rec in records.items():
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(rec, separators=(",", ":"), sort_keys=True) + "\n")
        total += path.stat().st_size
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB)")
    print(f"total {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
