"""Tests of course_lib.sim.network: loss, duplication, reordering, per-link settings and partitions."""

from __future__ import annotations

import pytest

from course_lib.sim import Node, Simulation, Uniform


class Sink(Node):
    """Records (time, src, n) of every ping."""

    def __init__(self) -> None:
        self.got = []

    def on_ping(self, msg) -> None:
        self.got.append((self.sim.now, msg.src, msg.n))


def world(ids=("a", "b", "c"), seed=1, **net):
    sim = Simulation(seed=seed, **net)
    sim.add_nodes(Sink, list(ids))
    return sim


def burst(sim, src, dst, count, at=0.0, spacing=0.0):
    """Schedule ``count`` pings src -> dst numbered 0..count-1, ``spacing`` apart."""
    for i in range(count):
        sim.at(at + i * spacing, lambda i=i: sim[src].send(dst, "ping", n=i))


def received(sim, node, src=None):
    return [n for _, s, n in sim[node].got if src is None or s == src]


# -- loss, duplication, reordering ---------------------------------------------------------

def test_no_loss_delivers_everything_once():
    """With loss=0 every message is delivered exactly once."""
    sim = world(loss=0.0)
    burst(sim, "a", "b", 200)
    sim.run(until=10)
    assert received(sim, "b") == list(range(200))


def test_total_loss_delivers_nothing():
    """With loss=1 no message is delivered and every send is a 'loss' drop."""
    sim = world(loss=1.0)
    burst(sim, "a", "b", 200)
    sim.run(until=10)
    assert received(sim, "b") == []
    assert sim.trace.summary()["dropped_by_reason"] == {"loss": 200}


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_loss_rate_matches_the_probability(p):
    """With loss=p about a fraction p of many messages is lost (seeded: the same count every run)."""
    n = 2000
    counts = []
    for _ in range(2):
        sim = world(loss=p, seed=4)
        burst(sim, "a", "b", n)
        sim.run(until=10)
        counts.append(n - len(received(sim, "b")))
    assert counts[0] == counts[1]  # deterministic
    assert abs(counts[0] / n - p) < 0.035  # about 4 standard deviations at worst


def test_duplicate_one_delivers_everything_twice():
    """With duplicate=1 every message is delivered twice, each traced as a duplicate."""
    sim = world(duplicate=1.0)
    burst(sim, "a", "b", 50)
    sim.run(until=10)
    assert sorted(received(sim, "b")) == sorted(list(range(50)) * 2)
    assert sim.trace.summary()["duplicated"] == 50


def test_duplicate_rate_matches_the_probability():
    """With duplicate=p about a fraction p of messages arrive twice."""
    sim = world(duplicate=0.2, seed=2)
    burst(sim, "a", "b", 2000)
    sim.run(until=10)
    extra = len(received(sim, "b")) - 2000
    assert abs(extra / 2000 - 0.2) < 0.035


def test_constant_latency_without_reorder_keeps_fifo_order():
    """With a constant latency and reorder=0 messages arrive in the order they were sent."""
    sim = world(latency=2.0, reorder=0.0)
    burst(sim, "a", "b", 100, spacing=0.01)
    sim.run(until=10)
    assert received(sim, "b") == list(range(100))


def test_reorder_breaks_fifo_order_and_delays_by_at_most_reorder_delay():
    """With reorder>0 some messages overtake others, each delayed by at most reorder_delay."""
    sim = world(latency=1.0, reorder=0.3, reorder_delay=5.0)
    burst(sim, "a", "b", 100, spacing=0.1)
    sim.run(until=40)
    got = received(sim, "b")
    assert sorted(got) == list(range(100)) and got != list(range(100))
    delays = [t - (1.0 + 0.1 * n) for t, _, n in sim["b"].got]
    assert min(delays) > -1e-9 and max(delays) <= 5.0 + 1e-9
    assert sum(d > 1e-9 for d in delays) == pytest.approx(30, abs=15)


def test_configure_changes_the_defaults_from_now_on():
    """configure() changes default settings for later sends only, keeping unset ones."""
    sim = world(latency=1.0)
    burst(sim, "a", "b", 5, at=0)
    sim.at(0.5, lambda: sim.network.configure(loss=1.0))
    burst(sim, "a", "b", 5, at=1)
    sim.run(until=10)
    assert received(sim, "b") == [0, 1, 2, 3, 4]
    assert sim.network.loss == 1.0 and sim.network.latency.delay == 1.0


@pytest.mark.parametrize("name", ["loss", "duplicate", "reorder"])
@pytest.mark.parametrize("bad", [-0.1, 1.5, 2])
def test_probability_outside_unit_interval_is_a_value_error_naming_it(name, bad):
    """A fault probability outside [0, 1] is a ValueError showing name=value, in Simulation, configure and set_link."""
    with pytest.raises(ValueError, match=f"{name}={bad!r}"):
        Simulation(seed=1, **{name: bad})
    sim = world()
    with pytest.raises(ValueError, match=f"{name}={bad!r}"):
        sim.network.configure(**{name: bad})
    with pytest.raises(ValueError, match=f"{name}={bad!r}"):
        sim.network.set_link("a", "b", **{name: bad})


@pytest.mark.parametrize("name", ["loss", "duplicate", "reorder"])
def test_probability_that_is_not_a_number_is_a_type_error(name):
    """A fault probability given as a str or bool is a TypeError naming it."""
    for bad in ("0.1", True):
        with pytest.raises(TypeError, match=f"{name}="):
            Simulation(seed=1, **{name: bad})


def test_negative_reorder_delay_and_bad_latency_are_rejected():
    """reorder_delay < 0 and a latency that is neither number nor callable raise naming them."""
    with pytest.raises(ValueError, match="reorder_delay=-1"):
        Simulation(seed=1, reorder_delay=-1)
    with pytest.raises(TypeError, match="latency='fast'"):
        Simulation(seed=1, latency="fast")
    with pytest.raises(ValueError, match="latency=-1"):
        Simulation(seed=1, latency=-1)


# -- per-link overrides --------------------------------------------------------------------

def test_set_link_overrides_one_direction_only():
    """set_link(a, b, ...) changes a->b but not b->a nor other links."""
    sim = world(latency=1.0)
    sim.network.set_link("a", "b", loss=1.0)
    burst(sim, "a", "b", 5)
    burst(sim, "b", "a", 5)
    burst(sim, "a", "c", 5)
    sim.run(until=10)
    assert received(sim, "b") == []
    assert received(sim, "a") == list(range(5)) and received(sim, "c") == list(range(5))


def test_set_link_both_ways_and_latency_override():
    """set_link(..., both_ways=True) changes both directions; unset settings keep the default."""
    sim = world(latency=1.0)
    sim.network.set_link("a", "b", latency=4.0, both_ways=True)
    sim.at(0, lambda: sim["a"].send("b", "ping", n=0))
    sim.at(0, lambda: sim["b"].send("a", "ping", n=1))
    sim.at(0, lambda: sim["a"].send("c", "ping", n=2))
    sim.run(until=10)
    assert sim["b"].got == [(4.0, "a", 0)] and sim["a"].got == [(4.0, "b", 1)]
    assert sim["c"].got == [(1.0, "a", 2)]


def test_set_link_twice_merges_the_overrides():
    """A second set_link on a link keeps the first override's other settings."""
    sim = world(latency=1.0)
    sim.network.set_link("a", "b", latency=3.0)
    sim.network.set_link("a", "b", duplicate=1.0)
    burst(sim, "a", "b", 1)
    sim.run(until=10)
    assert sim["b"].got == [(3.0, "a", 0), (3.0, "a", 0)]


def test_clear_link_restores_the_defaults():
    """clear_link removes the override of one direction, or both with both_ways."""
    sim = world(latency=1.0)
    sim.network.set_link("a", "b", loss=1.0, both_ways=True)
    sim.network.clear_link("a", "b")
    burst(sim, "a", "b", 3)
    burst(sim, "b", "a", 3)
    sim.run(until=5)
    assert received(sim, "b") == [0, 1, 2] and received(sim, "a") == []
    sim.network.clear_link("a", "b", both_ways=True)
    burst(sim, "b", "a", 3, at=5)
    sim.run(until=10)
    assert received(sim, "a") == [0, 1, 2]


def test_set_link_with_an_unknown_node_names_the_parameter():
    """set_link to a node that does not exist is a ValueError naming src or dst."""
    sim = world()
    with pytest.raises(ValueError, match="dst='z'"):
        sim.network.set_link("a", "z", loss=0.5)
    with pytest.raises(ValueError, match="src='z'"):
        sim.network.set_link("z", "a", loss=0.5)


# -- partitions ----------------------------------------------------------------------------

def delivered_pairs(sim):
    return {(e.peer, e.node) for e in sim.trace.filter(kind="deliver")}


def all_to_all(sim, at=1.0):
    ids = list(sim.nodes)
    for s in ids:
        for d in ids:
            if s != d:
                sim.at(at, lambda s=s, d=d: sim[s].send(d, "ping", n=0))


def test_partition_with_several_groups_cuts_between_groups_only():
    """partition([g1, g2, g3]): messages flow within a group and never between groups."""
    sim = world(ids="abcdef")
    sim.network.partition([["a", "b"], ["c"], ["d", "e", "f"]])
    all_to_all(sim)
    sim.run(until=5)
    groups = [{"a", "b"}, {"c"}, {"d", "e", "f"}]
    same = {(s, d) for g in groups for s in g for d in g if s != d}
    assert delivered_pairs(sim) == same
    assert sim.network.groups() == [["a", "b"], ["c"], ["d", "e", "f"]]


def test_unlisted_nodes_form_one_more_group():
    """partition([["a"]]) isolates a; the unlisted nodes still reach each other."""
    sim = world(ids="abcd")
    sim.network.partition([["a"]])
    all_to_all(sim)
    sim.run(until=5)
    rest = {(s, d) for s in "bcd" for d in "bcd" if s != d}
    assert delivered_pairs(sim) == rest
    assert sim.network.groups() == [["a"], ["b", "c", "d"]]
    assert not sim.network.reachable("a", "b") and sim.network.reachable("b", "c")


def test_partitions_stack_and_each_heal_ends_only_its_own():
    """A second partition() adds to the first; heal(handle) ends only that one, heal() all."""
    sim = world(ids="abc")
    first = sim.network.partition([["a"]])
    second = sim.network.partition([["c"]])
    assert not sim.network.reachable("a", "b") and not sim.network.reachable("b", "c")
    assert sim.network.groups() == [["a"], ["b"], ["c"]]
    sim.network.heal(second)
    assert not sim.network.reachable("a", "b") and sim.network.reachable("b", "c")
    sim.network.heal(second)  # twice: nothing more
    assert not sim.network.reachable("a", "b")
    sim.network.heal(first)
    assert sim.network.reachable("a", "b") and not sim.network.partitioned
    assert [e.info for e in sim.trace.filter(kind="heal")] == [1, None]


def test_partition_one_way_blocks_only_one_direction():
    """partition_one_way([a], [b]) drops a->b but lets b->a through."""
    sim = world()
    sim.network.partition_one_way(["a"], ["b"])
    all_to_all(sim)
    sim.run(until=5)
    pairs = delivered_pairs(sim)
    assert ("a", "b") not in pairs and ("b", "a") in pairs
    assert pairs == {("a", "c"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "b")}


def test_heal_restores_every_link():
    """heal() removes partitions and one-way cuts; groups() is one group again."""
    sim = world()
    sim.network.partition([["a"]])
    sim.network.partition_one_way(["b"], ["c"])
    sim.network.heal()
    all_to_all(sim)
    sim.run(until=5)
    assert len(delivered_pairs(sim)) == 6
    assert sim.network.groups() == [["a", "b", "c"]]


def test_message_in_flight_when_a_partition_starts_is_dropped_on_arrival():
    """A message sent before a partition and arriving during it is dropped at the receiver."""
    sim = world(latency=2.0)
    burst(sim, "a", "b", 1, at=0)
    sim.at(1, sim.network.partition, [["a"]])
    sim.run(until=5)
    assert received(sim, "b") == []
    drop, = sim.trace.filter(kind="drop")
    assert (drop.time, drop.node, drop.peer, drop.info) == (2.0, "b", "a", "partition")


def test_message_in_flight_when_the_partition_heals_is_delivered():
    """A message sent before a heal is delivered if the partition is gone when it arrives."""
    sim = world(latency=2.0)
    sim.network.partition_one_way(["a"], ["b"])
    sim.network.heal()
    burst(sim, "a", "b", 1, at=0)
    sim.run(until=5)
    assert received(sim, "b") == [0]


@pytest.mark.parametrize("call, pattern", [
    (lambda net: net.partition([["a", "z"]]), r"groups\[0\]='z'"),
    (lambda net: net.partition([["a"], ["b", "nope"]]), r"groups\[1\]='nope'"),
    (lambda net: net.partition([["a", "b"], ["b"]]), r"node 'b' in more than one group"),
    (lambda net: net.partition([]), r"at least one group"),
    (lambda net: net.partition_one_way(["z"], ["a"]), r"src_group='z'"),
    (lambda net: net.partition_one_way(["a"], ["z"]), r"dst_group='z'"),
])
def test_bad_partition_is_a_value_error_naming_the_culprit(call, pattern):
    """A partition naming an unknown node or a node twice is a ValueError showing which, and changes nothing."""
    sim = world()
    with pytest.raises(ValueError, match=pattern):
        call(sim.network)
    assert sim.network.groups() == [["a", "b", "c"]] and len(sim.trace) == 0


def test_partition_group_given_as_a_string_is_a_type_error():
    """partition("ab") or partition(["a", "b"]) (the outer list forgotten) is a TypeError naming groups."""
    sim = world()
    with pytest.raises(TypeError, match=r"groups='ab'"):
        sim.network.partition("ab")
    with pytest.raises(TypeError, match=r"groups\[0\]='a' is not a list of node ids.*\[\['a', 'b'\]\]"):
        sim.network.partition(["a", "b"])


def test_flat_partition_with_multi_character_ids_names_the_real_mistake():
    """partition(["n1", "n2"]) says the outer list is missing (not "'n' is not a node")."""
    sim = Simulation(seed=1)
    sim.add_nodes(Sink, ["n1", "n2", "n3"])
    with pytest.raises(TypeError, match=r"groups\[0\]='n1' is not a list"):
        sim.network.partition(["n1", "n2"])
    with pytest.raises(TypeError, match=r"groups\[0\]='n1' is not a list"):
        sim.nemesis.partition(["n1", "n2"], at=1)
    assert sim.nemesis.schedule == []


def test_node_added_during_a_partition_joins_the_unlisted_group():
    """A node added mid-partition can reach the unlisted nodes, not the isolated ones."""
    sim = world()
    sim.network.partition([["a"]])
    sim.add_node(Sink, "d")
    assert sim.network.reachable("d", "b") and not sim.network.reachable("d", "a")


def test_node_added_after_a_partition_naming_every_node_is_in_a_group_of_its_own():
    """When the groups named every node, a new node is "everyone else": cut off from all groups."""
    sim = world()
    sim.network.partition([["a"], ["b", "c"]])
    sim.add_node(Sink, "d")
    assert not sim.network.reachable("d", "c") and not sim.network.reachable("d", "a")
    assert sim.network.groups() == [["a"], ["b", "c"], ["d"]]


# -- randomness ----------------------------------------------------------------------------

def arrival_times(extra_sender: bool):
    sim = world(latency=Uniform(1, 5), loss=0.2, duplicate=0.2, reorder=0.2, seed=9)
    burst(sim, "a", "b", 50, spacing=0.1)
    if extra_sender:
        burst(sim, "c", "b", 30, spacing=0.07)
    sim.run(until=50)
    return [(t, n) for t, s, n in sim["b"].got if s == "a"]


def test_another_senders_messages_do_not_change_this_senders_draws():
    """Network draws are per sender: adding messages from c leaves a's delivery times unchanged."""
    assert arrival_times(extra_sender=True) == arrival_times(extra_sender=False)


def test_network_draws_depend_on_the_seed():
    """A different seed gives different delivery times under a random latency model."""
    def times(seed):
        sim = world(latency=Uniform(1, 5), seed=seed)
        burst(sim, "a", "b", 20)
        sim.run(until=10)
        return sorted(t for t, _, _ in sim["b"].got)

    assert times(1) == times(1) and times(1) != times(2)
