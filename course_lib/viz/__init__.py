"""Pictures of runs: space-time diagrams, timelines of histories, failures, and small widget front ends."""

from .failure import draw_failure, failing_event, use_picture
from .spacetime import space_time
from .timeline import plot_history, plot_violation

__all__ = ["space_time", "plot_history", "plot_violation", "draw_failure", "failing_event", "use_picture"]
