"""Chapter 00: the tutorials' naive replicate-to-peers node, its workload and the exercise's scenario.

- :mod:`~course_lib.topics.welcome.naive`: :class:`NaiveReplica`, the "before" version of replication;
- :mod:`~course_lib.topics.welcome.workload`: client writes (:func:`schedule_writes`,
  :func:`random_writes`) and what the replicas hold (:func:`replica_states`, :func:`divergent_keys`,
  :func:`state_table`, :func:`write_labels`);
- :mod:`~course_lib.topics.welcome.rpc`: remote calls with at-most-once, at-least-once and
  exactly-once effect (:func:`rpc_run`, :func:`rpc_report`);
- :mod:`~course_lib.topics.welcome.scenarios`: :func:`replication_scenario`, the exercise's graded run.
"""

from .naive import NaiveReplica
from .rpc import SEMANTICS, Bank, Teller, rpc_report, rpc_run
from .scenarios import replication_scenario
from .workload import divergent_keys, random_writes, replica_states, schedule_writes, state_table, write_labels

__all__ = ["SEMANTICS", "Bank", "NaiveReplica", "Teller", "divergent_keys", "random_writes", "replica_states",
           "replication_scenario", "rpc_report", "rpc_run", "schedule_writes", "state_table", "write_labels"]
