"""The tutorial's Redis ``DistributedCache`` (cache-aside ``fetch``), ported, and kept fresh by events.

The world (:func:`run_user_cache`): an ``app`` serves ``get_user`` through the cache: ``fetch``
asks ``redis`` (:class:`Redis`, keys with a TTL) and, on a miss, reads the ``db``
(:class:`~.database.Database`, table ``users``) and stores the answer for ``ttl``. Meanwhile
``writer`` renames users in the database.

Two faults of the original show: ``return value if value`` treats a cached "no such user" (nil) as
a miss, so lookups of users that do not exist go to the database every time; and a rename is
invisible through the cache until the entry expires. With ``negative=True`` the app caches a
"not found" marker; with ``invalidate=True`` every rename also goes on a ``users`` topic (as
an outbox relay or change data capture would put it there) and an ``invalidator`` deletes the
renamed user's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import InvalidArgumentType, check_int, check_number, check_probability
from .database import Database
from .log import Broker, Consumer

__all__ = ["Redis", "CachedUserApp", "Invalidator", "UserCacheRun", "run_user_cache", "MISSING"]

#: What the app caches for "no such user" when it caches negative answers.
MISSING = "<missing>"


class Redis(Node):
    """A cache server: ``get``, ``setex`` (value with a TTL) and ``del``."""

    def __init__(self) -> None:
        self.data: dict[Any, tuple[Any, float]] = {}

    def on_get(self, msg: Any) -> None:
        value, expires = self.data.get(msg.key, (None, 0.0))
        self.reply(msg, "value", key=msg.key, value=value if expires > self.sim.now else None)

    def on_setex(self, msg: Any) -> None:
        self.data[msg.key] = (msg.value, self.sim.now + msg.ttl)

    def on_delete(self, msg: Any) -> None:
        self.data.pop(msg.key, None)


class CachedUserApp(Node):
    """Serves ``get_user`` with the tutorial's ``cache.fetch("user:#{id}") { User.find(id) }``."""

    def __init__(self, ttl: float = 3600.0, negative: bool = False) -> None:
        self.ttl = ttl
        self.negative = negative
        self.db_reads = 0

    def on_get_user(self, msg: Any) -> None:
        key = f"user:{msg.user}"
        self.request("redis", "get", key=key, timeout=10, on_reply=lambda r: self._cached(msg, key, r.value))

    def _cached(self, msg: Any, key: str, value: Any) -> None:
        if value:                                  # return value if value
            return self.reply(msg, "user", user=msg.user, name=None if value == MISSING else value)
        self.db_reads += 1                         # value = block.call (User.find)
        self.request("db", "read", table="users", timeout=10,
                     on_reply=lambda r: self._found(msg, key, dict(r.rows).get(msg.user)))

    def _found(self, msg: Any, key: str, name: Any) -> None:
        if name is not None or self.negative:      # set(key, value, ttl: ttl)
            self.send("redis", "setex", key=key, value=MISSING if name is None else name, ttl=self.ttl)
        self.reply(msg, "user", user=msg.user, name=name)


class Invalidator(Consumer):
    """Deletes the cache entry of every user named by a ``user_renamed`` event on the log."""

    def handle(self, record: Any) -> None:
        self.send("redis", "delete", key=f"user:{record.key}")
        self.done(record)


class _Users(Node):
    """Looks users up (some of which do not exist) and renames some; checks every answer."""

    def __init__(self, lookups: int, users: int, missing: float, renames: int, invalidate: bool) -> None:
        self.lookups, self.users, self.missing = lookups, users, missing
        self.renames, self.invalidate = renames, invalidate
        self.answers: list[tuple[float, Any, Any, Any]] = []   # (time, user, name seen, name current)
        self.current = {u: f"name{u}.0" for u in range(users)}

    def on_start(self) -> None:
        for i in range(self.lookups):
            self.set_timer(0.5 * i, self._lookup)
        for i in range(self.renames):
            self.set_timer(10.0 + 10.0 * i, self._rename, i + 1)

    def _lookup(self) -> None:
        user = self.users + self.rng.randrange(5) if self.rng.random() < self.missing \
            else self.rng.randrange(self.users)
        self.request("app", "get_user", user=user, timeout=20,
                     on_reply=lambda r: self.answers.append((self.sim.now, user, r.name,
                                                             self.current.get(user))))

    def _rename(self, n: int) -> None:
        user = self.rng.randrange(self.users)
        self.current[user] = f"name{user}.{n}"
        self.send("db", "txn", ops=(("put", "users", user, self.current[user]),), reply=False)
        if self.invalidate:
            self.send("broker", "produce", topic="users", key=user, value=("user_renamed",),
                      eid=f"rename{n}")


@dataclass
class UserCacheRun:
    """Database reads and stale answers of a run."""

    sim: Simulation
    lookups: int
    db_reads: int
    stale: int
    missing_lookups: int


def run_user_cache(*, seed: int = 0, lookups: int = 400, users: int = 20, missing: float = 0.2,
                   renames: int = 10, ttl: float = 3600.0, negative: bool = False,
                   invalidate: bool = False) -> UserCacheRun:
    """Look users up through the cache while some are renamed; count database reads and stale answers.

    An answer is stale when it shows a name the user no longer had when the answer arrived. The
    missing users are five ids that do not exist, looked up again and again.
    """
    check_int("lookups", lookups, low=1)
    check_int("users", users, low=1)
    check_probability("missing", missing)
    check_int("renames", renames, low=0)
    check_number("ttl", ttl, low=0, low_open=True)
    for name, flag in (("negative", negative), ("invalidate", invalidate)):
        if not isinstance(flag, bool):
            raise InvalidArgumentType(f"{name}={flag!r} must be True or False")
    sim = Simulation(seed=seed)
    db = sim.add_node(Database, "db")
    db.apply(tuple(("put", "users", u, f"name{u}.0") for u in range(users)))
    sim.add_node(Redis, "redis")
    app = sim.add_node(CachedUserApp, "app", ttl, negative)
    sim.add_node(Broker, "broker", {"users": 1})
    if invalidate:
        sim.add_node(Invalidator, "invalidator", "broker", "invalidators", "users")
    client = sim.add_node(_Users, "client", lookups, users, missing, renames, invalidate)
    sim.run(until=0.5 * lookups + 30)
    stale = sum(1 for _, user, seen, current in client.answers if user < users and seen != current)
    missing_lookups = sum(1 for _, user, _, _ in client.answers if user >= users)
    return UserCacheRun(sim, len(client.answers), app.db_reads, stale, missing_lookups)
