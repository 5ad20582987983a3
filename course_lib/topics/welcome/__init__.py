"""Chapter 00: the tutorials' naive replicate-to-peers node, its workload and the exercise's scenario.

- :mod:`~course_lib.topics.welcome.naive`: :class:`NaiveReplica`, the "before" version of replication;
- :mod:`~course_lib.topics.welcome.workload`: client writes (:func:`schedule_writes`,
  :func:`random_writes`) and what the replicas hold (:func:`replica_states`, :func:`divergent_keys`);
- :mod:`~course_lib.topics.welcome.scenarios`: :func:`replication_scenario`, the exercise's graded run.
"""

from .naive import NaiveReplica
from .scenarios import replication_scenario
from .workload import divergent_keys, random_writes, replica_states, schedule_writes

__all__ = ["NaiveReplica", "divergent_keys", "random_writes", "replica_states", "replication_scenario",
           "schedule_writes"]
