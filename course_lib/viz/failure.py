"""The picture of a failed run: what ``error.draw()`` shows, for every kind of failure.

A failure is drawn from the simulation it happened in, which stopped at the failing
moment: an invariant broken after an event, a learner's handler raising, an event
budget exceeded, or a scenario's check failing after the run. The picture marks the
failing event (a red star on its lane, a dashed line at its time) and shows what the
failure names: the events it is about (ringed, with their labels, such as timestamps)
and the operations of a history at fault (a timeline above the diagram).

A chapter can draw its own failures: :func:`use_picture` gives a simulation a picture
of its own (Raft draws roles, messages and logs), used for every failure of that run.

Example:
    >>> from course_lib.sim import Simulation, Node
    >>> class Crashy(Node):
    ...     def on_start(self):
    ...         self.set_timer(5, self.boom)
    ...     def boom(self):
    ...         raise KeyError("x")
    >>> sim = Simulation(seed=1)
    >>> _ = sim.add_nodes(Crashy, ["a", "b"])
    >>> try:
    ...     sim.run(until=10)
    ... except Exception as exc:
    ...     error = exc
    >>> failing_event(error), sim.trace[failing_event(error)].kind
    (0, 'timer')
    >>> ax = error.draw()
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any, Callable

from ..sim import Node, Simulation
from ..sim.errors import (EventBudgetExceeded, HandlerError, InvariantViolation, ScenarioFailed,
                          SimulationError, set_failure_drawer)
from ..sim.validation import InvalidArgument, InvalidArgumentType, check_callable, check_type
from .spacetime import space_time
from .timeline import plot_history

__all__ = ["draw_failure", "failing_event", "failure_sim", "failure_time", "failure_title", "failure_diagram",
           "use_picture"]

#: Kinds of trace rows that start an event (the rows after them, sends and custom records,
#: are what the event's handler did).
STARTS = frozenset({"deliver", "timer", "crash", "restart", "partition", "heal", "pause", "resume",
                    "clock_jump"})

#: Where a simulation keeps its own failure picture (``sim.memo``).
_PICTURE = "course_lib.viz/failure picture"

#: How far back from the end of the trace the failing event is looked for.
_LOOK_BACK = 10_000


def use_picture(sim: Simulation, picture: Callable[..., Any]) -> None:
    """Draw every failure of ``sim`` with ``picture(sim, error, mark=index, **options)``.

    For chapters whose failures read best in their own picture (Raft: roles over
    time, the messages near the failure, and the logs at the failing moment).
    ``mark`` is the trace index of the failing event, or None; ``picture`` returns
    the Axes to hand back to the learner.

    Raises:
        InvalidArgumentType: ``sim`` is not a Simulation or ``picture`` is not callable.
    """
    check_type("sim", sim, Simulation, what="a Simulation")
    check_callable("picture", picture, "picture(sim, error, mark=index, **options)")
    sim.memo(_PICTURE, dict)["picture"] = picture


def failure_sim(error: BaseException) -> Simulation | None:
    """Return the simulation ``error`` happened in, or None if it happened outside any.

    ``error.sim`` when the simulator or a scenario set it; else the innermost
    simulation the failing code was working on, found in its traceback's frames
    (a Simulation, a node of one, or an object holding one as ``.sim``, such as a
    cluster harness), following the errors it was raised from. A simulation that
    never had a node (the error came from the first node's ``__init__``) ran nothing
    and does not count.
    """
    if not isinstance(error, BaseException):
        raise InvalidArgumentType(f"error={error!r} must be an exception")
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        sim = getattr(error, "sim", None)
        if isinstance(sim, Simulation):
            return sim
        found = None
        tb = error.__traceback__
        while tb is not None:  # innermost frame last: it wins
            for value in tb.tb_frame.f_locals.values():
                sim = _sim_of(value)
                if sim is not None:
                    found = sim
            tb = tb.tb_next
        if found is not None:
            return found
        error = error.__cause__ or error.__context__
    return None


def _sim_of(value: Any) -> Simulation | None:
    """The simulation ``value`` is or belongs to, if it ran anything (a node was added)."""
    if isinstance(value, Node):
        value = value.sim
    elif not isinstance(value, Simulation):
        try:
            value = vars(value).get("sim")
        except TypeError:  # no __dict__
            return None
    return value if isinstance(value, Simulation) and value.node_ids else None


def failing_event(error: BaseException, sim: Simulation | None = None) -> int | None:
    """Return the trace index of the event ``error`` happened at, or None.

    The event whose handler raised (a :class:`HandlerError`: that node's delivery or
    timer at that time), the event after which an invariant failed, the last event
    of a run over its budget. None for a check made after the run (a
    :class:`ScenarioFailed`) and for a failure before any event.
    """
    sim = failure_sim(error) if sim is None else sim
    if sim is None or isinstance(error, ScenarioFailed):
        return None
    if not isinstance(error, SimulationError):
        return None
    trace = sim.trace
    node = error.node if isinstance(error, HandlerError) else None
    time = error.time if isinstance(error, (HandlerError, InvariantViolation)) else None
    fallback = None
    for index in range(len(trace) - 1, max(-1, len(trace) - 1 - _LOOK_BACK), -1):
        event = trace[index]
        if time is not None and event.time < time:
            break
        if node is not None and event.node != node:
            continue
        if event.kind in STARTS:
            return index
        if fallback is None:
            fallback = index  # what the failing event itself recorded (a send, a custom event)
    if isinstance(error, EventBudgetExceeded) and len(trace):
        return len(trace) - 1
    return fallback


def failure_title(error: BaseException, width: int = 110) -> str:
    """A short title for a failure's picture: its kind and the first line of its message."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, HandlerError):
        text = f"node {error.node!r} raised {type(error.error).__name__} in {error.where} at t={error.time:g}"
    elif isinstance(error, InvariantViolation):
        text = f"invariant {error.name!r} broken at t={error.time:g}: {error.detail}"
    elif not isinstance(error, (SimulationError, AssertionError)):
        text = f"{type(error).__name__}: {text}"
    lines = textwrap.wrap(text, width)
    return "\n".join(lines[:2]) + (" ..." if len(lines) > 2 else "")


def draw_failure(error: BaseException | None = None, *, sim: Simulation | None = None,
                 **options: Any) -> Any:
    """Draw a failed run with the failing event marked; return the space-time diagram's Axes.

    Args:
        error: the failure (what a test or a pasted replay line raised); by default
            the last error raised in this session (``sys.last_value``: in a notebook,
            call it in the cell after the failing one).
        sim: the simulation to draw (default: the one ``error`` happened in).
        options: passed to the picture, :func:`~course_lib.viz.space_time` by default
            (``nodes``, ``start``, ``end``, ``types``, ``annotate``, ``title``, ...);
            ``mark=`` another trace index to star instead of the failing event.

    Raises:
        InvalidArgument: there is no error to draw, or it happened before any
            simulation existed (a bad argument, say): nothing ran, so there is no picture.
        InvalidArgumentType: ``error`` is not an exception.
    """
    if error is None:
        error = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
        if error is None:
            raise InvalidArgument("error=None and no error has been raised in this session: pass "
                                  "the error to draw (or call this in the cell after a failing one)")
    if not isinstance(error, BaseException):
        raise InvalidArgumentType(f"error={error!r} must be an exception (the failure to draw)")
    if sim is not None:
        check_type("sim", sim, Simulation, what="a Simulation or None")
    elif not isinstance(error, SimulationError) and callable(getattr(error, "draw", None)):
        return error.draw(**options)  # a report that knows its run (course_lib.grading's)
    sim = sim if sim is not None else failure_sim(error)
    if sim is None:
        raise InvalidArgument(f"this failure ({type(error).__name__}: {str(error)[:200]}) happened "
                              "before any simulation ran (a bad argument, or an error in a node's "
                              "__init__?): there is no run to draw")
    mark = options.pop("mark") if "mark" in options else failing_event(error, sim)
    picture = sim.memo(_PICTURE, dict).get("picture")
    if picture is not None:
        return picture(sim, error, mark=mark, **options)
    return _default_picture(sim, error, mark, **options)


def failure_time(error: BaseException, sim: Simulation, mark: int | None) -> float:
    """The simulated time of the failure: its event's, its own, or where the run stopped."""
    if mark is not None:
        return sim.trace[mark].time
    time = getattr(error, "time", None) if isinstance(error, (HandlerError, InvariantViolation)) else None
    return float(time) if time is not None else float(sim.now)


def failure_diagram(sim: Simulation, error: BaseException, mark: int | None, **options: Any) -> Any:
    """The space-time diagram of a failure: the failing event marked, the events it names ringed."""
    options.setdefault("title", failure_title(error))
    events = tuple(getattr(error, "events", ()) or ())
    labels = getattr(error, "labels", None)
    if labels and "labels" not in options:
        options["labels"] = {index: str(text) for index, text in labels.items()}
    if events and "highlight" not in options:
        pairs = [(events[i], events[i + 1]) for i in range(0, len(events) - 1, 2)]
        if len(events) % 2:
            pairs.append((events[-1], events[-1]))
        options["highlight"] = pairs
        options.setdefault("highlight_label", "named by the failure")
    ax = space_time(sim, mark=mark, **options)
    if mark is None and not isinstance(error, ScenarioFailed):  # no trace row: mark the moment
        when = failure_time(error, sim, mark)
        ax.axvline(when, color="#d62728", ls="--", lw=1.0, alpha=0.8)
        lanes = list(options.get("nodes") or sim.nodes)
        if isinstance(error, HandlerError) and error.node in lanes:
            ax.plot([when], [lanes.index(error.node)], marker="*", ms=15, color="#d62728",
                    mec="black", mew=0.6, zorder=7, clip_on=False)
    return ax


def _default_picture(sim: Simulation, error: BaseException, mark: int | None, **options: Any) -> Any:
    history = getattr(error, "history", None)
    if history is None or "ax" in options:
        return failure_diagram(sim, error, mark, **options)
    import matplotlib.pyplot as plt

    lanes = len(options.get("nodes") or sim.nodes) or 1
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 3.2 + 0.6 * lanes),
                                      gridspec_kw={"height_ratios": [1, 1.2]})
    plot_history(history, ax=top, highlight=getattr(error, "operations", ()),
                 title="the history (operations at fault in red)")
    ax = failure_diagram(sim, error, mark, ax=bottom, **options)
    fig.tight_layout()
    return ax


set_failure_drawer(draw_failure)
