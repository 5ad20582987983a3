"""A simulated database: one node, tables of rows, transactions that apply all of their writes or none.

Services talk to it with messages, as to any database server, so a service can crash between
two of its calls (``sim.crash_on_send(service, "txn")``). A transaction is a tuple of operations,
applied atomically when the ``txn`` message arrives, and its tables live in ``storage`` (they
survive the database's crashes)::

    ("put", table, key, value)       # write a row
    ("add", table, key, delta)       # add delta to a numeric row (missing rows count as 0)
    ("insert", table, key, value)    # write a row only if the key is new, else abort the whole txn
    ("delete", table, key)           # remove a row (missing rows are fine)

A ``txn`` sent with :meth:`Node.request` is answered with ``txn_ok`` (``ok=True``, or
``ok=False, conflict=(table, key)`` when an ``insert`` found its key taken). ``read`` asks for the
rows of a table (``read_ok`` with ``rows``, sorted by key). The database counts what it applied,
so checkers can tell an effect that happened twice from one that happened once.

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=1)
    >>> db = sim.add_node(Database, "db")
    >>> db.apply((("add", "balance", "alice", 5), ("insert", "seen", "e1", 1)))
    (True, None)
    >>> db.apply((("insert", "seen", "e1", 1), ("add", "balance", "alice", 5)))
    (False, ('seen', 'e1'))
    >>> db.table("balance")
    {'alice': 5}
"""

from __future__ import annotations

from typing import Any

from ...sim import Node
from ...sim.validation import InvalidArgument, InvalidArgumentType

__all__ = ["Database", "OPS", "check_ops"]

#: The operations a transaction may hold, with their number of fields after the name.
OPS = {"put": 3, "add": 3, "insert": 3, "delete": 2}


def check_ops(name: str, ops: Any) -> tuple:
    """Return ``ops`` as a tuple of operations, or raise naming ``name`` and the bad operation."""
    if isinstance(ops, (str, bytes)) or not isinstance(ops, (tuple, list)):
        raise InvalidArgumentType(f"{name}={ops!r} must be a tuple of operations such as "
                                  "(('put', 'orders', 1, 'pending'),)")
    out = []
    for i, op in enumerate(ops):
        if not isinstance(op, (tuple, list)) or not op or op[0] not in OPS:
            raise InvalidArgument(f"{name}[{i}]={op!r} must be a tuple starting with one of "
                                  f"{tuple(OPS)}")
        if len(op) != OPS[op[0]] + 1:
            raise InvalidArgument(f"{name}[{i}]={op!r}: {op[0]!r} takes {OPS[op[0]]} fields "
                                  "after its name (table, key" + (", value)" if OPS[op[0]] == 3 else ")"))
        if op[0] == "add" and (isinstance(op[3], bool) or not isinstance(op[3], (int, float))):
            raise InvalidArgumentType(f"{name}[{i}]={op!r}: the delta of 'add' must be a number")
        out.append(tuple(op))
    return tuple(out)


class Database(Node):
    """A database server: atomic transactions over named tables, kept in ``storage``.

    Attributes:
        committed: transactions applied, in order: ``(time, sender, ops)``.
        aborted: transactions refused by an ``insert`` conflict: ``(time, sender, ops, conflict)``.
    """

    durable = ("committed", "aborted")

    def __init__(self) -> None:
        self.committed: list[tuple[float, Any, tuple]] = []
        self.aborted: list[tuple[float, Any, tuple, tuple]] = []

    # -- the server's messages ----------------------------------------------------------------
    def on_txn(self, msg: Any) -> None:
        ok, conflict = self.apply(msg.ops, sender=msg.src)
        if msg.get("reply", True):
            self.reply(msg, "txn_ok", ok=ok, conflict=conflict, tag=msg.get("tag"))

    def on_read(self, msg: Any) -> None:
        rows = tuple(sorted(self.table(msg.table).items(), key=lambda kv: repr(kv[0])))
        self.reply(msg, "read_ok", table=msg.table, rows=rows, tag=msg.get("tag"))

    # -- the same, called directly (set-up, tests, checkers) ------------------------------------
    def apply(self, ops: Any, sender: Any = None) -> tuple[bool, tuple | None]:
        """Apply the operations atomically; return ``(ok, conflict)`` as ``txn_ok`` says."""
        ops = check_ops("ops", ops)
        tables = self.storage.setdefault("tables", {})
        for op in ops:
            if op[0] == "insert" and op[2] in tables.get(op[1], {}):
                self.aborted.append((self.sim.now, sender, ops, (op[1], op[2])))
                return False, (op[1], op[2])
        for op in ops:
            table = tables.setdefault(op[1], {})
            if op[0] in ("put", "insert"):
                table[op[2]] = op[3]
            elif op[0] == "add":
                table[op[2]] = table.get(op[2], 0) + op[3]
            else:
                table.pop(op[2], None)
        self.committed.append((self.sim.now, sender, ops))
        return True, None

    def table(self, name: str) -> dict:
        """A copy of table ``name`` (empty if it was never written)."""
        if not isinstance(name, str):
            raise InvalidArgumentType(f"name={name!r} must be a table name (a str)")
        return dict(self.storage.get("tables", {}).get(name, {}))

    def applied(self, kind: str, table: str) -> int:
        """How many ``kind`` operations on ``table`` committed transactions applied."""
        if kind not in OPS:
            raise InvalidArgument(f"kind={kind!r} must be one of {tuple(OPS)}")
        return sum(1 for _, _, ops in self.committed for op in ops if op[0] == kind and op[1] == table)
