"""Space-time diagrams with clocks: each event's timestamp written beside it, concurrent events ringed.

Draws on top of :func:`course_lib.viz.space_time`. Timestamps are
either the ideal ones the happens-before oracle computes offline from the trace
(``"lamport"``, ``"vector"``) or any mapping from trace index to timestamp, such
as the ones a learner's clock produced (``run.timestamps("vector")``).

Example:
    >>> from course_lib.topics.clocks import run_clocks
    >>> run = run_clocks(None, seed=3, nodes=3, sends=2, local_events=1)
    >>> ax = clock_diagram(run, "vector", concurrent=run.oracle.events[0])
    >>> ax.get_xlabel()
    'simulated time'
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ...checkers.happens_before import HappensBefore
from ...sim.validation import InvalidArgument, InvalidArgumentType
from ...viz import space_time


def format_timestamp(ts: Any, nodes: Sequence[Any] | None = None) -> str:
    """Return a compact text for a timestamp: ``5``, ``[1,0,2]`` (a vector) or ``(12.34,1)`` (hybrid)."""
    if nodes is not None and (isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable)):
        raise InvalidArgumentType(f"nodes={nodes!r} must be a list of node ids or None")
    if isinstance(ts, Mapping):
        keys = list(nodes) if nodes is not None else sorted(ts, key=str)
        return "[" + ",".join(str(ts.get(k, 0)) for k in keys) + "]"
    if isinstance(ts, tuple) and len(ts) == 2 and isinstance(ts[0], float):
        return f"({ts[0]:.2f},{ts[1]})"
    if isinstance(ts, tuple):
        return "[" + ",".join(str(x) for x in ts) + "]"
    if isinstance(ts, float):
        return f"{ts:.2f}"
    return str(ts)


def clock_diagram(source: Any, timestamps: str | Mapping[int, Any] | None = "vector", *,
                  oracle: HappensBefore | None = None,
                  concurrent: int | str | Iterable[tuple[int, int]] | None = None,
                  **options: Any) -> Any:
    """Draw a run's space-time diagram with timestamps and concurrent pairs; return the ``Axes``.

    Args:
        source: a :class:`~course_lib.topics.clocks.ClockRun`, a Simulation or a Trace.
        timestamps: ``"lamport"`` or ``"vector"`` for the oracle's ideal ones, a
            mapping ``{trace index: timestamp}``, or None for no labels.
        oracle: the happens-before oracle to use (default: the run's own, or one
            over every send, delivery and custom event).
        concurrent: an event (trace index) whose concurrent events to ring, ``"all"``
            for every concurrent pair (small runs only), or explicit pairs.
        options: passed to :func:`~course_lib.viz.spacetime.space_time`.

    Raises:
        InvalidArgument: an unknown ``timestamps`` or ``concurrent`` name, or an
            event that is not one of the oracle's (also a ValueError).
        InvalidArgumentType: an argument of the wrong type (also a TypeError).
    """
    if oracle is not None and not isinstance(oracle, HappensBefore):
        raise InvalidArgumentType(f"oracle={oracle!r} must be a HappensBefore or None")
    if oracle is None:
        oracle = getattr(source, "oracle", None)
        if not isinstance(oracle, HappensBefore):
            oracle = HappensBefore(source)
    if timestamps is None:
        labels = {}
    elif isinstance(timestamps, str):
        if timestamps == "lamport":
            labels = {e: str(oracle.lamport(e)) for e in oracle.events}
        elif timestamps == "vector":
            labels = {e: format_timestamp(oracle.vector(e)) for e in oracle.events}
        else:
            raise InvalidArgument(f"timestamps={timestamps!r} must be 'lamport', 'vector', a mapping or None")
    elif isinstance(timestamps, Mapping):
        count = len(getattr(getattr(source, "sim", source), "trace", source))
        for e in timestamps:
            if isinstance(e, bool) or not isinstance(e, int) or not 0 <= e < count:
                raise InvalidArgument(f"timestamps names event {e!r}, which is not a trace index in "
                                      f"[0, {count})")
        labels = {e: format_timestamp(ts, oracle.nodes) for e, ts in timestamps.items()}
    else:
        raise InvalidArgumentType(f"timestamps={timestamps!r} must be 'lamport', 'vector', a mapping or None")
    if concurrent is None:
        pairs: list[tuple[int, int]] = []
    elif isinstance(concurrent, str):
        if concurrent != "all":
            raise InvalidArgument(f"concurrent={concurrent!r} must be an event index, 'all' or pairs")
        pairs = oracle.concurrent_pairs()
    elif isinstance(concurrent, int) and not isinstance(concurrent, bool):
        if concurrent not in oracle.events:
            raise InvalidArgument(f"concurrent={concurrent!r} is not an event of the oracle: pass a "
                                  "trace index from .events")
        pairs = [(concurrent, f) for f in oracle.concurrent_with(concurrent)]
    elif isinstance(concurrent, Iterable):
        pairs = list(concurrent)  # space_time checks each pair
    else:
        raise InvalidArgumentType(f"concurrent={concurrent!r} must be an event index, 'all', pairs "
                                  "of events or None")
    sim = getattr(source, "sim", source)
    return space_time(sim, labels=labels, highlight=pairs, **options)
