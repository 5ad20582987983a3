"""The tutorials' resilience snippets, ported faithfully: the "before" versions this chapter breaks.

- :class:`MissedBeatsDetector`: a common tutorial's ``FailureDetector`` (Python): every check
  adds one missed beat to every node, a heartbeat resets the node's count, and a node with
  ``threshold`` misses is reported failed. Its clock is the caller's checking loop.
- :class:`RubyCircuitBreaker`: the Ruby tutorial's breaker (closed, open, half-open, with
  ``half_open_requests`` successes needed to close). Half-open lets *every* call through.
- :class:`PythonCircuitBreaker`: the Python tutorial's breaker; it closes on the **first**
  success in half-open.
- :class:`FaradayRetry`: the Ruby tutorial's HTTP client (Faraday's retry middleware:
  ``max: 3, interval: 0.5, backoff_factor: 2, retry_statuses: [429, 500, 502, 503],
  methods: [:get, :post]``, with a 5 s timeout), as a retry policy of the chapter's callers.

The originals read the wall clock (``Time.now``, ``time.time()``); here every method takes the
simulated time ``now`` instead, and nothing else changes. Each breaker also keeps the original's
``call`` (run a function through the breaker) for use outside the simulator; the simulator's
callers use the same logic split into ``allow`` / ``on_success`` / ``on_failure``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

from ...sim.validation import (InvalidArgumentType, check_int, check_non_negative, check_number)

__all__ = ["CircuitOpenError", "FaradayRetry", "MissedBeatsDetector", "PythonCircuitBreaker",
           "RubyCircuitBreaker", "TimeoutDetector", "FARADAY_STATUS"]


class CircuitOpenError(Exception):
    """A call refused by an open breaker (the tutorials' ``CircuitOpenError`` / ``Exception``)."""


class MissedBeatsDetector:
    """The tutorial's ``FailureDetector``: count missed checks per node; ``threshold`` misses = failed.

    ``check_failures()`` is meant to run periodically (here: :meth:`tick`, which the chapter's
    monitor calls every check period). The original prints "Node ... is suspected to have failed"
    at every check past the threshold; this port records ``(now, node)`` in :attr:`reports` and
    prints only if ``verbose``.
    """

    def __init__(self, nodes: Iterable[Any], threshold: int = 3, verbose: bool = False) -> None:
        self.nodes = {node: 0 for node in nodes}
        self.threshold = check_int("threshold", threshold, low=1)
        self.verbose = verbose
        self.reports: list[tuple[float, Any]] = []
        self._now = 0.0

    def record_heartbeat(self, node: Any) -> None:
        self.nodes[node] = 0

    def check_failures(self) -> None:
        for node, misses in self.nodes.items():  # noqa: B007 (the original never reads misses)
            self.nodes[node] += 1
            if self.nodes[node] >= self.threshold:
                self.mark_node_failed(node)

    def mark_node_failed(self, node: Any) -> None:
        self.reports.append((self._now, node))
        if self.verbose:
            print(f"Node {node} is suspected to have failed")

    # -- the chapter's detector interface, on top of the original -------------------------------
    def heartbeat(self, node: Any, now: float) -> None:
        self.record_heartbeat(node)

    def tick(self, now: float) -> None:
        self._now = now
        self.check_failures()

    def suspect(self, node: Any, now: float) -> bool:
        return self.nodes.get(node, 0) >= self.threshold


class TimeoutDetector:
    """Chapter 03a's heartbeat detector: suspect a node when no heartbeat came for ``timeout`` seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = check_number("timeout", timeout, low=0, low_open=True,
                                    what="a positive number of seconds")
        self.last: dict[Any, float] = {}

    def heartbeat(self, node: Any, now: float) -> None:
        self.last[node] = now

    def suspect(self, node: Any, now: float) -> bool:
        return node in self.last and now - self.last[node] > self.timeout


class _Callable:
    """The original ``call``: run ``func`` through the breaker (outside the simulator)."""

    def call(self, func: Callable[..., Any], *args: Any, now: float, **kwargs: Any) -> Any:
        if not self.allow(now):
            raise CircuitOpenError("Circuit breaker is open")
        try:
            result = func(*args, **kwargs)
        except Exception:
            self.on_failure(now)
            raise
        self.on_success(now)
        return result


class RubyCircuitBreaker(_Callable):
    """The Ruby tutorial's ``CircuitBreaker(threshold: 5, timeout: 60, half_open_requests: 3)``."""

    STATES = ("closed", "open", "half_open")

    def __init__(self, threshold: int = 5, timeout: float = 60, half_open_requests: int = 3) -> None:
        self.threshold = check_int("threshold", threshold, low=1)
        self.timeout = check_non_negative("timeout", timeout)
        self.half_open_requests = check_int("half_open_requests", half_open_requests, low=1)
        self.state = "closed"
        self.failure_count = 0
        self.last_failure_time: float | None = None
        self.half_open_attempts = 0

    def allow(self, now: float) -> bool:
        # case @state when :open: reset if the timeout has passed, else raise CircuitOpenError
        if self.state == "open":
            if self.should_attempt_reset(now):
                self.transition_to_half_open()
            else:
                return False
        return True

    def on_success(self, now: float) -> None:  # handle_success
        if self.state == "half_open":
            self.half_open_attempts += 1
            if self.half_open_attempts >= self.half_open_requests:
                self.transition_to_closed()
        elif self.state == "closed":
            self.failure_count = 0

    def on_failure(self, now: float) -> None:  # handle_failure
        self.failure_count += 1
        self.last_failure_time = now
        if self.state == "closed":
            if self.failure_count >= self.threshold:
                self.transition_to_open()
        elif self.state == "half_open":
            self.transition_to_open()

    def should_attempt_reset(self, now: float) -> bool:
        return now - self.last_failure_time > self.timeout

    def transition_to_closed(self) -> None:
        self.state = "closed"
        self.failure_count = 0
        self.half_open_attempts = 0

    def transition_to_open(self) -> None:
        self.state = "open"

    def transition_to_half_open(self) -> None:
        self.state = "half_open"
        self.half_open_attempts = 0


class PythonCircuitBreaker(_Callable):
    """The Python tutorial's ``CircuitBreaker(failure_threshold=5, timeout=60)``."""

    def __init__(self, failure_threshold: int = 5, timeout: float = 60) -> None:
        self.failure_count = 0
        self.success_count = 0
        self.failure_threshold = check_int("failure_threshold", failure_threshold, low=1)
        self.timeout = check_non_negative("timeout", timeout)
        self.state = "closed"
        self.last_failure_time: float | None = None

    def allow(self, now: float) -> bool:
        if self.state == "open":
            if now - self.last_failure_time > self.timeout:
                self.state = "half_open"
            else:
                return False  # raise Exception("Circuit breaker is OPEN")
        return True

    def on_success(self, now: float | None = None) -> None:
        self.failure_count = 0
        self.state = "closed"

    def on_failure(self, now: float) -> None:
        self.failure_count += 1
        self.last_failure_time = now
        if self.failure_count >= self.failure_threshold:
            self.state = "open"


#: How the chapter's attempt outcomes look to Faraday: an HTTP status, or a timeout exception.
FARADAY_STATUS = {"error": 500, "rejected": 503, "timeout": "Faraday::TimeoutError"}


class FaradayRetry:
    """Faraday's retry middleware as the tutorial configures it, as a retry policy.

    ``retry_delay`` answers like ``faraday-retry``: retry while fewer than ``max`` retries were
    made, if the method is listed in ``methods`` and the failure is a listed status or a timeout
    (Faraday retries ``Faraday::TimeoutError`` by default); wait ``interval * backoff_factor **
    n`` for the n-th retry (0-based), at most ``max_interval``, plus ``rand * interval_randomness
    * interval`` (0 by default: no jitter at all).
    """

    def __init__(self, max: int = 3, interval: float = 0.5, backoff_factor: float = 2,  # noqa: A002
                 retry_statuses: Iterable[int] = (429, 500, 502, 503),
                 methods: Iterable[str] = ("get", "post"), interval_randomness: float = 0.0,
                 max_interval: float = math.inf) -> None:
        self.max = check_int("max", max, low=0)
        self.interval = check_non_negative("interval", interval)
        self.backoff_factor = check_number("backoff_factor", backoff_factor, low=1)
        if isinstance(retry_statuses, (str, bytes)):
            raise InvalidArgumentType(f"retry_statuses={retry_statuses!r} must be a list of statuses")
        self.retry_statuses = tuple(retry_statuses)
        if isinstance(methods, (str, bytes)):
            raise InvalidArgumentType(f"methods={methods!r} must be a list such as ['get']")
        self.methods = tuple(methods)
        self.interval_randomness = check_number("interval_randomness", interval_randomness, low=0,
                                                high=1)
        self.max_interval = check_number("max_interval", max_interval, low=0, finite=False)

    def on_request(self, call: Any, now: float) -> None:
        """Faraday keeps no state across requests."""

    def retry_delay(self, call: Any, outcome: str, now: float, rng: Any) -> float | None:
        retries = call.attempts - 1          # retries made so far
        if retries >= self.max or call.method not in self.methods:
            return None
        status = FARADAY_STATUS[outcome]
        if status != "Faraday::TimeoutError" and status not in self.retry_statuses:
            return None
        current = min(self.interval * self.backoff_factor ** retries, self.max_interval)
        return current + rng.random() * self.interval_randomness * self.interval
