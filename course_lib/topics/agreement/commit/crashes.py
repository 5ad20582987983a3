"""Crash a node at a protocol point ("right after it voted yes"), not at a clock time."""

from __future__ import annotations

from typing import Any, Callable

from ....sim import Simulation
from ....sim.validation import InvalidArgument, check_callable, check_int, check_number, check_type


def crash_after(sim: Simulation, node_id: Any, *, sent: str | None = None, recorded: str | None = None,
                when: Callable[[dict], bool] | None = None, nth: int = 1,
                restart_after: float | None = None) -> None:
    """Crash ``node_id`` right after the handler in which it does something for the ``nth`` time.

    Exactly one of ``sent`` (a message type the node sends) or ``recorded`` (a
    custom event it records, such as ``"vote"`` or ``"decide"``) names the
    point; ``when(info)`` further filters recorded events by their fields
    (``when=lambda e: e["vote"] == "yes"``). Messages sent in that handler are
    on their way; the node goes down before it handles anything else.

    Args:
        restart_after: restart the node this long after the crash (None: it stays down).

    Raises:
        InvalidArgument: neither or both of ``sent`` and ``recorded``, an
            unknown ``node_id``, ``nth`` < 1 or ``restart_after`` not a positive
            finite delay (each named in the message).
        InvalidArgumentType: ``sent`` or ``recorded`` is not a str, or ``when`` not callable.
    """
    check_type("sim", sim, Simulation)
    sim.node(node_id)
    if (sent is None) == (recorded is None):
        raise InvalidArgument(f"give exactly one of sent={sent!r} and recorded={recorded!r}")
    for name, value in (("sent", sent), ("recorded", recorded)):
        if value is not None:
            check_type(name, value, str, what="a str (a message type or a recorded event's name)")
    if when is not None:
        check_callable("when", when, "when(info) -> bool")
    check_int("nth", nth, low=1)
    if restart_after is not None:
        check_number("restart_after", restart_after, low=0, low_open=True,
                     what="a delay")
    kind, name = ("send", sent) if sent is not None else ("custom", recorded)
    state = {"cursor": sim.trace.mark(), "count": 0, "done": False}

    def watch(s: Simulation) -> None:
        if state["done"]:
            return None
        for row in s.trace.since(state["cursor"]):
            if row[1] == kind and row[2] == node_id and row[4] == name \
                    and (when is None or when(row[6] or {})):
                state["count"] += 1
                if state["count"] == nth:
                    state["done"] = True
                    s.at(s.now, s.crash, node_id)
                    if restart_after is not None:
                        s.at(s.now + restart_after, s.restart, node_id)
                    break
        state["cursor"] = s.trace.mark()
        return None

    sim.add_observer(watch)
