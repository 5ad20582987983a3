"""Caches in front of a simulated database: cache-aside, write-through, write-behind, refresh-ahead.

The world (:func:`run_cache`): a :class:`Database` node serves reads and writes with a few
workers and a queue (so a burst of queries makes every query slow); a cache node of one of the
pattern classes sits in front of it; a :class:`CacheClients` node sends reads and writes of
Zipf-popular keys and checks every answer. A read is **stale** when it returns an older value
than the last write acknowledged before the read was sent.

A cache node's public face, for subclasses (the exercise writes one)::

    self.lookup(key)             # the cached value, or None if missing or expired (counts a hit or miss)
    self.fetch(key, callback)    # ask the database; later calls callback(value)
    self.store(key, value)       # cache value for ttl
    self.answer(msg, value)      # reply to the client's get message msg
    self.miss(msg)               # what on_get does on a miss (cache-aside: fetch, store, answer)

:func:`stampede_run` is the other experiment: one hot key, read by many clients at a high rate,
expires, and every read that misses while the database is fetching it sends the database a
query of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ...sim import Constant, Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_int,
                               check_number, check_positive, check_probability)
from .balancers import percentile


@dataclass
class Entry:
    """A cached value and the simulated time it expires at."""

    value: Any
    expires: float


class Database(Node):
    """A key-value database: ``workers`` queries at a time, the rest wait; every key starts at value 0."""

    def __init__(self, workers: int = 2, mean_service: float = 5.0, sigma: float = 0.5) -> None:
        self.workers = workers
        self.busy = 0
        self.waiting: list = []
        self.data: dict[Any, int] = {}
        self.reads: dict[Any, int] = {}      # key -> read queries served
        self.writes = 0
        self.mu = math.log(mean_service) - sigma * sigma / 2
        self.sigma = sigma
        self.queue_samples: list[tuple[float, int]] = []

    def on_read(self, msg: Any) -> None:
        self._arrive(msg)

    def on_write(self, msg: Any) -> None:
        self._arrive(msg)

    def _arrive(self, msg: Any) -> None:
        self.waiting.append(msg)
        self.queue_samples.append((self.sim.now, self.busy + len(self.waiting)))
        self._start_next()

    def _start_next(self) -> None:
        while self.busy < self.workers and self.waiting:
            msg = self.waiting.pop(0)
            self.busy += 1
            self.set_timer(self.rng.lognormvariate(self.mu, self.sigma), self._finish, msg)

    def _finish(self, msg: Any) -> None:
        self.busy -= 1
        if msg.type == "read":
            self.reads[msg.key] = self.reads.get(msg.key, 0) + 1
            self.send(msg.src, "db_value", fid=msg.fid, key=msg.key, value=self.data.get(msg.key, 0))
        else:
            self.writes += 1
            if msg.value > self.data.get(msg.key, 0):   # writes of one key carry increasing values
                self.data[msg.key] = msg.value
            self.send(msg.src, "db_written", fid=msg.fid, key=msg.key, value=msg.value)
        self.queue_samples.append((self.sim.now, self.busy + len(self.waiting)))
        self._start_next()


class CacheServer(Node):
    """The cache node's machinery; the pattern classes below decide reads on a miss and writes.

    Args:
        ttl: how long (simulated ms) a cached value stays.
        db: the database node's id.
    """

    def __init__(self, ttl: float = 1000.0, db: str = "db") -> None:
        self.ttl = ttl
        self.db = db
        self.cache: dict[Any, Entry] = {}
        self.hits = 0
        self.misses = 0
        self.db_reads = 0
        self.db_writes = 0
        self.fetches: dict[int, Callable] = {}
        self.next_fid = 0

    # -- the public face ----------------------------------------------------------------
    def lookup(self, key: Any) -> Any:
        """Return the cached value of ``key``, or None if it is missing or expired; count a hit or a miss."""
        entry = self.cache.get(key)
        if entry is None or entry.expires <= self.sim.now:
            self.misses += 1
            return None
        self.hits += 1
        return entry.value

    def fetch(self, key: Any, callback: Callable[[Any], Any]) -> None:
        """Send the database a read of ``key``; call ``callback(value)`` when the answer arrives."""
        check_callable("callback", callback, "callback(value)")
        self.next_fid += 1
        self.fetches[self.next_fid] = callback
        self.db_reads += 1
        self.send(self.db, "read", fid=self.next_fid, key=key)

    def write_db(self, key: Any, value: Any, callback: Callable[[], Any] | None = None) -> None:
        """Send the database a write; call ``callback()`` (if given) once it is durable there."""
        self.next_fid += 1
        self.fetches[self.next_fid] = callback or (lambda: None)
        self.db_writes += 1
        self.send(self.db, "write", fid=self.next_fid, key=key, value=value)

    def store(self, key: Any, value: Any) -> None:
        """Cache ``value`` for ``key`` until ``ttl`` from now."""
        self.cache[key] = Entry(value, self.sim.now + self.ttl)

    def answer(self, msg: Any, value: Any) -> None:
        """Answer the client's get message ``msg`` with ``value``."""
        self.reply(msg, "got", key=msg.key, value=value)

    def miss(self, msg: Any) -> None:
        """A get of a key that is not cached: cache-aside (fetch it, store it, answer)."""
        key = msg.key

        def filled(value: Any) -> None:
            self.store(key, value)
            self.answer(msg, value)

        self.fetch(key, filled)

    # -- handlers -----------------------------------------------------------------------------
    def on_get(self, msg: Any) -> None:
        value = self.lookup(msg.key)
        if value is None:
            self.miss(msg)
        else:
            self.hit(msg, value)

    def hit(self, msg: Any, value: Any) -> None:
        self.answer(msg, value)

    def on_put(self, msg: Any) -> None:
        raise NotImplementedError

    def on_db_value(self, msg: Any) -> None:
        self.fetches.pop(msg.fid)(msg.value)

    def on_db_written(self, msg: Any) -> None:
        self.fetches.pop(msg.fid)()


class CacheAside(CacheServer):
    """The application reads through the cache and, on a write, updates the database, then deletes the entry.

    The tutorials' ``fetch(key) { get || (value = load; set(key, value, ttl)) }``.
    """

    def on_put(self, msg: Any) -> None:
        def written() -> None:
            self.cache.pop(msg.key, None)
            self.reply(msg, "put_ok", key=msg.key)

        self.write_db(msg.key, msg.value, written)


class WriteThrough(CacheServer):
    """A write goes to the database and, once it is there, into the cache; then it is acknowledged."""

    def on_put(self, msg: Any) -> None:
        def written() -> None:
            self.store(msg.key, msg.value)
            self.reply(msg, "put_ok", key=msg.key)

        self.write_db(msg.key, msg.value, written)


class WriteBehind(CacheServer):
    """A write goes into the cache and is acknowledged at once; the database gets it every ``flush_every``.

    Fast writes, and several writes of one key cost one database write; but until the flush
    the database is behind the cache, and a crash of the cache loses the writes not flushed.
    """

    def __init__(self, ttl: float = 1000.0, db: str = "db", flush_every: float = 200.0) -> None:
        super().__init__(ttl, db)
        self.flush_every = flush_every
        self.dirty: dict[Any, Any] = {}

    def on_start(self) -> None:
        self.every(self.flush_every, self.flush)

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, {}
        for key in sorted(dirty):
            self.write_db(key, dirty[key])

    def lookup(self, key: Any) -> Any:
        if key in self.dirty:   # a value not yet in the database must not expire away
            self.hits += 1
            return self.dirty[key]
        return super().lookup(key)

    def on_put(self, msg: Any) -> None:
        self.store(msg.key, msg.value)
        self.dirty[msg.key] = msg.value
        self.reply(msg, "put_ok", key=msg.key)


class RefreshAhead(CacheAside):
    """Cache-aside that refreshes an entry in the background on a hit in its last ``refresh_fraction`` of life."""

    def __init__(self, ttl: float = 1000.0, db: str = "db", refresh_fraction: float = 0.3) -> None:
        super().__init__(ttl, db)
        self.refresh_fraction = refresh_fraction
        self.refreshing: set = set()   # membership only

    def hit(self, msg: Any, value: Any) -> None:
        key = msg.key
        if self.cache[key].expires - self.sim.now < self.refresh_fraction * self.ttl \
                and key not in self.refreshing:
            self.refreshing.add(key)

            def refreshed(fresh: Any) -> None:
                self.refreshing.discard(key)
                self.store(key, fresh)

            self.fetch(key, refreshed)
        self.answer(msg, value)


#: The cache patterns of the lecture, by name.
PATTERNS = {"cache-aside": CacheAside, "write-through": WriteThrough, "write-behind": WriteBehind,
            "refresh-ahead": RefreshAhead}


class CacheClients(Node):
    """Sends reads and writes of Zipf-popular keys to the cache and checks every answer."""

    def __init__(self, cache: str, keys: int, zipf: float, rate: float, write_fraction: float,
                 requests: int, hot_key: Any = None, direct_writes: float = 0.0) -> None:
        self.cache_id = cache
        self.direct_writes = direct_writes
        self.keys = list(range(keys))
        weights = [1 / (rank + 1) ** zipf for rank in range(keys)]
        total = sum(weights)
        self.cum = []
        acc = 0.0
        for w in weights:
            acc += w / total
            self.cum.append(acc)
        self.rate = rate
        self.write_fraction = write_fraction
        self.left = requests
        self.hot_key = hot_key
        self.version: dict[Any, int] = {}       # key -> last value written (values increase)
        self.acked: dict[Any, int] = {}         # key -> largest value acknowledged
        self.sent: dict[int, tuple] = {}        # message id -> (kind, key, time, acked value at send)
        self.latencies: list[float] = []
        self.read_times: list[tuple[float, float]] = []   # (sent at, latency) of every read
        self.reads = 0
        self.stale = 0
        self.last_value: Any = None

    def on_start(self) -> None:
        self.set_timer(self.rng.expovariate(self.rate), self.issue)

    def pick_key(self) -> Any:
        if self.hot_key is not None:
            return self.hot_key
        u = self.rng.random()
        lo, hi = 0, len(self.cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cum[mid] < u:
                lo = mid + 1
            else:
                hi = mid
        return self.keys[lo]

    def issue(self) -> None:
        key = self.pick_key()
        if self.rng.random() < self.write_fraction:
            value = self.version.get(key, 0) + 1
            self.version[key] = value
            if self.rng.random() < self.direct_writes:   # another application writes the database
                msg = self.send("db", "write", fid=0, key=key, value=value)
            else:
                msg = self.send(self.cache_id, "put", key=key, value=value)
            self.sent[msg.id] = ("put", key, self.sim.now, value)
        else:
            msg = self.send(self.cache_id, "get", key=key)
            self.sent[msg.id] = ("get", key, self.sim.now, self.acked.get(key, 0))
        self.left -= 1
        if self.left > 0:
            self.set_timer(self.rng.expovariate(self.rate), self.issue)

    def on_got(self, msg: Any) -> None:
        kind, key, start, floor = self.sent.pop(msg.reply_to)
        self.reads += 1
        self.last_value = msg.value
        self.stale += msg.value < floor
        self.latencies.append(self.sim.now - start)
        self.read_times.append((start, self.sim.now - start))

    def on_put_ok(self, msg: Any) -> None:
        kind, key, start, value = self.sent.pop(msg.reply_to)
        self.acked[key] = max(self.acked.get(key, 0), value)

    def on_db_written(self, msg: Any) -> None:   # a write of ours that went straight to the database
        self.acked[msg.key] = max(self.acked.get(msg.key, 0), msg.value)


@dataclass
class CacheRun:
    """The outcome of :func:`run_cache` or :func:`stampede_run`."""

    name: str
    reads: int
    hits: int
    misses: int
    stale: int
    db_reads: int
    db_writes: int
    latencies: list[float]
    unanswered: int
    db_behind: int = 0
    read_times: list = field(default_factory=list)
    db_queue: list = field(default_factory=list)
    db_reads_by_key: dict = field(default_factory=dict)

    @property
    def hit_ratio(self) -> float:
        return self.hits / max(1, self.hits + self.misses)

    @property
    def stale_fraction(self) -> float:
        return self.stale / max(1, self.reads)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99) if self.latencies else math.inf

    def __repr__(self) -> str:
        return (f"CacheRun({self.name!r}: hit ratio {self.hit_ratio:.2f}, stale reads {self.stale}/"
                f"{self.reads}, database reads {self.db_reads}, writes {self.db_writes}, "
                f"unanswered {self.unanswered})")


def _check_cache_class(name: str, cls: Any) -> type:
    if not (isinstance(cls, type) and issubclass(cls, CacheServer)):
        raise InvalidArgumentType(f"{name}={cls!r} must be a subclass of CacheServer "
                                  f"(course_lib.topics.partitioning.CacheServer)")
    return cls


def _collect(sim: Simulation, name: str, until: float) -> CacheRun:
    cache, clients, db = sim.node("cache"), sim.node("clients"), sim.node("db")
    behind = sum(1 for k, v in clients.acked.items() if db.data.get(k, 0) < v)
    return CacheRun(name, clients.reads, cache.hits, cache.misses, clients.stale, db.reads and
                    sum(db.reads.values()), db.writes, clients.latencies,
                    sum(1 for kind, *_ in clients.sent.values() if kind == "get"), behind,
                    clients.read_times, db.queue_samples, dict(db.reads))


def run_cache(pattern: type, *, seed: int, requests: int = 4000, keys: int = 500, zipf: float = 1.0,
              write_fraction: float = 0.1, direct_writes: float = 0.0, rate: float = 1.0,
              ttl: float = 1000.0, db_workers: int = 4, **options: Any) -> CacheRun:
    """Run a Zipf workload of reads and writes through a cache of class ``pattern``; return the run.

    Args:
        pattern: a :class:`CacheServer` subclass (``PATTERNS`` has the four of the lecture).
        seed: the run's seed.
        requests: how many reads and writes the clients send (one every 1/rate ms on average).
        keys, zipf: the key space and the skew of its popularity (Zipf exponent, 0 = uniform).
        write_fraction: the share of requests that are writes.
        direct_writes: the share of writes that another application sends straight to the
            database, past the cache (the cache learns of them only when the entry expires).
        ttl: the cache's time to live (ms).
        db_workers: how many queries the database serves at once.
        options: more keyword arguments for the pattern's constructor (``flush_every``, ...).

    Raises:
        InvalidArgument: an argument out of range (named).
    """
    _check_cache_class("pattern", pattern)
    check_int("requests", requests, low=1)
    check_int("keys", keys, low=1)
    check_number("zipf", zipf, low=0)
    check_probability("write_fraction", write_fraction)
    check_probability("direct_writes", direct_writes)
    check_positive("rate", rate)
    check_positive("ttl", ttl)
    check_int("db_workers", db_workers, low=1)
    sim = Simulation(seed=seed, latency=Constant(0.5), trace=False)
    sim.add_node(Database, "db", db_workers)
    sim.add_node(pattern, "cache", ttl, "db", **options)
    sim.add_node(CacheClients, "clients", "cache", keys, zipf, rate, write_fraction, requests,
                 None, direct_writes)
    until = requests / rate + 10 * ttl
    sim.run(until=until)
    name = next((k for k, v in PATTERNS.items() if v is pattern), pattern.__name__)
    return _collect(sim, name, until)


def stampede_run(cache: type, *, seed: int, rate: float = 5.0, duration: float = 3000.0,
                 ttl: float = 1000.0, db_workers: int = 2, background: float = 0.0,
                 trace: bool = False) -> CacheRun:
    """Read one hot key at ``rate`` reads per ms for ``duration`` ms through ``cache``; return the run.

    The key expires every ``ttl``; each expiry is a chance for a stampede: every read that
    misses while the database is answering sends a query of its own. ``run.db_reads_by_key["hot"]``
    counts the database's reads of the key; :func:`stampede_report` splits them per expiry.

    Args:
        cache: a :class:`CacheServer` subclass.
        rate: reads of the hot key per simulated ms.
        background: reads per ms of other (cold, uniformly drawn) keys by a second client.
        trace: record the run's trace (for a space-time diagram; slower).
    """
    _check_cache_class("cache", cache)
    check_positive("rate", rate)
    check_positive("duration", duration)
    check_positive("ttl", ttl)
    check_int("db_workers", db_workers, low=1)
    check_number("background", background, low=0)
    if not isinstance(trace, bool):
        raise InvalidArgumentType(f"trace={trace!r} must be True or False")
    sim = Simulation(seed=seed, latency=Constant(0.5), trace=trace)
    sim.add_node(Database, "db", db_workers, 20.0)
    sim.add_node(cache, "cache", ttl, "db")
    sim.add_node(CacheClients, "clients", "cache", 1, 0.0, rate, 0.0, int(rate * duration), "hot")
    if background > 0:
        sim.add_node(CacheClients, "others", "cache", 1000, 0.0, background, 0.0,
                     int(background * duration))
    sim.run(until=duration + 20 * ttl)
    run = _collect(sim, cache.__name__, duration)
    run.sim = sim   # for pictures of the run
    return run


__all__ = ["Entry", "Database", "CacheServer", "CacheAside", "WriteThrough", "WriteBehind",
           "RefreshAhead", "PATTERNS", "CacheClients", "CacheRun", "run_cache", "stampede_run",
           "InvalidArgument"]
