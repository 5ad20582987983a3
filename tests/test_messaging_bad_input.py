"""Bad input to chapter 06b's package (course_lib.topics.messaging): every row a named error.

Each ``ERRORS`` row is (label, call, exception type, pattern): the call raises that exception and
its message matches the pattern, which names the parameter and shows its value.
"""

from __future__ import annotations

import math

import pytest

from course_lib.sim import Simulation
from course_lib.topics import messaging as m

from bad_input_support import assert_named_error

NAN = math.nan


def db():
    return Simulation(seed=0).add_node(m.Database, "db")


def broker(topics=None, **options):
    return Simulation(seed=0).add_node(m.Broker, "broker", {"t": 2} if topics is None else topics, **options)


ERRORS = [
    # the database
    ("apply ops a str", lambda: db().apply("put"), TypeError, r"ops='put'"),
    ("apply unknown op", lambda: db().apply((("upsert", "t", 1, 2),)), ValueError, r"ops\[0\]=\('upsert'"),
    ("apply op too short", lambda: db().apply((("put", "t", 1),)), ValueError, r"ops\[0\]=\('put', 't', 1\)"),
    ("apply add a str delta", lambda: db().apply((("add", "t", 1, "5"),)), TypeError, r"ops\[0\]=.*delta"),
    ("table name not a str", lambda: db().table(3), TypeError, r"name=3"),
    ("applied unknown kind", lambda: db().applied("upsert", "t"), ValueError, r"kind='upsert'"),
    # the log
    ("partition_of partitions 0", lambda: m.partition_of("k", 0), ValueError, r"partitions=0"),
    ("Broker topics empty", lambda: broker({}), TypeError, r"topics=\{\}"),
    ("Broker partitions 0", lambda: broker({"t": 0}), ValueError, r"topics\['t'\]=0"),
    ("Broker session_timeout 0", lambda: broker(session_timeout=0), ValueError, r"session_timeout=0"),
    ("Broker append unknown topic", lambda: broker().append("x", "k", 1, "e"), ValueError, r"topic='x'"),
    ("Broker records partition 2", lambda: broker().records("t", 2), ValueError, r"partition=2"),
    ("Consumer max_records 0", lambda: Simulation(seed=0).add_node(m.Consumer, "c", "b", max_records=0),
     ValueError, r"max_records=0"),
    ("Consumer poll_interval nan", lambda: Simulation(seed=0).add_node(m.Consumer, "c", "b", poll_interval=NAN),
     ValueError, r"poll_interval=nan"),
    ("Consumer group not a str", lambda: Simulation(seed=0).add_node(m.Consumer, "c", "b", group=1),
     TypeError, r"group=1"),
    # streams
    ("run_stream consumer not a class", lambda: m.run_stream(object), TypeError, r"consumer="),
    ("run_stream events 0", lambda: m.run_stream(m.TutorialConsumer, events=0), ValueError, r"events=0"),
    ("run_stream partitions 0", lambda: m.run_stream(m.TutorialConsumer, partitions=0), ValueError,
     r"partitions=0"),
    ("run_stream crashes a str", lambda: m.run_stream(m.TutorialConsumer, crashes="c1"), TypeError,
     r"crashes='c1'"),
    ("run_stream crash row short", lambda: m.run_stream(m.TutorialConsumer, crashes=(("c1", "txn"),)),
     TypeError, r"crashes\[0\]"),
    ("run_stream crash unknown node", lambda: m.run_stream(m.TutorialConsumer, crashes=(("c9", "txn", 1),)),
     ValueError, r"'c9'"),
    ("run_stream crash nth 0", lambda: m.run_stream(m.TutorialConsumer, crashes=(("c1", "txn", 0),)),
     ValueError, r"nth=0"),
    ("run_stream join time -1", lambda: m.run_stream(m.TutorialConsumer, joins=(("c3", -1),)), ValueError,
     r"join time=-1"),
    ("run_stream until 0", lambda: m.run_stream(m.TutorialConsumer, until=0), ValueError, r"until=0"),
    # payments
    ("run_payments mode", lambda: m.run_payments("exactly"), ValueError, r"mode='exactly'"),
    ("run_payments attempts 0", lambda: m.run_payments(attempts=0), ValueError, r"attempts=0"),
    ("run_payments loss 2", lambda: m.run_payments(loss=2), ValueError, r"loss=2"),
    ("run_payments dedupe 1", lambda: m.run_payments(dedupe=1), TypeError, r"dedupe=1"),
    ("run_payments crashes row", lambda: m.run_payments(crashes=("charge",)), TypeError, r"crashes\[0\]"),
    ("PaymentService mode", lambda: Simulation(seed=0).add_node(m.PaymentService, "p", "twice"), ValueError,
     r"mode='twice'"),
    # outbox
    ("run_orders service not a class", lambda: m.run_orders("svc"), TypeError, r"service='svc'"),
    ("run_orders relay not a node", lambda: m.run_orders(m.OutboxOrderService, int), TypeError,
     r"relay=<class 'int'>"),
    ("run_orders orders 0", lambda: m.run_orders(m.OutboxOrderService, orders=0), ValueError, r"orders=0"),
    ("run_orders attempts 0", lambda: m.run_orders(m.OutboxOrderService, attempts=0), ValueError,
     r"attempts=0"),
    ("run_orders crash row", lambda: m.run_orders(m.OutboxOrderService, crashes=(("orders", 1),)), TypeError,
     r"crashes\[0\]"),
    ("run_orders crash relay missing", lambda: m.run_orders(m.OutboxOrderService, crashes=(("relay", None, 1),)),
     ValueError, r"'relay'"),
    # sagas
    ("run_sagas orchestrator not a SagaNode", lambda: m.run_sagas(m.StepService), TypeError, r"orchestrator="),
    ("run_sagas orders empty", lambda: m.run_sagas(m.TutorialOrderSaga, ()), TypeError, r"orders=\(\)"),
    ("run_sagas order not a pair", lambda: m.run_sagas(m.TutorialOrderSaga, ("o1",)), ValueError,
     r"orders\[0\]='o1'"),
    ("run_sagas unknown fail step", lambda: m.run_sagas(m.TutorialOrderSaga, (("o1", "pay"),)), ValueError,
     r"orders\[0\]=\('o1', 'pay'\)"),
    ("run_sagas repeated saga id", lambda: m.run_sagas(m.TutorialOrderSaga, (("o1", None), ("o1", None))),
     ValueError, r"repeats saga id 'o1'"),
    ("run_sagas crashes 0", lambda: m.run_sagas(m.TutorialOrderSaga, crashes=(0,)), ValueError,
     r"crashes\[0\]=0"),
    ("run_sagas crashes an int", lambda: m.run_sagas(m.TutorialOrderSaga, crashes=3), TypeError, r"crashes=3"),
    ("run_sagas loss -1", lambda: m.run_sagas(m.TutorialOrderSaga, loss=-1), ValueError, r"loss=-1"),
    ("crash_runs second 0", lambda: list(m.crash_runs(m.TutorialOrderSaga, second=0)), ValueError, r"second=0"),
    # choreography, event sourcing, discovery, tracing
    ("run_choreography orders 0", lambda: m.run_choreography(orders=0), ValueError, r"orders=0"),
    ("run_choreography cyclic 1", lambda: m.run_choreography(cyclic=1), TypeError, r"cyclic=1"),
    ("fold bad event", lambda: m.fold([("a", "stole", 1)]), ValueError, r"events\[0\]=\('a', 'stole', 1\)"),
    ("rebuild log a str", lambda: m.rebuild("log"), TypeError, r"log='log'"),
    ("rebuild snapshot_every 0", lambda: m.rebuild([], snapshot_every=0), ValueError, r"snapshot_every=0"),
    ("run_cqrs lag -1", lambda: m.run_cqrs(lag=-1), ValueError, r"lag=-1"),
    ("run_discovery instances 1", lambda: m.run_discovery(instances=1), ValueError, r"instances=1"),
    ("run_discovery ttl 0", lambda: m.run_discovery(ttl=0), ValueError, r"ttl=0"),
    ("run_discovery partition a list", lambda: m.run_discovery(partition=[1, 2]), TypeError,
     r"partition=\[1, 2\]"),
    ("run_tracing sample 2", lambda: m.run_tracing(sample=2), ValueError, r"sample=2"),
    ("run_tracing slow_bank a number", lambda: m.run_tracing(slow_bank=0.1), TypeError, r"slow_bank=0.1"),
    ("slowest_hop empty", lambda: m.slowest_hop([]), TypeError, r"spans=\[\]"),
    ("draw_waterfall not spans", lambda: m.draw_waterfall("t1"), TypeError, r"spans='t1'"),
    ("plot_lag empty", lambda: m.plot_lag({}), TypeError, r"runs=\{\}"),
    ("plot_calls not a run", lambda: m.plot_calls("run"), TypeError, r"run='run'"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the stated error naming the parameter and its value."""
    assert_named_error(call, error, pattern)


CACHE_ERRORS = [
    ("run_user_cache missing 2", lambda: m.run_user_cache(missing=2), ValueError, r"missing=2"),
    ("run_user_cache ttl 0", lambda: m.run_user_cache(ttl=0), ValueError, r"ttl=0"),
    ("run_user_cache negative 1", lambda: m.run_user_cache(negative=1), TypeError, r"negative=1"),
]


@pytest.mark.parametrize("label, call, error, pattern", CACHE_ERRORS, ids=[row[0] for row in CACHE_ERRORS])
def test_cache_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument to the cache world raises the stated error naming the parameter and its value."""
    assert_named_error(call, error, pattern)
