"""Errors the simulator raises, each saying what went wrong, where and when."""

from __future__ import annotations

from typing import Any


class SimulationError(Exception):
    """Base class of the simulator's own errors."""


class NoHandlerError(SimulationError, AttributeError):
    """A message arrived for which the node has no ``on_<type>`` handler."""


class HandlerError(SimulationError):
    """A node's handler or timer callback raised; the original error is the ``__cause__``."""

    def __init__(self, node: Any, where: str, time: float, error: BaseException) -> None:
        self.node = node
        self.where = where
        self.time = time
        self.error = error
        from .messages import missing_field  # messages import nothing from here; keep it that way
        detail = missing_field(error) or error
        super().__init__(
            f"node {node!r} raised {type(error).__name__}: {detail} "
            f"(in {where}, at simulated time {time:g})"
        )


class EventBudgetExceeded(SimulationError):
    """The run processed more events than ``max_events`` allowed (a message or timer storm)."""


class InvariantViolation(SimulationError, AssertionError):
    """A registered invariant failed; carries its name, the time and the trace so far."""

    def __init__(self, name: str, time: float, detail: str, trace: Any, seed: Any) -> None:
        self.name = name
        self.time = time
        self.detail = detail
        self.trace = trace
        self.seed = seed
        super().__init__(
            f"invariant {name!r} violated at simulated time {time:g} (seed={seed!r}): {detail}"
        )


class ScenarioFailed(SimulationError, AssertionError):
    """A scenario's outcome was wrong; ``sim`` is the simulation of the failing run, if any.

    Topic modules raise it from their scenarios; the grader
    (:mod:`course_lib.grading`) turns it into a report with a replay line.
    """

    def __init__(self, message: str, sim: Any = None) -> None:
        super().__init__(message)
        self.sim = sim


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
