"""Heartbeat failure detection: monitored nodes, a monitor running a detector, and what it got wrong.

Each of ``nodes`` monitored nodes sends a ``heartbeat`` to the monitor every ``interval`` seconds
over a network with a latency model (changing over time if you like: :class:`Phases`) and loss;
some of them crash. The monitor hands each heartbeat to a **detector** and asks it, every
``check_every`` seconds, which nodes it suspects. The detector interface (your phi-accrual
detector in the exercise implements it)::

    detector.heartbeat(node, now)    # a heartbeat from node arrived at time now
    detector.suspect(node, now)      # -> bool: is node suspected now?
    detector.tick(now)               # optional: called before every round of checks

A :class:`DetectionRun` measures the two kinds of mistakes a detector trades against each other:
**false positives** (suspecting a node that is alive: episodes, and the fraction of its live time
spent suspected) and **detection time** (how long after a crash the suspicion starts for good).
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Sequence

from ...sim import Constant, Node, Simulation
from ...sim.latency import as_latency
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_non_negative,
                               check_number, check_probability)

__all__ = ["DetectionRun", "Heartbeater", "Monitor", "Phases", "run_detector"]


class Phases:
    """A latency model that changes at given times: ``Phases(sim, [(0, Constant(0.01)), (60, LogNormal(0.05, 1))])``."""

    def __init__(self, sim: Simulation, phases: Sequence[tuple[float, Any]]) -> None:
        if isinstance(phases, (str, bytes)) or not hasattr(phases, "__iter__"):
            raise InvalidArgumentType(f"phases={phases!r} must be a list of (from time, latency model)")
        rows = []
        for index, row in enumerate(phases):
            if not (isinstance(row, tuple) and len(row) == 2):
                raise InvalidArgumentType(f"phases[{index}]={row!r} must be a (from time, latency) pair")
            rows.append((check_non_negative(f"phases[{index}] time", row[0]),
                         as_latency(row[1], f"phases[{index}] latency")))
        if not rows:
            raise InvalidArgument("phases=[] must hold at least one (from time, latency) pair")
        self.sim = sim
        self.rows = sorted(rows, key=lambda r: r[0])

    def __call__(self, rng: random.Random, src: Any, dst: Any) -> float:
        now = self.sim.now
        model = self.rows[0][1]
        for time, candidate in self.rows:
            if time <= now:
                model = candidate
        return model(rng, src, dst)


class Heartbeater(Node):
    """Send a heartbeat to ``monitor`` every ``interval`` seconds (first at a seeded random offset)."""

    def __init__(self, monitor: Any, interval: float) -> None:
        self.monitor = monitor
        self.interval = interval

    def on_start(self) -> None:
        self.set_timer(self.rng.random() * self.interval, self.beat, name="first beat")

    def beat(self) -> None:
        self.send(self.monitor, "heartbeat")
        self.set_timer(self.interval, self.beat, name="beat")


class Monitor(Node):
    """Feed heartbeats to ``detector`` and record, every ``check_every`` seconds, whom it suspects."""

    def __init__(self, detector: Any, watched: list, check_every: float, log: dict) -> None:
        self.detector = detector
        self.watched = watched
        self.check_every = check_every
        self.log = log          # node -> list of (time, suspected) at each change
        self.current = {n: False for n in watched}

    def on_start(self) -> None:
        self.every(self.check_every, self.check, name="check")

    def on_heartbeat(self, msg: Any) -> None:
        self.log.setdefault(("arrivals", msg.src), []).append(self.sim.now)
        self.detector.heartbeat(msg.src, self.sim.now)

    def check(self) -> None:
        now = self.sim.now
        tick = getattr(self.detector, "tick", None)
        if callable(tick):
            tick(now)
        for node in self.watched:
            verdict = self.detector.suspect(node, now)
            if not isinstance(verdict, bool):
                raise InvalidArgumentType(f"suspect({node!r}, {now:g}) returned {verdict!r}; it must "
                                          "return True or False")
            if verdict != self.current[node]:
                self.current[node] = verdict
                self.log.setdefault(node, []).append((now, verdict))


class DetectionRun:
    """The verdicts of one run, per monitored node, and the measures of its mistakes."""

    def __init__(self, sim: Simulation, log: dict, watched: list, crashes: dict, until: float,
                 warmup: float) -> None:
        self.sim = sim
        self.watched = watched
        self.crashes = crashes      # node -> crash time
        self.until = until
        self.warmup = warmup
        self.changes = {n: log.get(n, []) for n in watched}
        self.arrivals = {n: log.get(("arrivals", n), []) for n in watched}

    def episodes(self, node: Any) -> list[tuple[float, float]]:
        """The ``(start, end)`` stretches during which ``node`` was suspected (end: run's end if open)."""
        out, since = [], None
        for time, suspected in self.changes[node]:
            if suspected and since is None:
                since = time
            elif not suspected and since is not None:
                out.append((since, time))
                since = None
        if since is not None:
            out.append((since, self.until))
        return out

    def false_positives(self, node: Any = None) -> int:
        """Suspicion episodes that began after the warm-up while the node was alive (all nodes if ``None``)."""
        nodes = self.watched if node is None else [node]
        return sum(1 for n in nodes for start, _ in self.episodes(n)
                   if self.warmup <= start < self.crashes.get(n, math.inf))

    def suspected_fraction(self, node: Any = None) -> float:
        """The fraction of live time after the warm-up that the node(s) spent wrongly suspected."""
        nodes = self.watched if node is None else [node]
        wrong = alive = 0.0
        for n in nodes:
            death = min(self.crashes.get(n, math.inf), self.until)
            alive += max(0.0, death - self.warmup)
            for start, end in self.episodes(n):
                lo, hi = max(start, self.warmup), min(end, death)
                wrong += max(0.0, hi - lo)
        return wrong / alive if alive > 0 else 0.0

    def detection_time(self, node: Any) -> float:
        """Seconds from ``node``'s crash until it is suspected for good (``inf``: never; NaN: no crash)."""
        if node not in self.crashes:
            return math.nan
        crash = self.crashes[node]
        episodes = self.episodes(node)
        if episodes and episodes[-1][1] >= self.until and episodes[-1][0] >= crash:
            return episodes[-1][0] - crash
        if episodes and episodes[-1][1] >= self.until:  # suspected already before the crash
            return 0.0
        return math.inf

    def detection_times(self) -> list[float]:
        """:meth:`detection_time` of every crashed node, in the order of ``watched``."""
        return [self.detection_time(n) for n in self.watched if n in self.crashes]

    def summary(self) -> dict[str, float]:
        """False-positive episodes, wrongly suspected fraction, mean and worst detection time."""
        times = self.detection_times()
        return {"false positives": self.false_positives(),
                "suspected while alive": round(self.suspected_fraction(), 4),
                "mean detection s": round(sum(times) / len(times), 3) if times else math.nan,
                "worst detection s": round(max(times), 3) if times else math.nan}


def run_detector(detector: Any, seed: Any, *, nodes: int = 4, interval: float = 1.0,
                 latency: Any = None, loss: float = 0.0, crashes: Any = None,
                 duration: float = 300.0, check_every: float = 0.1, warmup: float | None = None,
                 phases: Sequence[tuple[float, Any]] | None = None) -> DetectionRun:
    """Run ``nodes`` heartbeating nodes, a monitor with ``detector``, and crash some of them.

    Args:
        detector: a detector object, or a factory called as ``detector(watched_ids)`` (a class
            taking the node ids, like the tutorial's, or a ``lambda ids: YourDetector()``).
        seed: the simulation seed.
        nodes: how many nodes send heartbeats (ids ``n1``, ``n2``, ...).
        interval: seconds between a node's heartbeats.
        latency: a latency model for every message (default ``Constant(0.01)``).
        loss: the probability that a heartbeat is lost.
        crashes: ``{node id: time}`` of crashes (default: none).
        duration: seconds of simulated time.
        check_every: seconds between two rounds of the monitor's checks.
        warmup: seconds at the start not counted as false positives (default ``3 * interval``:
            a detector needs a few beats to learn).
        phases: a changing latency instead of ``latency``: ``[(from time, model), ...]``.

    Example:
        >>> from course_lib.topics.resilience import TimeoutDetector
        >>> run = run_detector(TimeoutDetector(3.0), seed=1, crashes={"n1": 100.0}, duration=200)
        >>> 2.0 <= run.detection_time("n1") <= 3.2
        True
    """
    check_int("nodes", nodes, low=1)
    check_number("interval", interval, low=0, low_open=True, what="a positive number of seconds")
    check_probability("loss", loss)
    check_number("duration", duration, low=0, low_open=True, what="a positive number of seconds")
    check_number("check_every", check_every, low=0, low_open=True, what="a positive number of seconds")
    warmup = 3 * interval if warmup is None else check_non_negative("warmup", warmup)
    watched = [f"n{i}" for i in range(1, nodes + 1)]
    crashes = {} if crashes is None else crashes
    if not isinstance(crashes, dict):
        raise InvalidArgumentType(f"crashes={crashes!r} must be a dict {{node id: crash time}}")
    for node, time in crashes.items():
        if node not in watched:
            raise InvalidArgument(f"crashes names {node!r}, which is not one of {watched}")
        check_number(f"crashes[{node!r}]", time, low=0, high=duration, what=f"a time in [0, {duration:g}]")
    if isinstance(detector, type) or (callable(detector) and not hasattr(detector, "suspect")):
        detector = detector(list(watched))
    for method in ("heartbeat", "suspect"):
        if not callable(getattr(detector, method, None)):
            raise InvalidArgumentType(f"detector={detector!r} has no {method}() method; a detector "
                                      "needs heartbeat(node, now) and suspect(node, now)")
    sim = Simulation(seed=seed, latency=Constant(0.01) if latency is None else latency, loss=loss,
                     trace=False)
    if phases is not None:
        sim.network.configure(latency=Phases(sim, phases))
    log: dict = {}
    sim.add_node(Monitor, "monitor", detector, watched, check_every, log)
    for node in watched:
        sim.add_node(Heartbeater, node, "monitor", interval)
    for node, time in crashes.items():
        sim.nemesis.crash(node, at=time)
    sim.run(until=duration)
    return DetectionRun(sim, log, watched, dict(crashes), duration, warmup)


def tradeoff(make: Callable[[float], Any], knobs: Sequence[float], seeds: Sequence[Any],
             **settings: Any) -> list[dict[str, float]]:
    """For each knob value, run ``make(knob)`` over ``seeds`` and average its mistakes.

    Returns one row per knob: ``knob``, ``false positives per hour`` (per node) and ``detection``
    (mean seconds). ``settings`` go to :func:`run_detector` (they must include ``crashes``).
    """
    if not callable(make):
        raise InvalidArgumentType(f"make={make!r} must be callable as make(knob) -> detector")
    for name, values in (("knobs", knobs), ("seeds", seeds)):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise InvalidArgumentType(f"{name}={values!r} must be a list")
    knobs, seeds = list(knobs), list(seeds)
    if not knobs or not seeds:
        raise InvalidArgument(f"knobs={knobs!r} and seeds={seeds!r} must not be empty")
    rows = []
    for knob in knobs:
        fps, times, alive = 0, [], 0.0
        for seed in seeds:
            run = run_detector(lambda ids, k=knob: make(k), seed, **settings)
            fps += run.false_positives()
            times += run.detection_times()
            alive += sum(min(run.crashes.get(n, run.until), run.until) - run.warmup for n in run.watched)
        rows.append({"knob": knob, "false positives per hour": fps / alive * 3600 if alive else 0.0,
                     "detection": sum(times) / len(times) if times else math.nan})
    return rows
