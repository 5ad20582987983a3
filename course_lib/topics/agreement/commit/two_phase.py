"""Two-phase commit as it is usually first drawn: no log, no recovery, decisions sent once."""

from __future__ import annotations

from typing import Any

from ....sim.validation import check_positive
from .base import CommitCoordinator, CommitParticipant, _check_writes


class NaiveCoordinator(CommitCoordinator):
    """Two-phase commit as first drawn: prepare, count votes, send the outcome once. No log.

    A missing vote after ``vote_timeout`` counts as a no. After a crash it
    remembers nothing: not the transactions it ran, not what it decided.
    """

    def __init__(self, vote_timeout: float = 6.0) -> None:
        check_positive("vote_timeout", vote_timeout)
        self.vote_timeout = vote_timeout
        self.votes: dict = {}      # txid -> {participant: vote}
        self.decided: dict = {}    # txid -> outcome

    def begin(self, txid: Any, writes: dict) -> None:
        _check_writes(self.sim, writes)
        self.votes[txid] = {p: None for p in writes}
        for participant, (key, value) in writes.items():
            self.send(participant, "prepare", txid=txid, key=key, value=value)
        self.set_timer(self.vote_timeout, self._give_up, txid)

    def on_vote(self, msg: Any) -> None:
        votes = self.votes.get(msg.txid)
        if votes is None or msg.txid in self.decided:
            return
        votes[msg.src] = msg.vote
        if msg.vote == "no":
            self._finish(msg.txid, "abort")
        elif all(v == "yes" for v in votes.values()):
            self._finish(msg.txid, "commit")

    def _give_up(self, txid: Any) -> None:
        if txid not in self.decided:
            self._finish(txid, "abort")

    def _finish(self, txid: Any, outcome: str) -> None:
        self.decided[txid] = outcome
        self.decide(txid, outcome)
        for participant in self.votes[txid]:
            self.send(participant, "decision", txid=txid, outcome=outcome)

    def on_ack(self, msg: Any) -> None:
        pass  # nobody is waiting for acknowledgements


class NaiveParticipant(CommitParticipant):
    """Vote, keep the write staged in memory, apply the outcome when told. No log.

    While it waits for the outcome of a yes vote it is *in doubt*: it may not
    commit (another participant may have voted no) nor abort (the coordinator
    may have decided commit), so it waits, holding the write. After a crash it
    has forgotten the staged write, and treats an outcome for a transaction it
    does not know as an abort.
    """

    def __init__(self) -> None:
        self.staged: dict = {}     # txid -> (key, value): voted yes, outcome unknown

    def on_prepare(self, msg: Any) -> None:
        answer = self.local_vote(msg.txid)
        if answer == "yes":
            self.staged[msg.txid] = (msg.key, msg.value)
        else:
            self.abort(msg.txid)
        self.reply(msg, "vote", txid=msg.txid, vote=answer)

    def on_decision(self, msg: Any) -> None:
        staged = self.staged.pop(msg.txid, None)
        if staged is not None and msg.outcome == "commit":
            self.commit(msg.txid, *staged)
        elif staged is not None or msg.outcome == "commit":
            self.abort(msg.txid)  # nothing staged (forgotten in a crash): it cannot commit
        self.reply(msg, "ack", txid=msg.txid)
