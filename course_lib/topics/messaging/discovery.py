"""Service discovery with health checks: the tutorial's Consul registry, ported, and its clients.

The :class:`Registry` (Consul) keeps, per service name, the instances that registered
(``register`` with ``name``; ``deregister``). It health-checks them as the tutorial's
registration asks: every ``interval`` it calls each instance's health endpoint with a
``timeout``; an instance that fails a check is *critical* and no longer returned by
``discover``, until a check passes again. With ``ttl`` set it uses TTL checks instead: each
instance must check in (``pass_ttl``) at least every ``ttl``, or it turns critical.

A :class:`DiscoveryClient` calls the service ``rate`` times a second: it asks the registry for
the healthy instances (caching the answer for ``cache_ttl``, 0: ask every time) and calls one
of them round robin; a call that times out is a failed call. Between an instance's crash and
the check that notices it (up to ``interval + timeout``), and for as long as a client's cached
list says so, calls go to a dead instance. A partition between the registry and a healthy
instance has the opposite effect: the instance is taken out although clients could reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sim import Node, Simulation
from ...sim.validation import InvalidArgumentType, check_int, check_number, check_positive

__all__ = ["Registry", "ServiceInstance", "DiscoveryClient", "DiscoveryRun", "run_discovery"]


class Registry(Node):
    """The registry: instances by service name, health-checked by HTTP-style calls or by TTL."""

    def __init__(self, interval: float = 10.0, timeout: float = 5.0, ttl: float | None = None) -> None:
        self.interval = interval
        self.timeout = timeout
        self.ttl = ttl
        self.instances: dict[str, dict[Any, dict]] = {}   # name -> instance -> {"status", "seen"}
        self.changes: list[tuple[float, Any, str]] = []    # (time, instance, new status)

    def on_start(self) -> None:
        self.every(self.interval if self.ttl is None else self.ttl / 2, self._check, name="checks")

    def on_register(self, msg: Any) -> None:
        self.instances.setdefault(msg.name, {})[msg.src] = {"status": "passing", "seen": self.sim.now}
        self.changes.append((self.sim.now, msg.src, "passing"))

    def on_deregister(self, msg: Any) -> None:
        self.instances.get(msg.name, {}).pop(msg.src, None)
        self.changes.append((self.sim.now, msg.src, "deregistered"))

    def on_pass_ttl(self, msg: Any) -> None:
        entry = self.instances.get(msg.name, {}).get(msg.src)
        if entry is not None:
            entry["seen"] = self.sim.now
            self._set(entry, msg.src, "passing")

    def _set(self, entry: dict, instance: Any, status: str) -> None:
        if entry["status"] != status:
            entry["status"] = status
            self.changes.append((self.sim.now, instance, status))

    def _check(self) -> None:
        for name in sorted(self.instances):
            for instance, entry in sorted(self.instances[name].items(), key=lambda kv: repr(kv[0])):
                if self.ttl is not None:
                    if self.sim.now - entry["seen"] > self.ttl:
                        self._set(entry, instance, "critical")
                    continue
                self.request(instance, "health", timeout=self.timeout,
                             on_reply=lambda r, e=entry, i=instance: self._set(e, i, "passing"),
                             on_timeout=lambda _, e=entry, i=instance: self._set(e, i, "critical"))

    def on_discover(self, msg: Any) -> None:
        healthy = tuple(sorted((i for i, e in self.instances.get(msg.name, {}).items()
                                if e["status"] == "passing"), key=repr))
        self.reply(msg, "instances", name=msg.name, instances=healthy)

    def on_ok(self, msg: Any) -> None:
        pass   # a health answer that came after its check had timed out


class ServiceInstance(Node):
    """An instance of a service: registers on start, answers health checks and calls."""

    def __init__(self, name: str = "orders", registry: Any = "consul", ttl: float | None = None) -> None:
        self.name = name
        self.registry = registry
        self.ttl = ttl

    def on_start(self) -> None:
        self.send(self.registry, "register", name=self.name)
        if self.ttl is not None:
            self.every(self.ttl / 3, lambda: self.send(self.registry, "pass_ttl", name=self.name),
                       name="check_in")

    def on_health(self, msg: Any) -> None:
        self.reply(msg, "ok")

    def on_call(self, msg: Any) -> None:
        self.reply(msg, "result", n=msg.n)


class DiscoveryClient(Node):
    """Calls the service ``rate`` times per time unit through the registry (and its cache)."""

    def __init__(self, name: str = "orders", registry: Any = "consul", rate: float = 2.0,
                 cache_ttl: float = 0.0, timeout: float = 3.0) -> None:
        self.name = name
        self.registry = registry
        self.rate = rate
        self.cache_ttl = cache_ttl
        self.timeout = timeout
        self.cache: tuple = ()
        self.cached_at = -float("inf")
        self.calls: list[tuple[float, Any, bool]] = []   # (time sent, instance, ok)
        self.n = 0

    def on_start(self) -> None:
        self.every(1.0 / self.rate, self._tick, name="call")

    def _tick(self) -> None:
        if self.cache and self.sim.now - self.cached_at < self.cache_ttl:
            return self._call_one(self.cache)
        self.request(self.registry, "discover", name=self.name, timeout=self.timeout,
                     on_reply=self._discovered)

    def _discovered(self, msg: Any) -> None:
        self.cache, self.cached_at = msg.instances, self.sim.now
        self._call_one(msg.instances)

    def _call_one(self, instances: tuple) -> None:
        if not instances:
            self.calls.append((self.sim.now, None, False))
            return
        self.n += 1
        target = instances[self.n % len(instances)]
        sent = self.sim.now
        self.request(target, "call", n=self.n, timeout=self.timeout,
                     on_reply=lambda r: self.calls.append((sent, target, True)),
                     on_timeout=lambda _: self.calls.append((sent, target, False)))

    def on_instances(self, msg: Any) -> None:
        pass   # a late answer from the registry


@dataclass
class DiscoveryRun:
    """The clients' calls and the registry's status changes."""

    sim: Simulation
    calls: list[tuple[float, Any, bool]]
    changes: list[tuple[float, Any, str]]

    @property
    def failed(self) -> int:
        """Calls that failed (timed out, or found no instance)."""
        return sum(1 for _, _, ok in self.calls if not ok)

    def failed_between(self, start: float, end: float) -> int:
        """Calls sent in ``[start, end)`` that failed."""
        return sum(1 for t, _, ok in self.calls if start <= t < end and not ok)


def run_discovery(*, seed: int = 0, instances: int = 3, interval: float = 10.0, timeout: float = 5.0,
                  ttl: float | None = None, cache_ttl: float = 0.0, crash_at: float | None = 20.0,
                  partition: tuple | None = None, until: float = 80.0) -> DiscoveryRun:
    """Run a registry, ``instances`` instances of ``orders`` and two clients.

    Args:
        interval, timeout: the registry's health checks (``ttl`` set: TTL checks instead).
        cache_ttl: how long clients trust a registry answer.
        crash_at: when instance ``orders1`` crashes for good (None: never).
        partition: ``(start, end)``: the registry cut off from ``orders2`` (clients still reach it).
    """
    check_int("instances", instances, low=2)
    check_positive("interval", interval)
    check_positive("timeout", timeout)
    if ttl is not None:
        check_positive("ttl", ttl)
    check_number("cache_ttl", cache_ttl, low=0)
    if crash_at is not None:
        check_number("crash_at", crash_at, low=0)
    if partition is not None and (not isinstance(partition, tuple) or len(partition) != 2):
        raise InvalidArgumentType(f"partition={partition!r} must be (start, end) or None")
    check_number("until", until, low=0, low_open=True)
    sim = Simulation(seed=seed)
    registry = sim.add_node(Registry, "consul", interval, timeout, ttl)
    for i in range(instances):
        sim.add_node(ServiceInstance, f"orders{i + 1}", "orders", "consul", ttl)
    clients = [sim.add_node(DiscoveryClient, f"client{i + 1}", "orders", "consul", 2.0, cache_ttl)
               for i in range(2)]
    if crash_at is not None:
        sim.nemesis.crash("orders1", at=crash_at)
    if partition is not None:
        start, end = partition
        sim.nemesis.partition_one_way(["consul"], ["orders2"], at=start, heal_at=end)
        sim.nemesis.partition_one_way(["orders2"], ["consul"], at=start, heal_at=end)
    sim.run(until=until)
    calls = sorted((c for client in clients for c in client.calls), key=lambda c: (c[0], repr(c[1])))
    return DiscoveryRun(sim, calls, list(registry.changes))
