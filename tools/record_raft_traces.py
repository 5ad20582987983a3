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

The record format, the client (:class:`course_lib.topics.raft.client.LeaderClient`, which follows the
leader of the highest term) and the explorer's twelve runs (:func:`course_lib.topics.raft.explore.explore_run`)
live in ``course_lib.topics.raft``; the scenarios below are this tool's. ``tests/test_raft_explore.py``
re-records some of them and fails when the files are stale.

Same seeds, same files, byte for byte.
"""

from __future__ import annotations

import json
import pathlib
import sys


ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_lib.topics.raft import RaftCluster  # noqa: E402
from course_lib.topics.raft.client import LeaderClient  # noqa: E402
from course_lib.topics.raft.explore import CRASH_CHOICES, explore_run, grid_key  # noqa: E402
from course_lib.topics.raft.recorded import make_record as record, rows_of, snapshot  # noqa: E402
import reference  # noqa: E402  (tools/reference.py, beside this file)
from course_lib.sim.errors import InvariantViolation  # noqa: E402

OUT = ROOT / "data" / "raft_traces"
CELLS = ("setup", "raft", "raft_persistence")
SEED = 2024


def _r(x):
    return round(x, 3) if isinstance(x, float) else x


def load_reference() -> dict:
    """Execute the solution notebook's setup and solution cells; return their namespace."""
    return reference.load_reference("03b_raft", cells=CELLS)


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


def split_vote(cls, first: int = 0) -> dict:
    """Search seeds from ``first`` on for a first election with a split vote (two candidates in term 1); record it."""
    for k in range(first, 200):
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
    LeaderClient(c)
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
    return record(c, f"leader {old} cut off at {cut:.0f}, reconnected at {back:.0f}",
                  windows=[(back - 5, back + 120)], snapshots=snaps, old_leader=old,
                  cut=_r(cut), back=_r(back))


def crash_recovery(cls) -> dict:
    """Five servers with a client; the leader crashes, then two followers crash; all restart with their disks."""
    c = RaftCluster(cls, 5, seed=f"{SEED}/crash")
    LeaderClient(c)
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


def figure8_search_record(cls) -> dict:
    """Figure 8 found by a schedule search in phases (course_lib.topics.raft.figure8_search's phases): the
    counting Raft's phases and failing schedule (replayed: step k at time k), and how far the
    reference gets (it cannot commit x: phase 6 exhausts its depth)."""
    from course_lib.topics.raft.scenarios.search import figure8_phases

    def phases(results) -> list:
        return [{"phase": name, "outcome": r.outcome, "states": r.states,
                 "new_steps": len(r.schedule or ()) - (len(results[i - 1][1].schedule) if i else 0)
                 if r.schedule is not None else None, "depth": r.max_depth}
                for i, (name, r) in enumerate(results)]

    out: dict = {"title": "Figure 8, found by a search in phases"}
    results = figure8_phases(counting(cls))
    if results[-1][1].outcome != "violation":
        raise RuntimeError("figure8_search did not break the counting Raft")
    last = results[-1][1]
    out["phases"] = phases(results)
    out["schedule"] = [str(step) for step in last.schedule]
    replayed = last.replay()  # step k at time k, as drawn
    out["violation"] = f"{replayed.error.name}: {replayed.error.detail}"
    out["nodes"] = sorted(replayed.sim.nodes)
    out["end"] = float(len(last.schedule))
    out["windows"] = [[0, out["end"]]]
    out["rows"] = rows_of(replayed.sim, [(0, out["end"])], custom=("role", "apply", "action"))
    out["reference_phases"] = phases(figure8_phases(cls))
    return out


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
        "figure8_search": figure8_search_record(cls),
    }
    records["grid"] = {"crash": list(CRASH_CHOICES), "cut": [False, True],
                       "runs": {grid_key(crash, cut): explore_run(cls, crash, cut, seed=f"{SEED}/grid")
                                for crash in CRASH_CHOICES for cut in (False, True)}}
    total = 0
    for name, rec in records.items():
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(rec, separators=(",", ":"), sort_keys=True) + "\n")
        total += path.stat().st_size
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB)")
    print(f"total {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
