"""A dependency: a service with a few workers, a bounded queue, a service-time model and a failure rate.

The time unit of this chapter is the **second**. A :class:`Dependency` answers ``call`` messages
with ``ok``, ``error`` (the work failed: an HTTP 500) or ``rejected`` (its queue was full, or its
admission limit refused the call: an HTTP 503, at once and nearly for free). Its capacity is
``workers / mean service time`` calls per second; past it, the queue grows, and every call waits
longer. Its health can change during a run (:meth:`Dependency.set_health`, or the ``health``
schedule of :func:`~course_lib.topics.resilience.clients.run_service`).

With ``drop_expired``, a worker that picks a call whose ``deadline`` (absolute simulated time,
carried by the call) has passed drops it without doing the work: deadline propagation, one hop.

Example:
    >>> from course_lib.sim import Simulation, Constant
    >>> sim = Simulation(seed=1, latency=0.001)
    >>> meter = DependencyMeter()
    >>> dep = sim.add_node(Dependency, "dep", meter, workers=1, service_time=Constant(0.01))
    >>> dep.capacity
    100.0
"""

from __future__ import annotations

import math
import random
from collections import deque
from typing import Any

from ...sim import Constant, Exponential, Node
from ...sim.latency import as_latency
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_non_negative,
                               check_number, check_probability)

__all__ = ["Bimodal", "Dependency", "DependencyMeter", "Relay"]


class Bimodal:
    """Service times that are usually ``fast`` and, with probability ``p_slow``, ``slow``.

    Both are latency models (numbers or callables ``(rng, src, dst) -> delay``): the usual
    shape of a tail, where a few calls hit a garbage collection, a cold cache or a busy disk.
    """

    def __init__(self, fast: Any, slow: Any, p_slow: float) -> None:
        self.fast = as_latency(fast, "fast")
        self.slow = as_latency(slow, "slow")
        self.p_slow = check_probability("p_slow", p_slow)

    def __call__(self, rng: random.Random, src: Any, dst: Any) -> float:
        return (self.slow if rng.random() < self.p_slow else self.fast)(rng, src, dst)

    def __repr__(self) -> str:
        return f"Bimodal({self.fast!r}, {self.slow!r}, p_slow={self.p_slow!r})"


class DependencyMeter:
    """What a dependency saw: arrivals, work done, rejections, drops (times in simulated seconds).

    Kept outside the node so that it survives a crash of the dependency.
    """

    def __init__(self) -> None:
        self.arrivals: list[float] = []          # every call that reached the dependency
        self.rejected: list[float] = []          # refused at once (queue full, admission)
        self.started: list[float] = []           # work begun
        self.finished: list[tuple[float, bool, bool]] = []  # (time, ok, already past its deadline)
        self.expired: list[float] = []           # dropped unworked, past their deadline
        self.queue_lengths: list[tuple[float, int]] = []    # (time, queue length) at each change

    def wasted(self) -> int:
        """How many calls were worked on after their deadline had passed (nobody waits for them)."""
        return sum(1 for _, _, late in self.finished if late)


class Dependency(Node):
    """A service with ``workers`` parallel workers and a FIFO queue of at most ``queue`` calls.

    Args:
        meter: a :class:`DependencyMeter` that records what happens.
        workers: calls worked on at once (>= 1).
        queue: the most calls waiting (``None``: unbounded, the default of many servers).
        service_time: a latency model for the work of one call (default ``Exponential(0.02)``).
        failure_rate: the probability that a call's work fails (reply ``error``).
        slowdown: a factor multiplying every service time (1: healthy).
        drop_expired: drop a call whose ``deadline`` has passed when a worker picks it.
        admission: the most calls admitted at once (working + waiting); beyond it a call is
            rejected (``None``: only the queue bound).

    Calls are ``call`` messages, optionally with a ``deadline`` (absolute time); the replies are
    ``ok``, ``error`` and ``rejected``.
    """

    def __init__(self, meter: DependencyMeter, *, workers: int = 2, queue: int | None = None,
                 service_time: Any = None, failure_rate: float = 0.0, slowdown: float = 1.0,
                 drop_expired: bool = False, admission: int | None = None) -> None:
        if not isinstance(meter, DependencyMeter):
            raise InvalidArgumentType(f"meter={meter!r} must be a DependencyMeter")
        self.meter = meter
        self.workers = check_int("workers", workers, low=1)
        self.queue_limit = None if queue is None else check_int("queue", queue, low=0)
        self.admission = None if admission is None else check_int("admission", admission, low=1)
        self.service_time = Exponential(0.02) if service_time is None else as_latency(
            service_time, "service_time")
        self.failure_rate = check_probability("failure_rate", failure_rate)
        self.slowdown = check_number("slowdown", slowdown, low=0, low_open=True,
                                     what="a positive factor")
        if not isinstance(drop_expired, bool):
            raise InvalidArgumentType(f"drop_expired={drop_expired!r} must be True or False")
        self.drop_expired = drop_expired
        self.busy = 0
        self.waiting: deque = deque()

    @property
    def capacity(self) -> float:
        """Calls per second the workers finish when healthy, if the model has a mean (else NaN)."""
        model = self.service_time
        mean = getattr(model, "mean", None)
        if isinstance(model, Constant):
            mean = model.delay
        elif isinstance(model, Exponential):
            mean = model.minimum + model.mean
        if not isinstance(mean, (int, float)) or mean <= 0:
            return math.nan
        return self.workers / (mean * self.slowdown)

    def set_health(self, *, failure_rate: float | None = None, slowdown: float | None = None) -> None:
        """Change the failure rate and/or the slowdown from now on (work already begun keeps its own)."""
        if failure_rate is not None:
            self.failure_rate = check_probability("failure_rate", failure_rate)
        if slowdown is not None:
            self.slowdown = check_number("slowdown", slowdown, low=0, low_open=True,
                                         what="a positive factor")

    # -- the calls ----------------------------------------------------------------------------
    def on_call(self, msg: Any) -> None:
        now = self.sim.now
        self.meter.arrivals.append(now)
        in_system = self.busy + len(self.waiting)
        if (self.admission is not None and in_system >= self.admission) or (
                self.busy >= self.workers and self.queue_limit is not None
                and len(self.waiting) >= self.queue_limit):
            self.meter.rejected.append(now)
            self.reply(msg, "rejected")
            return
        if self.busy < self.workers:
            self._start(msg)
        else:
            self.waiting.append(msg)
            self.meter.queue_lengths.append((now, len(self.waiting)))

    def _deadline(self, msg: Any) -> float:
        deadline = msg.get("deadline")
        return math.inf if deadline is None else deadline

    def _origin_deadline(self, msg: Any) -> float:
        """When the user behind the call gives up: its deadline, or the one a relay kept for the meter."""
        deadline = msg.get("deadline", msg.get("origin_deadline"))
        return math.inf if deadline is None else deadline

    def _start(self, msg: Any) -> None:
        self.busy += 1
        self.meter.started.append(self.sim.now)
        work = self.service_time(self.rng, msg.src, self.id) * self.slowdown
        failed = self.rng.random() < self.failure_rate
        self.set_timer(work, self._finish, msg, failed, name="work")

    def _finish(self, msg: Any, failed: bool) -> None:
        now = self.sim.now
        self.busy -= 1
        self.meter.finished.append((now, not failed, now > self._origin_deadline(msg)))
        self.reply(msg, "error" if failed else "ok")
        self._next()

    def _next(self) -> None:
        while self.waiting and self.busy < self.workers:
            msg = self.waiting.popleft()
            self.meter.queue_lengths.append((self.sim.now, len(self.waiting)))
            if self.drop_expired and self._deadline(msg) <= self.sim.now:
                self.meter.expired.append(self.sim.now)
                continue  # the caller has given up: doing the work would only delay the next call
            self._start(msg)


class Relay(Node):
    """A service in the middle of a chain: it forwards each call to ``target`` and answers with the outcome.

    With ``propagate``, the call's deadline travels on: the relay drops a call that arrives past
    it, waits for the next hop at most the time that remains (and at most ``timeout``), and sends
    the deadline along, so the next hop can drop the call too. Without, the relay waits its own
    ``timeout`` and the next hop never learns that the user gave up. (The user's deadline also
    travels as ``origin_deadline``, read only by the meters, to count the work done for nobody.)
    A timeout at the relay is answered ``error``, like a gateway's 504.
    """

    def __init__(self, meter: DependencyMeter, target: Any, timeout: float = 1.0,
                 propagate: bool = False) -> None:
        if not isinstance(meter, DependencyMeter):
            raise InvalidArgumentType(f"meter={meter!r} must be a DependencyMeter")
        self.meter = meter
        self.target = target
        self.timeout = check_number("timeout", timeout, low=0, low_open=True,
                                    what="a positive number of seconds")
        if not isinstance(propagate, bool):
            raise InvalidArgumentType(f"propagate={propagate!r} must be True or False")
        self.propagate = propagate

    def on_call(self, msg: Any) -> None:
        now = self.sim.now
        self.meter.arrivals.append(now)
        deadline = msg.get("deadline", msg.get("origin_deadline"))
        fields = {} if deadline is None else {"origin_deadline": deadline}
        timeout = self.timeout
        if self.propagate and deadline is not None:
            if deadline <= now:
                self.meter.expired.append(now)
                return  # the caller has given up already
            fields["deadline"] = deadline
            timeout = min(timeout, deadline - now)
        self.request(self.target, "call", timeout=timeout,
                     on_reply=lambda reply: self.reply(msg, reply.type),
                     on_timeout=lambda request: self.reply(msg, "error"), **fields)


def check_health(health: Any) -> list[tuple[float, dict]]:
    """Return a health schedule as a sorted list of ``(time, {failure_rate, slowdown})`` rows."""
    if health is None:
        return []
    if isinstance(health, (str, bytes, dict)) or not hasattr(health, "__iter__"):
        raise InvalidArgumentType(f"health={health!r} must be a list of (time, {{'failure_rate': p, "
                                  "'slowdown': f}}) rows")
    rows = []
    for index, row in enumerate(health):
        if not (isinstance(row, tuple) and len(row) == 2 and isinstance(row[1], dict)):
            raise InvalidArgumentType(f"health[{index}]={row!r} must be a (time, dict) pair such as "
                                      "(10.0, {'failure_rate': 1.0})")
        time = check_non_negative(f"health[{index}] time", row[0])
        unknown = sorted(set(row[1]) - {"failure_rate", "slowdown"})
        if unknown:
            raise InvalidArgument(f"health[{index}]={row!r} sets {unknown!r}; only 'failure_rate' "
                                  "and 'slowdown' can change")
        if "failure_rate" in row[1]:
            check_probability(f"health[{index}] failure_rate", row[1]["failure_rate"])
        if "slowdown" in row[1]:
            check_number(f"health[{index}] slowdown", row[1]["slowdown"], low=0, low_open=True,
                         what="a positive factor")
        rows.append((time, dict(row[1])))
    return sorted(rows, key=lambda r: r[0])
