"""The schedule search (course_lib.search) and the simulator's controlled mode (course_lib.sim.control)."""

from __future__ import annotations

import matplotlib
import pytest

import search_protocols as sp
from course_lib.search import Schedule, search
from course_lib.sim import HandlerError, InvalidArgument, InvariantViolation, Simulation
from course_lib.sim.control import Controlled, Step

matplotlib.use("Agg")


def test_bfs_finds_the_shortest_counterexample_exactly():
    """Two leaders in one term need 6 steps at least (3 per election); BFS finds a 6-step schedule."""
    result = search(sp.elector_sim(buggy=True), max_depth=10)
    assert result.outcome == "violation" and not result.ok
    assert len(result.schedule) == 6, str(result)
    assert isinstance(result.error, InvariantViolation) and result.error.name == "one_leader_per_term"
    kinds = [s.kind for s in result.schedule]
    assert kinds.count("timer") == 2 and kinds.count("deliver") == 4


def test_a_correct_protocol_exhausts_the_bounded_space_without_a_false_alarm():
    result = search(sp.elector_sim(), max_depth=10)
    assert result.outcome == "exhausted" and result.ok, str(result)
    assert result.states > 1000 and result.depth == 10
    assert "every state within depth 10 explored" in str(result)


def test_search_is_deterministic():
    one = search(sp.elector_sim(buggy=True), max_depth=8)
    two = search(sp.elector_sim(buggy=True), max_depth=8)
    assert one.schedule == two.schedule and (one.states, one.steps) == (two.states, two.steps)
    walks = [search(sp.elector_sim(buggy=True), strategy="random", max_depth=30, walks=300, seed=5)
             for _ in range(2)]
    assert walks[0].schedule == walks[1].schedule


def test_the_counterexample_replays_in_the_ordinary_simulator_and_draws():
    result = search(sp.elector_sim(buggy=True), max_depth=8)
    replay = result.replay()
    assert isinstance(replay.error, InvariantViolation)
    assert replay.error.name == "one_leader_per_term"
    kinds = [e.kind for e in replay.trace]
    assert kinds.count("deliver") == 4 and kinds.count("send") >= 4  # a full trace, not a window
    assert [e.time for e in replay.trace.custom("leader")] == [3.0, 6.0]  # step k at time k
    ax = result.draw()
    assert "one_leader_per_term" in ax.get_title()
    text = str(result)
    assert "  1. " in text and "  6. " in text and "receives vote from" in text


def test_the_same_schedule_on_a_fixed_protocol_does_not_fail():
    schedule = search(sp.elector_sim(buggy=True), max_depth=8).schedule
    with pytest.raises(InvalidArgument, match="no such message"):
        schedule.replay(sp.elector_sim())  # the fixed node does not send the second vote


def test_dfs_and_random_walks_find_it_too_and_walks_are_shrunk():
    dfs = search(sp.elector_sim(buggy=True), strategy="dfs", max_depth=10)
    assert dfs.outcome == "violation"
    walk = search(sp.elector_sim(buggy=True), strategy="random", max_depth=40, walks=500)
    assert walk.outcome == "violation" and walk.shrunk_from is not None
    assert len(walk.schedule) <= walk.shrunk_from and len(walk.schedule) <= 8
    assert walk.replay().error.name == "one_leader_per_term"


def test_crashes_are_branches_when_allowed():
    """Forgetting the vote at a crash needs a crash and a restart: 8 steps; nothing without crashes."""
    forgetful = sp.elector_sim(sp.ForgetfulElector)
    found = search(forgetful, max_depth=9, crashes=1)
    assert found.outcome == "violation" and len(found.schedule) == 8
    assert [s.kind for s in found.schedule].count("crash") == 1
    assert search(forgetful, max_depth=9, crashes=0).outcome == "exhausted"
    assert search(sp.elector_sim(), max_depth=8, crashes=1).outcome == "exhausted"  # durable votes


def test_duplicates_are_branches_when_allowed():
    counting = sp.committer_sim(counts_messages=True)
    found = search(counting, max_depth=8, duplicates=1)
    assert found.outcome == "violation" and len(found.schedule) == 3
    assert "duplicate" in [s.kind for s in found.schedule]
    assert search(counting, max_depth=8).outcome == "exhausted"
    assert search(sp.committer_sim(counts_messages=False), max_depth=8, duplicates=2).outcome == "exhausted"


def test_requests_and_their_timeouts_are_steps_named_by_the_request():
    result = search(sp.asker_sim, max_depth=12)
    assert result.outcome == "exhausted" and result.states < 100  # ids differ per path; states do not
    sim = sp.asker_sim()
    ctl = Controlled(sim)
    names = [str(s) for s in ctl.choices()]
    assert names == ["server receives get from client", "client: timer 'timeout:get' fires"]


def test_goal_reached_with_the_shortest_schedule():
    result = search(sp.elector_sim(), goal=sp.some_leader)
    assert result.outcome == "goal" and result.ok and len(result.schedule) == 3


def test_a_learners_exception_is_a_counterexample():
    result = search(sp.crasher_sim, max_depth=5)
    assert result.outcome == "violation" and isinstance(result.error, HandlerError)
    assert [str(s) for s in result.schedule] == ["b receives hello from a"]
    assert isinstance(result.replay().error, HandlerError)


def test_limits_are_reported():
    result = search(sp.elector_sim(), max_depth=20, max_states=50)
    assert result.outcome == "limit" and result.states == 50
    assert "cut short" in str(result)


def test_prune_stops_exploring_below_a_state():
    pruned = search(sp.elector_sim(buggy=True), max_depth=10, prune=sp.some_leader)
    assert pruned.outcome == "exhausted"  # a second leader always comes after a first


def test_node_search_state_decides_its_fingerprint():
    class Counting(sp.Elector):
        def search_state(self):
            return 0  # nothing of its own counts: only timers and messages in flight tell states apart

    full = search(sp.elector_sim(sp.Elector), max_depth=6)
    coarse = search(sp.elector_sim(Counting), max_depth=6)
    assert coarse.states < full.states


def test_controlled_refuses_what_it_cannot_do():
    sim = sp.elector_sim()()
    sim.run(until=1)
    with pytest.raises(InvalidArgument, match="sim=.*has run already"):
        Controlled(sim)
    ctl = Controlled(sp.elector_sim()())
    with pytest.raises(InvalidArgument, match="no such message"):
        ctl.take(Step("deliver", "a", "b", "vote", (("term", 1),)))
    with pytest.raises(InvalidArgument, match="no such timer"):
        ctl.take(Step("timer", "a", None, "nope"))
    with pytest.raises(InvalidArgument, match="'zz' is not a node"):
        ctl.take(Step("crash", "zz"))
    with pytest.raises(InvalidArgument, match="is up"):
        ctl.take(Step("restart", "a"))
    with pytest.raises(TypeError, match="step="):
        ctl.take("a fires")


def test_save_and_load_restore_every_node_and_the_messages_in_flight():
    sim = sp.elector_sim()()
    ctl = Controlled(sim)
    root = ctl.save()
    first = ctl.choices()
    ctl.take(first[0])
    after = ctl.save()
    assert after.fingerprint != root.fingerprint and after.in_flight == 2
    ctl.load(root)
    assert ctl.choices() == first and sim.node("a").term == 0 and ctl.save().fingerprint == root.fingerprint
    ctl.load(after)
    assert sim.node("a").term == 1 and len(ctl.in_flight) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"make_sim": 3}, "make_sim=3"),
    ({"strategy": "greedy"}, "strategy='greedy'"),
    ({"max_depth": -1}, "max_depth=-1"),
    ({"max_states": 0}, "max_states=0"),
    ({"time_limit": 0}, "time_limit=0"),
    ({"crashes": "one"}, "crashes='one'"),
    ({"duplicates": 1.5}, "duplicates=1.5"),
    ({"restarts": "yes"}, "restarts='yes'"),
    ({"goal": "leader"}, "goal='leader'"),
    ({"prune": 1}, "prune=1"),
    ({"walks": 0}, "walks=0"),
    ({"seed": "x"}, "seed='x'"),
    ({"make_sim": lambda: "not a sim"}, "make_sim\\(\\) returned 'not a sim'"),
    ({"actions": "write"}, "actions='write'"),
    ({"actions": [("w", 1)]}, "actions\\['w'\\]=1"),
    ({"actions": [("", print)]}, "label ''"),
    ({"actions": [("w", print), ("w", print)]}, "label 'w' appears twice"),
    ({"actions": [print]}, "must be a \\(label, call\\) pair"),
    ({"start": "a: write 1"}, "start='a: write 1'"),
    ({"start": [1, 2]}, "start=\\[1, 2\\]"),
])
def test_bad_arguments_are_named(kwargs, message):
    args = {"make_sim": sp.elector_sim()}
    args.update(kwargs)
    make_sim = args.pop("make_sim")
    with pytest.raises((ValueError, TypeError), match=message):
        search(make_sim, **args)


@pytest.mark.parametrize("call, message", [
    (lambda t: t.nodes_since(-1), "mark=-1"),
    (lambda t: t.nodes_since(5), "mark=5"),
    (lambda t: t.nodes_since("0"), "mark='0'"),
    (lambda t: t.custom_since(True, "apply"), "mark=True"),
    (lambda t: t.custom_since(0, 3), "names: 3"),
])
def test_the_trace_hooks_the_checkers_read_name_bad_arguments(call, message):
    from course_lib.sim import Trace
    trace = Trace()
    trace.record(1.0, "custom", "a", msg_type="apply", info={"index": 1})
    with pytest.raises((ValueError, TypeError), match=message):
        call(trace)


def test_the_trace_hooks_read_what_since_reads():
    from course_lib.topics.agreement.commit import NaiveCoordinator, NaiveParticipant
    sim = Simulation(seed=3)
    coordinator = sim.add_node(NaiveCoordinator, "coord")
    sim.add_nodes(NaiveParticipant, ["p1", "p2"])
    sim.at(0.0, coordinator.begin, "t1", {"p1": ("k", 1), "p2": ("k", 2)})
    sim.at(5.0, sim.crash, "p2")
    sim.run(until=60)
    trace = sim.trace
    kinds = {row.kind for row in trace}
    assert {"send", "deliver", "custom"} <= kinds, kinds
    for mark in (0, len(trace) // 2, len(trace)):
        rows = trace.since(mark)
        nodes = []
        for row in rows:
            if row.node is not None and row.node not in nodes:
                nodes.append(row.node)
        assert trace.nodes_since(mark) == nodes
        names = {row.type for row in rows if row.kind == "custom"} | {"nothing"}
        assert trace.custom_since(mark, *names) == [row for row in rows if row.kind == "custom"]


def test_schedule_prints_as_numbered_steps():
    assert str(Schedule()) == "(no step: the initial state)"
    text = str(Schedule([Step("crash", "a"), Step("timer", "b", None, "elect")]))
    assert text == "  1. a crashes\n  2. b: timer 'elect' fires"
    assert isinstance(Simulation, type)


def test_live_fingerprint_equals_the_saved_one_along_a_schedule():
    sim = sp.elector_sim(sp.ForgetfulElector)()
    ctl = Controlled(sim)
    for _ in range(8):
        assert ctl.fingerprint() == ctl.save().fingerprint
        steps = ctl.choices(crashes=True, restarts=True)
        ctl.take(steps[-1] if steps[-1].kind == "restart" else steps[0])
    assert ctl.fingerprint() == ctl.save().fingerprint


def test_check_raises_scenario_failed_with_the_replayed_run():
    from course_lib.sim import ScenarioFailed
    ok = search(sp.elector_sim(), max_depth=4)
    assert ok.check("every schedule") is ok
    bad = search(sp.elector_sim(buggy=True), max_depth=8)
    with pytest.raises(ScenarioFailed, match=r"a schedule of 6 steps breaks it \(every schedule of 3 "
                                             r"nodes was searched") as err:
        bad.check("every schedule of 3 nodes")
    assert err.value.sim is not None and "  6. " in str(err.value)


# -- client actions, and searching in phases ---------------------------------------------------
def test_actions_are_steps_and_bfs_finds_the_shortest_schedule_with_them():
    result = search(sp.copier_sim(buggy=True), actions=sp.WRITES, max_depth=6)
    assert result.outcome == "violation" and result.error.name == "versions_never_decrease"
    assert [str(step) for step in result.schedule] == [
        "a: write 1", "a: write 2", "b receives copy from a (value=2, version=2)",
        "b receives copy from a (value=1, version=1)"]
    replay = result.replay()
    assert replay.error is not None and replay.error.name == "versions_never_decrease"
    assert [row[4] for row in replay.trace if row[1] == "custom"][:2] == ["action", "action"]


def test_actions_happen_in_order_once_each_and_a_correct_protocol_exhausts():
    result = search(sp.copier_sim(), actions=sp.WRITES, max_depth=8)
    assert result.outcome == "exhausted"
    # Without actions nothing ever happens: one state.
    assert search(sp.copier_sim(), max_depth=8).states == 1


def test_a_search_can_start_where_another_ended():
    first = search(sp.copier_sim(buggy=True), actions=sp.WRITES, max_depth=4,
                   goal=lambda sim: sim.node("a").version == 2)
    assert first.outcome == "goal" and len(first.schedule) == 2
    second = search(sp.copier_sim(buggy=True), actions=sp.WRITES, start=first.schedule, max_depth=2)
    assert second.outcome == "violation"
    assert list(second.schedule[:2]) == list(first.schedule) and len(second.schedule) == 4
    assert second.replay().error.name == "versions_never_decrease"
    with pytest.raises(InvalidArgument, match="start"):
        search(sp.copier_sim(), start=first.schedule)  # the actions are missing: not replayable


def test_state_holding_messages_takes_the_general_path_and_gives_the_same_search():
    fast = search(sp.copier_sim(buggy=True), actions=sp.WRITES, max_depth=6)
    general = search(sp.copier_sim(sp.KeepingCopier, buggy=True), actions=sp.WRITES, max_depth=6)
    assert [str(s) for s in fast.schedule] == [str(s) for s in general.schedule]
    assert search(sp.copier_sim(sp.KeepingCopier), actions=sp.WRITES, max_depth=7).outcome == "exhausted"


def test_the_fast_and_general_fingerprints_of_a_node_agree():
    from course_lib.sim.control import _encode_node, _node_fp
    for make, actions in ((sp.elector_sim(), ()), (sp.copier_sim(), sp.WRITES)):
        ctl = Controlled(make(), actions=dict(actions))
        for k in range(6):
            steps = ctl.choices(actions=[label for label, _ in actions][:1], crashes=k == 3)
            if not steps:
                break
            ctl.take(steps[-1])
            for node in ctl.sim.nodes.values():
                encoded = _encode_node(node, node.__dict__, {})
                assert encoded is not None and encoded[1] == _node_fp(node, node.__dict__)


def test_messages_in_flight_hash_as_a_multiset_without_collisions_of_similar_messages():
    # A state hashes its messages in flight as the sum of their keys: two different pairs of
    # similar messages (votes that differ in term and route) must not have the same sum, which
    # unmixed tuple hashes did in a 3-server Raft search.
    from itertools import combinations

    from course_lib.sim import Node
    from course_lib.sim.control import _message_key

    class Voter(Node):
        def on_start(self):
            for peer in self.peers:
                for term in range(1, 9):
                    for granted in (True, False):
                        self.send(peer, "vote", term=term, granted=granted)

        def on_vote(self, msg):
            pass

    sim = Simulation(seed=0)
    sim.add_nodes(Voter, ["s1", "s2", "s3"])
    keys = [_message_key(m) for m in Controlled(sim).in_flight]
    assert len(keys) == 96 and len(set(keys)) == len(keys)
    sums = {(x + y) & (2**64 - 1) for x, y in combinations(keys, 2)}
    assert len(sums) == len(keys) * (len(keys) - 1) // 2
