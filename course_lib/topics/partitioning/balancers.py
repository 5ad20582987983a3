"""Load balancers in the simulator: front ends send requests to heterogeneous servers.

The world (:func:`run_balancer`): ``frontends`` front-end nodes each receive a Poisson stream of
requests from clients (a client is an address such as ``"10.0.0.7"``; a few addresses send much
more than the rest, like offices behind one NAT). For each request the front end asks its
:class:`Balancer` which server to use and sends it there. A server works on one request at a
time, first come first served; its service time is heavy tailed (log-normal) and scaled by the
server's speed, so a slow server takes longer for the same work. Every ``report_interval``
each server tells every front end its queue length; between reports a front end's view of the
loads is stale. Latency is measured from a request's arrival at the front end to its reply.

A balancer is a small class; the front end calls ``choose(request)`` once per request::

    class MyBalancer(Balancer):
        def choose(self, request):
            return self.servers[0]       # a server id from self.servers

    run = run_balancer(MyBalancer, seed=1)
    run.p99, run.per_server

What a balancer may read: ``self.servers`` (ids, in order), ``self.weights`` (id -> the server's
relative speed, as an operator configured it), ``self.rng`` (its own seeded generator),
``self.load(s)`` (server ``s``'s queue length at its last report: stale) and
``self.connections(s)`` (requests this front end sent to ``s`` and has not had answered: fresh,
but only this front end's own share). ``request.client`` is the client's address and
``request.id`` a number unique in the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from ...sim import Constant, Node, Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_int, check_number,
                               check_positive, check_probability)
from .hashing import hash64

#: The servers of the default world: five of speed 1, two of half speed and one at a fifth.
DEFAULT_SPEEDS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.2)


@dataclass(frozen=True)
class Request:
    """One client request as a balancer sees it."""

    id: int
    client: str


class Balancer:
    """Base class of a load balancer: write :meth:`choose`.

    Args:
        servers: the server ids, in order.
        weights: server id -> relative capacity (what an operator configured).
        rng: this balancer's own seeded ``random.Random``.
    """

    def __init__(self, servers: Sequence[Any], weights: dict, rng: Any) -> None:
        self.servers = list(servers)
        self.weights = dict(weights)
        self.rng = rng
        self._frontend: Any = None

    def choose(self, request: Request) -> Any:
        """Return the id of the server that gets ``request``."""
        raise NotImplementedError("write choose(request): return one of self.servers")

    def load(self, server: Any) -> int:
        """Server ``server``'s queue length (waiting + in service) at its last report: possibly stale."""
        return self._frontend.reported[self._check(server)]

    def connections(self, server: Any) -> int:
        """Requests this front end sent to ``server`` and has not had answered yet."""
        return self._frontend.open[self._check(server)]

    def _check(self, server: Any) -> Any:
        if server not in self._frontend.open:
            raise InvalidArgument(f"server={server!r} is not one of the servers {self.servers!r}")
        return server


class RoundRobin(Balancer):
    """Each front end sends to the servers in turn, ignoring speed and load."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.next = 0

    def choose(self, request: Request) -> Any:
        server = self.servers[self.next % len(self.servers)]
        self.next += 1
        return server


class WeightedRoundRobin(Balancer):
    """Smooth weighted round robin (as nginx does it): server s gets a weights[s] share, interleaved."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.current = {s: 0.0 for s in self.servers}

    def choose(self, request: Request) -> Any:
        total = 0.0
        for s in self.servers:
            self.current[s] += self.weights[s]
            total += self.weights[s]
        best = max(self.servers, key=lambda s: self.current[s])  # first of the largest
        self.current[best] -= total
        return best


class LeastConnections(Balancer):
    """The server with the fewest requests open *from this front end* (ties: the first)."""

    def choose(self, request: Request) -> Any:
        return min(self.servers, key=self.connections)


class IPHash(Balancer):
    """The same client always goes to the same server: hash of the client's address mod N."""

    def choose(self, request: Request) -> Any:
        return self.servers[hash64(request.client) % len(self.servers)]


class RandomChoice(Balancer):
    """A server drawn uniformly at random."""

    def choose(self, request: Request) -> Any:
        return self.rng.choice(self.servers)


class LeastLoaded(Balancer):
    """The server with the shortest *reported* queue: every front end piles onto it until the next report."""

    def choose(self, request: Request) -> Any:
        return min(self.servers, key=self.load)


#: The balancers of the lecture, by name (power of two choices is the exercise's).
BALANCERS = {"round robin": RoundRobin, "weighted round robin": WeightedRoundRobin,
             "least connections": LeastConnections, "IP hash": IPHash, "random": RandomChoice,
             "least loaded (stale)": LeastLoaded}


class Server(Node):
    """Works on one request at a time, first come first served, and reports its queue length."""

    def __init__(self, speed: float, mean_service: float, sigma: float, frontends: list,
                 report_interval: float) -> None:
        self.speed = speed
        self.frontends = frontends
        self.report_interval = report_interval
        self.queue: list = []
        # log-normal with the given mean: mu = ln(mean) - sigma^2 / 2
        self.mu = math.log(mean_service / speed) - sigma * sigma / 2
        self.sigma = sigma
        self.served = 0
        self.samples: list[tuple[float, int]] = []

    def on_start(self) -> None:
        self.every(self.report_interval, self.report)

    def report(self) -> None:
        for fe in self.frontends:
            self.send(fe, "report", load=len(self.queue))
        self.samples.append((self.sim.now, len(self.queue)))

    def on_work(self, msg: Any) -> None:
        self.queue.append(msg)
        if len(self.queue) == 1:
            self.set_timer(self.rng.lognormvariate(self.mu, self.sigma), self.done)

    def done(self) -> None:
        msg = self.queue.pop(0)
        self.served += 1
        self.send(msg.src, "result", rid=msg.rid)
        if self.queue:
            self.set_timer(self.rng.lognormvariate(self.mu, self.sigma), self.done)


class FrontEnd(Node):
    """Receives the clients' requests (a Poisson stream) and sends each where its balancer says."""

    def __init__(self, balancer_cls: type, servers: list, weights: dict, rate: float, requests: int,
                 clients: list, client_weights: list, first_id: int) -> None:
        self.servers = servers
        self.open = {s: 0 for s in servers}
        self.reported = {s: 0 for s in servers}
        self.rate = rate
        self.left = requests
        self.clients = clients
        self.client_weights = client_weights
        self.next_id = first_id
        self.started: dict[int, float] = {}
        self.latencies: list[tuple[int, Any, float]] = []   # (request id, server, latency)
        self.balancer = balancer_cls(list(servers), dict(weights), self.sim.rng_for(f"balancer/{self.id}"))
        self.balancer._frontend = self

    def on_start(self) -> None:
        self.set_timer(self.rng.expovariate(self.rate), self.arrive)

    def arrive(self) -> None:
        client = self.rng.choices(self.clients, self.client_weights)[0]
        request = Request(self.next_id, client)
        self.next_id += 1
        server = self.balancer.choose(request)
        if server not in self.open:
            raise InvalidArgument(f"choose({request!r}) returned {server!r}, which is not one of "
                                  f"the servers {self.servers!r}")
        self.open[server] += 1
        self.started[request.id] = self.sim.now
        self.send(server, "work", rid=request.id)
        self.left -= 1
        if self.left > 0:
            self.set_timer(self.rng.expovariate(self.rate), self.arrive)

    def on_result(self, msg: Any) -> None:
        self.open[msg.src] -= 1
        self.latencies.append((msg.rid, msg.src, self.sim.now - self.started.pop(msg.rid)))

    def on_report(self, msg: Any) -> None:
        self.reported[msg.src] = msg.load


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``values``, nearest rank (no interpolation).

    Raises:
        InvalidArgument: ``values`` is empty or ``q`` is outside [0, 100].
    """
    check_number("q", q, low=0, high=100)
    ordered = sorted(values)
    if not ordered:
        raise InvalidArgument("values=[] must not be empty")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class BalanceRun:
    """The outcome of :func:`run_balancer`: every latency, where requests went, queue lengths over time."""

    name: str
    latencies: list[float]
    per_server: dict
    queues: dict = field(default_factory=dict)   # server -> [(time, queue length)] at each report
    speeds: dict = field(default_factory=dict)
    unfinished: int = 0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)

    @property
    def max_queue(self) -> int:
        return max((q for samples in self.queues.values() for _, q in samples), default=0)

    def __repr__(self) -> str:
        return (f"BalanceRun({self.name!r}: {len(self.latencies)} requests, p50={self.p50:.1f}, "
                f"p99={self.p99:.1f}, max queue {self.max_queue}, unfinished {self.unfinished})")


def _check_balancer(balancer: Any) -> type:
    if not (isinstance(balancer, type) and issubclass(balancer, Balancer)):
        raise InvalidArgumentType(f"balancer={balancer!r} must be a subclass of Balancer "
                                  f"(course_lib.topics.partitioning.Balancer)")
    return balancer


def run_balancer(balancer: type, *, seed: int, speeds: Sequence[float] = DEFAULT_SPEEDS,
                 utilisation: float = 0.7, requests: int = 3000, frontends: int = 4,
                 report_interval: float = 50.0, mean_service: float = 10.0, sigma: float = 1.0,
                 clients: int = 200, heavy_clients: float = 0.3, latency: float = 0.5) -> BalanceRun:
    """Run ``requests`` requests through ``frontends`` front ends using ``balancer``; return the run.

    Args:
        balancer: a :class:`Balancer` subclass; each front end gets its own instance.
        seed: the run's seed: same seed, same arrivals, service times and latencies.
        speeds: one relative speed per server (1.0 serves a request in ``mean_service`` on average).
        utilisation: the arrival rate as a fraction of the servers' total capacity, in (0, 1).
        requests: how many requests arrive in all (split evenly across front ends).
        frontends: how many front ends balance independently.
        report_interval: how often (simulated ms) each server reports its queue length.
        mean_service: the mean service time (ms) at speed 1.
        sigma: the log-normal shape of service times (1.0: p99 about 6x the median).
        clients: how many client addresses send requests.
        heavy_clients: the share of requests from the three busiest addresses.
        latency: the one-way network delay (ms).

    Raises:
        InvalidArgument: any argument out of range (each is named).
    """
    _check_balancer(balancer)
    if isinstance(speeds, (str, bytes)) or not isinstance(speeds, Sequence) or len(speeds) < 1:
        raise InvalidArgumentType(f"speeds={speeds!r} must be a non-empty list of positive numbers")
    for s in speeds:
        check_positive("speeds", s)
    check_number("utilisation", utilisation, low=0, high=1, low_open=True, high_open=True)
    check_int("requests", requests, low=1)
    check_int("frontends", frontends, low=1)
    check_positive("report_interval", report_interval)
    check_positive("mean_service", mean_service)
    check_number("sigma", sigma, low=0)
    check_int("clients", clients, low=3)
    check_probability("heavy_clients", heavy_clients)
    check_number("latency", latency, low=0)

    sim = Simulation(seed=seed, latency=Constant(latency), trace=False)
    servers = [f"s{i}" for i in range(len(speeds))]
    fes = [f"fe{i}" for i in range(frontends)]
    weights = dict(zip(servers, speeds))
    rate = utilisation * sum(speeds) / mean_service / frontends
    addresses = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(clients)]
    light = (1 - heavy_clients) / (clients - 3)
    client_weights = [heavy_clients / 3] * 3 + [light] * (clients - 3)
    per_fe = [requests // frontends + (i < requests % frontends) for i in range(frontends)]
    for i, fe in enumerate(fes):
        sim.add_node(FrontEnd, fe, balancer, servers, weights, rate, per_fe[i], addresses,
                     client_weights, sum(per_fe[:i]))
    for server, speed in zip(servers, speeds):
        sim.add_node(Server, server, speed, mean_service, sigma, fes, report_interval)
    horizon = requests / (rate * frontends)
    sim.run(until=2 * horizon)
    done = [entry for fe in fes for entry in sim.node(fe).latencies]
    # Requests still waiting at the end count with the time they have waited so far (a lower
    # bound): leaving them out would reward a balancer for starving a slow server's queue.
    waiting = [(rid, None, sim.now - t) for fe in fes for rid, t in sim.node(fe).started.items()]
    done.sort()
    queues = {s: sim.node(s).samples for s in servers}
    per_server = {s: sim.node(s).served for s in servers}
    unfinished = len(waiting)
    done += sorted(waiting)
    name = next((k for k, v in BALANCERS.items() if v is balancer), balancer.__name__)
    run = BalanceRun(name, [lat for _, _, lat in done], per_server, queues, weights, unfinished)
    return run


__all__ = ["DEFAULT_SPEEDS", "Request", "Balancer", "RoundRobin", "WeightedRoundRobin",
           "LeastConnections", "IPHash", "RandomChoice", "LeastLoaded", "BALANCERS", "Server",
           "FrontEnd", "BalanceRun", "run_balancer", "percentile", "balls_into_bins"]


def balls_into_bins(balls: int, bins: int, *, choices: int = 1, seed: int) -> int:
    """Throw ``balls`` into ``bins``, each into the least full of ``choices`` random bins; return the fullest bin.

    With one choice the fullest bin holds about ln n / ln ln n balls (n = balls = bins); with
    two, about ln ln n / ln 2: an exponential improvement from one more look (Azar et al. 1994,
    Mitzenmacher 2001). This is the static idea; balancing live requests is the exercise.

    Raises:
        InvalidArgument: a count below 1, or ``choices`` > ``bins``.
    """
    import random as _random
    check_int("balls", balls, low=1)
    check_int("bins", bins, low=1)
    check_int("choices", choices, low=1, high=bins)
    check_int("seed", seed)
    rng = _random.Random(f"{seed}/balls")
    fill = [0] * bins
    for _ in range(balls):
        best = min((rng.randrange(bins) for _ in range(choices)), key=lambda b: (fill[b], b))
        fill[best] += 1
    return max(fill)
