"""Clients of a dependency: open-loop load, per-attempt timeouts, retry policies, breakers, pools, hedging.

A :class:`Caller` starts **calls** (one user request each: a :class:`Call`) at Poisson arrival
times, whatever happens to the earlier ones (open loop: users do not wait for each other), and
makes **attempts** at a dependency: one ``call`` message each, answered ``ok``, ``error`` or
``rejected``, or not answered within the attempt's ``timeout``. What it does around an attempt is
pluggable, so the same harness runs the naive versions, the lecture's knobs and your classes:

- a **retry policy** (any object with these two methods)::

      policy.on_request(call, now)                        # a new call begins (its first attempt)
      policy.retry_delay(call, outcome, now, rng)         # the attempt failed: seconds to wait
                                                          # before the next one, or None to give up

  where ``outcome`` is ``"error"``, ``"rejected"`` or ``"timeout"``, ``call.attempts`` counts the
  attempts made so far, ``call.idempotent`` says whether repeating it is safe (a GET, or a POST
  carrying an idempotency key ``call.key``) and ``rng`` is the caller's seeded generator;
- a **circuit breaker**::

      breaker.allow(now) -> bool     # may an attempt go out now? False: fail fast ("open")
      breaker.on_success(now)        # the attempt got "ok"
      breaker.on_failure(now)        # it got "error" or "rejected", or timed out
      breaker.state                  # "closed", "open" or "half_open" (drawn over time)

- a **pool** (:class:`Pool`) of connection slots the caller shares with others: an attempt needs
  a free slot and holds it until its answer or its timeout (a bulkhead is a pool of its own);
- **hedging**: ``hedge_after=d`` sends a second copy of an attempt to another replica if no answer
  came within ``d``, and takes the first answer.

A caller-wide **retry budget** is also built in as a knob (``retry_budget=0.1``): the token bucket
of gRPC's retry throttling, where each failed attempt costs a token, each success earns
``retry_budget`` tokens, and retrying stops while fewer than half the tokens are left.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_ids,
                               check_int, check_non_negative, check_number, check_probability)
from .service import Dependency, DependencyMeter, Relay, check_health

__all__ = ["OUTCOMES", "Call", "Caller", "Pool", "ServiceRun", "World", "run_service"]

#: How a call can end: ``ok``, or the last attempt's failure, or ``open`` (the breaker refused it)
#: or ``no_slot`` (its pool was full).
OUTCOMES = ("ok", "error", "rejected", "timeout", "open", "no_slot")


class Call:
    """One user request: its attempts, its end and its outcome (times in simulated seconds)."""

    __slots__ = ("id", "caller", "start", "method", "key", "deadline", "attempts", "outcomes",
                 "end", "outcome", "hedges", "_requests")

    def __init__(self, call_id: int, caller: Any, start: float, method: str = "get",
                 key: str | None = None, deadline: float = math.inf) -> None:
        self.id = call_id
        self.caller = caller
        self.start = start
        self.method = method
        self.key = key
        self.deadline = deadline
        self.attempts = 0
        self.outcomes: list[str] = []   # each finished attempt's outcome, in order
        self.end: float | None = None
        self.outcome: str | None = None
        self.hedges = 0
        self._requests: list = []

    @property
    def idempotent(self) -> bool:
        """Whether repeating the call is safe: a ``get``, or a call carrying an idempotency key."""
        return self.method == "get" or self.key is not None

    @property
    def latency(self) -> float | None:
        """Seconds from the call's start to its end (``None`` while it runs)."""
        return None if self.end is None else self.end - self.start

    def __repr__(self) -> str:
        return (f"Call(id={self.id}, method={self.method!r}, key={self.key!r}, start={self.start:g}, "
                f"attempts={self.attempts}, outcome={self.outcome!r})")


class Pool:
    """``size`` connection slots shared by the callers given it; an attempt holds one until it ends."""

    def __init__(self, size: int, name: str = "pool") -> None:
        self.size = check_int("size", size, low=1)
        self.name = name
        self.in_use = 0
        self.refused = 0

    def acquire(self) -> bool:
        if self.in_use >= self.size:
            self.refused += 1
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        self.in_use -= 1

    def __repr__(self) -> str:
        return f"Pool({self.size}, in use {self.in_use})"


def _make(what: str, value: Any, needed: Sequence[str]) -> Callable[[], Any] | None:
    """A factory for per-caller objects: a class or zero-argument callable, or one shared instance."""
    if value is None:
        return None
    if all(callable(getattr(value, m, None)) for m in needed) and not isinstance(value, type):
        return lambda: value
    if callable(value):
        return value
    raise InvalidArgumentType(f"{what}={value!r} must be a class (or a zero-argument factory) whose "
                              f"objects have {', '.join(needed)}, or such an object")


class Caller(Node):
    """Start calls at ``rate`` per second and make attempts at ``targets``; see the module docstring."""

    def __init__(self, world: "World", targets: list, rate: Any, timeout: float, policy: Any,
                 breaker: Any, pool: Pool | None, post_fraction: float, keyed: bool,
                 start: float, stop: float, deadline: float | None, hedge_after: float | None,
                 retry_budget: float | None) -> None:
        self.world = world
        self.targets = targets
        self.rate = rate
        self.timeout = timeout
        self.policy = policy() if policy is not None else None
        self.breaker = breaker() if breaker is not None else None
        self.pool = pool
        self.post_fraction = post_fraction
        self.keyed = keyed
        self.begin = start
        self.stop = stop
        self.deadline = deadline
        self.hedge_after = hedge_after
        self.retry_budget = retry_budget
        self.tokens = 10.0  # gRPC's retry throttling: max_tokens = 10, retry while > 5
        self.next_target = 0
        self.last_state = getattr(self.breaker, "state", None)
        if self.breaker is not None:
            world.breaker_states.setdefault(self.id, []).append((start, _state(self.breaker)))

    def on_start(self) -> None:
        self.set_timer(max(0.0, self.begin - self.sim.now), self._arrival, name="arrival")

    # -- arrivals ---------------------------------------------------------------------------------
    def _rate_now(self) -> tuple[float, float]:
        """The current arrival rate and the time it changes next."""
        now = self.sim.now
        current, change = 0.0, math.inf
        for time, rate in self.rate:
            if time <= now:
                current = rate
            else:
                change = time
                break
        return current, change

    def _arrival(self) -> None:
        now = self.sim.now
        if now >= self.stop:
            return
        rate, change = self._rate_now()
        if rate > 0:
            self._new_call()
            gap = self.rng.expovariate(rate)
            if now + gap >= change:  # the rate changes before the next arrival: draw again there
                gap = change - now
        else:
            gap = change - now
        if math.isfinite(gap) and now + gap < self.stop:
            self.set_timer(gap, self._arrival, name="arrival")

    def _new_call(self) -> None:
        now = self.sim.now
        post = self.post_fraction > 0 and self.rng.random() < self.post_fraction
        number = len(self.world.calls)
        key = f"{self.id}-{number}" if post and self.keyed else None
        call = Call(number, self.id, now, "post" if post else "get", key,
                    now + self.deadline if self.deadline is not None else math.inf)
        self.world.calls.append(call)
        if self.policy is not None:
            self.policy.on_request(call, now)
        self._attempt(call)

    # -- attempts ---------------------------------------------------------------------------------
    def _note_state(self) -> None:
        if self.breaker is None:
            return
        state = _state(self.breaker)
        if state != self.last_state:
            self.last_state = state
            self.world.breaker_states[self.id].append((self.sim.now, state))

    def _attempt(self, call: Call) -> None:
        now = self.sim.now
        if call.end is not None:
            return
        if self.breaker is not None:
            allowed = self.breaker.allow(now)
            self._note_state()
            if not allowed:
                self._finish(call, "open")
                return
        if self.pool is not None and not self.pool.acquire():
            self._finish(call, "no_slot")
            return
        call.attempts += 1
        self.world.attempts += 1
        self._send(call, hedge=False)
        if self.hedge_after is not None and len(self.targets) > 1:
            self.set_timer(self.hedge_after, self._hedge, call, call.attempts, name="hedge")

    def _send(self, call: Call, hedge: bool) -> None:
        target = self.targets[self.next_target % len(self.targets)]
        self.next_target += 1
        timeout = self.timeout
        fields = {}
        if math.isfinite(call.deadline):
            fields["deadline"] = call.deadline
            timeout = min(timeout, max(call.deadline - self.sim.now, 1e-9))
        attempt = call.attempts
        holder: list = []

        def answered(reply: Any) -> None:
            self._answered(call, attempt, holder[0], reply.type)

        def timed_out(request: Any) -> None:
            self._answered(call, attempt, holder[0], "timeout")

        req = self.request(target, "call", timeout=timeout, on_reply=answered, on_timeout=timed_out,
                           **fields)
        holder.append(req)
        call._requests.append(req)

    def _hedge(self, call: Call, attempt: int) -> None:
        if call.end is not None or call.attempts != attempt or not call._requests:
            return
        if self.pool is not None and not self.pool.acquire():
            return
        call.hedges += 1
        self.world.hedges += 1
        self._send(call, hedge=True)

    def _answered(self, call: Call, attempt: int, req: Any, outcome: str) -> None:
        if self.pool is not None:
            self.pool.release()
        if req in call._requests:
            call._requests.remove(req)
        if call.end is not None or attempt != call.attempts:
            return  # a hedge's twin already answered
        if outcome != "ok" and call._requests:
            return  # a hedged twin is still out: wait for it
        for other in call._requests:  # the first answer wins: stop waiting for its twin
            other.cancel()
            if self.pool is not None:
                self.pool.release()
        call._requests.clear()
        call.outcomes.append(outcome)
        now = self.sim.now
        if self.breaker is not None:
            if outcome == "ok":
                self.breaker.on_success(now)
            else:
                self.breaker.on_failure(now)
            self._note_state()
        if outcome == "ok":
            if self.retry_budget is not None:
                self.tokens = min(10.0, self.tokens + self.retry_budget)
            self._finish(call, "ok")
            return
        if self.retry_budget is not None:
            self.tokens = max(0.0, self.tokens - 1)
        if self.policy is None:
            self._finish(call, outcome)
            return
        if self.retry_budget is not None and self.tokens <= 5.0:
            self._finish(call, outcome)
            return
        delay = self.policy.retry_delay(call, outcome, now, self.rng)
        if delay is None:
            self._finish(call, outcome)
            return
        check_number("retry_delay(...)", delay, low=0, what="a delay >= 0 in seconds, or None")
        self.world.retries += 1
        self.set_timer(delay, self._attempt, call, name="retry")

    def _finish(self, call: Call, outcome: str) -> None:
        call.end = self.sim.now
        call.outcome = outcome


def _state(breaker: Any) -> str:
    state = getattr(breaker, "state", None)
    state = getattr(state, "value", state)  # an Enum member's value
    return str(state)


def _rate_steps(rate: Any) -> list[tuple[float, float]]:
    """``rate`` as a sorted list of ``(from time, calls per second)`` steps."""
    if isinstance(rate, bool):
        raise InvalidArgumentType(f"rate={rate!r} must be calls per second, or a list of "
                                  "(from time, rate) steps")
    if isinstance(rate, (int, float)):
        return [(0.0, check_non_negative("rate", rate))]
    if isinstance(rate, (str, bytes, dict)) or not hasattr(rate, "__iter__"):
        raise InvalidArgumentType(f"rate={rate!r} must be calls per second, or a list of "
                                  "(from time, rate) steps such as [(0, 80), (20, 160), (25, 80)]")
    steps = []
    for index, step in enumerate(rate):
        if not (isinstance(step, tuple) and len(step) == 2):
            raise InvalidArgumentType(f"rate[{index}]={step!r} must be a (from time, rate) pair")
        steps.append((check_non_negative(f"rate[{index}] time", step[0]),
                      check_non_negative(f"rate[{index}] rate", step[1])))
    if not steps:
        raise InvalidArgument("rate=[] must hold at least one (from time, rate) step")
    return sorted(steps, key=lambda s: s[0])


class World:
    """A simulation of dependencies and their callers, with every call and attempt recorded.

    Example:
        >>> world = World(seed=1)
        >>> world.dependency("dep", workers=2)
        >>> world.callers("client", target="dep", rate=50, stop=10)
        ['client']
        >>> run = world.run(until=12)
        >>> run.success_ratio() > 0.99
        True
    """

    def __init__(self, seed: Any, *, latency: Any = 0.0005, trace: bool = False,
                 max_events: int = 2_000_000) -> None:
        self.sim = Simulation(seed=seed, latency=latency, trace=trace, max_events=max_events)
        self.calls: list[Call] = []
        self.meters: dict[Any, DependencyMeter] = {}
        self.breaker_states: dict[Any, list[tuple[float, str]]] = {}
        self.health: dict[Any, list[tuple[float, dict]]] = {}
        self.relays: dict[Any, DependencyMeter] = {}
        self.attempts = 0
        self.retries = 0
        self.hedges = 0
        self.caller_ids: list = []

    def dependency(self, node_id: Any, *, health: Any = None, **options: Any) -> None:
        """Add a :class:`~course_lib.topics.resilience.service.Dependency` (options as its own).

        ``health`` is a list of ``(time, {"failure_rate": p, "slowdown": f})`` changes.
        """
        meter = DependencyMeter()
        node = self.sim.add_node(Dependency, node_id, meter, **options)
        self.meters[node_id] = meter
        rows = check_health(health)
        self.health[node_id] = [(0.0, {"failure_rate": node.failure_rate, "slowdown": node.slowdown})]
        for time, change in rows:
            self.sim.at(time, _set_health, node, change)
            self.health[node_id].append((time, change))

    def relay(self, node_id: Any, *, target: Any, timeout: float = 1.0, propagate: bool = False) -> None:
        """Add a :class:`~course_lib.topics.resilience.service.Relay` in front of ``target``."""
        if target not in self.meters and target not in self.relays:
            raise InvalidArgument(f"target={target!r} is not a dependency or relay of this world; add it "
                                  f"first (have {list(self.meters) + list(self.relays)})")
        meter = DependencyMeter()
        self.sim.add_node(Relay, node_id, meter, target, timeout, propagate)
        self.relays[node_id] = meter

    def callers(self, prefix: str, *, target: Any, count: int = 1, rate: Any = 80.0,
                timeout: float = 1.0, policy: Any = None, breaker: Any = None,
                pool: Pool | None = None, post_fraction: float = 0.0, keyed: bool = False,
                start: float = 0.0, stop: float = 60.0, deadline: float | None = None,
                hedge_after: float | None = None, retry_budget: float | None = None) -> list[Any]:
        """Add ``count`` callers (ids ``prefix``, or ``prefix1``...), each starting ``rate`` calls per second.

        ``target`` is a dependency id or a list of replica ids (attempts go round robin).
        """
        targets = [target] if isinstance(target, (str, int)) else check_ids("target", target)
        for t in targets:
            if t not in self.meters and t not in self.relays:
                raise InvalidArgument(f"target={t!r} is not a dependency of this world; add it "
                                      f"with world.dependency({t!r}) first (have {list(self.meters)})")
        check_int("count", count, low=1)
        steps = _rate_steps(rate)
        check_number("timeout", timeout, low=0, low_open=True, what="a positive number of seconds")
        policy_factory = _make("policy", policy, ("on_request", "retry_delay"))
        breaker_factory = _make("breaker", breaker, ("allow", "on_success", "on_failure"))
        if pool is not None and not isinstance(pool, Pool):
            raise InvalidArgumentType(f"pool={pool!r} must be a Pool or None")
        check_probability("post_fraction", post_fraction)
        if not isinstance(keyed, bool):
            raise InvalidArgumentType(f"keyed={keyed!r} must be True or False")
        check_non_negative("start", start)
        check_number("stop", stop, low=start, what=f"a time >= start={start!r}")
        if deadline is not None:
            check_number("deadline", deadline, low=0, low_open=True, what="a positive number of seconds")
        if hedge_after is not None:
            check_number("hedge_after", hedge_after, low=0, low_open=True,
                         what="a positive number of seconds")
        if retry_budget is not None:
            check_number("retry_budget", retry_budget, low=0, high=1, what="a ratio in [0, 1]")
        ids = [prefix] if count == 1 else [f"{prefix}{i}" for i in range(1, count + 1)]
        for node_id in ids:
            self.sim.add_node(Caller, node_id, self, targets, steps, timeout, policy_factory,
                              breaker_factory, pool, post_fraction, keyed, start, stop, deadline,
                              hedge_after, retry_budget)
            self.caller_ids.append(node_id)
        return ids

    def run(self, until: float) -> "ServiceRun":
        """Run to ``until`` seconds and return the :class:`ServiceRun`."""
        check_number("until", until, low=self.sim.now, what=f"a time >= now ({self.sim.now:g})")
        self.sim.run(until=until)
        return ServiceRun(self, until)


def _set_health(node: Dependency, change: dict) -> None:
    node.set_health(**change)


class ServiceRun:
    """What happened in a :class:`World`: the calls, the dependencies' (and relays') meters, the breakers' states."""

    def __init__(self, world: World, until: float) -> None:
        self.world = world
        self.sim = world.sim
        self.until = until
        self.calls = world.calls
        self.meters = world.meters
        self.relays = world.relays
        self.breaker_states = world.breaker_states
        self.health = world.health

    @property
    def meter(self) -> DependencyMeter:
        """The meter of the only dependency (raises if there are several)."""
        if len(self.meters) != 1:
            raise InvalidArgument(f"this run has {len(self.meters)} dependencies "
                                  f"({list(self.meters)}): use run.meters[id]")
        return next(iter(self.meters.values()))

    def _window(self, start: Any, end: Any, caller: Any = None) -> float:
        """Check a window ``[start, end)`` (``end=None``: the run's end) and a caller; return ``end``."""
        check_number("start", start, low=0, what="a time >= 0")
        end = self.until if end is None else end
        check_number("end", end, low=start, low_open=True, finite=False, what=f"a time after start={start!r}")
        if caller is not None and caller not in self.world.caller_ids:
            raise InvalidArgument(f"caller={caller!r} is not a caller of this run; callers: "
                                  f"{self.world.caller_ids}")
        return end

    def finished(self, start: float = 0.0, end: float = math.inf, caller: Any = None) -> list[Call]:
        """The calls that started in ``[start, end)`` (of ``caller``, if given) and have ended."""
        end = self._window(start, end, caller)
        return [c for c in self.calls if c.end is not None and start <= c.start < end
                and (caller is None or c.caller == caller)]

    def success_ratio(self, start: float = 0.0, end: float = math.inf, caller: Any = None) -> float:
        """The fraction of the calls started in ``[start, end)`` that ended ``ok`` (NaN if none)."""
        end = self._window(start, end, caller)
        calls = [c for c in self.calls if start <= c.start < end
                 and (caller is None or c.caller == caller)]
        if not calls:
            return math.nan
        return sum(c.outcome == "ok" for c in calls) / len(calls)

    def goodput(self, start: float = 0.0, end: float | None = None, caller: Any = None,
                within: float | None = None) -> float:
        """Successful calls per second that ended in ``[start, end)`` (within ``within`` s of their start)."""
        end = self._window(start, end, caller)
        if not math.isfinite(end):
            raise InvalidArgument(f"end={end!r} must be finite: goodput is per second")
        if within is not None:
            check_number("within", within, low=0, low_open=True, what="a positive number of seconds")
        good = sum(1 for c in self.calls if c.outcome == "ok" and start <= c.end < end
                   and (caller is None or c.caller == caller)
                   and (within is None or c.end - c.start <= within))
        return good / (end - start)

    def load(self, start: float = 0.0, end: float | None = None, dependency: Any = None) -> float:
        """Attempts per second that reached the dependency in ``[start, end)``."""
        end = self._window(start, end)
        if not math.isfinite(end):
            raise InvalidArgument(f"end={end!r} must be finite: load is per second")
        if dependency is not None and dependency not in self.meters:
            raise InvalidArgument(f"dependency={dependency!r} is not a dependency of this run; "
                                  f"dependencies: {list(self.meters)}")
        meter = self.meter if dependency is None else self.meters[dependency]
        return sum(1 for t in meter.arrivals if start <= t < end) / (end - start)

    def latencies(self, start: float = 0.0, end: float = math.inf, caller: Any = None,
                  ok_only: bool = True) -> list[float]:
        """The latencies of the calls started in ``[start, end)`` (only successful ones by default)."""
        return [c.end - c.start for c in self.finished(start, end, caller)
                if not ok_only or c.outcome == "ok"]

    def percentile(self, q: float, **window: Any) -> float:
        """The ``q``-th percentile (0-100) of :meth:`latencies` (NaN if there are none)."""
        check_number("q", q, low=0, high=100)
        values = sorted(self.latencies(**window))
        return percentile(values, q)

    def series(self, bin: float = 1.0, dependency: Any = None) -> dict[str, list[float]]:  # noqa: A002
        """Per-``bin`` time series: ``t``, ``offered`` (calls/s started), ``load`` (attempts/s at the
        dependency), ``goodput`` (successes/s), ``p50`` and ``p99`` latency of calls ending in the bin."""
        check_number("bin", bin, low=0, low_open=True, what="a positive number of seconds")
        n = max(1, int(math.ceil(self.until / bin)))
        offered = [0] * n
        load = [0] * n
        good = [0] * n
        lat: list[list[float]] = [[] for _ in range(n)]
        for c in self.calls:
            offered[min(n - 1, int(c.start / bin))] += 1
            if c.outcome == "ok":
                i = min(n - 1, int(c.end / bin))
                good[i] += 1
                lat[i].append(c.end - c.start)
        meters = list(self.meters.values()) if dependency is None else [self.meters[dependency]]
        for meter in meters:
            for t in meter.arrivals:
                load[min(n - 1, int(t / bin))] += 1
        return {"t": [i * bin for i in range(n)],
                "offered": [x / bin for x in offered], "load": [x / bin for x in load],
                "goodput": [x / bin for x in good],
                "p50": [percentile(sorted(v), 50) for v in lat],
                "p99": [percentile(sorted(v), 99) for v in lat]}

    def summary(self, start: float = 0.0, end: float | None = None) -> dict[str, float]:
        """Rounded headline numbers of ``[start, end)``: offered, load, goodput, success, p50, p99."""
        end = self._window(start, end)
        started = sum(1 for c in self.calls if start <= c.start < end) / (end - start)
        return {"offered/s": round(started, 1),
                "load/s": round(sum(self.load(start, end, d) for d in self.meters), 1),
                "goodput/s": round(self.goodput(start, end), 1),
                "success": round(self.success_ratio(start, end), 3),
                "p50 s": round(self.percentile(50, start=start, end=end), 3),
                "p99 s": round(self.percentile(99, start=start, end=end), 3)}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted values, nearest rank (NaN for none)."""
    if not sorted_values:
        return math.nan
    rank = max(1, int(math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def run_service(seed: Any, *, duration: float = 60.0, settle: float = 10.0, rate: Any = 80.0,
                callers: int = 1, timeout: float = 1.0, policy: Any = None, breaker: Any = None,
                retry_budget: float | None = None, post_fraction: float = 0.0, keyed: bool = False,
                deadline: float | None = None, health: Any = None, workers: int = 2,
                queue: int | None = None, service_time: Any = None, failure_rate: float = 0.0,
                drop_expired: bool = False, admission: int | None = None) -> ServiceRun:
    """One dependency ``"dep"`` and ``callers`` callers sharing ``rate`` calls per second, for ``duration`` s.

    Calls start until ``duration``; the run goes on ``settle`` seconds more so that they end.
    Every keyword is the :class:`World`'s, the dependency's or the callers' of the same name;
    ``rate`` may be a list of ``(from time, rate)`` steps (a spike: ``[(0, 80), (20, 160), (25, 80)]``),
    each caller taking ``1/callers`` of it.

    Example:
        >>> run = run_service(seed=1, duration=10, rate=50)
        >>> run.summary()["success"]
        1.0
    """
    check_int("callers", callers, low=1)
    check_non_negative("settle", settle)
    check_number("duration", duration, low=0, low_open=True, what="a positive number of seconds")
    steps = [(t, r / callers) for t, r in _rate_steps(rate)]
    world = World(seed)
    world.dependency("dep", health=health, workers=workers, queue=queue, service_time=service_time,
                     failure_rate=failure_rate, drop_expired=drop_expired, admission=admission)
    world.callers("client", target="dep", count=callers, rate=steps, timeout=timeout, policy=policy,
                  breaker=breaker, retry_budget=retry_budget, post_fraction=post_fraction, keyed=keyed,
                  stop=duration, deadline=deadline)
    return world.run(until=duration + settle)
