"""Chapter 02: the seeds' naive clock code, a harness that drives learners' clocks, clock synchronisation.

- :mod:`~course_lib.topics.clocks.naive`: :class:`LWWResolver` and :class:`NaiveVectorClock`,
  faithful ports of the common tutorials' conflict-resolution snippets (the "before" versions),
  and :class:`LWWReplica` with :func:`lww_scenario`, last-write-wins losing an update when the
  writers' clocks disagree;
- :mod:`~course_lib.topics.clocks.harness`: :class:`ClockNode` and :func:`run_clocks` drive clock
  classes (a learner's, or none) through a random workload on a random topology with drifting,
  offset and jumping physical clocks, recording every event's timestamp for the happens-before
  oracle (:mod:`course_lib.checkers.happens_before`);
- :mod:`~course_lib.topics.clocks.scenarios`: :func:`lamport_scenario`, :func:`vector_scenario`
  and :func:`hlc_scenario`, the chapter's graded scenarios (a failure names the two events at fault);
- :mod:`~course_lib.topics.clocks.sync`: :func:`synchronise`, Cristian's algorithm and NTP over
  the simulated network;
- :mod:`~course_lib.topics.clocks.pictures`: :func:`clock_diagram`, space-time diagrams with
  timestamps and concurrent events.

The clock interface the harness drives (the exercise's classes implement it)::

    clock.tick()        # a local event; returns its timestamp
    clock.send()        # a send event; returns the timestamp the message carries
    clock.receive(ts)   # a receive event of a message stamped ts; returns its timestamp
"""

from .harness import EVENT, TOPOLOGIES, ClockEvent, ClockNode, ClockRun, make_topology, run_clocks
from .naive import LWWReplica, LWWResolver, NaiveVectorClock, Versioned, lww_scenario
from .pictures import clock_diagram, format_timestamp
from .scenarios import (HLC_CHECKS, VECTOR_CHECKS, check_vectors, hlc_scenario, lamport_scenario,
                        vector_scenario)
from .sync import METHODS, SyncClient, SyncResult, SyncRound, TimeServer, synchronise

__all__ = [
    "EVENT", "TOPOLOGIES", "ClockEvent", "ClockNode", "ClockRun", "make_topology", "run_clocks",
    "LWWReplica", "LWWResolver", "NaiveVectorClock", "Versioned", "lww_scenario",
    "clock_diagram", "format_timestamp",
    "HLC_CHECKS", "VECTOR_CHECKS", "check_vectors", "hlc_scenario", "lamport_scenario", "vector_scenario",
    "METHODS", "SyncClient", "SyncResult", "SyncRound", "TimeServer", "synchronise",
]
