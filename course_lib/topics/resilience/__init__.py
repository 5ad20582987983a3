"""Chapter 06a: failure detection, timeouts, retries, overload, circuit breakers and bulkheads.

The time unit of this chapter is the **second**.

- :mod:`~course_lib.topics.resilience.service`: :class:`Dependency`, a service with workers, a
  bounded queue, a service-time model, a failure rate and a health that changes over time;
  :class:`Bimodal` service times (a fast mode and a slow tail); :class:`Relay`, a service in the
  middle of a chain, which propagates deadlines or not;
- :mod:`~course_lib.topics.resilience.clients`: :class:`Caller`, open-loop load whose attempts go
  through a retry policy, a circuit breaker, a connection :class:`Pool` and hedging;
  :class:`World` to build a run, :func:`run_service` for the common one-dependency case, and
  :class:`ServiceRun`'s meters (goodput, load, latency percentiles, time series);
- :mod:`~course_lib.topics.resilience.naive`: the tutorials' ``FailureDetector``
  (:class:`MissedBeatsDetector`), ``CircuitBreaker`` in Ruby and in Python
  (:class:`RubyCircuitBreaker`, :class:`PythonCircuitBreaker`) and the Faraday retry client
  (:class:`FaradayRetry`), ported faithfully; chapter 03a's :class:`TimeoutDetector`;
- :mod:`~course_lib.topics.resilience.detection`: heartbeats to a monitor running a detector
  (:func:`run_detector`), its false positives and detection times (:class:`DetectionRun`),
  :func:`tradeoff` over a detector's knob;
- :mod:`~course_lib.topics.resilience.swim`: SWIM-style probing with indirect pings and suspicion
  (:func:`run_swim`);
- :mod:`~course_lib.topics.resilience.scenarios`: the exercise's graded scenarios;
- :mod:`~course_lib.topics.resilience.pictures`: :func:`plot_overload`, :func:`plot_breaker`,
  :func:`plot_detection`, :func:`plot_tradeoff`.
"""

from .clients import OUTCOMES, Call, Caller, Pool, ServiceRun, World, percentile, run_service
from .detection import DetectionRun, Heartbeater, Monitor, Phases, run_detector, tradeoff
from .naive import (FARADAY_STATUS, CircuitOpenError, FaradayRetry, MissedBeatsDetector,
                    PythonCircuitBreaker, RubyCircuitBreaker, TimeoutDetector)
from .pictures import plot_breaker, plot_detection, plot_overload, plot_tradeoff
from .service import Bimodal, Dependency, DependencyMeter, Relay
from .swim import SwimMember, SwimRun, run_swim

__all__ = [
    "OUTCOMES", "Call", "Caller", "Pool", "ServiceRun", "World", "percentile", "run_service",
    "DetectionRun", "Heartbeater", "Monitor", "Phases", "run_detector", "tradeoff",
    "FARADAY_STATUS", "CircuitOpenError", "FaradayRetry", "MissedBeatsDetector",
    "PythonCircuitBreaker", "RubyCircuitBreaker", "TimeoutDetector",
    "plot_breaker", "plot_detection", "plot_overload", "plot_tradeoff",
    "Bimodal", "Dependency", "DependencyMeter", "Relay",
    "SwimMember", "SwimRun", "run_swim",
]
