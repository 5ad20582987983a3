"""Chapter 00's workload: client writes at chosen or seeded random times, and what each replica holds.

Example:
    >>> from course_lib.sim import Simulation
    >>> from course_lib.topics.welcome import NaiveReplica
    >>> sim = Simulation(seed=0)
    >>> _ = sim.add_nodes(NaiveReplica, ["n1", "n2"])
    >>> schedule_writes(sim, [(1.0, "n1", "x", "v1")])
    >>> sim.run(until=10)
    >>> replica_states(sim), divergent_keys(sim)
    ({'n1': {'x': 'v1'}, 'n2': {'x': 'v1'}}, [])
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ...sim import Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_ids, check_int,
                               check_number, check_type)


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


def state_table(sim: Simulation, attribute: str = "data") -> str:
    """Return the replicas' copies as a small text table: a row per key, a column per node.

    A missing value shows as ``-``; a key on which the replicas disagree is marked ``<- differs``.

    Example:
        >>> from course_lib.sim import Simulation
        >>> from course_lib.topics.welcome import NaiveReplica
        >>> sim = Simulation(seed=0)
        >>> _ = sim.add_nodes(NaiveReplica, ["n1", "n2"])
        >>> schedule_writes(sim, [(1.0, "n1", "x", "v1")])
        >>> sim.run(until=1.5)
        >>> print(state_table(sim))
        key  n1  n2
        x    v1  -  <- differs

    Raises:
        InvalidArgument, InvalidArgumentType: as :func:`replica_states`.
    """
    states = _states(sim, attribute)
    keys = sorted({k for state in states.values() for k in state}, key=str)
    differ = set(divergent_keys(sim, attribute))
    cells = [["key", *map(str, states)]]
    cells += [[str(k), *(str(state[k]) if k in state else "-" for state in states.values())] for k in keys]
    widths = [max(len(row[c]) for row in cells) for c in range(len(cells[0]))]
    lines = []
    for r, row in enumerate(cells):
        line = "  ".join(text.ljust(width) for text, width in zip(row, widths))
        if r and keys[r - 1] in differ:
            line += " <- differs"
        lines.append(line.rstrip())
    return "\n".join(lines)


def write_labels(sim: Simulation) -> dict[int, str]:
    """Return a short label ``key=value`` for each client write of the run, by trace index.

    For :func:`course_lib.viz.space_time`'s ``labels``: horizontal text beside each write.

    Example:
        >>> from course_lib.sim import Simulation
        >>> from course_lib.topics.welcome import NaiveReplica
        >>> sim = Simulation(seed=0)
        >>> _ = sim.add_nodes(NaiveReplica, ["n1", "n2"])
        >>> schedule_writes(sim, [(1.0, "n1", "x", "v1")])
        >>> sim.run(until=3)
        >>> list(write_labels(sim).values())
        ['x=v1']

    Raises:
        InvalidArgumentType: ``sim`` is not a Simulation.
    """
    check_type("sim", sim, Simulation)
    return {index: f"{e.info['key']}={e.info['value']}" for index, e in enumerate(sim.trace)
            if e.kind == "custom" and e.type == "write" and isinstance(e.info, dict) and "key" in e.info}
