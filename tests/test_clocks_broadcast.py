"""Tests of course_lib.topics.clocks.broadcast: FIFO, causal and total-order broadcast."""

import pytest

from course_lib.sim import InvalidArgument, InvalidArgumentType
from course_lib.topics.clocks import (BROADCASTS, CausalBroadcast, FifoBroadcast, PlainBroadcast,
                                      SequencerBroadcast, broadcast_labels, broadcast_run, chat_scenario,
                                      deliveries, order_violations)

SEEDS = range(12)


def broken_runs(cls, rule):
    return sum(order_violations(broadcast_run(cls, seed=f"t/{k}"))[rule] > 0 for k in SEEDS)


def test_the_answer_overtakes_the_question_without_an_order():
    """Delivering on arrival, n3 sees n2's answer before n1's question."""
    assert deliveries(chat_scenario(PlainBroadcast, seed=0))["n3"] == ["n2:1", "n1:1"]


def test_causal_broadcast_holds_the_answer_until_the_question_arrives():
    """Causal delivery makes n3 hold the answer back, then deliver question and answer in order."""
    sim = chat_scenario(CausalBroadcast, seed=0)
    assert deliveries(sim)["n3"] == ["n1:1", "n2:1"]
    assert [(e.node, e.info["text"], e.info["waiting_for"]) for e in sim.trace.custom("hold")] == [
        ("n3", "A", "n1:1")]


@pytest.mark.parametrize("name, rule", [("fifo", "fifo"), ("causal", "causal"), ("causal", "fifo"),
                                        ("total", "total")])
def test_each_broadcast_keeps_its_promise(name, rule):
    """Over random group chats, no node ever breaks the order its broadcast promises."""
    assert broken_runs(BROADCASTS[name], rule) == 0


@pytest.mark.parametrize("name, rule", [("none", "fifo"), ("fifo", "causal"), ("causal", "total"),
                                        ("total", "fifo")])
def test_each_broadcast_breaks_what_it_does_not_promise(name, rule):
    """The chats are hard enough to break every order a broadcast does not promise."""
    assert broken_runs(BROADCASTS[name], rule) > 0


def test_every_post_is_delivered_everywhere():
    """No ordering holds a post back for ever on a reliable network."""
    for cls in BROADCASTS.values():
        assert order_violations(broadcast_run(cls, seed="t/all"))["undelivered"] == 0


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


@pytest.mark.parametrize("call, error, words", [
    (lambda: chat_scenario(object, seed=0), InvalidArgumentType, "BroadcastNode subclass"),
    (lambda: chat_scenario(CausalBroadcast, seed=0, slow=0), InvalidArgument, "slow=0"),
    (lambda: broadcast_run(CausalBroadcast, seed=0, nodes=1), InvalidArgument, "nodes=1"),
    (lambda: broadcast_run(CausalBroadcast, seed=0, reply_chance=2), InvalidArgument, "reply_chance=2"),
    (lambda: deliveries("sim"), InvalidArgumentType, "sim='sim'"),
])
def test_bad_input_is_named(call, error, words):
    """Bad arguments raise the course's errors, naming the argument and its value."""
    with pytest.raises(error, match=words):
        call()
