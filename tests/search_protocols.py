"""Small protocols with known schedules, for the schedule search's tests (tests/test_search.py).

Each comes in a correct and a wrong version; the wrong one breaks only in a few
schedules, which is what a search must find and a seeded run usually does not.
"""

from __future__ import annotations

from course_lib.sim import Node, Simulation


class Elector(Node):
    """One election per node, one vote per term. ``buggy``: votes for anyone who asks."""

    buggy = False
    durable = ("term", "voted_for")

    def __init__(self) -> None:
        self.term = 0
        self.voted_for: dict = {}
        self.votes: set = set()
        self.leader_terms: list = []

    def on_start(self) -> None:
        if not self.leader_terms and self.term == 0:
            self.set_timer(10, "elect")

    def timer_elect(self) -> None:
        self.term += 1
        self.votes = {self.id}
        self.voted_for[self.term] = self.id
        for peer in self.peers:
            self.send(peer, "request_vote", term=self.term)

    def on_request_vote(self, msg) -> None:
        if msg.term > self.term:
            self.term = msg.term
        if self.buggy or self.voted_for.get(msg.term) in (None, msg.src):
            self.voted_for[msg.term] = msg.src
            self.send(msg.src, "vote", term=msg.term)

    def on_vote(self, msg) -> None:
        if msg.term != self.term:
            return
        self.votes.add(msg.src)
        if len(self.votes) == 2 and self.term not in self.leader_terms:
            self.leader_terms.append(self.term)
            self.record("leader", term=self.term)


class ForgetfulElector(Elector):
    """Correct votes, but nothing is durable: after a crash it may vote again in a term."""

    durable = ()


def one_leader_per_term(sim: Simulation) -> str | None:
    seen: dict = {}
    for node in sim.nodes.values():
        for term in getattr(node, "leader_terms", ()):
            if term in seen:
                return f"{seen[term]} and {node.id} both lead term {term}"
            seen[term] = node.id
    return None


def elector_sim(cls: type = Elector, *, buggy: bool = False):
    """A factory of fresh three-node election simulations with the invariant registered."""
    kind = type(cls.__name__, (cls,), {"buggy": buggy})

    def make_sim() -> Simulation:
        sim = Simulation(seed=0)
        sim.add_nodes(kind, ["a", "b", "c"])
        sim.add_invariant("one_leader_per_term", one_leader_per_term)
        return sim
    return make_sim


def some_leader(sim: Simulation) -> bool:
    return any(getattr(n, "leader_terms", None) for n in sim.nodes.values())


class Committer(Node):
    """A leader replicates one value and commits it once both followers have acknowledged it.

    ``counts_messages``: counts acks, not the nodes that sent them, so a duplicated
    ack commits with no follower but one (the classic duplicate-delivery mistake).
    """

    counts_messages = False

    def __init__(self) -> None:
        self.acks: list = []
        self.committed = False

    def on_start(self) -> None:
        if self.id == "a":
            for peer in self.peers:
                self.send(peer, "prepare", value=1)

    def on_prepare(self, msg) -> None:
        self.send(msg.src, "ack")

    def on_ack(self, msg) -> None:
        if self.counts_messages or msg.src not in self.acks:
            self.acks.append(msg.src)
        if len(self.acks) >= 2:
            self.committed = True


def committed_by_majority(sim: Simulation) -> str | None:
    leader = sim.node("a")
    if leader.committed and len(set(leader.acks)) < 2:
        return f"committed with acks from {sorted(set(leader.acks))} only"
    return None


def committer_sim(*, counts_messages: bool):
    kind = type("Committer", (Committer,), {"counts_messages": counts_messages})

    def make_sim() -> Simulation:
        sim = Simulation(seed=0)
        sim.add_nodes(kind, ["a", "b", "c"])
        sim.add_invariant("committed_by_majority", committed_by_majority)
        return sim
    return make_sim


class Asker(Node):
    """Asks the server with request(); retries on timeout, at most twice."""

    def __init__(self) -> None:
        self.tries = 0
        self.answer = None

    def on_start(self) -> None:
        if self.id == "client":
            self.ask()

    def ask(self) -> None:
        self.tries += 1
        self.request("server", "get", timeout=5, on_reply=self.got, on_timeout=self.timed_out)

    def got(self, reply) -> None:
        self.answer = reply.value

    def timed_out(self, request) -> None:
        if self.tries < 3:
            self.ask()

    def on_get(self, msg) -> None:
        self.reply(msg, "value", value=42)


def asker_sim() -> Simulation:
    sim = Simulation(seed=0)
    sim.add_nodes(Asker, ["client", "server"])
    return sim


class Crasher(Node):
    """Raises in its handler when a message arrives before its own timer fired."""

    def __init__(self) -> None:
        self.ready = False

    def on_start(self) -> None:
        self.set_timer(1, "ready")
        if self.id == "a":
            self.send("b", "hello")

    def timer_ready(self) -> None:
        self.ready = True

    def on_hello(self, msg) -> None:
        if not self.ready:
            raise RuntimeError("not ready yet")


def crasher_sim() -> Simulation:
    sim = Simulation(seed=0)
    sim.add_nodes(Crasher, ["a", "b"])
    return sim


class Copier(Node):
    """Each write bumps the writer's version and copies (version, value) to its peers.

    ``buggy``: a copy is taken whatever its version, so a copy overtaken by a newer one
    moves the receiver's version backwards. Shortest failing schedule with the client
    actions ``write 1`` then ``write 2``: both at one node, then the copies arrive at the
    other node newest first (4 steps).
    """

    buggy = False

    def __init__(self) -> None:
        self.version = 0
        self.value = None
        self.highest = 0
        self.kept: list = []

    def write(self, value) -> None:
        self.version += 1
        self.value = value
        self.highest = max(self.highest, self.version)
        for peer in self.peers:
            self.send(peer, "copy", version=self.version, value=value)

    def on_copy(self, msg) -> None:
        if self.buggy or msg.version > self.version:
            self.version, self.value = msg.version, msg.value
            self.highest = max(self.highest, self.version)


class KeepingCopier(Copier):
    """Copier that also keeps every copy it received (messages in its state: the general path)."""

    def on_copy(self, msg) -> None:
        self.kept.append(msg)
        super().on_copy(msg)


def versions_never_decrease(sim: Simulation) -> str | None:
    for node in sim.nodes.values():
        if node.version < node.highest:
            return f"{node.id}'s version went back from {node.highest} to {node.version}"
    return None


WRITES = [("write 1", lambda node: node.write(1)), ("write 2", lambda node: node.write(2))]


def copier_sim(cls: type = Copier, *, buggy: bool = False):
    def make() -> Simulation:
        sim = Simulation(seed=0)
        kind = type("BuggyCopier", (cls,), {"buggy": True}) if buggy else cls
        sim.add_nodes(kind, ["a", "b"])
        sim.add_invariant("versions_never_decrease", versions_never_decrease)
        return sim
    return make
