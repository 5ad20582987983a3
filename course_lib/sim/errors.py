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
        super().__init__(
            f"node {node!r} raised {type(error).__name__}: {error} "
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
