"""Tests of course_lib.topics.clocks.broadcast and the causal broadcast scenario: FIFO, causal and total order.

The causal broadcast is the exercise's (solutions/02_clocks): the tests that need a working one load
the reference from the solution notebook.
"""

import functools
import pathlib
import sys

import pytest

from course_lib.grading import ScenarioReport, check_scenario, run_once
from course_lib.sim import InvalidArgument, InvalidArgumentType, ScenarioFailed
from course_lib.topics.clocks import (BROADCAST_CHECKS, BROADCASTS, SCHEDULES, BroadcastNode, FifoBroadcast,
                                      PlainBroadcast, SequencerBroadcast, arrivals, broadcast_labels,
                                      broadcast_run, causal_broadcast_scenario, chat_scenario, deliveries,
                                      order_violations, scripted_run)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
from reference import load_reference  # noqa: E402  (tools/reference.py)

SEEDS = range(12)


@functools.lru_cache(maxsize=None)
def causal():
    """The reference CausalBroadcast, from the solution notebook."""
    return load_reference("02_clocks", cells=("causal_broadcast",))["CausalBroadcast"]


def broken_runs(cls, rule, **options):
    return sum(order_violations(broadcast_run(cls, seed=f"t/{k}", **options))[rule] > 0 for k in SEEDS)


def test_the_answer_overtakes_the_question_without_an_order_and_under_fifo():
    """Delivering on arrival or in FIFO order, n3 sees n2's answer before n1's question."""
    for cls in (PlainBroadcast, FifoBroadcast):
        sim = chat_scenario(cls, seed=0)
        assert deliveries(sim)["n3"] == ["n2:1", "n1:1"]
        assert order_violations(sim)["causal"] == 1


def test_causal_broadcast_holds_the_answer_until_the_question_arrives():
    """Causal delivery (the reference) makes n3 hold the answer back, then deliver question and answer in order."""
    sim = chat_scenario(causal(), seed=0)
    assert deliveries(sim)["n3"] == ["n1:1", "n2:1"]
    assert [(e.node, e.info["text"], e.info["waiting_for"]) for e in sim.trace.custom("hold")] == [
        ("n3", "A", "n1:1")]


@pytest.mark.parametrize("name, rule", [("fifo", "fifo"), ("causal", "causal"), ("causal", "fifo"),
                                        ("total", "total")])
def test_each_broadcast_keeps_its_promise(name, rule):
    """Over random group chats, no node ever breaks the order its broadcast promises."""
    cls = causal() if name == "causal" else BROADCASTS[name]
    assert broken_runs(cls, rule) == 0


@pytest.mark.parametrize("name, rule", [("none", "fifo"), ("fifo", "causal"), ("causal", "total"),
                                        ("total", "fifo")])
def test_each_broadcast_breaks_what_it_does_not_promise(name, rule):
    """The chats are hard enough to break every order a broadcast does not promise."""
    cls = causal() if name == "causal" else BROADCASTS[name]
    assert broken_runs(cls, rule) > 0


def test_every_post_is_delivered_everywhere():
    """No ordering holds a post back for ever on a reliable network."""
    for cls in (*BROADCASTS.values(), causal()):
        assert order_violations(broadcast_run(cls, seed="t/all"))["undelivered"] == 0


def test_fifo_and_causal_deliver_each_post_once_over_a_duplicating_network():
    """With messages duplicated and reordered, FIFO and causal delivery drop the copies; plain delivery does not."""
    options = {"duplicate": 0.3, "reorder": 0.3}
    assert broken_runs(PlainBroadcast, "duplicate", **options) > 0
    for cls in (FifoBroadcast, causal()):
        assert broken_runs(cls, "duplicate", **options) == 0
        assert broken_runs(cls, "fifo", **options) == 0
    assert broken_runs(causal(), "causal", **options) == 0


def test_order_violations_counts_a_second_delivery_once():
    """A post delivered twice at one node is one duplicate, and the orders are judged at its first delivery."""
    sim = scripted_run(PlainBroadcast, "duplicates")
    counts = order_violations(sim)
    assert counts["duplicate"] == sum(len(d) - len(set(d)) for d in deliveries(sim).values()) > 0
    assert counts["undelivered"] == 0


def test_the_sequencer_delivers_the_same_order_everywhere_even_its_own_posts_wait():
    """Under total order a node delivers its own post only once the sequencer has numbered it."""
    sim = chat_scenario(SequencerBroadcast, seed=0, sequencer="n3")
    orders = set(map(tuple, deliveries(sim).values()))
    assert len(orders) == 1
    post = sim.trace.custom("post")[0]
    own = next(e for e in sim.trace.custom("deliver") if e.node == post.node and e.info["pid"] == post.info["pid"])
    assert own.time > post.time


def test_labels_are_short_and_skip_the_posters_own_delivery():
    """broadcast_labels gives 'post Q'-style labels and leaves out a node's instant delivery of its post."""
    labels = set(broadcast_labels(chat_scenario(FifoBroadcast, seed=0)).values())
    assert labels == {"post Q", "deliver Q", "post A", "deliver A"}


def test_arrivals_are_the_first_copy_or_the_post_itself():
    """arrivals gives each post's first arrival at each node: its post event at home, the first copy elsewhere."""
    sim = scripted_run(PlainBroadcast, "duplicates")
    trace = list(sim.trace)
    reached = arrivals(sim)
    assert trace[reached[("n1", "n1:1")]].type == "post" and trace[reached[("n1", "n1:1")]].kind == "custom"
    at_n3 = trace[reached[("n3", "n1:1")]]
    assert (at_n3.kind, at_n3.type, at_n3.time) == ("deliver", "post", 6.0)
    copies = [e for e in trace if e.kind == "deliver" and e.node == "n3" and e.type == "post" and e.peer == "n1"]
    assert len(copies) == 2 and trace.index(copies[0]) == reached[("n3", "n1:1")]  # two copies of Q


# -- the scripted schedules: each exposes its mistake, whatever the seed

def test_the_schedules_run_the_posts_they_promise():
    """Each schedule's overtaking happens as described, with FIFO delivery showing the arrival order."""
    firsts = {"transitive": ("n4", ["n3:1", "n1:1", "n2:1"]),
              "own_posts": ("n2", ["n1:1", "n3:1", "n3:2"]),
              "sender_overtakes": ("n3", ["n1:1", "n1:2"]),  # FIFO holds b back
              "reverse_dependencies": ("n3", ["n4:1", "n2:1", "n1:1"])}
    for schedule, (node, order) in firsts.items():
        assert deliveries(scripted_run(PlainBroadcast if schedule != "sender_overtakes" else FifoBroadcast,
                                       schedule, seed=5))[node] == order, schedule
    sim = scripted_run(PlainBroadcast, "sender_overtakes")
    assert deliveries(sim)["n3"] == ["n1:2", "n1:1"]


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("check", BROADCAST_CHECKS)
def test_the_reference_passes_every_schedule(schedule, check):
    """The reference causal broadcast passes both checks on every scripted schedule."""
    causal_broadcast_scenario(causal(), 0, schedule=schedule, check=check)


def test_the_reference_passes_duplicating_chats():
    """... and on random chats over a network that duplicates and reorders."""
    check_scenario(causal_broadcast_scenario, causal(), seeds=range(15), check="prompt",
                   settings=[{}, {"nodes": 6, "posts": 20, "reply_chance": 0.5, "duplicate": 0.5}])


def _variant(body):
    """A CausalBroadcast built from the reference with its methods replaced by ``body``'s."""
    base = causal()
    return type("Variant", (base,), body)


def _hold_all(self, post):
    if post["pid"] in self.delivered or post["pid"] in self.held:
        return
    self.hold(post, "its turn")
    self.release()


def _no_copy_check(self, post):
    if self.deliverable(post):
        self.deliver(post)
        self.release()
    else:
        self.hold(post, "?")


def _single_pass(self, post):
    sender = post["sender"]
    if post["deps"][sender] <= self.counts.get(sender, 0) or post["pid"] in self.held:
        return
    if not self.deliverable(post):
        self.hold(post, "?")
        return
    self.deliver(post)
    for pid, held in list(self.held.items()):
        if self.deliverable(held):
            del self.held[pid]
            self.deliver(held)


def _gaps(self, post):
    sender, deps = post["sender"], post["deps"]
    return deps[sender] > self.counts.get(sender, 0) and all(
        n <= self.counts.get(m, 0) for m, n in deps.items() if m != sender)


@pytest.mark.parametrize("variant, schedule, check, words", [
    ({"accept": BroadcastNode.accept}, "answer_first", "order", r"n3 delivered n2:1 \('A'\) at t=3.2 before n1:1"),
    ({"deliverable": lambda self, post: post["deps"][post["sender"]] == self.counts.get(post["sender"], 0) + 1},
     "answer_first", "order", r"before n1:1 \('Q'\), which happened before it \(n2 had delivered n1:1"),
    ({"deliverable": _gaps}, "sender_overtakes", "order", r"n3 delivered n1:2 \('b'\).*n1 posted n1:1 first"),
    ({"accept": _no_copy_check}, "duplicates", "order", "a copy of a post it had delivered"),
    ({"accept": _single_pass}, "reverse_dependencies", "order", r"n3 never delivered n4:1 \('c'\).*held since"),
    ({"accept": _hold_all}, "answer_first", "prompt", r"n1 held n1:1 \('Q'\) at t=1 though it was ready: no post"),
    ({"accept": lambda self, post: None}, "answer_first", "order", "n1 never delivered n1:1 .* neither delivered"),
])
def test_each_schedule_catches_its_mistake(variant, schedule, check, words):
    """A scripted schedule fails a broken broadcast deterministically, naming the node and the posts."""
    cls = _variant(variant)
    for seed in (0, 1):
        with pytest.raises(ScenarioFailed, match=words) as failure:
            causal_broadcast_scenario(cls, seed, schedule=schedule, check=check)
        assert failure.value.sim is not None and failure.value.events and failure.value.labels


def test_a_failure_is_reported_with_its_replay_and_can_be_drawn():
    """Through the grader, a failure names the scenario and the schedule, gives a replay line, and draws."""
    import matplotlib
    matplotlib.use("Agg")
    with pytest.raises(ScenarioReport, match=r"schedule='answer_first'.*\n  replay: from course_lib.topics.clocks "
                                             r"import causal_broadcast_scenario") as report:
        run_once(causal_broadcast_scenario, _variant({"accept": BroadcastNode.accept}), seed=0,
                 schedule="answer_first")
    assert report.value.draw() is not None


def test_an_untouched_stub_fails_with_its_handler_named():
    """A class whose methods are not written fails the grader, not the harness."""
    class Stub(BroadcastNode):
        def stamp(self):
            raise NotImplementedError()
    with pytest.raises(ScenarioReport, match="NotImplementedError"):
        check_scenario(causal_broadcast_scenario, Stub, seeds=range(1))


@pytest.mark.parametrize("call, error, words", [
    (lambda: chat_scenario(object, seed=0), InvalidArgumentType, "BroadcastNode subclass"),
    (lambda: chat_scenario(FifoBroadcast, seed=0, slow=0), InvalidArgument, "slow=0"),
    (lambda: broadcast_run(FifoBroadcast, seed=0, nodes=1), InvalidArgument, "nodes=1"),
    (lambda: broadcast_run(FifoBroadcast, seed=0, reply_chance=2), InvalidArgument, "reply_chance=2"),
    (lambda: broadcast_run(FifoBroadcast, seed=0, duplicate=1.5), InvalidArgument, "duplicate=1.5"),
    (lambda: broadcast_run(FifoBroadcast, seed=0, reorder="0.1"), InvalidArgumentType, "reorder='0.1'"),
    (lambda: deliveries("sim"), InvalidArgumentType, "sim='sim'"),
    (lambda: arrivals("sim"), InvalidArgumentType, "sim='sim'"),
    (lambda: scripted_run(FifoBroadcast, "chaos"), InvalidArgument, "schedule='chaos'"),
    (lambda: scripted_run(int, "transitive"), InvalidArgumentType, "cls=<class 'int'>"),
    (lambda: causal_broadcast_scenario(object, 0), InvalidArgumentType, "BroadcastNode subclass"),
    (lambda: causal_broadcast_scenario(FifoBroadcast, 0, schedule="chaos"), InvalidArgument, "schedule='chaos'"),
    (lambda: causal_broadcast_scenario(FifoBroadcast, 0, check="fast"), InvalidArgument, "check='fast'"),
    (lambda: causal_broadcast_scenario(FifoBroadcast, 0, loss=0.1), InvalidArgumentType, "loss=0.1"),
    (lambda: causal_broadcast_scenario(FifoBroadcast, 0, schedule="duplicates", duplicate=0.5), InvalidArgument,
     "duplicate=0.5"),
    (lambda: causal_broadcast_scenario(FifoBroadcast, 0, nodes=1), InvalidArgument, "nodes=1"),
])
def test_bad_input_is_named(call, error, words):
    """Bad arguments raise the course's errors, naming the argument and its value."""
    with pytest.raises(error, match=words):
        call()
