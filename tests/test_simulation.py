"""Tests of course_lib.sim.simulation: determinism, invariants, budgets and argument checks."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.sim import EventBudgetExceeded, InvariantViolation, LogNormal, Node, Simulation


class Gossip(Node):
    """Every tick, tell a random peer a random number; remember what it heard."""

    durable = ("heard",)

    def __init__(self) -> None:
        self.heard = []

    def on_start(self) -> None:
        self.every(1 + self.rng.random(), self.tick)

    def tick(self) -> None:
        if self.peers:
            self.send(self.rng.choice(self.peers), "rumour", value=self.rng.randrange(1000))

    def on_rumour(self, msg) -> None:
        self.heard.append(msg.value)


def gossip_run(seed, loss=0.1, duplicate=0.1, reorder=0.1, ids=("a", "b", "c", "d"), until=30):
    sim = Simulation(seed=seed, latency=LogNormal(1.0, 0.6), loss=loss, duplicate=duplicate,
                     reorder=reorder, reorder_delay=3.0)
    sim.add_nodes(Gossip, list(ids))
    sim.nemesis.crash(ids[1], at=5, restart_at=9)
    sim.nemesis.partition([[ids[0]]], at=12, heal_at=18)
    sim.run(until=until)
    return sim


# -- determinism ---------------------------------------------------------------------------

probabilities = st.sampled_from([0.0, 0.05, 0.3, 1.0])


@settings(max_examples=15)
@given(seed=st.one_of(st.integers(-2**40, 2**40), st.text(max_size=8)),
       loss=probabilities, duplicate=probabilities, reorder=probabilities)
def test_same_seed_and_settings_give_the_same_trace_byte_for_byte(seed, loss, duplicate, reorder):
    """Two runs with the same seed and fault settings produce identical trace text."""
    first = gossip_run(seed, loss, duplicate, reorder, until=15).trace.to_text()
    second = gossip_run(seed, loss, duplicate, reorder, until=15).trace.to_text()
    assert first == second


@settings(max_examples=10)
@given(base=st.integers(0, 10**6))
def test_different_seeds_give_different_traces(base):
    """Over five consecutive seeds, at least four traces differ from each other."""
    texts = {gossip_run(base + k, until=10).trace.to_text() for k in range(5)}
    assert len(texts) >= 4


def test_trace_does_not_depend_on_the_process_hash_seed():
    """The trace is the same in processes with different PYTHONHASHSEED (no hash() in seeding)."""
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from test_simulation import gossip_run
        print(gossip_run("s", ids=("x", 1, "2", "y"), until=12).trace.to_text())
    """)
    here = os.path.dirname(os.path.abspath(__file__))
    outputs = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-c", script, here], capture_output=True, text=True,
                              env=env, cwd=os.path.dirname(here), timeout=60, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") > 20


def test_adding_a_node_does_not_change_another_nodes_rng():
    """A node's rng draws depend on the seed and its id, not on which other nodes exist."""
    lone = Simulation(seed=5)
    a1 = lone.add_node(Gossip, "a")
    crowd = Simulation(seed=5)
    crowd.add_node(Gossip, "z")
    a2 = crowd.add_node(Gossip, "a")
    crowd.add_node(Gossip, "c")
    assert [a1.rng.random() for _ in range(5)] == [a2.rng.random() for _ in range(5)]
    assert Simulation(seed=6).add_node(Gossip, "a").rng.random() != Simulation(seed=5).add_node(
        Gossip, "a").rng.random()


def test_rng_for_depends_on_seed_and_name_only():
    """rng_for(name) gives the same stream for the same seed and name, a different one otherwise."""
    draw = lambda seed, name: Simulation(seed=seed).rng_for(name).random()  # noqa: E731
    assert draw(1, "x") == draw(1, "x")
    assert draw(1, "x") != draw(1, "y") and draw(1, "x") != draw(2, "x")


# -- invariants ----------------------------------------------------------------------------

class Counter(Node):
    def __init__(self) -> None:
        self.count = 0

    def on_start(self) -> None:
        if self.id == "a":
            self.every(1, lambda: self.send("b", "inc"))

    def on_inc(self, msg) -> None:
        self.count += 1


def test_invariant_is_checked_after_every_event():
    """A registered invariant is called after each event, seeing the state right after it."""
    sim = Simulation(seed=3, latency=0.5)
    sim.add_nodes(Counter, ["a", "b"])
    seen = []
    sim.add_invariant("watch", lambda s: seen.append((s.now, s["b"].count)) or True)
    sim.run(until=3.2)
    # on_start x2, then timer at 1, 2, 3 and deliveries at 1.5, 2.5
    assert seen == [(0, 0), (0, 0), (1, 0), (1.5, 1), (2, 1), (2.5, 2), (3, 2)]


def test_first_violation_stops_the_run_with_name_time_detail_and_seed():
    """The first failing invariant raises InvariantViolation with its name, the time, the str detail and the seed."""
    sim = Simulation(seed="s1", latency=0.5)
    sim.add_nodes(Counter, ["a", "b"])
    sim.add_invariant("fine", lambda s: True)
    sim.add_invariant("at most 2", lambda s: s["b"].count <= 2 or f"count={s['b'].count}")
    with pytest.raises(InvariantViolation) as info:
        sim.run(until=100)
    err = info.value
    assert (err.name, err.time, err.detail, err.seed) == ("at most 2", 3.5, "count=3", "s1")
    assert err.trace is sim.trace and sim.now == 3.5
    assert "'at most 2'" in str(err) and "3.5" in str(err) and "'s1'" in str(err)
    assert isinstance(err, AssertionError)


def test_invariant_returning_false_is_a_violation_and_none_is_not():
    """False is a violation ('check returned False'); None and other truthy-or-None results are not."""
    sim = Simulation(seed=1, latency=0.5)
    sim.add_nodes(Counter, ["a", "b"])
    sim.add_invariant("none is fine", lambda s: None)
    sim.add_invariant("b below 1", lambda s: s["b"].count < 1)
    with pytest.raises(InvariantViolation, match="check returned False") as info:
        sim.run(until=10)
    assert info.value.time == 1.5


def test_invariants_are_checked_after_faults():
    """An invariant over node states is checked right after a crash scheduled with sim.at."""
    sim = Simulation(seed=1)
    sim.add_nodes(Counter, ["a", "b"])
    sim.add_invariant("b up", lambda s: not s["b"].crashed)
    sim.at(4.25, sim.crash, "b")
    with pytest.raises(InvariantViolation) as info:
        sim.run(until=10)
    assert info.value.time == 4.25


def test_add_invariant_validates_its_arguments():
    """An invariant needs a non-empty str name, a callable check and a name not used before."""
    sim = Simulation(seed=1)
    with pytest.raises(TypeError, match="name="):
        sim.add_invariant("", lambda s: True)
    with pytest.raises(TypeError, match="check="):
        sim.add_invariant("x", True)
    sim.add_invariant("x", lambda s: True)
    with pytest.raises(ValueError, match="name='x'"):
        sim.add_invariant("x", lambda s: True)


# -- event budget --------------------------------------------------------------------------

class Storm(Node):
    def on_start(self) -> None:
        if self.id == "a":
            self.send("b", "echo")

    def on_echo(self, msg) -> None:
        self.send(msg.src, "echo")
        self.send(msg.src, "echo")


def test_message_storm_exceeds_max_events():
    """A message storm stops with EventBudgetExceeded naming the budget and the seed."""
    sim = Simulation(seed=8, latency=1.0, max_events=200)
    sim.add_nodes(Storm, ["a", "b"])
    with pytest.raises(EventBudgetExceeded, match=r"max_events=200.*seed=8"):
        sim.run(until=1000)
    assert sim.now < 10
    assert len(sim.trace.filter(kind="deliver")) <= 200


def test_run_within_the_budget_is_fine():
    """A run whose event count stays within max_events completes."""
    sim = Simulation(seed=8, latency=1.0, max_events=20)
    sim.add_nodes(Counter, ["a", "b"])
    sim.run(until=5)
    assert sim["b"].count == 3


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", True])
def test_max_events_must_be_a_positive_int(bad):
    """max_events that is not a positive int is a ValueError showing its value."""
    with pytest.raises(ValueError, match=f"max_events={bad!r}"):
        Simulation(seed=1, max_events=bad)


# -- running and scheduling ----------------------------------------------------------------

def test_run_until_stops_at_that_time_and_can_continue():
    """run(until=t) advances now to t; a second run continues where the first stopped."""
    sim = Simulation(seed=1, latency=0.5)
    sim.add_nodes(Counter, ["a", "b"])
    sim.run(until=2)
    assert sim.now == 2 and sim["b"].count == 1
    sim.run(until=4)
    assert sim.now == 4 and sim["b"].count == 3


def test_run_without_until_stops_when_nothing_is_left():
    """run() with no until returns once no event is pending."""
    sim = Simulation(seed=1)
    sim.add_nodes(Counter, ["b"])
    sim.at(7, lambda: None)
    sim.run()
    assert sim.now == 7


@pytest.mark.parametrize("bad", [0, -1, "5", True, math.nan])
def test_run_until_must_be_after_now(bad):
    """run(until=...) that is not a number after now is a ValueError showing until=value."""
    sim = Simulation(seed=1)
    with pytest.raises(ValueError, match=f"until={bad!r}"):
        sim.run(until=bad)


def test_run_until_in_the_past_after_running():
    """run(until=t) with t before the current time is a ValueError."""
    sim = Simulation(seed=1)
    sim.run(until=5)
    with pytest.raises(ValueError, match="until=3"):
        sim.run(until=3)


def test_at_and_after_call_the_function_at_the_time_in_order():
    """at(t, f, *args) and after(d, f, *args) call f at t and now + d; same-time calls keep their order."""
    sim = Simulation(seed=1)
    calls = []
    sim.at(2, calls.append, "x")
    sim.at(2, calls.append, "y")
    sim.after(1, lambda: calls.append(("after", sim.now)))
    sim.at(1.5, lambda: sim.after(0.25, lambda: calls.append(("nested", sim.now))))
    sim.run(until=3)
    assert calls == [("after", 1), ("nested", 1.75), "x", "y"]


@pytest.mark.parametrize("bad", [-1, math.inf, math.nan, "1", None])
def test_at_rejects_past_and_non_finite_times(bad):
    """at() with a time in the past, infinite or not a number is a ValueError showing time=value."""
    sim = Simulation(seed=1)
    with pytest.raises(ValueError, match=f"time={bad!r}"):
        sim.at(bad, print)


def test_at_rejects_a_time_before_now_and_a_non_callable():
    """at() refuses a time already past and a function that is not callable."""
    sim = Simulation(seed=1)
    sim.run(until=5)
    with pytest.raises(ValueError, match="time=4"):
        sim.at(4, print)
    with pytest.raises(TypeError, match="fn="):
        sim.at(6, "print")


@pytest.mark.parametrize("bad", [-0.5, math.inf, "2"])
def test_after_rejects_bad_delays(bad):
    """after() with a negative, infinite or non-numeric delay is a ValueError showing delay=value."""
    with pytest.raises(ValueError, match=f"delay={bad!r}"):
        Simulation(seed=1).after(bad, print)


# -- nodes and seed ------------------------------------------------------------------------

def test_duplicate_node_id_is_a_value_error():
    """Adding a second node with an id already taken is a ValueError naming node_id."""
    sim = Simulation(seed=1)
    sim.add_node(Counter, "a")
    with pytest.raises(ValueError, match="node_id='a' is already taken"):
        sim.add_node(Counter, "a")
    assert list(sim.nodes) == ["a"]


@pytest.mark.parametrize("bad, error", [(None, TypeError), (["a"], TypeError), ({}, TypeError)])
def test_node_id_must_be_hashable_and_not_none(bad, error):
    """A node id that is None or unhashable is a TypeError naming node_id."""
    with pytest.raises(error, match="node_id="):
        Simulation(seed=1).add_node(Counter, bad)


def test_nodes_lookup_and_unknown_node():
    """sim[id] and sim.node(id) return the node; an unknown id is a ValueError listing the nodes."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Counter, ["a", "b"])
    assert sim["a"] is a and sim.node("b") is b
    assert list(sim.nodes) == ["a", "b"]
    sim.nodes.clear()  # a copy: the simulation keeps its nodes
    assert list(sim.nodes) == ["a", "b"]
    with pytest.raises(ValueError, match=r"node_id='c'.*\['a', 'b'\]"):
        sim["c"]


@pytest.mark.parametrize("bad", [1.5, None, True, ["s"], b"seed"])
def test_seed_must_be_an_int_or_a_str(bad):
    """A seed that is not an int or a str is a TypeError showing seed=value."""
    with pytest.raises(TypeError, match=f"seed={bad!r}".replace("[", r"\[").replace("]", r"\]")):
        Simulation(seed=bad)


def test_repr_names_seed_time_and_nodes():
    """repr(sim) shows the seed, the time and the node ids."""
    sim = Simulation(seed=4)
    sim.add_nodes(Counter, ["a", "b"])
    assert repr(sim) == "<Simulation seed=4 t=0 nodes=['a', 'b']>"


def test_uniform_latency_run_is_reproducible_with_crashes_and_durable_state():
    """A full run with crashes and durable state ends in the same node states for the same seed."""
    states = [{n: node.heard for n, node in gossip_run(11, ids=("a", "b", "c")).nodes.items()}
              for _ in range(2)]
    assert states[0] == states[1] and any(states[0].values())
