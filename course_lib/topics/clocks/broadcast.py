"""Broadcast with an order: as received, FIFO and total (a sequencer); causal is the exercise's.

A group of nodes *posts* messages to every member and *delivers* them to its
application. The network may delay, reorder and duplicate; the classes differ
only in when a received post is delivered, and hold it back until then:

- :class:`PlainBroadcast` delivers on arrival (no order at all);
- :class:`FifoBroadcast` delivers each sender's posts in the order it posted them;
- :class:`SequencerBroadcast` delivers in one order everywhere, the order a
  fixed sequencer numbered the posts in (total order, and not causal).

Causal delivery (a post only after everything that happened before it) is the
exercise's to build on :class:`BroadcastNode`, with vector timestamps.

Every node delivers its own post at once, except under total order, where it
waits for the sequencer's number like everyone else. The trace records custom
events ``post``, ``deliver`` and ``hold``; :func:`order_violations` reads them
and counts what each guarantee forbids, against the happens-before order of the
posts. :func:`broadcast_run` runs random group chats (optionally over a network
that duplicates and reorders), :func:`scripted_run` the :data:`SCHEDULES`, fixed
runs in which particular posts overtake others.

Example:
    >>> sim = chat_scenario(PlainBroadcast, seed=1)
    >>> deliveries(sim)["n3"]
    ['n2:1', 'n1:1']
    >>> sim = chat_scenario(FifoBroadcast, seed=1)
    >>> deliveries(sim)["n3"]
    ['n2:1', 'n1:1']
    >>> order_violations(sim)["causal"]
    1
"""

from __future__ import annotations

from typing import Any

from ...sim import Constant, Node, Simulation, Uniform
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_choice, check_int, check_number,
                               check_probability)

__all__ = ["BROADCASTS", "SCHEDULES", "BroadcastNode", "FifoBroadcast", "PlainBroadcast", "SequencerBroadcast",
           "arrivals", "broadcast_labels", "broadcast_run", "chat_scenario", "deliveries", "order_violations",
           "scripted_run"]

#: The simulation memo mapping each post message's id to its post id (see :func:`arrivals`).
_WIRES = "broadcast/wires"


class BroadcastNode(Node):
    """A group member that posts to every peer and delivers what it receives; subclasses order delivery.

    A *post* is a dict: ``pid`` (its id, ``"<sender>:<n>"`` for the sender's n-th
    post), ``text``, ``sender``, ``reply`` (whether it answers another post), and
    the fields :meth:`stamp` returned when it was posted. Every copy of a post
    that arrives, and the poster's own, goes to :meth:`accept`. What a subclass
    writes (:class:`FifoBroadcast` is a small example):

    - :meth:`stamp`: the fields a new post carries (called by :meth:`post`, after
      ``self.posted`` counts the new post and before the post is sent; the
      network copies them, the poster's own ``accept`` gets the very objects);
    - :meth:`accept`: deliver the post now with :meth:`deliver`, or keep it with
      :meth:`hold` until it can be;
    - :meth:`deliverable`: whether a post can be delivered now (:meth:`release`
      asks it about every held post);
    - :meth:`deliver`, extended to update the ordering's state, then
      ``super().deliver(post)``.

    :meth:`post`, :meth:`hold` and :meth:`release` are the machinery: keep them.

    Args:
        reply_chance: the probability that the node answers a post it delivers
            (a reply causally follows the post it answers; replies get no answer).
        reply_delay: how long after the delivery the answer is posted.
        reply_text: the answer's text (default ``"re <post id>"``).
    """

    ordering = "none"

    def __init__(self, reply_chance: float = 0.0, reply_delay: float = 0.1, reply_text: str | None = None) -> None:
        self.reply_chance = reply_chance
        self.reply_delay = reply_delay
        self.reply_text = reply_text
        self.posted = 0                      # how many posts this node made
        self.delivered: list[str] = []       # post ids, in delivery order
        self.held: dict[str, dict] = {}      # post id -> what arrived, not yet deliverable

    # -- the application's side
    def post(self, text: str, reply: bool = False) -> str:
        """Post ``text`` to the group; returns the post's id (``"<node>:<n>"``).

        ``reply`` marks an answer, which nobody answers in turn (so chats end).
        """
        self.posted += 1
        pid = f"{self.id}:{self.posted}"
        stamp = self.stamp()
        self.record("post", pid=pid, text=text)
        wires = self.sim.memo(_WIRES, dict)
        for peer in self.peers:
            wires[self.send(peer, "post", pid=pid, text=text, sender=self.id, reply=reply, **stamp).id] = pid
        self.accept(dict(pid=pid, text=text, sender=self.id, reply=reply, **stamp))
        return pid

    def deliver(self, post: dict) -> None:
        """Hand ``post`` to the application: record it and maybe answer it."""
        self.delivered.append(post["pid"])
        self.record("deliver", pid=post["pid"], text=post["text"], sender=post["sender"])
        if post["sender"] != self.id and not post.get("reply") and self.rng.random() < self.reply_chance:
            self.set_timer(self.reply_delay, self.post, self.reply_text or f"re {post['pid']}", True)

    # -- the ordering's side (subclasses)
    def stamp(self) -> dict:
        """Return the fields a new post carries for the ordering (none here)."""
        return {}

    def accept(self, post: dict) -> None:
        """A post arrived (or was posted here): deliver it now (subclasses may hold it back)."""
        self.deliver(post)

    def on_post(self, msg: Any) -> None:
        self.accept({k: v for k, v in msg.fields.items() if not k.startswith("_")})

    def hold(self, post: dict, waiting_for: str) -> None:
        """Keep ``post`` in ``self.held`` until it can be delivered; record why (``waiting_for``, for people).

        Holding a post already held replaces it (one entry per post id).
        """
        self.held[post["pid"]] = post
        self.record("hold", pid=post["pid"], text=post["text"], sender=post["sender"], waiting_for=waiting_for)

    def release(self) -> None:
        """Deliver held posts that have become deliverable, until none is (each leaves ``self.held``)."""
        progress = True
        while progress:
            progress = False
            for pid, post in list(self.held.items()):
                if pid in self.held and self.deliverable(post):
                    del self.held[pid]
                    self.deliver(post)
                    progress = True

    def deliverable(self, post: dict) -> bool:
        """Whether ``post`` can be delivered now (always, here)."""
        return True


class PlainBroadcast(BroadcastNode):
    """Deliver every post the moment it arrives: the order the network happened to choose."""


class FifoBroadcast(BroadcastNode):
    """Deliver each sender's posts in the order it posted them: a sequence number per sender."""

    ordering = "fifo"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.next_from: dict[Any, int] = {}  # sender -> the number of its next post to deliver

    def stamp(self) -> dict:
        return {"seq": self.posted}

    def accept(self, post: dict) -> None:
        if post["seq"] < self.next_from.get(post["sender"], 1) or post["pid"] in self.held:
            return  # a copy (the network duplicates) of a post delivered or held already
        if self.deliverable(post):
            self.deliver(post)
            self.release()
        else:
            self.hold(post, f"{post['sender']}:{self.next_from.get(post['sender'], 1)}")

    def deliverable(self, post: dict) -> bool:
        return post["seq"] == self.next_from.get(post["sender"], 1)

    def deliver(self, post: dict) -> None:
        self.next_from[post["sender"]] = post["seq"] + 1
        super().deliver(post)


class SequencerBroadcast(BroadcastNode):
    """Deliver in the order a fixed sequencer numbers the posts: the same order everywhere.

    Args:
        sequencer: the member that numbers posts, in the order they reach it.
        options: as for :class:`BroadcastNode`.
    """

    ordering = "total"

    def __init__(self, sequencer: Any = "n1", **options: Any) -> None:
        super().__init__(**options)
        self.sequencer = sequencer
        self.numbered = 0                  # the sequencer: the last number it gave
        self.order: dict[str, int] = {}    # post id -> its number
        self.next_number = 1               # the next number to deliver

    def accept(self, post: dict) -> None:
        if self.id == self.sequencer:
            self.numbered += 1
            for peer in self.peers:
                self.send(peer, "order", pid=post["pid"], number=self.numbered)
            self.order[post["pid"]] = self.numbered
        if self.deliverable(post):
            self.deliver(post)
        else:
            self.hold(post, "its number" if post["pid"] not in self.order else f"number {self.next_number}")
        self.release()

    def on_order(self, msg: Any) -> None:
        self.order[msg.pid] = msg.number
        self.release()

    def deliverable(self, post: dict) -> bool:
        return self.order.get(post["pid"]) == self.next_number

    def deliver(self, post: dict) -> None:
        self.next_number += 1
        super().deliver(post)


#: The orderings of this module, by name (causal delivery is the exercise's).
BROADCASTS = {"none": PlainBroadcast, "fifo": FifoBroadcast, "total": SequencerBroadcast}


def _check_class(cls: Any) -> type:
    if not (isinstance(cls, type) and issubclass(cls, BroadcastNode)):
        raise InvalidArgumentType(f"cls={cls!r} must be a BroadcastNode subclass, such as FifoBroadcast")
    return cls


def chat_scenario(cls: type, *, seed: int | str = 0, slow: float = 5.0, sequencer: Any = "n1") -> Simulation:
    """Run the classic: ``n1`` asks, ``n2`` answers, and the question reaches ``n3`` after the answer.

    Every link takes 1 time unit except ``n1 -> n3``, which takes ``slow``. ``n1``
    posts "Q" at t=1; ``n2`` answers "A" as soon as it delivers Q.

    Args:
        cls: a :class:`BroadcastNode` subclass.
        seed: the simulation's seed (the run has no randomness of its own).
        slow: the delay of the link from ``n1`` to ``n3``.
        sequencer: for :class:`SequencerBroadcast`, the member that numbers the posts.

    Returns:
        The finished simulation.

    Raises:
        InvalidArgument: ``slow`` is not a positive number (also a ValueError).
        InvalidArgumentType: ``cls`` is not a BroadcastNode subclass (also a TypeError).
    """
    _check_class(cls)
    check_number("slow", slow, low=0, low_open=True, what="a positive delay")
    sim = Simulation(seed=seed, latency=Constant(1.0))
    options = {"sequencer": sequencer} if issubclass(cls, SequencerBroadcast) else {}
    sim.add_node(cls, "n1", **options)
    sim.add_node(cls, "n2", reply_chance=1.0, reply_delay=0.2, reply_text="A", **options)
    sim.add_node(cls, "n3", **options)
    sim.network.set_link("n1", "n3", latency=Constant(float(slow)))
    sim.at(1.0, sim["n1"].post, "Q")
    sim.run(until=4.0 + 2 * slow)
    return sim


def broadcast_run(cls: type, *, seed: int | str, nodes: int = 4, posts: int = 12, reply_chance: float = 0.3,
                  latency: Any = Uniform(0.5, 4.0), duplicate: float = 0.0, reorder: float = 0.0,
                  until: float = 60.0) -> Simulation:
    """Run a random group chat: ``posts`` posts at random times, and answers to some of them.

    Args:
        cls: a :class:`BroadcastNode` subclass.
        seed: the simulation's seed.
        nodes: the group's size (members ``n1``, ``n2``, ...).
        posts: how many spontaneous posts, spread over the first half of ``until``.
        reply_chance: the probability that a member answers a post it delivers.
        latency: the network's delay model (varied delays reorder messages).
        duplicate: the probability that the network delivers a message twice (each copy
            with a delay of its own).
        reorder: the probability that a message is held back by up to 10 more time units.
        until: how long to run (by default long enough for every post and answer to arrive).

    Raises:
        InvalidArgument: a count or a probability is out of range (also a ValueError).
        InvalidArgumentType: ``cls`` is not a BroadcastNode subclass (also a TypeError).

    Example:
        >>> sim = broadcast_run(FifoBroadcast, seed=3, duplicate=0.3, reorder=0.3)
        >>> sorted(order_violations(sim).items())
        [('causal', 41), ('duplicate', 0), ('fifo', 0), ('total', 268), ('undelivered', 0)]
    """
    _check_class(cls)
    check_int("nodes", nodes, low=2)
    check_int("posts", posts, low=0)
    check_probability("reply_chance", reply_chance)
    check_probability("duplicate", duplicate)
    check_probability("reorder", reorder)
    check_number("until", until, low=0, low_open=True, what="a positive duration")
    sim = Simulation(seed=seed, latency=latency, duplicate=duplicate, reorder=reorder)
    ids = [f"n{k}" for k in range(1, nodes + 1)]
    for node_id in ids:
        sim.add_node(cls, node_id, reply_chance=reply_chance)
    rng = sim.rng_for("chat")
    for k in range(posts):
        sim.at(rng.uniform(0, until / 2), sim[rng.choice(ids)].post, f"m{k + 1}")
    sim.run(until=until)
    return sim


#: The scripted runs of :func:`scripted_run`, by name: fixed delays per link, no randomness.
SCHEDULES = {
    "answer_first": "n1 asks Q, n2 answers A, and n3 gets A before Q (chat_scenario)",
    "transitive": "n1 posts a; n2, having delivered it, posts b; n3, having delivered both, posts c; "
                  "n4 gets c first, then a, then b",
    "own_posts": "n3 posts q; n1 answers it with r; n3 gets r, which depends only on n3's own post, "
                 "and posts s; n2 gets r before q",
    "sender_overtakes": "n1 posts a, then b; b overtakes a on the way to n3",
    "reverse_dependencies": "n1 posts a; n2 answers with b; n4 answers b with c; n3 gets c, then b, then a",
    "duplicates": "n1 asks Q, n2 answers A, n3 gets A before Q; the network delivers every message twice",
}


def _at(sim: Simulation, time: float, node: str, text: str) -> None:
    sim.at(time, sim[node].post, text)


def scripted_run(cls: type, schedule: str, *, seed: int | str = 0) -> Simulation:
    """Run one of the :data:`SCHEDULES`: posts at fixed times over links with fixed delays.

    Every link takes 1 time unit unless the schedule slows it down, so the same
    posts overtake the same others in every run, whatever the seed: each
    schedule exposes a particular mistake of a causal broadcast deterministically.

    Args:
        cls: a :class:`BroadcastNode` subclass.
        schedule: a name in :data:`SCHEDULES`.
        seed: the simulation's seed (the nodes' own randomness; the schedule has none).

    Returns:
        The finished simulation.

    Raises:
        InvalidArgument: ``schedule`` is not a name in SCHEDULES (also a ValueError).
        InvalidArgumentType: ``cls`` is not a BroadcastNode subclass (also a TypeError).

    Example:
        >>> sim = scripted_run(FifoBroadcast, "transitive")
        >>> deliveries(sim)["n4"]
        ['n3:1', 'n1:1', 'n2:1']
    """
    _check_class(cls)
    check_choice("schedule", schedule, tuple(SCHEDULES))
    if schedule == "answer_first":
        return chat_scenario(cls, seed=seed)
    sim = Simulation(seed=seed, latency=Constant(1.0), duplicate=1.0 if schedule == "duplicates" else 0.0)
    options = {"sequencer": "n1"} if issubclass(cls, SequencerBroadcast) else {}
    answers = {"reply_chance": 1.0, "reply_delay": 0.2, "reply_text": "A"}
    for node_id in ("n1", "n2", "n3") if schedule == "duplicates" else ("n1", "n2", "n3", "n4"):
        sim.add_node(cls, node_id, **options, **(answers if schedule == "duplicates" and node_id == "n2" else {}))
    link = sim.network.set_link
    if schedule == "transitive":
        link("n1", "n4", latency=Constant(7.0))    # a reaches n4 at 8
        link("n2", "n4", latency=Constant(10.0))   # b at 13
        _at(sim, 1.0, "n1", "a")
        _at(sim, 3.0, "n2", "b")
        _at(sim, 5.0, "n3", "c")                    # c at 6: first
    elif schedule == "own_posts":
        link("n3", "n2", latency=Constant(6.0))    # q reaches n2 at 7, after r (at 4)
        _at(sim, 1.0, "n3", "q")
        _at(sim, 3.0, "n1", "r")                    # r reaches n3 at 4: ready at once
        _at(sim, 5.0, "n3", "s")
    elif schedule == "sender_overtakes":
        link("n1", "n3", latency=Constant(5.0))    # a reaches n3 at 6
        _at(sim, 1.0, "n1", "a")
        sim.at(1.5, lambda: link("n1", "n3", latency=Constant(1.0)))
        _at(sim, 2.0, "n1", "b")                    # b at 3: first
    elif schedule == "reverse_dependencies":
        link("n1", "n3", latency=Constant(9.0))    # a reaches n3 at 10
        link("n2", "n3", latency=Constant(5.0))    # b at 8
        _at(sim, 1.0, "n1", "a")
        _at(sim, 3.0, "n2", "b")
        _at(sim, 5.0, "n4", "c")                    # c at 6: first
    else:  # duplicates: the classic, every message twice
        link("n1", "n3", latency=Constant(5.0))
        _at(sim, 1.0, "n1", "Q")
        _at(sim, 8.0, "n3", "R")
    sim.run(until=20.0)
    return sim


def _custom(sim: Any, name: str) -> list:
    if not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation of broadcast nodes")
    return sim.trace.custom(name)


def deliveries(sim: Simulation) -> dict[Any, list[str]]:
    """Return, per node, the ids of the posts it delivered, in order."""
    events = _custom(sim, "deliver")
    out: dict[Any, list[str]] = {node: [] for node in sim.nodes}
    for e in events:
        out[e.node].append(e.info["pid"])
    return out


def _happened_before(sim: Simulation) -> dict[str, set[str]]:
    """Return, per post, the posts that happened before it: posted or delivered by its sender earlier."""
    seen: dict[Any, set[str]] = {node: set() for node in sim.nodes}
    before: dict[str, set[str]] = {}
    for e in sim.trace:
        if e.kind != "custom":
            continue
        if e.type == "post":
            before[e.info["pid"]] = set(seen[e.node])
            seen[e.node].add(e.info["pid"])
        elif e.type == "deliver":
            seen[e.node].add(e.info["pid"])
            seen[e.node] |= before.get(e.info["pid"], set())
    return before


def order_violations(sim: Simulation) -> dict[str, int]:
    """Count what each ordering forbids in a run: pairs delivered against FIFO, causal and total order.

    - ``fifo``: a node delivered two posts of one sender in the other order;
    - ``causal``: a node delivered a post before one that happened before it
      (FIFO violations count here too);
    - ``total``: two nodes delivered two posts in different orders;
    - ``duplicate``: deliveries of a post a node had delivered already;
    - ``undelivered``: posts some node never delivered (still held, or lost).

    A post p happened before a post q when q's sender had posted or delivered p
    (or a post p happened before) when it posted q. Orders are compared at each
    post's first delivery.
    """
    got = deliveries(sim)
    before = _happened_before(sim)
    posted = [e.info["pid"] for e in _custom(sim, "post")]
    counts = {"fifo": 0, "causal": 0, "total": 0, "duplicate": 0, "undelivered": 0}
    firsts = {}
    for node, order in got.items():
        first = list(dict.fromkeys(order))
        firsts[node] = first
        counts["duplicate"] += len(order) - len(first)
        at = {pid: k for k, pid in enumerate(first)}
        counts["undelivered"] += len(set(posted) - set(at))
        for q in first:
            for p in before.get(q, ()):
                if p in at and at[p] > at[q]:
                    counts["causal"] += 1
                    if p.split(":")[0] == q.split(":")[0]:
                        counts["fifo"] += 1
    nodes = list(firsts)
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            pos_a = {pid: k for k, pid in enumerate(firsts[a])}
            pos_b = {pid: k for k, pid in enumerate(firsts[b])}
            common = [pid for pid in firsts[a] if pid in pos_b]
            for x, p in enumerate(common):
                for q in common[x + 1:]:
                    if (pos_a[p] < pos_a[q]) != (pos_b[p] < pos_b[q]):
                        counts["total"] += 1
    return counts


def arrivals(sim: Simulation) -> dict[tuple[Any, str], int]:
    """Return where each post first reached each node: ``(node, post id) -> trace index``.

    A node's own post reaches it when it posts it (the index of the ``post``
    event); another's, when the first copy of its message arrives.
    """
    events = _custom(sim, "post")  # also checks sim
    first: dict[tuple[Any, str], int] = {}
    wires = sim.memo(_WIRES, dict)
    for index, e in enumerate(sim.trace):
        if e.kind == "custom" and e.type == "post":
            first.setdefault((e.node, e.info["pid"]), index)
        elif e.kind == "deliver" and e.type == "post" and e.id in wires:
            first.setdefault((e.node, wires[e.id]), index)
    if not events and first:
        raise InvalidArgument("sim has post messages but no post events: is it a run of broadcast nodes?")
    return first


def broadcast_labels(sim: Simulation) -> dict[int, str]:
    """Return short labels for a space-time diagram: ``post Q``, ``deliver A``, ``hold A``, by trace index.

    A node's delivery of its own post at the moment it posts is left out (it would sit on the post's label).
    """
    labels, posted_at = {}, {}
    for index, e in enumerate(sim.trace):
        if e.kind != "custom" or e.type not in ("post", "deliver", "hold"):
            continue
        if e.type == "post":
            posted_at[e.info["pid"]] = (e.node, e.time)
        elif e.type == "deliver" and posted_at.get(e.info["pid"]) == (e.node, e.time):
            continue
        labels[index] = f"{e.type} {e.info['text']}"
    if not labels:
        raise InvalidArgument("sim has no post, deliver or hold events: is it a run of broadcast nodes?")
    return labels
