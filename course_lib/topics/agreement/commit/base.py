"""What every commit protocol needs: participants with a database, a coordinator that decides.

The base classes record ``"vote"`` and ``"decide"`` events, which
:func:`course_lib.checkers.atomic_commit` checks; the protocols
(:mod:`.two_phase`, :mod:`.three_phase`, the exercise's) subclass them.
"""

from __future__ import annotations

from typing import Any, Mapping

from ....sim import Node, Simulation
from ....sim.validation import (InvalidArgument, InvalidArgumentType, check_choice, check_probability,
                                check_type)

OUTCOMES = ("commit", "abort")
DEFAULT_REFUSAL_RATE = 0.2


def set_refusal_rate(sim: Simulation, rate: float) -> None:
    """Make every participant's database refuse a transaction with probability ``rate``.

    Raises:
        InvalidArgument: ``rate`` is not a probability.
        InvalidArgumentType: ``sim`` is not a Simulation.
    """
    check_type("sim", sim, Simulation)
    sim.memo("course_lib.topics.agreement.commit", dict)["refusal_rate"] = check_probability("rate", rate)


def _check_outcome(outcome: Any) -> str:
    return check_choice("outcome", outcome, OUTCOMES)


def _check_writes(sim: Simulation, writes: Any) -> None:
    """A transaction's writes: a non-empty dict from participant ids to ``(key, value)`` pairs."""
    if not isinstance(writes, Mapping):
        raise InvalidArgumentType(f"writes={writes!r} must be a dict {{participant id: (key, value)}}")
    if not writes:
        raise InvalidArgument("writes={} must name at least one participant")
    nodes = sim.nodes
    for participant, write in writes.items():
        if isinstance(participant, bool) or participant not in nodes:
            raise InvalidArgument(f"writes names participant {participant!r}, which is not a node of "
                                  f"this simulation; nodes are {list(nodes)}")
        if not (isinstance(write, tuple) and len(write) == 2):
            raise InvalidArgument(f"writes[{participant!r}]={write!r} must be a pair (key, value)")


class CommitParticipant(Node):
    """Base class of a participant: a node with a small database that commits or aborts transactions.

    The database (:attr:`data`) lives on the node's disk, so it survives
    crashes; everything else a protocol needs to remember is the subclass's
    business (its ``durable`` attributes or ``self.storage``).
    """

    @property
    def data(self) -> dict:
        """The committed key -> value pairs (on disk: survives crashes)."""
        return self.storage.setdefault("data", {})

    def local_vote(self, txid: Any) -> str:
        """Ask the local database whether it can commit ``txid``; returns ``"yes"`` or ``"no"``.

        The answer depends on locks and constraints at the moment of asking, so
        asking twice may give two different answers: ask once, and remember.
        """
        rate = self.sim.memo("course_lib.topics.agreement.commit", dict).get("refusal_rate", DEFAULT_REFUSAL_RATE)
        vote = "no" if self.rng.random() < rate else "yes"
        self.record("vote", txid=txid, vote=vote)
        return vote

    def commit(self, txid: Any, key: Any, value: Any) -> None:
        """Apply the transaction's write to the database and record the outcome ``commit``."""
        self.data[key] = value
        self.record("decide", txid=txid, outcome="commit")

    def abort(self, txid: Any) -> None:
        """Drop the transaction and record the outcome ``abort``."""
        self.record("decide", txid=txid, outcome="abort")


class CommitCoordinator(Node):
    """Base class of a coordinator; the client calls :meth:`begin` with the transaction's writes."""

    def begin(self, txid: Any, writes: dict) -> None:
        """Start transaction ``txid``; ``writes`` maps each participant id to its ``(key, value)``."""
        raise NotImplementedError(f"{type(self).__name__}.begin(txid, writes)")

    def decide(self, txid: Any, outcome: str) -> None:
        """Record the coordinator's decision for ``txid`` (the commit point of the protocol)."""
        self.record("decide", txid=txid, outcome=_check_outcome(outcome))
