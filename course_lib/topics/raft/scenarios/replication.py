"""Part B's scenarios: log replication (6.5840 3B, and the follower's and leader's rules against scripted peers)."""

from __future__ import annotations

from typing import Any

from ....sim import Message, Simulation
from ..harness import ScriptedPeer, _fail, watch
from ..messages import AppendEntries, RequestVote
from ..node import ELECTION_TIMEOUT
from .support import _cmd, _counts, _new


def basic_agreement(cls: type, seed: Any, *, n: int = 3, commands: int = 3) -> Simulation:
    """Commands submitted one after another are applied by every server, at indices 1, 2, 3 (3B)."""
    _counts(1, commands=commands)
    c = _new(cls, n, seed)
    c.check_one_leader()
    for index in range(1, commands + 1):
        count, _ = c.n_committed(index)
        if count > 0:
            raise _fail(f"some server applied index {index} before start() was called", c.sim)
        got = c.one(_cmd(c), n, retry=False)
        if got != index:
            raise _fail(f"the command went to index {got}, expected {index}", c.sim)
    return c.sim


def concurrent_starts(cls: type, seed: Any, *, n: int = 3, commands: int = 5) -> Simulation:
    """Commands submitted at once to the leader all commit, at distinct indices, in one term (3B)."""
    _counts(1, commands=commands)
    c = _new(cls, n, seed)
    for _ in range(5):
        leader = c.check_one_leader()
        _, term, ok = c.submit(leader, _cmd(c))
        if not ok:
            continue  # the leader moved on already: try again
        submitted = {}
        for _ in range(commands):
            cmd = _cmd(c)
            index, term1, ok = c.submit(leader, cmd)
            if term1 != term or not ok:
                break
            submitted[index] = cmd
        else:
            if len(submitted) != commands:
                raise _fail(f"{commands} commands submitted at once got indices {sorted(submitted)}: "
                            "each must get its own index", c.sim)
            for index, cmd in submitted.items():
                got = c.wait(index, n, term)
                if got is None:
                    break  # the term changed: try again
                if got != cmd:
                    raise _fail(f"index {index} applied {got!r}, but start() put {cmd!r} there", c.sim)
            else:
                return c.sim
    raise _fail("the term changed too often to get five concurrent commands committed", c.sim)


def follower_failure(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """Agreement goes on without one follower, and stops without two (3B)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    c.disconnect(c.ids.index(leader1) + 1)  # one follower gone: the other two still agree
    c.one(_cmd(c), n - 1)
    c.run(ELECTION_TIMEOUT[1])
    c.one(_cmd(c), n - 1)
    leader2 = c.check_one_leader()  # both remaining followers gone: nothing commits
    c.disconnect(c.ids.index(leader2) + 1)
    c.disconnect(c.ids.index(leader2) + 2)
    index, _, ok = c.submit(leader2, _cmd(c))
    if not ok:
        raise _fail(f"{leader2} rejected start() although it led a moment ago", c.sim)
    if index != 4:
        raise _fail(f"start() put the 4th command at index {index}, expected 4", c.sim)
    c.run(2 * ELECTION_TIMEOUT[1])
    count, _ = c.n_committed(index)
    if count > 0:
        raise _fail(f"{count} servers applied index {index} although the leader had no majority", c.sim)
    return c.sim


def leader_failure(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A new leader takes over from a cut-off one; with the new one cut off too, nothing commits (3B)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    c.one(_cmd(c), n - 1)
    c.run(ELECTION_TIMEOUT[1])
    c.one(_cmd(c), n - 1)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    for i in c.ids:  # submit everywhere: no majority is connected, so nothing may commit
        c.submit(i, _cmd(c))
    c.run(2 * ELECTION_TIMEOUT[1])
    count, _ = c.n_committed(4)
    if count > 0:
        raise _fail(f"{count} servers applied index 4 although no majority was connected", c.sim)
    return c.sim


def rejoin_follower_catches_up(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A follower cut off while the others agree catches up when it reconnects (3B, FailAgree)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader = c.check_one_leader()
    c.disconnect(c.ids.index(leader) + 1)
    for _ in range(4):
        c.one(_cmd(c), n - 1)
    c.run(ELECTION_TIMEOUT[1])
    c.one(_cmd(c), n - 1)
    c.connect(c.ids.index(leader) + 1)
    c.one(_cmd(c), n)
    c.one(_cmd(c), n)
    return c.sim


def no_agreement_without_majority(cls: type, seed: Any, *, n: int = 5) -> Simulation:
    """With 3 of 5 cut off nothing commits; after healing the index is reused (3B, FailNoAgree)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader = c.check_one_leader()
    li = c.ids.index(leader)
    for k in (1, 2, 3):
        c.disconnect(li + k)
    index, _, ok = c.submit(leader, _cmd(c))
    if not ok:
        raise _fail(f"{leader} rejected start() although it led a moment ago", c.sim)
    if index != 2:
        raise _fail(f"start() put the second command at index {index}, expected 2", c.sim)
    c.run(2 * ELECTION_TIMEOUT[1])
    count, _ = c.n_committed(index)
    if count > 0:
        raise _fail(f"{count} servers applied index {index} although only 2 of 5 were connected", c.sim)
    for k in (1, 2, 3):
        c.connect(li + k)
    leader2 = c.check_one_leader()  # the disconnected majority may have elected a leader of its own
    index2, _, ok = c.submit(leader2, _cmd(c))
    if not ok:
        raise _fail(f"{leader2} rejected start() although it led a moment ago", c.sim)
    if index2 < 2 or index2 > 3:
        raise _fail(f"after healing, a new command went to index {index2}; expected 2 or 3 (the "
                    "uncommitted entry at 2 may be replaced)", c.sim)
    c.one(_cmd(c), n)
    return c.sim


def rejoin_partitioned_leader(cls: type, seed: Any, *, n: int = 3) -> Simulation:
    """A leader cut off with uncommitted entries rejoins; its entries are replaced (3B, Rejoin)."""
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)  # it takes commands it can never commit
    for _ in range(3):
        c.submit(leader1, _cmd(c))
    c.one(_cmd(c), 2)  # the new leader commits index 2
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.connect(leader1)  # the old leader is back, with its stale entries
    c.one(_cmd(c), 2)
    c.connect(leader2)
    c.one(_cmd(c), n)
    return c.sim


def fast_backup(cls: type, seed: Any, *, n: int = 5, entries: int = 50) -> Simulation:
    """A leader backs up quickly over 50+ conflicting entries of a follower (3B, Backup)."""
    _counts(1, entries=entries)
    c = _new(cls, n, seed)
    c.one(_cmd(c), n)
    leader1 = c.check_one_leader()
    li = c.ids.index(leader1)
    for k in (2, 3, 4):  # the leader and one follower alone
        c.disconnect(li + k)
    for _ in range(entries):  # uncommitted entries on the leader's side
        c.submit(leader1, _cmd(c))
    c.run(ELECTION_TIMEOUT[0] / 2)
    c.disconnect(li)
    c.disconnect(li + 1)
    for k in (2, 3, 4):  # the other three commit many entries of their own
        c.connect(li + k)
    for _ in range(entries):
        c.one(_cmd(c), 3)
    leader2 = c.check_one_leader()
    other = c.ids.index(leader2)
    other = li + 2 if other != (li + 2) % n else li + 3
    c.disconnect(other)  # only two of them left: more uncommitted entries
    for _ in range(entries):
        c.submit(leader2, _cmd(c))
    c.run(ELECTION_TIMEOUT[0] / 2)
    for i in c.ids:  # bring back the first leader's pair and the one cut off
        c.disconnect(i)
    c.connect(li)
    c.connect(li + 1)
    c.connect(other)
    for _ in range(entries):  # they must overwrite the stale entries and agree
        c.one(_cmd(c), 3)
    for i in c.ids:
        c.connect(i)
    c.one(_cmd(c), n)
    return c.sim


def message_budget(cls: type, seed: Any, *, n: int = 3, commands: int = 10) -> Simulation:
    """Few AppendEntries for a burst of commands, and each entry sent about once per follower (3B, Count, Bytes)."""
    _counts(1, commands=commands)
    c = _new(cls, n, seed)
    leader = c.check_one_leader()
    for attempt in range(4):  # a stable term is needed to count
        if attempt:
            leader = c.check_one_leader()
        start_msgs = c.message_count(("append_entries",))
        index, term, ok = c.submit(leader, _cmd(c))
        if not ok:
            continue
        for _ in range(commands):  # a burst, all at once
            c.submit(leader, _cmd(c))
        if any(c.wait(index + k, n, term) is None for k in range(commands + 1)):
            continue
        sent = c.message_count(("append_entries",)) - start_msgs
        limit = (commands + 1 + 3) * (n - 1)
        if sent > limit:
            raise _fail(f"a burst of {commands + 1} commands took {sent} AppendEntries to {n - 1} followers; "
                        f"at most {limit} expected: from start(), send at once only to a follower that has "
                        "nothing in flight (its next_index is the new entry's index), and let its reply or "
                        "the next heartbeat carry the entries that arrive meanwhile, up to MAX_ENTRIES at a "
                        "time; do not stop sending from start() (commands would then wait for a heartbeat)",
                        c.sim)
        start_entries = c.book.entries_sent
        for _ in range(commands):  # one after another
            c.one(_cmd(c), n)
        if c.check_terms() != term:
            continue
        sent = c.book.entries_sent - start_entries
        limit = int(commands * (n - 1) * 1.5) + 5
        if sent > limit:
            raise _fail(f"{commands} commands, one after another, took {sent} entries in AppendEntries to "
                        f"{n - 1} followers (at most {limit} expected): send each entry about once per "
                        "follower, not the whole log every time", c.sim)
        return c.sim
    raise _fail("the term changed too often to count messages", c.sim)


def follower_log_rules(cls: type, seed: Any) -> Simulation:
    """One server against a scripted leader: consistency check, truncation of conflicts, commit and apply order."""
    sim = Simulation(seed=seed, latency=1.0)
    watch(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])

    def ae(at: float, term: int, prev: int, prev_term: int, entries: tuple, commit: int) -> None:
        sim.at(at, a.send, "s1", AppendEntries(term=term, leader_id="s2", prev_log_index=prev,
                                               prev_log_term=prev_term, entries=entries, leader_commit=commit))

    def expect_log(want: list, when: str) -> None:
        if node.log != want:
            raise _fail(f"{when}: s1's log is {node.log}, expected {want}", sim)

    def last_reply() -> Message:
        replies = a.received("append_entries_reply")
        if not replies:
            raise _fail("s1 never answered an AppendEntries", sim)
        return replies[-1]

    # Term 1 leader s2 sends three entries, commits none.
    ae(10, 1, 0, 0, ((1, "x1"), (1, "x2"), (1, "x3")), 0)
    sim.run(until=15)
    expect_log([(1, "x1"), (1, "x2"), (1, "x3")], "after AppendEntries(prev=0, three entries of term 1)")
    if not last_reply().success or last_reply().match_index != 3:
        raise _fail(f"s1 accepted three entries but replied {last_reply()}; expected success with "
                    "match_index=3", sim)
    # A mismatching prev_log_term is refused.
    ae(20, 1, 3, 2, ((2, "y"),), 0)
    sim.run(until=25)
    if last_reply().success:
        raise _fail("s1 accepted an AppendEntries whose prev_log_term (2) differs from its own entry's "
                    "term at index 3 (1): the consistency check of Figure 2, AppendEntries rule 2", sim)
    expect_log([(1, "x1"), (1, "x2"), (1, "x3")], "after a refused AppendEntries")
    # Too far ahead: refused too.
    ae(30, 1, 7, 1, ((1, "z"),), 0)
    sim.run(until=35)
    if last_reply().success:
        raise _fail("s1 accepted an AppendEntries with prev_log_index=7 although its log has 3 entries", sim)
    # An AppendEntries that confirms only index 1 (prev=1, no entries) cannot commit beyond it, whatever
    # leader_commit says: s1's entries 2 and 3 are not known to match the leader's yet.
    ae(36, 1, 1, 1, (), 3)
    sim.run(until=38)
    if node.commit_index != 1:
        raise _fail(f"an AppendEntries with prev_log_index=1, no entries and leader_commit=3 set s1's "
                    f"commit_index to {node.commit_index}; expected 1: commit_index = min(leader_commit, "
                    "index of the last new entry) (Figure 2, AppendEntries rule 5), and this request "
                    "vouches for s1's log only up to index 1, not up to its last entry", sim)
    # A heartbeat commits index 2: two entries applied, in order.
    ae(40, 1, 3, 1, (), 2)
    sim.run(until=45)
    if node.commit_index != 2:
        raise _fail(f"a heartbeat with leader_commit=2 left s1's commit_index at {node.commit_index}", sim)
    # A leader of term 2 overwrites index 3 (a conflict) and adds index 4.
    ae(50, 2, 2, 1, ((2, "w3"), (2, "w4")), 2)
    sim.run(until=55)
    expect_log([(1, "x1"), (1, "x2"), (2, "w3"), (2, "w4")],
               "after AppendEntries(term 2, prev=2, entries w3, w4) conflicting at index 3")
    # A delayed, stale copy of an earlier request must not cut the log short.
    ae(60, 2, 2, 1, ((2, "w3"),), 2)
    sim.run(until=65)
    expect_log([(1, "x1"), (1, "x2"), (2, "w3"), (2, "w4")],
               "after a repeated AppendEntries carrying only w3 (entries already held are kept)")
    # A conflict in the middle of a longer log: everything after it goes.
    ae(70, 2, 4, 2, ((2, "w5"), (2, "w6"), (2, "w7")), 2)
    ae(80, 3, 3, 2, ((3, "v4"),), 4)
    sim.run(until=85)
    expect_log([(1, "x1"), (1, "x2"), (2, "w3"), (3, "v4")],
               "after AppendEntries(term 3, prev=3, entry v4) conflicting at index 4 of a 7-entry log")
    if node.commit_index != 4:
        raise _fail(f"leader_commit=4 with s1 holding index 4 left commit_index at {node.commit_index}", sim)
    if node.last_applied != 4:
        raise _fail(f"s1 applied up to {node.last_applied} with commit_index 4", sim)
    # The election restriction: s1 (last entry: index 4, term 3) votes only for logs at least as up to date.
    for at, term, last_index, last_term, grant in ((90, 4, 5, 2, False), (100, 5, 3, 3, False),
                                                   (110, 6, 4, 3, True)):
        sim.at(at, b.send, "s1", RequestVote(term=term, candidate_id="s3", last_log_index=last_index,
                                             last_log_term=last_term))
        sim.run(until=at + 5)
        replies = b.received("request_vote_reply")
        if not replies or replies[-1].term != term:
            raise _fail(f"s1 did not answer RequestVote(term={term}) from s3 with term {term}: {replies[-1:]}", sim)
        if replies[-1].vote_granted != grant:
            what = "granted" if replies[-1].vote_granted else "refused"
            raise _fail(f"s1, whose last entry is index 4 of term 3, {what} its vote to a candidate whose last "
                        f"entry is index {last_index} of term {last_term}: vote only for a log at least as up "
                        "to date as yours, comparing last terms first, then lengths (section 5.4.1)", sim)
    return sim


def _elected(sim: Simulation, node: Any) -> None:
    """Run until s1, against scripted peers that grant every vote, leads (or fail after 2,400 units)."""
    sim.run(until=400)
    for _ in range(20):
        if node.role == "leader":
            return
        sim.run(until=sim.now + 100)
    if node.role == "leader":
        return
    raise _fail(f"s1 is a {node.role} in term {node.current_term} at time {sim.now:g}, although both "
                "peers grant every vote it asks for", sim)


def leader_commit_rules(cls: type, seed: Any) -> Simulation:
    """A leader of term 3 holding an uncommitted entry of term 1 does not commit it by counting replicas (Figure 8)."""
    sim = Simulation(seed=seed, latency=1.0)
    watch(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    # s2 leads term 1 and gives s1 an entry it never commits, then goes quiet.
    sim.at(5, a.send, "s1", AppendEntries(term=1, leader_id="s2", prev_log_index=0, prev_log_term=0,
                                          entries=((1, "old"),), leader_commit=0))
    _elected(sim, node)  # s1 times out and wins an election: the scripted peers grant every vote
    term = node.current_term
    sim.run(until=sim.now + 300)  # heartbeats: both peers answer success with match_index 1
    if node.commit_index >= 1:
        raise _fail(f"s1, leader of term {term}, committed index 1 (an entry of term 1) by counting the "
                    "replicas that hold it: a leader commits only entries of its own term by counting, "
                    "earlier ones follow (Figure 8; Figure 2, Rules for Servers, Leaders, last rule)", sim)
    index, t, ok = node.start("new")
    if not ok or index != 2:
        raise _fail(f"s1.start('new') returned {(index, t, ok)}; expected index 2 in term {term}", sim)
    sim.run(until=sim.now + 300)
    if node.commit_index != 2 or node.last_applied != 2:
        raise _fail(f"after both peers acknowledged index 2 (term {term}), s1 has commit_index="
                    f"{node.commit_index}, last_applied={node.last_applied}; expected both 2", sim)
    return sim


def leader_reply_rules(cls: type, seed: Any) -> Simulation:
    """A leader against scripted peers: an old reply moves nothing back, one of an older term counts for nothing.

    The Students' Guide to Raft's rules for AppendEntries replies: a reply that arrives late
    (after a newer one from the same follower) must not move ``match_index`` or
    ``next_index`` backwards; a reply from an older term must be ignored, however good its
    news; a reply from a newer term makes the leader a follower in that term.
    """
    sim = Simulation(seed=seed, latency=1.0)
    watch(sim)
    node = sim.add_node(cls, "s1")
    a, b = sim.add_nodes(ScriptedPeer, ["s2", "s3"])
    # s2 stands in term 3 and gets s1's vote, then goes quiet: s1 times out and leads a later term.
    sim.at(5, a.send, "s1", RequestVote(term=3, candidate_id="s2", last_log_index=0, last_log_term=0))
    _elected(sim, node)
    term = node.current_term
    for command in ("x", "y"):
        node.start(command)
    sim.run(until=sim.now + 120)  # both peers acknowledge both entries: match_index 2
    if node.commit_index != 2:
        raise _fail(f"s1, leader of term {term}, has commit_index={node.commit_index} after both peers "
                    "acknowledged entries 1 and 2; expected 2", sim)
    # A reply from s2 that the network held back: an acknowledgement of entry 1 only, arriving last.
    sent_before = len(a.received("append_entries"))
    sim.at(sim.now + 1, a.send, "s1", Message("append_entries_reply", term=term, success=True, match_index=1))
    sim.run(until=sim.now + 3)
    match, nxt = node.match_index.get("s2"), node.next_index.get("s2")
    if match != 2 or nxt != 3:
        raise _fail(f"a late, reordered reply of s2 acknowledging only entry 1 arrived after its reply "
                    f"acknowledging entry 2; s1 now has match_index['s2']={match}, next_index['s2']={nxt}; "
                    "expected 2 and 3: never move match_index or next_index backwards because of an old "
                    "reply (take the larger)", sim)
    sim.run(until=sim.now + 120)
    resent = [m for m in a.received("append_entries")[sent_before:] if m.prev_log_index < 2]
    if resent:
        raise _fail(f"after the late reply, s1 sent s2 an AppendEntries with prev_log_index="
                    f"{resent[0].prev_log_index}: it moved back over entries s2 had already acknowledged", sim)
    # The followers go silent towards s1 (its requests are lost on the way); s1 takes entry 3.
    for peer in ("s2", "s3"):
        sim.network.set_link("s1", peer, loss=1.0)
    index, _, ok = node.start("z")
    sim.run(until=sim.now + 5)
    # s2 answers with a reply from an older term: it says entry 3 is there.
    sim.at(sim.now + 1, a.send, "s1", Message("append_entries_reply", term=term - 1, success=True,
                                              match_index=3))
    sim.run(until=sim.now + 3)
    if (index, ok) != (3, True):
        raise _fail(f"s1.start('z') returned {(index, term, ok)}; expected index 3 in term {term}", sim)
    if node.commit_index != 2:
        raise _fail(f"s1, leader of term {term}, committed index {node.commit_index} on the strength of a "
                    f"reply of term {term - 1} claiming entry 3, which no follower holds: a reply from an "
                    "older term answers a request of an older term and must be ignored", sim)
    if node.role != "leader" or node.current_term != term:
        raise _fail(f"a reply of the older term {term - 1} made s1 a {node.role} of term {node.current_term}; "
                    f"expected it to go on leading term {term}", sim)
    # s3 answers from a newer term: the leader has been superseded and must step down at once.
    sim.at(sim.now + 1, b.send, "s1", Message("append_entries_reply", term=term + 4, success=False))
    sim.run(until=sim.now + 3)
    # (A follower of that term, or already a candidate of a later one if its election timer fired.)
    if node.role == "leader" or node.current_term < term + 4:
        raise _fail(f"s1, leader of term {term}, got an AppendEntries reply of term {term + 4} and is now a "
                    f"{node.role} of term {node.current_term}; expected a follower of term {term + 4}: a reply "
                    "with a newer term means a newer leader may exist (Figure 2, Rules for All Servers)", sim)
    return sim
