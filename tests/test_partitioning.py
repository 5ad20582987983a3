"""Chapter 05's package: hashing, the tutorial's ring, placement meters, rebalancing, balancers, caches."""

from __future__ import annotations

import bisect

import pytest

from course_lib.sim import ScenarioFailed
from course_lib.topics import partitioning as p


def test_ring_hash_is_stable_and_ints_hash_as_their_text():
    """Positions depend only on the label's text: the same in every run, 7 and "7" alike."""
    assert p.ring_hash("user:42") == p.ring_hash("user:42") == p.hash64("user:42")
    assert p.ring_hash(7) == p.ring_hash("7")
    assert 0 <= p.hash64("x") < p.RING_SIZE
    assert p.hash64("a") == 0x0E7ACFC99C9BE8F6 or isinstance(p.hash64("a"), int)


def test_counting_probes_counts_comparisons_of_positions_only_inside_the_block():
    """A binary search over n positions costs about log2(n) counted comparisons; none outside the block."""
    points = sorted(p.ring_hash(f"v{i}") for i in range(1024))
    key = p.ring_hash("k")
    with p.counting_probes() as probes:
        bisect.bisect_left(points, key)
    assert 9 <= probes.count <= 12
    before = probes.count
    _ = points[0] < points[1]
    assert probes.count == before
    with p.counting_probes() as probes:
        _ = 5 < key          # reflected comparisons count too
    assert probes.count == 1


def test_naive_ring_sorts_on_every_lookup_and_keeps_its_quirks():
    """The tutorial's ring: O(V log V) comparisons per lookup, a fallback to a removed node."""
    small, large = p.ConsistentHash(["a", "b"], 50), p.ConsistentHash([f"n{i}" for i in range(8)], 50)
    with p.counting_probes() as c_small:
        small.get_node("k")
    with p.counting_probes() as c_large:
        large.get_node("k")
    assert c_large.count > 4 * c_small.count > 0
    ring = p.ConsistentHash(["a"], 3)
    ring.remove_node("a")
    assert ring.ring == {} and ring.get_node("k") == "a"   # hands out the node it removed
    ring = p.ConsistentHash(["a", "b", "c"])
    owners = {ring.get_node(f"k{i}") for i in range(200)}
    assert owners == {"a", "b", "c"}


def test_mod_n_moves_most_keys_and_the_consistent_schemes_about_one_in_n_plus_one():
    """Adding an 11th node: mod-N moves ~10/11 of the keys; ring, rendezvous and jump about 1/11."""
    keys = [f"key:{i}" for i in range(3000)]
    nodes = [f"n{i}" for i in range(10)]
    moved = {s: p.moved_fraction(p.placement(s, keys, nodes), p.placement(s, keys, nodes + ["n10"]))
             for s in ("mod-N", "ring", "rendezvous", "jump")}
    assert moved["mod-N"] > 0.85
    for scheme in ("ring", "rendezvous", "jump"):
        assert 0.05 < moved[scheme] < 0.14, moved


def test_jump_hash_matches_the_paper_and_moves_keys_only_to_the_new_bucket():
    """Jump hash: keys only ever move to the newly added bucket."""
    for key in range(0, 2**64, 2**58 + 12345):
        for n in range(1, 20):
            a, b = p.jump_hash(key, n), p.jump_hash(key, n + 1)
            assert 0 <= a < n and (b == a or b == n)


def test_more_virtual_nodes_spread_the_ring_more_evenly():
    """The CV of the nodes' shares falls roughly as 1/sqrt(vnodes)."""
    nodes = [f"n{i}" for i in range(10)]
    cvs = [p.load_cv(p.ring_shares(nodes, v)) for v in (1, 10, 100, 1000)]
    assert cvs == sorted(cvs, reverse=True) and cvs[0] > 0.5 and cvs[-1] < 0.06
    assert abs(sum(p.ring_shares(nodes, 10)) - 1) < 1e-9


def test_ring_owner_agrees_with_a_scan():
    """The vectorised placement owns each key by the first virtual node at or after it, wrapping."""
    nodes = ["a", "b", "c"]
    points = sorted((p.hash64(p.vnode_label(n, i)), n) for n in nodes for i in range(5))
    keys = [f"k{i}" for i in range(200)]
    got = p.ring_owner(nodes, 5, p.key_positions(keys))
    for key, owner in zip(keys, got):
        h = p.hash64(key)
        want = next((n for pos, n in points if pos >= h), points[0][1])
        assert nodes[owner] == want


def test_zipf_keys_concentrate_on_small_ids_and_range_partitions_get_hot():
    """Range partitioning puts the popular keys together; hashing spreads them."""
    keys = p.zipf_keys(20_000, 100_000, 1.1, seed=1)
    assert (p.zipf_keys(5, 100, 1.0, seed=3) == p.zipf_keys(5, 100, 1.0, seed=3)).all()
    by_range = p.loads_of(p.range_partition(keys, 100_000, 10), 10)
    by_hash = p.loads_of(p.hash_partition(keys, 10), 10)
    assert by_range.max() > 0.8 * len(keys) and p.load_cv(by_hash) < p.load_cv(by_range) / 3


def test_fixed_partitions_move_only_the_newcomers_share():
    """A coordinator's reassignment moves about partitions/(n+1) partitions on a join, only the leaver's on a leave."""
    a = p.assign_partitions(64, ["a", "b", "c", "d"])
    b = p.assign_partitions(64, ["a", "b", "c", "d", "e"], a)
    assert p.moved_partitions(a, b) == 12
    assert sorted(list(b.values()).count(n) for n in "abcde") == [12, 13, 13, 13, 13]
    c = p.assign_partitions(64, ["a", "b", "d", "e"], b)
    assert p.moved_partitions(b, c) == 13


def test_split_ranges_split_where_the_keys_are():
    """Dynamic splitting: every range ends up with at most max_keys keys, more ranges where keys are dense."""
    keys = p.zipf_keys(5000, 100_000, 1.1, seed=2)
    ranges = p.split_ranges(keys, 500, 100_000)
    assert ranges[0][0] == 0 and ranges[-1][1] == 100_000
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    counts = [sum(1 for k in keys if lo <= k < hi) for lo, hi in ranges]
    assert all(c <= 500 or hi - lo == 1 for c, (lo, hi) in zip(counts, ranges))
    assert ranges[0][1] < 100  # the popular small keys get narrow ranges


def test_routing_and_secondary_indexes():
    """A client map is one hop except after a move; a local index waits for the slowest partition."""
    hops = {s: p.route_requests(s, seed=1) for s in p.ROUTING}
    assert hops["routing tier"].mean_hops == 2 and 1.8 < hops["any node"].mean_hops < 2
    assert hops["client map"].mean_hops < 1.05 and 0 < hops["client map"].misrouted <= 20
    local = sorted(p.index_read_latency("local", seed=1, reads=2000))
    glob = sorted(p.index_read_latency("global", seed=1, reads=2000))
    assert local[1000] > 2 * glob[1000]


def test_hot_key_split_spreads_its_load():
    keys = [0] * 900 + list(range(1, 101))
    assert max(p.hot_key_split(keys, 0, 1, 10, seed=1)) > 900
    assert max(p.hot_key_split(keys, 0, 10, 10, seed=1)) < 200


def test_balancers_are_deterministic_and_weighted_round_robin_follows_the_weights():
    """Same seed, same run; smooth weighted round robin interleaves servers by weight."""
    a = p.run_balancer(p.RoundRobin, seed=3, requests=400)
    b = p.run_balancer(p.RoundRobin, seed=3, requests=400)
    assert a.latencies == b.latencies and len(a.latencies) == 400
    w = p.WeightedRoundRobin(["x", "y"], {"x": 3, "y": 1}, None)
    picks = [w.choose(p.Request(i, "c")) for i in range(8)]
    assert picks.count("x") == 6 and picks[:4].count("y") == 1


def test_round_robin_overloads_the_slow_server_and_stale_least_loaded_herds():
    """With a server at a fifth of the speed, round robin's p99 explodes; least loaded on stale reports
    is far worse at the median than least connections (herding)."""
    runs = {name: p.run_balancer(cls, seed=1, requests=1500) for name, cls in p.BALANCERS.items()}
    assert runs["round robin"].p99 > 10 * runs["least connections"].p99
    assert runs["least loaded (stale)"].p50 > 2 * runs["least connections"].p50
    assert runs["IP hash"].per_server != runs["round robin"].per_server


def test_balls_into_bins_two_choices():
    assert p.balls_into_bins(20_000, 20_000, choices=2, seed=1) < p.balls_into_bins(20_000, 20_000, seed=1)


def test_cache_patterns_hit_ratio_staleness_and_write_behind_lag():
    """A longer ttl raises the hit ratio and, with writes past the cache, the stale reads."""
    short = p.run_cache(p.CacheAside, seed=1, requests=1500, ttl=100, direct_writes=0.5)
    long = p.run_cache(p.CacheAside, seed=1, requests=1500, ttl=5000, direct_writes=0.5)
    assert long.hit_ratio > short.hit_ratio and long.stale > short.stale
    through = p.run_cache(p.WriteThrough, seed=1, requests=1500)
    aside = p.run_cache(p.CacheAside, seed=1, requests=1500)
    behind = p.run_cache(p.WriteBehind, seed=1, requests=1500)
    assert through.hit_ratio > aside.hit_ratio and behind.db_writes < aside.db_writes
    assert through.stale == aside.stale == 0 and not through.unanswered


def test_naive_cache_stampedes_and_the_scenarios_say_so():
    """Cache-aside sends every concurrent miss to the database; the graded scenarios reject it."""
    run = p.stampede_run(p.CacheAside, seed=1, duration=1500)
    assert run.db_reads_by_key["hot"] > 20
    with pytest.raises(ScenarioFailed, match="read the database"):
        p.concurrent_misses(p.CacheAside, seed=1)
    with pytest.raises(ScenarioFailed, match="at most"):
        p.no_stampede(p.CacheAside, seed=1, duration=1500)
    with pytest.raises(ScenarioFailed, match="still waiting|round robin"):
        p.tail_against_baselines(p.RandomChoice, seed=1, requests=800)


def test_ring_scenarios_measure_a_ring_class():
    """The meters drive any class with add/remove/lookup: the tutorial's ring, adapted, costs V log V probes."""
    class Adapter:
        def __init__(self, vnodes):
            self.ring = p.ConsistentHash([], vnodes)

        def add(self, node):
            self.ring.add_node(node)

        def remove(self, node):
            self.ring.remove_node(node)

        def lookup(self, key):
            return self.ring.get_node(key)

    moved, ideal = p.moved_on_change(Adapter, seed=1, nodes=4, vnodes=20, keys=300)
    assert 0 < moved < 2.5 * ideal
    ring = Adapter(20)
    for n in "abcd":
        ring.add(n)
    assert p.lookup_probes(ring, ["x", "y"]) > 80 * 4
    ops = p.random_ring_ops(1, 50)
    assert ops == p.random_ring_ops(1, 50) and ops[0][0] == "add"


# -- bad input --------------------------------------------------------------------------------

class Stub(p.Balancer):
    def choose(self, request):
        return "nope"


BAD = [
    ("ring_hash label", lambda: p.ring_hash(1.5), TypeError, r"label=1\.5"),
    ("ring_hash bool", lambda: p.ring_hash(True), TypeError, r"label=True"),
    ("vnode_label index", lambda: p.vnode_label("a", -1), ValueError, r"index=-1"),
    ("mod_n n", lambda: p.mod_n("k", 0), ValueError, r"n=0"),
    ("rendezvous nodes", lambda: p.rendezvous("k", []), ValueError, r"nodes=\[\]"),
    ("rendezvous str nodes", lambda: p.rendezvous("k", "abc"), TypeError, r"nodes='abc'"),
    ("jump key", lambda: p.jump_hash(-1, 3), ValueError, r"key=-1"),
    ("jump buckets", lambda: p.jump_hash(1, 0), ValueError, r"buckets=0"),
    ("ConsistentHash vnodes", lambda: p.ConsistentHash(["a"], 0), ValueError, r"virtual_nodes=0"),
    ("ConsistentHash key", lambda: p.ConsistentHash(["a"]).get_node(5), TypeError, r"key=5"),
    ("zipf count", lambda: p.zipf_keys(0, 10, 1.0, seed=1), ValueError, r"count=0"),
    ("zipf s", lambda: p.zipf_keys(5, 10, -1.0, seed=1), ValueError, r"s=-1"),
    ("load_cv empty", lambda: p.load_cv([]), ValueError, r"loads=\[\]"),
    ("placement scheme", lambda: p.placement("modulo", ["k"], ["a"]), ValueError, r"scheme='modulo'"),
    ("placement keys", lambda: p.placement("ring", "k", ["a"]), TypeError, r"keys='k'"),
    ("key_positions str", lambda: p.key_positions("abc"), TypeError, r"keys='abc'"),
    ("key_positions key", lambda: p.key_positions(["a", 1.5]), TypeError, r"label=1\.5"),
    ("ring_points vnodes", lambda: p.ring_points(["a"], 0), ValueError, r"vnodes=0"),
    ("moved_fraction", lambda: p.moved_fraction([1, 2], [1]), ValueError, r"same non-empty keys"),
    ("assign partitions", lambda: p.assign_partitions(2, ["a", "b", "c"]), ValueError, r"partitions=2"),
    ("split max_keys", lambda: p.split_ranges([1], 0, 10), ValueError, r"max_keys=0"),
    ("split keys", lambda: p.split_ranges([11], 5, 10), ValueError, r"range\(10\)"),
    ("route strategy", lambda: p.route_requests("dns", seed=1), ValueError, r"strategy='dns'"),
    ("index kind", lambda: p.index_read_latency("both", seed=1), ValueError, r"kind='both'"),
    ("hot split ways", lambda: p.hot_key_split([1], 1, 11, 10, seed=1), ValueError, r"ways=11"),
    ("run_balancer class", lambda: p.run_balancer(object, seed=1), TypeError, r"balancer="),
    ("run_balancer utilisation", lambda: p.run_balancer(p.RoundRobin, seed=1, utilisation=1.0),
     ValueError, r"utilisation=1\.0"),
    ("run_balancer speeds", lambda: p.run_balancer(p.RoundRobin, seed=1, speeds=[1, 0]), ValueError,
     r"speeds=0"),
    ("run_balancer choice", lambda: p.run_balancer(Stub, seed=1, requests=5), Exception, r"'nope'"),
    ("percentile q", lambda: p.percentile([1], 101), ValueError, r"q=101"),
    ("balls choices", lambda: p.balls_into_bins(5, 2, choices=3, seed=1), ValueError, r"choices=3"),
    ("run_cache pattern", lambda: p.run_cache(dict, seed=1), TypeError, r"pattern="),
    ("run_cache write_fraction", lambda: p.run_cache(p.CacheAside, seed=1, write_fraction=2),
     ValueError, r"write_fraction=2"),
    ("stampede rate", lambda: p.stampede_run(p.CacheAside, seed=1, rate=0), ValueError, r"rate=0"),
    ("concurrent_misses cache", lambda: p.concurrent_misses(int, seed=1), TypeError, r"cache="),
    ("moved_on_change change", lambda: p.moved_on_change(dict, seed=1, change="grow"), TypeError,
     r"change='grow'"),
    ("tail balancer", lambda: p.tail_against_baselines(int, seed=1), TypeError, r"balancer="),
    ("draw_ring vnodes", lambda: p.draw_ring(["a"], 0), ValueError, r"vnodes=0"),
    ("plot_latencies runs", lambda: p.plot_latencies([1]), TypeError, r"runs must"),
    ("plot_cv counts", lambda: p.plot_cv_vs_vnodes(["a"], []), TypeError, r"vnode_counts=\[\]"),
]


@pytest.mark.parametrize("label,call,error,pattern", BAD, ids=[row[0] for row in BAD])
def test_bad_input_is_named(label, call, error, pattern):
    """Every public function of the chapter rejects a bad value with an error naming the parameter."""
    from bad_input_support import assert_named_error
    assert_named_error(call, error, pattern)
