"""Distributed tracing: spans carried across simulated services, the slow hop, sampling.

The tutorial's Jaeger example, ported: the ``api`` handles ``create_order`` in a span of that
name and, inside it, calls ``orders`` (``create_order_record``), ``payments``
(``process_payment``, which calls the ``bank``) and ``inventory`` (``reserve_inventory``), one
after another. Every request carries its **trace context** (``trace``: the trace id, the parent
span's id and the sampling decision), and every service opens a child span of the caller's
span. Finished spans go to a collector (:class:`Collector`), as a Jaeger agent ships them.

Sampling is decided once, at the root (head-based): with ``sample=0.1`` one trace in ten is
kept, and the decision travels with the context so a trace is kept whole or not at all.

:func:`slowest_hop` finds the span with the most *self* time (its duration minus its children's),
the hop to blame; :func:`~course_lib.topics.messaging.pictures.draw_waterfall` draws a trace as
Jaeger does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_number,
                               check_probability)

__all__ = ["Span", "Collector", "TracedService", "TraceRun", "run_tracing", "slowest_hop",
           "CALL_GRAPH"]

#: Who calls whom: service -> (operation, [(callee, operation), ...]) in call order.
CALL_GRAPH = {
    "api": ("create_order", [("orders", "create_order_record"), ("payments", "process_payment"),
                             ("inventory", "reserve_inventory")]),
    "orders": ("create_order_record", []),
    "payments": ("process_payment", [("bank", "authorize")]),
    "bank": ("authorize", []),
    "inventory": ("reserve_inventory", []),
}


@dataclass
class Span:
    """One operation of one service within a trace."""

    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    operation: str
    start: float
    end: float | None = None
    tags: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """End minus start (0 while the span is open)."""
        return 0.0 if self.end is None else self.end - self.start


class Collector:
    """Where finished spans go (a Jaeger collector): kept per trace, in finishing order."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def report(self, span: Span) -> None:
        """Keep a finished span."""
        self.spans.append(span)

    def trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace, by start time."""
        return sorted((s for s in self.spans if s.trace_id == trace_id), key=lambda s: (s.start, s.span_id))

    def trace_ids(self) -> list[str]:
        """The traces collected, in the order their first span finished."""
        return list(dict.fromkeys(s.trace_id for s in self.spans))


class TracedService(Node):
    """A service that works ``work`` time units, then calls its callees in turn, all in one span."""

    def __init__(self, collector: Collector, work: Any = 1.0, slow: tuple | None = None) -> None:
        self.collector = collector
        self.work = work                 # a number, or (low, high) drawn uniformly
        self.slow = slow                 # (probability, extra time): sometimes much slower
        self.operation, self.callees = CALL_GRAPH[self.id]
        self.open: dict[str, Span] = {}

    def on_call(self, msg: Any) -> None:
        trace_id, parent, sampled = msg.trace
        span = Span(trace_id, f"{self.id}-{msg.id}", parent, self.id, self.operation, self.sim.now)
        if self.slow is not None and self.rng.random() < self.slow[0]:
            span.tags["slow"] = True
            delay = self._work() + self.slow[1]
        else:
            delay = self._work()
        self.set_timer(delay, self._next, msg, span, sampled, 0)

    def _work(self) -> float:
        if isinstance(self.work, tuple):
            return self.rng.uniform(*self.work)
        return float(self.work)

    def _next(self, msg: Any, span: Span, sampled: bool, i: int) -> None:
        if i == len(self.callees):
            span.end = self.sim.now
            if sampled:
                self.collector.report(span)
            return self.reply(msg, "result", trace=msg.trace)
        callee, _ = self.callees[i]
        self.request(callee, "call", trace=(span.trace_id, span.span_id, sampled), timeout=1000,
                     on_reply=lambda r: self._next(msg, span, sampled, i + 1))


class _Traffic(Node):
    def __init__(self, requests: int, sample: float) -> None:
        self.requests = requests
        self.sample = sample

    def on_start(self) -> None:
        for i in range(self.requests):
            self.set_timer(5.0 * i, self._go, i)

    def _go(self, i: int) -> None:
        sampled = self.rng.random() < self.sample          # head-based: decided at the root
        self.request("api", "call", trace=(f"t{i + 1:03d}", None, sampled), timeout=1000,
                     on_reply=lambda r: None)


@dataclass
class TraceRun:
    """The collector after a run, with the true end-to-end time of every request."""

    sim: Simulation
    collector: Collector
    slow_traces: list[str]


def run_tracing(*, seed: int = 0, requests: int = 20, sample: float = 1.0,
                slow_bank: tuple = (0.1, 30.0)) -> TraceRun:
    """Send ``requests`` create_order requests through the services; collect sampled spans.

    Args:
        sample: the head-sampling probability.
        slow_bank: ``(probability, extra time)``: how often the bank is slow, and by how much.
    """
    check_int("requests", requests, low=1)
    check_probability("sample", sample)
    if not isinstance(slow_bank, tuple) or len(slow_bank) != 2:
        raise InvalidArgumentType(f"slow_bank={slow_bank!r} must be (probability, extra time)")
    check_probability("slow_bank probability", slow_bank[0])
    check_number("slow_bank extra time", slow_bank[1], low=0)
    sim = Simulation(seed=seed, latency=0.5)
    collector = Collector()
    work = {"api": 0.5, "orders": (1.0, 3.0), "payments": (1.0, 2.0), "bank": (2.0, 4.0),
            "inventory": (0.5, 1.5)}
    for name in CALL_GRAPH:
        sim.add_node(TracedService, name, collector, work[name],
                     slow_bank if name == "bank" else None)
    sim.add_node(_Traffic, "client", requests, sample)
    sim.run(until=5.0 * requests + 200)
    slow = sorted({s.trace_id for s in collector.spans if s.tags.get("slow")})
    return TraceRun(sim, collector, slow)


def slowest_hop(spans: list[Span]) -> Span:
    """The span with the most self time: its duration minus the time spent in its children."""
    if not isinstance(spans, list) or not spans or not all(isinstance(s, Span) for s in spans):
        raise InvalidArgumentType(f"spans={spans!r} must be a non-empty list of Spans")
    ids = {s.span_id for s in spans}
    if len({s.trace_id for s in spans}) != 1:
        raise InvalidArgument("spans must all belong to one trace")
    children: dict[str, float] = {}
    for s in spans:
        if s.parent_id in ids:
            children[s.parent_id] = children.get(s.parent_id, 0.0) + s.duration
    return max(spans, key=lambda s: (s.duration - children.get(s.span_id, 0.0), s.span_id))
