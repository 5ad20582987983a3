"""The trace: a structured record of everything that happened in a run.

Each entry is an :class:`Event` with the simulated ``time``, a ``kind``
(``send``, ``deliver``, ``drop``, ``duplicate``, ``timer``, ``crash``,
``restart``, ``partition``, ``heal``, ``clock_jump``, ``custom``), the
``node`` it happened at, the ``peer`` on the other end of a message, the
message ``type`` (or the custom event's name), the message ``id`` and an
``info`` value (drop reason, timer name, custom data).

Recording appends a plain tuple; :class:`Event` objects are built only when
someone reads the trace, which keeps recording cheap.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterator, NamedTuple

KINDS = (
    "send", "deliver", "drop", "duplicate", "timer", "crash", "restart",
    "partition", "heal", "clock_jump", "custom",
)


class Event(NamedTuple):
    """One entry of the trace."""

    time: float
    kind: str
    node: Any
    peer: Any = None
    type: str | None = None
    id: int | None = None
    info: Any = None

    def __str__(self) -> str:
        parts = [f"{self.time:10.4f}", f"{self.kind:<10}", f"{self.node!s}"]
        if self.peer is not None:
            arrow = "<-" if self.kind == "deliver" else "->"
            parts.append(f"{arrow} {self.peer!s}")
        if self.type is not None:
            parts.append(self.type)
        if self.id is not None:
            parts.append(f"#{self.id}")
        if self.info is not None:
            parts.append(repr(self.info))
        return " ".join(parts)


class Trace:
    """An append-only log of a simulation's events.

    Example:
        >>> from course_lib.sim import Simulation
        >>> sim = Simulation(seed=1)
        >>> len(sim.trace)
        0
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._rows: list[tuple] = []

    # -- recording (framework) -------------------------------------------------
    def record(self, time: float, kind: str, node: Any, peer: Any = None,
               msg_type: str | None = None, msg_id: int | None = None, info: Any = None) -> None:
        """Append one event (no-op when the trace is disabled)."""
        if self.enabled:
            self._rows.append((time, kind, node, peer, msg_type, msg_id, info))

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Event]:
        return (Event(*row) for row in self._rows)

    def __getitem__(self, index: int) -> Event:
        return Event(*self._rows[index])

    @property
    def events(self) -> list[Event]:
        """Every event, in the order it happened."""
        return [Event(*row) for row in self._rows]

    def filter(self, kind: str | None = None, node: Any = None, type: str | None = None) -> list[Event]:  # noqa: A002
        """Return the events matching every given criterion.

        Raises:
            ValueError: ``kind`` is not one of :data:`KINDS`.
        """
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind={kind!r} is not a trace event kind; kinds are {KINDS}")
        return [
            Event(*row) for row in self._rows
            if (kind is None or row[1] == kind)
            and (node is None or row[2] == node)
            and (type is None or row[4] == type)
        ]

    def custom(self, name: str) -> list[Event]:
        """Return the custom events recorded with ``node.record(name, ...)``."""
        return self.filter(kind="custom", type=name)

    def partition_spans(self, end: float) -> list[tuple[float, float]]:
        """Return ``(start, stop)`` of each partitioned stretch: a partition until the next heal.

        A partition still open at the end of the trace lasts until ``end``.
        """
        spans, opened = [], None
        for row in self._rows:
            if row[1] == "partition" and opened is None:
                opened = row[0]
            elif row[1] == "heal" and opened is not None:
                spans.append((opened, row[0]))
                opened = None
        if opened is not None:
            spans.append((opened, end))
        return spans

    def summary(self, per: str | None = None) -> dict[str, Any]:
        """Return counts of messages sent, delivered, dropped and duplicated.

        Args:
            per: the name of a custom event counting operations (for example
                ``"write"``); adds ``messages_per_op`` = messages sent / operations.

        Example:
            >>> Trace().summary()["sent"]
            0
        """
        counts: Counter = Counter()
        sent_by_type: Counter = Counter()
        dropped_by_reason: Counter = Counter()
        ops = 0
        for row in self._rows:
            kind = row[1]
            counts[kind] += 1
            if kind == "send":
                sent_by_type[row[4]] += 1
            elif kind == "drop":
                dropped_by_reason[row[6]] += 1
            elif kind == "custom" and row[4] == per:
                ops += 1
        out: dict[str, Any] = {
            "sent": counts["send"],
            "delivered": counts["deliver"],
            "dropped": counts["drop"],
            "duplicated": counts["duplicate"],
            "timers": counts["timer"],
            "crashes": counts["crash"],
            "sent_by_type": dict(sorted(sent_by_type.items())),
            "dropped_by_reason": dict(sorted(dropped_by_reason.items(), key=lambda kv: str(kv[0]))),
        }
        if per is not None:
            out["operations"] = ops
            out["messages_per_op"] = counts["send"] / ops if ops else float("nan")
        return out

    def to_text(self) -> str:
        """Return the whole trace as text, one event per line (byte-for-byte reproducible)."""
        return "\n".join(str(Event(*row)) for row in self._rows)

    def __repr__(self) -> str:
        return f"<Trace {len(self._rows)} events>"
