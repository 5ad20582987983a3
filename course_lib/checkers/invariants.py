"""Protocol invariants: named checks a simulation runs after every event.

Each function here is a ``check(sim)`` for :meth:`~course_lib.sim.Simulation.add_invariant`:
it returns ``None`` while the run is fine and a ``str`` explaining the
violation otherwise, so the run stops at the first event that breaks it::

    sim.add_invariant("atomic_commit", atomic_commit)

- :func:`atomic_commit`: every node that decided a transaction decided the
  same outcome, never changed its mind, and nothing committed that a
  participant's database refused;
- :func:`at_most_one_leader`: at no moment do two live nodes believe they lead;
- :func:`at_most_one_leader_per_term`: no two nodes ever lead in the same term;
- :func:`fenced_writes_monotonic`: a storage node accepted writes in
  non-decreasing fencing-token order, and each token from one writer only.

What they read (so any class can be checked):

- commit protocols record ``"vote"`` and ``"decide"`` custom events in the trace
  (the helpers of :mod:`course_lib.topics.agreement.commit` do it), with ``txid`` and ``vote`` or
  ``outcome`` fields;
- a node "believes it leads" when it has an ``is_leader()`` method returning
  True; its term is its ``term`` attribute (None when it has none);
- a storage node lists what it accepted in ``accepted_writes``, a list of
  dicts with ``time``, ``writer``, ``token`` and ``value``.

The checks remember what they saw earlier in the same run (a decision, the
owner of a term), so a node that forgets after a crash is still caught.
"""

from __future__ import annotations

from typing import Any, Callable

from course_lib.sim import Simulation
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType


def _memory(sim: Any, name: str, fresh: Callable[[], Any]) -> Any:
    if sim.__class__ is not Simulation and not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation (an invariant is check(sim))")
    return sim.memo(("course_lib.checkers.invariants", name), fresh)


def _new_rows(sim: Any, name: str, *custom: str) -> list:
    """The custom events called one of ``custom`` recorded since this invariant last looked."""
    trace = sim.trace
    if not trace.enabled:
        raise InvalidArgument(f"invariant {name!r} reads the trace: create the Simulation with trace=True")
    state = _memory(sim, name + "/cursor", lambda: [0])
    start = state[0]
    state[0] = trace.mark()
    return trace.custom_since(start, *custom)


def atomic_commit(sim: Any) -> str | None:
    """All decided participants agree: one outcome per transaction, never changed, commit only if all voted yes.

    Reads the ``"vote"`` (``txid``, ``vote``) and ``"decide"`` (``txid``,
    ``outcome``) custom events of the trace.

    Example:
        >>> from course_lib.sim import Simulation, Node
        >>> sim = Simulation(seed=1)
        >>> a, b = sim.add_nodes(Node, ["a", "b"])
        >>> a.record("decide", txid="t1", outcome="commit")
        >>> b.record("decide", txid="t1", outcome="abort")
        >>> atomic_commit(sim)
        "transaction 't1': b decided abort at 0 but a decided commit at 0"
    """
    seen = _memory(sim, "atomic_commit", lambda: {"decided": {}, "no_votes": {}})
    decided: dict = seen["decided"]      # txid -> (outcome, node, time) of the first decision
    no_votes: dict = seen["no_votes"]    # txid -> (node, time) of a database that refused it
    for row in _new_rows(sim, "atomic_commit", "decide", "vote"):
        info = row[6] or {}
        txid, node, time = info.get("txid"), row[2], row[0]
        if row[4] == "vote":
            if info.get("vote") == "no":
                no_votes.setdefault(txid, (node, time))
                first = decided.get(txid)
                if first is not None and first[0] == "commit":
                    return (f"transaction {txid!r}: {node}'s database refused it at {time:g} "
                            f"but {first[1]} decided commit at {first[2]:g}")
            continue
        outcome = info.get("outcome")
        if outcome not in ("commit", "abort"):
            return f"transaction {txid!r}: {node} decided {outcome!r}; an outcome is 'commit' or 'abort'"
        first = decided.get(txid)
        if first is None:
            decided[txid] = (outcome, node, time)
        elif first[0] != outcome:
            return (f"transaction {txid!r}: {node} decided {outcome} at {time:g} "
                    f"but {first[1]} decided {first[0]} at {first[2]:g}")
        if outcome == "commit" and txid in no_votes:
            refuser, when = no_votes[txid]
            return (f"transaction {txid!r}: {node} decided commit at {time:g} although "
                    f"{refuser}'s database refused it at {when:g}")
    return None


def _claimants(sim: Any) -> list:
    if sim.__class__ is not Simulation and not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation (an invariant is check(sim))")
    out = []
    for node in sim.nodes.values():
        if node.crashed:
            continue
        is_leader = getattr(node, "is_leader", None)
        if callable(is_leader) and is_leader():
            out.append(node)
    return out


def at_most_one_leader(sim: Any) -> str | None:
    """At no moment do two live nodes believe they are the leader (``is_leader()`` is True).

    A paused node still counts: it believes what it believed when it stopped.
    """
    leaders = _claimants(sim)
    if len(leaders) > 1:
        names = ", ".join(f"{n.id} (term {getattr(n, 'term', None)!r})" for n in leaders)
        return f"{len(leaders)} nodes believe they lead at once: {names}"
    return None


def at_most_one_leader_per_term(sim: Any) -> str | None:
    """No two nodes lead in the same term, at once or one after the other.

    A node's term is its ``term`` attribute (a lease's fencing token is its
    term). Nodes without terms (``term`` missing or None) count as one term, so
    two of them leading at once is a split brain; one after the other is allowed.
    """
    owners = _memory(sim, "at_most_one_leader_per_term", dict)  # term -> (node id, time)
    now_by_term: dict = {}
    for node in _claimants(sim):
        term = getattr(node, "term", None)
        other = now_by_term.get(term)
        if other is not None:
            return f"{other} and {node.id} both lead in term {term!r} at time {sim.now:g}"
        now_by_term[term] = node.id
        if term is None:
            continue
        owner = owners.get(term)
        if owner is None:
            owners[term] = (node.id, sim.now)
        elif owner[0] != node.id:
            return (f"{node.id} leads in term {term!r} at time {sim.now:g}, "
                    f"but {owner[0]} led in that term at {owner[1]:g}")
    return None


def fenced_writes_monotonic(sim: Any) -> str | None:
    """Every storage node accepted writes with non-decreasing fencing tokens, each token from one writer.

    Reads ``accepted_writes`` of every node that has it; writes without a token
    (``token`` None) are not checked.
    """
    seen = _memory(sim, "fenced_writes_monotonic", dict)  # node id -> [cursor, highest, {token: writer}]
    for node in sim.nodes.values():
        accepted = getattr(node, "accepted_writes", None)
        if accepted is None:
            continue
        state = seen.setdefault(node.id, [0, None, {}])
        for write in accepted[state[0]:]:
            token, writer = write.get("token"), write.get("writer")
            if token is None:
                continue
            if state[1] is not None and token < state[1]:
                return (f"{node.id} accepted {writer}'s write with token {token!r} at "
                        f"{write.get('time', sim.now):g} after a write with token {state[1]!r}")
            owner = state[2].setdefault(token, writer)
            if owner != writer:
                return (f"{node.id} accepted writes with token {token!r} from two writers, "
                        f"{owner} and {writer} (the second at {write.get('time', sim.now):g})")
            state[1] = token if state[1] is None else max(state[1], token)
        state[0] = len(accepted)
    return None


#: The invariants by name, ready for ``for name, check in INVARIANTS.items(): sim.add_invariant(name, check)``.
INVARIANTS = {
    "atomic_commit": atomic_commit,
    "at_most_one_leader": at_most_one_leader,
    "at_most_one_leader_per_term": at_most_one_leader_per_term,
    "fenced_writes_monotonic": fenced_writes_monotonic,
}
