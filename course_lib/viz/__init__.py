"""Pictures of runs: space-time diagrams, timelines, and small widget front ends."""

from .spacetime import space_time

__all__ = ["space_time"]
