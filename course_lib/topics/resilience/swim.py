"""SWIM-style membership probing: direct pings, indirect pings through k others, and suspicion.

Every member runs the same protocol period after period (Das, Gupta and Motivala, 2002):

1. pick the next member of its list (a shuffled round robin) and ``ping`` it;
2. no ``ack`` within ``ack_timeout``: ask ``k`` other members to ping it on its behalf
   (``ping_req``); an ack that comes back through any of them counts;
3. still no ack by the end of the period: the probe failed. Without suspicion the member declares
   the target **dead** at once; with ``suspicion`` it marks the target *suspect* and declares it
   dead only if the next ``suspicion`` probes of it fail too (any ack clears the suspicion).

This is the failure-detection half of SWIM only: each member decides alone, without the
dissemination of verdicts by gossip (piggybacked on the pings) or the incarnation numbers that
let a suspected member refute a suspicion. Indirect probes route around a lossy or congested link;
suspicion gives a member several chances before it is declared dead.
"""

from __future__ import annotations

import math
from typing import Any

from ...sim import Constant, Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_number,
                               check_probability)

__all__ = ["SwimMember", "SwimRun", "run_swim"]


class SwimMember(Node):
    """One member: probes one other member per ``period`` and answers the others' probes."""

    def __init__(self, period: float, ack_timeout: float, k: int, suspicion: int, log: list) -> None:
        self.period = period
        self.ack_timeout = ack_timeout
        self.k = k
        self.suspicion = suspicion
        self.log = log                       # (time, observer, target) for each "dead" verdict
        self.alive: list = []                # the members this one still believes in
        self.order: list = []                # the current round robin
        self.failed_probes: dict = {}        # target -> failed probes in a row (suspicion)
        self.acked = False

    def on_start(self) -> None:
        self.alive = list(self.peers)
        self.set_timer(self.rng.random() * self.period, self.probe, name="probe")

    def _next_target(self) -> Any:
        if not self.order:
            self.order = list(self.alive)
            self.rng.shuffle(self.order)
        return self.order.pop()

    def probe(self) -> None:
        self.set_timer(self.period, self.probe, name="probe")
        if not self.alive:
            return
        target = self._next_target()
        self.acked = False
        self.request(target, "ping", timeout=self.ack_timeout, on_reply=lambda r: self._ack(target),
                     on_timeout=lambda m: self._indirect(target))
        self.set_timer(self.period * 0.99, self._verdict, target, name="verdict")

    def _ack(self, target: Any) -> None:
        self.acked = True
        self.failed_probes.pop(target, None)

    def _indirect(self, target: Any) -> None:
        helpers = [m for m in self.alive if m != target]
        self.rng.shuffle(helpers)
        for helper in helpers[:self.k]:
            self.request(helper, "ping_req", target=target,
                         timeout=max(self.period * 0.99 - self.ack_timeout, 1e-6),
                         on_reply=lambda r: self._ack(target), on_timeout=lambda m: None)

    def _verdict(self, target: Any) -> None:
        if self.acked or target not in self.alive:
            return
        misses = self.failed_probes.get(target, 0) + 1
        self.failed_probes[target] = misses
        if misses > self.suspicion:
            self.alive.remove(target)
            if target in self.order:
                self.order.remove(target)
            self.failed_probes.pop(target, None)
            self.log.append((self.sim.now, self.id, target))
        else:
            self.order.append(target)  # a suspect is probed again next period

    def on_ping(self, msg: Any) -> None:
        self.reply(msg, "ack")

    def on_ping_req(self, msg: Any) -> None:
        self.request(msg.target, "ping", timeout=self.ack_timeout,
                     on_reply=lambda r: self.reply(msg, "ack"), on_timeout=lambda m: None)


class SwimRun:
    """The verdicts of a SWIM run: who declared whom dead, when, and which of them were wrong."""

    def __init__(self, sim: Simulation, log: list, crashes: dict, until: float) -> None:
        self.sim = sim
        self.verdicts = list(log)
        self.crashes = crashes
        self.until = until

    def false_deaths(self) -> int:
        """Verdicts "dead" on a member that was alive at the time."""
        return sum(1 for time, _, target in self.verdicts if time < self.crashes.get(target, math.inf))

    def detection_time(self, node: Any) -> float:
        """Seconds from ``node``'s crash to the first member's verdict (``inf``: never)."""
        times = [t for t, _, target in self.verdicts
                 if target == node and t >= self.crashes.get(node, math.inf)]
        return min(times) - self.crashes[node] if times else math.inf


def run_swim(seed: Any, *, members: int = 8, period: float = 1.0, ack_timeout: float = 0.2,
             k: int = 3, suspicion: int = 0, loss: float = 0.0, latency: Any = None,
             crashes: Any = None, duration: float = 120.0) -> SwimRun:
    """Run ``members`` SWIM members (ids ``m1``...) and return their verdicts.

    Example:
        >>> run = run_swim(seed=1, crashes={"m1": 30.0}, duration=60)
        >>> run.false_deaths(), run.detection_time("m1") < 5
        (0, True)
    """
    check_int("members", members, low=2)
    check_number("period", period, low=0, low_open=True, what="a positive number of seconds")
    check_number("ack_timeout", ack_timeout, low=0, low_open=True, high=period, high_open=True,
                 what=f"a number of seconds in (0, period={period!r})")
    check_int("k", k, low=0)
    check_int("suspicion", suspicion, low=0)
    check_probability("loss", loss)
    check_number("duration", duration, low=0, low_open=True, what="a positive number of seconds")
    crashes = {} if crashes is None else crashes
    if not isinstance(crashes, dict):
        raise InvalidArgumentType(f"crashes={crashes!r} must be a dict {{member id: crash time}}")
    ids = [f"m{i}" for i in range(1, members + 1)]
    for node, time in crashes.items():
        if node not in ids:
            raise InvalidArgument(f"crashes names {node!r}, which is not one of {ids}")
        check_number(f"crashes[{node!r}]", time, low=0, high=duration, what=f"a time in [0, {duration:g}]")
    sim = Simulation(seed=seed, latency=Constant(0.01) if latency is None else latency, loss=loss,
                     trace=False)
    log: list = []
    for node in ids:
        sim.add_node(SwimMember, node, period, ack_timeout, k, suspicion, log)
    for node, time in crashes.items():
        sim.nemesis.crash(node, at=time)
    sim.run(until=duration)
    return SwimRun(sim, log, dict(crashes), duration)
