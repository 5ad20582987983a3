"""Build notebooks/00_welcome.ipynb (run: .venv/bin/python tools/build_00_welcome.py)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from nbbuild import build  # noqa: E402

IGNORE = ["nbval-ignore-output"]

cells = [
("md", r"""
# 00 · Welcome: the network is not reliable

**Learning goals.** After this notebook you can

1. name the eight fallacies of distributed computing and say which fault of the simulator breaks each;
2. explain *partial failure* and why "slow" and "dead" look the same from outside;
3. argue why the two generals can never be sure they agree over a lossy channel;
4. write a node for the course simulator, run it under a seed, and read its **space-time diagram**;
5. watch a naive replication scheme diverge under loss, a partition and a crash, and say what it is missing.

The exercise of this chapter (`exercises/00_welcome/`) asks you to repair that scheme.
"""),
("md", r"""
## 1. Why this is hard: partial failure

A program on one machine either works or crashes as a whole. A distributed system is a set of
processes that share nothing but messages, and any part of it can fail while the rest carries on:
a message can be lost, delayed, duplicated or reordered, a link can be cut in one direction only,
a process can stop and come back without its memory, and its clock can be wrong. Worse, a process
cannot tell these apart: *no reply* may mean the request was lost, the reply was lost, the peer
is slow, or the peer is dead.

In 1994 Peter Deutsch (with James Gosling adding the eighth) listed the assumptions newcomers make
and regret. Each one has a knob in this course's simulator:

| fallacy | what really happens | the simulator's knob |
|---|---|---|
| the network is reliable | messages are lost and duplicated | `loss=`, `duplicate=` |
| latency is zero | messages take time, with a long tail | `latency=Uniform(...)`, `LogNormal(...)` |
| bandwidth is infinite | every message costs; count them | `trace.summary()` |
| the network is secure | (not modelled: this course is about crash faults) | — |
| topology doesn't change | links break, nodes come and go | `partition(...)`, `crash`, `restart` |
| there is one administrator | nodes are configured differently | per-node clocks, per-link settings |
| transport cost is zero | messages per operation matter | `summary(per="write")` |
| the network is homogeneous | links differ | `network.set_link(...)` |
"""),
("code", r"""
SEED = 2024  # every simulation in this notebook takes its randomness from this seed

import matplotlib.pyplot as plt
from course_lib.sim import Simulation, Node, Uniform
from course_lib.viz import space_time
"""),
("md", r"""
## 2. The two generals

Two generals camp on either side of a valley and must attack at the same dawn, or not at all.
Their only channel is a messenger who crosses the valley and may be captured. General A sends
"attack at dawn"; B cannot attack unless sure A got his acknowledgement, so A acknowledges the
acknowledgement, and so on. Whatever the number of messages $k$, the sender of the *last* message
cannot know whether it arrived, yet the protocol must tell it what to do either way.

Let us measure it. Each general follows the natural rule: *attack if every message addressed to you
arrived*. The messages alternate A→B, B→A, ...; message $i$ is sent only when message $i-1$ arrived.
"""),
("code", r"""
class General(Node):
    # Send message i+1 when message i arrives; attack if all of your messages arrived.

    def __init__(self, rounds):
        self.rounds = rounds
        self.received = 0          # how many messages addressed to me arrived
        self.expected = 0          # how many messages were addressed to me in a full run

    def on_start(self):
        mine = [i for i in range(1, self.rounds + 1) if (i % 2 == 0) == (self.id == "A")]
        self.expected = len(mine)
        if self.id == "A":
            self.send("B", "messenger", n=1)

    def on_messenger(self, msg):
        self.received += 1
        if msg.n < self.rounds:
            self.send(msg.src, "messenger", n=msg.n + 1)

    def attacks(self):
        return self.received == self.expected


def disagreement_rate(rounds, loss, runs=400):
    disagree = 0
    for run in range(runs):
        sim = Simulation(seed=f"{SEED}/generals/{rounds}/{run}", loss=loss)
        a, b = sim.add_nodes(General, ["A", "B"], rounds)
        sim.run(until=rounds + 2)
        disagree += a.attacks() != b.attacks()
    return disagree / runs


loss = 0.3
print(" k  measured  (1-p)^(k-1)*p")
for k in range(1, 7):
    print(f"{k:>2}  {disagreement_rate(k, loss):8.3f}  {(1 - loss) ** (k - 1) * loss:10.3f}")
"""),
("md", r"""
More rounds make disagreement rarer, never impossible: it happens exactly when the last message is
the first to be lost, probability $(1-p)^{k-1}p > 0$. The proof (Akkoyunlu, Ekanadham and Huber
1975; named by Gray 1978) is the same argument in general form: take a protocol that always agrees,
remove its last message, and it must still agree, until no message is left. Real systems live with
this by *not* requiring common knowledge: they retry until acknowledged and make retries harmless.
"""),
("md", r"""
## 3. A tour of the simulator

A **node** is a small class. The simulator calls `on_<type>(msg)` for every message of that type
that reaches it, and the callbacks of the timers it set. Handlers run to completion in zero
simulated time: never sleep or wait inside one; set a timer and return. Everything random comes from
the simulation's seed, so the same seed replays the same run, event for event.
"""),
("code", r"""
class Pinger(Node):
    def on_start(self):                      # runs at time 0 (and after a restart)
        if self.id == "a":
            self.every(5.0, self.ping_everyone)  # a periodic timer on this node's clock

    def ping_everyone(self):
        self.broadcast("ping", sent_at=self.clock.now())

    def on_ping(self, msg):
        self.reply(msg, "pong")

    def on_pong(self, msg):
        self.record("pong", peer=msg.src)  # a custom event in the trace


sim = Simulation(seed=SEED, latency=Uniform(0.5, 2.0), loss=0.1)
sim.add_nodes(Pinger, ["a", "b", "c"])
sim.run(until=21)
print(sim.trace.summary())
for event in sim.trace.events[:8]:
    print(event)
"""),
("md", r"""
The trace is the ground truth of a run. Drawn as a **space-time diagram** (Lamport's picture), each
node is a horizontal line with time running right; each message is an arrow from its send to its
delivery; a red cross marks a lost message.
"""),
("code", r"""
space_time(sim, title="pings and pongs, 10% loss")
plt.show()
""", IGNORE),
("md", r"""
## 4. The naive replica

The course brief opens with this Ruby class: a node keeps a hash, and a write stores locally and calls
`receive_replication` on every peer.

```ruby
def write(key, value)
  @data[key] = value
  replicate_to_peers(key, value)
end
...
def replicate_to_peers(key, value)
  @peers.each { |peer| peer.receive_replication(key, value) }
end
```

"Data now replicated across all nodes", says the comment. In one Ruby process the call cannot fail.
Across a network, `peer.receive_replication(...)` is a message, and nothing checks that it arrived.
`course_lib.welcome.NaiveReplica` is a faithful port:
"""),
("code", r"""
import inspect
from course_lib.welcome import NaiveReplica, schedule_writes, random_writes, divergent_keys, replica_states

print(inspect.getsource(NaiveReplica))
"""),
("code", r"""
from course_lib.sim import Constant

NODES = ["n1", "n2", "n3"]

def run_naive(loss=0.0, partition=False, crash=False, seed=SEED, writers=("n1",),
              latency=Constant(1.0), writes=12, until=80):
    # Run NaiveReplica under the given faults; return the simulation.
    sim = Simulation(seed=seed, latency=latency, loss=loss)
    sim.add_nodes(NaiveReplica, NODES)
    schedule_writes(sim, random_writes(sim, list(writers), count=writes, keys=["x", "y", "z"], end=60))
    if partition:
        sim.nemesis.partition([["n3"]], at=40, heal_at=65)
    if crash:
        sim.nemesis.crash("n2", at=30, restart_at=50)
    sim.run(until=until)
    return sim

reliable = run_naive()
print("diverged keys:", divergent_keys(reliable))
print(replica_states(reliable))
"""),
("md", r"""
One writer (`n1`), a network that loses nothing and delivers every message after exactly one time
unit: it works, as the comment promised. Now take the assumptions away, one at a time.

### 4a. Latency is not zero, and not constant

Let every node accept writes, and let delays vary between 1 and 3 time units. Two writes of the same
key at nearly the same time now cross on the wire, and each replica keeps whichever arrived *last*:
"""),
("code", r"""
concurrent = run_naive(writers=NODES, latency=Uniform(1.0, 3.0))
print("diverged keys:", divergent_keys(concurrent))
for node, state in replica_states(concurrent).items():
    print(node, dict(sorted(state.items())))
"""),
("code", r"""
space_time(concurrent, annotate=["write"], title="NaiveReplica, three writers, delays 1-3")
plt.show()
""", IGNORE),
("md", r"""
No message was lost, yet the replicas disagree for ever. Whoever applies updates must agree on an
*order* for them, not on arrival times (chapter 02 is about exactly this). From here on we go back to
one writer and constant delays, to see each fault on its own.

### 4b. Message loss
"""),
("code", r"""
lossy = run_naive(loss=0.2)
print("diverged keys:", divergent_keys(lossy))
for node, state in replica_states(lossy).items():
    print(node, dict(sorted(state.items())))
print(lossy.trace.summary(per="write"))
"""),
("code", r"""
space_time(lossy, annotate=["write"], title="NaiveReplica, 20% message loss")
plt.show()
""", IGNORE),
("md", r"""
### 4c. A partition

`n3` is cut off from 40 to 65. Every write made meanwhile stays on `n1`'s side, and healing the
partition repairs nothing: nobody resends.
"""),
("code", r"""
split = run_naive(partition=True)
print("diverged keys:", divergent_keys(split))
for node, state in replica_states(split).items():
    print(node, dict(sorted(state.items())))
"""),
("code", r"""
space_time(split, annotate=["write"], title="NaiveReplica, n3 partitioned from 40 to 65")
plt.show()
""", IGNORE),
("md", r"""
### 4d. A crash

`n2` crashes at 30 and restarts at 50. `NaiveReplica` declares no durable state, so the restart
rebuilds it empty: it lost everything it had, and misses what was sent while it was down.
"""),
("code", r"""
crashed = run_naive(crash=True)
print("diverged keys:", divergent_keys(crashed))
for node, state in replica_states(crashed).items():
    print(node, dict(sorted(state.items())))
"""),
("code", r"""
space_time(crashed, annotate=["write"], title="NaiveReplica, n2 down from 30 to 50")
plt.show()
""", IGNORE),
("md", r"""
### 4e. How often?

One run proves little. Over many seeds, how often do the replicas end up disagreeing as the loss rate grows?
"""),
("code", r"""
rates = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]
diverged = [sum(bool(divergent_keys(run_naive(loss=p, seed=f"{SEED}/{s}"))) for s in range(40)) / 40
            for p in rates]
for p, d in zip(rates, diverged):
    print(f"loss {p:4.2f}: replicas disagree in {d:4.0%} of runs")
"""),
("code", r"""
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(rates, diverged, marker="o")
ax.set_xlabel("message loss rate")
ax.set_ylabel("share of runs that diverge")
ax.set_title("NaiveReplica, one writer, 12 writes, 40 seeds per point")
plt.show()
""", IGNORE),
("md", r"""
## 5. Explore

Move the loss rate, switch the partition and the crash on and off, and change the seed. Every
setting is reproducible: note a seed that shows something interesting and you can replay it.
"""),
("code", r"""
import ipywidgets as widgets

def explore(loss=0.1, partition=True, crash=False, writers="n1", seed=1):
    sim = run_naive(loss=loss, partition=partition, crash=crash, seed=seed,
                    writers=NODES if writers == "all" else ["n1"], latency=Uniform(1.0, 3.0))
    bad = divergent_keys(sim)
    space_time(sim, annotate=["write"],
               title=f"loss={loss:.2f} partition={partition} crash={crash} seed={seed}: "
                     + (f"diverged on {bad}" if bad else "converged"))
    plt.show()

widgets.interact(explore,
                 loss=widgets.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.05, description="loss"),
                 partition=widgets.Checkbox(value=True, description="partition n3"),
                 crash=widgets.Checkbox(value=False, description="crash n2"),
                 writers=widgets.ToggleButtons(options=["n1", "all"], value="n1", description="writers"),
                 seed=widgets.IntSlider(value=1, min=1, max=50, description="seed"));
""", IGNORE),
("md", r"""
## 6. What is missing

Every failure above has the same shape: the writer *hoped* its message arrived, and every replica
applied whatever came last. Four ideas repair it, and the exercise asks you to build them:

1. **Acknowledgements**: the receiver confirms each update; the sender knows what is still unconfirmed.
2. **Retries on a timer**: unconfirmed updates are sent again until confirmed. A retry is an answer to an
   *indefinite* failure: the update or its acknowledgement may have been lost, so the receiver may
   already have it.
3. **Idempotent application**: so that a retried or duplicated update is harmless. The course brief's
   payment example keeps an *idempotency key* per request and answers a repeat from its record instead
   of charging the card twice; a replica can do the same with an id per update, and can make
   concurrent updates of one key converge by ordering them (for instance by `(counter, writer id)`).
4. **An order that does not depend on arrival**: each update carries a version, and a replica keeps,
   per key, the update with the highest version, whatever order the updates arrive in.

With these, replicas converge once the network lets messages through again: *eventual* convergence.
They still disagree meanwhile, and a client may read a stale value: chapter 01 measures exactly that.

## Recap

- A distributed system fails partially; "no reply" is ambiguous, so protocols must act under uncertainty.
- No protocol over a lossy channel gives both sides certainty (two generals); systems retry instead.
- The course simulator makes every fault a seeded knob, and its trace and space-time diagram show exactly what happened.
- Fire-and-forget replication diverges under concurrency, loss, partitions and crashes; versions, acknowledgements, retries and idempotence repair it.

## Further reading

- P. Deutsch, *The Eight Fallacies of Distributed Computing* (1994); A. Rotem-Gal-Oz, *Fallacies of Distributed Computing Explained* (2006).
- E. A. Akkoyunlu, K. Ekanadham, R. V. Huber, *Some constraints and tradeoffs in the design of network communications*, SOSP 1975; J. Gray, *Notes on Data Base Operating Systems* (1978), for the two generals.
- L. Lamport, *Time, Clocks, and the Ordering of Events in a Distributed System*, CACM 1978 (the space-time diagram).
- M. Kleppmann, *Designing Data-Intensive Applications*, chapter 8, "The Trouble with Distributed Systems".
- P. Bailis, K. Kingsbury, *The Network is Reliable*, ACM Queue 2014: a catalogue of real network failures.
"""),
]

if __name__ == "__main__":
    build(pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "00_welcome.ipynb", cells)
