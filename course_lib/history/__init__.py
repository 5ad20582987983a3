"""Record what clients saw: Jepsen-style histories of invocations and completions.

A history is the client's-eye view of a system under test: every operation is
an ``invoke`` event followed, later, by a completion event of the same
process. The completion's type says what the client learnt:

- ``ok``: the operation happened, and its value is what it returned;
- ``fail``: the operation definitely did **not** happen (a checker drops it);
- ``info``: nobody knows (a timeout, a crash). The operation may take effect at
  any point after its invocation, or never. An operation that never completes
  is indeterminate in the same way.

The order of events in a history *is* real time: an operation precedes another
exactly when its completion comes before the other's invocation in the event
sequence. Event times are simulated times, used for display; they must be
finite and must not decrease.

Example::

    >>> h = History()
    >>> _ = h.invoke(0, "write", value=1)
    >>> _ = h.invoke(1, "read")
    >>> _ = h.ok(0)
    >>> _ = h.ok(1, value=1)
    >>> [str(op) for op in h.operations()]
    ['p0 write(1) -> ok', 'p1 read() -> 1']
"""

from .jepsen import bundled_history_path, load_jepsen
from .model import EVENT_TYPES, Event, History, Operation, operations_of

__all__ = [
    "EVENT_TYPES",
    "Event",
    "History",
    "Operation",
    "bundled_history_path",
    "load_jepsen",
    "operations_of",
]
