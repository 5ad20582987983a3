"""Raft's safety properties (Figure 3 of the Raft paper) as invariants checked after every event.

Register them on a simulation and the run stops at the first event that breaks one::

    from course_lib.checkers import raft as raft_invariants
    raft_invariants.register(sim)

- :func:`election_safety`: at most one leader is ever elected in a term;
- :func:`log_matching`: if two logs hold an entry with the same index and term,
  they are identical up to that index (and terms never decrease along a log);
- :func:`leader_completeness`: a committed entry is in the log of every leader
  of a later term;
- :func:`state_machine_safety`: no two servers apply different commands at the
  same index.

What they read, so any Raft class can be checked: a node's ``role``
(``"leader"`` when it leads), ``current_term`` and ``log`` (a list of
``(term, command)`` pairs, index 1 first, or a compacted log such as
:class:`course_lib.topics.raft.RaftLog`: an object with ``snapshot_index``,
``snapshot_term`` and ``entries()``, the entries after the snapshot), and the
``"apply"`` and ``"apply_snapshot"`` custom events of the trace (``index``,
``command``, ``term``; ``index``, ``term``, ``data``), which
:meth:`course_lib.topics.raft.RaftBase.apply` and
:meth:`~course_lib.topics.raft.RaftBase.apply_snapshot` record.

With snapshots: entries inside a node's snapshot are not in its log, so log
matching and leader completeness look only at the entries it holds (the first
one follows the snapshot's term); state machine safety compares snapshots
applied at the same index (same term), and when a snapshot's data is the
tuple of the commands it replaces (as in
:class:`~course_lib.topics.raft.RaftCluster`'s snapshots), each of them with
what other servers applied at its index (a service's own state is not
compared: it may hold what differs between servers).

They remember what they saw earlier in the run (the leader of each term, every
entry ever held, every command applied), so a node that forgets after a crash
is still caught. They are incremental: after an event they look only at the
nodes that event touched, and compare a log with its last checked copy first,
so checking after every event stays cheap.
"""

from __future__ import annotations

from typing import Any

from course_lib.sim import Simulation
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType


NAMES = ("election_safety", "log_matching", "leader_completeness", "state_machine_safety")


class _Watch:
    """What the four invariants remember about one simulation."""

    #: Which event was looked at last: scratch, not state, for a schedule search (course_lib.sim.control).
    search_transient = ("stamp",)
    stamp: tuple | None = None

    def __init__(self) -> None:
        self.stamp = None
        self.cursor = 0
        self.first = True
        self.found: dict[str, str] = {}
        self.leaders: dict[int, tuple] = {}       # term -> (node id, time)
        self.entries: dict[tuple, tuple] = {}     # (index, term) -> (command, previous term, node, time)
        self.snapshots: dict[Any, list] = {}      # node id -> copy of the log as last checked
        self.committed: list = [None]             # index -> (command, term bound, node, time)
        self.complete_upto: dict[Any, tuple] = {}  # node id -> (term, committed indices verified)
        self.snapshot_points: dict[int, tuple] = {}  # index -> (term, data, node, time) of a snapshot applied

    def search_state(self) -> tuple:
        """What a schedule search compares (course_lib.sim.control): the facts, not the cursors."""
        return (self.found, self.leaders, self.entries, self.committed, self.complete_upto)


def _watch(sim: Any) -> _Watch:
    if sim.__class__ is not Simulation and not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation (an invariant is check(sim))")
    return sim.memo("course_lib.checkers.raft", _Watch)


def _update(sim: Any) -> _Watch:
    """Look at what happened since the last check, once per event for all four invariants."""
    watch = _watch(sim)
    trace = sim.trace
    if not trace.enabled:
        raise InvalidArgument("the Raft invariants read the trace: create the Simulation with trace=True")
    stamp = (sim.events_processed, trace.mark())
    if stamp == watch.stamp:
        return watch
    watch.stamp = stamp
    cursor = watch.cursor
    watch.cursor = stamp[1]
    nodes = sim.nodes
    if watch.first:
        touched = list(nodes)
        watch.first = False
    else:  # the nodes the new events happened at (read without building the events)
        touched = [n for n in trace.nodes_since(cursor) if n in nodes]
    now = sim.now
    for row in trace.custom_since(cursor, "apply"):  # applies first: leader completeness needs them
        _see_apply(watch, row)
    for row in trace.custom_since(cursor, "apply_snapshot"):
        _see_snapshot(watch, row)
    for node_id in touched:
        node = nodes[node_id]
        if not hasattr(node, "log"):
            continue
        changed_from = _see_log(watch, node_id, node, now)
        _see_leader(watch, node_id, node, now, changed_from)
    return watch


def _note(watch: _Watch, name: str, message: str) -> None:
    watch.found.setdefault(name, message)


def _see_apply(watch: _Watch, row: tuple) -> None:
    info = row[6] or {}
    index, command, term = info.get("index"), info.get("command"), info.get("term")
    node, time = row[2], row[0]
    committed = watch.committed
    if not isinstance(index, int) or index < 1:
        _note(watch, "state_machine_safety", f"{node} applied index {index!r}; log indices start at 1")
        return
    if index < len(committed):
        first = committed[index]
        if first is None:
            committed[index] = (command, term, node, time)
        elif first[0] != command:
            _note(watch, "state_machine_safety",
                  f"{node} applied {command!r} at index {index} (time {time:g}), but {first[2]} "
                  f"applied {first[0]!r} at that index at time {first[3]:g}")
        elif term is not None and (first[1] is None or term < first[1]):
            committed[index] = (first[0], term, first[2], first[3])
        return
    committed.extend([None] * (index - len(committed)))
    committed.append((command, term, node, time))


def _see_snapshot(watch: _Watch, row: tuple) -> None:
    info = row[6] or {}
    index, term, data = info.get("index"), info.get("term"), info.get("data")
    node, time = row[2], row[0]
    if not isinstance(index, int) or index < 1:
        _note(watch, "state_machine_safety", f"{node} applied a snapshot through index {index!r}")
        return
    commands = isinstance(data, tuple) and len(data) == index  # the commands it replaces, not a state
    first = watch.snapshot_points.get(index)
    if first is None:
        watch.snapshot_points[index] = (term, data if commands else None, node, time)
    else:
        # A service's own state is compared by its term only: it may hold what differs between servers
        # (and a service may change the object it was handed).
        same = first[0] == term and (first[1] is None or not commands or first[1] == data)
        if not same:
            _note(watch, "state_machine_safety",
                  f"{node} applied a snapshot through index {index} (term {term}) at time {time:g}, but "
                  f"{first[2]} applied a different one through index {index} (term {first[0]}) at time "
                  f"{first[3]:g}: the state after an index must be the same on every server")
            return
    if commands:  # check each command against what the others applied at its index
        for i, command in enumerate(data, start=1):
            _see_apply(watch, (time, None, node, None, None, None,
                               {"index": i, "command": command, "term": info.get("current_term")}))
            if "state_machine_safety" in watch.found:
                return


def _see_log(watch: _Watch, node_id: Any, node: Any, now: float) -> int | None:
    """Check the entries of ``node``'s log that changed; return the first changed position."""
    log = node.log
    if log.__class__ is not list and hasattr(log, "snapshot_index") and hasattr(log, "entries"):
        return _see_compacted_log(watch, node_id, log, now)
    snap = watch.snapshots.get(node_id)
    if snap is not None and log == snap:
        return None
    if not isinstance(log, list):
        _note(watch, "log_matching", f"{node_id}.log is a {type(log).__name__}; it must be a list of "
                                     "(term, command) entries")
        return 0
    k = 0
    if snap is not None:
        n = len(snap)
        if len(log) >= n and log[:n] == snap:
            k = n
        else:
            limit = min(n, len(log))
            while k < limit and log[k] == snap[k]:
                k += 1
    entries = watch.entries
    prev_term = log[k - 1][0] if k else 0
    for i in range(k, len(log)):
        entry = log[i]
        if type(entry) is not tuple or len(entry) != 2 or not isinstance(entry[0], int):
            _note(watch, "log_matching", f"{node_id}.log[{i}] = {entry!r} is not an entry (term, command)")
            break
        term = entry[0]
        if term < prev_term:
            _note(watch, "log_matching",
                  f"{node_id}'s log has an entry of term {term} at index {i + 1} after one of term "
                  f"{prev_term}: terms never decrease along a log (time {now:g})")
            break
        key = (i + 1, term)
        seen = entries.get(key)
        if seen is None:
            entries[key] = (entry[1], prev_term, node_id, now)
        elif seen[0] != entry[1] or seen[1] != prev_term:
            _note(watch, "log_matching",
                  f"{node_id} holds {entry[1]!r} at index {i + 1} in term {term} (after an entry of term "
                  f"{prev_term}) at time {now:g}, but {seen[2]} held {seen[0]!r} at index {i + 1} in "
                  f"term {term} (after term {seen[1]}) at time {seen[3]:g}: two logs with the same "
                  "entry must be identical up to it")
            break
        prev_term = term
    watch.snapshots[node_id] = list(log)
    return k


def _see_compacted_log(watch: _Watch, node_id: Any, log: Any, now: float) -> int | None:
    """:func:`_see_log` for a log with a snapshot: check the entries it holds after the snapshot."""
    base, base_term, held = log.snapshot_index, log.snapshot_term, log.entries()
    copy = (base, base_term, held)
    if watch.snapshots.get(node_id) == copy:
        return None
    watch.snapshots[node_id] = copy
    entries = watch.entries
    prev_term = base_term
    for j, entry in enumerate(held):
        index = base + 1 + j
        if type(entry) is not tuple or len(entry) != 2 or not isinstance(entry[0], int):
            _note(watch, "log_matching", f"{node_id}'s log entry {index} = {entry!r} is not an entry "
                                         "(term, command)")
            break
        term = entry[0]
        if term < prev_term:
            _note(watch, "log_matching",
                  f"{node_id}'s log has an entry of term {term} at index {index} after "
                  f"{'its snapshot' if j == 0 else 'one'} of term {prev_term}: terms never decrease "
                  f"along a log (time {now:g})")
            break
        key = (index, term)
        seen = entries.get(key)
        if seen is None:
            entries[key] = (entry[1], prev_term, node_id, now)
        elif seen[0] != entry[1] or seen[1] != prev_term:
            _note(watch, "log_matching",
                  f"{node_id} holds {entry[1]!r} at index {index} in term {term} (after an entry of term "
                  f"{prev_term}) at time {now:g}, but {seen[2]} held {seen[0]!r} at index {index} in "
                  f"term {term} (after term {seen[1]}) at time {seen[3]:g}: two logs with the same "
                  "entry must be identical up to it")
            break
        prev_term = term
    return base


def _see_leader(watch: _Watch, node_id: Any, node: Any, now: float, changed_from: int | None) -> None:
    if getattr(node, "role", None) != "leader":
        return
    term = node.current_term
    owner = watch.leaders.get(term)
    if owner is None:
        watch.leaders[term] = (node_id, now)
    elif owner[0] != node_id:
        _note(watch, "election_safety",
              f"{node_id} is leader of term {term} at time {now:g}, but {owner[0]} was elected "
              f"leader of term {term} at time {owner[1]:g}")
    # leader completeness: every entry committed in an earlier term is in this leader's log
    done_term, upto = watch.complete_upto.get(node_id, (None, 0))
    if done_term != term:
        upto = 0
    if changed_from is not None and changed_from < upto:
        upto = changed_from
    committed = watch.committed
    log = node.log
    base = 0 if log.__class__ is list else getattr(log, "snapshot_index", 0)
    for index in range(upto + 1, len(committed)):
        record = committed[index]
        if record is None:
            break
        if (record[1] is not None and record[1] >= term) or index <= base:
            upto = index  # committed in this term or later, or in its snapshot: nothing to compare
            continue
        if index > len(log) or log[index - 1][1] != record[0]:
            held = repr(log[index - 1][1]) if index <= len(log) else "nothing"
            _note(watch, "leader_completeness",
                  f"{node_id} leads term {term} at time {now:g} but holds {held} at index {index}, "
                  f"where {record[2]} applied the committed command {record[0]!r} at time "
                  f"{record[3]:g} (in term {record[1]})")
            break
        upto = index
    watch.complete_upto[node_id] = (term, upto)


def election_safety(sim: Any) -> str | None:
    """At most one leader is elected in any term, over the whole run (Figure 3, Election Safety).

    Example:
        >>> from course_lib.sim import Simulation, Node
        >>> sim = Simulation(seed=1)
        >>> a, b = sim.add_nodes(Node, ["a", "b"])
        >>> for n in (a, b):
        ...     n.role, n.current_term, n.log = "leader", 1, []
        >>> election_safety(sim)
        'b is leader of term 1 at time 0, but a was elected leader of term 1 at time 0'
    """
    return _update(sim).found.get("election_safety")


def log_matching(sim: Any) -> str | None:
    """Two logs holding an entry with the same index and term are identical up to it (Log Matching)."""
    return _update(sim).found.get("log_matching")


def leader_completeness(sim: Any) -> str | None:
    """An entry committed (applied by some server) is in the log of every leader of a later term.

    The term an entry was committed in is bounded by the term of the first
    server that applied it, so the check never blames a leader that may
    legitimately lack the entry.
    """
    return _update(sim).found.get("leader_completeness")


def state_machine_safety(sim: Any) -> str | None:
    """No two servers apply different commands at the same log index (State Machine Safety)."""
    return _update(sim).found.get("state_machine_safety")


#: The four invariants by name.
INVARIANTS = {
    "election_safety": election_safety,
    "log_matching": log_matching,
    "leader_completeness": leader_completeness,
    "state_machine_safety": state_machine_safety,
}


def register(sim: Any) -> None:
    """Check all four Raft invariants after every event of ``sim``.

    Raises:
        InvalidArgumentType: ``sim`` is not a Simulation.
        InvalidArgument: ``sim`` records no trace (the invariants read it).
    """
    if not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation")
    if not sim.trace.enabled:
        raise InvalidArgument("the Raft invariants read the trace: create the Simulation with trace=True")
    for name, check in INVARIANTS.items():
        sim.add_invariant(name, check)
