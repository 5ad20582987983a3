"""Errors the simulator raises, each saying what went wrong, where and when.

An error raised by a run carries the simulation it happened in (``error.sim``), stopped at
the failing event, and draws it: ``error.draw()``. The simulator cannot import its own
pictures (they live in a layer above it), so :mod:`course_lib.viz` registers the drawing
function here when it is imported (:func:`set_failure_drawer`).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from .validation import InvalidArgumentType

#: What ``SimulationError.draw`` calls: ``draw(error, **options)``; set by course_lib.viz.
_drawer: Callable[..., Any] | None = None


def set_failure_drawer(draw: Callable[..., Any]) -> None:
    """Make ``draw(error, **options)`` the function every simulator error's ``.draw()`` calls."""
    global _drawer
    if not callable(draw):
        raise InvalidArgumentType(f"draw={draw!r} must be callable as draw(error, **options)")
    _drawer = draw


class SimulationError(Exception):
    """Base class of the simulator's own errors.

    ``sim`` is the simulation the error happened in, as it was when it was raised
    (None when it happened outside any simulation).
    """

    sim: Any = None

    def draw(self, **options: Any) -> Any:
        """Draw the failing run with the failing event marked; return the Axes (options go to the picture).

        Raises:
            SimulationError: course_lib.viz, which draws, has not been imported.
        """
        if _drawer is None:
            raise SimulationError("drawing a failure needs the course's pictures: run "
                                  "`import course_lib.viz` first")
        return _drawer(self, **options)


class CrashedInHandler(BaseException):
    """Raised inside a handler when its node reaches a crash point (``Simulation.crash_on_send``).

    The simulator catches it where it called the handler: the rest of the handler does
    not run, as if the machine lost power between two of its lines. It derives from
    ``BaseException`` so that a handler's ``except Exception`` cannot swallow the crash.
    ``node`` is the node that crashed, ``msg`` the message it had just sent.
    """

    def __init__(self, node: Any, msg: Any) -> None:
        super().__init__(node, msg)
        self.node = node
        self.msg = msg


class NoHandlerError(SimulationError, AttributeError):
    """A message arrived for which the node has no ``on_<type>`` handler."""


class HandlerError(SimulationError):
    """A node's handler or timer callback raised; the original error is the ``__cause__``."""

    def __init__(self, node: Any, where: str, time: float, error: BaseException, sim: Any = None) -> None:
        self.node = node
        self.where = where
        self.time = time
        self.error = error
        self.sim = sim
        from .messages import missing_field  # messages import nothing from here; keep it that way
        detail = missing_field(error) or error
        super().__init__(
            f"node {node!r} raised {type(error).__name__}: {detail} "
            f"(in {where}, at simulated time {time:g})"
        )


class EventBudgetExceeded(SimulationError):
    """The run processed more events than ``max_events`` allowed (a message or timer storm)."""

    def __init__(self, message: str, sim: Any = None) -> None:
        super().__init__(message)
        self.sim = sim


class InvariantViolation(SimulationError, AssertionError):
    """A registered invariant failed; carries its name, the time, the trace so far and the simulation."""

    def __init__(self, name: str, time: float, detail: str, trace: Any, seed: Any,
                 sim: Any = None) -> None:
        self.name = name
        self.time = time
        self.detail = detail
        self.trace = trace
        self.seed = seed
        self.sim = sim
        super().__init__(
            f"invariant {name!r} violated at simulated time {time:g} (seed={seed!r}): {detail}"
        )


class ScenarioFailed(SimulationError, AssertionError):
    """A scenario's outcome was wrong; ``sim`` is the simulation of the failing run, if any.

    Topic modules raise it from their scenarios; the grader
    (:mod:`course_lib.grading`) turns it into a report with a replay line. What the
    failure is about, given here, is what its picture (``.draw()``) shows:

    Args:
        message: what went wrong, for the learner.
        sim: the simulation of the failing run.
        events: trace indices of the events the message names (ringed in the picture),
            such as the two events whose clocks disagree.
        labels: text to write beside events, by trace index (such as their timestamps).
        history: the run's history (:class:`course_lib.history.History`), when the failure
            is about its operations; the picture draws its timeline.
        operations: the history's operations at fault (drawn in red on the timeline).
    """

    def __init__(self, message: str, sim: Any = None, *, events: Iterable[int] = (),
                 labels: Mapping[int, Any] | None = None, history: Any = None,
                 operations: Iterable[Any] = ()) -> None:
        super().__init__(message)
        self.sim = sim
        self.events = tuple(events)
        self.labels = dict(labels) if labels is not None else None
        self.history = history
        self.operations = tuple(operations)


class NodeDefinitionError(SimulationError, TypeError):
    """A ``Node`` subclass defines a handler the simulator could never call correctly.

    Raised when the class is defined (not when a message arrives): a generator
    or ``async`` handler, whose body would silently never run, or a handler
    with the wrong number of parameters.
    """


class NodeCrashedError(SimulationError, RuntimeError):
    """A crashed node tried to act (send, set a timer): a crashed process does nothing."""


class HandlerTimeout(SimulationError):
    """A run made no progress for ``handler_time_limit`` seconds: a handler in an infinite loop."""
