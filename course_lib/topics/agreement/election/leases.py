"""Leases: a Redis / etcd-like server, the tutorial's lease elections on it, and storage that checks fencing tokens."""

from __future__ import annotations

import math
from typing import Any

from ....sim import Node
from ....sim.validation import check_positive, check_type


class LeaseStore(Node):
    """A key-value server with expiring keys, as Redis and etcd are used for leader election.

    Requests (answer with the reply type ``"result"`` and a ``value`` field):

    - ``set_nx(key, value, ttl)``: store ``value`` only if the key is absent
      (or expired); ``ttl=None`` never expires. Result True if stored.
    - ``expire(key, ttl)``: give an existing key a new time to live, whoever
      set it (Redis ``EXPIRE``). Result True if the key existed.
    - ``get(key)``: the value, or None.

    Expiry is measured on this server's clock.
    """

    def __init__(self) -> None:
        self.values: dict = {}
        self.expiry: dict = {}

    def _live(self, key: Any) -> bool:
        if key in self.values and self.expiry.get(key, math.inf) <= self.clock.now():
            del self.values[key]
            self.expiry.pop(key, None)
        return key in self.values

    def on_set_nx(self, msg: Any) -> None:
        stored = not self._live(msg.key)
        if stored:
            self.values[msg.key] = msg.value
            if msg.ttl is None:
                self.expiry.pop(msg.key, None)
            else:
                self.expiry[msg.key] = self.clock.now() + msg.ttl
        self.reply(msg, "result", value=stored)

    def on_expire(self, msg: Any) -> None:
        found = self._live(msg.key)
        if found:
            self.expiry[msg.key] = self.clock.now() + msg.ttl
        self.reply(msg, "result", value=found)

    def on_get(self, msg: Any) -> None:
        self.reply(msg, "result", value=self.values.get(msg.key) if self._live(msg.key) else None)


class RedisLeaderElection(Node):
    """The tutorial's ``RedisLeaderElection``, ported: ``SET NX EX 10`` to lead, ``EXPIRE`` to renew.

    As in the tutorial, a candidate that got the key believes it leads, and
    nothing ever makes it stop believing. Every ``tick`` a leader renews its
    lease and does one unit of work (a ``write`` to ``storage``); a follower
    tries to become leader.
    """

    def __init__(self, redis: Any, storage: Any, election_name: str = "main", ttl: float = 10.0,
                 tick: float = 1.0) -> None:
        check_type("election_name", election_name, str)
        check_positive("ttl", ttl)
        check_positive("tick", tick)
        self.redis = redis
        self.storage_node = storage
        self.key = f"election:{election_name}"
        self.ttl = ttl
        self.tick_interval = tick
        self.leading = False
        self.done = 0

    def on_start(self) -> None:
        self.every(self.tick_interval, self.tick)

    def tick(self) -> None:
        if self.leading:
            self.renew_lease()
            self.done += 1
            self.send(self.storage_node, "write", value=f"{self.id}#{self.done}")
        else:
            self.become_candidate()

    def become_candidate(self) -> None:
        self.request(self.redis, "set_nx", key=self.key, value=self.id, ttl=self.ttl,
                     timeout=3 * self.tick_interval, on_reply=self._got_key)

    def _got_key(self, reply: Any) -> None:
        if reply.value:
            self.leading = True
            self.record("leader", leader=self.id)

    def renew_lease(self) -> None:
        self.send(self.redis, "expire", key=self.key, ttl=self.ttl)

    def on_result(self, msg: Any) -> None:
        pass  # answers to renewals: the tutorial's code ignores them

    def on_write_ok(self, msg: Any) -> None:
        pass  # the storage's answer to a write: the tutorial's code ignores it too

    def is_leader(self) -> bool:
        return self.leading


class EtcdLeaderElection(Node):
    """The tutorial's etcd ``LeaderElection``, ported: create the election key if absent, no lease.

    ``put(..., prevExist=False)`` without a lease never expires, so when the
    leader dies the key stays, and nobody else can ever be elected.
    """

    def __init__(self, etcd: Any, election_name: str = "main", retry: float = 2.0) -> None:
        check_type("election_name", election_name, str)
        check_positive("retry", retry)
        self.etcd = etcd
        self.key = f"/elections/{election_name}"
        self.retry = retry
        self.leading = False

    def on_start(self) -> None:
        self.every(self.retry, self.elect)

    def elect(self) -> None:
        if not self.leading:
            self.request(self.etcd, "set_nx", key=self.key, value=self.id, ttl=None,
                         timeout=self.retry, on_reply=self._answer)

    def _answer(self, reply: Any) -> None:
        if reply.value:
            self.leading = True
            self.record("leader", leader=self.id)

    def is_leader(self) -> bool:
        return self.leading


# -- storage with fencing --------------------------------------------------------------------------

class FencedStorage(Node):
    """A storage service that takes ``write(value, token)`` requests and checks fencing tokens.

    With ``check_tokens=True`` it rejects a write whose token is lower than the
    highest it has accepted (and a write with no token), answering
    ``write_rejected(token, highest)``; otherwise it stores the value and
    answers ``write_ok(token)``. With ``check_tokens=False`` it accepts
    everything, as most storage does. Every accepted write is listed in
    :attr:`accepted_writes` (checked by
    :func:`~course_lib.checkers.fenced_writes_monotonic`).
    """

    durable = ("value", "highest", "accepted_writes", "rejected_writes")

    def __init__(self, check_tokens: bool = True) -> None:
        check_type("check_tokens", check_tokens, bool, what="True or False")
        self.check_tokens = check_tokens
        self.value = None
        self.highest = None
        self.accepted_writes: list[dict] = []
        self.rejected_writes: list[dict] = []

    def on_write(self, msg: Any) -> None:
        token = msg.get("token")
        write = {"time": self.sim.now, "writer": msg.src, "token": token, "value": msg.value}
        if self.check_tokens and (token is None or (self.highest is not None and token < self.highest)):
            self.rejected_writes.append(write)
            self.record("rejected", writer=msg.src, token=token)
            self.reply(msg, "write_rejected", token=token, highest=self.highest)
            return
        if token is not None:
            self.highest = token if self.highest is None else max(self.highest, token)
        self.value = msg.value
        self.accepted_writes.append(write)
        self.reply(msg, "write_ok", token=token)
