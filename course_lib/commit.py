"""Chapter 03a scaffolding for atomic commit: participants' databases, naive 2PC, 3PC, crash points.

A distributed transaction writes at several *participants*; a *coordinator*
asks each one to prepare and then tells all of them the outcome. Every
participant must end with the same outcome (atomicity), and commit only if
every participant's database could (validity).

The pieces here:

- :class:`CommitParticipant` and :class:`CommitCoordinator`: base classes with
  the helpers every protocol needs: a participant's database (``data``,
  which survives crashes), :meth:`~CommitParticipant.local_vote` (may this
  database commit the transaction?), :meth:`~CommitParticipant.commit` and
  :meth:`~CommitParticipant.abort`; the coordinator's
  :meth:`~CommitCoordinator.decide`. They record ``"vote"`` and ``"decide"``
  events, which :func:`course_lib.checkers.atomic_commit` checks.
- :class:`NaiveCoordinator` / :class:`NaiveParticipant`: two-phase commit as it
  is usually first drawn: no log, no recovery, decisions sent once.
- :class:`ThreePCCoordinator` / :class:`ThreePCParticipant`: three-phase commit
  with a timeout-based termination protocol.
- :func:`crash_after`: crash a node at a protocol point ("right after it
  voted yes"), not at a clock time.
- :func:`commit_scenario`: run any coordinator and participant classes through
  transactions under loss and crashes, and check atomicity and progress.

The two-phase commit protocol the classes speak
-----------------------------------------------
======================================  ==================================================
message                                  meaning
======================================  ==================================================
``prepare(txid, key, value)``            coordinator -> participant: can you commit this write?
``vote(txid, vote)``                     participant -> coordinator: ``"yes"`` or ``"no"``
``decision(txid, outcome)``              coordinator -> participant: ``"commit"`` or ``"abort"``
``ack(txid)``                            participant -> coordinator: decision applied
``query(txid)``                          participant -> coordinator: what was decided?
======================================  ==================================================

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=3)
    >>> set_refusal_rate(sim, 0.0)
    >>> coord = sim.add_node(NaiveCoordinator, "coord")
    >>> _ = sim.add_nodes(NaiveParticipant, ["p1", "p2"])
    >>> sim.at(1.0, coord.begin, "t1", {"p1": ("x", 1), "p2": ("y", 2)})
    >>> sim.run(until=20)
    >>> sorted(transaction_outcomes(sim)["t1"].items())
    [('coord', 'commit'), ('p1', 'commit'), ('p2', 'commit')]
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .checkers.invariants import atomic_commit
from .sim.errors import ScenarioFailed
from .sim import Node, Simulation, Uniform
from .sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice,
                             check_int, check_non_negative, check_number, check_positive,
                             check_probability, check_type)

OUTCOMES = ("commit", "abort")
DEFAULT_REFUSAL_RATE = 0.2


def set_refusal_rate(sim: Simulation, rate: float) -> None:
    """Make every participant's database refuse a transaction with probability ``rate``.

    Raises:
        InvalidArgument: ``rate`` is not a probability.
        InvalidArgumentType: ``sim`` is not a Simulation.
    """
    check_type("sim", sim, Simulation)
    sim.memo("course_lib.commit", dict)["refusal_rate"] = check_probability("rate", rate)


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
        rate = self.sim.memo("course_lib.commit", dict).get("refusal_rate", DEFAULT_REFUSAL_RATE)
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


# -- the naive two-phase commit ------------------------------------------------------------------

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


# -- three-phase commit ---------------------------------------------------------------------------

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


# -- reading a run ---------------------------------------------------------------------------------

def transaction_outcomes(sim: Simulation) -> dict:
    """Return ``{txid: {node: outcome}}`` from the trace's ``decide`` events (a node's last decision)."""
    check_type("sim", sim, Simulation)
    out: dict = {}
    for event in sim.trace.custom("decide"):
        out.setdefault(event.info["txid"], {})[event.node] = event.info["outcome"]
    return out


def in_doubt_time(sim: Simulation) -> dict:
    """Return, per participant, the total time between voting yes and learning the outcome.

    A transaction still undecided at the end of the run counts until ``sim.now``.
    """
    check_type("sim", sim, Simulation)
    voted: dict = {}
    total: dict = {}
    for event in sim.trace.filter(kind="custom"):
        if event.type == "vote" and event.info["vote"] == "yes":
            voted.setdefault((event.node, event.info["txid"]), event.time)
        elif event.type == "decide":
            start = voted.pop((event.node, event.info["txid"]), None)
            if start is not None:
                total[event.node] = total.get(event.node, 0.0) + event.time - start
    for (node, _), start in voted.items():
        total[node] = total.get(node, 0.0) + sim.now - start
    return dict(sorted(total.items(), key=lambda kv: str(kv[0])))


# -- crash points ---------------------------------------------------------------------------------

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


# -- the chapter's scenario ------------------------------------------------------------------------

CRASH_POINTS = ("participant_after_yes", "coordinator_after_prepare", "coordinator_after_commit", "random")


def commit_scenario(coordinator_cls: type, participant_cls: type, seed: Any, *, participants: int = 3,
                    transactions: int = 8, spacing: float = 6.0, loss: float = 0.0,
                    duplicate: float = 0.0, reorder: float = 0.0, crash: str | None = None,
                    restart_after: float | None = 20.0, refusal_rate: float = DEFAULT_REFUSAL_RATE,
                    settle: float = 250.0, progress: bool | None = None,
                    max_events: int = 100_000) -> Simulation:
    """Run ``transactions`` transactions of ``coordinator_cls`` and ``participant_cls`` and check them.

    Every transaction writes one key at every participant. Checked throughout
    the run: :func:`~course_lib.checkers.atomic_commit`. Checked at the end, when
    ``progress`` (default: whenever every crashed node restarts): the
    coordinator and every participant decided every transaction the
    coordinator began, and each participant's database holds exactly the
    writes of the committed ones.

    Args:
        coordinator_cls: created as ``coordinator_cls()`` with id ``"coord"``.
        participant_cls: created as ``participant_cls()`` with ids ``"p1"``, ``"p2"``, ...
        seed: the simulation seed.
        crash: a crash point of :data:`CRASH_POINTS` (or None):
            ``"participant_after_yes"`` crashes a random participant right
            after a yes vote; ``"coordinator_after_prepare"`` crashes the
            coordinator right after it sends a transaction's prepares;
            ``"coordinator_after_commit"`` right after it decides commit;
            ``"random"`` crashes random nodes at random times.
        restart_after: how long a crashed node stays down (None: for good).
        refusal_rate: the probability that a database refuses a transaction.
        settle: total run time; the last transaction starts well before it.

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: atomicity was violated, or a transaction never finished.
    """
    for name, cls in (("coordinator_cls", coordinator_cls), ("participant_cls", participant_cls)):
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise InvalidArgumentType(f"{name}={cls!r} must be a class, a subclass of course_lib.sim.Node")
    check_int("participants", participants, low=1)
    check_int("transactions", transactions, low=1)
    check_non_negative("spacing", spacing)
    if crash is not None:
        check_choice("crash", crash, CRASH_POINTS)
    if restart_after is not None:
        check_number("restart_after", restart_after, low=0, low_open=True,
                     what="a delay")
    check_probability("refusal_rate", refusal_rate)
    if progress is not None:
        check_type("progress", progress, bool, what="True, False or None")
    check_number("settle", settle, what="a time")
    last_start = 1.0 + spacing * transactions
    if not settle > last_start + 50:
        raise InvalidArgument(f"settle={settle!r} must leave time after the last transaction ({last_start:g})")
    if isinstance(max_events, int) and not isinstance(max_events, bool) \
            and transactions * (participants + 1) > max_events:
        raise InvalidArgument(f"transactions={transactions} with participants={participants} need more "
                              f"than max_events={max_events} events; pass a larger max_events")
    sim = Simulation(seed=seed, latency=Uniform(0.5, 2.0), loss=loss, duplicate=duplicate,
                     reorder=reorder, reorder_delay=6.0, max_events=max_events)
    set_refusal_rate(sim, refusal_rate)
    coordinator = sim.add_node(coordinator_cls, "coord")
    ids = [f"p{i + 1}" for i in range(participants)]
    sim.add_nodes(participant_cls, ids)
    sim.add_invariant("atomic_commit", atomic_commit)
    faults = sim.rng_for("commit-faults")
    nth = 1 + faults.randrange(max(1, transactions // 2))
    if crash == "participant_after_yes":
        crash_after(sim, ids[faults.randrange(participants)], recorded="vote",
                    when=lambda e: e.get("vote") == "yes", nth=nth, restart_after=restart_after)
    elif crash == "coordinator_after_prepare":
        crash_after(sim, "coord", sent="prepare", nth=1 + (nth - 1) * participants,
                    restart_after=restart_after)
    elif crash == "coordinator_after_commit":
        crash_after(sim, "coord", recorded="decide", when=lambda e: e.get("outcome") == "commit",
                    nth=max(1, nth // 2), restart_after=restart_after)
    elif crash == "random":
        sim.nemesis.random_faults(start=1.0, end=last_start + 20, mean_interval=15.0,
                                  duration=restart_after or 10.0, kinds=("crash",),
                                  max_down=max(1, (participants + 1) // 2))
    if progress is None:
        progress = restart_after is not None
    begun: dict = {}

    def start(txid: Any, writes: dict) -> None:
        if coordinator.crashed:
            return  # the client cannot reach a coordinator that is down
        begun[txid] = writes
        coordinator.begin(txid, writes)

    for i in range(transactions):
        txid = f"t{i + 1}"
        writes = {p: (f"k{i + 1}", f"{txid}@{p}") for p in ids}
        sim.at(1.0 + spacing * i, start, txid, writes)
    sim.run(until=settle)
    if progress:
        outcomes = transaction_outcomes(sim)
        for txid, writes in begun.items():
            decided = outcomes.get(txid, {})
            missing = [n for n in ["coord", *ids] if n not in decided]
            if missing:
                raise ScenarioFailed(
                    f"transaction {txid!r} (begun at the coordinator) was never decided by {missing} "
                    f"by time {settle:g}; decisions: {decided}", sim)
            outcome = decided["coord"]
            for p, (key, value) in writes.items():
                held = sim.node(p).data.get(key)
                if outcome == "commit" and held != value:
                    raise ScenarioFailed(f"transaction {txid!r} committed, but {p}'s database holds "
                                         f"{key}={held!r} instead of {value!r}", sim)
                if outcome == "abort" and held is not None:
                    raise ScenarioFailed(f"transaction {txid!r} aborted, but {p}'s database holds "
                                         f"{key}={held!r}", sim)
    return sim
