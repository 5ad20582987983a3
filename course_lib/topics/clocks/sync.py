"""Physical clock synchronisation over the simulated network: Cristian's algorithm and NTP.

A client asks a time server for the time and measures, on its own clock, when
it asked (``t0``) and when the answer came (``t1``); the server stamps when the
request arrived (``t2``) and when it answered (``t3``), on *its* clock.

* **Cristian (1989)**: set the clock to ``t3 + (t1 - t0) / 2``; the estimate of
  the offset is off by at most half the round trip.
* **NTP** (Mills): offset ``θ = ((t2 - t0) + (t3 - t1)) / 2`` and delay
  ``δ = (t1 - t0) - (t3 - t2)``, which leaves the server's processing time out;
  the true offset lies within ``θ ± δ / 2``.

Both assume the request and the answer take equally long. When they do not,
the estimate is off by half the difference (``(forward - back) / 2``), and no
measurement by the client can tell: the error grows with the asymmetry, up to
the bound of half the round trip.

Example:
    >>> result = synchronise(seed=1, forward=0.1, back=0.3, client_offset=5.0, rounds=3)
    >>> [round(r.error, 3) for r in result.rounds]
    [-0.1, -0.1, -0.1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sim import Node, Simulation, Uniform
from ...sim.validation import (InvalidArgument, check_choice, check_int, check_non_negative,
                               check_number, check_positive, check_type)

METHODS = ("cristian", "ntp")


@dataclass(frozen=True)
class SyncRound:
    """One request/answer exchange, as the client measured it, and the truth."""

    time: float          # true time the answer arrived
    t0: float            # client clock: request sent
    t1: float            # client clock: answer received
    t2: float            # server clock: request received
    t3: float            # server clock: answer sent
    estimate: float      # the method's estimate of (server clock - client clock)
    bound: float         # the method's error bound: the truth lies within estimate ± bound
    true_offset: float   # (server clock - client clock) at that moment, known only to the simulator

    @property
    def error(self) -> float:
        """How far the estimate is from the true offset."""
        return self.estimate - self.true_offset


class TimeServer(Node):
    """Answers ``time_request`` with the times it received it and answered it, on its own clock."""

    def __init__(self, processing: float = 0.0) -> None:
        check_non_negative("processing", processing)
        self.processing = processing

    def on_time_request(self, msg: Any) -> None:
        t2 = self.clock.now()
        if self.processing:
            self.set_timer(self.processing, self._answer, msg, t2, name="processing")
        else:
            self._answer(msg, t2)

    def _answer(self, msg: Any, t2: float) -> None:
        self.reply(msg, "time_reply", t2=t2, t3=self.clock.now())


class SyncClient(Node):
    """Polls the server every ``interval`` and estimates its clock offset by ``method``.

    With ``correct=True`` it steps its own clock by each estimate, as ``ntpdate``
    (or NTP on a large offset) does.
    """

    def __init__(self, server: Any, method: str, rounds: int, interval: float, correct: bool) -> None:
        check_choice("method", method, METHODS)
        check_int("rounds", rounds, low=1)
        check_positive("interval", interval)
        check_type("correct", correct, bool, what="True or False")
        self.server = server
        self.method = method
        self.remaining = rounds
        self.interval = interval
        self.correct = correct
        self.rounds: list[SyncRound] = []

    def on_start(self) -> None:
        self.set_timer(self.interval, self.poll)

    def poll(self) -> None:
        t0 = self.clock.now()
        self.request(self.server, "time_request", timeout=100 * self.interval,
                     on_reply=lambda reply: self._answered(reply, t0))
        self.remaining -= 1
        if self.remaining > 0:
            self.set_timer(self.interval, self.poll)

    def _answered(self, reply: Any, t0: float) -> None:
        t1 = self.clock.now()
        t2, t3 = reply.t2, reply.t3
        if self.method == "cristian":
            estimate = t3 + (t1 - t0) / 2 - t1
            bound = (t1 - t0) / 2
        else:
            estimate = ((t2 - t0) + (t3 - t1)) / 2
            bound = ((t1 - t0) - (t3 - t2)) / 2
        truth = self.sim.node(self.server).clock.now() - self.clock.now()
        self.rounds.append(SyncRound(self.sim.now, t0, t1, t2, t3, estimate, bound, truth))
        self.record("sync", estimate=round(estimate, 4), bound=round(bound, 4))
        if self.correct:
            self.clock.jump(estimate)


@dataclass
class SyncResult:
    """The simulation and every round the client completed."""

    sim: Simulation
    rounds: list[SyncRound]


def synchronise(seed: Any = 0, *, method: str = "ntp", forward: float = 0.2, back: float = 0.2,
                jitter: float = 0.0, processing: float = 0.0, client_offset: float = 1.0,
                client_drift: float = 0.0, rounds: int = 10, interval: float = 5.0,
                correct: bool = False, max_events: int = 2_000_000) -> SyncResult:
    """Run a client synchronising with a time server and return every round.

    Args:
        method: ``"cristian"`` or ``"ntp"``.
        forward, back: one-way delays client → server and server → client.
        jitter: each delay gets up to this much more, uniformly at random.
        processing: time the server takes between receiving and answering.
        client_offset, client_drift: the client's clock error (the server's clock is true).
        rounds, interval: how many polls, how far apart (client clock).
        correct: the client steps its clock by each estimate.
        max_events: the run's budget of events (a few per round).

    Raises:
        InvalidArgument: an unknown ``method``, a negative, NaN or infinite
            delay or offset, a drift outside (-0.5, 0.5), or more ``rounds``
            than ``max_events`` allows (each argument named in the message).
    """
    check_choice("method", method, METHODS)
    for name, value in (("forward", forward), ("back", back), ("jitter", jitter),
                        ("processing", processing)):
        check_non_negative(name, value)
    check_number("client_offset", client_offset)
    check_number("client_drift", client_drift, low=-0.5, high=0.5, low_open=True, high_open=True)
    check_int("rounds", rounds, low=1)
    check_positive("interval", interval)
    check_type("correct", correct, bool, what="True or False")
    check_int("max_events", max_events, low=1)
    if 4 * rounds > max_events:
        raise InvalidArgument(f"rounds={rounds} takes about {4 * rounds} events, more than "
                              f"max_events={max_events}; pass a larger max_events")
    sim = Simulation(seed=seed, max_events=max_events)
    sim.add_node(TimeServer, "server", processing)
    client = sim.add_node(SyncClient, "client", "server", method, rounds, interval, correct,
                          clock_offset=client_offset, clock_drift=client_drift)
    sim.network.set_link("client", "server", latency=Uniform(forward, forward + jitter))
    sim.network.set_link("server", "client", latency=Uniform(back, back + jitter))
    sim.run()
    return SyncResult(sim, list(client.rounds))
