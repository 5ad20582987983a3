"""Chapter 06a's package: the dependency and its callers, the tutorials' ports, detection, SWIM, scenarios."""

from __future__ import annotations

import math
import random
from functools import partial

import matplotlib
import pytest

from course_lib.sim import Constant, Exponential, LogNormal
from course_lib.sim.errors import ScenarioFailed
from course_lib.topics.resilience import (Bimodal, Call, CircuitOpenError, FaradayRetry,
                                          MissedBeatsDetector, Pool, PythonCircuitBreaker,
                                          RubyCircuitBreaker, TimeoutDetector, World, percentile,
                                          plot_breaker, plot_detection, plot_overload, plot_tradeoff,
                                          run_detector, run_service, run_swim, tradeoff)
from course_lib.topics.resilience import scenarios

matplotlib.use("Agg")

OVERLOAD = scenarios.OVERLOAD


def test_same_seed_same_run_and_another_seed_another():
    """A run is a function of its seed: the same seed gives the same calls, another seed other ones."""
    def outcome(seed):
        run = run_service(seed, duration=10, rate=60, failure_rate=0.2,
                          policy=partial(FaradayRetry, interval=0.05))
        return [(c.start, c.end, c.outcome, c.attempts) for c in run.calls]
    assert outcome(3) == outcome(3)
    assert outcome(3) != outcome(4)


def test_dependency_below_capacity_serves_everything_and_above_it_queues():
    """Below its capacity a dependency answers every call quickly; at twice its capacity latency explodes."""
    calm = run_service(1, duration=20, rate=50)
    assert calm.success_ratio() == 1.0 and calm.percentile(99) < 0.3
    jammed = run_service(1, duration=8, rate=200, timeout=30)
    assert jammed.percentile(50, start=5) > 2.0  # the queue grows by ~100 calls each second


def test_bounded_queue_rejects_and_admission_limits():
    """A full queue rejects at once; an admission limit caps the calls in the system."""
    run = run_service(1, duration=10, rate=300, queue=5)
    assert len(run.meter.rejected) > 0
    assert {c.outcome for c in run.calls} == {"ok", "rejected"}
    assert run.percentile(99) < 0.5  # nobody waits behind more than 5 calls
    limited = run_service(1, duration=10, rate=300, admission=4)
    assert max(n for _, n in limited.meter.queue_lengths) <= 2


def test_drop_expired_skips_calls_nobody_waits_for():
    """With a deadline on each call, a dependency that drops expired calls does no wasted work."""
    spike = dict(duration=30, rate=[(0, 60), (10, 250), (14, 60)], deadline=0.5, timeout=0.5)
    naive = run_service(2, **spike)
    aware = run_service(2, drop_expired=True, **spike)
    assert naive.meter.wasted() > 100 and aware.meter.wasted() < naive.meter.wasted() / 5
    assert len(aware.meter.expired) > 100
    assert aware.success_ratio(16, 30) > naive.success_ratio(16, 30)


def test_relay_propagates_deadlines_down_a_chain():
    """Through a relay that passes the deadline on, the backend drops expired calls and recovers;
    through one that does not, it works for users who left and falls behind."""
    def chain(propagate):
        world = World(2)
        world.dependency("backend", drop_expired=True)
        world.relay("frontend", target="backend", timeout=2.0, propagate=propagate)
        world.callers("user", target="frontend", rate=[(0, 60), (5, 250), (8, 60)], timeout=0.5,
                      deadline=0.5, stop=20)
        return world.run(until=22)
    blind, aware = chain(False), chain(True)
    assert blind.meters["backend"].expired == [] and blind.meters["backend"].wasted() > 200
    assert len(aware.meters["backend"].expired) > 100
    assert aware.meters["backend"].wasted() < blind.meters["backend"].wasted() / 4
    assert aware.success_ratio(12, 20) > 0.95 > blind.success_ratio(12, 20)


def test_faraday_retry_is_the_tutorials_configuration():
    """0.5, 1 and 2 s between three retries, GET and POST alike, on 500/503 and timeouts; never more."""
    policy = FaradayRetry()
    rng = random.Random(0)
    for method in ("get", "post"):
        call = Call(0, "c", 0.0, method)
        delays = []
        for attempt in range(1, 5):
            call.attempts = attempt
            delays.append(policy.retry_delay(call, "timeout", 0.0, rng))
        assert delays == [0.5, 1.0, 2.0, None]
    call = Call(1, "c", 0.0, "delete")
    call.attempts = 1
    assert policy.retry_delay(call, "error", 0.0, rng) is None
    assert FaradayRetry(retry_statuses=[500]).retry_delay(Call(2, "c", 0.0), "rejected", 0.0, rng) is None
    jittered = FaradayRetry(interval_randomness=0.5)
    first = Call(3, "c", 0.0)
    first.attempts = 1
    assert 0.5 <= jittered.retry_delay(first, "error", 0.0, rng) <= 0.75


def test_naive_retries_turn_a_short_slowdown_into_a_metastable_failure():
    """The 4 s slowdown ends at 24 s; with Faraday's retries the dependency is still drowning at 50 s,
    without retries, or with a retry budget, it recovers."""
    faraday = run_service(1, duration=50, policy=partial(FaradayRetry, interval=0.1), **OVERLOAD)
    plain = run_service(1, duration=50, **OVERLOAD)
    budget = run_service(1, duration=50, policy=partial(FaradayRetry, interval=0.1), retry_budget=0.1,
                         **OVERLOAD)
    assert faraday.success_ratio(40, 50) < 0.05 and faraday.load(40, 50) > 200
    assert plain.success_ratio(40, 50) > 0.99
    assert budget.success_ratio(40, 50) > 0.99


def test_python_breaker_closes_on_first_half_open_success_and_on_a_late_success():
    """The Python tutorial's breaker closes on one success, even one that arrives while it is open."""
    b = PythonCircuitBreaker(failure_threshold=2, timeout=5)
    for t in (0, 1):
        b.on_failure(t)
    assert b.state == "open" and not b.allow(2)
    b.on_success(3)  # an answer to a call made before it opened
    assert b.state == "closed"
    for t in (4, 5):
        b.on_failure(t)
    assert b.allow(11) and b.state == "half_open" and b.allow(11.1)  # no limit on probes
    b.on_success(12)
    assert b.state == "closed"


def test_ruby_breaker_needs_three_half_open_successes_but_lets_everyone_through():
    """The Ruby breaker waits for half_open_requests successes, meanwhile letting every call through."""
    b = RubyCircuitBreaker(threshold=2, timeout=5, half_open_requests=3)
    b.on_failure(0)
    b.on_failure(1)
    assert b.state == "open" and not b.allow(5.5)
    assert all(b.allow(6.1 + i / 10) for i in range(5))
    b.on_success(7)
    b.on_success(7)
    assert b.state == "half_open"
    b.on_success(7)
    assert b.state == "closed"
    with pytest.raises(CircuitOpenError):
        b.transition_to_open()
        b.last_failure_time = 7
        b.call(lambda: 1, now=8)
    assert b.call(lambda: 1, now=13) == 1 and b.state == "half_open"


def test_python_breaker_flaps_against_a_partly_failing_dependency():
    """Against a dependency failing 60% of the time, the Python breaker flaps between open and closed."""
    health = [(10.0, {"failure_rate": 0.6}), (40.0, {"failure_rate": 0.0})]
    run = run_service(1, duration=50, health=health, breaker=partial(PythonCircuitBreaker, timeout=2.0))
    changes = run.breaker_states["client"]
    closings = [t for t, s in changes if s == "closed" and 10 < t < 40]
    assert len(closings) >= 5


def test_missed_beats_detector_counts_checks_not_time():
    """The tutorial's detector: each check adds a miss to every node; a heartbeat clears one node."""
    d = MissedBeatsDetector(["a", "b"], threshold=3)
    for t in (1, 2):
        d.tick(t)
    d.heartbeat("a", 2.5)
    d.tick(3)
    assert not d.suspect("a", 3) and d.suspect("b", 3)
    assert d.reports == [(3, "b")]


def test_timeout_detector_trades_false_positives_for_detection_time():
    """A short timeout detects a crash fast and suspects live nodes under jitter; a long one the reverse."""
    settings = dict(crashes={"n1": 150.0}, duration=300, latency=LogNormal(0.05, 1.5), loss=0.05)
    rows = tradeoff(lambda k: TimeoutDetector(k), [1.5, 4.0], range(2), **settings)
    short, long = rows
    assert short["false positives per hour"] > 10 * max(long["false positives per hour"], 1)
    assert short["detection"] < long["detection"]
    run = run_detector(TimeoutDetector(3.0), 1, crashes={"n1": 100.0}, duration=200)
    assert 2.0 <= run.detection_time("n1") <= 3.2 and run.false_positives() == 0
    assert math.isnan(run.detection_time("n2"))


def test_swim_indirect_probes_and_suspicion_avoid_false_deaths():
    """With 5% loss, direct pings alone declare live members dead; indirect probes and suspicion do not."""
    direct = run_swim(1, k=0, loss=0.05, crashes={"m1": 30.0}, duration=60)
    indirect = run_swim(1, k=3, suspicion=2, loss=0.05, crashes={"m1": 30.0}, duration=60)
    assert direct.false_deaths() > 10
    assert indirect.false_deaths() == 0 and indirect.detection_time("m1") < 6


def test_bulkhead_pool_keeps_a_slow_dependency_from_starving_another():
    """A slow dependency holds a shared pool's slots; separate pools keep the healthy one served."""
    def run(shared):
        world = World(5)
        world.dependency("a")
        world.dependency("b", health=[(5.0, {"slowdown": 50.0})])
        common = Pool(20)
        pools = (common, common) if shared else (Pool(10), Pool(10))
        world.callers("to_a", target="a", rate=30, pool=pools[0], stop=20)
        world.callers("to_b", target="b", rate=30, pool=pools[1], stop=20)
        return world.run(until=22)
    assert run(True).success_ratio(10, 20, caller="to_a") < 0.7
    assert run(False).success_ratio(10, 20, caller="to_a") > 0.99


def test_hedging_cuts_the_tail_for_a_little_extra_load():
    """Hedging after the p95 cuts p99 latency of a bimodal service for a few percent more attempts."""
    def run(hedge):
        world = World(2)
        for r in ("r1", "r2", "r3"):
            world.dependency(r, workers=8, service_time=Bimodal(Exponential(0.01), Constant(0.3), 0.02))
        world.callers("c", target=["r1", "r2", "r3"], rate=100, stop=30, hedge_after=hedge)
        return world.run(until=32)
    plain, hedged = run(None), run(0.05)
    assert hedged.percentile(99) < plain.percentile(99) / 2
    extra = sum(len(m.arrivals) for m in hedged.meters.values()) / len(hedged.calls) - 1
    assert 0 < extra < 0.1


def test_percentile_is_nearest_rank():
    """Percentiles are nearest-rank values of the sorted sample, NaN for no sample."""
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile([1, 2, 3, 4], 100) == 4
    assert math.isnan(percentile([], 99))


# -- the scenarios reject the naive versions (so they can fail) ---------------------------------------

class _Adapted:
    """A tutorial breaker behind the exercise's constructor."""

    def __init__(self, make, failure_threshold, reset_timeout, half_open_max, success_threshold):
        self.b = make(failure_threshold, reset_timeout)

    def allow(self, now):
        return self.b.allow(now)

    def on_success(self, now):
        self.b.on_success(now)

    def on_failure(self, now):
        self.b.on_failure(now)

    @property
    def state(self):
        return self.b.state


@pytest.mark.parametrize("make, script", [(PythonCircuitBreaker, "closes_after_successes"),
                                          (PythonCircuitBreaker, "half_open_limits_probes"),
                                          (RubyCircuitBreaker, "concurrent_probes")])
def test_breaker_scripts_reject_the_tutorials_breakers(make, script):
    """Each tutorial breaker fails the scripts that describe its flaw."""
    with pytest.raises(ScenarioFailed, match=script):
        scenarios.breaker_script(partial(_Adapted, make), script=script)


def test_breaker_protects_rejects_the_ruby_breaker_reopening_half_open_floods():
    """The Ruby breaker, letting every call through in half-open, floods the failing dependency."""
    with pytest.raises(ScenarioFailed, match="reached the failing dependency"):
        scenarios.breaker_protects(partial(_Adapted, partial(RubyCircuitBreaker)), 0,
                                   failure_rate=1.0, slowdown=20.0)


class _Faraday(FaradayRetry):
    def __init__(self, base, cap, max_attempts, budget_ratio, max_tokens):
        super().__init__(max=max_attempts - 1, interval=base)


@pytest.mark.parametrize("script", ["jitter", "budget", "idempotency"])
def test_retry_scripts_reject_faraday(script):
    """Faraday's retries have no jitter, no budget and retry POSTs."""
    with pytest.raises(ScenarioFailed):
        scenarios.retry_script(_Faraday, script=script)


class _Timeout(TimeoutDetector):
    def __init__(self, threshold, window, min_std, acceptable_pause):
        super().__init__(1.5 + acceptable_pause)

    def phi(self, node, now):
        return 0.0


@pytest.mark.parametrize("script", ["phi_formula", "first_beat"])
def test_detector_scripts_reject_a_fixed_timeout(script):
    """A fixed timeout has no phi to speak of and suspects a node after a single heartbeat."""
    with pytest.raises(ScenarioFailed):
        scenarios.detector_script(_Timeout, script=script)


def test_detector_targets_reject_a_fixed_timeout_when_the_rhythm_changes():
    """A fixed timeout fit for one heartbeat a second is slow for five a second."""
    scenarios.detector_targets(_Timeout, 0, setting="steady")
    with pytest.raises(ScenarioFailed, match="detected after"):
        scenarios.detector_targets(_Timeout, 0, setting="fast")


def test_pictures_draw():
    """Each picture draws its run and returns the axes."""
    run = run_service(1, duration=12, health=[(3.0, {"failure_rate": 1.0}), (6.0, {"failure_rate": 0.0})],
                      breaker=partial(PythonCircuitBreaker, timeout=2.0))
    assert plot_overload(run).get_xlabel() == "time (s)"
    assert plot_breaker(run).get_xlabel() == "time (s)"
    det = run_detector(TimeoutDetector(2.0), 1, crashes={"n1": 50.0}, duration=60)
    assert plot_detection(det, "n1").get_xlabel() == "time (s)"
    rows = tradeoff(lambda k: TimeoutDetector(k), [2.0, 3.0], [0], crashes={"n1": 50.0}, duration=60)
    assert plot_tradeoff({"timeout": rows}).get_yscale() == "log"
    import matplotlib.pyplot as plt
    plt.close("all")
