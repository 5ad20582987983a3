"""Chapter 02: the tutorials' naive clocks, a harness for learners' clocks, clock sync, broadcast, snapshots.

- :mod:`~course_lib.topics.clocks.naive`: :class:`LWWResolver` and :class:`NaiveVectorClock`,
  faithful ports of the common tutorials' conflict-resolution snippets (the "before" versions),
  and :class:`LWWReplica` with :func:`lww_scenario`, last-write-wins losing an update when the
  writers' clocks disagree;
- :mod:`~course_lib.topics.clocks.harness`: :class:`ClockNode` and :func:`run_clocks` drive clock
  classes (a learner's, or none) through a random workload on a random topology with drifting,
  offset and jumping physical clocks, recording every event's timestamp for the happens-before
  oracle (:mod:`course_lib.checkers.happens_before`);
- :mod:`~course_lib.topics.clocks.scenarios`: :func:`lamport_scenario`, :func:`vector_scenario`,
  :func:`hlc_scenario` and :func:`causal_broadcast_scenario`, the chapter's graded scenarios (a
  failure names the events, or the node and the posts, at fault);
- :mod:`~course_lib.topics.clocks.sync`: :func:`synchronise`, Cristian's algorithm and NTP over
  the simulated network;
- :mod:`~course_lib.topics.clocks.pictures`: :func:`clock_diagram`, space-time diagrams with
  timestamps and concurrent events;
- :mod:`~course_lib.topics.clocks.broadcast`: broadcast as received, FIFO and total (a sequencer),
  the :class:`BroadcastNode` machinery a causal broadcast (the exercise's) is built on, random
  chats over a network that reorders and duplicates, scripted :data:`SCHEDULES`, and
  :func:`order_violations`, which counts deliveries against the happens-before order;
- :mod:`~course_lib.topics.clocks.snapshot`: a bank whose snapshot is taken by the clock (the first
  attempt) and by Chandy and Lamport's markers, and :func:`snapshot_report`.

The clock interface the harness drives (the exercise's classes implement it)::

    clock.tick()        # a local event; returns its timestamp
    clock.send()        # a send event; returns the timestamp the message carries
    clock.receive(ts)   # a receive event of a message stamped ts; returns its timestamp
"""

from .broadcast import (BROADCASTS, SCHEDULES, BroadcastNode, FifoBroadcast, PlainBroadcast, SequencerBroadcast,
                        arrivals, broadcast_labels, broadcast_run, chat_scenario, deliveries, order_violations,
                        scripted_run)
from .harness import EVENT, TOPOLOGIES, ClockEvent, ClockNode, ClockRun, make_topology, run_clocks
from .naive import LWWReplica, LWWResolver, NaiveVectorClock, Versioned, lww_scenario
from .pictures import clock_diagram, format_timestamp
from .scenarios import (BROADCAST_CHECKS, HLC_CHECKS, VECTOR_CHECKS, causal_broadcast_scenario, check_vectors,
                        hlc_scenario, lamport_scenario, vector_scenario)
from .snapshot import KINDS, Branch, bank_run, cut_indices, draw_cut, snapshot_report
from .sync import METHODS, SyncClient, SyncResult, SyncRound, TimeServer, synchronise

__all__ = [
    "EVENT", "TOPOLOGIES", "ClockEvent", "ClockNode", "ClockRun", "make_topology", "run_clocks",
    "LWWReplica", "LWWResolver", "NaiveVectorClock", "Versioned", "lww_scenario",
    "clock_diagram", "format_timestamp",
    "HLC_CHECKS", "VECTOR_CHECKS", "check_vectors", "hlc_scenario", "lamport_scenario", "vector_scenario",
    "BROADCAST_CHECKS", "causal_broadcast_scenario",
    "METHODS", "SyncClient", "SyncResult", "SyncRound", "TimeServer", "synchronise",
    "BROADCASTS", "SCHEDULES", "BroadcastNode", "FifoBroadcast", "PlainBroadcast", "SequencerBroadcast",
    "arrivals", "broadcast_labels", "broadcast_run", "chat_scenario", "deliveries", "order_violations",
    "scripted_run",
    "KINDS", "Branch", "bank_run", "cut_indices", "draw_cut", "snapshot_report",
]
