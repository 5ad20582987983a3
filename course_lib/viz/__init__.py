"""Pictures of runs: space-time diagrams, timelines of histories, and small widget front ends."""

from .spacetime import space_time
from .timeline import plot_history, plot_violation

__all__ = ["space_time", "plot_history", "plot_violation"]
