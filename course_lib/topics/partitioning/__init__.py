"""Chapter 05: partitioning and load: hashing, rebalancing, routing, hot keys, balancers and caches.

- :mod:`~course_lib.topics.partitioning.hashing`: :func:`ring_hash` (a 64-bit position that
  counts its comparisons, :func:`counting_probes`), :func:`mod_n`, :func:`rendezvous` and
  :func:`jump_hash`;
- :mod:`~course_lib.topics.partitioning.naive`: :class:`ConsistentHash`, the common tutorial's
  ring with virtual nodes, ported faithfully (it sorts the ring on every lookup);
- :mod:`~course_lib.topics.partitioning.placement`: the meters: Zipf keys, range and hash
  partitions, where many keys land on a ring, load spread (:func:`load_cv`), moved keys;
- :mod:`~course_lib.topics.partitioning.rebalancing`: fixed partitions with a coordinator's
  assignment, dynamic splitting, request routing with a stale map, secondary indexes, hot keys;
- :mod:`~course_lib.topics.partitioning.balancers`: front ends and heterogeneous servers on the
  simulator, :class:`Balancer` and the classic strategies, :func:`run_balancer`;
- :mod:`~course_lib.topics.partitioning.caching`: a simulated database and the cache patterns
  (cache-aside, write-through, write-behind, refresh-ahead), :func:`run_cache`,
  :func:`stampede_run`;
- :mod:`~course_lib.topics.partitioning.scenarios`: the exercise's graded scenarios and meters;
- :mod:`~course_lib.topics.partitioning.pictures`: rings, load spread, latencies, queues.
"""

from .balancers import (BALANCERS, DEFAULT_SPEEDS, Balancer, BalanceRun, IPHash, LeastConnections,
                        LeastLoaded, RandomChoice, Request, RoundRobin, WeightedRoundRobin,
                        balls_into_bins, percentile, run_balancer)
from .caching import (PATTERNS, CacheAside, CacheRun, CacheServer, Database, RefreshAhead,
                      WriteBehind, WriteThrough, run_cache, stampede_run)
from .hashing import (RING_SIZE, Position, counting_probes, hash64, jump_hash, mod_n, rendezvous,
                      ring_hash, vnode_label)
from .naive import ConsistentHash, md5_position
from .pictures import draw_ring, plot_cv_vs_vnodes, plot_db_queue, plot_latencies, plot_queues
from .placement import (hash_partition, key_positions, load_cv, loads_of, moved_fraction, placement,
                        range_partition, ring_owner, ring_points, ring_shares, zipf_keys)
from .rebalancing import (ROUTING, RoutingResult, assign_partitions, hot_key_split,
                          index_read_latency, moved_partitions, route_requests, split_ranges)
from .scenarios import (concurrent_misses, fresh_after_writes, lookup_probes, moved_on_change,
                        no_stampede, random_ring_ops, ring_balance, ring_owners,
                        tail_against_baselines, tail_against_herding)

__all__ = [
    "RING_SIZE", "Position", "counting_probes", "hash64", "jump_hash", "mod_n", "rendezvous",
    "ring_hash", "vnode_label", "ConsistentHash", "md5_position",
    "hash_partition", "key_positions", "load_cv", "loads_of", "moved_fraction", "placement",
    "range_partition", "ring_owner", "ring_points", "ring_shares", "zipf_keys",
    "ROUTING", "RoutingResult", "assign_partitions", "hot_key_split", "index_read_latency",
    "moved_partitions", "route_requests", "split_ranges",
    "BALANCERS", "DEFAULT_SPEEDS", "Balancer", "BalanceRun", "IPHash", "LeastConnections",
    "LeastLoaded", "RandomChoice", "Request", "RoundRobin", "WeightedRoundRobin",
    "balls_into_bins", "percentile", "run_balancer",
    "PATTERNS", "CacheAside", "CacheRun", "CacheServer", "Database", "RefreshAhead", "WriteBehind",
    "WriteThrough", "run_cache", "stampede_run",
    "concurrent_misses", "fresh_after_writes", "lookup_probes", "moved_on_change", "no_stampede",
    "random_ring_ops", "ring_balance", "ring_owners", "tail_against_baselines", "tail_against_herding",
    "draw_ring", "plot_cv_vs_vnodes", "plot_db_queue", "plot_latencies", "plot_queues",
]
