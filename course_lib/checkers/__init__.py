"""Checkers: decide whether a history, or a set of replicas, is consistent.

- :func:`linearizable`: linearizability against a model (``"register"``,
  ``"kv"`` or your own, see :mod:`course_lib.checkers.models`);
- :func:`sequential_consistency`: sequential consistency of a small history;
- :func:`read_your_writes`, :func:`monotonic_reads`,
  :func:`monotonic_writes`, :func:`writes_follow_reads`: session guarantees;
- :func:`causal_memory`: Ahamad et al.'s causal memory, on a history of one register;
- :func:`converged`: all replicas hold the same state.
- Protocol invariants for ``sim.add_invariant`` (see
  :mod:`course_lib.checkers.invariants`): :func:`atomic_commit`,
  :func:`at_most_one_leader`, :func:`at_most_one_leader_per_term`,
  :func:`fenced_writes_monotonic`.

Each returns a result whose ``valid`` is the verdict (truthy only when it is
True) and whose ``explain()`` says why. :data:`CHECKERS` maps readable names
to the history checkers.

Example::

    >>> from course_lib.history import load_jepsen, bundled_history_path
    >>> linearizable(load_jepsen(bundled_history_path("c10-bad")), "kv").valid
    False
"""

from course_lib.checkers.causal import CausalResult, causal_memory
from course_lib.checkers.convergence import ConvergenceResult, converged
from course_lib.checkers.happens_before import HappensBefore
from course_lib.checkers.invariants import (
    INVARIANTS,
    at_most_one_leader,
    at_most_one_leader_per_term,
    atomic_commit,
    fenced_writes_monotonic,
)
from course_lib.checkers.linearizability import LinearizabilityResult, linearizable
from course_lib.checkers.models import MODELS, KVModel, Model, RegisterModel
from course_lib.checkers.sequential import SequentialResult, sequential_consistency
from course_lib.checkers.session import (
    SessionResult,
    Violation,
    monotonic_reads,
    monotonic_writes,
    read_your_writes,
    writes_follow_reads,
)

CHECKERS = {
    "linearizable": linearizable,
    "sequential consistency": sequential_consistency,
    "read your writes": read_your_writes,
    "monotonic reads": monotonic_reads,
    "monotonic writes": monotonic_writes,
    "writes follow reads": writes_follow_reads,
}
"""History checkers by readable name (the first two also take a model)."""

__all__ = [
    "HappensBefore",
    "CHECKERS",
    "CausalResult",
    "ConvergenceResult",
    "KVModel",
    "LinearizabilityResult",
    "MODELS",
    "Model",
    "RegisterModel",
    "SequentialResult",
    "SessionResult",
    "Violation",
    "causal_memory",
    "converged",
    "linearizable",
    "monotonic_reads",
    "monotonic_writes",
    "read_your_writes",
    "sequential_consistency",
    "writes_follow_reads",
    "INVARIANTS",
    "at_most_one_leader",
    "at_most_one_leader_per_term",
    "atomic_commit",
    "fenced_writes_monotonic",
]
