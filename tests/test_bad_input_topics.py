"""Bad input to the chapter packages (course_lib.topics), the happens-before oracle and the protocol invariants.

The chapters: welcome, consistency, clocks (with clock sync), agreement (commit, election, paxos) and raft.

Each ``ERRORS`` row is (label, call, exception type, pattern): the call raises that exception and
its message matches the pattern, which names the parameter and shows its value. ``BEHAVIOURS``
rows are (label, call, check): input that looks odd but has a documented meaning does what the
documentation says. Every row runs under a deadline: anything unbounded (a huge count, an endless
run) must stop at its budget, with an error naming the budget and how to raise it.
"""

from __future__ import annotations

import math
import random

import pytest

from course_lib.checkers import happens_before as causality
from course_lib.topics import clocks, consistency, raft, welcome
from course_lib.topics.agreement import commit, election, paxos
from course_lib.checkers import at_most_one_leader, atomic_commit
from course_lib.checkers import raft as raft_invariants
from course_lib.history import History
from course_lib.sim import (EventBudgetExceeded, Node,
                            Simulation)

from bad_input_support import DEADLINE, assert_named_error, deadline

NAN, INF = math.nan, math.inf




# -- what the rows call ---------------------------------------------------------------------------

def replicas(ids=("n1", "n2", "n3")) -> Simulation:
    sim = Simulation(seed=0)
    sim.add_nodes(welcome.NaiveReplica, list(ids))
    return sim


def write_at(time):
    """schedule_writes on a fresh cluster with one write at ``time``."""
    return welcome.schedule_writes(replicas(), [(time, "n1", "x", "v")])


def draw(**kwargs):
    """random_writes on a fresh cluster; ``kwargs`` override the defaults."""
    args = dict(node_ids=["n1", "n2"], count=3, keys=["x"])
    args.update(kwargs)
    return welcome.random_writes(replicas(), args.pop("node_ids"), **args)


def replicate(**kwargs):
    return welcome.replication_scenario(kwargs.pop("cls", welcome.NaiveReplica), 0, **kwargs)


def workload(**kwargs):
    return consistency.run_workload(kwargs.pop("replica", "AP"), seed=kwargs.pop("seed", 0), **kwargs)


def clients(**fields):
    return consistency.Clients(**fields)


def faults(**fields):
    return consistency.Faults(**fields)


class Echo(consistency.RegisterReplica):
    def on_ping(self, msg):
        self.reply(msg, "pong")


def gather(**kwargs):
    """Call gather on a replica of a two-replica simulation."""
    sim = Simulation(seed=0)
    node = sim.add_node(Echo, "n1", ["n1", "n2"])
    sim.add_node(Echo, "n2", ["n1", "n2"])
    args = dict(msg_type="ping", needed=1, timeout=1.0, on_done=print, on_timeout=print)
    args.update(kwargs)
    return node.gather(args.pop("msg_type"), **args)


def one_write_history() -> History:
    h = History()
    h.invoke(0, "write", "x", 1, time=0)
    h.ok(0, time=13)
    return h


_runs: dict = {}


def small_run():
    """A short AP run (made once)."""
    if "run" not in _runs:
        _runs["run"] = consistency.run_workload("AP", seed=0, duration=10, settle=2)
    return _runs["run"]


def single_axes():
    import matplotlib.pyplot as plt
    _, ax = plt.subplots()
    return ax


class Lamport:
    """A correct Lamport clock, for the scenarios' argument checks."""

    def __init__(self, node_id):
        self.time = 0

    def tick(self):
        self.time += 1
        return self.time

    def send(self):
        return self.tick()

    def receive(self, ts):
        self.time = max(self.time, ts) + 1
        return self.time


def clock_run():
    return clocks.run_clocks({"lamport": Lamport}, seed=1, nodes=2, sends=1, local_events=1,
                             topology="complete")


def oracle() -> causality.HappensBefore:
    return clocks.run_clocks(None, seed=1, nodes=3, sends=2, local_events=1).oracle


def sync(**kwargs):
    return clocks.synchronise(seed=0, rounds=2, **kwargs)


def naive_2pc():
    sim = Simulation(seed=0)
    coord = sim.add_node(commit.NaiveCoordinator, "coord")
    sim.add_nodes(commit.NaiveParticipant, ["p1", "p2"])
    return sim, coord


def crash_after(**kwargs):
    sim, _ = naive_2pc()
    return commit.crash_after(sim, kwargs.pop("node_id", "coord"), **kwargs)


def transactions(**kwargs):
    return commit.commit_scenario(commit.NaiveCoordinator, commit.NaiveParticipant, 0, **kwargs)


def add(cls, *args, node_id="n1", **kwargs):
    """Create one node of ``cls`` in a fresh simulation (its __init__ checks the arguments)."""
    return Simulation(seed=0).add_node(cls, node_id, *args, **kwargs)


def leadership_log():
    sim = Simulation(seed=0)
    sim.add_nodes(election.HeartbeatElection, ["n1", "n2"])
    log = election.watch_leaders(sim)
    sim.run(until=20)
    return log


class LockServer(Node):
    """Stands in for a learner's lock server: the lease checks come before any run."""

    def __init__(self, ttl):
        self.ttl = ttl


class Leader(Node):
    def __init__(self, lock, store):
        pass

    def is_leader(self):
        return False


def leases(**kwargs):
    return election.lease_scenario(kwargs.pop("server_cls", LockServer), Leader, 0, **kwargs)


def proposals(**kwargs):
    return paxos.run_paxos(seed=0, **kwargs)


def vote(**kwargs):
    args = dict(term=1, candidate_id="s1", last_log_index=0, last_log_term=0)
    args.update(kwargs)
    return raft.RequestVote(**args)


def entries(**kwargs):
    args = dict(term=1, leader_id="s1", prev_log_index=0, prev_log_term=0, entries=(), leader_commit=0)
    args.update(kwargs)
    return raft.AppendEntries(**args)


class Idle(raft.RaftBase):
    """A Raft server that never starts an election: enough for the harness's argument checks."""

    def on_election_timeout(self):
        pass


def server():
    return raft.RaftCluster(Idle, 3, seed=0).node("s1")


def cluster():
    return raft.RaftCluster(Idle, 3, seed=0)


# -- the rows -----------------------------------------------------------------------------------------

ERRORS = [
    # welcome: schedule_writes
    ("schedule_writes sim a str", lambda: welcome.schedule_writes("sim", []), TypeError, r"sim='sim'"),
    ("schedule_writes writes an int", lambda: welcome.schedule_writes(replicas(), 5), TypeError,
     r"writes=5"),
    ("schedule_writes time nan", lambda: write_at(NAN), ValueError, r"writes\[0\]: time=nan"),
    ("schedule_writes time inf", lambda: write_at(INF), ValueError, r"writes\[0\]: time=inf"),
    ("schedule_writes time bool", lambda: write_at(True), TypeError, r"writes\[0\]: time=True"),
    ("schedule_writes unknown node", lambda: welcome.schedule_writes(replicas(), [(1, "n9", "x", "v")]),
     ValueError, r"node_id='n9'"),
    ("schedule_writes unhashable node", lambda: welcome.schedule_writes(replicas(), [(1, ["n1"], "x", 1)]),
     ValueError, r"node_id=\['n1'\]"),
    # welcome: random_writes
    ("random_writes node_ids one str", lambda: draw(node_ids="n1"), TypeError, r"node_ids='n1'"),
    ("random_writes node_ids twice", lambda: draw(node_ids=["n1", "n1"]), ValueError, r"names 'n1' twice"),
    ("random_writes unknown node", lambda: draw(node_ids=["n1", "n9"]), ValueError,
     r"node_ids=\['n1', 'n9'\] names 'n9', which is not a node of this simulation"),
    ("random_writes keys one str", lambda: draw(keys="xy"), TypeError, r"keys='xy'"),
    ("random_writes keys a set", lambda: draw(keys={"x"}), TypeError, r"keys=\{'x'\}"),
    ("random_writes keys empty", lambda: draw(keys=[]), ValueError, r"keys=\[\]"),
    ("random_writes count nan", lambda: draw(count=NAN), TypeError, r"count=nan"),
    ("random_writes end inf", lambda: draw(end=INF), ValueError, r"end=inf"),
    ("random_writes start nan", lambda: draw(start=NAN), ValueError, r"start=nan"),
    ("random_writes start negative", lambda: draw(start=-5), ValueError, r"start=-5"),
    ("random_writes stream an int", lambda: draw(stream=5), TypeError, r"stream=5"),
    # welcome: replica_states, divergent_keys
    ("replica_states unknown attribute", lambda: welcome.replica_states(replicas(), "datum"), ValueError,
     r"attribute='datum': node 'n1' has no attribute"),
    ("replica_states attribute an int", lambda: welcome.replica_states(replicas(), 5), TypeError,
     r"attribute=5"),
    ("divergent_keys attribute not a dict", lambda: welcome.divergent_keys(replicas(), "id"), TypeError,
     r"attribute='id': node 'n1' holds 'n1', which is not a dict"),
    ("divergent_keys sim None", lambda: welcome.divergent_keys(None), TypeError, r"sim=None"),
    # welcome: replication_scenario
    ("replication cls a str", lambda: replicate(cls="Replica"), TypeError, r"cls='Replica'"),
    ("replication cls without write", lambda: replicate(cls=Node), TypeError, r"cls=Node has no write"),
    ("replication nodes 1", lambda: replicate(nodes=1), ValueError, r"nodes=1"),
    ("replication writes bool", lambda: replicate(writes=True), TypeError, r"writes=True"),
    ("replication writes negative", lambda: replicate(writes=-1), ValueError, r"writes=-1"),
    ("replication write_until nan", lambda: replicate(write_until=NAN), ValueError, r"write_until=nan"),
    ("replication write_until 0", lambda: replicate(write_until=0), ValueError, r"write_until=0"),
    ("replication settle inf", lambda: replicate(settle=INF), ValueError, r"settle=inf"),
    ("replication partition a str", lambda: replicate(partition="yes"), TypeError, r"partition='yes'"),
    ("replication crash 1", lambda: replicate(crash=1), TypeError, r"crash=1"),
    ("replication quiet_after past settle", lambda: replicate(quiet_after=300), ValueError,
     r"quiet_after=300"),
    ("replication quiet_after nan", lambda: replicate(quiet_after=NAN), ValueError, r"quiet_after=nan"),
    ("replication more writes than events", lambda: replicate(writes=10**9, max_events=1000), ValueError,
     r"writes=1000000000 cannot fit in max_events=1000 events.*pass a larger max_events"),
    ("replication a billion nodes", lambda: replicate(nodes=10**9), ValueError,
     r"nodes=1000000000 cannot fit in max_events=200000 events"),
    ("replication keys one str", lambda: replicate(keys="xyz"), TypeError, r"keys='xyz'"),
    ("replication seed a float", lambda: welcome.replication_scenario(welcome.NaiveReplica, 1.5),
     TypeError, r"seed=1\.5"),
    # consistency: run_workload
    ("run_workload crashes an int", lambda: workload(faults=faults(crashes=5)), TypeError, r"crashes=5"),
    ("run_workload crash of an unknown replica", lambda: workload(faults=faults(crashes=[(["n1"], 1, None)])),
     ValueError, r"crashes\[0\]"),
    ("run_workload keys an int", lambda: workload(clients=clients(keys=5)), TypeError, r"keys=5"),
    ("run_workload route None", lambda: workload(clients=clients(route=None)), ValueError, r"route=None"),
    ("run_workload duration nan", lambda: workload(duration=NAN), ValueError, r"duration=nan"),
    ("run_workload duration inf", lambda: workload(duration=INF), ValueError, r"duration=inf"),
    ("run_workload duration bool", lambda: workload(duration=True), TypeError, r"duration=True"),
    ("run_workload seed None", lambda: workload(seed=None), TypeError, r"seed=None"),
    ("run_workload think nan", lambda: workload(clients=clients(think=(NAN, 1))), ValueError, r"think low=nan"),
    ("run_workload partition start nan", lambda: workload(faults=faults(partition=(NAN, 5))), ValueError,
     r"partition start=nan"),
    ("run_workload too many clients", lambda: workload(clients=clients(per_replica=10**9)), ValueError,
     r"per_replica=1000000000.*max_events=2000000.*pass a larger max_events"),
    ("run_workload clients a dict", lambda: workload(clients={"per_replica": 2}), TypeError,
     r"clients=\{'per_replica': 2\} must be a Clients"),
    ("run_workload an old keyword", lambda: workload(think=(1, 4)), TypeError,
     r"think=\(1, 4\) is not an argument of run_workload: pass clients=Clients\(think=\(1, 4\)\)"),
    ("Clients per_replica a float", lambda: clients(per_replica=2.0), TypeError, r"per_replica=2\.0"),
    ("Clients latency inf", lambda: clients(latency=INF), ValueError, r"latency=inf"),
    ("Faults duplicate nan", lambda: faults(duplicate=NAN), ValueError, r"duplicate=nan"),
    ("Faults crashes a str", lambda: faults(crashes="n1"), TypeError, r"crashes='n1'"),
    ("run_workload endless run stops at its budget", lambda: workload(duration=1e9, max_events=5000),
     EventBudgetExceeded, r"max_events=5000.*run_workload"),
    ("run_workload max_events 0", lambda: workload(max_events=0), ValueError, r"max_events=0"),
    # consistency: replicas
    ("gather on_done not callable", lambda: gather(on_done="x"), TypeError, r"on_done='x'"),
    ("gather on_timeout not callable", lambda: gather(on_timeout=None), TypeError, r"on_timeout=None"),
    ("gather msg_type an int", lambda: gather(msg_type=5), TypeError, r"msg_type=5"),
    ("gather needed 3 of 2", lambda: gather(needed=3), ValueError, r"needed=3"),
    ("gather timeout inf", lambda: gather(timeout=INF), ValueError, r"timeout=inf"),
    ("AsyncReplica write_acks bool", lambda: add(consistency.AsyncReplica, ["n1", "n2"], write_acks=True),
     TypeError, r"write_acks=True"),
    ("AsyncReplica sync_interval nan", lambda: add(consistency.AsyncReplica, ["n1"], sync_interval=NAN),
     ValueError, r"sync_interval=nan"),
    ("RegisterReplica replicas one str", lambda: add(Echo, "n1"), TypeError, r"replicas='n1'"),
    ("RegisterReplica without itself", lambda: add(Echo, ["n2"]), ValueError,
     r"replicas=\['n2'\] must contain this replica's id 'n1'"),
    ("PrimaryReplica unknown primary", lambda: add(consistency.PrimaryReplica, ["n1"], primary="n7"),
     ValueError, r"primary='n7'"),
    # consistency: meters
    ("windows width tiny", lambda: consistency.windows(one_write_history(), 1e-9, end=13, violation=None),
     ValueError, r"width=1e-09 cuts \[0, 13\) into 13000000000 windows, more than max_windows=10000"),
    ("windows violation a str", lambda: consistency.windows(one_write_history(), 1, violation="x"),
     TypeError, r"violation='x'"),
    ("windows start bool", lambda: consistency.windows(one_write_history(), 1, start=True), TypeError,
     r"start=True"),
    ("windows end nan", lambda: consistency.windows(one_write_history(), 1, end=NAN), ValueError,
     r"end=nan"),
    ("windows end a str", lambda: consistency.windows(one_write_history(), 1, end="5"), TypeError,
     r"end='5'"),
    ("windows max_windows 0", lambda: consistency.windows(one_write_history(), 1, max_windows=0),
     ValueError, r"max_windows=0"),
    ("latencies f an int", lambda: consistency.latencies(one_write_history(), 3), TypeError, r"f=3"),
    ("stale_reads of a str", lambda: consistency.stale_reads("h"), TypeError, r"history='h'"),
    ("first_violation budget 0", lambda: consistency.first_violation(one_write_history(), budget=0),
     ValueError, r"budget=0"),
    ("plot_windows a list", lambda: consistency.plot_windows([]), TypeError, r"runs=\[\]"),
    ("plot_windows width 0", lambda: consistency.plot_windows({"AP": small_run()}, width=0), ValueError,
     r"width=0"),
    ("plot_windows one axes", lambda: consistency.plot_windows({"AP": small_run()}, axes=single_axes()),
     TypeError, r"axes=.* must be two matplotlib Axes"),
    ("plot_windows title an int", lambda: consistency.plot_windows({"AP": small_run()}, title=5),
     TypeError, r"title=5"),
    # consistency: the exercise's scenarios
    ("session_run route home", lambda: consistency.session_run(None, 0, route="home"), ValueError,
     r"route='home'"),
    ("session_run partition a str", lambda: consistency.session_run(None, 0, partition="no"), TypeError,
     r"partition='no'"),
    ("session_run seed a float", lambda: consistency.session_run(None, 1.5), TypeError, r"seed=1\.5"),
    ("session_run session not callable", lambda: consistency.session_run("token", 0), TypeError,
     r"session='token'"),
    ("session_run too many replicas", lambda: consistency.session_run(None, 0, replicas=10**12),
     ValueError, r"replicas=1000000000000 nodes cannot start within max_events=2000000"),
    ("session_scenario no guarantee", lambda: consistency.session_scenario(Lamport, 0, guarantees=[]),
     ValueError, r"guarantees=\[\]"),
    ("session_scenario guarantees an int", lambda: consistency.session_scenario(Lamport, 0, guarantees=5),
     TypeError, r"guarantees=5"),
    ("session_scenario unknown guarantee", lambda: consistency.session_scenario(Lamport, 0,
                                                                                guarantees=["causal"]),
     ValueError, r"guarantees contains 'causal'"),
    ("session_scenario one guarantee as a str",
     lambda: consistency.session_scenario(Lamport, 0, guarantees="monotonic raeds"), ValueError,
     r"guarantees contains 'monotonic raeds'"),
    ("session_scenario unknown option", lambda: consistency.session_scenario(Lamport, 0, routes="x"),
     TypeError, r"routes='x' is not an option of session_scenario"),
    ("quorum_scenario cls a str", lambda: consistency.quorum_scenario("x", 0), TypeError, r"cls='x'"),
    ("quorum_scenario one_way a str", lambda: consistency.quorum_scenario(Echo, 0, one_way="yes"),
     TypeError, r"one_way='yes'"),
    ("quorum_scenario huge flaky", lambda: consistency.quorum_scenario(Echo, 0, flaky=10**12), ValueError,
     r"flaky=1000000000000 short partitions cannot all start before the run ends"),
    ("quorum_scenario replicas 2", lambda: consistency.quorum_scenario(Echo, 0, replicas=2), ValueError,
     r"replicas=2"),
    ("interrupted write after the clients stop",
     lambda: consistency.interrupted_write_scenario(consistency.PrimaryReplica, 0, at=100), ValueError,
     r"at=100 must be before duration=60"),
    ("interrupted write at nan",
     lambda: consistency.interrupted_write_scenario(consistency.PrimaryReplica, 0, at=NAN), ValueError,
     r"at=nan"),
    # clocks: LWW (the seeds' LWWResolver and NaiveVectorClock stay faithful ports: the lecture
    # prints their source)
    ("lww_scenario gap inf", lambda: clocks.lww_scenario(gap=INF), ValueError, r"gap=inf"),
    ("lww_scenario latency negative", lambda: clocks.lww_scenario(latency=-1), ValueError, r"latency=-1"),
    ("lww_scenario latency nan", lambda: clocks.lww_scenario(latency=NAN), ValueError, r"latency=nan"),
    ("lww_scenario skew bool", lambda: clocks.lww_scenario(skew=True), TypeError, r"skew=True"),
    ("lww_scenario gap below latency", lambda: clocks.lww_scenario(gap=0.2), ValueError,
     r"gap=0\.2 must be a number larger than latency=0\.5"),
    # clocks: topologies and the harness
    ("make_topology ids one str", lambda: clocks.make_topology("abc", "ring", random.Random(0)),
     TypeError, r"ids='abc'"),
    ("make_topology ids twice", lambda: clocks.make_topology(["a", "a"], "ring", random.Random(0)),
     ValueError, r"names 'a' twice"),
    ("make_topology unknown kind", lambda: clocks.make_topology(["a", "b"], "mesh", random.Random(0)),
     ValueError, r"kind='mesh'"),
    ("make_topology random without rng", lambda: clocks.make_topology(["a", "b"], "random", None),
     TypeError, r"rng=None"),
    ("run_clocks nodes bool", lambda: clocks.run_clocks(None, 1, nodes=True), TypeError, r"nodes=True"),
    ("run_clocks sends a float", lambda: clocks.run_clocks(None, 1, sends=2.0), TypeError, r"sends=2\.0"),
    ("run_clocks max_drift nan", lambda: clocks.run_clocks(None, 1, max_drift=NAN), ValueError,
     r"max_drift=nan"),
    ("run_clocks max_drift a str", lambda: clocks.run_clocks(None, 1, max_drift="0.1"), TypeError,
     r"max_drift='0\.1'"),
    ("run_clocks max_offset inf", lambda: clocks.run_clocks(None, 1, max_offset=INF), ValueError,
     r"max_offset=inf"),
    ("run_clocks think 0", lambda: clocks.run_clocks(None, 1, think=0), ValueError, r"think=0"),
    ("run_clocks think negative", lambda: clocks.run_clocks(None, 1, think=-1), ValueError, r"think=-1"),
    ("run_clocks jump_size nan", lambda: clocks.run_clocks(None, 1, jump_size=NAN), ValueError,
     r"jump_size=nan"),
    ("run_clocks track_horizon a str", lambda: clocks.run_clocks(None, 1, track_horizon="yes"), TypeError,
     r"track_horizon='yes'"),
    ("run_clocks unknown topology", lambda: clocks.run_clocks(None, 1, topology="mesh"), ValueError,
     r"topology='mesh'"),
    ("run_clocks clock factory not callable", lambda: clocks.run_clocks({"a": 5}, 1), TypeError,
     r"clocks\['a'\]=5"),
    ("run_clocks a million nodes", lambda: clocks.run_clocks(None, 1, nodes=10**6), ValueError,
     r"nodes=1000000.*more than max_events=2000000; pass a larger max_events"),
    ("run_clocks a billion sends", lambda: clocks.run_clocks(None, 1, sends=10**9), ValueError,
     r"sends=1000000000.*max_events=2000000"),
    ("lamport_scenario cls an int", lambda: clocks.lamport_scenario(5, 1), TypeError, r"cls=5"),
    ("lamport_scenario unknown option", lambda: clocks.lamport_scenario(Lamport, 1, nodez=3), TypeError,
     r"nodez=3 is not an option of the scenario"),
    ("lamport_scenario option it sets itself", lambda: clocks.lamport_scenario(Lamport, 1, clocks=None),
     TypeError, r"clocks=None is not an option"),
    ("lamport_scenario exact a str", lambda: clocks.lamport_scenario(Lamport, 1, exact="yes"), TypeError,
     r"exact='yes'"),
    ("vector_scenario unknown check", lambda: clocks.vector_scenario(Lamport, 1, check="fast"), ValueError,
     r"check='fast'"),
    ("vector_scenario pairs negative", lambda: clocks.vector_scenario(Lamport, 1, pairs=-1), ValueError,
     r"pairs=-1"),
    ("vector_scenario compare missing", lambda: clocks.vector_scenario(Lamport, 1, check="compare"),
     TypeError, r"cls=.*Lamport.* has no compare\(a, b\) method"),
    ("check_vectors run a str", lambda: clocks.check_vectors("x", Lamport), TypeError, r"run='x'"),
    ("check_vectors unknown check", lambda: clocks.check_vectors(clock_run(), Lamport, check="fast"),
     ValueError, r"check='fast'"),
    ("hlc_scenario unknown check", lambda: clocks.hlc_scenario(Lamport, 1, check="fast"), ValueError,
     r"check='fast'"),
    ("hlc_scenario option it sets itself", lambda: clocks.hlc_scenario(Lamport, 1, track_horizon=False),
     TypeError, r"track_horizon=False is not an option"),
    ("ClockRun unknown clock", lambda: clock_run().timestamps("vector"), ValueError,
     r"clock='vector' did not run"),
    ("ClockRun clock a list", lambda: clock_run().timestamps([]), TypeError, r"clock=\[\]"),
    ("ClockRun describe unknown index", lambda: clock_run().describe(10**6), ValueError,
     r"index=1000000"),
    ("ClockRun describe unknown clock", lambda: (lambda r: r.describe(r.events[0].index, "nope"))(clock_run()),
     ValueError, r"clock='nope'"),
    # clocksync
    ("synchronise forward nan", lambda: sync(forward=NAN), ValueError, r"forward=nan"),
    ("synchronise back inf", lambda: sync(back=INF), ValueError, r"back=inf"),
    ("synchronise jitter bool", lambda: sync(jitter=True), TypeError, r"jitter=True"),
    ("synchronise client_offset nan", lambda: sync(client_offset=NAN), ValueError, r"client_offset=nan"),
    ("synchronise client_drift 0.5", lambda: sync(client_drift=0.5), ValueError, r"client_drift=0\.5"),
    ("synchronise interval 0", lambda: sync(interval=0), ValueError, r"interval=0"),
    ("synchronise unknown method", lambda: sync(method="NTP"), ValueError, r"method='NTP'"),
    ("synchronise correct a str", lambda: sync(correct="yes"), TypeError, r"correct='yes'"),
    ("synchronise a billion rounds", lambda: clocks.synchronise(rounds=10**9), ValueError,
     r"rounds=1000000000 takes about .* events, more than max_events=2000000; pass a larger max_events"),
    ("TimeServer processing negative", lambda: add(clocks.TimeServer, -1), ValueError,
     r"processing=-1"),
    ("SyncClient unknown method", lambda: add(clocks.SyncClient, "s", "ptp", 1, 1.0, False),
     ValueError, r"method='ptp'"),
    # causality
    ("HappensBefore source an int", lambda: causality.HappensBefore(42), TypeError, r"source=42"),
    ("HappensBefore nodes one str", lambda: causality.HappensBefore(clock_run(), nodes="ab"), TypeError,
     r"nodes='ab'"),
    ("HappensBefore nodes twice", lambda: causality.HappensBefore(clock_run(), nodes=["n1", "n1", "n2"]),
     ValueError, r"names 'n1' twice"),
    ("HappensBefore select an int", lambda: causality.HappensBefore(clock_run(), select=3), TypeError,
     r"select=3"),
    ("HappensBefore event a str", lambda: oracle().vector("1"), TypeError, r"e='1'"),
    ("HappensBefore unknown second event", lambda: (lambda o: o.happened_before(o.events[0], 10**6))(oracle()),
     ValueError, r"b=1000000 is not a selected event"),
    ("HappensBefore concurrent_with unknown", lambda: oracle().concurrent_with(10**6), ValueError,
     r"e=1000000"),
    ("HappensBefore concurrent_pairs one str", lambda: oracle().concurrent_pairs("ab"), TypeError,
     r"events='ab'"),
    ("HappensBefore concurrent_pairs unknown", lambda: oracle().concurrent_pairs([10**6]), ValueError,
     r"events\[0\]=1000000"),
    ("HappensBefore sample_pairs count float", lambda: oracle().sample_pairs(2.5, random.Random(0)),
     TypeError, r"count=2\.5"),
    ("HappensBefore sample_pairs rng None", lambda: oracle().sample_pairs(3, None), TypeError, r"rng=None"),
    ("HappensBefore find_violation stamp an int", lambda: oracle().find_violation(5), TypeError,
     r"stamp=5"),
    ("HappensBefore find_violation less a str", lambda: oracle().find_violation(abs, "<"), TypeError,
     r"less='<'"),
    ("HappensBefore causal_max missing values", lambda: oracle().causal_max({}), ValueError,
     r"value has no entry for event"),
    ("HappensBefore causal_max a list", lambda: oracle().causal_max([1]), TypeError, r"value=\[1\]"),
    ("HappensBefore events_of unhashable", lambda: oracle().events_of(["n1"]), ValueError,
     r"node=\['n1'\]"),
    # commit
    ("set_refusal_rate sim a str", lambda: commit.set_refusal_rate("sim", 0.1), TypeError, r"sim='sim'"),
    ("set_refusal_rate nan", lambda: commit.set_refusal_rate(Simulation(seed=0), NAN), ValueError,
     r"rate=nan"),
    ("set_refusal_rate a str", lambda: commit.set_refusal_rate(Simulation(seed=0), "0.1"), TypeError,
     r"rate='0\.1'"),
    ("decide an unknown outcome", lambda: naive_2pc()[1].decide("t", ["commit"]), ValueError,
     r"outcome=\['commit'\]"),
    ("NaiveCoordinator vote_timeout 0", lambda: add(commit.NaiveCoordinator, vote_timeout=0), ValueError,
     r"vote_timeout=0"),
    ("ThreePCCoordinator timeout inf", lambda: add(commit.ThreePCCoordinator, timeout=INF), ValueError,
     r"timeout=inf"),
    ("ThreePCParticipant timeout nan", lambda: add(commit.ThreePCParticipant, timeout=NAN), ValueError,
     r"timeout=nan"),
    ("begin writes a list", lambda: naive_2pc()[1].begin("t1", ["p1"]), TypeError, r"writes=\['p1'\]"),
    ("begin unknown participant", lambda: naive_2pc()[1].begin("t1", {"p9": ("x", 1)}), ValueError,
     r"writes names participant 'p9'"),
    ("begin write not a pair", lambda: naive_2pc()[1].begin("t1", {"p1": "x"}), ValueError,
     r"writes\['p1'\]='x'"),
    ("begin no writes", lambda: naive_2pc()[1].begin("t1", {}), ValueError, r"writes=\{\}"),
    ("crash_after sent an int", lambda: crash_after(sent=5), TypeError, r"sent=5"),
    ("crash_after when not callable", lambda: crash_after(recorded="vote", when="yes"), TypeError,
     r"when='yes'"),
    ("crash_after restart_after inf", lambda: crash_after(sent="prepare", restart_after=INF), ValueError,
     r"restart_after=inf"),
    ("crash_after restart_after bool", lambda: crash_after(sent="prepare", restart_after=True), TypeError,
     r"restart_after=True"),
    ("crash_after nth a float", lambda: crash_after(sent="prepare", nth=1.0), TypeError, r"nth=1\.0"),
    ("crash_after unknown node", lambda: crash_after(node_id="nope", sent="prepare"), ValueError,
     r"node_id='nope'"),
    ("commit_scenario coordinator a str", lambda: commit.commit_scenario("x", commit.NaiveParticipant, 0),
     TypeError, r"coordinator_cls='x'"),
    ("commit_scenario refusal_rate 2", lambda: transactions(refusal_rate=2), ValueError, r"refusal_rate=2"),
    ("commit_scenario no transactions", lambda: transactions(transactions=0), ValueError,
     r"transactions=0"),
    ("commit_scenario spacing nan", lambda: transactions(spacing=NAN), ValueError, r"spacing=nan"),
    ("commit_scenario settle inf", lambda: transactions(settle=INF), ValueError, r"settle=inf"),
    ("commit_scenario progress a str", lambda: transactions(progress="yes"), TypeError,
     r"progress='yes'"),
    ("commit_scenario restart_after 0", lambda: transactions(restart_after=0), ValueError,
     r"restart_after=0"),
    ("commit_scenario unknown crash point", lambda: transactions(crash="sometimes"), ValueError,
     r"crash='sometimes'"),
    ("commit_scenario a billion transactions", lambda: transactions(transactions=10**9, settle=1e12), ValueError,
     r"transactions=1000000000 .*max_events=100000 events; pass a larger max_events"),
    # commit: the schedule search scenario
    ("commit_search participant a str", lambda: commit.commit_search(commit.NaiveCoordinator, "p"),
     TypeError, r"participant_cls='p'"),
    ("commit_search depth 0", lambda: commit.commit_search(commit.NaiveCoordinator, commit.NaiveParticipant,
                                                           depth=0), ValueError, r"depth=0"),
    ("commit_search participants a str", lambda: commit.commit_search(
        commit.NaiveCoordinator, commit.NaiveParticipant, participants="3"), TypeError, r"participants='3'"),
    ("commit_search crashes -1", lambda: commit.commit_search(commit.NaiveCoordinator, commit.NaiveParticipant,
                                                              crashes=-1), ValueError, r"crashes=-1"),
    ("commit_search refusal_rate 2", lambda: commit.commit_search(
        commit.NaiveCoordinator, commit.NaiveParticipant, refusal_rate=2), ValueError, r"refusal_rate=2"),
    ("commit_search max_states 0", lambda: commit.commit_search(
        commit.NaiveCoordinator, commit.NaiveParticipant, max_states=0), ValueError, r"max_states=0"),
    ("transaction_outcomes of a str", lambda: commit.transaction_outcomes("sim"), TypeError, r"sim='sim'"),
    ("in_doubt_time of None", lambda: commit.in_doubt_time(None), TypeError, r"sim=None"),
    # the invariants
    ("atomic_commit of a str", lambda: atomic_commit("sim"), TypeError, r"sim='sim'"),
    ("at_most_one_leader of None", lambda: at_most_one_leader(None), TypeError, r"sim=None"),
    ("atomic_commit without a trace", lambda: atomic_commit(Simulation(seed=0, trace=False)), ValueError,
     r"trace=True"),
    ("raft invariants without a trace", lambda: raft_invariants.register(Simulation(seed=0, trace=False)),
     ValueError, r"trace=True"),
    ("raft invariants of an int", lambda: raft_invariants.election_safety(42), TypeError, r"sim=42"),
    ("raft invariants register a str", lambda: raft_invariants.register("sim"), TypeError, r"sim='sim'"),
    # election: pauses and the leadership log
    ("is_paused of an id", lambda: election.is_paused("n1"), TypeError, r"node='n1'"),
    ("pause_node sim a str", lambda: election.pause_node("sim", "a", 1), TypeError, r"sim='sim'"),
    ("pause_node unknown node", lambda: election.pause_node(replicas(), "zz", 1), ValueError,
     r"node_id='zz'"),
    ("pause at nan", lambda: election.pause(replicas(), "n1", at=NAN, duration=1), ValueError, r"at=nan"),
    ("watch_leaders None", lambda: election.watch_leaders(None), TypeError, r"sim=None"),
    ("leaders_at a str", lambda: leadership_log().leaders_at("5"), TypeError, r"time='5'"),
    # election: the classes
    ("HeartbeatElection timeout 0", lambda: add(election.HeartbeatElection, timeout=0), ValueError,
     r"timeout=0"),
    ("HeartbeatElection interval negative", lambda: add(election.HeartbeatElection, interval=-1),
     ValueError, r"interval=-1"),
    ("HeartbeatElection first_heard a str", lambda: add(election.HeartbeatElection, first_heard="yes"),
     TypeError, r"first_heard='yes'"),
    ("BullyNode timeout nan", lambda: add(election.BullyNode, timeout=NAN, node_id=1), ValueError,
     r"timeout=nan"),
    ("RingNode ring one str", lambda: add(election.RingNode, "123", node_id=1), TypeError, r"ring='123'"),
    ("RingNode ring without itself", lambda: add(election.RingNode, [2, 3], node_id=1), ValueError,
     r"ring=\[2, 3\] must contain this node's id 1"),
    ("RedisLeaderElection ttl 0", lambda: add(election.RedisLeaderElection, "r", "s", ttl=0), ValueError,
     r"ttl=0"),
    ("RedisLeaderElection name an int", lambda: add(election.RedisLeaderElection, "r", "s",
                                                    election_name=5), TypeError, r"election_name=5"),
    ("EtcdLeaderElection retry 0", lambda: add(election.EtcdLeaderElection, "e", retry=0), ValueError,
     r"retry=0"),
    ("FencedStorage check_tokens a str", lambda: add(election.FencedStorage, check_tokens="yes"), TypeError,
     r"check_tokens='yes'"),
    ("FailureDetector nodes one str", lambda: election.FailureDetector("ab"), TypeError, r"nodes='ab'"),
    ("FailureDetector no nodes", lambda: election.FailureDetector([]), ValueError, r"nodes=\[\]"),
    ("FailureDetector nodes twice", lambda: election.FailureDetector(["a", "a"]), ValueError,
     r"names 'a' twice"),
    ("FailureDetector threshold bool", lambda: election.FailureDetector(["a"], threshold=True), TypeError,
     r"threshold=True"),
    ("FailureDetector on_suspect a str", lambda: election.FailureDetector(["a"], on_suspect="print"),
     TypeError, r"on_suspect='print'"),
    ("HeartbeatMonitor interval 0", lambda: add(election.HeartbeatMonitor, ["w1"], interval=0), ValueError,
     r"interval=0"),
    ("Heartbeater interval nan", lambda: add(election.Heartbeater, "m", interval=NAN), ValueError,
     r"interval=nan"),
    # election: the runs
    ("run_bully unknown initiator", lambda: election.run_bully(3, initiator=7), ValueError,
     r"initiator=7 must be one of the ids 1\.\.3"),
    ("run_bully initiator a str", lambda: election.run_bully(3, initiator="1"), ValueError,
     r"initiator='1'"),
    ("run_bully n a float", lambda: election.run_bully(2.0, 1), TypeError, r"n=2\.0"),
    ("run_bully leader_down a str", lambda: election.run_bully(3, 1, leader_down="no"), TypeError,
     r"leader_down='no'"),
    ("run_bully ten million nodes", lambda: election.run_bully(10**7, 1), ValueError,
     r"n=10000000 nodes need more than max_events=2000000 events; pass a larger max_events"),
    ("ring_order unknown arrangement", lambda: election.ring_order(4, "sorted"), ValueError,
     r"arrangement='sorted'"),
    ("ring_order n negative", lambda: election.ring_order(-1, "increasing"), ValueError, r"n=-1"),
    ("ring_order n a float", lambda: election.ring_order(2.5, "increasing"), TypeError, r"n=2\.5"),
    ("run_ring unknown initiators", lambda: election.run_ring(4, initiators="some"), ValueError,
     r"initiators='some'"),
    ("run_ring no nodes", lambda: election.run_ring(0), ValueError, r"n=0"),
    ("run_failure_detector no nodes", lambda: election.run_failure_detector(nodes=0), ValueError,
     r"nodes=0"),
    ("run_failure_detector unknown crash", lambda: election.run_failure_detector(crash="w9"), ValueError,
     r"crash='w9'"),
    ("run_failure_detector until inf", lambda: election.run_failure_detector(until=INF), ValueError,
     r"until=inf"),
    ("run_failure_detector crash_at nan", lambda: election.run_failure_detector(crash="w1", crash_at=NAN),
     ValueError, r"crash_at=nan"),
    ("run_failure_detector endless run stops at its budget",
     lambda: election.run_failure_detector(until=1e9, max_events=20_000), EventBudgetExceeded,
     r"max_events=20000.*run_failure_detector\(\.\.\., max_events=N\)"),
    ("suspicions of an int", lambda: election.suspicions(5), TypeError, r"sim=5"),
    ("lease_scenario server a str", lambda: leases(server_cls="x"), TypeError, r"server_cls='x'"),
    ("lease_scenario ttl nan", lambda: leases(ttl=NAN), ValueError, r"ttl=nan"),
    ("lease_scenario on_setup a str", lambda: leases(on_setup="x"), TypeError, r"on_setup='x'"),
    ("lease_scenario partition a str", lambda: leases(partition="yes"), TypeError, r"partition='yes'"),
    ("lease_scenario duration inf", lambda: leases(duration=INF), ValueError, r"duration=inf"),
    ("lease_scenario a trillion pauses", lambda: leases(pauses=10**12), ValueError,
     r"duration=150.0 is too short for 1000000000000 faults"),
    ("lease_scenario candidates 0", lambda: leases(candidates=0), ValueError, r"candidates=0"),
    # paxos
    ("PaxosNode members one str", lambda: add(paxos.PaxosNode, "abc", node_id="a"), TypeError,
     r"members='abc'"),
    ("PaxosNode no members", lambda: add(paxos.PaxosNode, [], node_id="a"), ValueError, r"members=\[\]"),
    ("PaxosNode timeout 0", lambda: add(paxos.PaxosNode, ["a"], timeout=0, node_id="a"), ValueError,
     r"timeout=0"),
    ("PaxosNode backoff_delay negative", lambda: add(paxos.PaxosNode, ["a"], backoff_delay=-1,
                                                     node_id="a"), ValueError, r"backoff_delay=-1"),
    ("PaxosNode unknown backoff", lambda: add(paxos.PaxosNode, ["a"], backoff="sometimes", node_id="a"),
     ValueError, r"backoff='sometimes'"),
    ("run_paxos proposer not a member", lambda: proposals(proposers=[(0, "z", "x")]), ValueError,
     r"proposers\[0\]: node='z' is not one of members"),
    ("run_paxos proposal not a triple", lambda: proposals(proposers=[(0, "a")]), ValueError,
     r"proposers\[0\]=\(0, 'a'\)"),
    ("run_paxos proposal time nan", lambda: proposals(proposers=[(NAN, "a", "x")]), ValueError,
     r"proposers\[0\]: time=nan"),
    ("run_paxos proposers one str", lambda: proposals(proposers="abc"), TypeError, r"proposers='abc'"),
    ("run_paxos until 0", lambda: proposals(until=0), ValueError, r"until=0"),
    ("run_paxos members twice", lambda: proposals(members=["a", "a", "e"]), ValueError, r"names 'a' twice"),
    ("learned_values of plain nodes", lambda: paxos.learned_values(replicas()), ValueError,
     r"node 'n1' of sim has no \.learned"),
    ("decision_time of a str", lambda: paxos.decision_time("x"), TypeError, r"sim='x'"),
    # raft: messages
    ("RequestVote term negative", lambda: vote(term=-1), ValueError, r"term=-1"),
    ("RequestVote term a str", lambda: vote(term="1"), TypeError, r"term='1'"),
    ("RequestVote last_log_index a float", lambda: vote(last_log_index=1.0), TypeError,
     r"last_log_index=1\.0"),
    ("RequestVoteReply term nan", lambda: raft.RequestVoteReply(term=NAN, vote_granted=True), TypeError,
     r"term=nan"),
    ("AppendEntries entries one str", lambda: entries(entries="ab"), TypeError, r"entries='ab'"),
    ("AppendEntries entry not a pair", lambda: entries(entries=[(1,)]), ValueError,
     r"entries\[0\]=\(1,\) must be a pair"),
    ("AppendEntries leader_commit bool", lambda: entries(leader_commit=True), TypeError,
     r"leader_commit=True"),
    ("AppendEntriesReply conflict_term a str",
     lambda: raft.AppendEntriesReply(term=1, success=False, conflict_term="x"), TypeError,
     r"conflict_term='x'"),
    # raft: the base class
    ("become_follower term a str", lambda: server().become_follower("2"), TypeError, r"term='2'"),
    ("term_at index a str", lambda: server().term_at("1"), TypeError, r"index='1'"),
    ("term_at beyond the log", lambda: server().term_at(5), IndexError, r"index=5"),
    ("apply index a float", lambda: server().apply(1.0, "x"), TypeError, r"index=1\.0"),
    ("ScriptedPeer grant_votes a str", lambda: add(raft.ScriptedPeer, grant_votes="no"), TypeError,
     r"grant_votes='no'"),
    ("ScriptedPeer received an int", lambda: add(raft.ScriptedPeer).received(5), TypeError,
     r"msg_type=5"),
    # raft: the schedule search scenario
    ("election_search depth 0", lambda: raft.election_search(Idle, depth=0), ValueError, r"depth=0"),
    ("election_search n a str", lambda: raft.election_search(Idle, n="3"), TypeError, r"n='3'"),
    ("election_search max_states -1", lambda: raft.election_search(Idle, max_states=-1), ValueError,
     r"max_states=-1"),
    ("election_search cls not a Raft class", lambda: raft.election_search(Node), TypeError, r"cls="),
    # raft: the cluster
    ("RaftCluster cls not a Raft class", lambda: raft.RaftCluster(Node, 3), TypeError, r"cls="),
    ("RaftCluster n bool", lambda: raft.RaftCluster(Idle, True), TypeError, r"n=True"),
    ("RaftCluster unreliable a str", lambda: raft.RaftCluster(Idle, 3, unreliable="yes"), TypeError,
     r"unreliable='yes'"),
    ("RaftCluster ten million servers", lambda: raft.RaftCluster(Idle, 10**7), ValueError,
     r"n=10000000 servers need more than max_events=400000 events; pass a larger max_events"),
    ("RaftCluster run 0", lambda: cluster().run(0), ValueError, r"duration=0"),
    ("RaftCluster run nan", lambda: cluster().run(NAN), ValueError, r"duration=nan"),
    ("RaftCluster unknown server", lambda: cluster().node("s9"), ValueError, r"server='s9'"),
    ("RaftCluster server a list", lambda: cluster().node(["s1"]), ValueError, r"server=\['s1'\]"),
    ("RaftCluster n_committed index 0", lambda: cluster().n_committed(0), ValueError, r"index=0"),
    ("RaftCluster wait for more servers than it has", lambda: cluster().wait(1, 4), ValueError, r"n=4"),
    ("RaftCluster one expected 0", lambda: cluster().one(5, 0), ValueError, r"expected=0"),
    ("RaftCluster message_count one str", lambda: cluster().message_count("append_entries"), TypeError,
     r"types='append_entries'"),
    ("RaftCluster set_unreliable 1", lambda: cluster().set_unreliable(1), TypeError, r"unreliable=1"),
    ("RaftCluster set_long_reordering None", lambda: cluster().set_long_reordering(None), TypeError,
     r"on=None"),
    # raft: the graded scenarios' own counts
    ("many_elections iterations a str", lambda: raft.many_elections(Idle, 0, iterations="6"), TypeError,
     r"iterations='6'"),
    ("basic_agreement no commands", lambda: raft.basic_agreement(Idle, 0, commands=0), ValueError,
     r"commands=0"),
    ("churn no clients", lambda: raft.churn(Idle, 0, clients=0), ValueError, r"clients=0"),
    ("figure8 unreliable a str", lambda: raft.figure8(Idle, 0, unreliable="yes"), TypeError,
     r"unreliable='yes'"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the stated error naming the parameter and its value; a bad value or
    type is the one bad-argument error, InvalidArgument (InvalidArgumentType for a type)."""
    assert_named_error(call, error, pattern)


def heartbeat_from_a_stranger():
    detector = election.FailureDetector(["a"], threshold=1)
    detector.record_heartbeat("z")
    detector.check_failures()
    return detector


BEHAVIOURS = [
    ("cluster positions wrap around", lambda: (cluster().node(3).id, cluster().node(-1).id),
     lambda got: got == ("s1", "s3")),
    ("RequestVoteReply makes vote_granted a bool", lambda: raft.RequestVoteReply(term=1, vote_granted=1),
     lambda msg: msg.vote_granted is True),
    ("a heartbeat from an unwatched node starts watching it", heartbeat_from_a_stranger,
     lambda d: set(d.nodes) == {"a", "z"} and d.suspected == {"a", "z"}),
    ("one node has no neighbours", lambda: clocks.make_topology(["a"], "ring", random.Random(0)),
     lambda topology: topology == {"a": []}),
    ("a single node's events are all local", lambda: clocks.run_clocks(None, 1, nodes=1, sends=2,
                                                                       local_events=1),
     lambda run: [e.op for e in run.events] == ["local"] * 3),
    ("no writes drawn", lambda: draw(count=0), lambda writes: writes == []),
    ("no writes scheduled", lambda: welcome.schedule_writes(replicas(), []), lambda got: got is None),
    ("an oracle over no events", lambda: causality.HappensBefore(Simulation(seed=0), nodes=[]),
     lambda hb: hb.events == [] and hb.concurrent_pairs() == []),
    ("spacing 0 begins every transaction at once", lambda: transactions(spacing=0, transactions=3),
     lambda sim: sorted(commit.transaction_outcomes(sim)) == ["t1", "t2", "t3"]),
    ("windows of an empty history", lambda: consistency.windows(History(), 10),
     lambda rows: len(rows) == 1 and rows[0].ops == 0 and math.isnan(rows[0].availability)),
    ("one synchronisation round", lambda: clocks.synchronise(seed=0, rounds=1),
     lambda result: len(result.rounds) == 1),
]


@pytest.mark.parametrize("label, call, check", BEHAVIOURS, ids=[row[0] for row in BEHAVIOURS])
def test_odd_input_has_its_documented_behaviour(label, call, check):
    """Input that looks odd but is documented does what the documentation says."""
    with deadline(DEADLINE):
        result = call()
    assert check(result)
