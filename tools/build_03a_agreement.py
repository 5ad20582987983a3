"""Build notebooks/03a_agreement.ipynb (run: .venv/bin/python tools/build_03a_agreement.py)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from nbbuild import build  # noqa: E402

IGNORE = ["nbval-ignore-output"]

cells = [
("md", r"""
# 03a · Agreement and coordination

**Learning goals.** After this notebook you can

1. say why no protocol over a lossy channel guarantees agreement (two generals), and what real protocols settle for;
2. run two-phase commit, explain why a coordinator crash after *prepare* blocks the participants, and say what each side must write to its log, and when, to recover;
3. explain what three-phase commit adds and why it does not survive a partition;
4. break a heartbeat / highest-id election with a partition (split brain), and compare the message cost of the bully and ring elections;
5. explain lease-based leadership as etcd and Redis are used for it, why a paused leader keeps writing after its lease ran out, and how **fencing tokens** stop it;
6. run single-decree Paxos, watch duelling proposers livelock under symmetric timeouts, and state in plain words why Paxos never chooses two values;
7. tune a heartbeat failure detector and measure its false suspicions under delay.

The exercise of this chapter (`exercises/03a_agreement/`) asks you to build two of the fixes this
notebook only describes: **two-phase commit with recovery from a write-ahead log**, and **lease-based
leader election with fencing tokens**.
"""),
("code", r"""
SEED = 2024  # every simulation in this notebook takes its randomness from this seed

import inspect

import matplotlib.pyplot as plt
from course_lib.sim import Simulation, Node, Constant, Uniform, LogNormal, InvariantViolation
from course_lib.viz import space_time
from course_lib.viz.leaders import leader_timeline
from course_lib.checkers import (atomic_commit, at_most_one_leader, at_most_one_leader_per_term,
                                 fenced_writes_monotonic)
from course_lib import commit, election, paxos
"""),
("md", r"""
## 1. The two generals, once more

Notebook 00 (section 2) told the story: generals A and B must attack together, their messengers cross a
valley where they may be captured, and every message needs an acknowledgement, which needs one in
turn. It measured how often the natural rule "attack if every message addressed to you arrived"
leads to disagreement: $(1-p)^{k-1}p$ for $k$ messengers, smaller for larger $k$ but never zero.

Here is the other half of the argument, as runs: **for every number of rounds $k$ there is a run
in which the generals disagree**, namely the run in which only the last messenger is captured. The
sender of the last message cannot tell that run from the one where it arrived, so it acts the same
in both, and the receiver does not.
"""),
("code", r"""
class General(Node):
    # Send message i+1 when message i arrives; attack if every message addressed to you arrived.

    def __init__(self, rounds):
        self.rounds = rounds
        self.received = 0

    def on_start(self):
        if self.id == "A":
            self.send("B", "messenger", n=1)

    def on_messenger(self, msg):
        self.received += 1
        if msg.n < self.rounds:
            self.send(msg.src, "messenger", n=msg.n + 1)

    def attacks(self):
        expected = sum(1 for i in range(1, self.rounds + 1) if (i % 2 == 0) == (self.id == "A"))
        return self.received == expected


print(" k  first seed where they disagree   A attacks  B attacks  messengers lost")
for k in range(1, 9):
    for run in range(10_000):
        sim = Simulation(seed=f"{SEED}/generals/{k}/{run}", loss=0.3)
        a, b = sim.add_nodes(General, ["A", "B"], k)
        sim.run(until=k + 2)
        if a.attacks() != b.attacks():
            lost = [e.type for e in sim.trace.filter(kind="drop")]
            print(f"{k:>2}  {run:>29}   {str(a.attacks()):>9}  {str(b.attacks()):>9}  {len(lost):>15}")
            break
"""),
("md", r"""
Every line is a run in which exactly one messenger, the last one sent, was lost. No finite $k$
escapes: a protocol that always agreed would still agree with its last message removed, and so on
down to zero messages. So real protocols give up on *certainty for both sides at once*. Two-phase
commit, next, makes one party (the coordinator) decide, makes everyone else wait until they hear the
decision, and retries until they do.
"""),
("md", r"""
## 2. Two-phase commit

A distributed transaction writes at several **participants** (databases, shards, services); either
all of them commit it or none does (**atomicity**), and it commits only if every participant could
(**validity**: a participant may refuse, for a lock conflict or a violated constraint). A
**coordinator** runs two phases (Gray 1978):

1. **prepare**: it sends `prepare(txid, key, value)` to every participant; each asks its database
   whether it can commit and answers `vote(yes|no)`. A *yes* is a promise: "I can commit this, even if
   I crash, until you tell me otherwise".
2. **commit**: all yes, the coordinator decides commit; any no, or a missing vote, abort. It sends
   `decision(commit|abort)` to everyone.

Between its yes vote and the decision a participant is **in doubt**: it may not commit (someone may
have voted no) nor abort (the coordinator may have decided commit). `course_lib.commit` has a
participant base class with the database (`data`, on disk), `local_vote(txid)` and
`commit`/`abort`, which record what happened for the checker `atomic_commit`; and the protocol as
it is usually first drawn, with no log and no recovery:
"""),
("code", r"""
print(inspect.getsource(commit.NaiveParticipant.on_prepare))
print(inspect.getsource(commit.NaiveParticipant.on_decision))
"""),
("code", r"""
PARTICIPANTS = ["p1", "p2", "p3"]

def run_2pc(coordinator_cls=commit.NaiveCoordinator, participant_cls=commit.NaiveParticipant,
            transactions=3, seed=SEED, refusal_rate=0.0, faults=None, until=60, check=True):
    # Run `transactions` transactions, 10 time units apart; `faults(sim)` may schedule crashes.
    sim = Simulation(seed=seed, latency=Uniform(0.5, 1.5))
    commit.set_refusal_rate(sim, refusal_rate)
    coord = sim.add_node(coordinator_cls, "coord")
    sim.add_nodes(participant_cls, PARTICIPANTS)
    if check:
        sim.add_invariant("atomic_commit", atomic_commit)
    if faults:
        faults(sim)
    for i in range(transactions):
        writes = {p: (f"k{i + 1}", f"t{i + 1}@{p}") for p in PARTICIPANTS}
        sim.at(1.0 + 10 * i, lambda t=f"t{i + 1}", w=writes: None if coord.crashed else coord.begin(t, w))
    sim.run(until=until)
    return sim

happy = run_2pc()
print({txid: dict(sorted(decisions.items())) for txid, decisions in commit.transaction_outcomes(happy).items()})
print("messages:", happy.trace.summary()["sent_by_type"])
"""),
("code", r"""
space_time(happy, annotate=["decide"], title="two-phase commit, three transactions, no faults")
plt.show()
""", IGNORE),
("md", r"""
Four messages per participant per transaction, two round trips. Now the failure that made 2PC
famous: the coordinator crashes right after sending the prepares of the first transaction. Every
participant votes yes and then waits, holding the transaction's locks: nobody else may touch `k1`
meanwhile. `commit.crash_after` crashes a node at a protocol point rather than at a clock time.
"""),
("code", r"""
def coordinator_dies_after_prepare(sim, restart_after=None):
    commit.crash_after(sim, "coord", sent="prepare", nth=1, restart_after=restart_after)

blocked = run_2pc(faults=coordinator_dies_after_prepare, transactions=1, until=80)
print("outcomes:", commit.transaction_outcomes(blocked))
print("time each participant spent in doubt (run length 80):", commit.in_doubt_time(blocked))
"""),
("code", r"""
space_time(blocked, annotate=["vote"], title="the coordinator crashes after prepare: the participants block")
plt.show()
""", IGNORE),
("md", r"""
The participants are stuck for the rest of the run, and talking to each other would not help: if
all of them voted yes, none knows whether the coordinator decided commit (and told someone who
then crashed) or abort. Two-phase commit is a **blocking** protocol: a single crash can stop
progress until the coordinator comes back. And this one comes back with nothing: the naive
coordinator kept its state in memory.
"""),
("code", r"""
back = run_2pc(faults=lambda sim: coordinator_dies_after_prepare(sim, restart_after=20),
               transactions=1, until=80)
print("outcomes:", commit.transaction_outcomes(back))
print("in doubt:", commit.in_doubt_time(back))
"""),
("md", r"""
Now crash a *participant* instead, right after it voted yes. It restarts without the staged write
(it was only in memory), then hears "commit" for a transaction it cannot commit any more, so it
aborts it, while the others commit. The checker `atomic_commit`, registered with
`sim.add_invariant`, stops the run at that event:
"""),
("code", r"""
def participant_dies_after_yes(sim):
    commit.crash_after(sim, "p2", recorded="vote", when=lambda e: e["vote"] == "yes", restart_after=2)

try:
    run_2pc(faults=participant_dies_after_yes, transactions=1)
except InvariantViolation as violation:
    print(violation)
"""),
("code", r"""
forgetful = run_2pc(faults=participant_dies_after_yes, transactions=1, check=False, until=20)
space_time(forgetful, annotate=["vote", "decide"], title="p2 crashes after voting yes and forgets")
plt.show()
""", IGNORE),
("md", r"""
How often, over many runs with message loss and random crashes? `commit.commit_scenario` runs any
coordinator and participant classes through eight transactions and checks atomicity throughout and,
when everyone is back up at the end, progress (every transaction decided everywhere). Here a crashed
node is back after 3 time units:
"""),
("code", r"""
from course_lib.grading import ScenarioFailed

def failure_rates(crash, runs=40, **options):
    broken = blocked_runs = 0
    for s in range(runs):
        try:
            commit.commit_scenario(commit.NaiveCoordinator, commit.NaiveParticipant, seed=f"{SEED}/{s}",
                                   crash=crash, loss=0.05, restart_after=3, **options)
        except InvariantViolation:
            broken += 1
        except ScenarioFailed:
            blocked_runs += 1
    return broken / runs, blocked_runs / runs

print("crash point                 atomicity violated   stuck at the end")
for crash in [None, "participant_after_yes", "coordinator_after_prepare", "coordinator_after_commit", "random"]:
    broken, stuck = failure_rates(crash)
    print(f"{str(crash):<27} {broken:>18.0%} {stuck:>18.0%}")
"""),
("md", r"""
Even with no crash, a lost `decision` leaves a participant in doubt for ever: the naive coordinator
sends it once. Crashes add outright violations.

### 2.1 Recovery from the logs

The cure is old and simple: each side writes what it has promised to a **write-ahead log** on disk
*before* telling anyone, and after a restart reads the log to find out where it was.

| who | writes to its log, before sending | after a restart, finding in its log... | it must |
|---|---|---|---|
| participant | its vote, with the staged write, before answering `prepare` | a yes vote without an outcome | stay in doubt and **ask** the coordinator (never decide alone) |
| participant | the outcome, before acknowledging it | a no vote, or an outcome | nothing more: it already knows |
| coordinator | the transaction and its participants, before `prepare` | a transaction without a decision | decide **abort** (nobody can have been told commit) and tell everyone |
| coordinator | the decision, before sending any `decision` | a decision | send it again to everyone who has not acknowledged |

Plus retries: the coordinator resends the decision until every participant acknowledges it, and a
participant in doubt keeps asking. The rule "a decision is logged before it is sent" makes the
coordinator's log the single source of truth; "abort if no decision is logged" is called *presumed
abort* (Mohan, Lindsay and Obermarck 1986). With it, 2PC is safe under any crashes and message loss, and
makes progress whenever the coordinator eventually comes back, but it still **blocks** while the
coordinator is down. Building it is part 1 of this chapter's exercise.

### 2.2 Three-phase commit, and why partitions defeat it

Three-phase commit (Skeen 1981) inserts a round between the vote and the commit: the coordinator
first tells everyone `precommit` ("everybody voted yes"), waits for acknowledgements, and only then
sends commit. Now no participant can have committed while another still does not know that all
voted yes, so when the coordinator goes silent the participants can finish on their own: ask each
other, commit if anyone is precommitted, abort otherwise.
"""),
("code", r"""
def run_3pc(faults, seed=SEED):
    sim = Simulation(seed=seed, latency=Constant(1.0))
    coord = sim.add_node(commit.ThreePCCoordinator, "coord")
    sim.add_nodes(commit.ThreePCParticipant, PARTICIPANTS)
    commit.set_refusal_rate(sim, 0.0)
    faults(sim)
    sim.at(1.0, coord.begin, "t1", {p: ("k1", f"t1@{p}") for p in PARTICIPANTS})
    sim.run(until=60)
    return sim

# The coordinator crashes right after sending its precommits.
crashed_3pc = run_3pc(lambda sim: commit.crash_after(sim, "coord", sent="precommit"))
print("coordinator crash:", commit.transaction_outcomes(crashed_3pc)["t1"])

# A partition cuts p1 off while the precommits are on their way, and the coordinator crashes.
def cut_after_first_precommit(sim):
    sim.nemesis.partition([["p1"], ["coord", "p2", "p3"]], at=3.5)
    sim.nemesis.crash("coord", at=3.5)
split_3pc = run_3pc(cut_after_first_precommit)
print("partition:        ", commit.transaction_outcomes(split_3pc)["t1"])
"""),
("code", r"""
space_time(split_3pc, annotate=["decide"], title="3PC under a partition: p2 and p3 commit, p1 aborts")
plt.show()
""", IGNORE),
("md", r"""
After the coordinator's crash the participants terminate consistently: it is non-blocking. Under the
partition, `p2` and `p3` got their precommits and, hearing each other, commit; `p1`'s precommit was
cut off, and `p1`, hearing nobody and not precommitted itself, aborts. 3PC is correct only if a silent node is a crashed node, that is, in a *synchronous*
system with bounded delays, which a partitioned or merely slow network is not. This is one face of
the FLP impossibility result (Fischer, Lynch and Paterson 1985): no deterministic protocol reaches
agreement in an asynchronous system if even one process may crash. Practical systems therefore
replicate the *coordinator* with a consensus protocol (Paxos, section 4; Raft in chapter 03b), as
Spanner does for its 2PC, so that "the coordinator is down" stops being a thing.
"""),
("md", r"""
## 3. Leader election

Many systems want one node to coordinate: to order writes, run the 2PC, hold a lock. Electing it is
itself an agreement problem, and the course brief's first attempt is this Ruby class: every node
records the last heartbeat of every other, checks the leader's every second, and when the leader
has been silent longer than the timeout, picks the highest id heard from recently.

```ruby
def check_leader_health
  return if @current_leader.nil?
  last_seen = @last_heartbeat[@current_leader]
  if last_seen.nil? || Time.now - last_seen > @timeout
    elect_new_leader
  end
end
def elect_new_leader
  candidates = @nodes.select { |node| hb = @last_heartbeat[node.id]; hb && Time.now - hb < @timeout }
  @current_leader = candidates.max_by(&:id)&.id
end
```

`election.HeartbeatElection` is a port, each node running it and sending heartbeats to all. The
helper `watch_leaders` records who believes they lead, and `leader_timeline` draws it.
"""),
("code", r"""
print(inspect.getsource(election.HeartbeatElection.check_leader_health))
print(inspect.getsource(election.HeartbeatElection.elect_new_leader))

NODES5 = ["n1", "n2", "n3", "n4", "n5"]

def run_heartbeat(partition=(25, 60), until=100, seed=SEED):
    sim = Simulation(seed=seed, latency=Uniform(0.5, 1.5))
    sim.add_nodes(election.HeartbeatElection, NODES5)
    log = election.watch_leaders(sim)
    if partition:
        sim.nemesis.partition([["n1", "n2", "n3"], ["n4", "n5"]], at=partition[0], heal_at=partition[1])
    sim.run(until=until)
    return sim, log

hb, hb_log = run_heartbeat()
print("leaders believed by each node at the end:", {n: node.current_leader for n, node in hb.nodes.items()})
print(f"time with two leaders at once: {hb_log.overlap():.1f} of {hb.now:g}")
"""),
("code", r"""
leader_timeline(hb_log, title="the brief's heartbeat election: {n1,n2,n3} | {n4,n5} from 25 to 60")
plt.show()
""", IGNORE),
("md", r"""
The majority side lost `n5`'s heartbeats and elected `n3`; the minority side kept `n5`: **split
brain**. Worse, healing the partition does not repair it: each side's leader is alive, so
`check_leader_health` never runs the election again. The invariant `at_most_one_leader` says when
it started:
"""),
("code", r"""
sim = Simulation(seed=SEED, latency=Uniform(0.5, 1.5))
sim.add_nodes(election.HeartbeatElection, NODES5)
sim.add_invariant("at_most_one_leader", at_most_one_leader)
sim.nemesis.partition([["n1", "n2", "n3"], ["n4", "n5"]], at=25, heal_at=60)
try:
    sim.run(until=100)
except InvariantViolation as violation:
    print(violation)
"""),
("md", r"""
The missing ingredient is a **majority**: a leader must be acknowledged by more than half of the
nodes, and two majorities always share a node, which can refuse to back two leaders for the same
*term*. That is how Raft elects (chapter 03b). The checker `at_most_one_leader_per_term` states the
rule Raft guarantees; the weaker `at_most_one_leader` (no two leaders at any instant) cannot be
guaranteed by anyone, because a deposed leader learns of it only by a message.

### 3.1 Bully and ring

Two classic elections assume the network is reliable and only nodes crash; they differ in cost.
In the **bully** algorithm (Garcia-Molina 1982) a node that notices the leader is gone challenges
every higher id; any live higher node answers and takes over the election; the highest live id
announces itself. In the **ring** algorithm (Chang and Roberts 1979) an election message travels
around a ring carrying the largest id seen, and the node that gets its own id back announces itself.
"""),
("code", r"""
print("  n   bully: lowest id starts  bully: next-highest starts   ring: one starter  ring: all start (decreasing ids)")
sizes = [4, 8, 12, 16, 24]
counts = {"bully worst": [], "bully best": [], "ring one": [], "ring all": []}
for n in sizes:
    worst = election.run_bully(n, initiator=1, seed=SEED).trace.summary()["sent"]
    best = election.run_bully(n, initiator=n - 1, seed=SEED).trace.summary()["sent"]
    one = election.run_ring(n, initiators="one", seed=SEED).trace.summary()["sent"]
    everyone = election.run_ring(n, initiators="all", arrangement="decreasing", seed=SEED).trace.summary()["sent"]
    for key, value in zip(counts, (worst, best, one, everyone)):
        counts[key].append(value)
    print(f"{n:>3} {worst:>25} {best:>27} {one:>19} {everyone:>18}")
"""),
("code", r"""
fig, ax = plt.subplots(figsize=(6.5, 3.5))
for label, values in counts.items():
    ax.plot(sizes, values, marker="o", label=label)
ax.set_xlabel("number of nodes n")
ax.set_ylabel("messages for one election")
ax.set_title("election cost: O(n^2) worst cases, O(n) best cases")
ax.legend()
plt.show()
""", IGNORE),
("md", r"""
The bully's worst case (the lowest id notices first) costs $O(n^2)$ messages: every node challenges
every higher one. Its best case is $O(n)$. The ring with one starter needs about $3n$ messages
(around twice with the election, once with the result), but if everyone starts at once with ids
decreasing along the ring, message $i$ travels $i$ hops: $O(n^2)$ again. Neither survives a
partition any better than the heartbeat election: both decide from silence.

### 3.2 Leases, as etcd and Redis are used for them

Instead of agreeing among themselves, candidates can ask a **coordination service** that is itself
replicated with consensus (etcd runs Raft; ZooKeeper runs Zab) and hold a **lease**: leadership that
expires after a time to live unless renewed. The brief shows both idioms:

```python
# etcd: create the election key if nobody has
self.client.put(f"/elections/{self.name}", self.node_id, prevExist=False)
# Redis: SET NX with a 10 s TTL, renewed by EXPIRE
self.redis.set(self.key, self.node_id, nx=True, ex=10)
self.redis.expire(self.key, 10)
```

`election.LeaseStore` is a small server with those commands (`set_nx`, `expire`); the brief's two
classes are ported on top of it. The etcd one creates the key with no lease at all. So when its
leader crashes, the key stays:
"""),
("code", r"""
sim = Simulation(seed=SEED, latency=Uniform(0.2, 1.0))
sim.add_node(election.LeaseStore, "etcd")
sim.add_nodes(election.EtcdLeaderElection, ["n1", "n2", "n3"], "etcd")
etcd_log = election.watch_leaders(sim)
sim.run(until=10)
leader = [n for n in ["n1", "n2", "n3"] if sim.node(n).is_leader()][0]
sim.nemesis.crash(leader, at=10)
sim.run(until=60)
print("leader until 10:", leader, "| leaders from 10 to 60:", etcd_log.leaders_at(30), "| the key still says:",
      sim.node("etcd").values)
"""),
("md", r"""
Nobody leads after the crash, for ever. A lease fixes that (etcd: `client.lease(10)` and
`put(..., lease=...)`; Redis: `ex=10`). The Redis version has one: a leader that stops renewing loses
the key after 10 s and another candidate takes it. Every second its leader renews and does a unit of
work, a `write` to a storage service. Now the classic failure (Kleppmann 2016): the leader is
**paused**, by a long garbage collection, a VM migration, a swapped-out page, for longer than its
lease. `election.pause_node` models that: the node keeps its memory, handles nothing for a while,
then handles everything that waited.
"""),
("code", r"""
def run_redis(pause_for=15.0, pause_at=20.0, until=60.0, seed=SEED, check_tokens=False):
    sim = Simulation(seed=seed, latency=Uniform(0.2, 1.0))
    sim.add_node(election.LeaseStore, "redis")
    sim.add_nodes(election.RedisLeaderElection, ["n1", "n2", "n3"], "redis", "store")
    store = sim.add_node(election.FencedStorage, "store", check_tokens=check_tokens)
    log = election.watch_leaders(sim)
    def pause_the_leader():
        leaders = [n for n in ["n1", "n2", "n3"] if sim.node(n).is_leader()]
        if leaders and pause_for > 0:
            election.pause_node(sim, leaders[0], pause_for)
    sim.at(pause_at, pause_the_leader)
    sim.run(until=until)
    return sim, log, store

redis_sim, redis_log, redis_store = run_redis()
print("who led:", [(n, round(a, 1), round(b, 1)) for n, a, b, _ in redis_log.intervals()])
writers = [w["writer"] for w in redis_store.accepted_writes if w["time"] > 35]
print("writes accepted after 35 by writer:", {n: writers.count(n) for n in sorted(set(writers))})
"""),
("code", r"""
leader_timeline(redis_log, title="the brief's Redis election: the leader pauses at 20 for 15 (lease 10)")
plt.show()
""", IGNORE),
("md", r"""
The paused leader resumes still believing it leads (nothing in the brief's code ever makes it doubt),
and both leaders now write, interleaved. Its `EXPIRE` even renews the new leader's key, so neither
ever steps down. Two fixes are needed, and the exercise asks you for both:

1. **A leader must know when its lease ends, on its own clock, and stop before.** Measure the
   lease from when you *asked* for it (the server's clock started later than that, never
   earlier), check it before every action, and renew with the lease's identity so a server can
   refuse to extend someone else's lease.
2. That is still not enough. A pause can strike *between* the check and the write, or the write
   can sit in a network queue past the lease's end. So the storage must reject writes from deposed
   leaders by itself: every lease comes with a **fencing token**, a number that grows with every
   grant (etcd's revision, ZooKeeper's zxid), the leader sends it with each write, and the storage
   rejects a write whose token is lower than one it has already seen.

Here is fencing on its own, in Kleppmann's example: client 1 holds the lease with token 33 and is
paused; its lease expires and client 2 gets token 34 and writes; client 1 wakes up and sends its
write. `election.FencedStorage` checks tokens unless told not to:
"""),
("code", r"""
class Client(Node):
    # Write once at `at`, carrying fencing token `token`.
    def __init__(self, token, at):
        self.token, self.at = token, at

    def on_start(self):
        self.set_timer(self.at, self.write)

    def write(self):
        self.send("storage", "write", token=self.token, value=f"from {self.id}")

    def on_write_ok(self, msg):
        self.record("ok")

    def on_write_rejected(self, msg):
        self.record("rejected", highest=msg.highest)


for check in (False, True):
    sim = Simulation(seed=SEED, latency=Constant(1.0))
    storage = sim.add_node(election.FencedStorage, "storage", check_tokens=check)
    sim.add_node(Client, "client1", 33, 1.0)
    sim.add_node(Client, "client2", 34, 5.0)
    election.pause(sim, "client1", at=0.5, duration=10)   # stops before its write at 1.0
    sim.add_invariant("fenced_writes_monotonic", fenced_writes_monotonic)
    try:
        sim.run(until=20)
        print(f"check_tokens={check}: final value {storage.value!r}; rejected {len(storage.rejected_writes)} write(s)")
    except InvariantViolation as violation:
        print(f"check_tokens={check}:", violation)
"""),
("code", r"""
space_time(sim, annotate=["pause", "resume", "rejected"], title="fencing: client1's token 33 arrives after 34")
plt.show()
""", IGNORE),
("md", r"""
Fencing needs the storage's help: a service that cannot compare tokens cannot be protected this way.
The safety comes from the token, the liveness from the lease: a crashed leader's lease runs out, and
the next one gets a higher token.

### 3.3 Explore: how long a pause does it take?

Slide the pause length (the lease lasts 10) and the seed. Below about 10 the old leader renews in
time and nothing happens; above it, two leaders write side by side until the end of the run. (A
fencing storage would not save the brief's leaders: they send no token, so it would reject them all.
Fencing needs the leaders' cooperation too.)
"""),
("code", r"""
import ipywidgets as widgets

def explore(pause_for=15.0, seed=1):
    sim, log, store = run_redis(pause_for=pause_for, seed=seed)
    writers = sorted({w["writer"] for w in store.accepted_writes if w["time"] > 20})
    fig, ax = plt.subplots(figsize=(11, 2.6))
    leader_timeline(log, ax=ax, title=f"pause {pause_for:g} (lease 10), seed {seed}: "
                    f"writers after the pause {writers}, overlap {log.overlap():.1f}")
    plt.show()

widgets.interact(explore,
                 pause_for=widgets.FloatSlider(value=15.0, min=0.0, max=30.0, step=1.0, description="pause"),
                 seed=widgets.IntSlider(value=1, min=1, max=30, description="seed"));
""", IGNORE),
("md", r"""
## 4. Paxos, for a single value

Leases need a coordination service that is itself fault-tolerant. Its heart is **consensus**:
several nodes agree on a value even if some crash and messages are lost or late. Paxos (Lamport
1998, 2001) decides one value with three roles, here all played by every node (`paxos.PaxosNode`):

* a **proposer** picks a ballot number `(round, its id)`, higher than any it has seen, and sends
  `prepare(ballot)` to all acceptors;
* an **acceptor** that has promised nothing higher **promises** to ignore lower ballots and reports
  the value it has accepted, if any; with promises from a **majority**, the proposer sends
  `accept(ballot, value)`, where the value is the one accepted under the highest ballot among the
  promises, or its own if there is none;
* an acceptor accepts unless it promised a higher ballot, and tells the **learners**; a value is
  chosen once a majority accepted it under one ballot.
"""),
("code", r"""
single = paxos.run_paxos(proposers=[(0.0, "a", "x")], seed=SEED)
print("learned:", paxos.learned_values(single), "at", round(paxos.decision_time(single), 2))
print("messages:", single.trace.summary()["sent_by_type"])
"""),
("md", r"""
**Why it never chooses two values, in plain words.** Suppose value $v$ was chosen under ballot $b$:
a majority $M$ accepted it. Any later ballot $b' > b$ needs promises from a majority $M'$, and $M'$
shares at least one acceptor with $M$. That acceptor accepted $v$ at $b$ before it promised $b'$
(after promising $b'$ it would have refused $b$), so it reports $v$, or a value accepted at a ballot
between $b$ and $b'$, which by the same argument applied to that ballot is also $v$. The proposer of
$b'$ must propose the value of the highest ballot reported, so it proposes $v$. By induction on
ballots, every ballot after $b$ proposes $v$: once chosen, always chosen. Nothing in the argument
depends on timing, so message loss, delay and reordering cannot break safety; crashes cannot either,
because acceptors keep their promises and accepted values on disk.

**Why it may never choose at all.** Progress needs one proposer to finish both phases undisturbed.
Two proposers that keep preempting each other (A's prepare arrives between B's promise and B's
accept, then B's between A's) can go on for ever: **livelock**. Below, two proposers start one time
unit apart and retry when a round has not finished after a timeout, with the same timeout for both
("fixed") or a randomised one ("random"):
"""),
("code", r"""
def duel(backoff, seed, timeout=2.5):
    return paxos.run_paxos(proposers=[(0.0, "a", "x"), (1.0, "e", "y")], backoff=backoff,
                           timeout=timeout, seed=seed, until=100)

print("timeouts   runs that decided by t=100   median time to decide   mean rounds started")
for backoff in ("fixed", "random"):
    sims = [duel(backoff, f"{SEED}/{s}") for s in range(40)]
    times = sorted(t for t in (paxos.decision_time(s) for s in sims) if t is not None)
    rounds = sum(len(s.trace.custom("prepare")) for s in sims) / len(sims)
    median = f"{times[len(times) // 2]:.1f}" if times else "never"
    print(f"{backoff:<8} {len(times):>20}/40 {median:>24} {rounds:>21.1f}")
    for s in sims:
        values = set(paxos.learned_values(s).values()) - {None}
        assert len(values) <= 1, "two values chosen!"   # safety holds in every run, decided or not
"""),
("code", r"""
space_time(duel("fixed", f"{SEED}/0"), end=20, types=["prepare", "accept", "nack"],
           title="duelling proposers with equal timeouts: every round preempts the other")
plt.show()
""", IGNORE),
("md", r"""
With equal timeouts every one of the 40 runs livelocks; randomised timeouts break the symmetry and
every run decides within a few rounds. That is why Raft randomises election timeouts, and why
Multi-Paxos elects a distinguished proposer (a leader) and lets only it propose: consensus is safe
always, and live when the system is calm for long enough. FLP says no protocol can do better.

## 5. Failure detection: heartbeats and missed beats

Every protocol above has to decide when a silent node is dead: the coordinator's vote timeout, the
election's heartbeat timeout, the lease's TTL. The brief's failure detector counts checks without a
heartbeat and suspects a node after `threshold` of them:

```python
def check_failures(self):
    for node, misses in self.nodes.items():
        self.nodes[node] += 1
        if self.nodes[node] >= self.threshold:
            self.mark_node_failed(node)
```

The brief's table says it plainly: heartbeats detect failures within a timeout period, **with false
positives**. `election.HeartbeatMonitor` runs it, checking every second, with heartbeats every second.
First, a node that really crashes: how long until it is suspected?
"""),
("code", r"""
print("threshold   detection delay of a real crash at t=50")
for threshold in (1, 2, 3, 5, 8):
    sim = election.run_failure_detector(threshold=threshold, crash="w1", crash_at=50.3, until=80, seed=SEED)
    first = [t for t, node in election.suspicions(sim) if node == "w1" and t >= 50.3]
    print(f"{threshold:>9} {first[0] - 50.3:>12.1f}")
"""),
("md", r"""
Roughly `threshold` check intervals (with threshold 1 the detector already suspects every node at
almost every check: a heartbeat sent at the same instant as the check arrives just after it). Now nobody crashes, but delays have a long tail (log-normal,
median 0.3): some heartbeats arrive late, and a late heartbeat looks exactly like a dead node.
"""),
("code", r"""
thresholds = [1, 2, 3, 4, 6, 8]
tails = {"sigma 0.5": 0.5, "sigma 1.0": 1.0, "sigma 1.5": 1.5}
false_rates = {}
print("false suspicions per node per 100 time units (no node ever fails)")
print("threshold  " + "  ".join(f"{name:>10}" for name in tails))
for threshold in thresholds:
    row = []
    for name, sigma in tails.items():
        sim = election.run_failure_detector(threshold=threshold, latency=LogNormal(0.3, sigma),
                                            until=500, seed=SEED)
        rate = len(election.suspicions(sim)) / 4 / 5
        false_rates.setdefault(name, []).append(rate)
        row.append(rate)
    print(f"{threshold:>9}  " + "  ".join(f"{r:>10.2f}" for r in row))
"""),
("code", r"""
fig, ax = plt.subplots(figsize=(6.5, 3.5))
for name, rates in false_rates.items():
    ax.plot(thresholds, rates, marker="o", label=f"log-normal delays, {name}")
ax.set_xlabel("threshold (missed checks before suspecting)")
ax.set_ylabel("false suspicions / node / 100 t")
ax.set_title("a failure detector trades detection time for false suspicions")
ax.legend()
plt.show()
""", IGNORE),
("md", r"""
Every threshold is a bet: low thresholds detect crashes fast and suspect healthy nodes under delay;
high thresholds rarely err and react slowly. No setting is right in an asynchronous network, which is
why a suspicion must never be treated as a fact: the suspected leader may still be writing (section
3.2), the suspected coordinator may have decided (section 2). Chapter 06 returns to detectors that
adapt to the delays they observe (phi accrual) and that spread the work (SWIM).

## 6. Trade-offs

| mechanism | safe under | live under | cost | the catch |
|---|---|---|---|---|
| 2PC with logs | any crashes, loss | coordinator eventually back | 2 round trips, 2 log writes each | blocks while the coordinator is down |
| 3PC | crashes, in a synchronous network | one coordinator crash | 3 round trips | partitions break atomicity |
| heartbeat / highest id | nothing | crashes only | n² heartbeats | split brain under partition |
| bully, ring | crashes, reliable network | crashes | O(n²) worst, O(n) best | decide from silence |
| lease + fencing | pauses, delays, partitions | service reachable | a round trip per renewal | storage must check tokens |
| Paxos | any crashes, loss, delay | a calm period with one proposer | 2 round trips per value | livelock without randomisation or a leader |

## Recap

- Two parties over a lossy channel can never both be sure; protocols give one party the decision and make the others wait and retry.
- Two-phase commit is atomic when each side logs before it speaks and recovers from its log, and it blocks while the coordinator is down; 3PC unblocks it only in a synchronous world.
- Elections that decide from silence split under partitions; a majority, a term, or a lease from a consensus service are what make a single leader meaningful.
- A lease is a promise about time, and a paused process cannot keep it: fencing tokens make the storage enforce what the lease only suggests.
- Paxos is always safe and live only when calm; randomised timeouts or a leader give it the calm.
- Failure detectors suspect, they never know: tune them for the error you can afford.

## Further reading

- J. Gray, *Notes on Data Base Operating Systems*, 1978 (two-phase commit, the two generals); E. A. Akkoyunlu, K. Ekanadham, R. V. Huber, SOSP 1975.
- C. Mohan, B. Lindsay, R. Obermarck, *Transaction Management in the R\* Distributed Database Management System*, ACM TODS 1986 (presumed abort and commit).
- D. Skeen, *Nonblocking Commit Protocols*, SIGMOD 1981 (three-phase commit).
- M. Fischer, N. Lynch, M. Paterson, *Impossibility of Distributed Consensus with One Faulty Process*, JACM 1985.
- H. Garcia-Molina, *Elections in a Distributed Computing System*, IEEE Trans. Computers 1982 (bully); E. Chang, R. Roberts, *An Improved Algorithm for Decentralized Extrema-Finding in Circular Configurations of Processes*, CACM 1979 (ring).
- C. Gray, D. Cheriton, *Leases: An Efficient Fault-Tolerant Mechanism for Distributed File Cache Consistency*, SOSP 1989; M. Burrows, *The Chubby Lock Service for Loosely-Coupled Distributed Systems*, OSDI 2006 (sequencers, i.e. fencing tokens).
- M. Kleppmann, *How to do distributed locking*, 2016, and *Designing Data-Intensive Applications*, chapters 8 and 9.
- L. Lamport, *The Part-Time Parliament*, ACM TOCS 1998, and *Paxos Made Simple*, 2001.
- T. Chandra, S. Toueg, *Unreliable Failure Detectors for Reliable Distributed Systems*, JACM 1996.
- J. Corbett et al., *Spanner: Google's Globally-Distributed Database*, OSDI 2012 (2PC over Paxos groups).
"""),
]

if __name__ == "__main__":
    build(pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "03a_agreement.ipynb", cells)
