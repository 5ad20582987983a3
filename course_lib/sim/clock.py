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

from typing import Callable

from .validation import check_non_negative, check_number


class PhysicalClock:
    """A node's wall clock: ``offset + (1 + drift) * true_time + jumps``.

    Example:
        >>> c = PhysicalClock(lambda: 10.0, offset=0.5, drift=0.01)
        >>> round(c.now(), 6)
        10.6
    """

    def __init__(self, true_time: Callable[[], float], offset: float = 0.0, drift: float = 0.0) -> None:
        check_number("offset", offset, what="a finite number")
        _check_drift(drift)
        self._true_time = true_time
        self.offset = float(offset)
        self.drift = float(drift)
        self.jumped = 0.0
        self._on_rate_change = None  # the node re-times its armed timers (framework hook)

    def now(self) -> float:
        """Return the time this clock shows now."""
        return self.offset + self.jumped + (1.0 + self.drift) * self._true_time()

    def jump(self, delta: float) -> None:
        """Step the clock by ``delta`` (negative steps go back in time)."""
        check_number("delta", delta, what="a finite number")
        self.jumped += float(delta)

    def set_drift(self, drift: float) -> None:
        """Change the rate error from now on, keeping the current reading continuous.

        Timers already set on this clock are re-timed: a timer set for 10 local
        units still fires when this clock has advanced 10 units.
        """
        _check_drift(drift)
        t = self._true_time()
        reading = self.now()
        old = self.drift
        self.drift = float(drift)
        self.offset = reading - self.jumped - (1.0 + self.drift) * t
        if self._on_rate_change is not None:
            self._on_rate_change(old, self.drift)

    def true_duration(self, local_duration: float) -> float:
        """Return how much true time passes while this clock advances ``local_duration``."""
        check_non_negative("local_duration", local_duration)
        return local_duration / (1.0 + self.drift)

    def __repr__(self) -> str:
        return f"PhysicalClock(now={self.now():.6f}, offset={self.offset}, drift={self.drift})"


def _check_drift(drift: float) -> None:
    check_number("drift", drift, low=-0.5, high=0.5, low_open=True, high_open=True,
                 what="a rate error (1e-4 is 100 ppm)")
