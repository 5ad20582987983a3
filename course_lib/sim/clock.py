"""Per-node physical clocks that drift, start offset and can jump.

The simulation's own time (``sim.now``) is the true time; a node reads only its
own :class:`PhysicalClock`, which may be wrong in three ways, as real clocks are:

* ``offset``: a fixed error at the start (the clock was set wrongly);
* ``drift``: a rate error, as a fraction (``drift=1e-4`` gains 100 µs a second;
  quartz is typically within 10-100 ppm, i.e. 1e-5 to 1e-4);
* jumps: a step, forwards or backwards, as NTP or an operator may cause.

Timers a node sets are measured on its own clock: a fast clock fires them early.
"""

from __future__ import annotations

import math
from typing import Callable

from .latency import check_non_negative


class PhysicalClock:
    """A node's wall clock: ``offset + (1 + drift) * true_time + jumps``.

    Example:
        >>> c = PhysicalClock(lambda: 10.0, offset=0.5, drift=0.01)
        >>> round(c.now(), 6)
        10.6
    """

    def __init__(self, true_time: Callable[[], float], offset: float = 0.0, drift: float = 0.0) -> None:
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not math.isfinite(offset):
            raise ValueError(f"offset={offset!r} must be a finite number")
        if isinstance(drift, bool) or not isinstance(drift, (int, float)) or not -0.5 < drift < 0.5:
            raise ValueError(f"drift={drift!r} must be a rate error in (-0.5, 0.5), e.g. 1e-4 for 100 ppm")
        self._true_time = true_time
        self.offset = float(offset)
        self.drift = float(drift)
        self.jumped = 0.0

    def now(self) -> float:
        """Return the time this clock shows now."""
        return self.offset + self.jumped + (1.0 + self.drift) * self._true_time()

    def jump(self, delta: float) -> None:
        """Step the clock by ``delta`` (negative steps go back in time)."""
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not math.isfinite(delta):
            raise ValueError(f"delta={delta!r} must be a finite number")
        self.jumped += float(delta)

    def set_drift(self, drift: float) -> None:
        """Change the rate error from now on, keeping the current reading continuous."""
        if isinstance(drift, bool) or not isinstance(drift, (int, float)) or not -0.5 < drift < 0.5:
            raise ValueError(f"drift={drift!r} must be a rate error in (-0.5, 0.5)")
        t = self._true_time()
        reading = self.now()
        self.drift = float(drift)
        self.offset = reading - self.jumped - (1.0 + self.drift) * t

    def true_duration(self, local_duration: float) -> float:
        """Return how much true time passes while this clock advances ``local_duration``."""
        check_non_negative("local_duration", local_duration)
        return local_duration / (1.0 + self.drift)

    def __repr__(self) -> str:
        return f"PhysicalClock(now={self.now():.6f}, offset={self.offset}, drift={self.drift})"
