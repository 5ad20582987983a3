"""Chapter 06b's package (course_lib.topics.messaging): each naive design breaks, as the lecture says."""

from __future__ import annotations

from course_lib.sim import Node, Simulation
from course_lib.topics import messaging as m


# -- the database and the log ---------------------------------------------------------------------
def test_database_transaction_is_all_or_nothing():
    """An insert conflict aborts the whole transaction: no operation of it is applied."""
    db = Simulation(seed=0).add_node(m.Database, "db")
    assert db.apply((("insert", "seen", "e1", 1), ("add", "balance", "a", 5))) == (True, None)
    assert db.apply((("add", "balance", "a", 5), ("insert", "seen", "e1", 1))) == (False, ("seen", "e1"))
    assert db.table("balance") == {"a": 5}
    assert db.applied("add", "balance") == 1 and len(db.aborted) == 1


def test_partition_of_is_stable_and_keeps_a_key_in_one_partition():
    """The partition of a key is the same every time (not Python's salted hash)."""
    assert [m.partition_of(f"k{i}", 4) for i in range(6)] == [m.partition_of(f"k{i}", 4) for i in range(6)]
    assert len({m.partition_of(f"k{i}", 4) for i in range(40)}) == 4


def test_tutorial_consumer_is_exactly_once_without_faults_and_deterministic():
    """With no fault, process-then-commit applies every payment once; same seed, same ledger."""
    a, b = m.run_stream(m.TutorialConsumer, seed=3), m.run_stream(m.TutorialConsumer, seed=3)
    assert a.report.ok and a.report.events == 40
    assert a.ledger.table("balance") == b.ledger.table("balance") and a.lag == b.lag
    assert a.lag[-1][1] == 0


def test_crash_between_processing_and_commit_duplicates():
    """A consumer crashing right after its ledger write re-processes uncommitted records."""
    run = m.run_stream(m.TutorialConsumer, crashes=(("c1", "txn", 3),))
    assert run.report.duplicates > 0 and not run.report.ok


def test_commit_first_loses_a_payment_on_a_crash():
    """Committing before processing turns the crash into a lost payment (at most once)."""
    run = m.run_stream(m.CommitFirstConsumer, crashes=(("c1", "commit", 3),))
    assert run.report.duplicates < 0


def test_rebalance_on_join_and_on_a_silent_member():
    """A member joining, and one paused past the session timeout, each cause a rebalance;
    the paused member's late commits are refused (stale generation)."""
    joined = m.run_stream(m.TutorialConsumer, joins=(("c3", 10.0),))
    assert [g for _, _, g, _ in joined.broker.rebalances] == [1, 2, 3]
    assert set(joined.broker.rebalances[-1][3]) == {"c1", "c2", "c3"}
    paused = m.run_stream(m.TutorialConsumer, pauses=(("c1", 5.0, 10.0),))
    assert len(paused.broker.rebalances) >= 4
    assert any(not accepted for *_, accepted in paused.broker.commits)


def test_consumer_group_keeps_order_per_partition():
    """Within a partition, records are handed over in offset order."""
    order = []

    class Watching(m.LedgerConsumer):
        def handle(self, record):
            order.append((record.partition, record.offset))
            self.done(record)

    m.run_stream(Watching, consumers=1)
    for p in range(4):
        offsets = [o for q, o in order if q == p]
        assert offsets == sorted(offsets) and offsets == list(range(len(offsets)))


# -- payments -----------------------------------------------------------------------------------
def test_payment_guarantees_under_loss():
    """Under loss, no retry never charges twice; retries without keys do; keys charge once each."""
    at_most = m.run_payments("none", attempts=1, loss=0.1)
    at_least = m.run_payments("none", loss=0.1)
    keyed = m.run_payments("keyed", loss=0.1, duplicate=0.1)
    assert at_most.twice == 0 and at_most.answered < at_most.payments
    assert at_least.twice > 0
    assert keyed.once == keyed.payments and keyed.answered == keyed.payments


def test_tutorial_payment_service_needs_the_processor_to_dedupe():
    """Retries overlapping a slow charge both reach a processor that does not dedupe;
    claiming the key first parks them."""
    assert m.run_payments("keyed", dedupe=False, work=4.0).twice > 0
    assert m.run_payments("claimed", dedupe=False, work=4.0).twice == 0
    assert m.run_payments("keyed", dedupe=True, crashes=(("charge", 3),)).twice == 0
    assert m.run_payments("keyed", dedupe=False, crashes=(("charge", 3),)).twice > 0


# -- the dual write and the outbox ----------------------------------------------------------------
def test_dual_write_loses_and_publish_first_invents():
    """A crash after the order write loses its event; publishing first invents one when the
    customer gives up."""
    lost = m.run_orders(m.DualWriteOrderService, crashes=(("orders", "txn", 2),))
    assert lost.report.lost == ["o1", "o2"] and not lost.report.invented   # both were in flight
    invented = m.run_orders(m.PublishFirstOrderService, crashes=(("orders", "produce", 1),), attempts=1)
    assert invented.report.invented == ["o1:created"]
    assert m.run_orders(m.DualWriteOrderService).report.ok


def test_outbox_rows_are_written_with_the_order_and_a_delete_first_relay_loses():
    """The outbox service writes order and event in one transaction; a relay deleting before
    publishing loses the event when it crashes in between."""
    alone = m.run_orders(m.OutboxOrderService)
    assert len(alone.db.table("outbox")) == 10 and alone.report.lost == alone.report.committed
    lossy = m.run_orders(m.OutboxOrderService, m.DeleteFirstRelay, crashes=(("relay", "txn", 1),))
    assert lossy.report.lost == ["o1"]


# -- sagas ----------------------------------------------------------------------------------------
def test_step_service_is_idempotent_by_key_and_tombstones_early_undo():
    """Same key: one effect; new key: a second effect; an undo before the do blocks it."""
    sim = Simulation(seed=0)
    svc = sim.add_node(m.StepService, "svc")

    class Caller(Node):
        def on_start(self):
            for key in ("k1", "k1", "k2"):
                self.send("svc", "do", saga="s", step="create_order", key=key)
            self.send("svc", "undo", saga="t", step="create_order", key="u1")
            self.send("svc", "do", saga="t", step="create_order", key="k3")

        def on_done(self, msg):
            pass

        def on_undone(self, msg):
            pass
    sim.add_node(Caller, "caller")
    sim.run(until=5)
    assert svc.applied == {("s", "create_order"): 2}
    assert ("t", "create_order") in svc.tombstones


def test_tutorial_saga_commits_and_compensates_without_faults():
    """Fault-free, the ported OrderSaga commits o1 and compensates o2 and o3."""
    run = m.run_sagas(m.TutorialOrderSaga)
    assert run.report.outcomes == {"o1": "committed", "o2": "compensated", "o3": "compensated"}


def test_crash_runs_enumerate_every_send_and_break_the_tutorial_saga():
    """crash_runs yields the fault-free run then one run per orchestrator send; the tutorial's
    saga is left half-applied by some of them, and the Sidekiq job double-reserves."""
    runs = list(m.crash_runs(m.TutorialOrderSaga))
    assert [c for c, _ in runs] == [()] + [(n,) for n in range(1, runs[0][1].orchestrator_sends + 1)]
    assert sum(not r.report.ok for _, r in runs) >= len(runs) // 2
    sidekiq = [r for _, r in m.crash_runs(m.SidekiqOrderJob, steps=m.SidekiqOrderJob.STEPS)]
    assert any("applied 2 times" in p for r in sidekiq for p in r.report.problems)
    refused = m.run_sagas(m.SidekiqOrderJob, (("o1", "reserve_inventory"),), steps=m.SidekiqOrderJob.STEPS)
    assert refused.report.outcomes == {"o1": "half-applied"}   # charged, never refunded


# -- choreography, event sourcing, discovery, tracing --------------------------------------------
def test_choreography_loses_events_and_cycles():
    """Lost bus events leave orders pending; the cyclic subscription never stops publishing."""
    assert m.run_choreography().count("pending") == 0
    assert m.run_choreography(loss=0.1).count("pending") > 0
    short, long = m.run_choreography(cyclic=True, until=30), m.run_choreography(cyclic=True, until=60)
    assert long.events["order.updated"] > short.events["order.updated"] > 20


def test_event_sourcing_fold_rebuild_and_lagging_view():
    """Snapshots shorten a rebuild to the events after the last one; a lagging view misses
    the reader's own deposits."""
    log = [("a", "deposited", 2)] * 25 + [("a", "withdrew", 1)] * 5
    full, snap = m.rebuild(log), m.rebuild(log, snapshot_every=10)
    assert full.state == snap.state == {"a": 45} and (full.applied, snap.applied) == (30, 0)
    assert m.rebuild(log[:27], snapshot_every=10).applied == 7
    assert m.run_cqrs(lag=2.0).stale == 10 and m.run_cqrs(lag=0.0).stale == 0


def test_discovery_stale_entries_cache_and_partition():
    """Calls fail until the check notices a crash, longer with a cached list; a partition
    from the registry takes a healthy instance out."""
    fresh, cached = m.run_discovery(), m.run_discovery(cache_ttl=30)
    assert 0 < fresh.failed < cached.failed
    cut = m.run_discovery(crash_at=None, partition=(20, 50))
    assert cut.failed == 0 and (25.0, "orders2", "critical") in cut.changes
    assert not [c for c in cut.calls if 30 <= c[0] < 50 and c[1] == "orders2"]


def test_tracing_finds_the_slow_bank_and_head_sampling_misses_it():
    """The slowest hop of a slow trace is the bank; 10% head sampling keeps no slow trace here."""
    run = m.run_tracing()
    spans = run.collector.trace(run.slow_traces[0])
    assert {s.service for s in spans} == set(m.CALL_GRAPH)
    assert m.slowest_hop(spans).service == "bank"
    sampled = m.run_tracing(sample=0.1)
    assert len(sampled.collector.trace_ids()) < 5 and not sampled.slow_traces


def test_pictures_draw():
    """The waterfall, lag and calls pictures draw without error."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    run = m.run_tracing(requests=3)
    ax = m.draw_waterfall(run.collector.trace(run.collector.trace_ids()[0]))
    assert ax.get_xlabel()
    m.plot_lag({"a": m.run_stream(m.TutorialConsumer, events=10)})
    m.plot_calls(m.run_discovery(until=30))
    plt.close("all")


def test_tutorial_cache_misses_nil_and_serves_renamed_users_until_invalidated():
    """Cache-aside with `return value if value` sends every lookup of a missing user to the
    database (a negative marker stops it); renames stay invisible until an event invalidates."""
    plain, negative = m.run_user_cache(), m.run_user_cache(negative=True)
    assert plain.db_reads - negative.db_reads >= plain.missing_lookups - 10
    invalidated = m.run_user_cache(invalidate=True)
    assert plain.stale > 50 and invalidated.stale <= 3
