"""Multi-Paxos: a replicated log, one Paxos instance per slot, phase 1 run once by a stable leader.

Every :class:`MultiPaxosNode` is an acceptor and a learner, and the node told
to :meth:`~MultiPaxosNode.become_leader` is the proposer. A new leader picks a
ballot higher than any it has seen and runs **phase 1 once for every slot**:
``prepare(ballot)``, answered by each acceptor's ``promise`` with everything it
has accepted, slot by slot. With promises from a majority, the leader
re-proposes, in each slot, the value accepted there under the highest ballot
(a no-op in a gap), and from then on sends only **phase 2** for each new
command: ``accept(ballot, slot, value)``, answered by ``accepted``; with a majority
of those the leader learns the value and tells everyone else ``chosen(slot, value)``. One round trip
per command instead of two, as long as the leader stays.

``skip_phase1=True`` is the tempting shortcut: a new leader skips phase 1
altogether and starts proposing at the first slot *it* has not seen chosen.
Acceptors accept its higher ballot, and a value already chosen in that slot is
overwritten: :func:`one_value_per_slot` catches the two values chosen for one slot.

Nodes deliver chosen values in slot order, without gaps (``delivered``): the
log is a **total-order broadcast**; :meth:`~MultiPaxosNode.to_broadcast` sends a
value to the leader, which puts it in the next slot.

Example:
    >>> sim = run_log(commands=[(1.0, "c1"), (2.0, "c2")], seed=1)
    >>> [sim.node(n).delivered for n in ("a", "e")]
    [['c1', 'c2'], ['c1', 'c2']]
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ...sim import Node, Simulation, Uniform
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_ids, check_number,
                               check_positive, check_type)

NOOP = "no-op"


class MultiPaxosNode(Node):
    """Acceptor and learner of a replicated log among ``members``; the proposer while it leads."""

    durable = ("promised", "accepted")

    def __init__(self, members: Sequence[Any], skip_phase1: bool = False) -> None:
        self.members = check_ids("members", members)
        check_type("skip_phase1", skip_phase1, bool, what="True or False")
        self.quorum = len(self.members) // 2 + 1
        self.skip_phase1 = skip_phase1
        # acceptor (durable)
        self.promised = None
        self.accepted: dict = {}          # slot -> (ballot, value)
        # leader
        self.highest_round = 0
        self.ballot = None
        self.leading = False
        self.prepared = False
        self.promises: dict = {}
        self.queue: list = []
        self.next_slot = 1
        self.proposals: dict = {}         # slot -> value proposed under self.ballot
        self.votes: dict = {}             # slot -> acceptors that accepted it under self.ballot
        # learner
        self.chosen: dict = {}            # slot -> value
        self.delivered: list = []
        self.leader_hint = None

    # -- leader ------------------------------------------------------------------------------
    def become_leader(self) -> None:
        """Start leading with a new, higher ballot (phase 1 for every slot, unless skipped)."""
        self.highest_round += 1
        self.ballot = (self.highest_round, self.id)
        self.leading = True
        self.leader_hint = self.id
        self.proposals, self.votes = {}, {}
        self.record("leader", leader=self.id, ballot=self.ballot)
        for member in self.members:
            if member != self.id:
                self.send(member, "leader", ballot=self.ballot)
        if self.skip_phase1:
            self.prepared = True
            self.next_slot = max(self.chosen, default=0) + 1
            self._flush()
        else:
            self.prepared = False
            self.promises = {}
            for member in self.members:
                self.send(member, "prepare", ballot=self.ballot)

    def submit(self, command: Any) -> None:
        """Put ``command`` in the log (a leader's client call; it waits while phase 1 runs)."""
        self.queue.append(command)
        self._flush()

    def to_broadcast(self, value: Any) -> None:
        """Total-order broadcast ``value``: hand it to the leader, which gives it the next slot."""
        if self.leading:
            self.submit(value)
        elif self.leader_hint is not None:
            self.send(self.leader_hint, "request", value=value)
        else:
            self.queue.append(value)

    def on_request(self, msg: Any) -> None:
        self.to_broadcast(msg.value)

    def on_leader(self, msg: Any) -> None:
        self._saw(msg.ballot)
        self.leader_hint = msg.src
        if self.leading and msg.ballot > self.ballot:
            self._step_down()
        waiting, self.queue = (self.queue, []) if not self.leading else ([], self.queue)
        for value in waiting:
            self.send(msg.src, "request", value=value)

    def _saw(self, ballot: Any) -> None:
        if ballot is not None:
            self.highest_round = max(self.highest_round, ballot[0])

    def _step_down(self) -> None:
        self.leading = self.prepared = False
        self.record("deposed", ballot=self.ballot)

    def _flush(self) -> None:
        while self.leading and self.prepared and self.queue:
            slot = self.next_slot
            self.next_slot += 1
            self._propose(slot, self.queue.pop(0))

    def _propose(self, slot: int, value: Any) -> None:
        self.proposals[slot] = value
        self.votes[slot] = set()
        for member in self.members:
            self.send(member, "accept", ballot=self.ballot, slot=slot, value=value)

    def on_promise(self, msg: Any) -> None:
        if not self.leading or self.prepared or msg.ballot != self.ballot:
            return
        self.promises[msg.src] = msg.accepted
        if len(self.promises) < self.quorum:
            return
        self.prepared = True
        highest: dict = {}
        for accepted in self.promises.values():
            for slot, (ballot, value) in accepted.items():
                if slot not in highest or ballot > highest[slot][0]:
                    highest[slot] = (ballot, value)
        top = max([*highest, *self.chosen], default=0)
        for slot in range(1, top + 1):   # re-propose what may have been chosen; fill gaps with no-ops
            if slot in self.chosen:
                continue
            self._propose(slot, highest[slot][1] if slot in highest else NOOP)
        self.next_slot = top + 1
        self._flush()

    def on_accepted(self, msg: Any) -> None:
        if not self.leading or msg.ballot != self.ballot or msg.slot not in self.votes:
            return
        self.votes[msg.slot].add(msg.src)
        if len(self.votes[msg.slot]) == self.quorum:
            self.learn(msg.slot, self.proposals[msg.slot])
            for member in self.members:
                if member != self.id:
                    self.send(member, "chosen", slot=msg.slot, value=self.proposals[msg.slot])

    def on_nack(self, msg: Any) -> None:
        self._saw(msg.promised)
        if self.leading and msg.ballot == self.ballot:
            self._step_down()

    # -- acceptor ----------------------------------------------------------------------------
    def on_prepare(self, msg: Any) -> None:
        self._saw(msg.ballot)
        if self.promised is None or msg.ballot > self.promised:
            self.promised = msg.ballot
            self.reply(msg, "promise", ballot=msg.ballot, accepted=dict(self.accepted))
        else:
            self.reply(msg, "nack", ballot=msg.ballot, promised=self.promised)

    def on_accept(self, msg: Any) -> None:
        self._saw(msg.ballot)
        if self.promised is None or msg.ballot >= self.promised:
            self.promised = msg.ballot
            self.accepted[msg.slot] = (msg.ballot, msg.value)
            self.reply(msg, "accepted", ballot=msg.ballot, slot=msg.slot)
        else:
            self.reply(msg, "nack", ballot=msg.ballot, promised=self.promised)

    # -- learner -----------------------------------------------------------------------------
    def on_chosen(self, msg: Any) -> None:
        self.learn(msg.slot, msg.value)

    def learn(self, slot: int, value: Any) -> None:
        """Note that ``value`` was chosen in ``slot``; deliver what is now complete, in slot order."""
        if slot in self.chosen and self.chosen[slot] == value:
            return
        if slot not in self.chosen:
            self.chosen[slot] = value
        self.record("learn", slot=slot, value=value)
        while len(self.delivered) + 1 in self.chosen:
            value = self.chosen[len(self.delivered) + 1]
            self.delivered.append(value)
            self.record("delivered", slot=len(self.delivered), value=value)


def one_value_per_slot(sim: Simulation) -> str | None:
    """Invariant: no two ``learn`` events, at any nodes, name different values for one slot."""
    check_type("sim", sim, Simulation)
    state = sim.memo("one_value_per_slot", dict)
    first = state.setdefault("first", {})   # slot -> (value, node, time)
    for e in sim.trace.since(state.get("cursor", 0), kind="custom"):
        if e.type != "learn":
            continue
        slot, value = e.info["slot"], e.info["value"]
        if slot not in first:
            first[slot] = (value, e.node, e.time)
        elif first[slot][0] != value:
            state["cursor"] = sim.trace.mark()
            theirs, node, when = first[slot]
            return (f"slot {slot} chosen twice: {node} learned {theirs!r} at {when:.2f}, "
                    f"{e.node} learned {value!r} at {e.time:.2f}")
    state["cursor"] = sim.trace.mark()
    return None


def run_log(*, members: Sequence[Any] = ("a", "b", "c", "d", "e"),
            leaders: Sequence[tuple[float, Any]] = ((0.0, "a"),),
            commands: Sequence[tuple[float, Any]] = (), skip_phase1: bool = False,
            faults: Callable[[Simulation], None] | None = None, latency: Any = None, until: float = 60.0,
            seed: Any = 0, check: bool = True) -> Simulation:
    """Run a Multi-Paxos log: ``leaders`` lists ``(time, node)`` leader changes, ``commands`` ``(time, value)``.

    Each command goes to whichever node leads at its time (through ``to_broadcast``
    at the first leader when none leads). ``faults(sim)`` may schedule crashes and
    partitions. With ``check``, :func:`one_value_per_slot` stops the run at a
    slot chosen twice.

    Raises:
        InvalidArgument: a bad argument, named in the message (such as a leader
            that is not one of ``members``).
    """
    members = check_ids("members", members)
    check_type("skip_phase1", skip_phase1, bool, what="True or False")
    check_type("check", check, bool, what="True or False")
    check_positive("until", until)
    if faults is not None:
        check_callable("faults", faults, "faults(sim)")
    for name, items in (("leaders", leaders), ("commands", commands)):
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise InvalidArgumentType(f"{name}={items!r} must be a list of (time, ...) pairs")
        for index, item in enumerate(items):
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise InvalidArgument(f"{name}[{index}]={item!r} must be a pair (time, ...)")
            check_number(f"{name}[{index}]: time", item[0], low=0, what="a time")
    for index, (_, node_id) in enumerate(leaders):
        if isinstance(node_id, bool) or node_id not in members:
            raise InvalidArgument(f"leaders[{index}]: node={node_id!r} is not one of members={members!r}")
    if not leaders:
        raise InvalidArgument("leaders=[] names no leader; give at least one (time, node)")
    sim = Simulation(seed=seed, latency=Uniform(0.9, 1.1) if latency is None else latency)
    sim.add_nodes(MultiPaxosNode, members, members, skip_phase1=skip_phase1)
    if check:
        sim.add_invariant("one_value_per_slot", one_value_per_slot)
    if faults is not None:
        faults(sim)
    for time, node_id in leaders:
        node = sim.node(node_id)
        sim.at(time, lambda node=node: None if node.crashed else node.become_leader())

    def submit(value: Any) -> None:
        leading = [n for n in sim.nodes.values() if not n.crashed and n.leading]
        (leading[-1] if leading else sim.node(leaders[0][1])).to_broadcast(value)

    for time, value in commands:
        sim.at(time, submit, value)
    sim.run(until=until)
    return sim


class LogConsensus(MultiPaxosNode):
    """Consensus from total-order broadcast: broadcast your proposal in the log, decide the first delivered.

    The first of ``members`` leads the log. Every node delivers the same first
    value, so every node decides the same, and it was somebody's proposal.
    """

    def propose(self, value: Any) -> None:
        """Propose ``value``: total-order broadcast it, and decide whatever the log delivers first."""
        self.record("propose", value=value)
        if self.id == self.members[0] and not self.leading:
            self.become_leader()
        elif self.leader_hint is None:
            self.leader_hint = self.members[0]
        self.to_broadcast(value)

    def learn(self, slot: int, value: Any) -> None:
        before = len(self.delivered)
        super().learn(slot, value)
        if before == 0 and self.delivered:
            self.record("decide", value=self.delivered[0])
