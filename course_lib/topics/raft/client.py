"""A client of a Raft cluster that follows the leader of the highest term, and what it saw.

A real client does not know who leads: it sends its command to the server it
last heard of, and a server that does not lead answers with the leader it knows
(or nothing, if it is cut off), so the client retries until a leader takes the
command. :class:`LeaderClient` skips the retries and lands where they end: every
``every`` units it submits a numbered command to the server that leads the
**highest term** among the servers that are up. A leader cut off from the
others still believes it leads, and until the majority elects a newer one it is
the highest-term leader there is: the commands sent in that window reach it and
are lost when it returns. That window is the cluster's unavailability, and
:func:`outage` measures it.

Example:
    >>> from course_lib.topics.raft import RaftBase, RaftCluster
    >>> cluster = RaftCluster(RaftBase, 3, seed=1)
    >>> client = LeaderClient(cluster, every=80)
    >>> cluster.run(100)
    >>> client.commands    # no leader yet (timeouts are 150-300): nothing submitted
    []
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

from ...sim.validation import InvalidArgumentType, check_number

__all__ = ["LeaderClient", "Submitted", "Outage", "outage"]


class Submitted(NamedTuple):
    """One command the client submitted: when, which, to whom, and where the leader put it."""

    time: float
    command: str
    server: str
    term: int
    index: int


class Outage(NamedTuple):
    """What a fault cost the client (see :func:`outage`)."""

    fault: float            # when the fault happened
    last_ok: float | None   # the last command before it that committed (its submit time)
    next_ok: float | None   # the first command after it that committed (its submit time)
    lost: int               # commands submitted from the fault to next_ok that never committed
    leader: str | None      # who took next_ok
    term: int | None        # in which term

    @property
    def unavailable(self) -> float | None:
        """How long after the fault the first command that committed was submitted (None: none did)."""
        return None if self.next_ok is None else round(self.next_ok - self.fault, 3)


class LeaderClient:
    """Submit a numbered command (``"x1"``, ``"x2"``, ...) every ``every`` units to the highest-term leader.

    The leader is the server that is up, believes it leads, and has the highest
    term among such servers (a cut-off server counts: the client cannot tell it
    was deposed until a newer leader exists). With no leader, the client skips
    that tick. Every submission is kept in :attr:`commands`.

    Args:
        cluster: a :class:`~course_lib.topics.raft.RaftCluster`.
        every: the time between two commands (positive).

    Raises:
        InvalidArgumentType: ``cluster`` is not a RaftCluster.
        InvalidArgument: ``every`` is not a positive time.
    """

    def __init__(self, cluster: Any, every: float = 80.0) -> None:
        from .harness import RaftCluster

        if not isinstance(cluster, RaftCluster):
            raise InvalidArgumentType(f"cluster={cluster!r} must be a course_lib.topics.raft.RaftCluster")
        check_number("every", every, low=0, low_open=True, what="a positive time")
        self.cluster = cluster
        self.every = float(every)
        self.commands: list[Submitted] = []
        cluster.sim.after(self.every, self._tick)

    def leader(self) -> str | None:
        """The id of the up server that leads the highest term, or None."""
        best, best_term = None, -1
        for node_id in self.cluster.ids:
            node = self.cluster.node(node_id)
            if not node.crashed and node.role == "leader" and node.current_term > best_term:
                best, best_term = node_id, node.current_term
        return best

    def _tick(self) -> None:
        server = self.leader()
        if server is not None:
            command = f"x{len(self.commands) + 1}"
            index, term, _ = self.cluster.submit(server, command)
            self.commands.append(Submitted(round(self.cluster.now, 3), command, server, term, index))
        self.cluster.sim.after(self.every, self._tick)

    def committed(self) -> set[str]:
        """The commands some server has applied so far."""
        return {e.info["command"] for e in self.cluster.sim.trace.custom("apply")
                if isinstance(e.info, dict) and "command" in e.info}

    def table(self) -> list[list]:
        """Each command as ``[time, command, server, term, index, committed]``, for a record."""
        done = self.committed()
        return [[c.time, c.command, c.server, c.term, c.index, c.command in done] for c in self.commands]


def outage(commands: Iterable[Any], fault: float) -> Outage:
    """What a fault at time ``fault`` cost a client whose commands are ``commands``.

    Args:
        commands: rows ``[time, command, server, term, index, committed]``, as
            :meth:`LeaderClient.table` returns them (and records keep them).
        fault: the time of the fault.

    Raises:
        InvalidArgumentType: ``commands`` holds something that is not such a row,
            or ``fault`` is not a time.
    """
    check_number("fault", fault, low=0, what="a time")
    rows = []
    for row in commands:
        if not (isinstance(row, (list, tuple)) and len(row) == 6):
            raise InvalidArgumentType(f"commands holds {row!r}; each must be [time, command, server, term, "
                                      "index, committed], as LeaderClient.table() returns")
        rows.append(row)
    before = [r for r in rows if r[0] < fault and r[5]]
    after = [r for r in rows if r[0] >= fault]
    first = next((r for r in after if r[5]), None)
    lost = sum(1 for r in after if not r[5] and (first is None or r[0] < first[0]))
    return Outage(fault, before[-1][0] if before else None, None if first is None else first[0], lost,
                  None if first is None else first[2], None if first is None else first[3])
