"""Build notebooks/02_time_and_clocks.ipynb (run: .venv/bin/python tools/build_02_time_and_clocks.py)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from nbbuild import build  # noqa: E402

IGNORE = ["nbval-ignore-output"]

cells = [
("md", r"""
# 02 · Time and clocks

**Learning goals.** After this notebook you can

1. say in which ways a computer's wall clock is wrong (offset, skew, drift, steps, leap seconds) and why
   ordering events by wall-clock timestamps can lose data;
2. estimate a remote clock's offset with Cristian's algorithm and NTP, and state the error bound and why
   asymmetric delays make the estimate wrong in a way no measurement can detect;
3. define Lamport's *happened-before* relation and decide, for two events of a space-time diagram,
   whether one happened before the other or they are concurrent;
4. explain Lamport clocks, the clock condition, the total order they give with a tie-break, and what they
   cannot tell you;
5. compare vector timestamps (before, after, equal, concurrent), merge them, and say what they cost as a
   system grows; recognise version vectors in replicated stores;
6. explain hybrid logical clocks: causal like a Lamport clock, yet within the clock skew of physical time.

The exercise of this chapter (`exercises/02_clocks/`) asks you to implement the Lamport, vector and hybrid
logical clocks as node-side classes; this notebook computes the timestamps they *should* produce offline,
from whole recorded runs, so you know what to aim for.
"""),
("code", r"""
SEED = 2024  # every simulation in this notebook takes its randomness from this seed

import inspect

import ipywidgets as widgets
import matplotlib.pyplot as plt
from course_lib.sim import Simulation, Node, Uniform
from course_lib.causality import HappensBefore
from course_lib.clocks import LWWReplica, LWWResolver, NaiveVectorClock, lww_scenario, run_clocks
from course_lib.clocksync import synchronise
from course_lib.viz import space_time
from course_lib.viz.clocks import clock_diagram
"""),
("md", r"""
## 1. Why wall clocks lie

Every node in the simulator has its own **physical clock** (`node.clock.now()`), and, as on real
machines, it is wrong in several ways at once:

- **Offset (skew between clocks).** The clock was set wrongly, or synchronised a while ago. Two clocks
  that differ by an offset give two different times for the same instant.
- **Drift.** A quartz oscillator runs slightly fast or slow, typically by 10 to 100 parts per million
  (ppm): 100 ppm is 8.6 seconds a day. Temperature changes it. Without correction, the offset between
  two machines grows linearly.
- **Steps.** NTP (section 3) corrects small errors by *slewing* (running the clock a little faster or
  slower), but a large error is corrected by a **step**: the clock jumps, possibly backwards. An
  operator, a VM migration or a paused VM does the same. A timestamp taken after a backwards step can
  be smaller than one taken before.
- **Leap seconds.** UTC occasionally inserts a 61st second (23:59:60). Most operating systems cannot
  represent it and repeat 23:59:59, so time goes backwards by one second; the leap second of 30 June
  2012 crashed Linux servers and took down Reddit, LinkedIn and Cassandra clusters. Google and AWS
  now *smear* the second over a day instead, so their clocks are deliberately off by up to half a second
  from everyone else's during that day. (Leap seconds are to be abolished by 2035.)

Here are four simulated clocks over one hour, in milliseconds of error against true time. `n2` and `n3`
drift (40 and 80 ppm), `n4` starts 20 ms ahead, and at 30 minutes NTP *steps* `n3` back by 150 ms.
"""),
("code", r"""
clock_sim = Simulation(seed=SEED)
for node_id, offset, drift in [("n1", 0.0, 0.0), ("n2", 0.0, 40e-6), ("n3", 0.0, 80e-6), ("n4", 0.020, 0.0)]:
    clock_sim.add_node(Node, node_id, clock_offset=offset, clock_drift=drift)
clock_sim.nemesis.clock_jump("n3", -0.150, at=1800)
times = list(range(0, 3601, 60))
errors = {n: [] for n in clock_sim.nodes}
for t in times:
    if t > clock_sim.now:
        clock_sim.run(until=t)
    for node_id, node in clock_sim.nodes.items():
        errors[node_id].append(1000 * (node.clock.now() - clock_sim.now))
print("clock error in ms at  " + "  ".join(f"t={t:>4}s" for t in (0, 1200, 1740, 1800, 3600)))
for node_id, errs in errors.items():
    print(f"{node_id:<20} " + "  ".join(f"{errs[times.index(t)]:>7.1f}" for t in (0, 1200, 1740, 1800, 3600)))
"""),
("code", r"""
fig, ax = plt.subplots(figsize=(9, 3.2))
for node_id, errs in errors.items():
    ax.plot([t / 60 for t in times], errs, marker=".", label=node_id)
ax.axvline(30, color="gray", ls=":", lw=1)
ax.annotate("NTP steps n3 back", (30, 0), xytext=(32, 200), fontsize=8, arrowprops=dict(arrowstyle="->"))
ax.set_xlabel("true time (minutes)")
ax.set_ylabel("clock error (ms)")
ax.set_title("four physical clocks: offset, drift and a step")
ax.legend(fontsize=8)
plt.show()
""", IGNORE),
("md", r"""
After 29 minutes `n3` is 139 ms fast; the step puts it 11 ms *behind*. An event on `n3` just after the
step gets a smaller timestamp than an event on `n3` just before it, although it happened later *on the
same machine*. For durations, use a **monotonic** clock (`time.monotonic()` in Python), which never
steps; but a monotonic clock means nothing to any other machine. For ordering events *across* machines,
neither kind helps, as the next section shows.
"""),
("md", r"""
## 2. A motivating failure: last write wins, by the wrong clock

The course brief resolves conflicting writes like this, and many real stores do the same (Cassandra's
cells, for example, keep the write with the highest client timestamp):
"""),
("code", r"""
print(inspect.getsource(LWWResolver))
print(inspect.getsource(LWWReplica.write))
print(inspect.getsource(LWWReplica._keep))
"""),
("md", r"""
Two replicas, `n1` and `n2`, 0.5 time units apart on the network. At $t=10$ a client writes `x=1` on
`n1`. At $t=11.5$ a client on `n2` reads `x` (it gets 1, the replication has arrived) and writes
`x=2`. The second write *happened after* the first: its writer had seen the first value. With synchronised
clocks, last-write-wins keeps `x=2`. Now set `n2`'s clock two seconds behind:
"""),
("code", r"""
for skew in (0.0, 2.0):
    sim = lww_scenario(seed=SEED, skew=skew)
    writes = [(e.node, e.info["value"], e.info["timestamp"]) for e in sim.trace.custom("write")]
    print(f"skew {skew}: writes (node, value, timestamp) = {writes}; "
          f"final x: n1={sim['n1'].read('x')}, n2={sim['n2'].read('x')}")
"""),
("code", r"""
sim = lww_scenario(seed=SEED, skew=2.0)
labels = {i: (f"write x={e.info['value']}, timestamp {e.info['timestamp']}" if e.type == "write"
              else f"read x={e.info['value']}")
          for i, e in enumerate(sim.trace) if e.kind == "custom"}
space_time(sim, labels=labels, title="n2's clock is 2 s behind: its later write x=2 is discarded everywhere")
plt.show()
""", IGNORE),
("md", r"""
Both replicas agree, and both are wrong: `x=2` is **silently lost**. No error, no conflict, nothing
in any log. The update is lost whenever the writers' clocks differ by more than the time between the
two writes:
"""),
("code", r"""
print("skew  " + " ".join(f"{s:>5}" for s in (0.0, 0.5, 1.0, 1.4, 1.6, 2.0, 3.0)))
print("x=2?  " + " ".join(f"{'kept' if lww_scenario(seed=SEED, skew=s)['n1'].read('x') == 2 else 'LOST':>5}"
                          for s in (0.0, 0.5, 1.0, 1.4, 1.6, 2.0, 3.0)))
"""),
("md", r"""
Better clock synchronisation shrinks the window but cannot close it: the writes could be 1 ms apart.
What the resolver needed to know is not *when* each write happened by somebody's clock, but whether
one write **happened before** the other (then it must lose) or whether they were **concurrent** (then
it is a genuine conflict, and picking one silently is a policy decision). Sections 4 to 6 build clocks
that can tell. First, how good can physical clocks get?
"""),
("md", r"""
## 3. Synchronising physical clocks: Cristian's algorithm and NTP

A client asks a time server (whose clock we trust) for the time. On its own clock it notes when it
sent the request, $t_0$, and when the answer arrived, $t_1$; the server notes when the request arrived,
$t_2$, and when it answered, $t_3$, on *its* clock.

- **Cristian (1989)** assumes the answer is half a round trip old: set the clock to
  $t_3 + (t_1 - t_0)/2$. The estimate is wrong by at most half the round trip, $\pm (t_1 - t_0)/2$.
- **NTP** (Mills; RFC 5905) uses all four timestamps: offset
  $\theta = \frac{(t_2 - t_0) + (t_3 - t_1)}{2}$ and round-trip delay
  $\delta = (t_1 - t_0) - (t_3 - t_2)$, which leaves out the server's processing time. The true offset is
  within $\theta \pm \delta/2$. NTP repeats the exchange, keeps the samples with the smallest delay,
  combines several servers, and slews small corrections.

Both assume the request and the answer take **equally long**. If the request takes $d_f$ and the answer
$d_b$, the estimate is off by exactly $(d_f - d_b)/2$, and nothing the client can measure reveals it:
a fast request with a slow answer looks the same as a slow request with a fast answer. `synchronise`
runs the exchange over the simulated network (`course_lib/clocksync.py`), with a round trip of 0.2 s
split unevenly between the two directions:
"""),
("code", r"""
RTT = 0.2
asymmetries = [-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]   # (forward - back) / round trip
sync = {}
for a in asymmetries:
    forward, back = RTT / 2 * (1 + a), RTT / 2 * (1 - a)
    for method in ("cristian", "ntp"):
        sync[method, a] = synchronise(seed=SEED, method=method, forward=forward, back=back,
                                      processing=0.05, client_offset=1.5, rounds=5).rounds
print(f"{'asymmetry':>9} {'NTP error':>10} {'NTP bound':>10} {'Cristian error':>15} {'Cristian bound':>15}")
for a in asymmetries:
    ntp, cri = sync["ntp", a][-1], sync["cristian", a][-1]
    print(f"{a:>9.2f} {ntp.error:>+10.3f} {ntp.bound:>10.3f} {cri.error:>+15.3f} {cri.bound:>15.3f}")
"""),
("code", r"""
fig, (ax, right) = plt.subplots(1, 2, figsize=(13, 3.6))
for method, color in (("ntp", "#1f77b4"), ("cristian", "#ff7f0e")):
    errs = [sync[method, a][-1].error for a in asymmetries]
    bounds = [sync[method, a][-1].bound for a in asymmetries]
    ax.plot(asymmetries, errs, marker="o", color=color, label=f"{method}: error of the estimate")
    ax.fill_between(asymmetries, [-b for b in bounds], bounds, color=color, alpha=0.12,
                    label=f"{method}: ± error bound")
ax.axhline(0, color="black", lw=0.6)
ax.set_xlabel("asymmetry (forward - back) / round trip")
ax.set_ylabel("offset error (s)")
ax.set_title("fixed round trip: the error follows the asymmetry")
ax.legend(fontsize=7, loc="upper left")
backs = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
congested = [synchronise(seed=SEED, forward=0.05, back=b, client_offset=1.5, rounds=3).rounds[-1] for b in backs]
right.plot(backs, [abs(r.error) for r in congested], marker="o", label="|error| of the NTP estimate")
right.plot(backs, [r.bound for r in congested], marker="s", ls="--", label="NTP error bound (half the round trip)")
right.set_xlabel("delay server -> client (client -> server stays 0.05)")
right.set_ylabel("seconds")
right.set_title("one congested direction: error and bound grow together")
right.legend(fontsize=7)
fig.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
With symmetric delays NTP is exact, while Cristian is off by half the server's processing time (0.05 s
here), which it counts as network delay. The error grows linearly with the asymmetry and reaches the
bound when one direction takes the whole round trip. On the right, the request always takes 0.05 s while
the answer is slowed down by a congested link: the round trip, and with it the error bound, grows with
the asymmetry, and the actual error grows just as fast, staying close to the bound. On the internet, routes are often asymmetric and
queues fill in one direction: NTP typically achieves milliseconds over the internet and tens of
microseconds on a LAN; PTP with hardware timestamps gets below a microsecond. Google's Spanner turns the
bound into an API: TrueTime returns an interval $[earliest, latest]$ and a transaction *waits out* the
uncertainty (a few milliseconds) before committing.

Correcting a clock is itself a fault for anyone reading it. A client 1.5 s fast that applies NTP's
first estimate **steps back** by 1.5 s (this is what `ntpdate` does):
"""),
("code", r"""
stepped = synchronise(seed=SEED, method="ntp", forward=0.08, back=0.12, client_offset=1.5, rounds=4,
                      correct=True)
for r in stepped.rounds:
    print(f"t={r.time:6.2f}  client clock read {r.t1:8.3f}  estimated offset {round(r.estimate, 3) + 0.0:+.3f}  "
          f"true offset {round(r.true_offset, 3) + 0.0:+.3f}")
"""),
("md", r"""
After the first round the client's clock reads 1.5 s less than just before: every timestamp it handed
out in that second is now "in the future". And the remaining error (0.02 s) never goes away: it is half
the asymmetry of the link. Physical clocks can be *close*; they can never be trusted to order events that
are closer together than their error bound.
"""),
("md", r"""
## 4. Happened-before

Lamport (1978) replaced "when" by "could have influenced". On a space-time diagram, event $a$
**happened before** event $b$, written $a \to b$, if

1. $a$ and $b$ are on the same node and $a$ comes first, or
2. $a$ sends a message and $b$ receives it, or
3. there is an event $c$ with $a \to c$ and $c \to b$.

Two distinct events with neither $a \to b$ nor $b \to a$ are **concurrent**, $a \parallel b$: no message
chain connects them, so neither could have influenced the other, *whatever* the clocks said. That is
the question the resolver of section 2 should have asked.

`course_lib.causality.HappensBefore` computes the relation from a recorded trace, the way the exercise's
tests do. Below, three nodes each do a few local events and send messages to each other
(`run_clocks(None, ...)` runs the exercise's workload with no clock at all). In red, every event
concurrent with `n2`'s third event:
"""),
("code", r"""
run = run_clocks(None, seed=SEED, nodes=3, sends=3, local_events=1, topology="complete", think=5.0,
                 latency=Uniform(1.0, 3.0))
hb = run.oracle
pick = hb.events_of("n2")[2]
print(hb)
print("picked:", hb.describe(pick))
for other in hb.events_of("n1")[:4]:
    print(f"  {hb.describe(other):<52} is {hb.relation(other, pick)!r} relative to the picked event")
print(f"{len(hb.concurrent_with(pick))} events are concurrent with it; "
      f"{sum(hb.happened_before(e, pick) for e in hb)} happened before it")
"""),
("code", r"""
_, ax = plt.subplots(figsize=(15, 3.4))
clock_diagram(run, ax=ax, timestamps=None, concurrent=pick, title="events concurrent with n2's third event")
plt.show()
""", IGNORE),
("md", r"""
Read the picture: an event happened before the picked one if you can walk to it from there *backwards*,
along lanes to the left and against message arrows. Concurrency is not about time: a ringed event can be
much earlier than the picked one on the time axis, if no message chain leads from one to the other.

How the oracle answers fast: it walks the trace once in time order and gives each event the vector of
"how many events of each node happened before or at it" (the ideal *vector timestamp* of section 6),
so any question about two events is answered in O(1), and building it costs O(events × nodes). Comparing
every pair of events naively would be quadratic: hopeless for the 50-node, 10,000-message runs of the
benchmark (`benchmarks/bench_clocks.py`).
"""),
("md", r"""
## 5. Lamport clocks

A **Lamport clock** is one counter per node, with two rules:

- **IR1**: before each event (local event, send, receive), add 1 to the counter; the event's timestamp
  is the counter.
- **IR2**: a message carries its send event's timestamp; on receiving it, first set the counter to the
  maximum of its own value and the message's, then apply IR1.

This guarantees the **clock condition**: if $a \to b$ then $C(a) < C(b)$. Proof: along each of the
three cases of the definition, the timestamp strictly grows (IR1 on one node; IR2 across a message;
transitivity of $<$).

With the counting rule above, the timestamp of $e$ is the length of the longest causal chain ending at
$e$. The oracle computes that offline, so here are the timestamps a correct clock *must* produce on this
run (the exercise asks you to compute them online, node by node):
"""),
("code", r"""
_, ax = plt.subplots(figsize=(15, 3.4))
clock_diagram(run, ax=ax, timestamps="lamport", title="Lamport timestamps (ideal, computed from the trace)")
plt.show()
""", IGNORE),
("md", r"""
**A total order.** Sorting events by $(C(e), \text{node id})$ gives a total order that extends
happened-before: the tie-break by node id orders concurrent events with equal counters. Lamport used it
for mutual exclusion: every node sees the requests in the same order, so all agree who goes first.
"""),
("code", r"""
total = sorted(hb, key=lambda e: (hb.lamport(e), hb.event(e).node))
position = {e: k for k, e in enumerate(total)}
print("the first ten events in the total order:",
      [(hb.lamport(e), hb.event(e).node) for e in total[:10]])
broken = sum(1 for a in hb for b in hb if hb.happened_before(a, b) and position[a] > position[b])
print("pairs a -> b that the total order puts the wrong way round:", broken)
"""),
("md", r"""
**What Lamport clocks cannot tell you.** The implication goes one way only: $C(a) < C(b)$ does *not*
mean $a \to b$. Counting pairs on this run:
"""),
("code", r"""
pairs = [(a, b) for a in hb for b in hb if hb.lamport(a) < hb.lamport(b)]
concurrent = [(a, b) for a, b in pairs if hb.concurrent(a, b)]
print(f"{len(pairs)} ordered pairs with C(a) < C(b); in {len(concurrent)} of them "
      f"({len(concurrent) / len(pairs):.0%}) a and b are concurrent")
a, b = concurrent[0]
print(f"e.g. {hb.describe(a)} has C={hb.lamport(a)}, {hb.describe(b)} has C={hb.lamport(b)}: concurrent")
"""),
("md", r"""
So a Lamport timestamp in place of the wall clock in section 2 would have kept `x=2` (the second write
had the larger counter because it causally followed the first), but for two *concurrent* writes it
still silently picks one, with no way to notice that they conflicted. Detecting concurrency needs more
information: one counter per node.
"""),
("md", r"""
## 6. Vector clocks

A **vector clock** (Fidge 1988, Mattern 1989) keeps one counter per node: node $i$'s vector $V_i$, with
$V_i[j]$ = "how many events of node $j$ do I know of".

- before each event, node $i$ adds 1 to its own entry $V_i[i]$;
- a message carries the sender's vector;
- on receipt, node $i$ **merges**: $V_i[j] := \max(V_i[j], V_m[j])$ for every $j$, then adds 1 to $V_i[i]$.

Vectors are compared entry by entry. $V(a) \le V(b)$ if $V(a)[j] \le V(b)[j]$ for every $j$; then exactly
one of four things holds:

| relation | condition | meaning |
|---|---|---|
| before | $V(a) \le V(b)$ and $V(a) \ne V(b)$ | $a \to b$ |
| after | $V(b) \le V(a)$ and $V(a) \ne V(b)$ | $b \to a$ |
| equal | $V(a) = V(b)$ | the same event |
| concurrent | neither $V(a) \le V(b)$ nor $V(b) \le V(a)$ | $a \parallel b$ |

and, unlike Lamport's, this characterisation is exact: $a \to b$ **if and only if** $V(a) < V(b)$.
Here are the ideal vectors of the same run (entries in the order `n1, n2, n3`), with the same events
ringed:
"""),
("code", r"""
_, ax = plt.subplots(figsize=(15, 3.4))
clock_diagram(run, ax=ax, timestamps="vector", concurrent=pick, title="vector timestamps (ideal, computed from the trace)")
plt.show()
""", IGNORE),
("md", r"""
Check it on the picture: the picked event of `n2` has some vector $v$; the ringed events are exactly those
whose vectors are neither $\le v$ nor $\ge v$.

### The course brief's vector clock, and what its comparison misses

The course brief has this vector clock (ported faithfully to `course_lib/clocks.py`):
"""),
("code", r"""
print(inspect.getsource(NaiveVectorClock))
"""),
("md", r"""
`increment` and `merge` are right. `happens_before` checks $\le$ in every entry, and that is only half
a comparison. Four situations:
"""),
("code", r"""
def clock(**counts):
    c = NaiveVectorClock()
    for node, n in counts.items():
        for _ in range(n):
            c.increment(node)
    return c

cases = {
    "a before b": (clock(n1=1), clock(n1=1, n2=1)),
    "a after b": (clock(n1=2, n2=1), clock(n1=1, n2=1)),
    "a equals b": (clock(n1=1, n2=2), clock(n1=1, n2=2)),
    "a concurrent with b": (clock(n1=2), clock(n2=1)),
}
print(f"{'situation':<22} {'a.happens_before(b)':>20} {'b.happens_before(a)':>20}")
for name, (x, y) in cases.items():
    print(f"{name:<22} {str(x.happens_before(y)):>20} {str(y.happens_before(x)):>20}")
"""),
("md", r"""
Two bugs hide in that table. First, `happens_before` answers **True for equal clocks**: an event did not
happen before itself, and a store that uses it to decide "this update is newer, take it" will happily
re-apply a duplicate or report a conflict as resolved. Second, on its own it **cannot tell "before"
from "concurrent"**: `False` means either "after" or "concurrent", and those need opposite treatment
(discard the stale update, or keep both conflicting ones). A correct `compare` must return one of the
four relations; it needs both directions of $\le$. The exercise asks you to write it.

### Merging, and what vectors cost

Merging is the entrywise maximum, and it is all a receiver needs: the merged vector knows every event
either side knew. The price is size: one entry per node that ever did anything. Charron-Bost (1991)
proved that no smaller timestamp can characterise causality exactly in general: a system of $n$
processes needs vectors of $n$ entries. On the chapter's workload with a growing cluster:
"""),
("code", r"""
sizes = [2, 4, 8, 16, 32, 64]
entries = []
for n in sizes:
    big = run_clocks(None, seed=SEED, nodes=n, sends=4, local_events=1, topology="complete").oracle
    nonzero = [sum(1 for c in big.vector(e) if c) for e in big]
    entries.append((sum(nonzero) / len(nonzero), max(nonzero)))
for n, (mean, top) in zip(sizes, entries):
    print(f"{n:>3} nodes: a timestamp has {mean:5.1f} non-zero entries on average, {top:>3} at most "
          f"(about {8 * top:>4} bytes, against 8 for a Lamport timestamp)")
"""),
("code", r"""
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(sizes, [m for m, _ in entries], marker="o", label="vector clock: mean non-zero entries")
ax.plot(sizes, [t for _, t in entries], marker="s", label="vector clock: largest")
ax.plot(sizes, [1] * len(sizes), marker=".", label="Lamport clock")
ax.set_xscale("log", base=2)
ax.set_xlabel("nodes")
ax.set_ylabel("entries per timestamp")
ax.legend(fontsize=8)
ax.set_title("a timestamp grows with the cluster")
plt.show()
""", IGNORE),
("md", r"""
The longer a system runs, the more entries fill up: in the limit, every timestamp carries one entry
per node. This is why vector clocks are used where the number of participants is small and known (replicas of a
key), and why systems prune them (Riak drops the oldest entries past a limit, at the cost of false
conflicts) or bound them another way (dotted version vectors, interval tree clocks).

### Version vectors for replicas

A **version vector** (Parker et al. 1983) is the same structure attached to *data* instead of events:
each replica of a key counts the updates it has accepted for it, and a value carries the vector of the
updates it reflects. Comparing two versions answers the question section 2 needed: if one vector is
before the other, the older version is obsolete and can be discarded; if they are **concurrent**, both
are kept as *siblings* and the conflict is reported to the application (Dynamo's shopping cart merges
them; Riak returns both to the client). Two scenarios through the oracle: the read-then-write of section
2, and two writes at about the same time on two replicas:
"""),
("code", r"""
causal_run = lww_scenario(seed=SEED, skew=2.0)
sim = Simulation(seed=SEED, latency=0.5)
sim.add_node(LWWReplica, "n1")
sim.add_node(LWWReplica, "n2", clock_offset=-0.3)
sim.at(10.0, sim["n1"].write, "x", "a")
sim.at(10.2, sim["n2"].write, "x", "b")
sim.run(until=15)
for name, s in (("read, then write (section 2)", causal_run), ("two writes 0.2 apart", sim)):
    writes = HappensBefore(s, select="write")
    w1, w2 = writes.events
    print(f"{name:<30}: the writes are {writes.relation(w1, w2)!r}; vectors "
          f"{writes.vector_dict(w1)} and {writes.vector_dict(w2)}; LWW kept x={s['n1'].read('x')!r}")
"""),
("md", r"""
In the first case the vectors say "before", so version vectors would have kept `x=2` whatever the
clocks said. In the second they say "concurrent": last-write-wins quietly kept one of them (the one with
the larger timestamp, which, with `n2`'s clock 0.3 s behind, is *not* the one written last), where a
version-vector store would have kept both and said so. Chapter 04 builds such a store.
"""),
("md", r"""
## 7. Hybrid logical clocks

Lamport and vector timestamps have nothing to do with real time: you cannot ask "what happened around
10:32?" or use them for a snapshot at a wall-clock time, and a Lamport counter on a busy node races
ahead of a quiet one. Physical timestamps mean something but break causality. **Hybrid logical clocks**
(Kulkarni, Demirbas, Madappa, Avva and Leone, 2014) get both. A timestamp is a pair $(l, c)$:

- $l$ is the largest physical time the node has *heard of*: its own clock's reading, or a larger one
  carried by a message;
- $c$ is a small counter that orders events sharing the same $l$.

On a local event or send, with $pt$ the node's physical clock: if $pt > l$ then $l := pt$, $c := 0$,
otherwise $c := c + 1$. On receiving $(l_m, c_m)$: $l' := \max(l, l_m, pt)$, and $c$ becomes
$\max(c, c_m) + 1$ if $l' = l = l_m$, $c + 1$ if only $l' = l$, $c_m + 1$ if only $l' = l_m$, and $0$ if
$l' = pt$ won. Timestamps compare as pairs: $(l, c) < (l', c')$ if $l < l'$, or $l = l'$ and $c < c'$.

Three properties, all proved in the paper and checked by the exercise's tests:

1. **Causal**: $a \to b$ implies $(l, c)(a) < (l, c)(b)$, like a Lamport clock.
2. **Close to physical time**: $pt(e) \le l(e)$, and $l(e)$ is a physical time some node actually read
   at or before $e$, so $l(e) - pt(e)$ never exceeds the clock skew $\varepsilon$.
3. **Bounded counter**: $c$ counts only events with the same $l$ that happened before; in practice it
   stays tiny, so $(l, c)$ fits in 64 bits: 48 bits of physical time, 16 of counter, the same size as
   an NTP timestamp.

Property 2 has a neat offline reading: $l(e)$ is the largest physical-clock reading over all events that
happened before or at $e$. The oracle can compute that from a trace (`causal_max`); here are physical
timestamps and $l$ for a run whose clocks start up to 3 s apart and drift by up to 5%:
"""),
("code", r"""
hrun = run_clocks(None, seed=SEED, nodes=4, sends=6, local_events=2, max_offset=3.0, max_drift=0.05,
                  topology="random", track_horizon=True)
hhb = hrun.oracle
pt = {e.index: e.pt for e in hrun.events}
l = hhb.causal_max(pt)
edges = [(a, b) for b in hhb for a in hhb.frontier(b)]
print(f"{len(hrun.events)} events, {len(edges)} direct causal edges a -> b")
print(f"  physical timestamps go backwards on {sum(pt[a] >= pt[b] for a, b in edges)} of them")
print(f"  l goes backwards on {sum(l[a] > l[b] for a, b in edges)}, "
      f"and stays equal on {sum(l[a] == l[b] for a, b in edges)} (c orders those)")
print(f"  largest l - pt: {max(l[e.index] - e.pt for e in hrun.events):.3f}; "
      f"largest skew bound: {max(e.horizon - e.pt for e in hrun.events):.3f}")
"""),
("code", r"""
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 3.6))
for node in hrun.nodes:
    mine = [e for e in hrun.events if e.node == node]
    left.plot([e.time for e in mine], [e.pt for e in mine], "o", ms=4, label=f"{node}: pt")
    right.plot([e.time for e in mine], [l[e.index] - e.pt for e in mine], "o", ms=4, label=node)
for a, b in edges:
    if pt[a] >= pt[b]:
        left.plot([hrun.by_index[a].time, hrun.by_index[b].time], [pt[a], pt[b]], color="#d62728", lw=1)
left.plot([], [], color="#d62728", label="a -> b, but pt(a) >= pt(b)")
left.set_xlabel("true time")
left.set_ylabel("physical timestamp")
left.set_title("physical timestamps break causality")
left.legend(fontsize=7)
right.plot([e.time for e in hrun.events], [e.horizon - e.pt for e in hrun.events], "_", color="gray",
           label="skew bound")
right.set_xlabel("true time")
right.set_ylabel("l - pt")
right.set_title("HLC: l runs ahead of pt by at most the skew")
right.legend(fontsize=7)
fig.tight_layout()
plt.show()
""", IGNORE),
("md", r"""
CockroachDB, MongoDB (its cluster time), YugabyteDB and others timestamp transactions with HLCs: the
timestamps order causally related transactions correctly, stay within the clock skew of wall-clock time
(so "read as of 10:32" makes sense), and need no extra communication. What an HLC cannot do is detect
concurrency (it is still one scalar order, like Lamport's), or make up for clocks that are wildly off:
$l$ follows the *fastest* clock in the system, so one node whose clock runs an hour ahead drags every
timestamp an hour ahead; CockroachDB shuts a node down when its clock is more than a configured maximum
offset away from its peers.
"""),
("md", r"""
## 8. Explore: drift, delay and three kinds of timestamps

One run, three timestamps per event: the node's **physical** clock, the ideal **Lamport** time, and the
ideal HLC **l**. Each message is a line from its send to its receipt; red lines are messages whose
receipt does *not* get a larger timestamp than its send. Raise the drift and watch physical timestamps
break causality; raise the delay and watch fewer messages overtake the clock error. Lamport and HLC
timestamps never go backwards along a message.
"""),
("code", r"""
def explore(max_drift=0.05, delay=1.0, max_offset=2.0, seed=1):
    run = run_clocks(None, seed=seed, nodes=3, sends=5, local_events=1, topology="complete",
                     latency=Uniform(0.1 * delay, delay), max_offset=max_offset, max_drift=max_drift)
    hb = run.oracle
    stamps = {"physical": {e.index: e.pt for e in run.events},
              "Lamport": {e: hb.lamport(e) for e in hb}}
    stamps["HLC l"] = hb.causal_max(stamps["physical"])
    sends = {e.msg: e for e in run.events if e.op == "send"}
    messages = [(sends[e.msg], e) for e in run.events if e.op == "receive"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for ax, (name, ts) in zip(axes, stamps.items()):
        broken = 0
        for s, r in messages:
            bad = ts[s.index] >= ts[r.index] if name != "HLC l" else ts[s.index] > ts[r.index]
            broken += bad
            ax.plot([s.time, r.time], [ts[s.index], ts[r.index]], lw=1.4 if bad else 0.6,
                    color="#d62728" if bad else "#bbbbbb", zorder=1)
        for node in run.nodes:
            mine = [e for e in run.events if e.node == node]
            ax.plot([e.time for e in mine], [ts[e.index] for e in mine], "o", ms=4, label=node, zorder=2)
        ax.set_title(f"{name}: {broken} of {len(messages)} messages go backwards")
        ax.set_xlabel("true time")
    axes[0].set_ylabel("timestamp")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    plt.show()

widgets.interact(explore,
                 max_drift=widgets.FloatSlider(value=0.05, min=0.0, max=0.3, step=0.01, description="drift"),
                 delay=widgets.FloatSlider(value=1.0, min=0.1, max=5.0, step=0.1, description="delay"),
                 max_offset=widgets.FloatSlider(value=2.0, min=0.0, max=6.0, step=0.5, description="offset"),
                 seed=widgets.IntSlider(value=1, min=1, max=50, description="seed"));
""", IGNORE),
("md", r"""
(For HLC `l` alone, a message whose receipt has the *same* `l` as its send is not red: the counter `c`
orders those, as section 7 explained.)

## 9. Trade-offs

| timestamp | size | $a \to b \Rightarrow$ smaller | smaller $\Rightarrow a \to b$ (detects concurrency) | close to real time | used in |
|---|---|---|---|---|---|
| physical clock | 1 number | no (skew, drift, steps) | no | yes, within the sync error | logs, LWW stores (Cassandra) |
| physical + bound (TrueTime) | interval | yes, if you wait out the bound | no | yes | Spanner |
| Lamport | 1 integer | yes | no | no | total order broadcast, mutual exclusion, Raft's terms |
| vector / version vector | 1 entry per node | yes | **yes** | no | Dynamo, Riak, causal broadcast |
| hybrid logical | 2 numbers (64 bits) | yes | no | yes, within the skew | CockroachDB, MongoDB, YugabyteDB |

## Recap

- Physical clocks are offset, drift, and step (even backwards); leap seconds make time repeat.
  Last-write-wins by physical timestamps loses updates whenever the clocks disagree by more than the gap
  between writes, silently.
- Cristian's algorithm and NTP estimate a remote clock's offset within half the round trip; asymmetric
  delays put the estimate off by half the asymmetry, undetectably.
- Happened-before is the order that matters: what could have influenced what. Concurrent events are those
  no message chain connects.
- Lamport clocks: $a \to b \Rightarrow C(a) < C(b)$, with a total order by tie-break; the converse fails.
- Vector clocks: $a \to b \Leftrightarrow V(a) < V(b)$; four outcomes of a comparison; merge is the
  entrywise max; size grows with the number of nodes. Version vectors apply the idea to replicated data.
- Hybrid logical clocks: causal, within the clock skew of physical time, and constant size.

## Further reading

- L. Lamport, *Time, Clocks, and the Ordering of Events in a Distributed System*, CACM 21(7), 1978.
- C. J. Fidge, *Timestamps in Message-Passing Systems That Preserve the Partial Ordering*, 11th Australian Computer Science Conference, 1988.
- F. Mattern, *Virtual Time and Global States of Distributed Systems*, Parallel and Distributed Algorithms, 1989.
- B. Charron-Bost, *Concerning the Size of Logical Clocks in Distributed Systems*, Information Processing Letters 39(1), 1991.
- D. S. Parker et al., *Detection of Mutual Inconsistency in Distributed Systems*, IEEE TSE 9(3), 1983 (version vectors).
- F. Cristian, *Probabilistic Clock Synchronization*, Distributed Computing 3(3), 1989.
- D. Mills et al., *Network Time Protocol Version 4*, RFC 5905, 2010.
- S. Kulkarni, M. Demirbas, D. Madappa, B. Avva, M. Leone, *Logical Physical Clocks and Consistent Snapshots in Globally Distributed Databases*, OPODIS 2014 (hybrid logical clocks).
- J. Corbett et al., *Spanner: Google's Globally-Distributed Database*, OSDI 2012 (TrueTime).
- G. DeCandia et al., *Dynamo: Amazon's Highly Available Key-value Store*, SOSP 2007.
- N. Preguiça, C. Baquero, P. S. Almeida, V. Fonte, R. Gonçalves, *Dotted Version Vectors*, 2010; P. S. Almeida, C. Baquero, V. Fonte, *Interval Tree Clocks*, OPODIS 2008.
- M. Kleppmann, *Designing Data-Intensive Applications*, chapter 8 ("Unreliable clocks"), O'Reilly 2017.
"""),
]

if __name__ == "__main__":
    build(pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "02_time_and_clocks.ipynb", cells)
