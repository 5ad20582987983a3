"""Leader election (chapter 03a): the tutorials' elections, bully, ring, leases, fencing, failure detection.

- :class:`HeartbeatElection`: a port of a common tutorial's ``LeaderElection``
  (heartbeats, a timeout, the highest id wins), which a partition splits into
  two leaders.
- :class:`BullyNode` and :class:`RingNode`: the two classic elections, with
  :func:`run_bully` and :func:`run_ring` to count their messages.
- :class:`LeaseStore`: a Redis / etcd-like key-value server with
  ``set_nx`` (create if absent, with a time to live) and ``expire``; ports of
  the tutorial's lease elections on top of it (:class:`RedisLeaderElection`,
  :class:`EtcdLeaderElection`).
- :class:`FencedStorage`: a storage service that checks fencing tokens.
- :func:`pause`: a stop-the-world pause (garbage collection, a stalled VM): the
  node keeps its memory and its beliefs, handles nothing meanwhile, and then
  handles everything that waited.
- :func:`watch_leaders`: record who believed they led, when, and in which term
  (draw it with :func:`course_lib.topics.agreement.leader_timeline`).
- :class:`FailureDetector` and :class:`HeartbeatMonitor`: the tutorial's
  missed-heartbeats failure detector.
- :func:`lease_scenario`: run a lock server and leader class through pauses,
  partitions and crashes, with the election invariants checked throughout;
  :func:`lock_server_scenario`: a lock server's replies to seeded random requests checked one by
  one against its contract.

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=1)
    >>> nodes = sim.add_nodes(HeartbeatElection, ["n1", "n2", "n3"])
    >>> sim.run(until=20)
    >>> [n.current_leader for n in nodes]
    ['n3', 'n3', 'n3']
"""


from .classic import ARRANGEMENTS, BullyNode, RingNode, ring_order, run_bully, run_ring
from .heartbeat import (FailureDetector, HeartbeatElection, Heartbeater, HeartbeatMonitor,
                        run_failure_detector, suspicions)
from .leadership import LeadershipLog, watch_leaders
from .leases import EtcdLeaderElection, FencedStorage, LeaseStore, RedisLeaderElection
from .pauses import is_paused, pause, pause_node
from .lock_server import lock_server_scenario
from .scenario import LEASE_TTL, lease_scenario

__all__ = [
    "ARRANGEMENTS", "BullyNode", "RingNode", "ring_order", "run_bully", "run_ring",
    "FailureDetector", "HeartbeatElection", "Heartbeater", "HeartbeatMonitor", "run_failure_detector",
    "suspicions", "LeadershipLog", "watch_leaders", "EtcdLeaderElection", "FencedStorage", "LeaseStore",
    "RedisLeaderElection", "is_paused", "pause", "pause_node", "LEASE_TTL", "lease_scenario",
    "lock_server_scenario",
]
