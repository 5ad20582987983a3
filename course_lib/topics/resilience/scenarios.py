"""The exercise's graded scenarios: scripted sequences and simulations, each raising on a wrong outcome.

Scripted scenarios drive a learner's object call by call at chosen times (no randomness at all, so
a mistake is caught on every seed); simulations run it inside :func:`run_service` or
:func:`run_detector` under seeded load, failures, latency and loss, and hold it to targets.

- circuit breaker: :func:`breaker_script` (a named script of :data:`BREAKER_SCRIPTS`),
  :func:`breaker_protects` (an outage and its recovery, in simulation);
- retry policy: :func:`retry_script` (a named script of :data:`RETRY_SCRIPTS`), :func:`retry_goodput`
  (a load spike that leaves naive retries in a metastable failure), :func:`retry_idempotency`;
- failure detector: :func:`detector_script` (a named script of :data:`DETECTOR_SCRIPTS`),
  :func:`detector_targets` (false positives and detection time in a named setting of
  :data:`DETECTOR_SETTINGS`).
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from ...sim import Exponential, LogNormal, Uniform
from ...sim.errors import ScenarioFailed
from ...sim.validation import (InvalidArgumentType, check_choice, check_int, check_number,
                               check_probability)
from .clients import Call, run_service
from .detection import run_detector

__all__ = ["BREAKER_SCRIPTS", "DETECTOR_SCRIPTS", "DETECTOR_SETTINGS", "RETRY_SCRIPTS",
           "breaker_protects", "breaker_script", "detector_script", "detector_targets",
           "retry_goodput", "retry_idempotency", "retry_script"]


def _needs(obj: Any, what: str, methods: tuple[str, ...]) -> None:
    for method in methods:
        if not callable(getattr(obj, method, None)):
            raise InvalidArgumentType(f"{what}={obj!r} has no {method}() method; it needs "
                                      f"{', '.join(m + '()' for m in methods)}")


def _make(cls: Any, what: str, **kwargs: Any) -> Any:
    if not callable(cls):
        raise InvalidArgumentType(f"{what}={cls!r} must be your class")
    return cls(**kwargs)


# -- circuit breaker ------------------------------------------------------------------------------

_BREAKER = dict(failure_threshold=3, reset_timeout=5.0, half_open_max=1, success_threshold=2)


class _Script:
    """Runs a breaker through steps and says, on the first surprise, what the step was."""

    def __init__(self, breaker: Any, name: str) -> None:
        self.b = breaker
        self.name = name
        self.steps: list[str] = []

    def _fail(self, message: str) -> None:
        history = "; ".join(self.steps[-8:])
        raise ScenarioFailed(f"breaker script {self.name!r}: {message} (the last steps: {history})")

    def state(self, expected: str) -> None:
        state = getattr(self.b.state, "value", self.b.state)
        if state != expected:
            self._fail(f"state is {state!r}, expected {expected!r}")

    def allow(self, now: float, expected: bool) -> None:
        got = self.b.allow(now)
        self.steps.append(f"allow({now:g}) -> {got!r}")
        if got is not expected:
            self._fail(f"allow({now:g}) returned {got!r}, expected {expected!r}")

    def ok(self, now: float) -> None:
        self.b.on_success(now)
        self.steps.append(f"on_success({now:g})")

    def fail(self, now: float) -> None:
        self.b.on_failure(now)
        self.steps.append(f"on_failure({now:g})")

    def failing_calls(self, times: list[float]) -> None:
        for t in times:
            self.allow(t, True)
            self.fail(t + 0.01)


def _opens_after_threshold(s: _Script) -> None:
    # two failures, a success (resets the count), two failures: still closed
    s.failing_calls([0.0, 0.1])
    s.allow(0.2, True)
    s.ok(0.21)
    s.failing_calls([0.3, 0.4])
    s.state("closed")
    s.fail(0.5)                      # the third failure in a row
    s.state("open")
    s.allow(0.6, False)


def _waits_reset_timeout(s: _Script) -> None:
    s.failing_calls([0.0, 0.1, 0.2])  # opens at 0.21
    s.state("open")
    for t in (1.0, 3.0, 5.2):
        s.allow(t, False)            # reset_timeout=5 has not passed since 0.21
    s.state("open")
    s.allow(5.3, True)               # it has: this call is the probe
    s.state("half_open")


def _half_open_limits_probes(s: _Script) -> None:
    s.failing_calls([0.0, 0.1, 0.2])
    s.allow(6.0, True)               # the one probe allowed (half_open_max=1)
    s.allow(6.05, False)             # a concurrent call: refused while the probe is out
    s.allow(6.1, False)
    s.state("half_open")
    s.ok(6.2)                        # the probe succeeds: one success of two needed
    s.state("half_open")
    s.allow(6.3, True)               # the probe is back, so a new one may go
    s.allow(6.31, False)


def _closes_after_successes(s: _Script) -> None:
    s.failing_calls([0.0, 0.1, 0.2])
    s.allow(6.0, True)
    s.ok(6.1)
    s.state("half_open")             # one success is not enough (success_threshold=2)
    s.allow(6.2, True)
    s.ok(6.3)
    s.state("closed")
    s.failing_calls([7.0, 7.1])      # the failure count starts afresh
    s.state("closed")
    s.allow(7.2, True)


def _half_open_failure_reopens(s: _Script) -> None:
    s.failing_calls([0.0, 0.1, 0.2])
    s.allow(6.0, True)
    s.fail(6.5)                      # the probe fails: open again, timer restarted at 6.5
    s.state("open")
    s.allow(7.0, False)
    s.allow(11.4, False)             # 6.5 + 5 = 11.5 not reached
    s.allow(11.6, True)
    s.state("half_open")


def _concurrent_probes(s: _Script) -> None:
    # half_open_max=3: three probes at once, the fourth refused; one fails: open again
    s.failing_calls([0.0, 0.1, 0.2])
    for t in (6.0, 6.01, 6.02):
        s.allow(t, True)
    s.allow(6.03, False)
    s.ok(6.1)
    s.allow(6.11, True)              # a probe came back: a slot is free again
    s.allow(6.12, False)
    s.fail(6.2)
    s.state("open")
    s.allow(6.3, False)


#: The breaker scripts: name -> (constructor keywords, the script).
BREAKER_SCRIPTS: dict[str, tuple[dict, Callable[[_Script], None]]] = {
    "opens_after_threshold": (_BREAKER, _opens_after_threshold),
    "waits_reset_timeout": (_BREAKER, _waits_reset_timeout),
    "half_open_limits_probes": (_BREAKER, _half_open_limits_probes),
    "closes_after_successes": (_BREAKER, _closes_after_successes),
    "half_open_failure_reopens": (_BREAKER, _half_open_failure_reopens),
    "concurrent_probes": ({**_BREAKER, "half_open_max": 3, "success_threshold": 3}, _concurrent_probes),
}


def breaker_script(cls: Any, seed: Any = 0, *, script: str) -> Any:
    """Drive ``cls(**keywords)`` through the named scripted sequence (``seed`` is unused: scripts are fixed).

    Raises:
        ScenarioFailed: a state or an ``allow`` answer differs from the script's.
    """
    check_choice("script", script, list(BREAKER_SCRIPTS))
    kwargs, steps = BREAKER_SCRIPTS[script]
    breaker = _make(cls, "cls", **kwargs)
    _needs(breaker, "cls()", ("allow", "on_success", "on_failure"))
    s = _Script(breaker, script)
    s.state("closed")
    steps(s)
    return breaker


def breaker_protects(cls: Any, seed: Any, *, outage: tuple[float, float] = (20.0, 50.0),
                     failure_rate: float = 1.0, slowdown: float = 1.0, rate: float = 80.0,
                     reset_timeout: float = 3.0, half_open_max: int = 1,
                     success_threshold: int = 2) -> Any:
    """An outage of the dependency from ``outage[0]`` to ``outage[1]``: the breaker must shed the load
    and let the traffic back soon after the dependency heals.

    Checks: during the outage (after its first 2 s), at most ``half_open_max`` probes per
    ``reset_timeout`` (plus one) reach the dependency per caller; from ``reset_timeout + 3`` s after
    it heals, at least 95% of the calls succeed.
    """
    if not (isinstance(outage, tuple) and len(outage) == 2):
        raise InvalidArgumentType(f"outage={outage!r} must be a (start, end) pair of times")
    check_number("outage start", outage[0], low=3.0, what="a time >= 3 s")
    check_number("outage end", outage[1], low=outage[0] + 3.0, what="a time >= start + 3 s")
    check_probability("failure_rate", failure_rate)
    check_number("slowdown", slowdown, low=0, low_open=True, what="a positive factor")
    check_number("rate", rate, low=0, low_open=True, what="calls per second > 0")
    check_number("reset_timeout", reset_timeout, low=0, low_open=True, what="a positive number of seconds")
    check_int("half_open_max", half_open_max, low=1)
    check_int("success_threshold", success_threshold, low=1)
    kwargs = dict(failure_threshold=5, reset_timeout=reset_timeout, half_open_max=half_open_max,
                  success_threshold=success_threshold)
    _needs(_make(cls, "cls", **kwargs), "cls()", ("allow", "on_success", "on_failure"))
    start, end = outage
    health = [(start, {"failure_rate": failure_rate, "slowdown": slowdown}),
              (end, {"failure_rate": 0.0, "slowdown": 1.0})]
    run = run_service(seed, duration=end + 25.0, settle=3.0, rate=rate, callers=2, timeout=0.5,
                      health=health, breaker=lambda: cls(**kwargs))
    window = (start + 2.0, end)
    reached = sum(1 for t in run.meter.arrivals if window[0] <= t < window[1])
    allowed = 2 * (half_open_max * (math.floor((window[1] - window[0]) / reset_timeout) + 1) + 1)
    if reached > allowed:
        raise ScenarioFailed(
            f"during the outage ({window[0]:g} s to {window[1]:g} s) {reached} attempts reached the "
            f"failing dependency; an open breaker lets through only its probes: at most {allowed} "
            f"(half_open_max={half_open_max} every reset_timeout={reset_timeout:g} s, two callers)")
    after = end + reset_timeout + 3.0
    success = run.success_ratio(after, end + 25.0)
    if not success >= 0.95:
        raise ScenarioFailed(
            f"the dependency healed at {end:g} s, but from {after:g} s only {success:.0%} of the calls "
            f"succeeded (need 95%): does the breaker close again after success_threshold="
            f"{success_threshold} successful probes?")
    return run


# -- retry policy ---------------------------------------------------------------------------------

_POLICY = dict(base=0.1, cap=2.0, max_attempts=4, budget_ratio=0.1, max_tokens=10.0)


def _calls(n: int, method: str = "get", key: Any = None) -> list[Call]:
    return [Call(i, "client", float(i), method, key) for i in range(n)]


def _delays(cls: Any, attempts: int, draws: int, seed: int) -> list[float]:
    # a budget_ratio of 1 refills a token per call: these draws test the backoff, not the budget
    policy = _make(cls, "cls", **{**_POLICY, "budget_ratio": 1.0})
    rng = random.Random(seed)
    out = []
    for i in range(draws):
        call = Call(10_000 + i, "client", 0.0, "get")
        policy.on_request(call, 0.0)
        call.attempts = attempts
        delay = policy.retry_delay(call, "timeout", 0.0, rng)
        if delay is None:
            raise ScenarioFailed(f"retry_delay refused a retry of a GET after {attempts} attempt(s), "
                                 f"with max_attempts={_POLICY['max_attempts']} and tokens to spare")
        out.append(delay)
    return out


def _script_backoff(cls: Any) -> None:
    for attempts in (1, 2, 3):
        bound = min(_POLICY["cap"], _POLICY["base"] * 2 ** (attempts - 1))
        delays = _delays(cls, attempts, 40, attempts)
        if min(delays) < 0 or max(delays) > bound + 1e-9:
            raise ScenarioFailed(
                f"after attempt {attempts} the delays range over [{min(delays):.4g}, {max(delays):.4g}] s; "
                f"full jitter draws them from [0, min(cap, base * 2 ** (attempts - 1))] = [0, {bound:g}]")
        if max(delays) < 0.8 * bound:
            raise ScenarioFailed(
                f"after attempt {attempts} no delay of 40 came near the bound {bound:g} s (largest "
                f"{max(delays):.4g}): does the backoff double with every attempt?")


def _script_jitter(cls: Any) -> None:
    for attempts in (1, 3):
        bound = min(_POLICY["cap"], _POLICY["base"] * 2 ** (attempts - 1))
        delays = sorted(_delays(cls, attempts, 40, 100 + attempts))
        low, high = delays[8], delays[31]   # about the 20th and 80th percentiles
        if not (low < 0.35 * bound and high > 0.65 * bound):
            raise ScenarioFailed(
                f"after attempt {attempts} 40 delays have 20th/80th percentiles {low:.4g} / {high:.4g} s; "
                f"full jitter spreads them uniformly over [0, {bound:g}] (expect about "
                f"{0.2 * bound:.3g} / {0.8 * bound:.3g}): without jitter the retries of clients that "
                "failed together arrive together")


def _script_cap(cls: Any) -> None:
    policy = _make(cls, "cls", **_POLICY)
    rng = random.Random(7)
    policy.on_request(Call(0, "client", 0.0, "get"), 0.0)
    big = Call(1, "client", 0.0, "get")
    big.attempts = 3
    delays = [policy.retry_delay(big, "error", 0.0, rng) for _ in range(5)]
    if any(d is None for d in delays):
        raise ScenarioFailed("retry_delay refused a third retry with max_attempts=4 and tokens left")
    last = Call(2, "client", 0.0, "get")
    last.attempts = _POLICY["max_attempts"]
    got = policy.retry_delay(last, "error", 0.0, rng)
    if got is not None:
        raise ScenarioFailed(f"after {last.attempts} attempts (max_attempts={_POLICY['max_attempts']}) "
                             f"retry_delay returned {got!r}; it must give up (None)")


def _script_budget(cls: Any) -> None:
    policy = _make(cls, "cls", **_POLICY)
    # 100 calls, every attempt failing: tokens start at max_tokens=10, each call adds 0.1,
    # each retry costs 1; so about 10 + 100 * 0.1 = 20 retries (19 if the first deposit hits the cap)
    rng = random.Random(3)
    granted = 0
    calls = _calls(100)
    for call in calls:
        policy.on_request(call, call.start)
        call.attempts = 1
        if policy.retry_delay(call, "timeout", call.start, rng) is not None:
            granted += 1
    if not 19 <= granted <= 20:
        raise ScenarioFailed(
            f"100 calls failed once each, and retry_delay granted {granted} retries; the budget allows "
            "about 20: 10 tokens to start with (max_tokens), 0.1 more per call (budget_ratio), "
            "1 per retry, never above max_tokens")
    refill = _calls(300)
    for call in refill:                # a long calm stretch refills the bucket only up to max_tokens
        policy.on_request(call, call.start)
    granted = 0
    for call in _calls(30):
        call.attempts = 1
        if policy.retry_delay(call, "error", 500.0, rng) is not None:
            granted += 1
    if granted != 10:
        raise ScenarioFailed(f"after 300 calls without failures, 30 failures got {granted} retries; "
                             "the bucket holds at most max_tokens=10")


def _script_idempotent(cls: Any) -> None:
    policy = _make(cls, "cls", **_POLICY)
    rng = random.Random(5)
    for method, key, outcome in (("post", None, "timeout"), ("post", None, "error"),
                                 ("post", None, "rejected")):
        call = Call(0, "client", 0.0, method, key)
        policy.on_request(call, 0.0)
        call.attempts = 1
        got = policy.retry_delay(call, outcome, 0.0, rng)
        if got is not None:
            raise ScenarioFailed(
                f"a POST without an idempotency key failed ({outcome!r}) and retry_delay returned "
                f"{got!r}: repeating it may do it twice (a timeout says nothing about whether it was "
                "done); it must return None")
    for method, key in (("post", "order-17"), ("get", None)):
        call = Call(1, "client", 0.0, method, key)
        policy.on_request(call, 0.0)
        call.attempts = 1
        if policy.retry_delay(call, "timeout", 0.0, rng) is None:
            raise ScenarioFailed(f"a {method.upper()} with key={key!r} timed out and retry_delay gave "
                                 "up: a call that is safe to repeat should be retried")


#: The retry-policy scripts: name -> script (each makes fresh policies: ``cls(base=0.1, cap=2.0,
#: max_attempts=4, budget_ratio=0.1, max_tokens=10.0)``, the backoff ones with ``budget_ratio=1``).
RETRY_SCRIPTS: dict[str, Callable[[Any], None]] = {
    "backoff": _script_backoff, "jitter": _script_jitter, "max_attempts": _script_cap,
    "budget": _script_budget, "idempotency": _script_idempotent,
}


def retry_script(cls: Any, seed: Any = 0, *, script: str) -> Any:
    """Run the named scripted check of :data:`RETRY_SCRIPTS` on ``cls(**defaults)`` (``seed`` unused)."""
    check_choice("script", script, list(RETRY_SCRIPTS))
    _needs(_make(cls, "cls", **_POLICY), "cls()", ("on_request", "retry_delay"))
    RETRY_SCRIPTS[script](cls)
    return cls


#: The overload of :func:`retry_goodput`: a dependency at 70% of its capacity slowed down 4x for
#: 4 s, with ten callers whose attempts time out after 1 s.
OVERLOAD = dict(rate=70.0, workers=4, service_time=Exponential(0.04), timeout=1.0, callers=10,
                health=[(20.0, {"slowdown": 4.0}), (24.0, {"slowdown": 1.0})])


def retry_goodput(cls: Any, seed: Any, *, duration: float = 50.0, recover_by: float = 40.0,
                  target: float = 0.95) -> Any:
    """A 4-second slowdown at 20 s: with your policy the callers must be back to ``target`` success
    by ``recover_by`` (naive retries keep the dependency overloaded long after it recovered)."""
    check_number("duration", duration, low=30.0, what="a number of seconds >= 30")
    check_number("recover_by", recover_by, low=24.0, high=duration, high_open=True,
                 what=f"a time in [24, duration={duration!r})")
    check_probability("target", target)
    _needs(_make(cls, "cls", **_POLICY), "cls()", ("on_request", "retry_delay"))
    run = run_service(seed, duration=duration, settle=5.0, policy=lambda: cls(**_POLICY), **OVERLOAD)
    success = run.success_ratio(recover_by, duration)
    if not success >= target:
        load = run.load(recover_by, duration)
        raise ScenarioFailed(
            f"after a 4 s slowdown at 20 s, the calls started from {recover_by:g} s to {duration:g} s "
            f"succeeded {success:.0%} of the time (need {target:.0%}); {load:.0f} attempts/s reached "
            f"a dependency that serves 100/s and gets 70 new calls/s: retries keep it overloaded "
            "(a metastable failure). Does the budget stop them?")
    return run


def retry_idempotency(cls: Any, seed: Any, *, duration: float = 30.0) -> Any:
    """Calls half of them POSTs (a third of those with idempotency keys) to a dependency failing 30%
    of the time: no POST without a key may be attempted twice, and keyed ones must be retried."""
    check_number("duration", duration, low=1.0, what="a number of seconds >= 1")
    _needs(_make(cls, "cls", **_POLICY), "cls()", ("on_request", "retry_delay"))
    run = run_service(seed, duration=duration, rate=40.0, failure_rate=0.3, post_fraction=0.5,
                      keyed=False, policy=lambda: cls(**_POLICY))
    twice = [c for c in run.calls if c.method == "post" and c.key is None and c.attempts > 1]
    if twice:
        raise ScenarioFailed(f"{len(twice)} POSTs without an idempotency key were attempted more than "
                             f"once, e.g. {twice[0]!r}: the first attempt may have been done already")
    retried = [c for c in run.calls if c.method == "get" and c.attempts > 1]
    if not retried:
        raise ScenarioFailed("no GET was ever retried, though 30% of the attempts failed")
    return run


# -- failure detector -----------------------------------------------------------------------------

_DETECTOR = dict(threshold=8.0, window=100, min_std=0.1, acceptable_pause=0.0)


def _phi_expected(elapsed: float, mean: float, std: float) -> float:
    upper = 0.5 * math.erfc((elapsed - mean) / (std * math.sqrt(2)))
    return -math.log10(max(upper, 1e-300))


class _Beats:
    def __init__(self, detector: Any, name: str) -> None:
        self.d = detector
        self.name = name

    def beats(self, node: Any, times: list[float]) -> None:
        for t in times:
            self.d.heartbeat(node, t)

    def phi(self, node: Any, now: float, expected: float, why: str) -> None:
        got = self.d.phi(node, now)
        if isinstance(got, bool) or not isinstance(got, (int, float)) or math.isnan(got):
            raise ScenarioFailed(f"detector script {self.name!r}: phi({node!r}, {now:g}) returned {got!r}, "
                                 "not a number")
        if not math.isclose(got, expected, rel_tol=0.02, abs_tol=0.02):
            raise ScenarioFailed(f"detector script {self.name!r}: phi({node!r}, {now:g}) = {got:.4g}, "
                                 f"expected {expected:.4g} ({why})")

    def suspect(self, node: Any, now: float, expected: bool) -> None:
        got = self.d.suspect(node, now)
        if got is not expected:
            raise ScenarioFailed(f"detector script {self.name!r}: suspect({node!r}, {now:g}) returned "
                                 f"{got!r}, expected {expected!r} (phi there: {self.d.phi(node, now):.3g})")


def _script_phi_formula(b: _Beats) -> None:
    # heartbeats at 0, 1, 1.5, 2.5, 3, 4 : intervals 1, 0.5, 1, 0.5, 1 -> mean 0.8, std 0.2449
    b.beats("a", [0.0, 1.0, 1.5, 2.5, 3.0, 4.0])
    mean, std = 0.8, math.sqrt(sum((x - 0.8) ** 2 for x in (1, .5, 1, .5, 1)) / 5)
    for elapsed in (0.3, 0.8, 1.2, 1.6):
        b.phi("a", 4.0 + elapsed, _phi_expected(elapsed, mean, std),
              f"intervals mean {mean:g} s, population std {std:.4g} s, {elapsed:g} s since the last beat")


def _script_min_std(b: _Beats) -> None:
    # perfectly regular beats: std 0, floored at min_std=0.1
    b.beats("a", [float(t) for t in range(20)])
    b.phi("a", 19.0 + 1.2, _phi_expected(1.2, 1.0, 0.1), "std 0 is floored at min_std=0.1")
    b.suspect("a", 19.0 + 1.05, False)
    b.suspect("a", 19.0 + 1.6, True)


def _script_window(b: _Beats) -> None:
    # 150 beats 1 s apart, then 101 beats 3 s apart: the last window=100 intervals are all 3 s
    times = [float(t) for t in range(150)]
    times += [149.0 + 3 * i for i in range(1, 102)]
    b.beats("a", times)
    last = times[-1]
    b.phi("a", last + 3.1, _phi_expected(3.1, 3.0, 0.1), "only the last window=100 intervals count")
    b.suspect("a", last + 2.5, False)


def _script_per_node(b: _Beats) -> None:
    b.beats("a", [0.0, 1.0, 2.0, 3.0])
    b.beats("b", [0.0, 2.0, 4.0, 6.0])       # b beats every 2 s; a stops at 3
    b.suspect("a", 6.0, True)                # a: 3 s silent on a 1 s rhythm
    b.suspect("b", 6.5, False)               # b's own history is what counts for b
    b.phi("b", 7.0, _phi_expected(1.0, 2.0, 0.1), "b's intervals are 2 s")
    if b.d.suspect("c", 6.0) is not False:
        raise ScenarioFailed("a node never heard from must not be suspected (no history to judge by)")


def _script_first_beat(b: _Beats) -> None:
    b.beats("a", [10.0])                     # one beat, no interval yet: nothing to judge by
    b.suspect("a", 12.0, False)
    b.phi("a", 12.0, 0.0, "with fewer than two heartbeats phi is 0")
    b.beats("a", [11.0, 12.0])
    b.suspect("a", 14.0, True)


def _script_pause(b: _Beats) -> None:
    # acceptable_pause=1.5: the expected interval is the mean plus the pause
    b.beats("a", [0.0, 1.0, 1.5, 2.5, 3.0, 4.0])
    mean, std = 0.8, math.sqrt(sum((x - 0.8) ** 2 for x in (1, .5, 1, .5, 1)) / 5)
    for elapsed in (1.0, 2.3, 3.0):
        b.phi("a", 4.0 + elapsed, _phi_expected(elapsed, mean + 1.5, std),
              f"mean {mean:g} s plus acceptable_pause=1.5 s, std {std:.4g} s")
    b.suspect("a", 4.0 + 3.0, False)
    b.suspect("a", 4.0 + 4.5, True)


#: The detector scripts: name -> (keywords besides ``threshold=8, window=100, min_std=0.1,
#: acceptable_pause=0``, the script).
DETECTOR_SCRIPTS: dict[str, tuple[dict, Callable[[_Beats], None]]] = {
    "phi_formula": ({}, _script_phi_formula), "min_std": ({}, _script_min_std),
    "window": ({}, _script_window), "per_node": ({}, _script_per_node),
    "first_beat": ({}, _script_first_beat), "acceptable_pause": ({"acceptable_pause": 1.5}, _script_pause),
}


def detector_script(cls: Any, seed: Any = 0, *, script: str) -> Any:
    """Run the named scripted check of :data:`DETECTOR_SCRIPTS` on a fresh detector (``seed`` unused)."""
    check_choice("script", script, list(DETECTOR_SCRIPTS))
    knobs, steps = DETECTOR_SCRIPTS[script]
    detector = _make(cls, "cls", **{**_DETECTOR, **knobs})
    _needs(detector, "cls()", ("heartbeat", "phi", "suspect"))
    steps(_Beats(detector, script))
    return detector


#: Named network settings for :func:`detector_targets`: the run's keywords, the detector's keywords
#: (besides the defaults), then the targets (most false suspicions of live nodes in the run, longest
#: mean detection time in seconds).
DETECTOR_SETTINGS: dict[str, tuple[dict, dict, float, float]] = {
    # a quiet LAN: heartbeats arrive like clockwork, so a crash can be seen within about a second
    "steady": (dict(latency=Uniform(0.005, 0.02)), {}, 0, 1.6),
    # the same LAN, heartbeats five times a second: the detector must learn the faster rhythm
    "fast": (dict(latency=Uniform(0.005, 0.02), interval=0.2), {}, 0, 1.0),
    # a busy network: long-tailed delays and 2% loss, where a short fixed timeout cries wolf;
    # one lost heartbeat is an acceptable pause
    "jittery": (dict(latency=LogNormal(0.05, 1.0), loss=0.02), {"acceptable_pause": 1.0}, 2, 4.0),
    # the network gets worse at 200 s: the detector must adapt to the new rhythm
    "degrading": (dict(phases=[(0.0, Uniform(0.005, 0.02)), (200.0, LogNormal(0.1, 1.0))],
                       loss=0.01), {"acceptable_pause": 1.0}, 2, 5.0),
}


def detector_targets(cls: Any, seed: Any, *, setting: str, nodes: int = 4,
                     duration: float = 400.0) -> Any:
    """Run ``cls(threshold=8, window=100, min_std=0.1, acceptable_pause=...)`` in the named setting;
    half the nodes crash.

    Checks: false suspicions of live nodes (after a 10 s warm-up) and the mean detection time of
    the crashes within the setting's targets.
    """
    check_choice("setting", setting, list(DETECTOR_SETTINGS))
    check_int("nodes", nodes, low=2)
    check_number("duration", duration, low=100.0, what="a number of seconds >= 100")
    options, knobs, max_fp, max_detection = DETECTOR_SETTINGS[setting]
    kwargs = {**_DETECTOR, **knobs}
    _needs(_make(cls, "cls", **kwargs), "cls()", ("heartbeat", "phi", "suspect"))
    rng = random.Random(f"{seed}/crashes")
    crashes = {f"n{i}": round(duration * (0.5 + 0.4 * rng.random()), 2)
               for i in range(1, nodes + 1) if i % 2 == 0}
    run = run_detector(lambda ids: cls(**kwargs), seed, nodes=nodes, crashes=crashes,
                       duration=duration, check_every=0.1, warmup=10.0, **options)
    fp = run.false_positives()
    if fp > max_fp:
        first = min((s, n) for n in run.watched for s, _ in run.episodes(n)
                    if run.warmup <= s < crashes.get(n, math.inf))
        raise ScenarioFailed(
            f"setting {setting!r}: {fp} false suspicions of live nodes in {duration:g} s (target <= "
            f"{max_fp}); the first: {first[1]} at {first[0]:.2f} s")
    times = run.detection_times()
    mean = sum(times) / len(times)
    if not mean <= max_detection:
        raise ScenarioFailed(
            f"setting {setting!r}: crashes were detected after {', '.join(f'{t:.2f}' for t in times)} s, "
            f"mean {mean:.2f} s (target <= {max_detection:g} s)")
    return run

