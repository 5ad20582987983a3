"""One node of the learner's two-phase commit among scripted peers, on a fixed schedule.

Seeded runs exercise the rules of a coordinator or a participant only when
the network happens to lose, repeat or delay the right message. Here the
other side is scripted, every message takes exactly 0.5 time units, and each
case sends the messages that a rule is about: a repeated prepare, a repeated
decision, a decision before its prepare, a query that gets no answer, a
query about a transaction still collecting votes, a duplicated yes vote. The
same schedule runs on every seed.

- :func:`participant_scenario`: the learner's participant ``p1`` and a scripted coordinator.
- :func:`coordinator_scenario`: the learner's coordinator and scripted participants ``p1``, ``p2``.
"""

from __future__ import annotations

from typing import Any

from ....checkers.invariants import atomic_commit
from ....sim import Constant, Node, Simulation
from ....sim.errors import ScenarioFailed
from ....sim.validation import InvalidArgumentType, check_choice
from .base import set_refusal_rate

LATENCY = 0.5
PARTICIPANT_CASES = ("repeats", "in_doubt")
COORDINATOR_CASES = ("queries", "votes")


def _check_class(name: str, cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise InvalidArgumentType(f"{name}={cls!r} must be a class, a subclass of course_lib.sim.Node")


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")


def _decisions(sim: Simulation, node: Any, txid: Any) -> list:
    return [e.info["outcome"] for e in sim.trace.custom("decide")
            if e.node == node and e.info["txid"] == txid]


# -- a participant among a scripted coordinator -----------------------------------------------------

class _ScriptedCoordinator(Node):
    """Sends the messages of its script at the given times and keeps every message it receives.

    ``answer_from``: answer a ``query`` with ``decision(outcome)`` from the
    ``answer_from``-th query about that transaction on (the ones before are
    dropped, as if lost); 0 answers none.
    """

    def __init__(self, script: list, outcomes: dict, answer_from: int = 0) -> None:
        self.script = list(script)
        self.outcomes = dict(outcomes)
        self.answer_from = answer_from
        self.received: list[tuple[float, str, Any, Any]] = []  # (time, type, txid, vote or None)

    def on_start(self) -> None:
        for at, dst, kind, fields in self.script:
            self.set_timer(at, self._send, dst, kind, fields)

    def _send(self, dst: Any, kind: str, fields: dict) -> None:
        self.send(dst, kind, **fields)

    def _keep(self, msg: Any) -> None:
        self.received.append((self.sim.now, msg.type, msg.get("txid"), msg.get("vote")))

    def on_vote(self, msg: Any) -> None:
        self._keep(msg)

    def on_ack(self, msg: Any) -> None:
        self._keep(msg)

    def on_query(self, msg: Any) -> None:
        self._keep(msg)
        asked = sum(1 for r in self.received if r[1] == "query" and r[2] == msg.txid)
        if self.answer_from and asked >= self.answer_from and msg.txid in self.outcomes:
            self.send(msg.src, "decision", txid=msg.txid, outcome=self.outcomes[msg.txid])

    def got(self, kind: str, txid: Any) -> list:
        return [r for r in self.received if r[1] == kind and r[2] == txid]


def participant_scenario(participant_cls: type, seed: Any = 0, *, case: str) -> Simulation:
    """Run the learner's participant ``p1`` against a scripted coordinator, and check it.

    Every database says yes. The cases:

    - ``"repeats"``: the prepare of ``t1`` arrives twice, then its ``commit``
      decision twice; the decision ``abort`` of ``t2`` arrives before ``t2``'s
      prepare. The participant must ask its database once and answer both
      prepares with that vote, apply ``t1`` once and acknowledge both
      decisions (an ack can be lost: the coordinator resends until one
      arrives), and take ``t2``'s late prepare without raising or committing.
    - ``"in_doubt"``: ``p1`` votes yes on ``t1``, crashes and restarts; the
      coordinator never sends the decision on its own and drops the first
      query about ``t1``: the participant must ask again (every
      ``QUERY_INTERVAL``), apply the answer and acknowledge it.

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: the participant broke a rule (the message says which).
        InvalidArgument: a bad argument (named in the message).
    """
    _check_class("participant_cls", participant_cls)
    _check_seed(seed)
    check_choice("case", case, PARTICIPANT_CASES)
    interval = getattr(participant_cls, "QUERY_INTERVAL", 5.0)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0 < interval <= 10:
        interval = 5.0
    sim = Simulation(seed=seed, latency=Constant(LATENCY))
    set_refusal_rate(sim, 0.0)
    sim.add_invariant("atomic_commit", atomic_commit)
    participant = sim.add_node(participant_cls, "p1")
    t1 = {"txid": "t1", "key": "k1", "value": "t1@p1"}
    if case == "repeats":
        script = [(1.0, "p1", "prepare", t1), (2.0, "p1", "prepare", t1),
                  (5.0, "p1", "decision", {"txid": "t1", "outcome": "commit"}),
                  (6.0, "p1", "decision", {"txid": "t1", "outcome": "commit"}),
                  (10.0, "p1", "decision", {"txid": "t2", "outcome": "abort"}),
                  (12.0, "p1", "prepare", {"txid": "t2", "key": "k2", "value": "t2@p1"})]
        coordinator = sim.add_node(_ScriptedCoordinator, "coord", script, {})
        end = 20.0
    else:
        coordinator = sim.add_node(_ScriptedCoordinator, "coord", [(1.0, "p1", "prepare", t1)],
                                   {"t1": "commit"}, 2)
        sim.nemesis.crash("p1", at=3.0, restart_at=4.0)
        end = 4.0 + 3.5 * interval
    sim.run(until=end)
    if case == "repeats":
        asked = [e for e in sim.trace.custom("vote") if e.info["txid"] == "t1"]
        if len(asked) != 1:
            raise ScenarioFailed(
                f"the prepare of 't1' arrived twice (at 1.5 and 2.5) and p1 asked its database "
                f"{len(asked)} times (local_vote); ask once, log the vote, and answer a repeated "
                "prepare with the logged vote: a second answer may differ", sim)
        votes = [r[3] for r in coordinator.got("vote", "t1")]
        if votes != ["yes", "yes"]:
            raise ScenarioFailed(
                f"the prepare of 't1' arrived twice and p1 answered with votes {votes}; answer every "
                "prepare, the repeated one too, with the vote you logged (the first answer may "
                "have been lost)", sim)
        applied = _decisions(sim, "p1", "t1")
        if applied != ["commit"]:
            raise ScenarioFailed(
                f"the decision commit of 't1' arrived twice (at 5.5 and 6.5) and p1 applied "
                f"{applied}; apply an outcome once (log it, and ignore a decision you already "
                "applied: replaying an old commit would overwrite newer writes)", sim)
        if participant.data.get("k1") != "t1@p1":
            raise ScenarioFailed(f"'t1' committed, but p1's database holds k1={participant.data.get('k1')!r} "
                                 "instead of 't1@p1'", sim)
        acks = len(coordinator.got("ack", "t1"))
        if acks < 2:
            raise ScenarioFailed(
                f"the decision of 't1' arrived twice and p1 acknowledged it {acks} time(s); "
                "acknowledge every decision, also one you already applied: the coordinator resends "
                "until an ack arrives, and the first ack may have been lost", sim)
        late = _decisions(sim, "p1", "t2")
        if late != ["abort"] or not coordinator.got("ack", "t2") or "k2" in participant.data:
            raise ScenarioFailed(
                f"the decision abort of 't2' arrived before its prepare (at 10.5 and 12.5): p1 decided "
                f"{late}, acknowledged {len(coordinator.got('ack', 't2'))} time(s), and its database "
                f"holds k2={participant.data.get('k2')!r}; apply and acknowledge a decision for a "
                "transaction you have not seen, and let the late prepare change nothing", sim)
    else:
        queries = coordinator.got("query", "t1")
        told = [r[0] for r in queries[1:2]]  # the second query is the first one answered
        alone = [e.time for e in sim.trace.custom("decide")
                 if e.node == "p1" and e.info["txid"] == "t1" and (not told or e.time < told[0])]
        if alone:
            raise ScenarioFailed(
                f"p1 voted yes on 't1' and decided it at {alone[0]:g} before the coordinator told it "
                "the outcome; a participant that voted yes is in doubt until told: it asks, never "
                "decides alone", sim)
        applied = _decisions(sim, "p1", "t1")
        if applied != ["commit"]:
            raise ScenarioFailed(
                f"p1 voted yes on 't1' at 1.5, crashed at 3 and restarted at 4; the coordinator "
                f"sends no decision on its own and drops the first query. By {end:g} p1 asked "
                f"{len(queries)} time(s) (at {[round(r[0] - LATENCY, 2) for r in queries]}) and decided "
                f"{applied}: a participant in doubt asks the coordinator every QUERY_INTERVAL "
                f"({interval:g}) until it knows (after a restart too), and applies the answer once", sim)
        if participant.data.get("k1") != "t1@p1":
            raise ScenarioFailed(
                f"'t1' committed, but p1's database holds k1={participant.data.get('k1')!r} instead of "
                "'t1@p1': the key and value of a yes vote must survive a crash (log them)", sim)
        if not coordinator.got("ack", "t1"):
            raise ScenarioFailed("p1 learned that 't1' committed from the answer to its query but never "
                                 "acknowledged it; acknowledge every decision", sim)
    return sim


# -- a coordinator among scripted participants ------------------------------------------------------

class _ScriptedParticipant(Node):
    """Votes as its plan says (a list of votes per transaction, each sent ``gap`` apart), acks every decision.

    ``queries``: ``(time, txid)`` pairs, each sent as ``query(txid)`` to the coordinator at that time.
    """

    def __init__(self, plan: dict, queries: list, gap: float = 0.0) -> None:
        self.plan = dict(plan)
        self.queries = list(queries)
        self.gap = gap
        self.decisions: list[tuple[float, Any, Any]] = []  # (time, txid, outcome) of every decision

    def on_start(self) -> None:
        for at, txid in self.queries:
            self.set_timer(at, self._query, txid)

    def _query(self, txid: Any) -> None:
        self.send("coord", "query", txid=txid)

    def _vote(self, txid: Any, vote: str) -> None:
        self.send("coord", "vote", txid=txid, vote=vote)

    def on_prepare(self, msg: Any) -> None:
        for i, vote in enumerate(self.plan.get(msg.txid, [])):
            self.set_timer(i * self.gap + (self.gap if vote.startswith("late ") else 0.0),
                           self._vote, msg.txid, vote.removeprefix("late "))

    def on_decision(self, msg: Any) -> None:
        self.decisions.append((self.sim.now, msg.txid, msg.outcome))
        self.send("coord", "ack", txid=msg.txid)


def coordinator_scenario(coordinator_cls: type, seed: Any = 0, *, case: str) -> Simulation:
    """Run the learner's coordinator with scripted participants ``p1`` and ``p2``, and check it.

    Every decision the participants receive must be the coordinator's own
    decision, received after it decided (a never-begun transaction may be
    answered abort), and the coordinator must decide each transaction exactly
    once. The cases:

    - ``"queries"``: ``t1`` (both vote yes) must commit. Later ``p1``, which
      acknowledged it, asks about ``t1`` again, and about ``t9``, never begun:
      each query must be answered at once (not at the next resend), ``commit``
      and ``abort``. Then ``p1`` votes yes on ``t2`` and asks about it before
      ``p2``'s yes arrives: the coordinator must not answer with an outcome it
      has not decided (then ``t2`` commits).
    - ``"votes"``: on ``t3`` ``p1``'s yes arrives twice and ``p2`` never
      votes: the coordinator must not commit (a yes counts once per
      participant), and aborts when the vote timeout fires. On ``t4`` ``p1``
      votes no and ``p2`` never votes: abort at once, and the vote timeout
      must not decide it again.

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: the coordinator broke a rule (the message says which).
        InvalidArgument: a bad argument (named in the message).
    """
    _check_class("coordinator_cls", coordinator_cls)
    _check_seed(seed)
    check_choice("case", case, COORDINATOR_CASES)
    sim = Simulation(seed=seed, latency=Constant(LATENCY))
    sim.add_invariant("atomic_commit", atomic_commit)
    coordinator = sim.add_node(coordinator_cls, "coord")
    if case == "queries":
        begun = {"t1": 1.0, "t2": 20.0}
        p1 = sim.add_node(_ScriptedParticipant, "p1", {"t1": ["yes"], "t2": ["yes"]},
                          [(12.0, "t1"), (13.0, "t9"), (20.9, "t2")])
        p2 = sim.add_node(_ScriptedParticipant, "p2", {"t1": ["yes"], "t2": ["late yes"]}, [], 1.5)
    else:
        begun = {"t3": 1.0, "t4": 20.0}
        p1 = sim.add_node(_ScriptedParticipant, "p1", {"t3": ["yes", "yes"], "t4": ["no"]}, [], 0.3)
        p2 = sim.add_node(_ScriptedParticipant, "p2", {}, [])
    for txid, at in begun.items():
        sim.at(at, coordinator.begin, txid, {"p1": ("k", f"{txid}@p1"), "p2": ("k", f"{txid}@p2")})
    sim.run(until=45.0)
    decided = {txid: [(e.time, e.info["outcome"]) for e in sim.trace.custom("decide")
                      if e.node == "coord" and e.info["txid"] == txid] for txid in begun}
    for txid, decisions in decided.items():
        if len(decisions) != 1:
            raise ScenarioFailed(
                f"the coordinator decided {txid!r} {len(decisions)} times "
                f"({[(round(t, 2), o) for t, o in decisions]}); call self.decide exactly once per "
                "transaction, when you decide, and let nothing decide it again (a late vote, the "
                "vote timeout)", sim)
    for peer in (p1, p2):
        for time, txid, outcome in peer.decisions:
            if txid not in begun:
                continue
            when, due = decided[txid][0]
            if outcome != due or time < when:
                raise ScenarioFailed(
                    f"{peer.id} received decision {outcome} for {txid!r} at {time:g}, but the "
                    f"coordinator decided {due} at {when:g}; send only an outcome you decided "
                    "(and logged) first", sim)
    outcome = {txid: decisions[0][1] for txid, decisions in decided.items()}
    if case == "queries":
        if outcome["t1"] != "commit" or outcome["t2"] != "commit":
            raise ScenarioFailed(
                f"both participants voted yes on 't1' and on 't2' and nothing failed, but the coordinator "
                f"decided {outcome}; every yes means commit", sim)
        for asked, txid, due in ((12.0, "t1", "commit"), (13.0, "t9", "abort")):
            answers = [(t, o) for t, x, o in p1.decisions if x == txid and asked < t <= asked + 3 * LATENCY]
            if [o for _, o in answers] != [due]:
                never = " (a transaction the coordinator never began: presumed abort)" if txid == "t9" else \
                    " (p1 had acknowledged it, so no resend was due)"
                raise ScenarioFailed(
                    f"p1 asked about {txid!r} at {asked:g}{never}; the coordinator's answers in the next "
                    f"{3 * LATENCY:g} time units: {answers or 'none'}. Answer a query at once with a "
                    f"decision message: {due}", sim)
    else:
        if outcome["t3"] != "abort":
            raise ScenarioFailed("p1's yes vote on 't3' arrived twice and p2 never voted, yet the coordinator "
                                 "committed: count one vote per participant, and every participant must "
                                 "vote yes", sim)
        if outcome["t4"] != "abort" or decided["t4"][0][0] > begun["t4"] + 3 * LATENCY:
            raise ScenarioFailed(f"p1 voted no on 't4' at {begun['t4'] + 2 * LATENCY:g}; the coordinator "
                                 f"decided {decided['t4']}: a no means abort, at once", sim)
    return sim
