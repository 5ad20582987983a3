"""Tests of course_lib.sim.clock: drifting, offset, jumping physical clocks and timers on them."""

from __future__ import annotations

import math

import pytest

from course_lib.sim import Node, PhysicalClock, Simulation


class TrueTime:
    """A settable stand-in for the simulation's true time."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_perfect_clock_reads_true_time():
    """With no offset, drift or jump a clock shows the true time."""
    t = TrueTime(3.0)
    clock = PhysicalClock(t)
    assert clock.now() == 3.0
    t.t = 7.5
    assert clock.now() == 7.5


def test_offset_is_a_constant_error():
    """An offset shifts every reading by the same amount."""
    t = TrueTime(0.0)
    clock = PhysicalClock(t, offset=-2.0)
    readings = []
    for now in (0.0, 5.0, 100.0):
        t.t = now
        readings.append(clock.now() - now)
    assert readings == [-2.0, -2.0, -2.0]


def test_drift_is_a_rate_error():
    """With drift d the clock advances (1 + d) per unit of true time."""
    t = TrueTime(0.0)
    clock = PhysicalClock(t, offset=1.0, drift=0.01)
    t.t = 100.0
    assert clock.now() == pytest.approx(1.0 + 101.0)
    slow = PhysicalClock(t, drift=-0.2)
    assert slow.now() == pytest.approx(80.0)


def test_jump_steps_the_reading_forwards_and_backwards():
    """jump(delta) adds delta to every later reading; jumps accumulate and may go back."""
    t = TrueTime(10.0)
    clock = PhysicalClock(t)
    clock.jump(5.0)
    assert clock.now() == 15.0
    clock.jump(-8.0)
    assert clock.now() == 7.0
    t.t = 11.0
    assert clock.now() == 8.0
    assert clock.jumped == -3.0


def test_set_drift_keeps_the_reading_continuous_and_changes_the_rate():
    """set_drift changes the rate from now on without a step in the reading."""
    t = TrueTime(0.0)
    clock = PhysicalClock(t, offset=2.0, drift=0.1)
    clock.jump(1.0)
    t.t = 50.0
    before = clock.now()
    clock.set_drift(-0.1)
    assert clock.now() == pytest.approx(before)
    t.t = 60.0
    assert clock.now() == pytest.approx(before + 0.9 * 10.0)
    assert clock.drift == -0.1


def test_true_duration_inverts_the_rate():
    """A fast clock covers a local duration in less true time, a slow one in more."""
    t = TrueTime()
    assert PhysicalClock(t, drift=0.1).true_duration(11.0) == pytest.approx(10.0)
    assert PhysicalClock(t, drift=-0.5 + 1e-9).true_duration(1.0) == pytest.approx(2.0)
    assert PhysicalClock(t).true_duration(0) == 0


@pytest.mark.parametrize("kwargs, name", [
    ({"offset": math.inf}, "offset"),
    ({"offset": math.nan}, "offset"),
    ({"offset": "1"}, "offset"),
    ({"offset": True}, "offset"),
    ({"drift": 0.5}, "drift"),
    ({"drift": -0.5}, "drift"),
    ({"drift": 2}, "drift"),
    ({"drift": math.nan}, "drift"),
    ({"drift": None}, "drift"),
])
def test_bad_construction_values_raise_naming_the_parameter(kwargs, name):
    """An offset that is not finite or a drift outside (-0.5, 0.5) is a ValueError showing name=value."""
    with pytest.raises(ValueError) as info:
        PhysicalClock(TrueTime(), **kwargs)
    assert f"{name}={kwargs[name]!r}" in str(info.value)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, "1", None])
def test_bad_jump_raises_naming_delta(bad):
    """A jump that is not a finite number is a ValueError showing delta=value, and changes nothing."""
    clock = PhysicalClock(TrueTime(1.0))
    with pytest.raises(ValueError, match="delta="):
        clock.jump(bad)
    assert clock.now() == 1.0


@pytest.mark.parametrize("bad", [0.5, -0.7, math.nan, "0.1"])
def test_bad_set_drift_raises_and_changes_nothing(bad):
    """set_drift outside (-0.5, 0.5) is a ValueError naming drift, leaving the clock as it was."""
    t = TrueTime(4.0)
    clock = PhysicalClock(t, drift=0.1)
    with pytest.raises(ValueError, match="drift="):
        clock.set_drift(bad)
    assert clock.drift == 0.1 and clock.now() == pytest.approx(4.4)


def test_true_duration_rejects_negative_durations():
    """A negative local duration is a ValueError naming local_duration."""
    with pytest.raises(ValueError, match="local_duration=-1"):
        PhysicalClock(TrueTime()).true_duration(-1)


class Alarm(Node):
    def __init__(self) -> None:
        self.rang = []

    def on_start(self) -> None:
        self.set_timer(10.0, self.ring)

    def ring(self) -> None:
        self.rang.append((self.sim.now, self.clock.now()))


@pytest.mark.parametrize("drift, true_fire", [(0.0, 10.0), (0.1, 10.0 / 1.1), (-0.2, 12.5)])
def test_timers_are_measured_on_the_local_clock(drift, true_fire):
    """A 10-unit timer fires after 10 units of the node's own clock: early on a fast clock, late on a slow one."""
    sim = Simulation(seed=1)
    node = sim.add_node(Alarm, "a", clock_drift=drift)
    sim.run(until=20)
    (true_time, local_time), = node.rang
    assert true_time == pytest.approx(true_fire)
    assert local_time == pytest.approx(10.0)


def test_node_clock_uses_offset_and_drift_from_add_node():
    """add_node's clock_offset and clock_drift set the node's clock; sim.now stays true time."""
    sim = Simulation(seed=1)
    node = sim.add_node(Alarm, "a", clock_offset=100.0, clock_drift=0.1)
    sim.run(until=5)
    assert sim.now == 5
    assert node.clock.now() == pytest.approx(100.0 + 5.5)


def test_clock_jump_does_not_move_timers():
    """A timer measures a duration: a clock jump after it was set neither fires it early nor late."""
    sim = Simulation(seed=1)
    node = sim.add_node(Alarm, "a")
    sim.at(3, node.clock.jump, 50.0)
    sim.run(until=20)
    assert node.rang == [(10.0, 60.0)]


def test_bad_clock_arguments_to_add_node_raise():
    """add_node rejects a drift outside (-0.5, 0.5) with a ValueError naming drift."""
    sim = Simulation(seed=1)
    with pytest.raises(ValueError, match="drift=0.9"):
        sim.add_node(Alarm, "a", clock_drift=0.9)
    assert sim.nodes == {}  # the failed node was not half-added
