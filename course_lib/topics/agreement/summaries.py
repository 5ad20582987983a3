"""Runs summed up as small text tables: aligned columns, times rounded, nothing wrapping mid-word."""

from __future__ import annotations

from typing import Any, Sequence

from ...sim import Simulation
from ...sim.validation import InvalidArgument, InvalidArgumentType, check_type


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "-" if value is None else str(value)


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, digits: int = 1) -> str:
    """Return ``rows`` under the headers ``columns``, aligned; floats rounded to ``digits`` places.

    The first column is aligned left, the others right; ``None`` shows as ``-``.

    Example:
        >>> print(text_table(["node", "in doubt"], [["p1", 78.2619], ["p2", None]]))
        node  in doubt
        p1        78.3
        p2           -

    Raises:
        InvalidArgument: a row has not one cell per column.
        InvalidArgumentType: ``columns`` or a row is a str rather than a list.
    """
    for name, value in (("columns", columns), ("rows", rows)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise InvalidArgumentType(f"{name}={value!r} must be a list")
    cells = [[str(c) for c in columns]]
    for index, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise InvalidArgumentType(f"rows[{index}]={row!r} must be a list of cells")
        if len(row) != len(columns):
            raise InvalidArgument(f"rows[{index}]={list(row)!r} has {len(row)} cells for "
                                  f"{len(columns)} columns")
        cells.append([_cell(v, digits) for v in row])
    widths = [max(len(row[c]) for row in cells) for c in range(len(columns))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [text.rjust(width) for text, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def outcome_table(sim: Simulation) -> str:
    """Return a table of a 2PC run: a row per node, a column per transaction, and its time in doubt.

    A cell is the node's last decision on that transaction (``-``: none); the
    last column is how long the participant held a yes vote without an outcome
    (``-`` for a node that never votes, the coordinator).
    """
    from .commit.scenario import in_doubt_time, transaction_outcomes

    check_type("sim", sim, Simulation)
    outcomes = transaction_outcomes(sim)
    doubt = in_doubt_time(sim)
    txids = sorted(outcomes, key=str)
    voters = {e.node for e in sim.trace.custom("vote")}
    rows = []
    for node in sim.nodes:
        row = [node, *(outcomes[t].get(node) for t in txids)]
        row.append(doubt.get(node, 0.0) if node in voters else None)
        rows.append(row)
    return text_table(["node", *txids, "time in doubt"], rows)


def message_table(sim: Simulation) -> str:
    """Return the messages a run sent, by type, with the total."""
    check_type("sim", sim, Simulation)
    by_type = sim.trace.summary()["sent_by_type"]
    rows = [[t, n] for t, n in by_type.items()] + [["total", sum(by_type.values())]]
    return text_table(["message", "sent"], rows)
