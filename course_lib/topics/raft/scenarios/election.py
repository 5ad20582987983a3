"""Part A's scenarios: leader election (6.5840 3A, and vote rules against scripted peers)."""

from __future__ import annotations

from typing import Any

from ....sim import Simulation
from ..harness import ScriptedPeer, _fail, watch
from ..messages import AppendEntries, RequestVote
from ..node import ELECTION_TIMEOUT, HEARTBEAT_INTERVAL
from .support import _counts, _new


def initial_election(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """One leader is elected, all servers agree on its term, and without faults it stays (6.5840 3A)."""
    c = _new(cls, n, seed)
    c.check_one_leader()
    c.run(50)  # let followers hear the new term
    term1 = c.check_terms()
    if term1 < 1:
        raise _fail(f"the leader's term is {term1}; the first election should make it at least 1", c.sim)
    c.run(2 * ELECTION_TIMEOUT[1])  # without failures the term must not change
    term2 = c.check_terms()
    if term1 != term2:
        raise _fail(f"the term changed from {term1} to {term2} by time {c.now:g} although nothing failed: "
                    "do followers reset their election timer on the leader's heartbeats?", c.sim)
    c.check_one_leader()
    return c.sim


def reelection(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A new leader after the leader is cut off; none without a majority; recovery after healing (3A)."""
    c = _new(cls, n, seed)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)  # the others elect a new leader
    c.check_one_leader()
    c.connect(leader1)  # the old leader rejoins: it must not disturb the new one
    leader2 = c.check_one_leader()
    li = c.ids.index(leader2)
    gone = [c.ids[(li + k) % n] for k in range(n // 2 + 1)]
    for i in gone:  # the leader and enough others that no majority is left: nobody may be elected
        c.disconnect(i)
    c.run(2 * ELECTION_TIMEOUT[1])
    c.check_no_leader()
    c.connect(gone[1])  # a majority again
    c.check_one_leader()
    for i in gone:
        c.connect(i)
    c.check_one_leader()
    return c.sim


def many_elections(cls: type, seed: Any, *, n: int = 7, iterations: int = 6) -> Simulation:
    """Seven servers, three cut off at random, again and again: always one leader (3A)."""
    _counts(0, iterations=iterations)
    c = _new(cls, n, seed)
    c.check_one_leader()
    for _ in range(iterations):
        cut = [c.rng.randrange(n) for _ in range(3)]
        for i in cut:
            c.disconnect(i)
        c.check_one_leader()  # there is a majority, or the cut repeated a server
        for i in cut:
            c.connect(i)
    c.check_one_leader()
    return c.sim


def election_budget(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """An election and a few heartbeats take at most 30 messages (6.5840's RPC count, 3B)."""
    c = _new(cls, n, seed)
    for _ in range(300):
        c.run(10)
        if c.leaders():
            break
    else:
        raise _fail(f"no leader elected by time {c.now:g}", c.sim)
    c.run(HEARTBEAT_INTERVAL)
    sent = c.message_count()
    if sent > 30:
        raise _fail(f"{sent} messages by time {c.now:g} to elect a leader and send a heartbeat; at most 30 "
                    "expected (are RequestVotes or heartbeats sent too often?)", c.sim)
    return c.sim


def vote_rules(cls: type, seed: Any) -> Simulation:
    """One server against scripted peers: one vote per term, none for a stale term, heartbeats hold elections off."""
    sim = Simulation(seed=seed, latency=1.0)
    watch(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    # Keep s1 a follower: s2 leads term 1 and sends heartbeats every 100 units, under the 150 minimum.
    for t in range(0, 2000, 100):
        sim.at(t, a.send, "s1", AppendEntries(term=1, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                              entries=(), leader_commit=0))
    sim.run(until=1000)
    asked = sim.trace.filter(kind="send", type="request_vote")
    if asked:
        raise _fail(f"s1 asked for votes at time {asked[0].time:g} although the leader s2 sent it a heartbeat "
                    "every 100 units (election timeouts are 150-300): reset the election timer on a valid "
                    "AppendEntries", sim)
    if node.current_term != 1 or node.role != "follower":
        raise _fail(f"after heartbeats of term 1 from s2, s1 is a {node.role} in term {node.current_term}; "
                    "expected a follower in term 1", sim)
    # Two candidates of term 5 ask s1 for its vote: only the first may get it.
    sim.at(1100, a.send, "s1", RequestVote(term=5, candidate_id="s2", last_log_index=0, last_log_term=0))
    sim.at(1110, b.send, "s1", RequestVote(term=5, candidate_id="s3", last_log_index=0, last_log_term=0))
    # A candidate of a stale term asks.
    sim.at(1120, b.send, "s1", RequestVote(term=4, candidate_id="s3", last_log_index=0, last_log_term=0))
    sim.run(until=1130)
    replies_a = [m for m in a.received("request_vote_reply")]
    replies_b = [m for m in b.received("request_vote_reply")]
    if len(replies_a) != 1 or not replies_a[0].vote_granted or replies_a[0].term != 5:
        raise _fail(f"s2, the first candidate of term 5, asked s1 for its vote and got {replies_a}; expected "
                    "one reply granting the vote in term 5", sim)
    if len(replies_b) != 2:
        raise _fail(f"s3 asked s1 for its vote twice and got {len(replies_b)} replies; answer every "
                    "RequestVote", sim)
    if replies_b[0].vote_granted:
        raise _fail("s1 granted its vote in term 5 to s3 after granting it to s2: a server votes at most "
                    "once per term (Figure 2, RequestVote RPC, rule 2)", sim)
    if replies_b[1].vote_granted or replies_b[1].term != 5:
        raise _fail(f"s3 asked for a vote in term 4 while s1 was in term 5 and got {replies_b[1]}; a stale "
                    "candidate gets no vote, and the reply carries the current term 5", sim)
    # A stale heartbeat (term 1) is refused with the current term, and does not hold elections off.
    sim.at(1140, a.send, "s1", AppendEntries(term=1, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                             entries=(), leader_commit=0))
    sim.run(until=1150)
    stale = a.received("append_entries_reply")[-1]
    if stale.success or stale.term != 5:
        raise _fail(f"s1 (term 5) answered a heartbeat of term 1 with {stale}; expected success=False "
                    "and term=5 so the stale leader steps down", sim)
    # Granting a vote resets the election timer: a candidate of term 7 asks just before s1's timer
    # would fire; having voted, s1 must wait a whole new timeout before it stands itself.
    timer = node._election_timer
    if node.role != "follower" or timer is None or not timer.active or timer.due <= sim.now + 3:
        raise _fail(f"at time {sim.now:g} s1 should be a follower of term 5 with its election timer "
                    f"armed (it is a {node.role}, timer {timer}): did it stand for election although "
                    "it voted in term 5?", sim)
    ask = timer.due - 2
    sim.at(ask, b.send, "s1", RequestVote(term=7, candidate_id="s3", last_log_index=node.last_log_index(),
                                          last_log_term=node.last_log_term()))
    sim.run(until=ask + ELECTION_TIMEOUT[0])
    vote = b.received("request_vote_reply")[-1]
    if not vote.vote_granted or vote.term != 7:
        raise _fail(f"s3 asked s1 for its vote in term 7 (a new term, s1's log no longer than s3's) and got "
                    f"{vote}; expected the vote, in term 7", sim)
    stood = [e.time for e in sim.trace.filter(kind="send", node="s1", type="request_vote") if e.time > ask]
    if stood:
        raise _fail(f"s1 granted its vote to s3 at time {ask + 1:g} and stood for election itself at time "
                    f"{stood[0]:g}, {stood[0] - ask - 1:g} units later: granting a vote resets the election "
                    f"timer (Figure 2, Rules for Followers), so a server that has just voted waits a whole "
                    f"timeout (at least {ELECTION_TIMEOUT[0]}) before it stands", sim)
    return sim
