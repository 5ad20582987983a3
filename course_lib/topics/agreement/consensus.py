"""Consensus stated precisely: the four properties, checked on a run, and naive protocols that miss them.

A run of a consensus protocol has every node ``propose`` a value
(``node.record("propose", value=v)``) and ``decide`` one
(``node.record("decide", value=v)``). The properties, as textbooks state them
(Cachin, Guerraoui and Rodrigues, *Introduction to Reliable and Secure
Distributed Programming*, section 5.1):

- **agreement**: no two nodes decide differently;
- **validity**: a decided value was proposed by some node;
- **integrity**: no node decides twice;
- **termination**: every node that does not crash eventually decides.

The first three are *safety* (something bad never happens: a checker can stop a
run at the event that breaks one, see :func:`consensus_safety`); termination is
*liveness* (something good eventually happens: only the end of a run can say a
node has not decided yet, see :func:`consensus_report`).

:class:`NaiveConsensus` is a family of first attempts, one per ``rule``; each
keeps some of the properties and loses another:

- ``"own"``: decide your own proposal at once (no agreement);
- ``"constant"``: everyone decides ``0`` (agreement, but no validity);
- ``"never"``: decide nothing (safe, no termination);
- ``"wait_for_all"``: broadcast, wait for every proposal, decide the smallest
  (one crash blocks it: no termination);
- ``"timeout"``: broadcast, decide the smallest proposal heard within
  ``timeout`` (a slow or lost message splits it: no agreement);
- ``"first_heard"``: broadcast, decide the first proposal delivered (nodes hear
  in different orders: no agreement, even without faults).

Example:
    >>> sim = run_consensus(NaiveConsensus, rule="wait_for_all", seed=1)
    >>> consensus_report(sim)["termination"]
    (True, '')
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ...sim import Node, Simulation, Uniform
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_choice, check_ids, check_number,
                               check_positive, check_type)
from .summaries import text_table

PROPERTIES = ("agreement", "validity", "integrity", "termination")
RULES = ("own", "constant", "never", "wait_for_all", "timeout", "first_heard")


def consensus_safety(sim: Simulation) -> str | None:
    """Invariant: agreement, validity and integrity hold for the ``propose``/``decide`` events so far.

    Register it with ``sim.add_invariant("consensus_safety", consensus_safety)``;
    it returns a message naming the property and the nodes when one breaks.
    """
    check_type("sim", sim, Simulation)
    state = sim.memo("consensus_safety", dict)
    proposed = state.setdefault("proposed", {})   # repr(value) -> proposer
    decided = state.setdefault("decided", {})     # node -> (value, time)
    for e in sim.trace.since(state.get("cursor", 0), kind="custom"):
        if e.type == "propose":
            proposed.setdefault(repr(e.info["value"]), e.node)
        elif e.type == "decide":
            value = e.info["value"]
            if e.node in decided:
                state["cursor"] = sim.trace.mark()
                return (f"integrity: {e.node} decided twice, {decided[e.node][0]!r} at "
                        f"{decided[e.node][1]:.2f} and {value!r} at {e.time:.2f}")
            if repr(value) not in proposed:
                state["cursor"] = sim.trace.mark()
                return f"validity: {e.node} decided {value!r} at {e.time:.2f}, which nobody proposed"
            for other, (theirs, when) in decided.items():
                if theirs != value:
                    state["cursor"] = sim.trace.mark()
                    return (f"agreement: {other} decided {theirs!r} at {when:.2f}, "
                            f"{e.node} decided {value!r} at {e.time:.2f}")
            decided[e.node] = (value, e.time)
    state["cursor"] = sim.trace.mark()
    return None


def consensus_report(sim: Simulation) -> dict:
    """Return ``{property: (holds, why not)}`` for the four properties over the whole run.

    Termination is judged at the end of the run: every node that is up then
    has decided (a node that crashed and stayed down is excused).
    """
    check_type("sim", sim, Simulation)
    proposed = {repr(e.info["value"]) for e in sim.trace.custom("propose")}
    decisions: dict = {}
    for e in sim.trace.custom("decide"):
        decisions.setdefault(e.node, []).append(e.info["value"])
    firsts = {node: values[0] for node, values in decisions.items()}
    out = {}
    distinct = list(dict.fromkeys(repr(v) for v in firsts.values()))
    out["agreement"] = (len(distinct) <= 1, "" if len(distinct) <= 1 else
                        "decided " + ", ".join(f"{n}={v!r}" for n, v in firsts.items()))
    invalid = {n: v for n, v in firsts.items() if repr(v) not in proposed}
    out["validity"] = (not invalid, ", ".join(f"{n} decided {v!r}, never proposed"
                                              for n, v in invalid.items()))
    twice = [n for n, values in decisions.items() if len(values) > 1]
    out["integrity"] = (not twice, ", ".join(f"{n} decided {len(decisions[n])} times" for n in twice))
    undecided = [n for n, node in sim.nodes.items() if not node.crashed and n not in decisions]
    out["termination"] = (not undecided, ("undecided at the end: " + ", ".join(map(str, undecided)))
                          if undecided else "")
    return out


def property_table(runs: Mapping[str, Simulation]) -> str:
    """Return a table with a row per named run and a column per property: ``yes`` or ``NO``."""
    if not isinstance(runs, Mapping):
        raise InvalidArgumentType(f"runs={runs!r} must be a dict {{name: simulation}}")
    rows = []
    for name, sim in runs.items():
        report = consensus_report(sim)
        rows.append([name, *("yes" if report[p][0] else "NO" for p in PROPERTIES)])
    return text_table(["protocol", *PROPERTIES], rows)


class NaiveConsensus(Node):
    """A first attempt at consensus, chosen by ``rule`` (see the module's list); call ``propose(value)``."""

    def __init__(self, members: Sequence[Any], rule: str = "wait_for_all", timeout: float = 3.0) -> None:
        check_choice("rule", rule, RULES)
        self.members = check_ids("members", members)
        check_positive("timeout", timeout)
        self.rule = rule
        self.timeout = timeout
        self.heard: dict = {}
        self.decided = False

    def propose(self, value: Any) -> None:
        """Propose ``value``; the rule decides what happens next."""
        self.record("propose", value=value)
        if self.rule == "own":
            self.decide(value)
        elif self.rule == "constant":
            self.decide(0)
        elif self.rule in ("wait_for_all", "timeout", "first_heard"):
            for member in self.members:
                self.send(member, "proposal", value=value)
            if self.rule == "timeout":
                self.set_timer(self.timeout, self.give_up_waiting)

    def on_proposal(self, msg: Any) -> None:
        self.heard[msg.src] = msg.value
        if self.rule == "first_heard":
            self.decide(msg.value)
        elif self.rule == "wait_for_all" and len(self.heard) == len(self.members):
            self.decide(min(self.heard.values()))

    def give_up_waiting(self) -> None:
        if self.heard:
            self.decide(min(self.heard.values()))

    def decide(self, value: Any) -> None:
        if not self.decided:
            self.decided = True
            self.record("decide", value=value)


def run_consensus(node_cls: type = NaiveConsensus, *, proposals: Mapping[Any, Any] | None = None,
                  seed: Any = 0, latency: Any = None, loss: float = 0.0, crash: Any = None,
                  crash_at: float = 0.5, until: float = 30.0, check: bool = False,
                  **node_options: Any) -> Simulation:
    """Run one consensus instance: each node of ``proposals`` proposes its value at time 0.

    Args:
        node_cls: a node class taking ``members`` first and with ``propose(value)``.
        proposals: ``{node id: value}`` (default: five nodes n1..n5 proposing 5, 3, 4, 1, 2).
        crash: a node to crash at ``crash_at`` (it stays down; at 0 it crashes before proposing).
        check: register :func:`consensus_safety`, which stops the run at a violation.
        node_options: passed to the node class (``rule=``, ``timeout=``).

    Raises:
        InvalidArgument: a bad argument, named in the message (such as a
            ``crash`` that is not one of the nodes).
    """
    if proposals is None:
        proposals = {"n1": 5, "n2": 3, "n3": 4, "n4": 1, "n5": 2}
    if not isinstance(proposals, Mapping):
        raise InvalidArgumentType(f"proposals={proposals!r} must be a dict {{node id: value}}")
    if not proposals:
        raise InvalidArgument(f"proposals={proposals!r} names no node; give at least one {{node id: value}}")
    members = check_ids("proposals", list(proposals))
    if crash is not None and crash not in members:
        raise InvalidArgument(f"crash={crash!r} is not one of the nodes {members}")
    check_number("crash_at", crash_at, low=0, what="a time")
    check_positive("until", until)
    check_type("check", check, bool, what="True or False")
    sim = Simulation(seed=seed, latency=Uniform(0.5, 1.5) if latency is None else latency, loss=loss)
    sim.add_nodes(node_cls, members, members, **node_options)
    if check:
        sim.add_invariant("consensus_safety", consensus_safety)
    if crash is not None:
        sim.nemesis.crash(crash, at=crash_at)
    for node_id, value in proposals.items():
        node = sim.node(node_id)
        sim.at(0.0, lambda node=node, value=value: None if node.crashed else node.propose(value))
    sim.run(until=until)
    return sim
