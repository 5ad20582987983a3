"""The Raft framework of chapter 03b: messages, RaftBase's verbs and timers, the cluster harness, the invariants.

The reference Raft lives only in solutions/03b_raft (see test_raft_reference.py);
here, small deliberately broken nodes show that the harness and the invariants
catch what they should.
"""

from __future__ import annotations

import pytest

from course_lib.checkers import raft as raft_invariants
from course_lib.grading import ScenarioFailed, ScenarioReport, check_scenario
from course_lib.topics.raft import (SCENARIOS, AppendEntries, AppendEntriesReply, RaftBase, RaftCluster,
                                    RequestVote, RequestVoteReply, ScriptedPeer, initial_election, vote_rules)
from course_lib.sim import InvariantViolation, Node, Simulation


class Idle(RaftBase):
    """Never does anything: no election ever starts."""

    def on_election_timeout(self):
        pass


class SelfElected(RaftBase):
    """Declares itself leader at its first timeout, without asking anyone: two leaders per term soon."""

    def on_election_timeout(self):
        self.become_candidate()
        self.become_leader()

    def on_heartbeat(self):
        pass


def _sim_with(cls, n=3, seed=1):
    sim = Simulation(seed=seed)
    nodes = sim.add_nodes(cls, [f"s{i + 1}" for i in range(n)])
    return sim, nodes


# -- messages -------------------------------------------------------------------------------------

def test_message_builders_carry_figure_2_fields():
    """Each RPC builder makes a message of the handler's type with exactly Figure 2's fields."""
    rv = RequestVote(term=2, candidate_id="s1", last_log_index=3, last_log_term=1)
    assert rv.type == "request_vote" and dict(rv.fields) == {
        "term": 2, "candidate_id": "s1", "last_log_index": 3, "last_log_term": 1}
    assert RequestVoteReply(term=2, vote_granted=1).vote_granted is True
    ae = AppendEntries(term=2, leader_id="s1", prev_log_index=0, prev_log_term=0, entries=[(1, "x")],
                       leader_commit=0)
    assert ae.type == "append_entries" and ae.entries == ((1, "x"),)
    reply = AppendEntriesReply(term=2, success=False, conflict_index=4, conflict_term=1)
    assert (reply.type, reply.match_index, reply.conflict_index, reply.conflict_term) == (
        "append_entries_reply", 0, 4, 1)


# -- RaftBase ----------------------------------------------------------------------------------------

def test_become_follower_refuses_an_older_term_and_forgets_the_vote_of_a_new_one():
    """become_follower(term) never moves the term back; a higher term clears voted_for."""
    sim, (a, *_) = _sim_with(Idle)
    a.become_candidate()
    assert (a.current_term, a.voted_for, a.role) == (1, "s1", "candidate")
    a.become_follower(1)
    assert (a.current_term, a.voted_for, a.role) == (1, "s1", "follower")
    a.become_follower(3)
    assert (a.current_term, a.voted_for) == (3, None)
    with pytest.raises(ValueError, match=r"become_follower\(term=2\).*already in term 3"):
        a.become_follower(2)


def test_only_a_candidate_becomes_leader_and_a_leader_does_not_become_candidate():
    """The role verbs refuse to skip a step or go backwards, with a plain error."""
    sim, (a, *_) = _sim_with(Idle)
    with pytest.raises(RuntimeError, match="only a candidate"):
        a.become_leader()
    a.become_candidate()
    a.become_leader()
    assert a.get_state() == (1, True)
    with pytest.raises(RuntimeError, match="leads term 1"):
        a.become_candidate()
    with pytest.raises(AttributeError, match="become_follower"):
        a.role = "follower"
    roles = [(e.node, e.info["role"], e.info["term"]) for e in sim.trace.custom("role")]
    assert roles == [("s1", "candidate", 1), ("s1", "leader", 1)]


def test_log_helpers_count_from_one():
    """last_log_index/term and term_at follow the paper's 1-based indices, with index 0 of term 0."""
    sim, (a, *_) = _sim_with(Idle)
    assert (a.last_log_index(), a.last_log_term(), a.term_at(0)) == (0, 0, 0)
    a.log = [(1, "x"), (3, "y")]
    assert (a.last_log_index(), a.last_log_term(), a.term_at(1), a.term_at(2)) == (2, 3, 1, 3)
    with pytest.raises(IndexError, match="holds entries 1..2"):
        a.term_at(3)


def test_apply_accepts_committed_entries_in_order_only_and_restarts_from_one():
    """apply() refuses a gap, a repeat, an uncommitted entry or a wrong command; a restart empties the state machine."""
    sim, (a, *_) = _sim_with(Idle)
    a.log = [(1, "x"), (1, "y"), (1, "z")]
    a.commit_index = 2
    with pytest.raises(ValueError, match="next one to apply is 1"):
        a.apply(2, "y")
    a.apply(1, "x")
    with pytest.raises(ValueError, match="next one to apply is 2"):
        a.apply(1, "x")
    with pytest.raises(ValueError, match="holds 'y'"):
        a.apply(2, "q")
    a.apply(2, "y")
    with pytest.raises(ValueError, match="commit_index=2"):
        a.apply(3, "z")
    assert [(e.info["index"], e.info["command"]) for e in sim.trace.custom("apply")] == [(1, "x"), (2, "y")]
    sim.crash("s1")
    sim.restart("s1")
    a.log, a.commit_index = [(1, "x")], 1
    a.apply(1, "x")  # the state machine starts again from index 1


def test_election_timer_fires_between_150_and_300_and_is_ignored_while_leading():
    """on_election_timeout runs after 150-300 units, again and again, but not while the node leads."""
    fired = []

    class Counting(RaftBase):
        def on_election_timeout(self):
            fired.append(self.sim.now)
            if len(fired) == 2:
                self.become_candidate()
                self.become_leader()

        def on_heartbeat(self):
            pass

    sim = Simulation(seed=3)
    sim.add_node(Counting, "s1")
    sim.run(until=3000)
    assert len(fired) == 2
    assert 150 <= fired[0] <= 300 and 150 <= fired[1] - fired[0] <= 300


def test_heartbeats_run_only_while_leading():
    """start_heartbeats calls on_heartbeat every 50 units; become_follower stops them."""
    beats = []

    class Beating(RaftBase):
        def on_election_timeout(self):
            pass

        def on_heartbeat(self):
            beats.append(self.sim.now)

    sim = Simulation(seed=3)
    node = sim.add_node(Beating, "s1")
    node.become_candidate()
    node.become_leader()
    node.start_heartbeats()
    sim.run(until=175)
    node.become_follower(2)
    sim.run(until=400)
    assert beats == [50, 100, 150]


# -- the cluster harness ------------------------------------------------------------------------------

def test_cluster_disconnect_cuts_a_server_off_and_connect_heals():
    """disconnect isolates one server from all others; connecting the last one heals the network."""
    c = RaftCluster(Idle, 3, seed=1)
    c.disconnect("s2")
    c.disconnect(2)
    net = c.sim.network
    assert not net.reachable("s1", "s2") and not net.reachable("s2", "s3") and not net.reachable("s1", "s3")
    c.connect("s3")
    assert net.reachable("s1", "s3") and not net.reachable("s1", "s2")
    c.connect("s2")
    assert net.reachable("s1", "s2") and c.connected() == ["s1", "s2", "s3"]
    with pytest.raises(ValueError, match="server='s9'"):
        c.disconnect("s9")


def test_check_one_leader_fails_plainly_without_a_leader():
    """A cluster that never elects anybody fails check_one_leader with 'got none', after bounded time."""
    c = RaftCluster(Idle, 3, seed=1)
    with pytest.raises(ScenarioFailed, match="got none"):
        c.check_one_leader()
    assert c.now <= 10 * 550


def test_submit_reports_an_unwritten_start_and_a_wrong_return_value():
    """submit() turns a learner's exception or malformed result in start() into a ScenarioFailed."""
    c = RaftCluster(Idle, 3, seed=1)
    with pytest.raises(ScenarioFailed, match="NotImplementedError"):
        c.submit("s1", 7)

    class BadStart(Idle):
        def start(self, command):
            return 1

    c = RaftCluster(BadStart, 3, seed=1)
    with pytest.raises(ScenarioFailed, match=r"must return \(index, term, is_leader\)"):
        c.submit("s1", 7)


def test_cluster_rejects_a_class_that_is_not_a_raft_node():
    """RaftCluster names the argument and its value when given a non-Raft class or size."""
    with pytest.raises(TypeError, match="cls="):
        RaftCluster(Node, 3)
    with pytest.raises(ValueError, match="n=0"):
        RaftCluster(Idle, 0)


# -- invariants -------------------------------------------------------------------------------------------

def test_election_safety_catches_two_leaders_of_one_term_at_the_event_that_makes_the_second():
    """Self-elected leaders clash: the run stops with election_safety at the second election."""
    c = RaftCluster(SelfElected, 3, seed=5)
    with pytest.raises(InvariantViolation, match="election_safety") as info:
        c.run(2000)
    second = [e for e in c.sim.trace.custom("role") if e.info["role"] == "leader"]
    assert info.value.time == second[-1].time


def test_log_matching_catches_different_entries_with_the_same_index_and_term():
    """Two logs with index 2 of term 1 but different commands violate log matching."""
    sim, (a, b, _) = _sim_with(Idle)
    a.log = [(1, "x"), (1, "y")]
    assert raft_invariants.log_matching(sim) is None
    b.log = [(1, "x"), (1, "z")]
    b.record("poke")  # an event touching b
    sim._events += 1
    assert "index 2 in term 1" in raft_invariants.log_matching(sim)


def test_log_matching_catches_a_decreasing_term_and_a_malformed_entry():
    """Terms never decrease along a log, and every entry is a (term, command) pair."""
    sim, (a, b, _) = _sim_with(Idle)
    a.log = [(2, "x"), (1, "y")]
    assert "never decrease" in raft_invariants.log_matching(sim)
    sim, (a, b, _) = _sim_with(Idle)
    b.log = ["y"]
    assert "is not an entry" in raft_invariants.log_matching(sim)


def test_state_machine_safety_catches_two_commands_applied_at_one_index():
    """Two servers applying different commands at index 1 violate state machine safety."""
    sim, (a, b, _) = _sim_with(Idle)
    a.record("apply", index=1, command="x", term=1)
    assert raft_invariants.state_machine_safety(sim) is None
    b.record("apply", index=1, command="y", term=1)
    sim._events += 1
    assert "applied 'y' at index 1" in raft_invariants.state_machine_safety(sim)


def test_leader_completeness_catches_a_later_leader_missing_a_committed_entry():
    """A leader of term 3 without the entry applied in term 1 violates leader completeness."""
    sim, (a, b, _) = _sim_with(Idle)
    a.log = [(1, "x")]
    a.record("apply", index=1, command="x", term=1)
    assert raft_invariants.leader_completeness(sim) is None
    b.current_term = 2
    b.become_candidate()
    b.become_leader()  # term 3, empty log
    sim._events += 1
    assert "leads term 3" in raft_invariants.leader_completeness(sim)


def test_leader_completeness_does_not_blame_a_leader_of_the_committing_term():
    """An entry applied by a server in term 3 need not be in the log of a leader of term 3 or earlier."""
    sim, (a, b, _) = _sim_with(Idle)
    a.log, a.current_term = [(3, "x")], 3
    a.record("apply", index=1, command="x", term=3)
    b.current_term = 2
    b.become_candidate()
    b.become_leader()
    sim._events += 1
    assert raft_invariants.leader_completeness(sim) is None


# -- scenarios -----------------------------------------------------------------------------------------------

def test_every_scenario_fails_an_idle_node_with_a_replay_line():
    """Each graded scenario fails a Raft that does nothing, naming the seed and giving a replay."""
    for name, scenario in SCENARIOS.items():
        with pytest.raises(ScenarioReport) as info:
            check_scenario(scenario, Idle, seeds=[7])
        message = str(info.value)
        assert "seed=7" in message and f"replay: from course_lib.topics.raft import {name}; {name}(Idle, seed=7)" \
            in message, (name, message)


def test_a_failure_is_the_same_every_time():
    """The same seed fails the same way: same message, same trace."""
    def fail_once():
        with pytest.raises(ScenarioReport) as info:
            check_scenario(initial_election, SelfElected, seeds=[11])
        return str(info.value)

    assert fail_once() == fail_once()
    assert "election_safety" in fail_once()


def test_vote_rules_names_the_missing_timer_reset():
    """A node that starts elections despite heartbeats fails vote_rules with advice on the timer."""
    class Impatient(RaftBase):
        def on_election_timeout(self):
            self.become_candidate()
            self.broadcast(RequestVote(term=self.current_term, candidate_id=self.id, last_log_index=0,
                                       last_log_term=0))

        def on_append_entries(self, msg):
            pass

        def on_request_vote_reply(self, msg):
            pass

    with pytest.raises(ScenarioFailed, match="reset the election timer"):
        vote_rules(Impatient, seed=1)


def test_scripted_peer_grants_votes_and_accepts_entries():
    """The scripted peer answers RequestVote and AppendEntries as a cooperative follower would."""
    sim = Simulation(seed=1)
    a, b = sim.add_nodes(ScriptedPeer, ["a", "b"])
    sim.at(1, a.send, "b", RequestVote(term=2, candidate_id="a", last_log_index=0, last_log_term=0))
    sim.at(1, a.send, "b", AppendEntries(term=2, leader_id="a", prev_log_index=3, prev_log_term=1,
                                         entries=((2, "x"),), leader_commit=0))
    sim.run(until=10)
    replies = {m.type: m for m in a.inbox}
    assert replies["request_vote_reply"].vote_granted is True
    assert replies["append_entries_reply"].match_index == 4
