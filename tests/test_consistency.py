"""Tests of course_lib.topics.consistency: the AP and CP registers, their clients, the workload and the meters."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.topics.consistency import (INITIAL_VERSION, MODES, AsyncReplica, Clients, Faults,
                                           PrimaryReplica, RegisterClient, interrupted_write_scenario,
                                           quorum_scenario, session_run, session_scenario,
                                           RegisterReplica, first_violation, latencies, plot_windows,
                                           run_workload, stale_reads, windows)
from course_lib.history import History
from course_lib.sim import HandlerError


# -- replicas that misbehave on purpose, to test the clients ---------------------------------------

class Silent(RegisterReplica):
    """Never answers anything."""

    def on_read(self, msg):
        pass

    def on_write(self, msg):
        pass


class Refuser(RegisterReplica):
    """Refuses reads definitely and writes indefinitely."""

    def on_read(self, msg):
        self.refuse(msg, "no")

    def on_write(self, msg):
        self.refuse(msg, "maybe", definite=False)


class Confused(RegisterReplica):
    """Answers a read with write_ok: a protocol error."""

    def on_read(self, msg):
        self.reply(msg, "write_ok")

    def on_write(self, msg):
        self.answer_write(msg)


# -- the AP register -----------------------------------------------------------------------------------

def test_ap_register_diverges_during_a_partition_and_converges_after_healing():
    """Both sides keep accepting writes while cut off; anti-entropy makes the copies equal after heal."""
    during = {}

    def snapshot_mid_partition(sim):
        sim.at(70.0, lambda: during.update({r: sim.node(r).snapshot() for r in ("n1", "n2", "n3")}))

    run = run_workload("AP", seed=4, duration=120, clients=Clients(read_fraction=0.3),
                       faults=Faults(partition=(30, 90), loss=0.1, schedule=snapshot_mid_partition))
    assert during["n1"] == during["n2"] != during["n3"]
    assert run.converged().valid, run.converged().explain()
    assert run.summary()["fail"] == 0  # lost client messages time out, but nobody refuses


def test_ap_register_serves_stale_reads_that_the_linearizability_checker_catches():
    """Under a partition some seeds give stale reads; every history with one is judged not linearizable."""
    caught = 0
    for seed in range(6):
        run = run_workload("AP", seed=seed, faults=Faults(partition=(20, 60)), duration=80)
        stale = run.stale_reads()
        if stale:
            caught += 1
            assert run.check().valid is False
            assert run.first_violation() <= stale[0].read.return_time
    assert caught >= 3


def test_ap_register_applies_a_duplicated_write_once():
    """A write request the network duplicates gets one version, not two."""
    run = run_workload("AP", seed=2, faults=Faults(duplicate=0.5), duration=60,
                       clients=Clients(read_fraction=0.2))
    writes = [op for op in run.history.operations() if op.f == "write"]
    versions = [v for r in run.replicas for v in run.sim.node(r).seen.values()]
    assert len(versions) == len(writes) == len(set(versions))


def test_ap_register_with_write_acks_is_unsure_of_writes_it_cannot_replicate():
    """write_acks=2 of 3: a cut-off replica cannot collect the acks and answers error(definite=False)."""
    run = run_workload("AP", seed=1, replica_options={"write_acks": 2}, faults=Faults(partition=(20, 60)),
                       duration=80, clients=Clients(read_fraction=0.3))
    far = [op for op in run.history.operations()
           if run.clients[op.process] == "n3" and 21 <= op.call_time <= 55]
    far_writes = [op for op in far if op.f == "write"]
    assert far_writes and all(op.status == "info" for op in far_writes)
    assert all(op.status == "ok" for op in far if op.f == "read")


def test_ap_write_acks_trade_latency_for_fewer_stale_reads():
    """Waiting for more acknowledgements makes writes slower and stale reads rarer (no partition)."""
    results = []
    for acks in (0, 2):
        run = run_workload("AP", seed=7, replica_options={"write_acks": acks}, duration=150,
                           clients=Clients(per_replica=2, think=(1, 3)))
        results.append((sorted(latencies(run.history, "write"))[len(latencies(run.history, "write")) // 2],
                        len(run.stale_reads())))
    (fast, many), (slow, few) = results
    assert fast < slow and many > few


# -- the CP register -----------------------------------------------------------------------------------

def random_replica_faults(sim):
    sim.nemesis.random_faults(start=5, end=70, mean_interval=10, duration=8)


@settings(max_examples=30)
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_cp_register_is_linearizable_under_partitions_loss_and_crashes(seed):
    """The primary-based register gives linearizable histories whatever the faults."""
    run = run_workload("CP", seed=seed, duration=80,
                       clients=Clients(per_replica=2, think=(0.5, 3.0), read_fraction=0.5),
                       faults=Faults(loss=0.05, duplicate=0.05, reorder=0.1, schedule=random_replica_faults))
    result = run.check()
    assert result.valid is True, result.explain()
    assert run.stale_reads() == []


def test_cp_register_survives_a_primary_crash_with_its_data():
    """The primary's copy is durable: it holds the same value before the crash and after the restart."""
    seen = {}

    def watch_primary(sim):
        sim.at(29.99, lambda: seen.update(before=sim.node("n1").snapshot()))
        sim.at(45.01, lambda: seen.update(after=sim.node("n1").snapshot()))

    run = run_workload("CP", seed=3, duration=80, clients=Clients(read_fraction=0.5),
                       faults=Faults(crashes=[("n1", 30, 45)], schedule=watch_primary))
    assert seen["before"] and seen["after"] == seen["before"]
    assert run.check().valid is True
    down = [op for op in run.history.operations() if 31 <= op.call_time <= 43]
    assert down and not any(op.status == "ok" for op in down)


def test_cp_register_refuses_on_the_far_side_of_a_partition():
    """Cut off from the primary, a replica refuses: reads fail, writes are indeterminate; the rest works."""
    run = run_workload("CP", seed=5, faults=Faults(partition=(30, 70)), duration=100,
                       clients=Clients(per_replica=2))
    far = [op for op in run.history.operations()
           if run.clients[op.process] == "n3" and 31 <= op.call_time <= 67]
    near = [op for op in run.history.operations()
            if run.clients[op.process] != "n3" and 31 <= op.call_time <= 67]
    assert far and not any(op.status == "ok" for op in far)
    assert all(op.status == "fail" for op in far if op.f == "read")
    assert all(op.status == "info" for op in far if op.f == "write")
    assert near and all(op.status == "ok" for op in near)
    assert run.check().valid is True


def test_cp_register_with_the_primary_cut_off_serves_only_the_minority():
    """A fixed primary is not a majority: cut it off and the two-replica side refuses."""
    run = run_workload("CP", seed=5, faults=Faults(partition=(30, 70), cut_off=["n1"]), duration=100)
    majority = [op for op in run.history.operations()
                if run.clients[op.process] != "n1" and 31 <= op.call_time <= 67]
    assert majority and not any(op.status == "ok" for op in majority)


def test_modes_switch_between_the_two_registers():
    """'AP' and 'CP' name the two replica classes."""
    assert MODES == {"AP": AsyncReplica, "CP": PrimaryReplica}
    assert run_workload("AP", seed=0, duration=10).mode == "AsyncReplica"
    assert run_workload(PrimaryReplica, seed=0, duration=10).mode == "PrimaryReplica"


# -- clients and their histories -------------------------------------------------------------------------

def test_client_records_a_timeout_as_info_after_its_timeout():
    """No answer: the operation completes as info exactly one timeout after it was invoked."""
    run = run_workload(Silent, seed=0, duration=20, clients=Clients(timeout=3.0))
    ops = run.history.operations()
    assert ops and all(op.status == "info" for op in ops if op.return_time is not None)
    assert all(math.isclose(op.return_time - op.call_time, 3.0) for op in ops
               if op.return_time is not None)


def test_client_records_refusals_as_fail_or_info_as_the_replica_says():
    """error(definite=True) is a fail, error(definite=False) an info."""
    run = run_workload(Refuser, seed=0, duration=40, clients=Clients(read_fraction=0.5))
    ops = run.history.operations()
    assert {op.status for op in ops if op.f == "read"} == {"fail"}
    assert {op.status for op in ops if op.f == "write"} == {"info"}
    assert run.summary()["availability"] == 0.0


def test_client_records_ok_reads_with_the_value_and_writes_unique_values():
    """Reads carry what they read; every write writes a new integer."""
    run = run_workload("CP", seed=0, duration=60, clients=Clients(per_replica=2))
    ops = run.history.operations()
    values = [op.value for op in ops if op.f == "write"]
    assert len(values) == len(set(values)) and all(isinstance(v, int) for v in values)
    assert any(op.f == "read" and op.status == "ok" and op.output in values for op in ops)
    times = [e.time for e in run.history]
    assert times == sorted(times)


def test_client_stops_the_run_on_a_protocol_error():
    """Answering a read with write_ok is an error that names the replica and the protocol."""
    with pytest.raises(HandlerError, match="protocol expects 'read_ok' or 'error'"):
        run_workload(Confused, seed=0, duration=40, clients=Clients(read_fraction=1.0))


def test_a_restarted_client_abandons_its_open_operation():
    """A client that crashes mid-operation records it as info when it restarts, then goes on."""
    def crash_client(sim):
        sim.nemesis.crash("c0", at=10, restart_at=12)

    # The first operation starts before t=8 and waits 50 for its answer: open at t=10.
    run = run_workload(Silent, seed=0, duration=30, clients=Clients(timeout=50.0),
                       faults=Faults(schedule=crash_client))
    mine = [op for op in run.history.operations() if op.process == 0]
    assert any(op.output == "client crashed" for op in mine)
    assert any(op.call_time > 12 for op in mine)


# -- the meters -----------------------------------------------------------------------------------------

def hand_history(*ops):
    """Operations (process, f, value, output/None, start, end), recorded in time order."""
    events = []
    for p, f, value, output, start, end in ops:
        events.append((start, 0, p, f, value, None))
        events.append((end, 1, p, f, None, output))
    h = History()
    for time, kind, p, f, value, output in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            h.invoke(p, f, "x", value, time=time)
        else:
            h.ok(p, value=output, time=time)
    return h


def test_stale_reads_finds_a_read_that_missed_an_acknowledged_write():
    """Write 1, then write 2 completes, then a read returns 1: stale, and it names write 2."""
    h = hand_history((0, "write", 1, None, 0, 1), (0, "write", 2, None, 2, 3),
                     (1, "read", None, 1, 4, 5))
    (stale,) = stale_reads(h)
    assert stale.saw.value == 1 and stale.missed.value == 2 and stale.read.output == 1
    assert "missed" in str(stale)


def test_stale_reads_ignores_concurrent_writes_and_indeterminate_sources():
    """Overlapping writes may be ordered either way; an info write may take effect late."""
    overlap = hand_history((0, "write", 1, None, 0, 3), (1, "write", 2, None, 1, 2),
                           (2, "read", None, 1, 4, 5))
    assert stale_reads(overlap) == []
    h = History()
    h.invoke(0, "write", "x", 1, time=0)
    h.info(0, time=1)
    h.invoke(1, "write", "x", 2, time=2)
    h.ok(1, time=3)
    h.invoke(2, "read", "x", time=4)
    h.ok(2, value=1, time=5)
    assert stale_reads(h) == []


def test_stale_reads_rejects_repeated_write_values():
    """A value written twice makes a read ambiguous: say so, naming the value."""
    h = hand_history((0, "write", 1, None, 0, 1), (1, "write", 1, None, 2, 3))
    with pytest.raises(ValueError, match="value=1 is written twice"):
        stale_reads(h)


def test_first_violation_is_the_completion_that_breaks_linearizability():
    """The prefix before the returned time is linearizable, the one including it is not."""
    h = hand_history((0, "write", 1, None, 0, 1), (1, "read", None, 1, 2, 3),
                     (0, "write", 2, None, 4, 5), (1, "read", None, 1, 6, 7),
                     (1, "read", None, 2, 8, 9))
    assert first_violation(h) == 7
    assert first_violation(hand_history((0, "write", 1, None, 0, 1))) is None


def test_windows_measure_availability_stale_reads_and_linearizability_so_far():
    """Each window counts the operations invoked in it; 'linearizable' turns False for good."""
    h = hand_history((0, "write", 1, None, 0, 1), (0, "write", 2, None, 2, 3),
                     (1, "read", None, 1, 12, 13), (1, "read", None, 2, 22, 23))
    rows = windows(h, 10)
    assert [(w.start, w.ops, w.ok, w.stale_reads, w.linearizable) for w in rows] == [
        (0.0, 2, 2, 0, True), (10.0, 1, 1, 1, False), (20.0, 1, 1, 0, False)]
    assert rows[0].availability == 1.0


def test_latencies_are_the_durations_of_ok_operations():
    """Latency is completion minus invocation, for ok operations, optionally of one function."""
    h = hand_history((0, "write", 1, None, 0, 1.5), (1, "read", None, 1, 2, 2.25))
    assert latencies(h) == [1.5, 0.25]
    assert latencies(h, "read") == [0.25]


# -- input validation -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(replica=42), TypeError, "replica=42"),
    (dict(replica="XP"), ValueError, "replica='XP'"),
    (dict(seed=1.5), TypeError, "seed=1.5"),
    (dict(replicas="n1"), TypeError, "replicas='n1'"),
    (dict(replicas=["n1", "n1"]), ValueError, "names 'n1' twice"),
    (dict(duration=-1), ValueError, "duration=-1"),
    (dict(faults=Faults(partition=(10, 20), cut_off=["n9"])), ValueError, "cut_off=\\['n9'\\]"),
    (dict(faults=Faults(partition=(10, 20), cut_off=["n1", "n2", "n3"])), ValueError, "both sides"),
    (dict(faults=Faults(crashes=[("n9", 10, None)])), ValueError, "crashes\\[0\\].*'n9' is not one of replicas"),
    (dict(faults=lambda sim: None), TypeError, "faults=.* must be a Faults.*Faults\\(schedule="),
    (dict(clients={"per_replica": 2}), TypeError, "clients=\\{'per_replica': 2\\} must be a Clients"),
    (dict(clients=Clients(per_replica=10**9)), ValueError, "per_replica=1000000000.*max_events"),
    (dict(replica_options=[1]), TypeError, "replica_options=\\[1\\]"),
    (dict(replica_options={"write_acks": 3}), ValueError, "write_acks=3"),
    (dict(replica="CP", replica_options={"primary": "n7"}), ValueError, "primary='n7'"),
    (dict(replica="CP", replica_options={"forward_timeout": 0}), ValueError, "forward_timeout=0"),
    (dict(partition=(30, 70)), TypeError, "partition=\\(30, 70\\) is not an argument of run_workload: pass "
                                          "faults=Faults\\(partition=\\(30, 70\\)\\)"),
    (dict(clients_per_replica=2), TypeError, "pass clients=Clients\\(per_replica=2\\)"),
    (dict(partitions=(30, 70)), TypeError, "unexpected keyword argument partitions=\\(30, 70\\)"),
])
def test_run_workload_names_the_bad_argument(kwargs, error, match):
    """Every wrong argument is an error naming the parameter and its value; an old keyword says where it went."""
    kwargs = {"replica": "AP", "seed": 0, **kwargs}
    replica = kwargs.pop("replica")
    with pytest.raises(error, match=match):
        run_workload(replica, **kwargs)


@pytest.mark.parametrize("make, error, match", [
    (lambda: Faults(partition=(50, 20)), ValueError, "partition=\\(50, 20\\)"),
    (lambda: Faults(partition=50), ValueError, "partition=50 must be \\(start, end\\) or None"),
    (lambda: Faults(cut_off="n1"), TypeError, "cut_off='n1'"),
    (lambda: Faults(crashes=[("n1", 10)]), ValueError, "crashes\\[0\\]"),
    (lambda: Faults(crashes=[("n1", 10, 5)]), ValueError, "restart_at must be after at"),
    (lambda: Faults(loss=1.5), ValueError, "loss=1.5"),
    (lambda: Faults(reorder="often"), TypeError, "reorder='often'"),
    (lambda: Faults(latency=-1), ValueError, "latency=-1"),
    (lambda: Faults(schedule="nemesis"), TypeError, "schedule='nemesis'"),
    (lambda: Clients(per_replica=0), ValueError, "per_replica=0"),
    (lambda: Clients(latency=-0.1), ValueError, "latency=-0.1"),
    (lambda: Clients(timeout=0), ValueError, "timeout=0"),
    (lambda: Clients(think=(5, 1)), ValueError, "think=\\(5.0, 1.0\\)"),
    (lambda: Clients(think=3), ValueError, "think=3 must be \\(low, high\\)"),
    (lambda: Clients(read_fraction=-0.1), ValueError, "read_fraction=-0.1"),
    (lambda: Clients(keys=[]), ValueError, "keys=\\[\\]"),
    (lambda: Clients(route="anywhere"), ValueError, "route='anywhere'"),
    (lambda: Clients(session="token"), TypeError, "session='token'"),
    (lambda: Clients(retry_delay=0), ValueError, "retry_delay=0"),
])
def test_clients_and_faults_check_their_fields_when_made(make, error, match):
    """A bad field of Clients or Faults is refused when the value is made, naming the field and its value."""
    with pytest.raises(error, match=match):
        make()


def test_clients_and_faults_are_values():
    """Equal settings are equal values, shown with their checked fields; they cannot be changed after checking."""
    assert Clients(per_replica=2, think=(1, 4)) == Clients(per_replica=2, think=(1.0, 4.0))
    assert Faults(partition=(30, 70), cut_off=["n1"]).cut_off == ("n1",)
    with pytest.raises(AttributeError):
        Faults().loss = 0.5  # type: ignore[misc]
    assert "per_replica=2" in repr(Clients(per_replica=2))


def test_meters_name_their_bad_arguments():
    """windows, latencies, stale_reads, first_violation and plot_windows check their inputs."""
    h = hand_history((0, "write", 1, None, 0, 1))
    with pytest.raises(ValueError, match="width=0"):
        windows(h, 0)
    with pytest.raises(ValueError, match="end=-5"):
        windows(h, 1, end=-5)
    with pytest.raises(TypeError, match="history=\\[1, 2\\]"):
        windows([1, 2], 1)
    with pytest.raises(TypeError, match="f=3"):
        latencies(h, 3)
    with pytest.raises(TypeError, match="not an Operation"):
        stale_reads([1])
    with pytest.raises(TypeError, match="history='h'"):
        first_violation("h")
    with pytest.raises(ValueError, match="runs=\\{\\}"):
        plot_windows({})
    with pytest.raises(TypeError, match="runs\\['AP'\\]=1"):
        plot_windows({"AP": 1})


def test_replica_refuse_checks_definite():
    """refuse(definite=...) takes a bool, so a typo cannot turn an unknown into a fail."""
    class Sloppy(RegisterReplica):
        def on_read(self, msg):
            self.refuse(msg, "no", definite="no")

    with pytest.raises(HandlerError, match="definite='no'"):
        run_workload(Sloppy, seed=0, duration=20, clients=Clients(read_fraction=1.0))


def test_client_class_is_exported_for_custom_harnesses():
    """RegisterClient is a Node subclass a custom harness can place itself."""
    from course_lib.sim import Node
    assert issubclass(RegisterClient, Node)


# -- what the chapter 01 exercise builds on: versions, routes, sessions, gather, scenarios --------------

from course_lib.checkers import monotonic_reads, read_your_writes  # noqa: E402
from course_lib.grading import ScenarioFailed  # noqa: E402
from course_lib.sim import Node, Simulation  # noqa: E402


class Probe(Node):
    """Sends the requests it is told to and keeps the replies."""

    def __init__(self):
        self.replies = []

    def ask(self, dst, msg_type, **fields):
        self.request(dst, msg_type, timeout=5, on_reply=self.replies.append, **fields)


def _ap_cluster(seed=0):
    sim = Simulation(seed=seed, latency=0.5)
    for rid in ("n1", "n2", "n3"):
        sim.add_node(AsyncReplica, rid, ["n1", "n2", "n3"])
    probe = sim.add_node(Probe, "p")
    return sim, probe


def test_ap_register_answers_with_the_version_of_what_it_read_and_wrote():
    """read_ok carries the value's version (INITIAL_VERSION before any write), write_ok the write's."""
    sim, probe = _ap_cluster()
    sim.at(1, lambda: probe.ask("n1", "read", key="x", op="r1"))
    sim.at(2, lambda: probe.ask("n1", "write", key="x", value="a", op="w1"))
    sim.at(4, lambda: probe.ask("n2", "read", key="x", op="r2"))
    sim.run(until=10)
    first, written, second = probe.replies
    assert (first.type, first.value, first.version) == ("read_ok", None, INITIAL_VERSION)
    assert (written.type, written.version) == ("write_ok", (1, "n1"))
    assert (second.value, second.version) == ("a", (1, "n1"))


def test_ap_register_gives_a_write_a_version_above_its_after_field():
    """A write with after=v gets a version above v, even on a replica whose counter is far behind."""
    sim, probe = _ap_cluster()
    sim.at(1, lambda: probe.ask("n2", "write", key="x", value="a", op="w1", after=(41, "n3")))
    sim.at(3, lambda: probe.ask("n2", "write", key="y", value="b", op="w2", after=None))
    sim.run(until=10)
    assert [r.version for r in probe.replies] == [(42, "n2"), (43, "n2")]


class Echo(AsyncReplica):
    """An AP replica that also answers ``ping`` and gathers pings from the others on request."""

    def on_ping(self, msg):
        self.reply(msg, "pong")

    def on_go(self, msg):
        self.gather("ping", needed=msg.needed, timeout=2.0, resend=msg.get("resend"),
                    on_done=lambda replies: self.record("done", who=sorted(r.src for r in replies)),
                    on_timeout=lambda replies: self.record("timeout", who=sorted(r.src for r in replies)))


def _gather_run(needed, *, loss=0.0, cut=(), resend=None, seed=0):
    sim = Simulation(seed=seed, latency=0.3, loss=loss, duplicate=0.3)
    for rid in ("n1", "n2", "n3"):
        sim.add_node(Echo, rid, ["n1", "n2", "n3"])
    probe = sim.add_node(Probe, "p")
    sim.network.set_link("p", "n1", loss=0.0, duplicate=0.0)
    if cut:
        sim.nemesis.partition([list(cut)], at=0.5)
    sim.at(1, lambda: probe.send("n1", "go", needed=needed, resend=resend))
    sim.run(until=10)
    events = sorted(sim.trace.custom("done") + sim.trace.custom("timeout"), key=lambda e: e.time)
    return [(e.type, e.info["who"]) for e in events]


def test_gather_calls_on_done_once_with_replies_from_distinct_replicas():
    """The replica itself counts; duplicated replies count once; on_done is called exactly once."""
    assert _gather_run(3) == [("done", ["n1", "n2", "n3"])]
    assert [name for name, _ in _gather_run(1)] == ["done"]


def test_gather_times_out_with_the_replies_that_came():
    """Cut off from the others, a replica gathering 2 replies hears only itself and times out."""
    assert _gather_run(2, cut=["n2", "n3"]) == [("timeout", ["n1"])]


def test_gather_resends_to_replicas_that_have_not_answered():
    """With heavy loss, resending gets a majority where a single round mostly does not."""
    once = sum(_gather_run(3, loss=0.4, seed=s)[0][0] == "done" for s in range(20))
    again = sum(_gather_run(3, loss=0.4, resend=0.3, seed=s)[0][0] == "done" for s in range(20))
    assert again >= 15 and once <= 5


def test_gather_names_bad_arguments():
    """needed must be within the replica count, timeout and resend positive."""
    sim = Simulation(seed=0)
    node = sim.add_node(Echo, "n1", ["n1", "n2"])
    sim.add_node(Echo, "n2", ["n1", "n2"])
    for kwargs, match in ((dict(needed=3), "needed=3"), (dict(needed=1, timeout=0), "timeout=0"),
                          (dict(needed=1, resend=-1), "resend=-1")):
        args = {"timeout": 1.0, **kwargs}
        with pytest.raises(ValueError, match=match):
            node.gather("ping", on_done=print, on_timeout=print, **args)


def test_routed_clients_spread_their_operations_over_the_replicas():
    """route='random' and 'rotate' send one client's operations to every replica; 'home' to one."""
    for route, expected in (("home", {"n1"}), ("random", {"n1", "n2", "n3"}), ("rotate", {"n1", "n2", "n3"})):
        run = run_workload("AP", seed=1, duration=100, clients=Clients(think=(1, 3), route=route))
        targets = {e.peer for e in run.sim.trace.filter(kind="send") if e.node == "c0" and e.type in ("read", "write")}
        assert targets == expected, route


def test_mobile_clients_reach_every_replica_during_a_partition():
    """With routing, a partition cuts replicas from each other but no client from any replica."""
    run = run_workload("AP", seed=2, duration=80, clients=Clients(route="rotate"), faults=Faults(partition=(10, 70)))
    assert run.partitions == [(10, 70)]
    dropped = [e for e in run.sim.trace.filter(kind="drop") if e.info == "partition"]
    assert dropped and all(e.node.startswith("n") and e.peer.startswith("n") for e in dropped)
    assert run.summary()["availability"] == 1.0


class Picky:
    """A session that rejects every read answer, and counts what it was told."""

    def __init__(self):
        self.writes = []

    def before_write(self, key):
        return (7, "zz")

    def after_write(self, key, version):
        self.writes.append(version)

    def accept_read(self, key, version):
        return False


def test_a_session_client_retries_rejected_reads_and_gives_up_definitely():
    """Rejected answers are retried at other replicas, then recorded as fail at the deadline."""
    run = run_workload("AP", seed=3, duration=60, clients=Clients(route="random", session=Picky, read_fraction=0.5))
    reads = [op for op in run.history.operations() if op.f == "read"]
    assert reads and all(op.status in ("fail", "info") for op in reads)  # info: the last try timed out
    assert sum(op.output == "no replica was fresh enough" for op in reads) > len(reads) / 2
    rejects = run.sim.trace.custom("session_reject")
    assert len(rejects) > len(reads)
    assert len({e.info["replica"] for e in rejects}) == 3
    writes = [op for op in run.history.operations() if op.f == "write"]
    assert writes and all(op.status == "ok" for op in writes)
    client = run.sim.node("c0")
    assert client.session.writes and all(v > (7, "zz") for v in client.session.writes)


def test_without_sessions_mobile_clients_break_the_session_guarantees():
    """The exercise's "before" picture: session-less clients violate read-your-writes on most seeds."""
    broken = [not read_your_writes(session_run(None, seed).history).valid for seed in range(6)]
    assert sum(broken) >= 3
    assert any(not monotonic_reads(session_run(None, seed).history).valid for seed in range(6))


class AcceptAll(Picky):
    def accept_read(self, key, version):
        return True


def test_session_scenario_fails_sessions_that_break_a_guarantee_or_refuse_everything():
    """Accepting everything breaks read-your-writes on some seed; rejecting everything is unavailable."""
    with pytest.raises(ScenarioFailed, match="read your writes is violated"):
        for seed in range(10):
            session_scenario(AcceptAll, seed, guarantees=["read your writes"])
    with pytest.raises(ScenarioFailed, match="operations succeeded"):
        session_scenario(Picky, 0)
    with pytest.raises(ValueError, match="'causal'"):
        session_scenario(AcceptAll, 0, guarantees=["causal"])


def test_quorum_scenario_passes_a_primary_on_the_majority_side_and_fails_it_on_the_minority():
    """PrimaryReplica is linearizable; it keeps a cut-off minority's clients served only with the primary."""
    import random
    verdicts = {}
    for seed in range(8):
        minority = random.Random(f"{seed}/quorum-faults").sample(["n1", "n2", "n3"], 1)
        try:
            quorum_scenario(PrimaryReplica, seed, min_availability=0.5)
            verdicts[seed] = "pass"
        except ScenarioFailed as exc:
            verdicts[seed] = "minority" if "cut off with the minority" in str(exc) else str(exc)
        assert verdicts[seed] == ("minority" if minority == ["n1"] else "pass"), (seed, verdicts[seed])
    assert set(verdicts.values()) == {"pass", "minority"}


def test_quorum_scenario_fails_the_ap_register():
    """The AP register is available everywhere, so some seed shows a non-linearizable history."""
    with pytest.raises(ScenarioFailed, match="not linearizable|cut off with the minority"):
        for seed in range(5):
            quorum_scenario(AsyncReplica, seed)


class LocalReads(AsyncReplica):
    """Keeps stores like an ABD replica, but reads its own copy: a half-done write shows and vanishes."""

    def on_store(self, msg):
        self.apply(msg.key, msg.timestamp, msg.value)
        self.reply(msg, "store_ok")

    def on_read(self, msg):
        current = self.store.get(msg.key)
        self.answer_read(msg, None if current is None else current[1])


def test_interrupted_write_scenario_catches_reads_that_flip_back():
    """A value stored on one replica only is read, then not read: the scenario says not linearizable."""
    failures = 0
    for seed in range(5):
        try:
            interrupted_write_scenario(LocalReads, seed)
        except ScenarioFailed as exc:
            assert "half done" in str(exc)
            failures += 1
    assert failures >= 3
