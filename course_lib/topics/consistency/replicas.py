"""The register replicas: a base class that speaks the client protocol, and the chapter's AP and CP designs.

- :class:`AsyncReplica` (**AP**): every replica answers from its own copy at
  once, pushes each write to its peers in the background and repairs misses
  by periodic anti-entropy; concurrent writes are reconciled by
  last-writer-wins on versions ``(counter, node id)``.
- :class:`PrimaryReplica` (**CP**): one fixed primary holds the only copy of
  the truth; the other replicas forward each client request to it and refuse
  when it does not answer within ``forward_timeout``.
- :class:`RegisterReplica`: the base class of both (and of the exercise's
  replicas): the replica list, the answering helpers and :meth:`~RegisterReplica.gather`.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ...sim import Message, Node
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_ids, check_int,
                               check_positive, check_type)

INITIAL_VERSION = (0, "")
"""The version of a key nobody has written yet: below every ``(counter, node id)`` version."""


class RegisterReplica(Node):
    """Base class of a register replica: knows the other replicas, answers clients in protocol words.

    Args:
        replicas: every replica's id, this one's included.

    Raises:
        ValueError: ``replicas`` does not contain this node's id, or names one twice.
    """

    def __init__(self, replicas: Sequence[Any]) -> None:
        self.replicas = check_ids("replicas", replicas)
        if self.id not in self.replicas:
            raise InvalidArgument(f"replicas={self.replicas!r} must contain this replica's id {self.id!r}")

    @property
    def others(self) -> list:
        """The other replicas' ids, in the order of ``replicas``."""
        return [r for r in self.replicas if r != self.id]

    def answer_read(self, request: Message, value: Any, **fields: Any) -> None:
        """Answer a client's ``read`` with ``read_ok(value)`` (and ``fields``, e.g. ``version``)."""
        self.reply(request, "read_ok", value=value, **fields)

    def answer_write(self, request: Message, **fields: Any) -> None:
        """Answer a client's ``write`` with ``write_ok()`` (and ``fields``, e.g. ``version``)."""
        self.reply(request, "write_ok", **fields)

    def refuse(self, request: Message, reason: str, *, definite: bool = True) -> None:
        """Answer a client's request with ``error(reason, definite)``.

        Args:
            request: the client's ``read`` or ``write``.
            reason: a short explanation for the client (and the trace).
            definite: True only if the operation certainly did not take effect
                (the client records ``fail``); False if it might have (``info``).
        """
        if not isinstance(definite, bool):
            raise InvalidArgumentType(f"definite={definite!r} must be True or False")
        self.reply(request, "error", reason=str(reason), definite=definite)

    def snapshot(self) -> dict:
        """Return this replica's copy of the register, ``{key: value}`` (override it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define snapshot()")

    def gather(self, msg_type: str, *, needed: int, timeout: float,
               on_done: Callable[[list], Any], on_timeout: Callable[[list], Any],
               resend: float | None = None, **fields: Any) -> None:
        """Ask every replica (this one included) and act once ``needed`` of them have answered.

        Sends the request ``msg_type(**fields)`` to every replica in
        ``replicas``; each answers with ``self.reply(msg, ...)``. As soon as
        replies from ``needed`` different replicas have arrived,
        ``on_done(replies)`` is called with them (in arrival order) and later
        replies are ignored. If fewer have arrived after ``timeout``,
        ``on_timeout(replies)`` is called with those that did. Exactly one of
        the two is called, once (none if this replica crashes meanwhile).
        Duplicated replies count once per replica. With ``resend``, the request
        is sent again every ``resend`` to the replicas that have not answered
        yet (for requests that are safe to repeat), so a lost message costs a
        little time instead of the whole answer.

        Args:
            msg_type: the request's message type (this class answers it in ``on_<msg_type>``).
            needed: how many replicas must answer, in ``[1, len(replicas)]``.
            timeout: how long to wait for them.
            on_done: called as ``on_done(replies)`` with ``needed`` replies.
            on_timeout: called as ``on_timeout(replies)`` with the fewer replies that came.
            resend: the interval between sends to replicas that have not answered (None: once).
            **fields: the request's fields.

        Raises:
            ValueError: ``needed``, ``timeout`` or ``resend`` is out of range.

        Example (inside a handler)::

            self.gather("query", key=msg.key, needed=2, timeout=1.0,
                        on_done=lambda replies: ..., on_timeout=lambda replies: ...)
        """
        check_type("msg_type", msg_type, str, what="a message type such as 'query'")
        needed = check_int("needed", needed, low=1, high=len(self.replicas))
        timeout = check_positive("timeout", timeout)
        if resend is not None:
            resend = check_positive("resend", resend)
        check_callable("on_done", on_done, "on_done(replies)")
        check_callable("on_timeout", on_timeout, "on_timeout(replies)")
        replies: dict[Any, Message] = {}
        requests: list = []
        timers: list = []
        deadline = self.sim.now + timeout

        def close() -> None:
            for item in requests + timers:
                item.cancel()

        def answered(reply: Message) -> None:
            if reply.src in replies or len(replies) >= needed:
                return
            replies[reply.src] = reply
            if len(replies) >= needed:
                close()
                on_done(list(replies.values()))

        def ask(replicas: list) -> None:
            left = deadline - self.sim.now
            if left <= 1e-9:  # the deadline is upon us: expired() decides
                return
            for replica in replicas:
                requests.append(self.request(replica, msg_type, timeout=left, on_reply=answered,
                                             **fields))

        def again() -> None:
            ask([r for r in self.replicas if r not in replies])

        def expired() -> None:
            close()
            on_timeout(list(replies.values()))

        ask(self.replicas)
        timers.append(self.set_timer(timeout, expired, name=f"gather:{msg_type}"))
        if resend is not None and resend < timeout:
            timers.append(self.every(resend, again, name=f"resend:{msg_type}"))


class AsyncReplica(RegisterReplica):
    """An AP register replica: answer locally, replicate in the background, last writer wins.

    A write gets version ``(counter, node id)`` with the counter one above any
    counter this replica has seen, is applied locally and pushed to every other
    replica. Every ``sync_interval`` each replica also sends its whole copy to
    every other (anti-entropy), which repairs pushes lost to loss, partitions
    and crashes. A replica keeps, per key, the value with the highest version,
    so all replicas agree once they have exchanged their copies.

    Its answers carry the version: ``read_ok(value, version)`` (the version of
    the value read, :data:`INITIAL_VERSION` for a key never written) and
    ``write_ok(version)``. A write may carry ``after``, a version its new
    version must exceed (a session's token, see :func:`session_scenario`).

    Args:
        replicas: every replica's id, this one's included.
        write_acks: how many other replicas must confirm a write before the
            client hears ``write_ok`` (0: at once, asynchronous replication).
            When too few confirm within ``ack_timeout`` the client gets
            ``error(definite=False)``: the write stays applied where it got to.
        ack_timeout: how long to wait for those confirmations.
        sync_interval: time between anti-entropy rounds.

    Raises:
        ValueError: a parameter is out of range (named in the message).
    """

    durable = ("store", "counter", "seen")

    def __init__(self, replicas: Sequence[Any], *, write_acks: int = 0, ack_timeout: float = 2.0,
                 sync_interval: float = 5.0) -> None:
        super().__init__(replicas)
        self.write_acks = check_int("write_acks", write_acks, low=0, high=len(self.replicas) - 1)
        self.ack_timeout = check_positive("ack_timeout", ack_timeout)
        self.sync_interval = check_positive("sync_interval", sync_interval)
        self.store: dict[Any, tuple[tuple, Any]] = {}  # key -> (version, value)
        self.counter = 0
        self.seen: dict[Any, tuple] = {}  # op id -> version it got (duplicates are ignored)
        self._waiting: dict[Any, list] = {}  # op id -> [acks, misses, client request]

    def on_start(self) -> None:
        self.every(self.sync_interval, self.anti_entropy)

    def snapshot(self) -> dict:
        """Return ``{key: value}`` of the local copy."""
        return {key: value for key, (_, value) in self.store.items()}

    def apply(self, key: Any, version: tuple, value: Any) -> bool:
        """Keep ``value`` for ``key`` if ``version`` is newer than the local one; return whether it was."""
        self.counter = max(self.counter, version[0])
        current = self.store.get(key)
        if current is None or version > current[0]:
            self.store[key] = (version, value)
            return True
        return False

    def on_read(self, msg: Message) -> None:
        version, value = self.store.get(msg.key, (INITIAL_VERSION, None))
        self.answer_read(msg, value, version=version)

    def on_write(self, msg: Message) -> None:
        if msg.op in self.seen:  # the network duplicated the request: the first copy is answered
            return
        after = msg.get("after")  # a session's token: the new version must be above it
        self.counter = max(self.counter, after[0] if after else 0) + 1
        version = (self.counter, self.id)
        self.seen[msg.op] = version
        self.apply(msg.key, version, msg.value)
        if self.write_acks == 0:
            self.answer_write(msg, version=version)
            for peer in self.others:
                self.send(peer, "replicate", key=msg.key, version=version, value=msg.value, ack=False)
            return
        self._waiting[msg.op] = [0, 0, msg]
        for peer in self.others:
            self.request(peer, "replicate", key=msg.key, version=version, value=msg.value, ack=True,
                         timeout=self.ack_timeout,
                         on_reply=lambda reply, op=msg.op: self._acked(op),
                         on_timeout=lambda request, op=msg.op: self._missed(op))

    def _acked(self, op: Any) -> None:
        waiting = self._waiting.get(op)
        if waiting is None:
            return
        waiting[0] += 1
        if waiting[0] >= self.write_acks:
            del self._waiting[op]
            self.answer_write(waiting[2], version=self.seen[op])

    def _missed(self, op: Any) -> None:
        waiting = self._waiting.get(op)
        if waiting is None:
            return
        waiting[1] += 1
        if waiting[1] > len(self.others) - self.write_acks:  # the needed acks cannot come any more
            del self._waiting[op]
            self.refuse(waiting[2], f"only {waiting[0]} of {self.write_acks} replicas confirmed",
                        definite=False)

    def on_replicate(self, msg: Message) -> None:
        self.apply(msg.key, msg.version, msg.value)
        if msg.ack:
            self.reply(msg, "replicate_ok")

    def anti_entropy(self) -> None:
        """Send the whole local copy to every other replica."""
        entries = tuple(self.store.items())
        for peer in self.others:
            self.send(peer, "sync", entries=entries)

    def on_sync(self, msg: Message) -> None:
        for key, (version, value) in msg.entries:
            self.apply(key, version, value)


class PrimaryReplica(RegisterReplica):
    """A CP register replica: a fixed primary holds the only copy; the others forward to it.

    The primary applies each operation when it receives it, at most once per
    operation id, and answers; its copy is durable (it survives crashes).
    Another replica forwards each client request to the primary and relays the
    answer, or refuses when the primary does not answer within
    ``forward_timeout``: a read with ``error(definite=True)`` (a read changes
    nothing), a write with ``error(definite=False)`` (the primary may have
    applied it and only the answer was lost).

    Args:
        replicas: every replica's id, this one's included.
        primary: the primary's id (default: the first replica).
        forward_timeout: how long a replica waits for the primary.

    Raises:
        ValueError: ``primary`` is not a replica, or ``forward_timeout`` is not positive.
    """

    durable = ("store", "applied")

    def __init__(self, replicas: Sequence[Any], *, primary: Any = None,
                 forward_timeout: float = 2.0) -> None:
        super().__init__(replicas)
        self.primary = self.replicas[0] if primary is None else primary
        if self.primary not in self.replicas:
            raise InvalidArgument(f"primary={primary!r} is not one of replicas={self.replicas!r}")
        self.forward_timeout = check_positive("forward_timeout", forward_timeout)
        self.store: dict[Any, Any] = {}
        self.applied: dict[Any, None] = {}  # op ids already applied (duplicates apply once)

    @property
    def is_primary(self) -> bool:
        """Whether this replica is the primary."""
        return self.id == self.primary

    def snapshot(self) -> dict:
        """Return the local copy (only the primary's is the register)."""
        return dict(self.store)

    def _apply_write(self, op: Any, key: Any, value: Any) -> None:
        if op not in self.applied:
            self.applied[op] = None
            self.store[key] = value

    def on_read(self, msg: Message) -> None:
        if self.is_primary:
            self.answer_read(msg, self.store.get(msg.key))
            return
        self.request(self.primary, "forward_read", key=msg.key, timeout=self.forward_timeout,
                     on_reply=lambda reply: self.answer_read(msg, reply.value),
                     on_timeout=lambda request: self.refuse(msg, "primary unreachable"))

    def on_write(self, msg: Message) -> None:
        if self.is_primary:
            self._apply_write(msg.op, msg.key, msg.value)
            self.answer_write(msg)
            return
        self.request(self.primary, "forward_write", op=msg.op, key=msg.key, value=msg.value,
                     timeout=self.forward_timeout,
                     on_reply=lambda reply: self.answer_write(msg),
                     on_timeout=lambda request: self.refuse(
                         msg, "primary unreachable; the write may have reached it", definite=False))

    def on_forward_read(self, msg: Message) -> None:
        self.reply(msg, "forward_read_ok", value=self.store.get(msg.key))

    def on_forward_write(self, msg: Message) -> None:
        self._apply_write(msg.op, msg.key, msg.value)
        self.reply(msg, "forward_write_ok")


MODES: dict[str, type] = {"AP": AsyncReplica, "CP": PrimaryReplica}
"""The chapter's switch: replica classes by CAP mode."""
