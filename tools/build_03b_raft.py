"""Build notebooks/03b_raft.ipynb (run: .venv/bin/python tools/build_03b_raft.py).

The working Raft in this chapter's pictures comes from runs recorded by
tools/record_raft_traces.py (from the exercise's reference solution) into
data/raft_traces/: the correct Raft never appears in notebooks/ or course_lib/.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from nbbuild import build  # noqa: E402

IGNORE = ["nbval-ignore-output"]

cells = [
("md", r"""
# 03b · Raft: consensus you can understand

**Learning goals.** After this notebook you can

1. name Raft's three roles and its terms, and say which event moves a server from one role to another (Figure 2 of the paper);
2. explain why a leader election needs *randomized* timeouts and *terms*, by watching a naive election split its votes forever and elect two leaders;
3. state the log matching property and how AppendEntries' consistency check keeps it;
4. explain, with the paper's Figure 8, why a leader commits only entries of its *own* term by counting replicas;
5. say which state a server must write to disk before it answers, and why;
6. read a role-and-term timeline, logs drawn as rows coloured by term, and the space-time diagram of an election.

The exercise of this chapter (`exercises/03b_raft/`) asks you to write the Raft server whose recorded
runs you see here.
"""),
("md", r"""
## 1. Where we are

Chapter 03a showed that agreement among crash-prone servers needs majorities and a way to order
competing proposals (Paxos' ballot numbers). Raft (Ongaro and Ousterhout, 2014) solves the same
problem, *replicating a log* of commands so that every server applies the same commands in the same
order, but it is designed to be understood: one **leader** at a time takes all commands and copies
them to the **followers**; when the leader goes quiet, a **candidate** asks for votes and becomes the
next leader. Time is cut into **terms**, numbered 1, 2, 3, ...; each term starts with an election and
has at most one leader. Every message carries its sender's term, and a server that sees a newer term
than its own adopts it and becomes a follower.

```
              times out,                  receives votes from
  start ──▶ follower ──starts election──▶ candidate ──majority of servers──▶ leader
               ▲   ▲                        │   │                              │
               │   └──── discovers the current leader or a newer term ────┘   │
               │                            └──▶ times out: new election        │
               └──────────────────── discovers a server with a newer term ─────┘
```

Before the real thing, the election from the course's seed text, ported faithfully.
"""),
("code", r"""
SEED = 2024  # every simulation in this notebook takes its randomness from this seed

import json
import pathlib
import time
from types import SimpleNamespace

import matplotlib.pyplot as plt
import course_lib
from course_lib.sim import Simulation, Node, Uniform
from course_lib.sim.trace import Trace
from course_lib.viz import space_time
from course_lib.viz.raft import role_timeline, role_spans, log_rows, term_color
"""),
("md", r"""
## 2. The "before": a simplified election

The seed (a "distributed systems fundamentals" guide) gives this election:

```python
def start_election(self):
    self.current_term += 1
    self.state = "candidate"
    self.voted_for = self.node_id
    self.votes_received = 1
    for peer in self.peers:                       # request votes from other nodes
        if peer.request_vote(self.current_term, self.node_id):
            self.votes_received += 1
    if self.votes_received > len(self.peers) / 2: # if majority, become leader
        self.become_leader()

def become_leader(self):
    self.state = "leader"
    while True:                                   # send heartbeats to prevent new elections
        self.send_append_entries()
        time.sleep(HEARTBEAT_INTERVAL)
```

It has the right words (term, vote, majority, heartbeat) and three problems. The first: it **blocks**.
`peer.request_vote(...)` waits for an answer that may never come, and `become_leader` never returns. In
the course simulator, as in every event-driven server, a handler must run to completion: while it runs,
no other handler runs, no message is delivered and *simulated time does not move*. Here is
`become_leader` ported literally, with a safety valve (five rounds) so that this notebook finishes.
"""),
("code", r"""
HEARTBEAT_INTERVAL = 50   # time units, as in course_lib.raft


class BlockingLeader(Node):
    # The seed's become_leader, literally: a heartbeat loop inside a handler.

    def on_start(self):
        if self.id == "s1":
            self.set_timer(100, self.become_leader)

    def send_append_entries(self):
        for peer in self.peers:
            self.send(peer, "append_entries", term=1, leader=self.id)

    def become_leader(self):
        self.state = "leader"
        rounds = 0
        while True:
            self.send_append_entries()
            time.sleep(0.01)          # real time passes; simulated time cannot
            rounds += 1
            if rounds == 5:           # the safety valve the seed does not have
                break

    def on_append_entries(self, msg):
        self.record("heard", leader=msg.leader)


sim = Simulation(seed=SEED, latency=Uniform(1, 10))
sim.add_nodes(BlockingLeader, ["s1", "s2", "s3"])
sim.run(until=300)
sends = sim.trace.filter(kind="send", node="s1")
print(f"s1 sent {len(sends)} heartbeats (5 rounds, 2 peers), at simulated times {sorted({e.time for e in sends})}")
print(f"deliveries while the loop ran: "
      f"{sum(1 for e in sim.trace.filter(kind='deliver') if e.time == 100.0)}")
print(f"heartbeats heard afterwards, by time: "
      f"{[round(e.time, 1) for e in sim.trace.custom('heard')][:6]} ...")
"""),
("md", r"""
All "periodic" heartbeats left at the same instant, and nothing else happened meanwhile: without the
valve the simulation would hang at time 100 forever, and in a real server the thread that should answer
votes and requests would be stuck in the loop. The event-driven shape is: set a timer, return, and do the
next round when the timer fires. So let us port the seed *as a set of handlers*, keeping everything it
says: terms, one vote per term, a majority, a leader that heartbeats forever, and a fixed timeout (the
seed never draws one at random).
"""),
("code", r"""
ELECTION_TIMEOUT = 150    # fixed: the seed never says otherwise


class SeedElection(Node):
    # The seed's election as handlers: a fixed election timeout, and a leader that never steps down.

    def __init__(self, timeout=ELECTION_TIMEOUT):
        self.current_term = 0
        self.voted_for = None
        self.state = "follower"
        self.votes_received = 0
        self.timeout = timeout
        self.timer = None

    def on_start(self):
        self.reset_timer()

    def reset_timer(self):
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.set_timer(self.timeout, self.election_timeout)

    def set_state(self, state):
        self.state = state
        self.record("role", role=state, term=self.current_term)   # for the role timeline

    def election_timeout(self):
        self.timer = None
        if self.state != "leader":
            self.start_election()

    def start_election(self):
        self.current_term += 1
        self.set_state("candidate")
        self.voted_for = self.id
        self.votes_received = 1
        for peer in self.peers:   # peer.request_vote(...) becomes a message; the answer a "vote"
            self.send(peer, "request_vote", term=self.current_term, candidate=self.id)
        self.reset_timer()

    def on_request_vote(self, msg):
        if self.current_term < msg.term:  # a newer term: this term's vote is void
            self.current_term, self.voted_for = msg.term, None
        granted = msg.term == self.current_term and self.voted_for in (None, msg.candidate)
        if granted:
            self.voted_for = msg.candidate
        self.send(msg.src, "vote", term=self.current_term, granted=granted)

    def on_vote(self, msg):
        if self.state == "candidate" and msg.term == self.current_term and msg.granted:
            self.votes_received += 1
            if self.votes_received > len(self.peers) / 2:
                self.become_leader()

    def become_leader(self):
        self.set_state("leader")
        self.send_append_entries()
        self.every(HEARTBEAT_INTERVAL, self.send_append_entries)   # the while True loop, as a timer

    def send_append_entries(self):
        for peer in self.peers:
            self.send(peer, "append_entries", term=self.current_term, leader=self.id)

    def on_append_entries(self, msg):
        if self.state == "leader":
            return                      # the seed's leader is inside its loop: it never looks
        self.current_term = max(self.current_term, msg.term)
        if self.state != "follower":
            self.set_state("follower")
        self.reset_timer()


NODES = ["s1", "s2", "s3", "s4", "s5"]
sim = Simulation(seed=SEED, latency=Uniform(1, 10))
sim.add_nodes(SeedElection, NODES)
sim.run(until=1500)
print("leaders elected:", [e.node for e in sim.trace.custom("role") if e.info["role"] == "leader"])
print("terms reached:  ", {n: sim.node(n).current_term for n in NODES})
"""),
("code", r"""
role_timeline(sim, title="The seed's election, one fixed timeout for all: every term is a split vote")
plt.show()
""", IGNORE),
("md", r"""
Every server starts at time 0 with the same timeout, so all five become candidates at the same instant,
each votes for itself, and each refuses the others (it already voted in that term). Nobody reaches three
votes; 150 units later they all try again, in lockstep, forever. This is a **split vote**, and with a
fixed timeout it repeats deterministically: *liveness* is lost.

Suppose we break the tie by hand and give each server its own fixed timeout, s1 the shortest. Now s1
wins. Then we cut s1 off from the others for a while.
"""),
("code", r"""
sim = Simulation(seed=SEED, latency=Uniform(1, 10))
for k, n in enumerate(NODES):
    sim.add_node(SeedElection, n, 150 + 50 * k)   # s1: 150, s2: 200, ..., s5: 350
sim.nemesis.partition([["s1"], ["s2", "s3", "s4", "s5"]], at=400)
sim.at(1000, sim.network.heal)
sim.run(until=1500)
leaders = [(n, sim.node(n).current_term) for n in NODES if sim.node(n).state == "leader"]
print("leaders at time 1500 (server, term):", leaders)
"""),
("code", r"""
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), gridspec_kw={"height_ratios": [1, 1.3]})
role_timeline(sim, ax=ax1, title="Staggered fixed timeouts; s1 cut off from 400 to 1000 (shaded)")
space_time(sim, ax=ax2, start=990, end=1120, types=["append_entries"],
           title="After the heal: two leaders send heartbeats, and followers obey both")
plt.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
After the partition heals, **two leaders** send heartbeats: s1 in term 1, and s2, elected in term 2 by
the majority side. The seed's leader never looks at incoming messages, so it never learns that a newer
term exists. Had each taken client commands, the followers would have accepted both: the safety of the
whole system is gone. Three things are missing, and they are Raft's election rules:

1. **Randomized election timeouts** (section 3): each server draws a fresh timeout from 150-300 units
   every time it resets its timer, so one server usually times out well before the others and wins
   before anyone else starts. A split vote can still happen, but the next round is very unlikely to
   split again.
2. **Terms order everything** (section 3): any message with a newer term makes the receiver a follower
   in that term, *leaders included*; a request with an older term is refused. A deposed leader steps
   down at its first contact with the new term.
3. **Election restriction** (section 4): a server votes only for a candidate whose log is at least as
   up to date as its own. This one concerns logs, and the seed has none yet.
"""),
("md", r"""
## 3. Raft's election, recorded

The correct Raft is the exercise's answer, so the pictures of it in this notebook are **recorded
runs** of the reference solution (`tools/record_raft_traces.py` wrote them to `data/raft_traces/`;
the exercise notebook draws the same pictures from *your* Raft). A little loader turns a record back
into something the course's drawing functions accept: a trace, the servers, and the end time.
"""),
("code", r"""
def _traces_dir():
    for base in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents,
                 pathlib.Path(course_lib.__file__).resolve().parent.parent]:
        if (base / "data" / "raft_traces").is_dir():
            return base / "data" / "raft_traces"
    raise FileNotFoundError("data/raft_traces not found: run tools/record_raft_traces.py")


TRACES = _traces_dir()


def load(name):
    # One recorded run: a dict with nodes, end, rows, snapshots (see data/raft_traces/README.md).
    return json.loads((TRACES / f"{name}.json").read_text())


def as_run(record, end=None):
    # A stand-in for a Simulation: what role_timeline and space_time read.
    trace = Trace.from_events(record["rows"])
    return SimpleNamespace(trace=trace, nodes=list(record["nodes"]),
                           now=record["end"] if end is None else end)


def as_servers(snap):
    # A snapshot's servers, as log_rows reads them (only the terms of the entries were recorded).
    return [SimpleNamespace(id=s["id"], log=[(t, None) for t in s["log"]], commit_index=s["commit_index"],
                            role=s["role"], current_term=s["term"], crashed=s["crashed"])
            for s in snap["nodes"]]


def leaders_by_term(record):
    # Who became leader of which term, from the recorded role changes.
    return {row[6]["term"]: row[2] for row in record["rows"]
            if row[1] == "custom" and row[4] == "role" and row[6]["role"] == "leader"}


election = load("election")
split = load("split_vote")
print("first election:", leaders_by_term(election))
print("a split first term:", leaders_by_term(split))
"""),
("code", r"""
run = as_run(election)
lo, hi = election["windows"][0]
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), gridspec_kw={"height_ratios": [1, 1.4]})
role_timeline(run, ax=ax1, title="Reference Raft, five servers: the first election")
ax1.axvspan(lo, hi, color="#fff2b3", zorder=0)
space_time(run, ax=ax2, start=lo, end=hi, title="The election, zoomed (yellow above)")
plt.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
One server's random timeout expires first; it becomes a candidate in term 1 and sends RequestVote to
everyone; each follower, which has not voted in term 1, grants its vote and resets its own timer; with
three votes (its own included) the candidate leads, and its first AppendEntries (empty: a heartbeat)
tells everyone. From then on heartbeats every 50 units keep the followers' timers from expiring.

When two servers time out within a message delay of each other, the votes split. The recorded run
below was picked as one where it happens in term 1: nobody wins, and the next round, with fresh random
timeouts, elects a leader.
"""),
("code", r"""
run = as_run(split)
lo, hi = split["windows"][0]
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), gridspec_kw={"height_ratios": [1, 1.4]})
role_timeline(run, ax=ax1, end=hi + 300, title="A split vote in term 1, resolved in the next term")
space_time(run, ax=ax2, start=lo, end=hi, types=["request_vote", "request_vote_reply"],
           title="RequestVote and replies: three candidates in term 1, none gets three votes")
plt.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
How unlikely is a split? With timeouts drawn from $[T, 2T]$ and message delays up to $d \ll T$, two
servers collide only if their timeouts fall within about $d$ of each other, so a split is a matter of
a few percent per round, and rounds split independently. The paper (section 9.3) measured elections
completing in a few hundred milliseconds once the range is a few times the network's round trip.
The trade-off: a wider range makes splits rarer but makes a dead leader's replacement slower.

## 4. Log replication and log matching

The leader appends each client command to its log as an entry `(term, command)` and sends it to the
followers in AppendEntries. Every AppendEntries carries `prev_log_index` and `prev_log_term`: the index
and term of the entry just before the new ones. A follower accepts only if *its* entry at
`prev_log_index` has term `prev_log_term`; otherwise it refuses, and the leader backs up and retries
with earlier entries. When the follower accepts, it deletes any conflicting suffix and appends. By
induction, this gives **log matching**: if two logs hold an entry with the same index and term, they
are identical up to that index. The leader never rewrites its own log; followers' logs converge to it.

The recorded run: five servers and a client; the leader is cut off (shaded), keeps taking commands it
can never commit, the majority elects a new leader, and when the old one comes back it sees the newer
term, steps down, and its uncommitted entries are overwritten.
"""),
("code", r"""
reelection = load("reelection")
print(reelection["title"])
print("leaders:", leaders_by_term(reelection))
for snap in reelection["snapshots"]:
    print(f"t={snap['time']:7.1f}", {s["id"]: (len(s["log"]), s["commit_index"]) for s in snap["nodes"]},
          "(entries, commit index)")
"""),
("code", r"""
run = as_run(reelection)
fig = plt.figure(figsize=(12, 10))
gs = fig.add_gridspec(4, 1, height_ratios=[1.2, 1, 1, 1.2])
role_timeline(run, ax=fig.add_subplot(gs[0]), title=reelection["title"])
for k, (snap, what) in enumerate(zip(reelection["snapshots"], ["before the cut", "during the cut",
                                                                  "after reconnecting"])):
    log_rows(as_servers(snap), ax=fig.add_subplot(gs[k + 1]), title=f"logs at t={snap['time']:.0f}, {what}")
plt.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
During the cut, the old leader's log grows with entries of its old term (its commit bar stays put: no
majority acknowledges them), while the majority side commits entries of the new term at the same
indices. After reconnecting, the old leader's first message to anyone brings back the newer term; it
becomes a follower and the new leader's AppendEntries find the first index where the logs disagree and
replace the rest. Those entries were never committed, so no client was told they were.
"""),
("code", r"""
lo, hi = reelection["windows"][0]
space_time(as_run(reelection), start=lo, end=hi,
           title=f"Reconnecting {reelection['old_leader']}: the newer term deposes it")
plt.show()
""", IGNORE),
("md", r"""
## 5. Commitment: only entries of the current term, by counting (Figure 8)

An entry is **committed** once it is safe to apply: no future leader can lose it. The tempting rule,
"an entry is committed once a majority holds it", is *wrong* for entries of earlier terms. The paper's
Figure 8 shows why; here it is drawn by hand with `log_rows` (five servers, indices 1-3):
"""),
("code", r"""
def servers(logs, commit=None, leader=None, term=None, crashed=()):
    commit = commit or {}
    return [SimpleNamespace(id=n, log=[(t, None) for t in log], commit_index=commit.get(n, 0),
                            role="leader" if n == leader else "follower", current_term=term,
                            crashed=n in crashed)
            for n, log in logs.items()]


FIGURE8 = [
    ("(a) S1 leads term 2, copies index 2 to S2 only",
     servers({"S1": [1, 2], "S2": [1, 2], "S3": [1], "S4": [1], "S5": [1]}, leader="S1", term=2)),
    ("(b) S1 crashes; S5 leads term 3 (votes: S3, S4, S5), takes index 2",
     servers({"S1": [1, 2], "S2": [1, 2], "S3": [1], "S4": [1], "S5": [1, 3]}, leader="S5", term=3,
             crashed=["S1"])),
    ("(c) S5 crashes; S1 leads term 4, copies its index 2 to S3: a majority holds it",
     servers({"S1": [1, 2, 4], "S2": [1, 2], "S3": [1, 2], "S4": [1], "S5": [1, 3]}, leader="S1", term=4,
             crashed=["S5"])),
    ("(d) if S1 crashes now, S5 can win term 5 (votes: S2, S3, S4) and overwrite index 2",
     servers({"S1": [1, 2, 4], "S2": [1, 3], "S3": [1, 3], "S4": [1, 3], "S5": [1, 3]}, leader="S5", term=5,
             crashed=["S1"])),
    ("(e) but if S1 first copies an entry of ITS term 4 to a majority, S5 can never win",
     servers({"S1": [1, 2, 4], "S2": [1, 2, 4], "S3": [1, 2, 4], "S4": [1], "S5": [1, 3]},
             commit={"S1": 3, "S2": 3, "S3": 3}, leader="S1", term=4)),
]
fig, axes = plt.subplots(len(FIGURE8), 1, figsize=(7, 11))
for ax, (title, logs) in zip(axes, FIGURE8):
    log_rows(logs, ax=ax, title=title, last=3)
plt.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
In (c) the entry at index 2 (term 2) sits on three of five servers, yet it is not safe: S5, whose last
entry has the newer term 3, can still collect three votes, because the election restriction compares
the *last terms* first. If S1 had called index 2 committed in (c) and a client had been told so, (d)
would erase it. Raft's rule (Figure 2, "Rules for Servers, Leaders", last bullet; section 5.4.2):

> A leader sets `commit_index = N` only if a majority has `match_index >= N` **and `log[N].term == current_term`**.

Entries of earlier terms are committed *indirectly*, when an entry of the current term after them is,
as in (e). This is why a new leader usually appends a no-op entry at the start of its term.

The same five steps can be scripted in the simulator with crashes and cuts: a leader cut off with one
follower takes a command "a"; it crashes; another leader takes "b" while cut off, and crashes; the first
restarts and copies "a" to a majority; then the servers holding it crash and the "b" server wins.
The recording ran the *same script* twice: with the reference Raft, and with a variant that differs in
one line: its leader commits by counting replicas, whatever the entry's term. The course's invariant
checkers (`course_lib.checkers.raft`) watched both runs.
"""),
("code", r"""
for name in ("figure8", "figure8_counting"):
    rec = load(name)
    print(rec["title"])
    for step in rec["steps"]:
        print("  ", step)
    print("   invariant violated:", rec["violation"] or "none")
"""),
("code", r"""
good, bad = load("figure8"), load("figure8_counting")
rows = max(len(good["snapshots"]), len(bad["snapshots"]))
fig, axes = plt.subplots(rows, 2, figsize=(12, 2.3 * rows))
for col, rec in enumerate([good, bad]):
    for k in range(rows):
        ax = axes[k][col]
        if k < len(rec["snapshots"]):
            snap = rec["snapshots"][k]
            log_rows(as_servers(snap), ax=ax, last=2,
                     title=f"{'reference' if col == 0 else 'commit by counting'}: {snap['step']}, t={snap['time']:.0f}")
        else:
            ax.axis("off")
plt.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
The reference leader of step (c) holds the old entry on four servers and still does not move its
commit bar: the entry is not of its term. When the "b" server wins, it replaces the entry, and no one
had applied it. The counting variant commits and applies "a" in step (c); when the "b" server is elected
in (d), the checker stops the run: a leader of a later term lacks a committed entry
(*leader completeness*), which is exactly how a committed command would be lost.

## 6. Persistence: what a server must remember

A crashed server loses its memory; only its disk survives. Figure 2 lists three fields as "persistent
state on all servers", to be written to stable storage **before** answering any RPC:

| field | if it were forgotten |
|---|---|
| `current_term` | a restarted server could accept messages of a term it has already left, or start an election in an old term |
| `voted_for` | it could vote twice in one term, for two candidates: two leaders in a term |
| `log` | a committed entry counted on this server's copy could vanish, and a new leader could lack it |

`commit_index` and `last_applied` are volatile: a restarted server learns the commit index again from
the leader and re-applies its log from the start (its state machine restarts empty too, unless it
takes snapshots). In the recorded run below the leader crashes (a new one is elected), then two
followers crash, so that only two of five servers are up; then all three restart from their disks.
"""),
("code", r"""
crash = load("crash_recovery")
print(crash["title"])
print("leaders:", leaders_by_term(crash))
"""),
("code", r"""
run = as_run(crash)
fig = plt.figure(figsize=(12, 9))
gs = fig.add_gridspec(3, 2, height_ratios=[1.2, 1, 1])
role_timeline(run, ax=fig.add_subplot(gs[0, :]), title=crash["title"])
for k, snap in enumerate(crash["snapshots"]):
    log_rows(as_servers(snap), ax=fig.add_subplot(gs[1 + k // 2, k % 2]), title=f"logs at t={snap['time']:.0f}")
plt.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
While three servers are down, the new leader keeps taking commands and sending them to its one live
follower, but its commit bar stops: two copies of five are not a majority, and a minority must not
decide. (Crashed servers are drawn with the state they had when they crashed.) When the crashed
servers restart, each reads its term, vote and log back from disk: nothing they acknowledged is lost,
the old leader learns the newer term at the first heartbeat, and the leader brings every log up to
date and commits the backlog.

## 7. Explore: crash a server, cut the leader off

Twelve recorded runs of the reference Raft, five servers and a client that submits a command every 80
units to whoever leads. At time 600 the chosen server crashes (it restarts at 1400) and, if ticked, the
leader of the moment is cut off from everyone (until 1600). Move the time slider to watch the logs; the
dashed line on the timeline marks the moment drawn below it.
"""),
("code", r"""
import ipywidgets as widgets

GRID = load("grid")


def explore(crash="s2", cut_leader=True, t=1500):
    rec = GRID["runs"][f"{crash}/{int(cut_leader)}"]
    snap = min(rec["snapshots"], key=lambda s: abs(s["time"] - t))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), gridspec_kw={"height_ratios": [1, 1]})
    role_timeline(as_run(rec), ax=ax1,
                  title=f"crash {crash}, cut the leader: {cut_leader}. " + "; ".join(f"{e[0]:g}: {e[1]}" for e in rec["events"]))
    ax1.axvline(snap["time"], color="black", ls="--", lw=1)
    log_rows(as_servers(snap), ax=ax2, last=max(len(s["log"]) for s in rec["snapshots"][-1]["nodes"]),
             title=f"logs at t={snap['time']:.0f}")
    plt.tight_layout()
    plt.show()


widgets.interact(explore,
                 crash=widgets.ToggleButtons(options=GRID["crash"], value="s2", description="crash"),
                 cut_leader=widgets.Checkbox(value=True, description="cut off the leader at 600"),
                 t=widgets.IntSlider(value=1500, min=0, max=2400, step=100, description="time"));
""", IGNORE),
("md", r"""
Things to look for: crashing a follower changes nothing visible for the others (four of five still
form a majority) and the restarted follower catches up within a few heartbeats; cutting off the leader
costs one election timeout of unavailability, and the cut-off leader keeps a growing tail of uncommitted
entries that is overwritten when it returns; crashing a follower *and* cutting off the leader leaves
three of five: still a majority, still progress.

## 8. Trade-offs

- **Availability needs a majority.** With $2f+1$ servers Raft survives $f$ crashes; a minority side of
  a partition cannot commit (chapter 01's CAP: Raft is CP).
- **One round trip per commit, through one leader.** Throughput is bounded by the leader; batching and
  pipelining AppendEntries help, and reads must also go through the leader (or a lease / ReadIndex) to
  be linearizable.
- **Timeouts are a knob.** Short election timeouts replace a dead leader quickly but cause needless
  elections on a slow network; long ones make every leader crash a long outage.
- **Disconnected servers disrupt.** A server cut off from everyone keeps incrementing its term; when it
  returns, its high term deposes a healthy leader. Real systems add a *pre-vote* phase (thesis, 9.6).
- **Beyond this chapter:** log compaction with snapshots, membership changes (joint consensus or one
  server at a time), and client sessions for exactly-once commands (thesis, chapters 4-6).

## Recap

- Raft has three roles and numbered terms; at most one leader per term, because each server votes once
  per term (and remembers its vote on disk) and a leader needs a majority.
- The seed's election fails twice: a fixed timeout splits the votes forever, and a leader that ignores
  newer terms leaves two leaders after a partition. Randomized timeouts and "a newer term makes you a
  follower" repair it; handlers that run to completion, with timers, replace blocking loops.
- AppendEntries' consistency check gives log matching; followers' conflicting suffixes are replaced by
  the leader's.
- A leader commits by counting only entries of its own term (Figure 8); earlier ones commit with them.
- `current_term`, `voted_for` and the log are persistent; the commit index is not.

## Further reading

- D. Ongaro and J. Ousterhout, *In Search of an Understandable Consensus Algorithm*, USENIX ATC 2014 (the Raft paper: Figure 2 is the whole algorithm, Figure 8 the commitment rule).
- D. Ongaro, *Consensus: Bridging Theory and Practice*, PhD thesis, Stanford, 2014 (membership changes, compaction, client interaction, pre-vote).
- H. Howard and R. Mortier, *Paxos vs Raft: Have We Reached Consensus on Distributed Consensus?*, PaPoC 2020 (the two algorithms side by side: they differ mostly in how a leader is chosen).
- The Raft visualisation and the list of implementations at https://raft.github.io (RaftScope: crash servers and watch it recover, as in section 7).
- K. Kingsbury, the Jepsen analyses of etcd (2014, 2020) at https://jepsen.io/analyses: what a real Raft implementation got wrong, and how stale reads slip past a correct log.
- MIT 6.5840 (formerly 6.824), Lab 3 and the *Students' Guide to Raft*, which the exercise follows.
"""),
]

if __name__ == "__main__":
    build(pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "03b_raft.ipynb", cells)
