"""Latency models: how long a message spends on the wire.

Every model is called as ``model(rng, src, dst)`` and returns a delay in
simulated time units. A plain number means a constant delay; any callable with
that signature is a custom model.

Example:
    >>> import random
    >>> Uniform(1, 3)(random.Random(0), "a", "b")
    2.6888437030500962
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Union

from .validation import (InvalidArgument, InvalidArgumentType, check_non_negative,  # noqa: F401
                         check_probability)

LatencyFn = Callable[[random.Random, Any, Any], float]


class Constant:
    """Every message takes exactly ``delay``."""

    def __init__(self, delay: float) -> None:
        self.delay = check_non_negative("delay", delay)

    def __call__(self, rng: random.Random, src: Any, dst: Any) -> float:
        return self.delay

    def __repr__(self) -> str:
        return f"Constant({self.delay!r})"


class Uniform:
    """Delays drawn uniformly from ``[low, high]``."""

    def __init__(self, low: float, high: float) -> None:
        self.low = check_non_negative("low", low)
        self.high = check_non_negative("high", high)
        if self.high < self.low:
            raise InvalidArgument(f"high={high!r} must be >= low={low!r}")

    def __call__(self, rng: random.Random, src: Any, dst: Any) -> float:
        return self.low + (self.high - self.low) * rng.random()

    def __repr__(self) -> str:
        return f"Uniform({self.low!r}, {self.high!r})"


class Exponential:
    """``minimum`` plus an exponential tail with the given ``mean``."""

    def __init__(self, mean: float, minimum: float = 0.0) -> None:
        self.mean = check_non_negative("mean", mean)
        if self.mean == 0:
            raise InvalidArgument("mean=0 must be > 0 (use Constant for a fixed delay)")
        self.minimum = check_non_negative("minimum", minimum)

    def __call__(self, rng: random.Random, src: Any, dst: Any) -> float:
        return self.minimum + rng.expovariate(1.0 / self.mean)

    def __repr__(self) -> str:
        return f"Exponential(mean={self.mean!r}, minimum={self.minimum!r})"


class LogNormal:
    """Log-normal delays with the given ``median`` and shape ``sigma``: a long tail, like real RPCs."""

    def __init__(self, median: float, sigma: float = 0.5) -> None:
        self.median = check_non_negative("median", median)
        if self.median == 0:
            raise InvalidArgument("median=0 must be > 0")
        self.sigma = check_non_negative("sigma", sigma)
        self._mu = math.log(self.median)

    def __call__(self, rng: random.Random, src: Any, dst: Any) -> float:
        return rng.lognormvariate(self._mu, self.sigma)

    def __repr__(self) -> str:
        return f"LogNormal(median={self.median!r}, sigma={self.sigma!r})"


LatencyLike = Union[float, int, LatencyFn]


def as_latency(value: LatencyLike, name: str = "latency") -> LatencyFn:
    """Return a latency model for a number (constant) or a callable ``(rng, src, dst) -> delay``."""
    if isinstance(value, bool):
        raise InvalidArgumentType(f"{name}={value!r} must be a number or a callable (rng, src, dst) -> delay")
    if isinstance(value, (int, float)):
        return Constant(check_non_negative(name, value))
    if callable(value):
        return value
    raise InvalidArgumentType(f"{name}={value!r} must be a number or a callable (rng, src, dst) -> delay")
