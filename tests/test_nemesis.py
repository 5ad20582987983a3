"""Tests of course_lib.sim.nemesis: scheduled and seeded random faults."""

from __future__ import annotations

import math

import pytest

from course_lib.sim import Node, Simulation


def world(ids=("a", "b", "c", "d", "e"), seed=1):
    sim = Simulation(seed=seed)
    sim.add_nodes(Node, list(ids))
    return sim


def faults(sim):
    return [(e.time, e.kind, e.node, e.info) for e in sim.trace]


# -- scheduled faults ----------------------------------------------------------------------

def test_scheduled_partition_and_heal_happen_at_their_times():
    """partition(groups, at=, heal_at=) partitions at `at` and heals at `heal_at`."""
    sim = world(ids="abc")
    sim.nemesis.partition([["a"], ["b", "c"]], at=5, heal_at=10)
    sim.run(until=7)
    assert not sim.network.reachable("a", "b") and sim.network.reachable("b", "c")
    sim.run(until=20)
    assert faults(sim) == [(5, "partition", None, [["a"], ["b", "c"]]), (10, "heal", None, None)]
    assert sim.network.reachable("a", "b")


def test_scheduled_one_way_partition_and_heal():
    """partition_one_way(src, dst, at=, heal_at=) cuts one direction between those times."""
    sim = world(ids="abc")
    sim.nemesis.partition_one_way(["a"], ["b", "c"], at=2, heal_at=4)
    sim.run(until=3)
    assert not sim.network.reachable("a", "b") and sim.network.reachable("b", "a")
    sim.run(until=5)
    assert [(t, k) for t, k, _, _ in faults(sim)] == [(2, "partition"), (4, "heal")]
    assert sim.network.reachable("a", "b")


def test_scheduled_crash_and_restart_happen_at_their_times():
    """crash(node, at=, restart_at=) crashes then restarts the node at those times."""
    sim = world(ids="ab")
    sim.nemesis.crash("b", at=2, restart_at=6)
    sim.nemesis.restart("b", at=8)  # restarting a running node does nothing
    sim.run(until=4)
    assert sim["b"].crashed
    sim.run(until=10)
    assert faults(sim) == [(2, "crash", "b", None), (6, "restart", "b", 1)]


def test_scheduled_clock_jump_steps_the_clock_at_its_time():
    """clock_jump(node, delta, at=) steps that node's clock by delta at `at`."""
    sim = world(ids="ab")
    sim.nemesis.clock_jump("a", -3.0, at=5)
    sim.run(until=4)
    assert sim["a"].clock.now() == 4
    sim.run(until=6)
    assert sim["a"].clock.now() == 3 and sim["b"].clock.now() == 6
    assert faults(sim) == [(5, "clock_jump", "a", -3.0)]


def test_schedule_lists_every_planned_fault():
    """nemesis.schedule lists (time, kind, info) of every planned fault in the order planned."""
    sim = world(ids="ab")
    sim.nemesis.crash("a", at=1, restart_at=2)
    sim.nemesis.partition([["a"]], at=3, heal_at=4)
    assert sim.nemesis.schedule == [(1, "crash", "a"), (2, "restart", "a"),
                                    (3, "partition", [["a"]]), (4, "heal", None)]


@pytest.mark.parametrize("call, pattern", [
    (lambda n: n.partition([["a"]], at=-1), r"at=-1"),
    (lambda n: n.partition([["a"]], at=math.inf), r"at=inf"),
    (lambda n: n.partition([["a"]], at="5"), r"at='5'"),
    (lambda n: n.partition([["a"]], at=5, heal_at=5), r"heal_at=5 must be after at=5"),
    (lambda n: n.partition([["a"]], at=5, heal_at=-2), r"heal_at=-2"),
    (lambda n: n.partition([["a", "z"]], at=5), r"groups\[0\]='z'"),
    (lambda n: n.partition_one_way(["z"], ["a"], at=1), r"src_group='z'"),
    (lambda n: n.partition_one_way(["a"], ["z"], at=1), r"dst_group='z'"),
    (lambda n: n.partition_one_way(["a"], ["b"], at=3, heal_at=2), r"heal_at=2 must be after at=3"),
    (lambda n: n.crash("z", at=1), r"node_id='z'"),
    (lambda n: n.crash("a", at="soon"), r"at='soon'"),
    (lambda n: n.crash("a", at=float("nan")), r"at=nan"),
    (lambda n: n.partition(["a", "b"], at=1), r"groups\[0\]='a' is not a list"),
    (lambda n: n.pause("a", at=1, duration=0), r"duration=0"),
    (lambda n: n.crash("a", at=3, restart_at=1), r"restart_at=1 must be after at=3"),
    (lambda n: n.restart("z", at=1), r"node_id='z'"),
    (lambda n: n.heal(at=-0.5), r"at=-0.5"),
    (lambda n: n.clock_jump("z", 1.0, at=1), r"node_id='z'"),
    (lambda n: n.clock_jump("a", math.nan, at=1), r"delta=nan"),
    (lambda n: n.clock_jump("a", 1.0, at=-1), r"at=-1"),
])
def test_bad_scheduled_fault_raises_naming_the_parameter_and_plans_nothing(call, pattern):
    """A bad argument is a ValueError showing the parameter and value, and no fault is planned."""
    sim = world(ids="ab")
    with pytest.raises(ValueError, match=pattern):
        call(sim.nemesis)
    assert sim.nemesis.schedule == []
    sim.run(until=10)
    assert len(sim.trace) == 0


# -- random faults -------------------------------------------------------------------------

def plan(seed, **kwargs):
    sim = world(seed=seed)
    args = dict(start=0, end=100, mean_interval=5, duration=3)
    args.update(kwargs)
    return sim, sim.nemesis.random_faults(**args)


def test_random_faults_same_seed_same_schedule():
    """random_faults draws from the seed: the same seed plans the same faults."""
    assert plan(3)[1] == plan(3)[1]
    assert len(plan(3)[1]) > 10


def test_random_faults_different_seeds_differ():
    """Different seeds plan different fault schedules."""
    schedules = [repr(plan(seed)[1]) for seed in range(5)]
    assert len(set(schedules)) == 5


def test_random_faults_stay_within_start_and_end():
    """Every planned fault, heal and restart falls in [start, end]."""
    _, planned = plan(4, start=20, end=60)
    assert planned and all(20 <= t <= 60 for t, _, _ in planned)


def down_and_cut_over_time(sim):
    """Replay the trace: the largest number of nodes down at once, and state at the end."""
    down, most = set(), 0
    partitioned = False
    for e in sim.trace:
        if e.kind == "crash":
            down.add(e.node)
        elif e.kind == "restart":
            down.discard(e.node)
        elif e.kind == "partition":
            partitioned = True
        elif e.kind == "heal":
            partitioned = False
        most = max(most, len(down))
    return most, down, partitioned


@pytest.mark.parametrize("seed", range(4))
def test_random_faults_heal_and_restart_everything_by_end(seed):
    """At `end` every crashed node has restarted and every partition has healed."""
    sim, planned = plan(seed, end=80, kinds=("partition", "crash"), max_down=2)
    sim.run(until=80.001)
    most, down, partitioned = down_and_cut_over_time(sim)
    assert down == set() and not partitioned
    assert not any(n.crashed for n in sim.nodes.values())
    assert sim.network.groups() == [list("abcde")]
    kinds = {k for _, k, _ in planned}
    assert {"crash", "restart", "partition", "heal"} <= kinds


@pytest.mark.parametrize("max_down", [1, 2, 3])
def test_random_faults_respect_max_down(max_down):
    """No more than max_down nodes are ever down at the same time."""
    worst = 0
    for seed in range(6):
        sim, _ = plan(seed, kinds=("crash",), max_down=max_down, mean_interval=2, duration=4)
        sim.run(until=101)
        worst = max(worst, down_and_cut_over_time(sim)[0])
    assert worst == max_down  # reached, never exceeded


def test_random_faults_default_max_down_is_a_minority():
    """Without max_down, crashes take down at most a minority: 2 of 5 nodes."""
    worst = 0
    for seed in range(6):
        sim, _ = plan(seed, kinds=("crash",), mean_interval=2, duration=4)
        sim.run(until=101)
        worst = max(worst, down_and_cut_over_time(sim)[0])
    assert worst == 2


def test_random_partitions_isolate_a_minority():
    """Random partitions cut off a non-empty minority of the nodes."""
    _, planned = plan(2, kinds=("partition",))
    sides = [info[0] for _, kind, info in planned if kind == "partition"]
    assert sides and all(1 <= len(side) <= 2 for side in sides)


def test_random_clock_jumps_are_bounded():
    """Random clock jumps step a node's clock by at most clock_jump either way."""
    _, planned = plan(5, kinds=("clock_jump",), clock_jump=0.5)
    deltas = [info[1] for _, kind, info in planned if kind == "clock_jump"]
    assert deltas and all(-0.5 <= d <= 0.5 for d in deltas)
    assert min(deltas) < 0 < max(deltas)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(start=-1), r"start=-1"),
    (dict(end=math.inf), r"end=inf"),
    (dict(start=10, end=10), r"end=10(\.0)? must be after start=10"),
    (dict(mean_interval=0), r"mean_interval=0"),
    (dict(mean_interval="5"), r"mean_interval='5'"),
    (dict(duration=-1), r"duration=-1"),
    (dict(kinds=("partition", "flood")), r"kinds='flood' must be one of"),
    (dict(kinds=()), r"kinds=\(\)"),
    (dict(max_down=0), r"max_down=0"),
    (dict(max_down=6), r"max_down=6"),
    (dict(max_down=2.0), r"max_down=2.0"),
])
def test_random_faults_bad_arguments_name_the_parameter(kwargs, pattern):
    """A bad random_faults argument is a ValueError showing the parameter and value; nothing is planned."""
    sim = world()
    args = dict(start=0, end=100, mean_interval=5, duration=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        sim.nemesis.random_faults(**args)
    assert sim.nemesis.schedule == []


def test_random_faults_need_nodes():
    """random_faults on an empty simulation is a ValueError saying to add nodes first."""
    with pytest.raises(ValueError, match="add them first"):
        Simulation(seed=1).nemesis.random_faults(start=0, end=10, mean_interval=1, duration=1)


def test_random_faults_do_not_disturb_the_nodes_rngs():
    """Planning random faults draws from the nemesis's own generator, not from any node's."""
    quiet = world(seed=7)
    busy = world(seed=7)
    busy.nemesis.random_faults(start=0, end=50, mean_interval=2, duration=1)
    assert quiet["a"].rng.random() == busy["a"].rng.random()
