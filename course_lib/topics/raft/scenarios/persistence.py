"""Part C's scenarios: persistence, crashes and unreliable networks (6.5840 3C)."""

from __future__ import annotations

from typing import Any

from ....sim import Simulation
from ..harness import RaftCluster, ScriptedPeer, _fail, watch
from ..messages import AppendEntries, RequestVote
from ..node import ELECTION_TIMEOUT
from .support import _cmd, _counts, _heal_all, _new


def persist_state(cls: type, seed: Any) -> Simulation:
    """One server against scripted peers: its term, vote and log survive a crash, even one right after a reply.

    The last two crashes happen in the middle of s1's handler, right after its reply leaves
    (:meth:`~course_lib.sim.Simulation.crash_on_send`): a server that answers first and
    persists after loses a vote or an entry that its peer has already counted.
    """
    sim = Simulation(seed=seed, latency=1.0)
    watch(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    sim.at(10, a.send, "s1", AppendEntries(term=3, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                           entries=((2, "p1"), (3, "p2")), leader_commit=1))
    sim.at(20, b.send, "s1", RequestVote(term=4, candidate_id="s3", last_log_index=2, last_log_term=3))
    sim.at(30, sim.crash, "s1")
    sim.at(40, sim.restart, "s1")
    sim.run(until=45)
    if (node.current_term, node.voted_for) != (4, "s3"):
        raise _fail(f"after a crash, s1 is in term {node.current_term} having voted for {node.voted_for!r}; "
                    "before it, it was in term 4 having voted for 's3': persist current_term and voted_for", sim)
    if node.log != [(2, "p1"), (3, "p2")]:
        raise _fail(f"after a crash, s1's log is {node.log}; before it, it was [(2, 'p1'), (3, 'p2')]: "
                    "persist the log", sim)
    sim.at(50, a.send, "s1", RequestVote(term=4, candidate_id="s2", last_log_index=2, last_log_term=3))
    sim.run(until=55)
    reply = a.received("request_vote_reply")[-1]
    if reply.vote_granted:
        raise _fail("s1 voted for s3 in term 4, crashed, restarted and voted for s2 in term 4: the vote "
                    "must be persisted before it is sent", sim)
    # A crash between two lines: s1 grants s2 its vote in term 6 and loses power right after the
    # reply leaves, before anything its handler would do next. s2 counts that vote.
    sim.crash_on_send("s1", "request_vote_reply", where=lambda m: m.vote_granted)
    sim.at(60, a.send, "s1", RequestVote(term=6, candidate_id="s2", last_log_index=2, last_log_term=3))
    sim.at(63, sim.restart, "s1")
    sim.at(64, b.send, "s1", RequestVote(term=6, candidate_id="s3", last_log_index=2, last_log_term=3))
    sim.run(until=70)
    granted = [m for m in a.received("request_vote_reply") if m.term == 6 and m.vote_granted]
    if not granted:
        raise _fail("s2 asked s1 for its vote in term 6 (s2's log as long as s1's) and got no vote; "
                    "expected a granted vote", sim)
    reply = b.received("request_vote_reply")[-1]
    if reply.vote_granted:
        raise _fail("s1 granted its vote in term 6 to s2 and crashed right after the reply left; restarted, "
                    "it granted its vote in term 6 to s3 too, so two candidates may win term 6: persist "
                    "current_term and voted_for *before* you send the reply (Figure 2: \"updated on stable "
                    "storage before responding to RPCs\")", sim)
    # The same for entries: s1 acknowledges an entry of s2, leader of term 6, and crashes right after
    # the acknowledgement leaves. The leader may count it towards a majority and commit the entry.
    sim.crash_on_send("s1", "append_entries_reply", where=lambda m: m.success)
    sim.at(71, a.send, "s1", AppendEntries(term=6, leader_id="s2", prev_log_index=2, prev_log_term=3,
                                           entries=((6, "p3"),), leader_commit=2))
    sim.at(74, sim.restart, "s1")
    sim.run(until=76)
    acks = [m for m in a.received("append_entries_reply") if m.term == 6 and m.success]
    if not acks:
        raise _fail("s2, leader of term 6, sent s1 an entry that follows s1's log and got no successful "
                    "reply; expected success=True", sim)
    if node.log != [(2, "p1"), (3, "p2"), (6, "p3")]:
        raise _fail(f"s1 acknowledged entry 3 (6, 'p3') of the leader s2 and crashed right after the "
                    f"acknowledgement left; restarted, its log is {node.log}, without the entry the leader "
                    "may already have counted as replicated and committed: persist the log *before* you "
                    "reply", sim)
    return sim


def _crash_restart(c: RaftCluster, server: Any) -> None:
    c.crash(server)
    c.restart(server)


def persist1(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """Agreement survives crashing and restarting every server, the leader, and a follower (3C, Persist1)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    for i in c.ids:  # crash and restart all
        _crash_restart(c, i)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    _crash_restart(c, leader1)
    c.one(_cmd(c), n)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.one(_cmd(c), n - 1)
    _crash_restart(c, leader2)
    c.connect(leader2)
    c.wait(4, n)  # the restarted server catches up
    i3 = c.ids.index(c.check_one_leader()) + 1
    c.disconnect(i3)
    c.one(_cmd(c), n - 1)
    _crash_restart(c, i3)
    c.connect(i3)
    c.one(_cmd(c), n)
    return c.sim


def persist2(cls: type, seed: Any, *, n: int = 5, iterations: int = 3) -> Simulation:
    """Partitions and crashes of the leader and followers, with commands in between (3C, Persist2)."""
    _counts(0, iterations=iterations)
    c = _new(cls, n, seed)
    for _ in range(iterations):
        c.one(_cmd(c), n)
        li = c.ids.index(c.check_one_leader())
        c.disconnect(li + 1)
        c.disconnect(li + 2)
        c.one(_cmd(c), n - 2)
        c.disconnect(li)
        c.disconnect(li + 3)
        c.disconnect(li + 4)
        _crash_restart(c, li + 1)
        _crash_restart(c, li + 2)
        c.connect(li + 1)
        c.connect(li + 2)
        c.run(ELECTION_TIMEOUT[1])
        _crash_restart(c, li + 3)
        c.connect(li + 3)
        c.one(_cmd(c), n - 2)
        c.connect(li + 4)
        c.connect(li)
    c.one(_cmd(c), n)
    return c.sim


def persist3(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A partitioned leader and a follower crash; the leader restarts and the cluster goes on (3C, Persist3)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    li = c.ids.index(c.check_one_leader())
    c.disconnect(li + 2)
    c.one(_cmd(c), 2)
    c.crash(li)
    c.crash(li + 1)
    c.connect(li + 2)
    c.restart(li)
    c.one(_cmd(c), 2)
    c.restart(li + 1)
    c.one(_cmd(c), n)
    return c.sim


def figure8(cls: type, seed: Any, *, n: int = 5, iterations: int = 300, unreliable: bool = False) -> Simulation:
    """Leaders crash right after taking commands, again and again, as in the paper's Figure 8 (3C).

    With ``unreliable``, leaders are cut off instead of crashed, on a lossy
    network with long reordering from the first fifth of the run
    (6.5840's Figure8Unreliable).
    """
    _counts(0, iterations=iterations)
    c = _new(cls, n, seed, unreliable=unreliable)
    c.one(_cmd(c), 1)
    up = n
    for it in range(iterations):
        if unreliable and it == iterations // 5:
            c.set_long_reordering(True)
        leader = None
        for i in c.ids:
            node = c.sim.node(i)
            if node.crashed:
                continue
            _, _, ok = c.submit(i, _cmd(c))
            if ok and (not unreliable or i not in c.disconnected):
                leader = i
        if c.rng.random() < 0.1:
            c.run(c.rng.uniform(0, ELECTION_TIMEOUT[1] / 2))
        else:
            c.run(c.rng.uniform(0.1, 13))
        if unreliable:
            if leader is not None and c.rng.random() < 0.5:
                c.disconnect(leader)
                up -= 1
            if up < 3:
                s = c.ids[c.rng.randrange(n)]
                if s in c.disconnected:
                    c.connect(s)
                    up += 1
        else:
            if leader is not None:
                c.crash(leader)
                up -= 1
            if up < 3:
                s = c.ids[c.rng.randrange(n)]
                if c.sim.node(s).crashed:
                    c.restart(s)
                    up += 1
    c.set_long_reordering(False)
    c.set_unreliable(False)
    _heal_all(c)
    c.one(_cmd(c), n)
    return c.sim


def unreliable_agreement(cls: type, seed: Any, *, n: int = 5, rounds: int = 10) -> Simulation:
    """Commands from concurrent clients commit on a lossy, duplicating, delaying network (3C)."""
    _counts(0, rounds=rounds)
    c = _new(cls, n, seed, unreliable=True)
    for _ in range(rounds):
        for _ in range(4):  # concurrent clients: submit to whoever leads
            for i in c.ids:
                c.submit(i, _cmd(c))
        c.one(_cmd(c), 1)
    c.set_unreliable(False)
    c.one(_cmd(c), n)
    return c.sim


def churn(cls: type, seed: Any, *, n: int = 5, rounds: int = 20, unreliable: bool = False,
          clients: int = 3) -> Simulation:
    """Servers are cut off, crashed and restarted at random while clients submit commands (3C, churn).

    At the end every command a client saw committed must be applied by every server.
    """
    _counts(0, rounds=rounds)
    _counts(1, clients=clients)
    c = _new(cls, n, seed, unreliable=unreliable)
    committed: list = []
    state = {"stop": False}

    def client(k: int, pending: tuple | None) -> None:
        if state["stop"]:
            return
        if pending is not None:
            index, cmd, since = pending
            count, got = c.n_committed(index)
            if count and got == cmd:
                committed.append(cmd)
            elif c.now - since < 1000 and not (count and got != cmd):
                c.sim.after(10, client, k, pending)
                return
        cmd = _cmd(c)
        for i in c.ids:
            node = c.sim.node(i)
            if node.crashed:
                continue
            index, _, ok = c.submit(i, cmd)
            if ok:
                c.sim.after(10, client, k, (index, cmd, c.now))
                return
        c.sim.after(c.rng.uniform(10, 80), client, k, None)

    for k in range(clients):
        c.sim.after(1.0 + k, client, k, None)
    for _ in range(rounds):
        if c.rng.random() < 0.2:
            c.disconnect(c.rng.randrange(n))
        if c.rng.random() < 0.5:
            i = c.ids[c.rng.randrange(n)]
            if c.sim.node(i).crashed:
                c.restart(i)
            c.connect(i)
        if c.rng.random() < 0.2:
            i = c.ids[c.rng.randrange(n)]
            if not c.sim.node(i).crashed:
                c.crash(i)
        c.run(0.7 * ELECTION_TIMEOUT[1])
    c.run(ELECTION_TIMEOUT[1])
    c.set_unreliable(False)
    _heal_all(c)
    c.run(ELECTION_TIMEOUT[1])
    state["stop"] = True
    last = c.one(_cmd(c), n)
    applied = {c.n_committed(index)[1] for index in range(1, last + 1)}
    missing = [cmd for cmd in committed if cmd not in applied]
    if missing:
        raise _fail(f"{len(missing)} commands that clients saw committed are not applied by every server "
                    f"at the end, e.g. {missing[0]!r}", c.sim)
    if len(committed) < 3:
        raise _fail(f"only {len(committed)} client commands committed during {rounds} rounds of churn", c.sim)
    return c.sim
