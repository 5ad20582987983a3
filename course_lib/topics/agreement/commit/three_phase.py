"""Three-phase commit, with a timeout-based termination protocol for participants left alone."""

from __future__ import annotations

from typing import Any

from ....sim.validation import check_positive
from .base import CommitCoordinator, CommitParticipant, _check_writes


class ThreePCCoordinator(CommitCoordinator):
    """Three-phase commit: prepare, then ``precommit`` once all voted yes, then ``decision`` commit.

    The extra round means no participant commits before every participant
    knows that everyone voted yes; participants can then finish on their own
    (see :class:`ThreePCParticipant`). No log: this class shows the protocol's
    behaviour under a coordinator crash and a partition, not recovery.
    """

    def __init__(self, timeout: float = 6.0) -> None:
        check_positive("timeout", timeout)
        self.timeout = timeout
        self.votes: dict = {}
        self.acks: dict = {}
        self.decided: dict = {}

    def begin(self, txid: Any, writes: dict) -> None:
        _check_writes(self.sim, writes)
        self.votes[txid] = {p: None for p in writes}
        self.acks[txid] = set()
        for participant, (key, value) in writes.items():
            self.send(participant, "prepare", txid=txid, key=key, value=value,
                      participants=tuple(writes))
        self.set_timer(self.timeout, self._give_up, txid)

    def on_vote(self, msg: Any) -> None:
        votes = self.votes.get(msg.txid)
        if votes is None or msg.txid in self.decided:
            return
        votes[msg.src] = msg.vote
        if msg.vote == "no":
            self._finish(msg.txid, "abort")
        elif all(v == "yes" for v in votes.values()):
            for participant in votes:
                self.send(participant, "precommit", txid=msg.txid)

    def on_precommit_ack(self, msg: Any) -> None:
        acks = self.acks.get(msg.txid)
        if acks is None or msg.txid in self.decided:
            return
        acks.add(msg.src)
        if acks == set(self.votes[msg.txid]):
            self._finish(msg.txid, "commit")

    def _give_up(self, txid: Any) -> None:
        if txid not in self.decided and not self.acks[txid]:
            self._finish(txid, "abort")

    def _finish(self, txid: Any, outcome: str) -> None:
        self.decided[txid] = outcome
        self.decide(txid, outcome)
        for participant in self.votes[txid]:
            self.send(participant, "decision", txid=txid, outcome=outcome)

    def on_ack(self, msg: Any) -> None:
        pass


class ThreePCParticipant(CommitParticipant):
    """A 3PC participant that finishes on its own when the coordinator goes quiet.

    States per transaction: ``"ready"`` (voted yes), ``"precommitted"``,
    ``"committed"``, ``"aborted"``. When nothing arrives for ``timeout`` it runs
    the *termination protocol*: ask every other participant for its state,
    wait ``timeout``, then commit if anyone it heard from (itself included)
    is precommitted or committed and nobody aborted, else abort. Correct when
    crashed nodes are the only silent ones; a partition makes silent nodes
    look crashed.
    """

    def __init__(self, timeout: float = 6.0) -> None:
        check_positive("timeout", timeout)
        self.timeout = timeout
        self.state: dict = {}     # txid -> state
        self.writes: dict = {}    # txid -> (key, value)
        self.members: dict = {}   # txid -> the participants
        self.heard: dict = {}     # txid -> {participant: state} during termination
        self.timers: dict = {}

    def on_prepare(self, msg: Any) -> None:
        answer = self.local_vote(msg.txid)
        self.writes[msg.txid] = (msg.key, msg.value)
        self.members[msg.txid] = msg.participants
        if answer == "yes":
            self.state[msg.txid] = "ready"
            self._wait(msg.txid)
        else:
            self._end(msg.txid, "abort")
        self.reply(msg, "vote", txid=msg.txid, vote=answer)

    def on_precommit(self, msg: Any) -> None:
        if self.state.get(msg.txid) == "ready":
            self.state[msg.txid] = "precommitted"
            self._wait(msg.txid)
        self.send(msg.src, "precommit_ack", txid=msg.txid)

    def on_decision(self, msg: Any) -> None:
        if self.state.get(msg.txid) not in ("committed", "aborted"):
            self._end(msg.txid, msg.outcome)

    def _wait(self, txid: Any) -> None:
        if txid in self.timers:
            self.timers[txid].cancel()
        self.timers[txid] = self.set_timer(self.timeout, self._terminate, txid)

    def _terminate(self, txid: Any) -> None:
        if self.state.get(txid) in ("committed", "aborted"):
            return
        self.record("terminate", txid=txid, state=self.state[txid])
        self.heard[txid] = {self.id: self.state[txid]}
        for other in self.members[txid]:
            if other != self.id:
                self.send(other, "state_request", txid=txid)
        self.timers[txid] = self.set_timer(self.timeout, self._conclude, txid)

    def on_state_request(self, msg: Any) -> None:
        self.send(msg.src, "state_reply", txid=msg.txid, state=self.state.get(msg.txid, "unknown"))

    def on_state_reply(self, msg: Any) -> None:
        if msg.txid in self.heard:
            self.heard[msg.txid][msg.src] = msg.state

    def _conclude(self, txid: Any) -> None:
        if self.state.get(txid) in ("committed", "aborted"):
            return
        states = set(self.heard.pop(txid, {}).values())
        if "aborted" in states:
            outcome = "abort"
        elif states & {"committed", "precommitted"}:
            outcome = "commit"
        else:
            outcome = "abort"
        self._end(txid, outcome)

    def _end(self, txid: Any, outcome: str) -> None:
        self.state[txid] = "committed" if outcome == "commit" else "aborted"
        if txid in self.timers:
            self.timers.pop(txid).cancel()
        if outcome == "commit":
            self.commit(txid, *self.writes[txid])
        else:
            self.abort(txid)
