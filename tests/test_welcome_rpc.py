"""Tests of course_lib.topics.welcome.rpc (remote call semantics) and workload.state_table."""

import pytest

from course_lib.sim import InvalidArgument, InvalidArgumentType, Simulation
from course_lib.topics.welcome import (SEMANTICS, NaiveReplica, rpc_report, rpc_run, schedule_writes,
                                       state_table)

SEEDS = range(10)


def reports(semantics, **options):
    return [rpc_report(rpc_run(semantics, seed=f"t/{k}", **options)) for k in SEEDS]


def test_at_most_once_loses_deposits_and_never_doubles_one():
    """Giving up on a timeout loses deposits whose request was lost, and applies none twice."""
    found = reports("at-most-once")
    assert sum(r["lost"] for r in found) > 0 and all(r["applied twice or more"] == 0 for r in found)
    assert all(r["balance"] <= r["intended"] for r in found)


def test_at_least_once_loses_nothing_and_doubles_some():
    """Retrying applies every deposit, and applies again those whose reply was lost."""
    found = reports("at-least-once")
    assert all(r["lost"] == 0 for r in found) and sum(r["applied twice or more"] for r in found) > 0
    assert all(r["balance"] >= r["intended"] for r in found)


def test_exactly_once_in_effect_gets_every_balance_right():
    """Retrying with request ids the bank remembers applies each deposit exactly once."""
    assert all(r["balance"] == r["intended"] and r["finished"] for r in reports("exactly-once"))


def test_without_loss_all_three_agree():
    """On a network that loses nothing, the three semantics give the same, right, balance."""
    for semantics in SEMANTICS:
        assert all(r["balance"] == r["intended"] for r in reports(semantics, loss=0.0))


@pytest.mark.parametrize("call, error, words", [
    (lambda: rpc_run("maybe-once", seed=0), InvalidArgument, "semantics='maybe-once'"),
    (lambda: rpc_run("exactly-once", seed=0, loss=1.5), InvalidArgument, "loss=1.5"),
    (lambda: rpc_run("exactly-once", seed=0, deposits=-1), InvalidArgument, "deposits=-1"),
    (lambda: rpc_report(Simulation(seed=0)), InvalidArgumentType, "rpc_run"),
])
def test_bad_input_is_named(call, error, words):
    """Bad arguments raise the course's errors, naming the argument and its value."""
    with pytest.raises(error, match=words):
        call()


def test_state_table_marks_the_keys_replicas_disagree_on():
    """state_table shows a row per key, '-' for a missing value, and marks divergent keys."""
    sim = Simulation(seed=0)
    sim.add_nodes(NaiveReplica, ["n1", "n2"])
    schedule_writes(sim, [(1.0, "n1", "x", "v1"), (1.0, "n1", "y", "v2")])
    sim.run(until=1.5)
    assert state_table(sim).splitlines() == ["key  n1  n2", "x    v1  -  <- differs", "y    v2  -  <- differs"]
    sim.run(until=5)
    assert "differs" not in state_table(sim)
