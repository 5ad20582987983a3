"""Tests of course_lib.sim.messages: immutable messages that nodes never share."""

from __future__ import annotations

import copy

import pytest

from course_lib.sim import HandlerError, Message, Node, Simulation


class Keeper(Node):
    """Keeps every ``put`` it receives; mutates the list field when told to."""

    def __init__(self, mutate: bool = False) -> None:
        self.got: list = []
        self.mutate = mutate

    def on_put(self, msg) -> None:
        self.got.append(msg)
        if self.mutate:
            msg.items.append("receiver")


def test_fields_read_as_attributes_subscripts_and_get():
    """A field reads the same as an attribute, by subscript and with get()."""
    m = Message("put", key="x", value=1)
    assert (m.type, m.key, m["value"]) == ("put", "x", 1)
    assert m.get("value") == 1
    assert m.get("missing") is None and m.get("missing", 7) == 7


def test_setattr_raises_for_fields_and_metadata():
    """Setting a field, the type, the route or a new attribute raises AttributeError."""
    m = Message("put", key="x")
    for name in ("key", "type", "src", "dst", "id", "brand_new"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(m, name, "changed")
    assert (m.type, m.key, m.src) == ("put", "x", None)


def test_delattr_raises():
    """Deleting a field or the type of a message raises AttributeError."""
    m = Message("put", key="x")
    for name in ("key", "type"):
        with pytest.raises(AttributeError):
            delattr(m, name)
    assert (m.type, m.key) == ("put", "x")


@pytest.mark.parametrize("name", ["type", "src", "dst", "id", "reply_to", "fields", "get"])
def test_field_names_that_shadow_message_attributes_are_rejected(name):
    """A field named like the message's own attributes (type, src, ...) is a ValueError naming it."""
    with pytest.raises(ValueError, match=repr(name)):
        Message("put", **{name: 1})


def test_setattr_error_names_the_attribute_and_the_type():
    """The immutability error says which attribute and which message type."""
    with pytest.raises(AttributeError, match=r"'key'.*'put'"):
        Message("put", key="x").key = "y"


def test_missing_field_attribute_error_names_field_and_lists_fields():
    """Reading a missing field names it; in a handler, the HandlerError also lists the fields there are.

    Message has no ``__getattr__`` (it would slow every attribute read): outside a handler
    the error is Python's own, whose traceback suggests the field meant ("Did you mean").
    """
    m = Message("put", value=1, key="x")
    with pytest.raises(AttributeError) as info:
        _ = m.vaule
    assert "'vaule'" in str(info.value)

    class Reader(Node):
        def on_start(self):
            if self.id == "a":
                self.send("b", "put", value=1, key="x")

        def on_put(self, msg):
            return msg.vaule

    sim = Simulation(seed=1)
    sim.add_nodes(Reader, ["a", "b"])
    with pytest.raises(HandlerError) as err:
        sim.run()
    text = str(err.value)
    assert "'vaule'" in text and "['key', 'value']" in text and "'put'" in text, text


def test_missing_field_subscript_error_names_field_and_lists_fields():
    """Reading a missing field by subscript raises KeyError naming it and listing the fields."""
    m = Message("put", key="x")
    with pytest.raises(KeyError) as info:
        _ = m["value"]
    assert "'value'" in str(info.value) and "['key']" in str(info.value)


@pytest.mark.parametrize("bad", ["", "two words", "1st", "a-b", "class", "lambda"])
def test_type_name_must_be_an_identifier_and_not_a_keyword(bad):
    """A type that cannot name an on_<type> handler is a ValueError naming msg_type."""
    with pytest.raises(ValueError, match=r"msg_type="):
        Message(bad)


@pytest.mark.parametrize("bad", [None, 3, b"put", ("put",)])
def test_type_name_must_be_a_str(bad):
    """A type that is not a str is a TypeError naming msg_type and its value."""
    with pytest.raises(TypeError, match=r"msg_type=" + repr(bad).replace("(", r"\(").replace(")", r"\)")):
        Message(bad)


def test_equality_compares_type_and_fields_not_route():
    """Two messages are equal when type and fields are, wherever they travel."""
    assert Message("put", key="x") == Message("put", key="x")
    assert Message("put", key="x") != Message("put", key="y")
    assert Message("put", key="x") != Message("get", key="x")
    assert hash(Message("put", key=[1])) == hash(Message("put", key=[2]))  # hashable even if mutable


@pytest.mark.parametrize("as_message", [False, True], ids=["type_and_fields", "message_object"])
def test_sender_mutating_a_list_after_send_does_not_reach_the_receiver(as_message):
    """The wire copy is taken at send time: later changes by the sender are invisible."""
    sim = Simulation(seed=1, latency=1.0)
    a, b = sim.add_nodes(Keeper, ["a", "b"])
    items = ["before"]

    def send_then_mutate():
        if as_message:
            a.send("b", Message("put", items=items))
        else:
            a.send("b", "put", items=items)
        items.append("after")

    sim.at(0.5, send_then_mutate)
    sim.run(until=5)
    assert [m.items for m in b.got] == [["before"]]


def test_receiver_mutating_a_list_field_does_not_reach_the_sender():
    """A receiver that mutates its message changes neither the sender's object nor the returned wire copy."""
    sim = Simulation(seed=1, latency=1.0)
    a = sim.add_node(Keeper, "a")
    sim.add_node(Keeper, "b", mutate=True)
    items = ["sender"]
    sent = []
    sim.at(0.5, lambda: sent.append(a.send("b", "put", items=items)))
    sim.run(until=5)
    assert sim["b"].got[0].items == ["sender", "receiver"]
    assert items == ["sender"]
    assert sent[0].items == ["sender"]


def test_each_duplicate_delivery_gets_its_own_copy():
    """When the network duplicates a message, each delivery is a separate copy."""
    sim = Simulation(seed=1, latency=1.0, duplicate=1.0)
    a = sim.add_node(Keeper, "a")
    b = sim.add_node(Keeper, "b", mutate=True)
    sim.at(0.5, a.send, "b", Message("put", items=["sender"]))
    sim.run(until=5)
    assert len(b.got) == 2
    assert b.got[0] is not b.got[1]
    # each delivery saw the sender's value, not the first delivery's mutation
    assert [m.items for m in b.got] == [["sender", "receiver"], ["sender", "receiver"]]


def test_a_message_sent_twice_is_copied_for_each_send():
    """Sending the same Message object to two nodes gives two independent wire copies."""
    sim = Simulation(seed=1, latency=1.0)
    a = sim.add_node(Keeper, "a")
    b = sim.add_node(Keeper, "b", mutate=True)
    c = sim.add_node(Keeper, "c")
    msg = Message("put", items=["x"])
    sim.at(0.5, lambda: [a.send("b", msg), a.send("c", msg)])
    sim.run(until=5)
    assert b.got[0].items == ["x", "receiver"]
    assert c.got[0].items == ["x"]
    assert msg.items == ["x"]


def test_sent_message_is_stamped_without_changing_the_original():
    """send() returns the wire copy with src, dst and id; the original keeps no route."""
    sim = Simulation(seed=1)
    a = sim.add_node(Keeper, "a")
    sim.add_node(Keeper, "b")
    original = Message("put", key="x")
    out = []
    sim.at(0, lambda: out.append(a.send("b", original)))
    sim.run(until=2)
    assert (out[0].src, out[0].dst, out[0].id) == ("a", "b", 1)
    assert (original.src, original.dst, original.id) == (None, None, None)


def test_fields_both_in_message_and_as_keywords_is_an_error():
    """Passing a Message and extra keyword fields is a TypeError naming the fields."""
    sim = Simulation(seed=1)
    a = sim.add_node(Keeper, "a")
    sim.add_node(Keeper, "b")
    sim.at(0, lambda: a.send("b", Message("put"), key="x"))
    with pytest.raises(TypeError, match=r"\['key'\]"):
        sim.run(until=1)


def test_a_message_can_carry_messages_and_be_deep_copied():
    """A message whose field holds other messages (a batch, a forwarded request) can be sent and copied."""
    inner = Message("put", key="x", items=[1])
    outer = Message("batch", entries=[inner])
    clone = copy.deepcopy(outer)
    assert clone == outer and clone.entries[0] is not inner and clone.entries[0].items == [1]

    class Forwarder(Node):
        def __init__(self) -> None:
            self.got = []

        def on_batch(self, msg) -> None:
            self.got.append(msg)
            msg.entries[0].items.append("receiver")

    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Forwarder, ["a", "b"])
    sim.at(0, a.send, "b", outer)
    sim.run(until=2)
    assert b.got[0].entries[0].key == "x"
    assert inner.items == [1]


def test_durable_state_may_hold_messages():
    """A durable attribute holding received messages survives a crash (it is deep copied)."""

    class Logger(Node):
        durable = ("log",)

        def __init__(self) -> None:
            self.log = []

        def on_put(self, msg) -> None:
            self.log.append(msg)

    sim = Simulation(seed=1)
    a, b = sim.add_nodes(Logger, ["a", "b"])
    sim.at(0, lambda: a.send("b", "put", key="x", items=[1]))
    sim.at(2, sim.crash, "b")
    sim.at(3, sim.restart, "b")
    sim.run(until=4)
    assert [m.key for m in b.log] == ["x"]


def test_repr_shows_type_route_and_fields():
    """repr() shows the type, the route once sent, and the fields."""
    assert repr(Message("put", key="x")) == "Message('put', key='x')"
    assert repr(Message("ping")) == "Message('ping')"


def test_immutable_fields_are_delivered_intact():
    """Fields of immutable values (str, frozenset, nested tuples) reach the receiver unchanged."""
    sim = Simulation(seed=1)
    a = sim.add_node(Keeper, "a")
    b = sim.add_node(Keeper, "b")
    sim.at(0, lambda: a.send("b", "put", key="x", tags=frozenset({1}), pair=(1, "y")))
    sim.run(until=2)
    assert (b.got[0].key, b.got[0].tags, b.got[0].pair) == ("x", frozenset({1}), (1, "y"))
