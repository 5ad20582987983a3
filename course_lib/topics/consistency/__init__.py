"""Chapter 01: a replicated register with a CP/AP switch, its clients, its workload and its meters.

Two register replicas, two points of the CAP trade-off:

- :class:`AsyncReplica` (**AP**): every replica answers from its own copy at
  once, pushes each write to its peers in the background and repairs misses
  by periodic anti-entropy (every replica resends its whole copy to every
  other); concurrent writes are reconciled by last-writer-wins on versions
  ``(counter, node id)``. Always available; converges once the network
  heals; reads may be stale, so histories need not be linearizable.
  ``write_acks=k`` makes it wait for ``k`` peers before acknowledging a write
  (the PACELC "else" knob: latency against staleness).
- :class:`PrimaryReplica` (**CP**): one fixed primary holds the only copy of
  the truth; the other replicas forward each client request to it and refuse
  when it does not answer within ``forward_timeout``. Linearizable; not
  available on the far side of a partition from the primary.

Neither is the majority-quorum register: that one is the chapter's exercise.

The client/replica protocol
---------------------------
Clients are nodes (:class:`RegisterClient`) that send *requests* to one
replica with :meth:`~course_lib.sim.Node.request` and wait for the reply.
Any replica class that speaks this protocol can be run, measured and drawn by
:func:`run_workload`:

==========================  ==================================================
client sends                replica answers with ``self.reply(request, ...)``
==========================  ==================================================
``read(key, op)``           ``read_ok(value)``: the value read (None if never
                            written), or ``error(reason, definite)``
``write(key, value, op)``   ``write_ok()``, or ``error(reason, definite)``
==========================  ==================================================

- ``op`` is an operation id, unique over the whole run (a tuple ``(process,
  client incarnation, n)``); a replica may use it to recognise a request the
  network duplicated.
- ``error`` refuses the operation. ``definite=True`` (the default when the
  field is absent) promises that the operation did **not** take effect: the
  client records ``fail``. Send ``definite=False`` when it may have taken
  effect anyway (for instance a write already sent to other replicas before
  giving up): the client records ``info``.
- No reply within the client's ``timeout``: the client records ``info``
  (indeterminate: the request or its reply may be lost, or just slow).
- Anything else (a ``write_ok`` to a read, say) is a protocol error and stops
  the run with an error naming the replica and the message.

A replica class is created as ``cls(replicas, **replica_options)``, where
``replicas`` lists every replica id, its own included (``self.peers`` also
contains the clients, so use this list to talk to other replicas). Subclass
:class:`RegisterReplica` for the list, :attr:`RegisterReplica.others` and the
answering helpers :meth:`~RegisterReplica.answer_read`,
:meth:`~RegisterReplica.answer_write` and :meth:`~RegisterReplica.refuse`.
Define ``snapshot()`` (``{key: value}`` of the local copy) to let
:meth:`RegisterRun.converged` compare replicas.

Measuring
---------
A run's :class:`~course_lib.history.History` is judged by
:func:`stale_reads` (reads that returned a value some acknowledged write had
already overwritten before the read began), :func:`first_violation` (the time
from which the history stops being linearizable), :func:`windows`
(availability, stale reads and "linearizable so far" per time window) and
:func:`latencies`; :func:`plot_windows` draws them with the partitions shaded.

Modules
-------
:mod:`~.replicas` (the replica classes), :mod:`~.client` (:class:`RegisterClient`),
:mod:`~.workload` (:func:`run_workload`, :class:`Clients`, :class:`Faults`,
:class:`RegisterRun`, :func:`summary_table`), :mod:`~.metrics` (the meters), :mod:`~.pictures`
(:func:`plot_windows`, :func:`plot_register_history`, :func:`plot_model_map`) and
:mod:`~.scenarios` (the exercise's scenarios, :func:`coordinator_scenario` among scripted peers).

Example:
    >>> run = run_workload("CP", seed=1, duration=60, faults=Faults(partition=(20, 40)))
    >>> run.check().valid
    True
    >>> s = run.summary()
    >>> s["availability"] < 1.0, s["stale_reads"]
    (True, 0)
"""

from .client import ROUTES, RegisterClient
from .metrics import StaleRead, Window, first_violation, latencies, stale_reads, windows
from .pictures import MODEL_MAP, plot_model_map, plot_register_history, plot_windows
from .replicas import INITIAL_VERSION, MODES, AsyncReplica, PrimaryReplica, RegisterReplica
from .scenarios import (COORDINATOR_CASES, CoordinatorRun, coordinator_scenario, interrupted_write_scenario,
                        quorum_scenario, session_run, session_scenario)
from .workload import LATENCY, Clients, Faults, RegisterRun, run_workload, summary_table

__all__ = [
    "AsyncReplica",
    "Clients",
    "Faults",
    "INITIAL_VERSION",
    "LATENCY",
    "MODEL_MAP",
    "MODES",
    "PrimaryReplica",
    "ROUTES",
    "RegisterClient",
    "RegisterReplica",
    "RegisterRun",
    "StaleRead",
    "Window",
    "first_violation",
    "interrupted_write_scenario",
    "latencies",
    "plot_model_map",
    "plot_register_history",
    "plot_windows",
    "quorum_scenario",
    "coordinator_scenario",
    "COORDINATOR_CASES",
    "CoordinatorRun",
    "run_workload",
    "session_run",
    "session_scenario",
    "stale_reads",
    "summary_table",
    "windows",
]
