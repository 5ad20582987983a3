"""Part D's scenarios: log compaction with snapshots and InstallSnapshot (6.5840 3D; Figure 13).

The clusters run with ``snapshot_every``: after applying every ``snapshot_every``-th
entry a server is asked to ``snapshot(index, data)``, where ``data`` is the
tuple of the commands it applied, so a server that restores a snapshot, or
receives one, can be checked entry by entry against the others.

A server's snapshot index is read as ``len(node.log) - node.log_size()``,
whatever log class it keeps.
"""

from __future__ import annotations

from typing import Any

from ....sim import Simulation
from ....sim.validation import check_int, check_type
from ..harness import RaftCluster, ScriptedPeer, _fail, watch
from ..messages import AppendEntries, InstallSnapshot
from ..node import ELECTION_TIMEOUT, _book
from .support import _cmd, _counts, _heal_all, _new

SNAPSHOT_EVERY = 10


def _flags(**flags: Any) -> None:
    for name, value in flags.items():
        check_type(name, value, bool, what="True or False")


def _snapshot_index(node: Any) -> int:
    return len(node.log) - node.log_size()


def _submit_batch(c: RaftCluster, leader: Any, count: int) -> None:
    for _ in range(count):
        c.submit(leader, _cmd(c))


def _check_sizes(c: RaftCluster, bound: int, when: str) -> None:
    for i in c.ids:
        node = c.sim.node(i)
        if node.crashed:
            continue
        size = node.log_size()
        if size > bound:
            raise _fail(f"{when}, {i}'s log holds {size} entries after its snapshot (index "
                        f"{_snapshot_index(node)}), more than {bound}: the cluster snapshots every "
                        f"{c.snapshot_every} applied entries, so snapshot() must drop the entries it covers",
                        c.sim)


def snapshot_basic(cls: type, seed: Any, *, n: int = 3, commands: int = 50,
                   snapshot_every: int = SNAPSHOT_EVERY) -> Simulation:
    """Commands commit one after another while every server snapshots; the logs stay short (3D, SnapshotBasic).

    After each command, every server's log holds at most ``2 * snapshot_every`` entries after its snapshot.
    """
    _counts(1, commands=commands, snapshot_every=snapshot_every)
    c = _new(cls, n, seed, snapshot_every=snapshot_every)
    for k in range(commands):
        c.one(_cmd(c), n)
        _check_sizes(c, 2 * snapshot_every, f"after {k + 1} commands")
    return c.sim


def snapshot_install(cls: type, seed: Any, *, n: int = 3, iterations: int = 3, crash: bool = False,
                     unreliable: bool = False, snapshot_every: int = SNAPSHOT_EVERY) -> Simulation:
    """A follower cut off (or crashed) while the others compact their logs must get the snapshot (3D, SnapshotInstall).

    Each iteration: a follower is cut off (with ``crash``: crashed); the others commit
    ``2 * snapshot_every + 1`` commands and compact their logs past everything the follower
    holds; the leader is crashed and restarted, so that a leader of a newer term sends the
    snapshot, whose last entry is of an older term; then the follower comes back and must
    catch up. No AppendEntries can bring it up to date any more: only InstallSnapshot can.
    With ``unreliable``, on a lossy, duplicating network (6.5840's SnapshotInstallUnreliable).
    """
    _counts(1, iterations=iterations, snapshot_every=snapshot_every)
    check_int("n", n, low=3)
    _flags(crash=crash, unreliable=unreliable)
    c = _new(cls, n, seed, snapshot_every=snapshot_every, unreliable=unreliable)
    c.one(_cmd(c), n)
    for it in range(iterations):
        leader = c.check_one_leader()
        li = c.ids.index(leader)
        victim = c.ids[(li + 1 + it) % n]
        if victim == leader:
            victim = c.ids[(li + 1) % n]
        behind = len(c.applied(victim))
        if crash:
            c.crash(victim)
        else:
            c.disconnect(victim)
        _submit_batch(c, leader, 2 * snapshot_every)
        index = c.one(_cmd(c), n - 1)
        if index % snapshot_every == snapshot_every - 1:  # keep the next entry off a snapshot point
            index = c.one(_cmd(c), n - 1)
        # A new leader, of a newer term, whose snapshot ends with an entry of the older term.
        c.crash(leader)
        c.restart(leader)
        c.one(_cmd(c), n - 1)
        for i in c.ids:
            node = c.sim.node(i)
            if i != victim and not node.crashed and _snapshot_index(node) <= behind:
                raise _fail(f"{i} applied {len(c.applied(i))} entries and was asked to snapshot every "
                            f"{snapshot_every}, but its snapshot ends at index {_snapshot_index(node)}; "
                            f"snapshot() must compact the log", c.sim)
        if crash:
            c.restart(victim)
        else:
            c.connect(victim)
        c.one(_cmd(c), n)
        _check_sizes(c, 2 * snapshot_every + 2, f"iteration {it + 1}, once {victim} caught up")
    c.set_unreliable(False)
    c.one(_cmd(c), n)
    return c.sim


def snapshot_restart(cls: type, seed: Any, *, n: int = 3, iterations: int = 3,
                     snapshot_every: int = SNAPSHOT_EVERY) -> Simulation:
    """Every server crashes and restarts from its snapshot, again and again (3D, SnapshotAllCrash).

    After a restart, a server's state machine must resume from its snapshot (delivered by
    ``on_start`` through ``apply_snapshot``) before anything else; the cluster goes on from there.
    """
    _counts(1, iterations=iterations, snapshot_every=snapshot_every)
    c = _new(cls, n, seed, snapshot_every=snapshot_every)
    c.one(_cmd(c), n)
    for it in range(iterations):
        leader = c.check_one_leader()
        _submit_batch(c, leader, snapshot_every + 1)
        index1 = c.one(_cmd(c), n)
        before = {i: _snapshot_index(c.sim.node(i)) for i in c.ids}
        for i in c.ids:
            c.crash(i)
        for i in c.ids:
            c.restart(i)
        c.run(0.5)  # each restarted server's on_start, which restores its snapshot
        for i in c.ids:
            got = len(c.applied(i))
            if got < before[i]:
                raise _fail(f"iteration {it + 1}: {i} held a snapshot through index {before[i]} when it "
                            f"crashed; restarted, its state machine resumed from index {got}: persist the "
                            "snapshot with the log, and restore it", c.sim)
        index2 = c.one(_cmd(c), n)
        if index2 < index1 + 1:
            raise _fail(f"iteration {it + 1}: a command committed at index {index2} after a restart, but "
                        f"index {index1} was committed before it: the log went back", c.sim)
    return c.sim


def snapshot_init(cls: type, seed: Any, *, n: int = 3, snapshot_every: int = SNAPSHOT_EVERY) -> Simulation:
    """Servers restart twice from a snapshot with a log after it, and a command commits each time (3D, SnapshotInit)."""
    _counts(1, snapshot_every=snapshot_every)
    c = _new(cls, n, seed, snapshot_every=snapshot_every)
    c.one(_cmd(c), n)
    leader = c.check_one_leader()
    _submit_batch(c, leader, snapshot_every + 1)
    c.one(_cmd(c), n)
    for _ in range(2):
        for i in c.ids:
            c.crash(i)
        for i in c.ids:
            c.restart(i)
        c.one(_cmd(c), n)
    return c.sim


def install_snapshot_rules(cls: type, seed: Any) -> Simulation:
    """One server against scripted leaders: Figure 13's receiver rules, one at a time.

    s2 leads term 2, then s3 terms 4 and 5; they send s1 entries and snapshots by hand:

    1. a snapshot through an entry s1 holds, with the same term: s1 keeps the entries after it;
    2. a stale snapshot (a delayed copy of an older one, through index 4) after s1 applied
       entries 1..5: ignored,
       nothing rolls back;
    3. a snapshot from an older term: refused, with s1's term;
    4. a snapshot of a newer term beyond s1's log: s1 follows that term, its log is the snapshot;
    5. a snapshot whose last entry s1 holds with another term: s1 discards its whole log.
    """
    sim = Simulation(seed=seed, latency=1.0)
    watch(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    book = _book(sim)
    cmds = [f"c{i}" for i in range(1, 11)]
    terms = [1, 1, 2, 2, 2, 3, 3, 3, 5, 5]  # the committed log: entry i is (terms[i - 1], cmds[i - 1])

    def applied() -> int:
        incarnation, commands = book.applied.get("s1", (None, []))
        return len(commands) if incarnation == node.incarnation else 0

    def last_reply(peer: ScriptedPeer) -> Any:
        replies = peer.received("install_snapshot_reply")
        return replies[-1] if replies else None

    entries = tuple(zip(terms[:5], cmds[:5]))
    sim.at(10, a.send, "s1", AppendEntries(term=2, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                           entries=entries, leader_commit=0))
    sim.at(12, a.send, "s1", InstallSnapshot(term=2, leader_id="s2", last_included_index=3,
                                             last_included_term=2, data=tuple(cmds[:3])))
    sim.run(until=15)
    reply = last_reply(a)
    if reply is None or reply.term != 2 or reply.last_included_index != 3:
        raise _fail(f"s2, leader of term 2, sent s1 a snapshot through index 3 and got {reply}; expected an "
                    "InstallSnapshotReply(term=2, last_included_index=3)", sim)
    if node.last_log_index() != 5 or node.log_size() != 2 or node.term_at(5) != 2:
        raise _fail(f"s1 held entries 1..5 and received a snapshot through entry 3 (term 2, as s1's own entry "
                    f"3): its log is now {node.log} (last index {node.last_log_index()}, {node.log_size()} "
                    "entries after the snapshot); it must keep entries 4 and 5, which follow the snapshot and "
                    "agree with it (Figure 13, rule 6)", sim)
    if applied() != 3 or node.commit_index != 3:
        raise _fail(f"after a snapshot through index 3, s1 has applied {applied()} entries and its commit "
                    f"index is {node.commit_index}; expected 3 and 3: hand the snapshot to the state machine "
                    "with apply_snapshot(index, term, data)", sim)
    # 2. s1 commits and applies 4 and 5, then a delayed copy of an older snapshot arrives.
    sim.at(20, a.send, "s1", AppendEntries(term=2, leader_id="s2", prev_log_index=5, prev_log_term=2,
                                           entries=(), leader_commit=5))
    sim.at(22, a.send, "s1", InstallSnapshot(term=2, leader_id="s2", last_included_index=4,
                                             last_included_term=2, data=tuple(cmds[:4])))
    sim.run(until=25)
    if applied() != 5 or node.last_log_index() != 5 or node.term_at(5) != 2:
        raise _fail(f"s1 had applied entries 1..5 when a delayed snapshot through index 4 arrived; now it has "
                    f"applied {applied()} and its log is {node.log}: a snapshot that is not ahead of what a "
                    "server committed must change nothing", sim)
    # 3. s3, in an older term, sends a snapshot that goes further: refused.
    sim.at(30, b.send, "s1", InstallSnapshot(term=1, leader_id="s3", last_included_index=8,
                                             last_included_term=3, data=tuple(cmds[:8])))
    sim.run(until=35)
    reply = last_reply(b)
    if reply is None or reply.term != 2:
        raise _fail(f"s3 sent s1 (in term 2) a snapshot of term 1 and got {reply}; expected a reply with "
                    "term=2, so that s3 learns it is out of date", sim)
    if applied() != 5 or node.last_log_index() != 5 or node.current_term != 2:
        raise _fail(f"s1, in term 2, accepted a snapshot from term 1: it has applied {applied()} entries, its "
                    f"log is {node.log} and its term {node.current_term}; refuse a request of an older term",
                    sim)
    # 4. s3, leader of term 4, sends a snapshot through 8 (beyond s1's log): s1 steps down to term 4,
    # and its log is the snapshot.
    sim.at(40, b.send, "s1", InstallSnapshot(term=4, leader_id="s3", last_included_index=8,
                                             last_included_term=3, data=tuple(cmds[:8])))
    sim.run(until=45)
    reply = last_reply(b)
    if node.current_term != 4 or reply is None or reply.term != 4 or reply.last_included_index != 8:
        raise _fail(f"s3, leader of term 4, sent s1 a snapshot through index 8; s1 is in term "
                    f"{node.current_term} and replied {reply}; expected term 4 and "
                    "InstallSnapshotReply(term=4, last_included_index=8)", sim)
    if node.last_log_index() != 8 or node.log_size() != 0 or node.term_at(8) != 3 or applied() != 8:
        raise _fail(f"s1 held entries 1..5 and received a snapshot through index 8, of term 3: its log is "
                    f"{node.log} (term_at(8) = {_term_or_none(node, 8)}) and it has applied {applied()} "
                    "entries; expected a log that is the snapshot (last index 8, of term 3, no entry after "
                    "it), and 8 entries applied", sim)
    # 5. s1 gets entries 9 and 10 of term 4 (never committed); s3, now leader of term 5, sends a
    # snapshot through 9 whose entry 9 has term 5: s1's entry 9 conflicts, so its whole log goes.
    sim.at(50, b.send, "s1", AppendEntries(term=4, leader_id="s3", prev_log_index=8, prev_log_term=3,
                                           entries=((4, "x9"), (4, "x10")), leader_commit=8))
    sim.at(52, b.send, "s1", InstallSnapshot(term=5, leader_id="s3", last_included_index=9,
                                             last_included_term=5, data=tuple(cmds[:9])))
    sim.run(until=55)
    if node.last_log_index() != 9 or node.log_size() != 0 or _term_or_none(node, 9) != 5 or applied() != 9:
        raise _fail(f"s1 held entries 9 and 10 of term 4 and received a snapshot through index 9 of term 5: "
                    f"its log is {node.log} (term_at(9) = {_term_or_none(node, 9)}) and it has applied "
                    f"{applied()} entries; its entry 9 conflicts with the snapshot, so it must discard its "
                    "whole log (Figure 13, rule 7): last index 9, of term 5, nothing after it", sim)
    return sim


def _term_or_none(node: Any, index: int) -> Any:
    try:
        return node.term_at(index)
    except IndexError:
        return None


def snapshot_churn(cls: type, seed: Any, *, n: int = 5, rounds: int = 12, unreliable: bool = True,
                   snapshot_every: int = SNAPSHOT_EVERY) -> Simulation:
    """Servers cut off, crashed and restarted at random, on an unreliable network, while all snapshot (3D).

    Commands are submitted throughout; at the end every server agrees and has applied the last one.
    """
    _counts(0, rounds=rounds)
    _counts(1, snapshot_every=snapshot_every)
    _flags(unreliable=unreliable)
    c = _new(cls, n, seed, snapshot_every=snapshot_every, unreliable=unreliable)
    for _ in range(rounds):
        for i in c.ids:
            if not c.sim.node(i).crashed:
                _, _, ok = c.submit(i, _cmd(c))
                if ok:
                    _submit_batch(c, i, c.rng.randrange(snapshot_every))
        roll = c.rng.random()
        victim = c.ids[c.rng.randrange(n)]
        if roll < 0.3:
            c.disconnect(victim)
        elif roll < 0.6 and not c.sim.node(victim).crashed:
            c.crash(victim)
        else:
            for i in c.ids:
                if c.sim.node(i).crashed and c.rng.random() < 0.5:
                    c.restart(i)
                elif i in c.disconnected and c.rng.random() < 0.5:
                    c.connect(i)
        up = [i for i in c.ids if not c.sim.node(i).crashed and i not in c.disconnected]
        for i in c.ids:  # keep a majority up, so that the cluster makes progress
            if len(up) > n // 2:
                break
            if i not in up:
                if c.sim.node(i).crashed:
                    c.restart(i)
                c.connect(i)
                up.append(i)
        c.run(c.rng.uniform(0.3, 0.8) * ELECTION_TIMEOUT[1])
    c.set_unreliable(False)
    _heal_all(c)
    c.one(_cmd(c), n)
    return c.sim
