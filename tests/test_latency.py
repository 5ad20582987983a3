"""Tests of course_lib.sim.latency: the latency models and their parameter checks."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from course_lib.sim import Constant, Exponential, HandlerError, LogNormal, Node, Simulation, Uniform
from course_lib.sim.latency import as_latency

N = 4000


def draws(model, n=N, seed=0):
    rng = random.Random(seed)
    return [model(rng, "a", "b") for _ in range(n)]


def test_constant_always_returns_its_delay():
    """Constant(d) returns d for every draw and draws nothing from the generator."""
    rng = random.Random(0)
    state = rng.getstate()
    assert {Constant(2.5)(rng, "a", "b") for _ in range(10)} == {2.5}
    assert rng.getstate() == state


def test_uniform_stays_in_range_and_has_the_midpoint_mean():
    """Uniform(low, high) draws within [low, high] with mean (low + high) / 2."""
    xs = draws(Uniform(1, 3))
    assert min(xs) >= 1 and max(xs) <= 3
    assert min(xs) < 1.05 and max(xs) > 2.95  # it covers the range
    assert statistics.fmean(xs) == pytest.approx(2.0, abs=0.05)


def test_uniform_with_equal_bounds_is_constant():
    """Uniform(x, x) always returns x."""
    assert set(draws(Uniform(2, 2), n=20)) == {2.0}


def test_exponential_has_its_minimum_and_mean():
    """Exponential(mean, minimum) never goes below minimum and averages minimum + mean."""
    xs = draws(Exponential(mean=2.0, minimum=0.5))
    assert min(xs) >= 0.5
    assert statistics.fmean(xs) == pytest.approx(2.5, rel=0.05)
    assert max(xs) > 0.5 + 4 * 2.0  # a real tail


def test_lognormal_has_its_median_and_a_long_tail():
    """LogNormal(median, sigma) is positive, has the given median and a mean above it."""
    xs = draws(LogNormal(median=5.0, sigma=0.5))
    assert min(xs) > 0
    assert statistics.median(xs) == pytest.approx(5.0, rel=0.05)
    assert statistics.fmean(xs) == pytest.approx(5.0 * math.exp(0.5 ** 2 / 2), rel=0.05)


def test_lognormal_with_zero_sigma_is_its_median():
    """LogNormal(median, sigma=0) always returns the median."""
    assert draws(LogNormal(3.0, sigma=0), n=10) == pytest.approx([3.0] * 10)


@pytest.mark.parametrize("model", [Uniform(0, 10), Exponential(3), LogNormal(2)])
def test_same_seed_same_draws(model):
    """A model draws only from the generator it is given: same seed, same delays."""
    assert draws(model, n=50, seed=7) == draws(model, n=50, seed=7)
    assert draws(model, n=50, seed=7) != draws(model, n=50, seed=8)


@pytest.mark.parametrize("make, name, value", [
    (lambda: Constant(-1), "delay", -1),
    (lambda: Constant(math.inf), "delay", math.inf),
    (lambda: Constant(math.nan), "delay", math.nan),
    (lambda: Uniform(-1, 2), "low", -1),
    (lambda: Uniform(1, math.inf), "high", math.inf),
    (lambda: Uniform(3, 1), "high", 1),
    (lambda: Exponential(-2), "mean", -2),
    (lambda: Exponential(0), "mean", 0),
    (lambda: Exponential(1, minimum=-1), "minimum", -1),
    (lambda: LogNormal(0), "median", 0),
    (lambda: LogNormal(-1), "median", -1),
    (lambda: LogNormal(1, sigma=-0.5), "sigma", -0.5),
    (lambda: as_latency(-3), "latency", -3),
])
def test_bad_parameter_is_a_value_error_naming_it(make, name, value):
    """An out-of-range parameter is a ValueError showing name=value."""
    with pytest.raises(ValueError) as info:
        make()
    assert f"{name}={value!r}" in str(info.value)


@pytest.mark.parametrize("make, name", [
    (lambda: Constant("1"), "delay"),
    (lambda: Constant(True), "delay"),
    (lambda: Uniform(None, 2), "low"),
    (lambda: Exponential("fast"), "mean"),
    (lambda: LogNormal([1]), "median"),
    (lambda: as_latency("1.0"), "latency"),
    (lambda: as_latency(True), "latency"),
])
def test_parameter_of_wrong_type_is_a_type_error_naming_it(make, name):
    """A parameter that is not a number is a TypeError naming it."""
    with pytest.raises(TypeError, match=f"{name}="):
        make()


def test_as_latency_turns_numbers_into_constants_and_keeps_callables():
    """A number becomes Constant(number); a callable model is used as it is."""
    model = as_latency(2)
    assert isinstance(model, Constant) and model.delay == 2.0

    def custom(rng, src, dst):
        return 1.0

    assert as_latency(custom) is custom


def test_repr_shows_the_parameters():
    """Each model's repr shows its parameters, so a trace or error message can say which model."""
    assert repr(Constant(1)) == "Constant(1.0)"
    assert repr(Uniform(1, 2)) == "Uniform(1.0, 2.0)"
    assert repr(Exponential(2, minimum=1)) == "Exponential(mean=2.0, minimum=1.0)"
    assert repr(LogNormal(3, sigma=0.25)) == "LogNormal(median=3.0, sigma=0.25)"


class Sender(Node):
    def __init__(self) -> None:
        self.got = []

    def on_start(self) -> None:
        if self.id == "a":
            self.send("b", "ping")
            self.send("c", "ping")

    def on_ping(self, msg) -> None:
        self.got.append(self.sim.now)


def test_callable_model_gets_rng_src_dst_and_sets_the_delay():
    """A callable latency model is called with (rng, src, dst) and its result is the delay."""
    calls = []

    def by_destination(rng, src, dst):
        calls.append((type(rng), src, dst))
        return {"b": 1.5, "c": 4.0}[dst]

    sim = Simulation(seed=1, latency=by_destination)
    a, b, c = sim.add_nodes(Sender, ["a", "b", "c"])
    sim.run(until=10)
    assert calls == [(random.Random, "a", "b"), (random.Random, "a", "c")]
    assert (b.got, c.got) == ([1.5], [4.0])


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_callable_returning_a_bad_delay_is_a_clear_value_error_at_send(bad):
    """A model returning a negative or non-finite delay fails the send with a ValueError showing the value."""
    sim = Simulation(seed=1, latency=lambda rng, s, d: bad)
    a, b, c = sim.add_nodes(Sender, ["a", "b", "c"])
    with pytest.raises(HandlerError) as info:
        sim.run(until=10)
    cause = info.value.__cause__
    assert isinstance(cause, ValueError)
    assert repr(bad) in str(cause) and "'a'->'b'" in str(cause)
    assert sim.now == 0  # at send time, not on arrival


def test_bad_delay_from_outside_a_handler_is_a_plain_value_error():
    """A bad delay on a send scheduled with sim.at raises the ValueError itself."""
    sim = Simulation(seed=1, latency=lambda rng, s, d: -2)
    a, b = sim.add_nodes(Node, ["a", "b"])
    sim.at(1, a.send, "b", "ping")
    with pytest.raises(ValueError, match=r"returned -2"):
        sim.run(until=10)
