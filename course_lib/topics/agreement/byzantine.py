"""Byzantine faults: one lying acceptor breaks Paxos, and why tolerating f liars takes 3f + 1 nodes.

Crash-fault protocols (2PC, Paxos, Raft) trust every message: a node may stop,
never lie. :class:`LyingAcceptor` is a Paxos acceptor that promises as it should
but reports that it has accepted nothing; :func:`run_lying_acceptor` gives it a
schedule in which that lie makes Paxos choose two values with three acceptors.
:func:`quorum_table` does the arithmetic behind Byzantine quorums.
"""

from __future__ import annotations

from typing import Any

from ...sim import Simulation, Uniform
from ...sim.validation import check_int, check_type
from .paxos import PaxosNode
from .summaries import text_table


class LyingAcceptor(PaxosNode):
    """A Paxos node whose promises always claim that it has accepted nothing."""

    def on_prepare(self, msg: Any) -> None:
        self._saw(msg.ballot)
        if self.promised is None or msg.ballot > self.promised:
            self.promised = msg.ballot
            self.send(msg.src, "promise", ballot=msg.ballot, accepted_ballot=None, accepted_value=None)
        else:
            self.send(msg.src, "nack", ballot=msg.ballot, promised=self.promised)


def run_lying_acceptor(liar: bool, *, seed: Any = 0) -> Simulation:
    """Run three Paxos nodes a, b, c where c lies (``liar=True``) or is honest.

    From 0 to 6, b is cut off and a proposes ``x`` (a and c accept it: chosen).
    From 6, a is cut off and b proposes ``y`` at 6.5, with promises from b and c.
    An honest c reports ``x``, so b proposes ``x`` again; a lying c does not.
    """
    check_type("liar", liar, bool, what="True or False")
    sim = Simulation(seed=seed, latency=Uniform(0.9, 1.1))
    members = ["a", "b", "c"]
    for node_id in members:
        sim.add_node(LyingAcceptor if (liar and node_id == "c") else PaxosNode, node_id, members, timeout=8.0)
    sim.nemesis.partition([["a", "c"], ["b"]], at=0.0, heal_at=6.0)
    sim.nemesis.partition([["b", "c"], ["a"]], at=6.0)
    sim.at(0.0, sim.node("a").propose, "x")
    sim.at(6.5, sim.node("b").propose, "y")
    sim.run(until=14.0)
    return sim


def quorum_table(max_f: int = 2) -> str:
    """Return, for f = 1..max_f liars and n = 2f + 1 .. 3f + 2 nodes, whether quorums can be safe and live.

    A quorum must be at most n - f nodes (the f may stay silent); two quorums of
    size q share at least 2q - n nodes, of which f may be liars, so the shared
    part holds an honest node only if 2q - n > f, which with q = n - f needs n > 3f.

    Raises:
        InvalidArgument: ``max_f`` is not an int in [1, 5].
    """
    check_int("max_f", max_f, low=1, high=5)
    rows = []
    for f in range(1, max_f + 1):
        for n in range(2 * f + 1, 3 * f + 3):
            q = n - f
            shared = 2 * q - n
            rows.append([f, n, q, shared, shared - f, "yes" if shared - f >= 1 else "NO"])
    return text_table(["f", "n", "quorum n-f", "two quorums share", "honest among them (worst)",
                       "safe?"], rows)
