"""Build notebooks/01_cap_and_consistency.ipynb (run: .venv/bin/python tools/build_01_cap_and_consistency.py)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from nbbuild import build  # noqa: E402

IGNORE = ["nbval-ignore-output"]

cells = [
("md", r"""
# 01 · CAP, PACELC and consistency models

**Learning goals.** After this notebook you can

1. state the CAP theorem precisely: which "consistency", which "availability", which partitions, and what it does *not* say;
2. explain why "CA" is not an option for a replicated system, and what PACELC adds when the network is fine;
3. run a replicated register in the simulator in an AP and a CP design, and *measure* its availability and consistency under a partition;
4. measure the latency that stronger consistency costs without any partition;
5. tell apart linearizability, sequential consistency, causal consistency, eventual consistency, read-your-writes and monotonic reads on small histories, and check histories with the course's checkers;
6. check a real recorded history (from a Jepsen-style test) for linearizability and read the checker's explanation.

The exercise of this chapter (`exercises/01_consistency/`) asks you to build what this notebook leaves
out: client **sessions** that give read-your-writes and monotonic reads on the AP register, and a
**majority-quorum** register, which stays linearizable and keeps working on the majority side of any
partition.
"""),
("code", r"""
SEED = 2024  # every simulation in this notebook takes its randomness from this seed

import inspect

import matplotlib.pyplot as plt
from course_lib.consistency import (AsyncReplica, PrimaryReplica, run_workload, plot_windows,
                                    stale_reads, latencies)
from course_lib.checkers import (linearizable, sequential_consistency, read_your_writes,
                                 monotonic_reads, monotonic_writes, writes_follow_reads, converged)
from course_lib.history import History, load_jepsen, bundled_history_path
from course_lib.sim import LogNormal
from course_lib.viz import space_time
from course_lib.viz.timeline import plot_history
"""),
("md", r"""
## 1. A motivating failure

Three replicas `n1`, `n2`, `n3` keep a single register `x`; two clients sit next to each replica and
read and write `x` through it. This first design is the one chapter 00 ended with: every replica
answers from its own copy at once, sends each write on to the others in the background, and repairs
anything lost by periodically resending its whole copy (*anti-entropy*); concurrent writes are ordered
by a version `(counter, node id)`, and the highest version wins (*last writer wins*).

From $t=30$ to $t=70$ the network cuts `n3` (and its clients) off from the other two.
"""),
("code", r"""
SCENARIO = dict(clients_per_replica=2, duration=100, partition=(30, 70))  # n3 is cut off by default

ap = run_workload("AP", seed=SEED, **SCENARIO)
print(ap.summary())
during = [s for s in ap.stale_reads() if 30 <= s.read.call_time < 70]
print(f"{len(ap.stale_reads())} stale reads, {len(during)} of them during the partition; the first of those:")
print(" ", during[0])
"""),
("md", r"""
Every one of the 100 operations succeeded: the register was perfectly *available*. But some reads
returned a value that had already been overwritten by a write *acknowledged before the read began*.
Here is the first such read during the partition, with the write it missed in red:
"""),
("code", r"""
first = during[0]
lo, hi = first.missed.call_time - 4, first.read.return_time + 2
ax = plot_history(ap.history, window=(lo, hi), highlight=[first.read, first.missed],
                  title=f"p{first.read.process} reads a value that p{first.missed.process} "
                        f"had already overwritten (partition from t=30)")
ax.set_yticklabels([f"{t.get_text()} via {ap.clients[int(t.get_text()[1:])]}" for t in ax.get_yticklabels()])
plt.show()
""", IGNORE),
("md", r"""
Each bar is an operation, from the moment a client invoked it to the moment it got its answer (a row
per client, labelled with the replica it talks to). A client on one side of the partition wrote a new
value and was told "ok"; a moment later a client on the other side read `x` and got the older value,
because its replica could not hear about the write. Nothing in the history is
wrong from any single replica's point of view, and yet no single copy of a register could have
behaved like this. The linearizability checker (sections 6 and 7) confirms it, and finds the point from
which the history can no longer be explained by a single copy:
"""),
("code", r"""
result = ap.check()
when = ap.first_violation()
print("linearizable:", result.valid)
print(f"not linearizable from t={when:.2f},", "before the partition began!" if when < 30 else "during the partition")
print(result.explain().splitlines()[0])
"""),
("md", r"""
The first violation comes *before* the partition: asynchronous replication lets a read on one replica
miss a write just acknowledged on another even when the network is fine, only more rarely. Section 5
measures that; the partition turns the occasional stale read into a steady stream.
"""),
("md", r"""
Could a better replica have avoided it? `n3` had two options when its client asked for `x`: answer
with what it had (possibly stale), or refuse. There was no third option, because during the partition
no message from `n1` can reach it. That is the whole of the CAP theorem.

## 2. CAP, stated precisely

Brewer conjectured it in his PODC 2000 keynote; Gilbert and Lynch (2002) turned it into a theorem
with precise definitions, and the precision matters:

- **Consistency** means *linearizability* (they say "atomic") of a read/write register: every
  operation appears to take effect at a single instant between its invocation and its response, so
  the system behaves like one copy (Herlihy and Wing, 1990). It is *not* the C of ACID, and not
  "replicas eventually agree".
- **Availability** means: every request received by a non-failed node must eventually get a
  response, and (as the theorem is usually read, e.g. by Kleppmann 2015) a real answer, not an error.
  It says nothing about *how fast*, and nothing about nodes that have crashed.
- **Partition tolerance** means the guarantees must hold even when the network loses arbitrarily many
  messages between nodes, for as long as it likes.

**Theorem** (Gilbert and Lynch). In an asynchronous network that may lose messages, no
implementation of a read/write register guarantees both consistency and availability in every
execution. The proof is the picture above: cut the nodes into two sides, write on one side, read on
the other; an available node must answer the read without having heard of the write.

What the theorem does **not** say:

- It is about one register and the strongest model. Weaker models (causal consistency, read-your-writes)
  *can* be kept available under partitions, for clients that stay on one side; section 6 draws the map.
- "Not available" does not mean "down": a CP system may serve the majority side of a partition, and
  only clients cut off with a minority get errors (as the measurements below show).
- It says nothing about latency, nothing about crashes (a crashed node owes nobody an answer), and
  nothing about what a system does when there is **no** partition. That is PACELC's half.
- "Pick two of three" is a misleading slogan: partitions are not something a system picks. Brewer
  himself revisited it in 2012 ("CAP twelve years later").
"""),
("md", r"""
### The course brief's CAP table, read critically

The source material summarises CAP with this table:

| System Type | Consistency | Availability | Example Use |
|---|---|---|---|
| CP | Yes | During partitions, no | Banking, inventory |
| AP | Eventually | Yes | Social media, caching |
| CA | Yes | In single partition | Traditional RDBMS |

Three corrections:

1. **CA is not a choice you get under partitions.** A system with more than one node that talks over
   a network *will* see partitions; when it does, each node must either answer (and give up
   linearizability) or wait/refuse (and give up availability). A "CA" system is either a single
   machine (no partition to tolerate, and no availability when that machine fails) or a system whose
   behaviour under partitions is simply unspecified, which in practice means split brain. "In single
   partition" is a description of luck, not a design.
2. **CP does not mean "unavailable during partitions".** It means some requests, on some nodes, get
   errors or wait. A majority-quorum system keeps serving the majority side; the primary-based register
   below keeps serving the primary's side, whichever that is.
3. **AP does not promise "eventually".** CAP's A says nothing about convergence; eventual consistency
   is an *extra* property that a good AP design adds (anti-entropy, last-writer-wins, CRDTs). An AP
   system can just as well lose writes for ever (chapter 00's naive replica was "available").

The example column is also too tidy: many real databases are neither CP nor AP in the theorem's
sense. A single-leader database with asynchronous replicas and automatic failover can lose
acknowledged writes (not C) and refuses writes on the replicas' side (not A); Kleppmann (2015) argues
for describing systems by their measured consistency model and latency instead. This notebook does
exactly that.
"""),
("md", r"""
## 3. Two registers in the simulator

`course_lib.consistency` holds two replica classes that speak the same small protocol with their
clients: a client sends `read(key)` or `write(key, value)` to *its* replica and waits for `read_ok(value)`,
`write_ok()` or `error(reason, definite)`. The client records what it saw in a Jepsen-style history:

| the client got | recorded as | meaning |
|---|---|---|
| `read_ok` / `write_ok` | `ok` | it happened, with this result |
| `error(definite=True)` | `fail` | it certainly did **not** happen |
| `error(definite=False)` | `info` | it may or may not have happened |
| nothing within the timeout | `info` | (the request or the answer may be lost, or just slow) |

The **AP** register, `AsyncReplica`, is the design of section 1: answer locally, push in the background.
"""),
("code", r"""
print(inspect.getsource(AsyncReplica.on_read))
print(inspect.getsource(AsyncReplica.on_write))
print(inspect.getsource(AsyncReplica.apply))
"""),
("md", r"""
The **CP** register, `PrimaryReplica`, is the simplest linearizable design: one fixed primary (`n1`)
holds the only copy of the truth, and the other replicas merely forward requests to it. If the primary
does not answer within `forward_timeout`, the replica *refuses*. For a read that refusal is definite
(a read changes nothing). For a write it is not: the primary may have applied the write and only its
answer was lost, so the replica honestly says `definite=False`.
"""),
("code", r"""
print(inspect.getsource(PrimaryReplica.on_read))
print(inspect.getsource(PrimaryReplica.on_write))
"""),
("md", r"""
Because every operation takes effect at one place (the primary) at one instant between the client's
request and its answer, every history is linearizable, whatever the network does: the test suite
checks this under random partitions, crashes, loss, duplication and reordering over many seeds.
The price is visible in a space-time diagram: `n3`'s forwarded requests disappear into the partition,
and after `forward_timeout` it refuses (`c0` is `n1`'s client and `c2` is `n3`'s; `n2`'s client is left
out to keep the picture readable).
"""),
("code", r"""
small = run_workload("CP", seed=SEED, duration=26, settle=4, partition=(10, 20), think=(2, 4))
space_time(small.sim, nodes=["c0", "n1", "n2", "n3", "c2"], start=5, end=28,
           title="CP register: n3 is cut off from the primary n1 between t=10 and t=20")
plt.show()
""", IGNORE),
("md", r"""
## 4. Measuring availability and consistency under a partition

Run both registers with the same seed, the same clients and the same partition, and cut the history
into windows of 10 time units. For each window: the share of operations that succeeded
(**availability**), and the number of **stale reads** (reads that returned a value overwritten by a
write acknowledged before they began). The dashed line marks the point from which the whole history
is no longer linearizable.
"""),
("code", r"""
cp = run_workload("CP", seed=SEED, **SCENARIO)
for run in (ap, cp):
    print(run.summary())
"""),
("code", r"""
plot_windows({"AP (AsyncReplica)": ap, "CP (PrimaryReplica)": cp}, width=10,
             title="n3 cut off from t=30 to t=70 (shaded)")
plt.show()
""", IGNORE),
("md", r"""
The two designs fail in opposite directions. The AP register answers everything, and its stale reads
jump during the partition: both sides keep writing, and each side reads only its own writes (its
occasional stale reads before the partition are the replication lag of section 5). After the partition
heals, anti-entropy brings the copies back together:
"""),
("code", r"""
print(ap.converged().explain())
"""),
("md", r"""
The CP register never serves a stale read, and its availability drops during the partition, because
the clients of `n3` (a third of them) get refusals or time-outs. One seed is an anecdote; here are 20:
"""),
("code", r"""
def inside(run, start=30, end=70):
    # The operations invoked while the partition lasted.
    return [op for op in run.history.operations() if start <= op.call_time < end]

print(f"{'mode':<5} {'availability in partition':>26} {'stale reads in partition':>25} "
      f"{'linearizable runs':>18} {'converged runs':>15}")
for mode in ("AP", "CP"):
    runs = [run_workload(mode, seed=f"{SEED}/{k}", **SCENARIO) for k in range(20)]
    ops = [op for run in runs for op in inside(run)]
    reads = [op for op in ops if op.f == "read" and op.status == "ok"]
    stale = [s for run in runs for s in run.stale_reads() if 30 <= s.read.call_time < 70]
    available = sum(op.status == "ok" for op in ops) / len(ops)
    lin = sum(bool(run.check()) for run in runs)
    conv = sum(bool(run.converged()) for run in runs) if mode == "AP" else "-"
    print(f"{mode:<5} {available:>26.1%} {len(stale) / len(reads):>25.1%} {lin:>15} /20 {conv!s:>12}")
"""),
("md", r"""
Which side keeps working depends on *where the primary is*. Cut off `n1`, the primary, instead: the
minority side (`n1` alone) stays available and the **majority** (`n2`, `n3`) refuses. A fixed primary
is a weak CP design; a majority quorum keeps the majority side available wherever the cut falls, which
is what the exercise builds.
"""),
("code", r"""
cp_primary_cut = run_workload("CP", seed=SEED, clients_per_replica=2, duration=100, partition=(30, 70),
                              cut_off=["n1"])
ap_primary_cut = run_workload("AP", seed=SEED, clients_per_replica=2, duration=100, partition=(30, 70),
                              cut_off=["n1"])
plot_windows({"AP (AsyncReplica)": ap_primary_cut, "CP (PrimaryReplica)": cp_primary_cut}, width=10,
             title="the primary n1 cut off from t=30 to t=70")
plt.show()
""", IGNORE),
("md", r"""
### Explore

Move the partition, choose who is cut off, switch the mode and change the seed. Every setting is
reproducible from its seed.
"""),
("code", r"""
import ipywidgets as widgets

CUTS = {"n3 (a follower)": ("n3",), "n1 (the primary)": ("n1",), "n2 and n3 (the primary alone)": ("n2", "n3")}

def explore(mode="both", cut="n3 (a follower)", partition=(30, 70), seed=1):
    modes = ["AP", "CP"] if mode == "both" else [mode]
    runs = {m: run_workload(m, seed=seed, clients_per_replica=2, duration=100, partition=partition,
                            cut_off=list(CUTS[cut]))
            for m in modes}
    plot_windows(runs, width=10, title=f"cut off: {cut}, partition {partition[0]:g}-{partition[1]:g}, seed {seed}")
    plt.show()
    for m, run in runs.items():
        print(m, run.summary())

widgets.interact(explore,
                 mode=widgets.ToggleButtons(options=["both", "AP", "CP"], value="both", description="mode"),
                 cut=widgets.Dropdown(options=list(CUTS), value="n3 (a follower)", description="cut off"),
                 partition=widgets.FloatRangeSlider(value=(30, 70), min=0, max=100, step=5,
                                                    description="partition"),
                 seed=widgets.IntSlider(value=1, min=1, max=50, description="seed"));
""", IGNORE),
("md", r"""
## 5. PACELC: the trade-off when nothing is broken

Abadi (2012) pointed out that CAP only speaks about partitions, which are rare, while the trade-off
designers face *every day* is another one. **PACELC**: if there is a **P**artition, choose between
**A**vailability and **C**onsistency; **E**lse, choose between **L**atency and **C**onsistency.
Replication makes the second choice unavoidable: either a write waits for other replicas (slow), or
it does not (and other replicas can serve stale reads for a while).

`AsyncReplica` has a knob for it: `write_acks=k` makes a replica wait until `k` of the other two
replicas have confirmed a write before answering `write_ok`. With `k=0` replication is asynchronous,
with `k=2` fully synchronous. No partition now; network delays have a long tail (log-normal, median
0.5), clients sit 0.1 from their replica, and we add the CP register for comparison.
"""),
("code", r"""
from statistics import median, quantiles

PACELC = dict(clients_per_replica=2, duration=150, think=(1, 4), read_fraction=0.6,
              latency=LogNormal(0.5, 0.6), timeout=20)
designs = {
    "AP, write_acks=0": ("AP", {"write_acks": 0}),
    "AP, write_acks=1": ("AP", {"write_acks": 1}),
    "AP, write_acks=2": ("AP", {"write_acks": 2, "ack_timeout": 10}),
    "CP, primary":      ("CP", {"forward_timeout": 10}),
}
measured = {}
for name, (mode, options) in designs.items():
    runs = [run_workload(mode, seed=f"{SEED}/pacelc/{k}", replica_options=options, **PACELC)
            for k in range(8)]
    measured[name] = {
        "write": [x for run in runs for x in latencies(run.history, "write")],
        "read": [x for run in runs for x in latencies(run.history, "read")],
        "reads": sum(1 for run in runs for op in run.history.operations()
                     if op.f == "read" and op.status == "ok"),
        "stale": sum(len(run.stale_reads()) for run in runs),
        "linearizable": sum(bool(run.check()) for run in runs),
    }

def p99(xs):
    return quantiles(xs, n=100)[98]

print(f"{'design':<18} {'write p50':>9} {'write p99':>9} {'read p50':>9} {'read p99':>9} "
      f"{'stale reads':>12} {'linearizable':>13}")
for name, m in measured.items():
    print(f"{name:<18} {median(m['write']):9.2f} {p99(m['write']):9.2f} {median(m['read']):9.2f} "
          f"{p99(m['read']):9.2f} {m['stale'] / m['reads']:12.1%} {m['linearizable']:>10} /8")
"""),
("code", r"""
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 2]})
for name, m in measured.items():
    xs = sorted(m["write"])
    left.step(xs, [(k + 1) / len(xs) for k in range(len(xs))], where="post", label=name)
left.set_xlabel("write latency (simulated time)")
left.set_ylabel("share of writes at most this slow")
left.set_title("write latency distribution (no partition)")
left.legend(fontsize=8, loc="lower right")
names = list(measured)
right.barh(names, [100 * m["stale"] / m["reads"] for m in measured.values()], color="#fb6a4a")
right.invert_yaxis()
right.set_xlabel("stale reads (% of reads)")
right.set_title("the price of answering fast")
fig.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
Reading the measurements:

- **Asynchronous** replication (`write_acks=0`) answers a write in one client round trip (0.2), and a
  sizeable share of reads on other replicas are stale: the **EL** choice.
- Waiting for **one** acknowledgement costs a replica round trip per write, and the stale reads almost
  disappear. Waiting for **both** costs the slower of two round trips, so the tail grows: the latency
  of a synchronous write is set by the slowest replica.
- Even `write_acks=2` is **not linearizable** in most runs, although no read is stale by our definition: two
  *concurrent* writes on different replicas become visible locally in different orders before last
  writer wins settles them, so one client sees the newer value and a later client the older one.
  Synchronous replication is not enough; one order for all writes is also needed (a primary, or
  quorums).
- The **CP** register pays on reads as well: a client of `n2` or `n3` waits for the forward to the
  primary and back, for every operation: the **EC** choice.

The course brief's replication table ("synchronous: high latency, strong; asynchronous: low latency,
eventual") is right in direction; the simulator puts numbers on it and shows the middle ground.
"""),
("md", r"""
## 6. Consistency models, separated by small histories

The course brief lists these models:

| Model | Guarantee (brief) | a more precise statement |
|---|---|---|
| Strong | All nodes see same data | **linearizability**: one order of all operations, consistent with real time (an operation that finished before another began comes first), legal for one copy (Herlihy and Wing 1990) |
| Sequential | Operations ordered per client | one order of all operations, legal for one copy, consistent with each client's own order, but *not* with real time across clients (Lamport 1979) |
| Causal | Causal operations ordered | every client sees causally related writes in causal order; concurrent writes may be seen in different orders |
| Eventual | Converges eventually | if writes stop, all replicas (and so all reads) eventually return the same value: a liveness property, nothing about what reads return meanwhile |
| Read-your-writes | Clients see own writes | a client's read never misses that client's own earlier writes (Terry et al. 1994) |
| Monotonic reads | (not in the table) | a client never reads an older value after a newer one (Terry et al. 1994) |

"Operations ordered per client" undersells sequential consistency: it demands **one** order that *all*
clients agree on. Causal consistency is what clients can get from an available system: it is
equivalent to the four session guarantees of Terry et al. together (read-your-writes, monotonic
reads, monotonic writes, writes-follow-reads; Brzezinski, Sobaniec and Wawrzyniak 2004). That is how
we check it here.

Below, six hand-made histories of one register `x` (initially `None`), each allowed by one model and
forbidden by the next stronger one. `h(...)` builds a history from `(client, f, value, start, end)`
tuples, where the value of a read is what it returned.
"""),
("code", r"""
def h(*ops):
    # Build a History of register x from (process, f, value, start, end) tuples.
    events = []
    for p, f, value, start, end in ops:
        events.append((start, 0, p, f, value))
        events.append((end, 1, p, f, value))
    history = History()
    for time, kind, p, f, value in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            history.invoke(p, f, "x", value if f == "write" else None, time=time)
        else:
            history.ok(p, value=value if f == "read" else None, time=time)
    return history


def causal(history):
    return all(check(history) for check in (read_your_writes, monotonic_reads,
                                             monotonic_writes, writes_follow_reads))


def eventually_agree(history):
    # Eventual consistency on a finite history: the last read of every client returns the same value.
    last = {op.process: op.output for op in history.operations() if op.f == "read" and op.status == "ok"}
    return converged(last).valid


HISTORIES = {
    "linearizable": h((0, "write", 1, 0, 2), (1, "read", None, 0.5, 1.5), (1, "read", 1, 3, 4),
                      (2, "write", 2, 3.5, 5), (1, "read", 2, 5.5, 6.5)),
    "sequential, not linearizable": h((0, "write", 1, 0, 1), (1, "read", None, 2, 3), (1, "read", 1, 4, 5)),
    "causal, not sequential": h((0, "write", 1, 0, 1), (1, "write", 2, 0, 1),
                                (2, "read", 1, 2, 3), (2, "read", 2, 4, 5),
                                (3, "read", 2, 2, 3), (3, "read", 1, 4, 5), (3, "read", 2, 6, 7)),
    "read-your-writes, not monotonic reads": h((0, "write", 1, 0, 1), (0, "write", 2, 2, 3),
                                               (1, "read", 2, 4, 5), (1, "read", 1, 6, 7)),
    "monotonic reads, not read-your-writes": h((0, "write", 1, 0, 1), (0, "read", None, 2, 3),
                                               (1, "read", 1, 4, 5), (0, "read", 1, 6, 7)),
    "eventual only": h((0, "write", 1, 0, 1), (0, "read", None, 2, 3),
                       (1, "read", 1, 2, 3), (1, "read", None, 4, 5),
                       (0, "read", 1, 8, 9), (1, "read", 1, 8, 9)),
}

MODELS = {
    "linearizable": lambda hist: bool(linearizable(hist, "register")),
    "sequential": lambda hist: bool(sequential_consistency(hist, "register")),
    "causal": causal,
    "read-your-writes": lambda hist: bool(read_your_writes(hist)),
    "monotonic reads": lambda hist: bool(monotonic_reads(hist)),
    "eventual": eventually_agree,
}

print(f"{'history':<38}" + "".join(f"{m:>17}" for m in MODELS))
for name, history in HISTORIES.items():
    print(f"{name:<38}" + "".join(f"{'yes' if check(history) else 'NO':>17}" for check in MODELS.values()))
"""),
("code", r"""
# In red: the operations that the next stronger model forbids (by position in invocation order).
CULPRITS = {"sequential, not linearizable": [1], "causal, not sequential": [2, 3, 4, 5],
            "read-your-writes, not monotonic reads": [3], "monotonic reads, not read-your-writes": [1],
            "eventual only": [1, 3]}
fig, axes = plt.subplots(3, 2, figsize=(13, 9.5))
for ax, (name, history) in zip(axes.flat, HISTORIES.items()):
    ops = history.operations()
    plot_history(history, ax=ax, title=name, highlight=[ops[i] for i in CULPRITS.get(name, [])])
fig.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
Read the staircase from the top:

1. **Linearizable.** The read overlapping the first write may return either value; after a write
   completes, every later read sees it.
2. **Sequential, not linearizable.** Client 1 reads `None` *after* the write of 1 finished. No
   real-time order allows it, but the order "read `None`, write 1, read 1" respects each client's own
   order, so sequential consistency accepts it. This is what a replica that lags behind produces.
3. **Causal, not sequential.** Writes 1 and 2 are concurrent (neither client had seen the other's).
   Client 2 sees 1 then 2, client 3 sees 2 then 1: no single order explains both, but causal
   consistency lets concurrent writes be seen in different orders.
4. **Read-your-writes, not monotonic reads.** Client 0 wrote 1 *then* 2, so 2 causally follows 1;
   client 1 reads 2 and then 1, going back in time. It never wrote anything, so read-your-writes holds
   vacuously.
5. **Monotonic reads, not read-your-writes.** Client 0 writes 1 and then reads `None`: its own write is
   missing (a client whose requests went to different replicas). Its reads never go backwards.
6. **Eventual only.** Both guarantees are broken along the way, but once writes stop every client
   reads the same value. On a finite history that is all "eventual" can mean.

The same checkers can judge the registers' histories from section 4. The AP register is not
linearizable, but is it causal?
"""),
("code", r"""
for name, run in (("AP", ap), ("CP", cp)):
    print(f"{name}: linearizable={bool(run.check())}, causal (all four session guarantees)={causal(run.history)}")
seeds = [run_workload("AP", seed=f"{SEED}/causal/{k}", **SCENARIO) for k in range(20)]
print(f"AP runs under a partition that are causal: {sum(causal(run.history) for run in seeds)} of 20")
"""),
("md", r"""
It is, in every run: each client sticks to one replica, whose copy only moves forward, and the
versions' counters grow along every causal chain (it is a Lamport clock, chapter 02), so a replica
never replaces a value by one that causally precedes it. Causal consistency is close to the strongest
model that an always-available, convergent system can offer (Mahajan, Alvisi and Dahlin, 2011). Let a
client switch replicas and read-your-writes can break at once; that is why real systems pin sessions
to a replica or carry version tokens from one request to the next.
"""),
("md", r"""
## 7. Checking real histories

Jepsen (Kingsbury) tests real databases this way: clients record a history of invocations and
completions while a *nemesis* injects partitions and crashes, and a checker decides whether the history
is linearizable. The course bundles six histories of a key-value store (`get`, `put`, `append` on ten
keys) from the test data of porcupine, Athalye's linearizability checker, with known verdicts. Our
checker (the Wing–Gong–Lowe search, key by key) agrees:
"""),
("code", r"""
print(f"{'history':<8} {'ops':>5} {'clients':>8} {'verdict':>10} {'search steps':>13}")
for name in ("c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad"):
    history = load_jepsen(bundled_history_path(name))
    verdict = linearizable(history, "kv")
    print(f"{name:<8} {len(history.operations()):>5} {len(history.processes()):>8} "
          f"{str(verdict.valid):>10} {verdict.steps:>13}")
"""),
("md", r"""
For a history that is not linearizable the checker says *why*: the longest prefix it could linearize,
the register's value after it, and the operations that could come next but cannot. (Times in these
files are line numbers: the original timestamps were not recorded.)
"""),
("code", r"""
bad = linearizable(load_jepsen(bundled_history_path("c10-bad")), "kv")
print(bad.explain())
"""),
("code", r"""
bad.plot()
plt.show()
""", IGNORE),
("md", r"""
Green bars are the linearized prefix, numbered in the order found; red bars are the operations stuck
at the red line: each of them has already returned a value that no order of the pending writes can
produce at that point.

## 8. The exercise: sessions, and a register that is CP *and* serves the majority

The exercise (`exercises/01_consistency/`) has two parts. **Part A** lets clients move between the AP
register's replicas and still read their own writes and never go back in time: a client-side
`Session` carries a version token and refuses answers older than it (Terry et al. 1994, as in Bayou).
For this, `AsyncReplica` reports the version of what it answers (`read_ok(value, version)`,
`write_ok(version)`), and `run_workload(..., route="random", session=...)` sends each client's
operations to changing replicas.

**Part B**: neither register above is what production systems such as etcd or ZooKeeper do. You write
`MajorityReplica`: a replica that performs each read and write on a **majority** of replicas (so any
two operations meet on at least one replica), refuses when it cannot reach a majority, and is
therefore linearizable and available on the majority side of any partition (the ABD algorithm). It
speaks the same protocol, so the same `run_workload(MajorityReplica, ...)`, `plot_windows` and
checkers of this notebook test and draw your replica.

## Recap

- CAP: under a partition, a replica must either answer (and may break linearizability) or refuse (and
  is unavailable). Consistency means linearizability of a register; availability means every
  non-failed node answers. "CA" is not an option for a replicated system.
- A CP design is unavailable only where it cannot reach what it needs (here the primary; with a quorum,
  a majority); an AP design is available everywhere and stale under partitions, and needs anti-entropy
  and a merge rule to converge afterwards.
- PACELC: without partitions, consistency still costs latency; synchronous replication alone is not
  linearizability.
- Consistency models form a hierarchy; small histories separate them, and checkers decide them:
  linearizability per key, sequential consistency by exhaustive search, causal consistency as the four
  session guarantees.
- Measure, do not label: a history checker turns "is this system consistent?" into a verdict with an
  explanation.

## Further reading

- E. Brewer, *Towards Robust Distributed Systems*, PODC 2000 keynote; and *CAP Twelve Years Later: How the "Rules" Have Changed*, IEEE Computer 2012.
- S. Gilbert, N. Lynch, *Brewer's Conjecture and the Feasibility of Consistent, Available, Partition-Tolerant Web Services*, ACM SIGACT News 2002.
- D. Abadi, *Consistency Tradeoffs in Modern Distributed Database System Design: CAP is Only Part of the Story*, IEEE Computer 2012 (PACELC).
- M. Herlihy, J. Wing, *Linearizability: A Correctness Condition for Concurrent Objects*, ACM TOPLAS 1990.
- L. Lamport, *How to Make a Multiprocessor Computer That Correctly Executes Multiprocess Programs*, IEEE Trans. Computers 1979 (sequential consistency).
- D. Terry, A. Demers, K. Petersen, M. Spreitzer, M. Theimer, B. Welch, *Session Guarantees for Weakly Consistent Replicated Data*, PDIS 1994.
- J. Brzezinski, C. Sobaniec, D. Wawrzyniak, *From Session Causality to Causal Consistency*, PDP 2004.
- P. Mahajan, L. Alvisi, M. Dahlin, *Consistency, Availability, and Convergence*, UT Austin technical report TR-11-22, 2011.
- K. Kingsbury, the Jepsen analyses, https://jepsen.io/analyses (for example etcd, MongoDB, Cassandra), and the Knossos checker.
- M. Kleppmann, *A Critique of the CAP Theorem*, arXiv:1509.05393, 2015.
- P. Viotti, M. Vukolić, *Consistency in Non-Transactional Distributed Storage Systems*, ACM Computing Surveys 2016: a map of more than fifty consistency models.
- A. Athalye, porcupine, https://github.com/anishathalye/porcupine (the bundled histories and the checking algorithm); G. Lowe, *Testing for Linearizability*, 2017; J. Wing, C. Gong, *Testing and Verifying Concurrent Objects*, 1993.
"""),
]

if __name__ == "__main__":
    build(pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "01_cap_and_consistency.ipynb", cells)
