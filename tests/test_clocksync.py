"""Tests of course_lib.topics.clocks.sync: Cristian's algorithm and NTP over the simulated network."""

from __future__ import annotations

import pytest

from course_lib.topics.clocks import synchronise


@pytest.mark.parametrize("method", ["cristian", "ntp"])
def test_symmetric_delays_give_the_true_offset(method):
    """With equal delays and no processing time both methods estimate the offset exactly."""
    result = synchronise(seed=1, method=method, forward=0.2, back=0.2, client_offset=3.0, rounds=3)
    assert len(result.rounds) == 3
    for r in result.rounds:
        assert r.true_offset == pytest.approx(-3.0)
        assert r.error == pytest.approx(0.0, abs=1e-9)
        assert r.bound == pytest.approx(0.2)


@pytest.mark.parametrize("forward,back", [(0.1, 0.3), (0.3, 0.1), (0.0, 0.4)])
def test_asymmetry_shifts_the_estimate_by_half_the_difference(forward, back):
    """The NTP estimate is off by (forward - back) / 2, within the bound of half the round trip."""
    for r in synchronise(seed=2, forward=forward, back=back, rounds=2).rounds:
        assert r.error == pytest.approx((forward - back) / 2)
        assert abs(r.error) <= r.bound + 1e-9


def test_ntp_leaves_out_processing_time_and_cristian_does_not():
    """Server processing time biases Cristian's estimate by half of it; NTP's not at all."""
    ntp = synchronise(seed=3, method="ntp", processing=0.4).rounds[0]
    cristian = synchronise(seed=3, method="cristian", processing=0.4).rounds[0]
    assert ntp.error == pytest.approx(0.0, abs=1e-9)
    assert cristian.error == pytest.approx(0.2)


def test_correcting_steps_the_client_clock():
    """correct=True steps the client's clock by the estimate: the next rounds see a small offset."""
    rounds = synchronise(seed=4, client_offset=2.0, forward=0.1, back=0.1, rounds=3, correct=True).rounds
    assert rounds[0].estimate == pytest.approx(-2.0)
    assert rounds[1].true_offset == pytest.approx(0.0, abs=1e-9)


def test_bad_arguments_are_named():
    """Unknown methods and negative delays are rejected naming the argument."""
    with pytest.raises(ValueError, match="method="):
        synchronise(method="ptp")
    with pytest.raises(ValueError, match="back="):
        synchronise(back=-1)
    with pytest.raises(ValueError, match="rounds="):
        synchronise(rounds=0)
