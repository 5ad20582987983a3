"""Chapter 06b: messaging and workflows: delivery, logs, outbox, sagas, events, discovery, tracing.

- :mod:`~course_lib.topics.messaging.database`: :class:`Database`, a database server with atomic
  transactions (``put``, ``add``, ``insert``, ``delete``) that counts what it applied;
- :mod:`~course_lib.topics.messaging.log`: :class:`Broker` (a partitioned log with consumer
  groups, committed offsets, rebalances and generations) and :class:`Consumer`;
- :mod:`~course_lib.topics.messaging.streams`: consumers applying payments to a ledger (the
  tutorial's Kafka consumer, :class:`TutorialConsumer`) and :func:`run_stream`;
- :mod:`~course_lib.topics.messaging.payments`: the tutorial's idempotency-key
  :class:`PaymentService`, a card processor, retrying clients, :func:`run_payments`;
- :mod:`~course_lib.topics.messaging.outbox`: the dual write (the tutorial's order service), the
  outbox table and :func:`run_orders`, judged by :func:`outbox_report`;
- :mod:`~course_lib.topics.messaging.services` and :mod:`~course_lib.topics.messaging.sagas`:
  step services idempotent by key, the tutorials' ``OrderSaga`` and Sidekiq job, the saga
  harness :func:`run_sagas`, :func:`saga_outcomes` and :func:`crash_runs` (a crash after every
  send);
- :mod:`~course_lib.topics.messaging.choreography`: the tutorial's ``EventBus`` with its order
  and inventory services, lost and cyclic events;
- :mod:`~course_lib.topics.messaging.eventsourcing`: :func:`fold`, :func:`rebuild` with
  snapshots, a lagging read model (:func:`run_cqrs`);
- :mod:`~course_lib.topics.messaging.discovery`: the tutorial's Consul registry with health and
  TTL checks, caching clients, :func:`run_discovery`;
- :mod:`~course_lib.topics.messaging.tracing`: spans across services, head sampling,
  :func:`slowest_hop`, :func:`run_tracing`;
- :mod:`~course_lib.topics.messaging.cache`: the tutorial's Redis ``DistributedCache`` (cache-aside
  ``fetch``), a negative-answer fix and invalidation by events, :func:`run_user_cache`;
- :mod:`~course_lib.topics.messaging.pictures`: waterfalls, consumer lag, calls over time.
"""

from .cache import (MISSING, CachedUserApp, Invalidator, Redis, UserCacheRun, run_user_cache)
from .choreography import (ChoreographyRun, ChoreoInventoryService, ChoreoOrderService, EventBus,
                           run_choreography)
from .database import OPS, Database, check_ops
from .discovery import DiscoveryClient, DiscoveryRun, Registry, ServiceInstance, run_discovery
from .eventsourcing import AccountLog, BalanceView, CqrsRun, Rebuilt, fold, rebuild, run_cqrs
from .log import Broker, Consumer, Record, partition_of
from .outbox import (DeleteFirstRelay, DualWriteOrderService, OrderClient, OrderServiceBase,
                     OutboxOrderService, OutboxReport, OutboxRun, PublishFirstOrderService, event_id,
                     outbox_report, run_orders)
from .payments import (PAYMENT_MODES, CardProcessor, PaymentClient, PaymentReport, PaymentService,
                       run_payments)
from .pictures import draw_waterfall, plot_calls, plot_lag
from .sagas import (DEFAULT_ORDERS, SERVICE_OF, SagaNode, SagaReport, SagaRun, Shop, SidekiqOrderJob,
                    TutorialOrderSaga, crash_runs, run_sagas, saga_outcomes)
from .services import SAGA_STEPS, StepService
from .streams import (CommitFirstConsumer, LedgerConsumer, PaymentProducer, StreamReport, StreamRun,
                      TutorialConsumer, payment_events, run_stream)
from .tracing import CALL_GRAPH, Collector, Span, TracedService, TraceRun, run_tracing, slowest_hop

__all__ = [
    "Database", "OPS", "check_ops",
    "Broker", "Consumer", "Record", "partition_of",
    "LedgerConsumer", "TutorialConsumer", "CommitFirstConsumer", "PaymentProducer", "StreamRun",
    "StreamReport", "run_stream", "payment_events",
    "PaymentService", "CardProcessor", "PaymentClient", "PaymentReport", "run_payments",
    "PAYMENT_MODES",
    "OrderServiceBase", "DualWriteOrderService", "PublishFirstOrderService", "OutboxOrderService",
    "DeleteFirstRelay", "OrderClient", "OutboxRun", "OutboxReport", "run_orders", "event_id",
    "outbox_report",
    "StepService", "SAGA_STEPS", "SagaNode", "TutorialOrderSaga", "SidekiqOrderJob", "Shop",
    "SagaRun", "SagaReport", "SERVICE_OF", "DEFAULT_ORDERS", "run_sagas", "saga_outcomes",
    "crash_runs",
    "EventBus", "ChoreoOrderService", "ChoreoInventoryService", "ChoreographyRun",
    "run_choreography",
    "fold", "rebuild", "Rebuilt", "AccountLog", "BalanceView", "CqrsRun", "run_cqrs",
    "Registry", "ServiceInstance", "DiscoveryClient", "DiscoveryRun", "run_discovery",
    "Span", "Collector", "TracedService", "TraceRun", "run_tracing", "slowest_hop", "CALL_GRAPH",
    "Redis", "CachedUserApp", "Invalidator", "UserCacheRun", "run_user_cache", "MISSING",
    "draw_waterfall", "plot_lag", "plot_calls",
]
