"""Bad input to chapter 06a's package (course_lib.topics.resilience): every row a named error.

Each ``ERRORS`` row is (label, call, exception type, pattern): the call raises that exception and
its message matches the pattern, which names the parameter and shows its value.
"""

from __future__ import annotations

import math

import pytest

from course_lib.sim import HandlerError, Simulation
from course_lib.topics import resilience as r
from course_lib.topics.resilience import scenarios

from bad_input_support import assert_named_error

NAN, INF = math.nan, math.inf


def world_with_dep():
    world = r.World(0)
    world.dependency("dep")
    return world


def dep(**options):
    sim = Simulation(seed=0)
    return sim.add_node(r.Dependency, "dep", r.DependencyMeter(), **options)


ERRORS = [
    # the dependency
    ("Dependency meter not a meter", lambda: Simulation(seed=0).add_node(r.Dependency, "d", {}), TypeError,
     r"meter=\{\}"),
    ("Dependency workers 0", lambda: dep(workers=0), ValueError, r"workers=0"),
    ("Dependency queue -1", lambda: dep(queue=-1), ValueError, r"queue=-1"),
    ("Dependency admission 0", lambda: dep(admission=0), ValueError, r"admission=0"),
    ("Dependency failure_rate 2", lambda: dep(failure_rate=2), ValueError, r"failure_rate=2"),
    ("Dependency slowdown 0", lambda: dep(slowdown=0), ValueError, r"slowdown=0"),
    ("Dependency drop_expired str", lambda: dep(drop_expired="yes"), TypeError, r"drop_expired='yes'"),
    ("Dependency service_time str", lambda: dep(service_time="fast"), TypeError, r"service_time='fast'"),
    ("set_health failure_rate nan", lambda: dep().set_health(failure_rate=NAN), ValueError,
     r"failure_rate=nan"),
    ("Bimodal p_slow 1.5", lambda: r.Bimodal(0.01, 0.3, 1.5), ValueError, r"p_slow=1.5"),
    ("Bimodal fast str", lambda: r.Bimodal("x", 0.3, 0.1), TypeError, r"fast='x'"),
    # the world and run_service
    ("World.dependency health a dict", lambda: r.World(0).dependency("d", health={1: 2}), TypeError,
     r"health=\{1: 2\}"),
    ("World.dependency health unknown key", lambda: r.World(0).dependency("d", health=[(1.0, {"speed": 2})]),
     ValueError, r"health\[0\].*'speed'"),
    ("World.dependency health time nan", lambda: r.World(0).dependency("d", health=[(NAN, {})]), ValueError,
     r"health\[0\] time=nan"),
    ("World.callers unknown target", lambda: world_with_dep().callers("c", target="db"), ValueError,
     r"target='db'"),
    ("World.callers count 0", lambda: world_with_dep().callers("c", target="dep", count=0), ValueError,
     r"count=0"),
    ("World.callers rate -1", lambda: world_with_dep().callers("c", target="dep", rate=-1), ValueError,
     r"rate=-1"),
    ("World.callers rate a str", lambda: world_with_dep().callers("c", target="dep", rate="fast"), TypeError,
     r"rate='fast'"),
    ("World.callers rate step not a pair", lambda: world_with_dep().callers("c", target="dep", rate=[5]),
     TypeError, r"rate\[0\]=5"),
    ("World.callers rate empty", lambda: world_with_dep().callers("c", target="dep", rate=[]), ValueError,
     r"rate=\[\]"),
    ("World.callers timeout 0", lambda: world_with_dep().callers("c", target="dep", timeout=0), ValueError,
     r"timeout=0"),
    ("World.callers policy an int", lambda: world_with_dep().callers("c", target="dep", policy=3), TypeError,
     r"policy=3"),
    ("World.callers breaker a str", lambda: world_with_dep().callers("c", target="dep", breaker="on"),
     TypeError, r"breaker='on'"),
    ("World.callers pool an int", lambda: world_with_dep().callers("c", target="dep", pool=5), TypeError,
     r"pool=5"),
    ("World.callers post_fraction 2", lambda: world_with_dep().callers("c", target="dep", post_fraction=2),
     ValueError, r"post_fraction=2"),
    ("World.callers keyed a str", lambda: world_with_dep().callers("c", target="dep", keyed="y"), TypeError,
     r"keyed='y'"),
    ("World.callers stop before start", lambda: world_with_dep().callers("c", target="dep", start=5, stop=1),
     ValueError, r"stop=1"),
    ("World.callers deadline 0", lambda: world_with_dep().callers("c", target="dep", deadline=0), ValueError,
     r"deadline=0"),
    ("World.callers hedge_after -1", lambda: world_with_dep().callers("c", target="dep", hedge_after=-1),
     ValueError, r"hedge_after=-1"),
    ("World.callers retry_budget 2", lambda: world_with_dep().callers("c", target="dep", retry_budget=2),
     ValueError, r"retry_budget=2"),
    ("World.run until in the past", lambda: world_with_dep().run(until=-1), ValueError, r"until=-1"),
    ("Pool size 0", lambda: r.Pool(0), ValueError, r"size=0"),
    ("World.relay unknown target", lambda: world_with_dep().relay("f", target="db"), ValueError,
     r"target='db'"),
    ("World.relay timeout 0", lambda: world_with_dep().relay("f", target="dep", timeout=0), ValueError,
     r"timeout=0"),
    ("World.relay propagate a str", lambda: world_with_dep().relay("f", target="dep", propagate="y"),
     TypeError, r"propagate='y'"),
    ("run_service callers 0", lambda: r.run_service(0, callers=0), ValueError, r"callers=0"),
    ("run_service duration 0", lambda: r.run_service(0, duration=0), ValueError, r"duration=0"),
    ("run_service settle -1", lambda: r.run_service(0, settle=-1), ValueError, r"settle=-1"),
    ("ServiceRun percentile 101", lambda: r.run_service(0, duration=1).percentile(101), ValueError, r"q=101"),
    ("ServiceRun goodput empty window", lambda: r.run_service(0, duration=1).goodput(5, 5), ValueError,
     r"end=5"),
    ("ServiceRun success_ratio start nan", lambda: r.run_service(0, duration=1).success_ratio(NAN), ValueError,
     r"start=nan"),
    ("ServiceRun success_ratio unknown caller", lambda: r.run_service(0, duration=1).success_ratio(caller="x"),
     ValueError, r"caller='x'"),
    ("ServiceRun load unknown dependency", lambda: r.run_service(0, duration=1).load(dependency="db"),
     ValueError, r"dependency='db'"),
    ("ServiceRun goodput within 0", lambda: r.run_service(0, duration=1).goodput(within=0), ValueError,
     r"within=0"),
    ("ServiceRun finished end before start", lambda: r.run_service(0, duration=1).finished(5, 2), ValueError,
     r"end=2"),
    ("ServiceRun series bin 0", lambda: r.run_service(0, duration=1).series(0), ValueError, r"bin=0"),
    ("Caller retry_delay returns a str",
     lambda: r.run_service(0, duration=2, failure_rate=1.0, policy=_BadPolicy), HandlerError,
     r"node 'client' raised InvalidArgumentType: retry_delay\(\.\.\.\)='soon'"),
    # the tutorials' ports
    ("MissedBeatsDetector threshold 0", lambda: r.MissedBeatsDetector(["a"], threshold=0), ValueError,
     r"threshold=0"),
    ("TimeoutDetector timeout 0", lambda: r.TimeoutDetector(0), ValueError, r"timeout=0"),
    ("RubyCircuitBreaker threshold 0", lambda: r.RubyCircuitBreaker(threshold=0), ValueError, r"threshold=0"),
    ("RubyCircuitBreaker half_open_requests 0", lambda: r.RubyCircuitBreaker(half_open_requests=0),
     ValueError, r"half_open_requests=0"),
    ("PythonCircuitBreaker timeout -1", lambda: r.PythonCircuitBreaker(timeout=-1), ValueError, r"timeout=-1"),
    ("FaradayRetry max -1", lambda: r.FaradayRetry(max=-1), ValueError, r"max=-1"),
    ("FaradayRetry backoff_factor 0.5", lambda: r.FaradayRetry(backoff_factor=0.5), ValueError,
     r"backoff_factor=0.5"),
    ("FaradayRetry methods a str", lambda: r.FaradayRetry(methods="get"), TypeError, r"methods='get'"),
    ("FaradayRetry interval_randomness 2", lambda: r.FaradayRetry(interval_randomness=2), ValueError,
     r"interval_randomness=2"),
    # detection and SWIM
    ("run_detector nodes 0", lambda: r.run_detector(r.TimeoutDetector(1), 0, nodes=0), ValueError, r"nodes=0"),
    ("run_detector interval 0", lambda: r.run_detector(r.TimeoutDetector(1), 0, interval=0), ValueError,
     r"interval=0"),
    ("run_detector loss 2", lambda: r.run_detector(r.TimeoutDetector(1), 0, loss=2), ValueError, r"loss=2"),
    ("run_detector crashes unknown node", lambda: r.run_detector(r.TimeoutDetector(1), 0, crashes={"x": 1}),
     ValueError, r"'x'"),
    ("run_detector crashes a list", lambda: r.run_detector(r.TimeoutDetector(1), 0, crashes=["n1"]), TypeError,
     r"crashes=\['n1'\]"),
    ("run_detector crash after the end", lambda: r.run_detector(r.TimeoutDetector(1), 0, duration=10,
                                                                crashes={"n1": 20}), ValueError,
     r"crashes\['n1'\]=20"),
    ("run_detector detector without suspect", lambda: r.run_detector(object(), 0), TypeError, r"detector="),
    ("run_detector check_every 0", lambda: r.run_detector(r.TimeoutDetector(1), 0, check_every=0), ValueError,
     r"check_every=0"),
    ("run_detector suspect returns None", lambda: r.run_detector(_NoneDetector(), 0, duration=5),
     HandlerError, r"suspect\('n1', 0.1\) returned None"),
    ("Phases empty", lambda: r.Phases(Simulation(seed=0), []), ValueError, r"phases=\[\]"),
    ("Phases row not a pair", lambda: r.Phases(Simulation(seed=0), [1]), TypeError, r"phases\[0\]=1"),
    ("run_swim members 1", lambda: r.run_swim(0, members=1), ValueError, r"members=1"),
    ("run_swim ack_timeout above period", lambda: r.run_swim(0, ack_timeout=2.0), ValueError,
     r"ack_timeout=2.0"),
    ("run_swim k -1", lambda: r.run_swim(0, k=-1), ValueError, r"k=-1"),
    ("run_swim crashes unknown", lambda: r.run_swim(0, crashes={"n1": 3}), ValueError, r"'n1'"),
    ("tradeoff nodes 0", lambda: r.tradeoff(r.TimeoutDetector, [1.0], [0], nodes=0), ValueError,
     r"nodes=0"),
    ("tradeoff make not callable", lambda: r.tradeoff(3, [1.0], [0]), TypeError, r"make=3"),
    ("tradeoff knobs empty", lambda: r.tradeoff(r.TimeoutDetector, [], [0]), ValueError, r"knobs=\[\]"),
    ("tradeoff seeds a str", lambda: r.tradeoff(r.TimeoutDetector, [1.0], "0"), TypeError, r"seeds='0'"),
    # pictures
    ("plot_overload not a run", lambda: r.plot_overload("run"), TypeError, r"run='run'"),
    ("plot_breaker without breaker", lambda: r.plot_breaker(r.run_service(0, duration=1)), ValueError,
     r"no breaker"),
    ("plot_detection unknown node", lambda: r.plot_detection(r.run_detector(r.TimeoutDetector(1), 0,
                                                                            duration=5), "x"),
     ValueError, r"node='x'"),
    ("plot_tradeoff empty", lambda: r.plot_tradeoff({}), TypeError, r"curves=\{\}"),
    # scenarios
    ("breaker_script unknown script", lambda: scenarios.breaker_script(object, script="nope"), ValueError,
     r"script='nope'"),
    ("breaker_script cls not callable", lambda: scenarios.breaker_script(5, script="opens_after_threshold"),
     TypeError, r"cls=5"),
    ("breaker_script object lacks allow", lambda: scenarios.breaker_script(_Empty, script="opens_after_threshold"),
     TypeError, r"no allow\(\)"),
    ("breaker_protects outage not a pair", lambda: scenarios.breaker_protects(object, 0, outage=5), TypeError,
     r"outage=5"),
    ("breaker_protects outage too short", lambda: scenarios.breaker_protects(object, 0, outage=(20.0, 21.0)),
     ValueError, r"outage end=21.0"),
    ("breaker_protects half_open_max 0", lambda: scenarios.breaker_protects(object, 0, half_open_max=0),
     ValueError, r"half_open_max=0"),
    ("retry_goodput recover_by after the end", lambda: scenarios.retry_goodput(object, 0, recover_by=60),
     ValueError, r"recover_by=60"),
    ("retry_goodput target 2", lambda: scenarios.retry_goodput(object, 0, target=2), ValueError, r"target=2"),
    ("detector_targets nodes 1", lambda: scenarios.detector_targets(object, 0, setting="steady", nodes=1),
     ValueError, r"nodes=1"),
    ("retry_script unknown script", lambda: scenarios.retry_script(object, script="x"), ValueError, r"script='x'"),
    ("detector_script unknown script", lambda: scenarios.detector_script(object, script="x"), ValueError,
     r"script='x'"),
    ("detector_targets unknown setting", lambda: scenarios.detector_targets(object, 0, setting="lan"),
     ValueError, r"setting='lan'"),
]


class _BadPolicy:
    def on_request(self, call, now):
        pass

    def retry_delay(self, call, outcome, now, rng):
        return "soon"


class _NoneDetector:
    def heartbeat(self, node, now):
        pass

    def suspect(self, node, now):
        return None


class _Empty:
    def __init__(self, **kwargs):
        pass


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the stated error naming the parameter and its value."""
    assert_named_error(call, error, pattern)
