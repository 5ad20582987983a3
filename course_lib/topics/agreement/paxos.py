"""Single-decree Paxos (chapter 03a lecture): proposers, acceptors and learners agree on one value.

Every :class:`PaxosNode` plays all three roles. A proposer picks a *ballot*
``(round, its id)``, higher than any it has seen, and runs two phases against a
majority of acceptors:

1. ``prepare(ballot)``: an acceptor that has promised nothing higher promises
   to ignore lower ballots from now on (``promise``) and reports the value it
   has accepted, if any, with that value's ballot; otherwise it answers ``nack``.
2. With promises from a majority, the proposer sends ``accept(ballot, value)``,
   where ``value`` is the one accepted under the highest ballot among the
   promises, or its own value if none was. An acceptor accepts unless it has
   promised a higher ballot, and tells every learner (``accepted``).

A learner learns a value once a majority accepted it under the same ballot.
A proposer that is nacked tries again with a higher ballot after a back-off,
and one that has not seen its value chosen ``timeout`` after starting a round
starts another. ``backoff="fixed"`` always waits exactly that long;
``"random"`` draws the back-off from [0, 2 x ``backoff_delay``] and the timeout
from [1, 2] x ``timeout``, which breaks the symmetry of duelling proposers. The acceptor's state
(promised ballot, accepted ballot and value) is durable.

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=2)
    >>> ids = ["a", "b", "c"]
    >>> nodes = sim.add_nodes(PaxosNode, ids, ids)
    >>> sim.at(0.0, nodes[0].propose, "x")
    >>> sim.run(until=20)
    >>> [n.learned for n in nodes]
    ['x', 'x', 'x']
"""

from __future__ import annotations

from typing import Any, Sequence

from ...sim import Node, Simulation, Uniform
from ...sim.errors import EventBudgetExceeded
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_choice, check_ids,
                               check_number, check_positive, check_type)

BACKOFFS = ("fixed", "random")


class PaxosNode(Node):
    """Proposer, acceptor and learner of one single-decree Paxos instance among ``members``."""

    durable = ("promised", "accepted_ballot", "accepted_value")

    def __init__(self, members: Sequence[Any], timeout: float = 6.0, backoff: str = "fixed",
                 backoff_delay: float = 1.0) -> None:
        check_choice("backoff", backoff, BACKOFFS)
        members = check_ids("members", members)
        check_positive("timeout", timeout)
        check_positive("backoff_delay", backoff_delay)
        self.members = members
        self.quorum = len(self.members) // 2 + 1
        self.timeout = timeout
        self.backoff = backoff
        self.backoff_delay = backoff_delay
        # acceptor (durable)
        self.promised = None
        self.accepted_ballot = None
        self.accepted_value = None
        # proposer
        self.proposal = None
        self.ballot = None
        self.highest_round = 0
        self.promises: dict = {}
        self.retry_timer = None
        self.rounds_started = 0
        # learner
        self.votes: dict = {}   # ballot -> {acceptor: value}
        self.learned = None

    # -- proposer ----------------------------------------------------------------------------
    def propose(self, value: Any) -> None:
        """Try to get ``value`` chosen (the chosen value may still be another proposer's)."""
        self.proposal = value
        self.start_round()

    def start_round(self) -> None:
        if self.learned is not None or self.proposal is None:
            return
        self.highest_round += 1
        self.ballot = (self.highest_round, self.id)
        self.rounds_started += 1
        self.promises = {}
        self.record("prepare", ballot=self.ballot)
        for member in self.members:
            self.send(member, "prepare", ballot=self.ballot)
        timeout = self.timeout
        if self.backoff == "random":
            timeout *= 1 + self.rng.random()
        self._retry_after(timeout)

    def _retry_after(self, delay: float) -> None:
        if self.retry_timer is not None:
            self.retry_timer.cancel()
        self.retry_timer = self.set_timer(delay, self.start_round)

    def _back_off(self) -> None:
        delay = self.backoff_delay
        if self.backoff == "random":
            delay *= 2 * self.rng.random()
        self._retry_after(delay)

    def _saw(self, ballot: Any) -> None:
        if ballot is not None:
            self.highest_round = max(self.highest_round, ballot[0])

    def on_promise(self, msg: Any) -> None:
        if msg.ballot != self.ballot or self.learned is not None:
            return
        self.promises[msg.src] = (msg.accepted_ballot, msg.accepted_value)
        if len(self.promises) == self.quorum:
            prior = [(b, v) for b, v in self.promises.values() if b is not None]
            value = max(prior, key=lambda bv: bv[0])[1] if prior else self.proposal
            self.record("accept", ballot=self.ballot, value=value)
            for member in self.members:
                self.send(member, "accept", ballot=self.ballot, value=value)

    def on_nack(self, msg: Any) -> None:
        self._saw(msg.promised)
        if msg.ballot == self.ballot and self.learned is None:
            self.ballot = None            # this round is lost: back off, then try higher
            self._back_off()

    # -- acceptor ----------------------------------------------------------------------------
    def on_prepare(self, msg: Any) -> None:
        self._saw(msg.ballot)
        if self.promised is None or msg.ballot > self.promised:
            self.promised = msg.ballot
            self.send(msg.src, "promise", ballot=msg.ballot, accepted_ballot=self.accepted_ballot,
                      accepted_value=self.accepted_value)
        else:
            self.send(msg.src, "nack", ballot=msg.ballot, promised=self.promised)

    def on_accept(self, msg: Any) -> None:
        self._saw(msg.ballot)
        if self.promised is None or msg.ballot >= self.promised:
            self.promised = msg.ballot
            self.accepted_ballot = msg.ballot
            self.accepted_value = msg.value
            for member in self.members:
                self.send(member, "accepted", ballot=msg.ballot, value=msg.value)
        else:
            self.send(msg.src, "nack", ballot=msg.ballot, promised=self.promised)

    # -- learner -----------------------------------------------------------------------------
    def on_accepted(self, msg: Any) -> None:
        votes = self.votes.setdefault(msg.ballot, {})
        votes[msg.src] = msg.value
        if self.learned is None and len(votes) >= self.quorum:
            self.learned = msg.value
            self.record("learned", value=msg.value)
            if self.retry_timer is not None:
                self.retry_timer.cancel()


def run_paxos(*, proposers: Sequence[tuple[float, Any, Any]] = ((0.0, "a", "x"), (0.0, "e", "y")),
              members: Sequence[Any] = ("a", "b", "c", "d", "e"), backoff: str = "fixed",
              latency: Any = None, loss: float = 0.0, until: float = 200.0, seed: Any = 0,
              timeout: float = 6.0, backoff_delay: float = 1.0,
              max_events: int = 2_000_000) -> Simulation:
    """Run one Paxos instance; ``proposers`` lists ``(time, node, value)`` proposals.

    Returns the simulation; read ``node.learned`` for the outcome and the
    ``"prepare"`` events to count rounds.

    Raises:
        InvalidArgument: a bad argument (named in the message), such as a
            proposer that is not one of ``members``.
        EventBudgetExceeded: the run took more than ``max_events`` events.
    """
    members = check_ids("members", members)
    check_choice("backoff", backoff, BACKOFFS)
    check_positive("until", until)
    if isinstance(proposers, (str, bytes)) or not isinstance(proposers, Sequence):
        raise InvalidArgumentType(f"proposers={proposers!r} must be a list of (time, node, value) "
                                  "triples")
    for index, item in enumerate(proposers):
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            raise InvalidArgument(f"proposers[{index}]={item!r} must be a triple (time, node, value)")
        check_number(f"proposers[{index}]: time", item[0], low=0, what="a time")
        if isinstance(item[1], bool) or item[1] not in members:
            raise InvalidArgument(f"proposers[{index}]: node={item[1]!r} is not one of "
                                  f"members={members!r}")
    sim = Simulation(seed=seed, latency=Uniform(0.9, 1.1) if latency is None else latency, loss=loss,
                     max_events=max_events)
    sim.add_nodes(PaxosNode, list(members), list(members), timeout=timeout, backoff=backoff,
                  backoff_delay=backoff_delay)
    for time, node_id, value in proposers:
        sim.at(time, sim.node(node_id).propose, value)
    try:
        sim.run(until=until)
    except EventBudgetExceeded as exc:
        raise EventBudgetExceeded(f"{exc} (here: pass run_paxos(..., max_events=N))") from None
    return sim


def decision_time(sim: Simulation) -> float | None:
    """Return when the last node learned the value (None if some node never learned one)."""
    check_type("sim", sim, Simulation)
    learned = {e.node: e.time for e in sim.trace.custom("learned")}
    if len(learned) < len(sim.nodes):
        return None
    return max(learned.values())


def learned_values(sim: Simulation) -> dict:
    """Return each node's learned value (None when it learned nothing).

    Raises:
        InvalidArgument: a node of ``sim`` is not a Paxos node (it has no ``learned``).
    """
    check_type("sim", sim, Simulation)
    out = {}
    for node_id, node in sim.nodes.items():
        if not hasattr(node, "learned"):
            raise InvalidArgument(f"node {node_id!r} of sim has no .learned: it is not a PaxosNode")
        out[node_id] = node.learned
    return out
