"""Chapter 00 scaffolding: the seeds' naive replicate-to-peers node, and its workload.

:class:`NaiveReplica` is a faithful port of a common tutorial's first example
(a Ruby ``Node`` whose ``write`` stores locally and calls
``receive_replication`` on every peer). In the simulator the call becomes a
fire-and-forget message, which is exactly what it was all along: nothing checks
that it arrived, nothing retries, nothing notices a duplicate.

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=0)
    >>> nodes = sim.add_nodes(NaiveReplica, ["n1", "n2", "n3"])
    >>> sim.at(1.0, nodes[0].write, "user:123", "Alice")
    >>> sim.run(until=10)
    >>> [n.read("user:123") for n in nodes]
    ['Alice', 'Alice', 'Alice']
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from .sim import Node, Simulation, Uniform
from .sim.validation import (InvalidArgument, InvalidArgumentType, check_ids, check_int,
                             check_number, check_type)


class NaiveReplica(Node):
    """Store writes locally and tell every peer once; the "before" version of replication."""

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    def write(self, key: Any, value: Any) -> None:
        """Client write: store locally, then replicate to peers (fire and forget)."""
        self.data[key] = value
        self.record("write", key=key, value=value)
        self.replicate_to_peers(key, value)

    def read(self, key: Any) -> Any:
        """Client read of the local copy (``None`` when missing)."""
        return self.data.get(key)

    def replicate_to_peers(self, key: Any, value: Any) -> None:
        for peer in self.peers:
            self.send(peer, "replicate", key=key, value=value)

    def on_replicate(self, msg: Any) -> None:
        self.data[msg.key] = msg.value


def schedule_writes(sim: Simulation, writes: Iterable[tuple[float, Any, Any, Any]]) -> None:
    """Schedule client writes ``(time, node_id, key, value)``: each calls ``node.write(key, value)``.

    Raises:
        InvalidArgument: a write is not such a tuple, names an unknown node or a
            time before now (checked for every write before any is scheduled).
        InvalidArgumentType: ``sim`` is not a Simulation, ``writes`` is not an
            iterable of tuples, or a node has no ``write(key, value)`` method.
    """
    check_type("sim", sim, Simulation)
    if isinstance(writes, (str, bytes)) or not isinstance(writes, Iterable):
        raise InvalidArgumentType(f"writes={writes!r} must be a list of (time, node_id, key, value) tuples")
    planned = []
    for index, item in enumerate(writes):  # check them all before scheduling any
        if not (isinstance(item, tuple) and len(item) == 4):
            raise InvalidArgument(f"writes[{index}]={item!r} must be a tuple (time, node_id, key, value)")
        time, node_id, key, value = item
        sim.check_node(f"writes[{index}]: node_id", node_id)
        node = sim.node(node_id)
        if not callable(getattr(node, "write", None)):
            raise InvalidArgumentType(f"writes[{index}]: node {node_id!r} has no write(key, value) method")
        check_number(f"writes[{index}]: time", time, what="a time")
        if time < sim.now:
            raise InvalidArgument(f"writes[{index}]: time={time!r} must be a time >= now ({sim.now:g})")
        planned.append((time, node, key, value))
    for time, node, key, value in planned:
        sim.at(time, _client_write, node, key, value)


def _client_write(node: Node, key: Any, value: Any) -> None:
    if not node.crashed:  # a client cannot write to a node that is down
        node.write(key, value)


def random_writes(sim: Simulation, node_ids: Sequence[Any], *, count: int, keys: Sequence[Any],
                  start: float = 0.0, end: float = 50.0,
                  stream: str = "workload") -> list[tuple[float, Any, Any, Any]]:
    """Draw ``count`` writes at seeded random times in ``[start, end)``, unique values ``v1, v2, ...``.

    ``stream`` names the random stream: two calls with the same name draw the same writes.

    Raises:
        InvalidArgument: ``count`` is negative, ``node_ids`` or ``keys`` is empty
            or names one twice, a node is not one of ``sim``'s, or ``end`` is not
            after ``start`` (both finite times >= 0).
        InvalidArgumentType: an argument has the wrong type (a single str
            instead of a list, a float count, ...).
    """
    check_type("sim", sim, Simulation)
    count = check_int("count", count, low=0)
    keys = _check_list("keys", keys, "keys such as ['x', 'y']")
    node_ids = check_ids("node_ids", node_ids)
    for node_id in node_ids:
        if isinstance(node_id, bool) or node_id not in sim.nodes:
            raise InvalidArgument(f"node_ids={node_ids!r} names {node_id!r}, which is not a node of "
                                  f"this simulation; nodes are {sim.node_ids}")
    check_number("start", start, low=0, what="a time")
    check_number("end", end, what="a time")
    if not end > start:
        raise InvalidArgument(f"end={end!r} must be after start={start!r}")
    check_type("stream", stream, str, what="a str naming the random stream")
    rng = sim.rng_for(stream)
    times = sorted(rng.uniform(start, end) for _ in range(count))
    return [(t, node_ids[rng.randrange(len(node_ids))], keys[rng.randrange(len(keys))], f"v{i + 1}")
            for i, t in enumerate(times)]


def _check_list(name: str, value: Any, what: str) -> list:
    """Return ``value`` as a list: a non-empty sequence (not a str, not a set) without repeats."""
    if isinstance(value, (str, bytes, set, frozenset)) or not isinstance(value, Sequence):
        raise InvalidArgumentType(f"{name}={value!r} must be a list of {what}, not a "
                                  f"{type(value).__name__}")
    out = list(value)
    if not out:
        raise InvalidArgument(f"{name}={value!r} must not be empty")
    for index, item in enumerate(out):
        try:
            if item in out[:index]:
                raise InvalidArgument(f"{name}={value!r} names {item!r} twice")
        except TypeError:
            raise InvalidArgumentType(f"{name} holds {item!r}, which cannot be compared") from None
    return out


def _states(sim: Simulation, attribute: str) -> dict[Any, dict]:
    check_type("sim", sim, Simulation)
    check_type("attribute", attribute, str, what="a str naming a dict attribute of every node")
    states = {}
    for node_id, node in sim.nodes.items():
        try:
            value = getattr(node, attribute)
        except AttributeError:
            raise InvalidArgument(f"attribute={attribute!r}: node {node_id!r} has no attribute "
                                  f"{attribute!r}") from None
        try:
            states[node_id] = dict(value)
        except (TypeError, ValueError):
            raise InvalidArgumentType(f"attribute={attribute!r}: node {node_id!r} holds "
                                      f"{value!r}, which is not a dict") from None
    return states


def replica_states(sim: Simulation, attribute: str = "data") -> dict[Any, dict]:
    """Return each node's copy of the data (``node.<attribute>``), by node id.

    Raises:
        InvalidArgument: a node has no such attribute.
        InvalidArgumentType: ``sim`` is not a Simulation, or an attribute is not a dict.
    """
    return _states(sim, attribute)


def divergent_keys(sim: Simulation, attribute: str = "data") -> list[Any]:
    """Return the keys on which the replicas disagree (missing counts as a different value).

    Raises:
        InvalidArgument, InvalidArgumentType: as :func:`replica_states`.
    """
    states = _states(sim, attribute)
    keys: dict[Any, None] = {}
    for state in states.values():
        for k in state:
            keys.setdefault(k, None)
    missing = object()
    return [k for k in keys if len({repr(s.get(k, missing)) for s in states.values()}) > 1]


# -- the chapter 00 exercise's scenarios ---------------------------------------------------------
# A replica class under test must offer ``write(key, value) -> version`` (any
# orderable version; the newest version of a key must win everywhere) and
# ``read(key)``. These scenarios only drive and observe it: the replication
# protocol itself is the learner's.

def replication_scenario(cls: type, seed: Any, *, nodes: int = 3, writes: int = 15,
                         keys: Sequence[Any] = ("x", "y", "z"), loss: float = 0.0,
                         duplicate: float = 0.0, reorder: float = 0.0,
                         partition: bool = False, crash: bool = False,
                         write_until: float = 60.0, settle: float = 200.0,
                         quiet_after: float | None = None, max_events: int = 200_000) -> Simulation:
    """Run ``writes`` client writes on a cluster of ``cls`` under faults, then check convergence.

    Checks, after ``settle`` time units with the network healed and every node up:
    every replica reads the same value for every written key, and that value is
    the one of the write with the highest version. With ``quiet_after``, also
    checks that no message at all is sent after that time (the protocol stops
    once everything is acknowledged).

    Args:
        cls: the replica class (a :class:`~course_lib.sim.Node` with ``write`` and ``read``).
        seed: the simulation seed.
        nodes: cluster size (>= 2).
        writes: number of client writes, at seeded random times before ``write_until``.
        loss, duplicate, reorder: network faults for the whole run.
        partition: cut a random minority off from 10% to 60% of ``write_until``.
        crash: crash a random node at 30% and restart it at 70% of ``write_until``.
        settle: total run time; faults end by ``write_until``.
        quiet_after: if set, the time after which no message may be sent.
        max_events: a cap on deliveries and timer firings (a message storm fails the run).

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: the replicas disagree, lost a write, or never go quiet.
    """
    from .sim.errors import ScenarioFailed

    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise InvalidArgumentType(f"cls={cls!r} must be your replica class, a subclass of "
                                  "course_lib.sim.Node")
    for method in ("write", "read"):
        if not callable(getattr(cls, method, None)):
            raise InvalidArgumentType(f"cls={cls.__name__} has no {method}() method; a replica "
                                      "class must offer write(key, value) and read(key)")
    check_int("nodes", nodes, low=2)
    check_int("writes", writes, low=0)
    _check_list("keys", keys, "keys such as ['x', 'y']")
    for name, flag in (("partition", partition), ("crash", crash)):
        check_type(name, flag, bool, what="True or False")
    check_number("write_until", write_until, low=0, low_open=True, what="a time")
    check_number("settle", settle, what="a time")
    if not settle > write_until:
        raise InvalidArgument(f"settle={settle!r} must be after write_until={write_until!r}")
    if quiet_after is not None:
        check_number("quiet_after", quiet_after, what="a time or None")
        if not 0 < quiet_after < settle:
            raise InvalidArgument(f"quiet_after={quiet_after!r} must be a time in (0, settle={settle!r}) "
                                  "or None")
    if isinstance(max_events, int) and not isinstance(max_events, bool):
        for name, count in (("nodes", nodes), ("writes", writes)):
            if count > max_events:
                raise InvalidArgument(f"{name}={count} cannot fit in max_events={max_events} events "
                                      f"(each of the {name} takes at least one); pass a larger max_events")
    sim = Simulation(seed=seed, latency=Uniform(0.5, 2.0), loss=loss, duplicate=duplicate,
                     reorder=reorder, reorder_delay=8.0, max_events=max_events)
    ids = [f"n{i + 1}" for i in range(nodes)]
    sim.add_nodes(cls, ids)
    faults = sim.rng_for("scenario-faults")
    if partition:
        side = faults.sample(ids, max(1, (nodes - 1) // 2))
        sim.nemesis.partition([side], at=0.1 * write_until, heal_at=0.6 * write_until)
    issued: dict[Any, list[tuple[Any, Any, Any]]] = {}
    if crash:
        victim = ids[faults.randrange(nodes)]
        sim.nemesis.crash(victim, at=0.3 * write_until, restart_at=0.7 * write_until)
        # A write just before the crash: its updates cannot be acknowledged in time,
        # so only a replica that keeps its outbox across the crash delivers them.
        sim.at(0.3 * write_until - 0.1, lambda: client_write(victim, "last-words", f"from {victim}"))

    def client_write(node_id: Any, key: Any, value: Any) -> None:
        node = sim.node(node_id)
        if node.crashed:
            return  # the client cannot reach a node that is down
        version = node.write(key, value)
        issued.setdefault(key, []).append((version, value, node_id))

    for time, node_id, key, value in random_writes(sim, ids, count=writes, keys=list(keys),
                                                   end=write_until):
        sim.at(time, client_write, node_id, key, value)
    if quiet_after is not None:
        sim.run(until=quiet_after)
        sent_before = sim.trace.summary()["sent"]
        sim.run(until=settle)
        sent_after = sim.trace.summary()["sent"] - sent_before
        if sent_after:
            late = [e for e in sim.trace.filter(kind="send") if e.time > quiet_after]
            raise ScenarioFailed(
                f"{sent_after} messages were sent after time {quiet_after:g}, when every update "
                f"should long be acknowledged (last at {late[-1].time:g}, e.g. {late[0].type!r} "
                f"{late[0].node}->{late[0].peer}): does your node stop retrying once acknowledged?",
                sim)
    else:
        sim.run(until=settle)
    for key, versions in issued.items():
        try:
            newest = max(versions, key=lambda item: item[0])
        except TypeError as exc:
            raise ScenarioFailed(f"the versions returned by write() cannot be compared: {exc}", sim) from None
        reads = {node_id: sim.node(node_id).read(key) for node_id in ids}
        if len({repr(v) for v in reads.values()}) > 1:
            raise ScenarioFailed(f"replicas disagree on key {key!r} at the end: {reads}", sim)
        if reads[ids[0]] != newest[1]:
            raise ScenarioFailed(
                f"key {key!r} ended as {reads[ids[0]]!r} everywhere, but the newest write was "
                f"{newest[1]!r} (version {newest[0]!r}, written at {newest[2]})", sim)
    return sim
