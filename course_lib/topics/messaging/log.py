"""A partitioned log with consumer groups, committed offsets and rebalances (Kafka in miniature).

The :class:`Broker` keeps, for each topic, ``partitions`` append-only logs. A producer sends
``produce`` (``topic``, ``key``, ``value``, ``eid``: the event's id); the record goes to partition
:func:`partition_of` ``(key)``, so records of one key stay in order and records of different keys
do not. Consumers of one **group** share a topic's partitions: each partition belongs to one
member at a time. The broker hands out the partitions again (a **rebalance**, a new
**generation**) when a member joins, leaves, or misses heartbeats for ``session_timeout``; a
commit from an older generation is refused, as Kafka's ``CommitFailedException``.

:class:`Consumer` is the client side: it joins, heartbeats, fetches its partitions from their
positions and hands records one at a time to :meth:`Consumer.handle`, a subclass's processing.
The subclass calls ``self.done(record)`` when the record is processed; ``done`` commits the next
offset (``commit=True``, the default) and moves on. Where the commit happens relative to the
processing is the delivery guarantee: commit first and a crash loses the record (at most once);
commit after and a crash between the two processes it twice (at least once).

Example:
    >>> from course_lib.sim import Simulation
    >>> sim = Simulation(seed=1)
    >>> broker = sim.add_node(Broker, "broker", {"orders": 2})
    >>> broker.append("orders", key="o1", value=("created",), eid="e1").offset
    0
    >>> [len(broker.records("orders", p)) for p in range(2)]
    [0, 1]
"""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple

from ...sim import Node
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_positive,
                               check_type)

__all__ = ["Broker", "Consumer", "Record", "partition_of"]


def partition_of(key: Any, partitions: int) -> int:
    """The partition of ``key`` among ``partitions``: a stable hash (CRC-32 of its repr), not Python's."""
    check_int("partitions", partitions, low=1)
    return zlib.crc32(repr(key).encode()) % partitions


class Record(NamedTuple):
    """One record of a partition: where it is, its key, its event id and its value."""

    topic: str
    partition: int
    offset: int
    key: Any
    eid: Any
    value: Any


# Messages holding records are deep-copied, and copying caches this on the class the first time:
# set at import, a run never changes the class (the grading guard now ignores the cache anyway).
Record.__slotnames__ = []


class Broker(Node):
    """The log and the group coordinator, in one node (the log is durable).

    Args:
        topics: ``{topic: number of partitions}``.
        session_timeout: a member silent this long is removed from its group (a rebalance).

    Attributes:
        rebalances: ``(time, group, generation, {member: partitions})`` for every rebalance.
        commits: ``(time, group, member, partition, offset, accepted)`` for every commit.
    """

    durable = ("logs", "offsets", "rebalances", "commits", "produced")

    def __init__(self, topics: dict, session_timeout: float = 6.0) -> None:
        if not isinstance(topics, dict) or not topics:
            raise InvalidArgumentType(f"topics={topics!r} must be a non-empty dict {{topic: partitions}}")
        for name, count in topics.items():
            check_type("topic name", name, str)
            check_int(f"topics[{name!r}]", count, low=1)
        self.session_timeout = check_positive("session_timeout", session_timeout)
        self.topics = dict(topics)
        self.logs: dict[tuple[str, int], list[Record]] = {
            (t, p): [] for t, n in sorted(topics.items()) for p in range(n)}
        self.offsets: dict[tuple[str, str, int], int] = {}
        self.rebalances: list[tuple] = []
        self.commits: list[tuple] = []
        self.produced: list[tuple[float, Any, Any]] = []   # (time, producer, eid)
        self.groups: dict[str, dict] = {}                  # volatile: members rejoin after a crash

    def on_start(self) -> None:
        self.every(self.session_timeout / 3, self._expire, name="session_check")

    # -- the log -----------------------------------------------------------------------------
    def _topic(self, topic: Any) -> str:
        if topic not in self.topics:
            raise InvalidArgument(f"topic={topic!r} is not a topic of this broker; topics are "
                                  f"{sorted(self.topics)}")
        return topic

    def append(self, topic: str, key: Any, value: Any, eid: Any, producer: Any = None) -> Record:
        """Append a record to ``topic``'s partition for ``key``; returns the record."""
        partition = partition_of(key, self.topics[self._topic(topic)])
        log = self.logs[(topic, partition)]
        record = Record(topic, partition, len(log), key, eid, value)
        log.append(record)
        self.produced.append((self.sim.now, producer, eid))
        return record

    def records(self, topic: str, partition: int) -> list[Record]:
        """The records of one partition, in offset order (a copy)."""
        self._topic(topic)
        check_int("partition", partition, low=0, high=self.topics[topic] - 1)
        return list(self.logs[(topic, partition)])

    def all_records(self, topic: str) -> list[Record]:
        """Every record of ``topic``, partition by partition."""
        self._topic(topic)
        return [r for p in range(self.topics[topic]) for r in self.logs[(topic, p)]]

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """The committed offset (the next record to read) of each partition for ``group``."""
        self._topic(topic)
        return {p: self.offsets.get((group, topic, p), 0) for p in range(self.topics[topic])}

    def lag(self, group: str, topic: str) -> int:
        """Records of ``topic`` not yet committed by ``group``, over all partitions."""
        committed = self.committed(group, topic)
        return sum(len(self.logs[(topic, p)]) - o for p, o in committed.items())

    def on_produce(self, msg: Any) -> None:
        record = self.append(msg.topic, msg.key, msg.value, msg.eid, producer=msg.src)
        if msg.get("ack", False):
            self.reply(msg, "produced", eid=msg.eid, partition=record.partition, offset=record.offset)

    # -- groups --------------------------------------------------------------------------------
    def _group(self, name: str, topic: str) -> dict:
        group = self.groups.setdefault(name, {"topic": topic, "members": {}, "generation": 0,
                                              "assignment": {}})
        return group

    def on_join(self, msg: Any) -> None:
        group = self._group(msg.group, self._topic(msg.topic))
        fresh = msg.src not in group["members"]
        group["members"][msg.src] = self.sim.now
        if fresh:
            self._rebalance(msg.group)
        else:   # a member that restarted asks again: tell it where it stands
            self._send_assignment(msg.group, msg.src)

    def on_leave(self, msg: Any) -> None:
        group = self.groups.get(msg.group)
        if group and group["members"].pop(msg.src, None) is not None:
            self._rebalance(msg.group)

    def on_heartbeat(self, msg: Any) -> None:
        group = self.groups.get(msg.group)
        if group is None or msg.src not in group["members"]:
            self.send(msg.src, "rejoin", group=msg.group)   # forgotten: join again
            return
        group["members"][msg.src] = self.sim.now
        if msg.get("generation") != group["generation"]:   # its assignment was lost: send it again
            self._send_assignment(msg.group, msg.src)

    def _expire(self) -> None:
        for name in sorted(self.groups):
            group = self.groups[name]
            dead = [m for m, seen in group["members"].items()
                    if self.sim.now - seen > self.session_timeout]
            for member in dead:
                del group["members"][member]
            if dead:
                self._rebalance(name)

    def _rebalance(self, name: str) -> None:
        group = self.groups[name]
        members = sorted(group["members"], key=repr)
        parts = self.topics[group["topic"]]
        group["generation"] += 1
        group["assignment"] = {m: tuple(p for p in range(parts) if p % len(members) == i)
                               for i, m in enumerate(members)}
        self.rebalances.append((self.sim.now, name, group["generation"], dict(group["assignment"])))
        for member in members:
            self._send_assignment(name, member)

    def _send_assignment(self, name: str, member: Any) -> None:
        group = self.groups[name]
        partitions = group["assignment"].get(member, ())
        offsets = tuple((p, self.offsets.get((name, group["topic"], p), 0)) for p in partitions)
        self.send(member, "assign", group=name, topic=group["topic"], generation=group["generation"],
                  partitions=partitions, offsets=offsets)

    def on_fetch(self, msg: Any) -> None:
        log = self.logs[(self._topic(msg.topic), msg.partition)]
        batch = tuple(log[msg.offset:msg.offset + msg.max_records])
        self.reply(msg, "records", topic=msg.topic, partition=msg.partition, records=batch,
                   generation=msg.generation)

    def on_commit(self, msg: Any) -> None:
        group = self.groups.get(msg.group)
        ok = (group is not None and group["generation"] == msg.generation
              and msg.partition in group["assignment"].get(msg.src, ()))
        if ok:
            self.offsets[(msg.group, msg.topic, msg.partition)] = msg.offset
        self.commits.append((self.sim.now, msg.group, msg.src, msg.partition, msg.offset, ok))
        self.reply(msg, "commit_ok" if ok else "commit_failed", partition=msg.partition,
                   offset=msg.offset)


class Consumer(Node):
    """A member of a consumer group: joins, heartbeats, fetches and hands records to :meth:`handle`.

    Subclasses override :meth:`handle` (and may override :meth:`on_assigned`); everything else is
    the client library. Records of one partition are handled one at a time, in offset order: the
    next is handed over only after ``self.done(record)``.

    Args:
        broker: the broker's node id.
        group: the consumer group.
        topic: the topic to consume.
        poll_interval: how often an idle partition is fetched again.
        max_records: records per fetch.
    """

    hooks = ("on_start", "on_assigned")

    def __init__(self, broker: Any, group: str = "group", topic: str = "orders",
                 poll_interval: float = 1.0, max_records: int = 5) -> None:
        self.broker = broker
        self.group = check_type("group", group, str)
        self.topic = check_type("topic", topic, str)
        self.poll_interval = check_positive("poll_interval", poll_interval)
        self.max_records = check_int("max_records", max_records, low=1)
        self.generation = 0
        self.positions: dict[int, int] = {}     # partition -> next offset to hand over
        self.queues: dict[int, list] = {}       # partition -> fetched records not yet handed over
        self.busy: dict[int, Record | None] = {}
        self.fetching: set[int] = set()

    def on_start(self) -> None:
        self.send(self.broker, "join", group=self.group, topic=self.topic)
        self.every(1.0, self._heartbeat, name="heartbeat")
        self.every(self.poll_interval, self._poll, name="poll")

    # -- what a subclass writes ------------------------------------------------------------------
    def handle(self, record: Record) -> None:
        """Process one record, then call ``self.done(record)``; the default only calls done."""
        self.done(record)

    def on_assigned(self) -> None:
        """Called after every rebalance, once ``self.partitions`` and ``self.positions`` are set."""

    # -- the library -----------------------------------------------------------------------------
    @property
    def partitions(self) -> tuple[int, ...]:
        """The partitions this member owns in the current generation."""
        return tuple(sorted(self.positions))

    def owns(self, record: Record) -> bool:
        """Whether ``record``'s partition still belongs to this member, as it did when handed over."""
        return self.busy.get(record.partition) == record

    def done(self, record: Record, *, commit: bool = True) -> None:
        """Finish ``record``: commit offset ``record.offset + 1`` (if ``commit``), then hand over the next."""
        if not isinstance(record, Record):
            raise InvalidArgumentType(f"record={record!r} must be a Record handed to handle()")
        if not self.owns(record):
            return   # the partition moved to another member meanwhile: its work is not ours
        self.busy[record.partition] = None
        if commit:
            self.commit(record.partition, record.offset + 1)
        self._next(record.partition)

    def commit(self, partition: int, offset: int) -> None:
        """Commit ``offset`` (the next record to read) of ``partition`` for this group."""
        self.send(self.broker, "commit", group=self.group, topic=self.topic, partition=partition,
                  offset=offset, generation=self.generation)

    def seek(self, partition: int, offset: int) -> None:
        """Read ``partition`` from ``offset`` on (call it from :meth:`on_assigned`)."""
        if partition not in self.positions:
            raise InvalidArgument(f"partition={partition!r} is not assigned to {self.id!r}; it owns "
                                  f"{self.partitions}")
        check_int("offset", offset, low=0)
        self.positions[partition] = offset
        self.queues[partition] = []

    def on_assign(self, msg: Any) -> None:
        if msg.generation < self.generation:
            return
        self.generation = msg.generation
        self.positions = dict(msg.offsets)
        self.queues = {p: [] for p in self.positions}
        self.busy = {p: None for p in self.positions}
        self.fetching = set()
        self.on_assigned()
        self._poll()

    def on_rejoin(self, msg: Any) -> None:
        self.send(self.broker, "join", group=self.group, topic=self.topic)

    def _records(self, msg: Any) -> None:
        self.fetching.discard(msg.partition)
        if msg.generation != self.generation or msg.partition not in self.positions:
            return
        fresh = [r for r in msg.records if r.offset >= self.positions[msg.partition]]
        self.queues[msg.partition].extend(fresh)
        if fresh:
            self.positions[msg.partition] = fresh[-1].offset + 1
        self._next(msg.partition)

    def on_commit_ok(self, msg: Any) -> None:
        pass

    def on_commit_failed(self, msg: Any) -> None:
        self.record("commit_failed", partition=msg.partition, offset=msg.offset)

    def _heartbeat(self) -> None:
        self.send(self.broker, "heartbeat", group=self.group, generation=self.generation)

    def _poll(self) -> None:
        for p in self.partitions:
            if p not in self.fetching and not self.queues[p] and self.busy[p] is None:
                self.fetching.add(p)
                self.request(self.broker, "fetch", topic=self.topic, partition=p,
                             offset=self.positions[p], max_records=self.max_records,
                             generation=self.generation, timeout=2 * self.poll_interval + 2,
                             on_reply=self._records,
                             on_timeout=lambda m: self.fetching.discard(m.partition))

    def _next(self, partition: int) -> None:
        if self.busy.get(partition) is None and self.queues.get(partition):
            record = self.queues[partition].pop(0)
            self.busy[partition] = record
            self.handle(record)
