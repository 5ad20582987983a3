"""A lock server's answers compared, request by request, with its contract on seeded random requests.

The lease scenario checks what leaders believe; a lock server that bends a
rule of its contract (a renewal that revives an expired lease, a new token for
a holder that asks again) can pass it when no leader happens to send the
request the rule is about. :func:`lock_server_scenario` sends a seeded random
mix of ``acquire`` and ``renew`` requests from three scripted candidates,
close to and across lease expiries, to the learner's server, optionally
crashing it between requests, and checks every reply against a compact
model of the contract.
"""

from __future__ import annotations

from typing import Any

from ....sim import Constant, Node, Simulation
from ....sim.errors import ScenarioFailed
from ....sim.validation import InvalidArgumentType, check_int, check_positive, check_type

LATENCY = 0.25


class _ScriptedCandidate(Node):
    """Sends ``acquire`` or ``renew`` at the times of its script; keeps every request and its reply.

    A renewal's token is the last one this candidate was granted (``"mine"``),
    the one before (``"old"``), or the last one granted to anyone else (``"other"``).
    """

    def __init__(self, server: Any, script: list, granted: list) -> None:
        self.server = server
        self.script = list(script)
        self.granted = granted    # shared by the candidates: (candidate, token) of every grant, in order
        self.asked: list[dict] = []

    def on_start(self) -> None:
        for at, kind, which in self.script:
            self.set_timer(at, self.ask, kind, which)

    def _token(self, which: str) -> Any:
        mine = [t for who, t in self.granted if who == self.id]
        if which == "other":
            others = [t for who, t in self.granted if who != self.id]
            return others[-1] if others else None
        if which == "old" and len(set(mine)) > 1:
            return [t for t in mine if t != mine[-1]][-1]
        return mine[-1] if mine else None

    def ask(self, kind: str, which: str) -> None:
        fields = {"token": self._token(which)} if kind == "renew" else {}
        entry = {"sent": self.sim.now, "src": self.id, "kind": kind, "reply": None, **fields}
        self.asked.append(entry)
        self.request(self.server, kind, timeout=10 * LATENCY, on_reply=lambda r: self._got(entry, r), **fields)

    def _got(self, entry: dict, reply: Any) -> None:
        entry["reply"] = reply
        if reply.type == "granted":
            self.granted.append((self.id, reply.get("token")))


def _text(entry: dict) -> str:
    token = f"(token={entry['token']!r})" if entry["kind"] == "renew" else "()"
    return f"{entry['kind']}{token} from {entry['src']} arriving at {entry['sent'] + LATENCY:g}"


def _reply_text(reply: Any) -> str:
    if reply is None:
        return "no reply"
    fields = {k: reply.get(k) for k in ("token", "ttl", "holder") if reply.get(k) is not None}
    return f"{reply.type}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


def lock_server_scenario(server_cls: type, seed: Any = 0, *, requests: int = 60, ttl: float = 5.0,
                         crashes: bool = False) -> Simulation:
    """Send seeded random lease requests to ``server_cls(ttl)`` and check every reply against its contract.

    Three scripted candidates ``n1``, ``n2``, ``n3`` send ``requests``
    requests in all, 0.2 to 3 time units apart, to the server ``"lock"``
    (every message takes 0.25); a renewal carries the candidate's own current
    token, an older one of its own, or someone else's. With ``crashes``, the
    server also crashes now and then between two requests and restarts before
    the next. The contract (the exercise's):

    - ``acquire`` while someone else holds an unexpired lease: ``refused(holder=...)``;
    - otherwise ``granted(token, ttl)``, the ttl starting now: a new lease
      (free, expired, or someone else's) gets a token higher than every token
      handed out before; the holder asking again while its lease is valid keeps its token;
    - ``renew(token)``: ``granted`` with the same token only for the current,
      unexpired lease of that holder with that token; anything else ``refused``.

    Returns:
        The simulation, after a successful check.

    Raises:
        ScenarioFailed: a reply broke the contract (the message names the
            request, the reply and what was due).
        InvalidArgument: a bad argument (named in the message).
    """
    if not (isinstance(server_cls, type) and issubclass(server_cls, Node)):
        raise InvalidArgumentType(f"server_cls={server_cls!r} must be a class, a subclass of course_lib.sim.Node")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InvalidArgumentType(f"seed={seed!r} must be an int or a str")
    check_int("requests", requests, low=1, high=10_000)
    check_positive("ttl", ttl)
    check_type("crashes", crashes, bool, what="True or False")
    sim = Simulation(seed=seed, latency=Constant(LATENCY))
    rng = sim.rng_for("lock-server-requests")
    ids = ["n1", "n2", "n3"]
    scripts: dict = {n: [] for n in ids}
    at = 1.0
    downs = []
    for number in range(requests):
        if crashes and number and rng.random() < 0.15:
            # Down after the last request arrived and up again before the next one arrives.
            downs.append(at + LATENCY + 0.05)
            at += 0.2 * ttl
        at += rng.uniform(0.04, 0.6) * ttl
        kind = "acquire" if rng.random() < 0.45 else "renew"
        which = rng.choice(["mine"] * 6 + ["old", "other"])
        scripts[ids[rng.randrange(3)]].append((at, kind, which))
    sim.add_node(server_cls, "lock", ttl)
    granted: list = []
    for n in ids:
        sim.add_node(_ScriptedCandidate, n, "lock", scripts[n], granted)
    for down in downs:
        sim.nemesis.crash("lock", at=down, restart_at=down + 0.3)
    sim.run(until=at + 20 * LATENCY)
    asked = sorted((e for n in ids for e in sim.node(n).asked), key=lambda e: e["sent"])
    holder, token, expires, highest = None, None, float("-inf"), None
    for entry in asked:
        now, src, reply = entry["sent"] + LATENCY, entry["src"], entry["reply"]
        valid = now < expires
        if entry["kind"] == "acquire":
            if holder != src and valid:
                due = f"refused(holder={holder!r}): {holder} holds the lease until {expires:g}"
                if reply is None or reply.type != "refused" or reply.get("holder") != holder:
                    raise ScenarioFailed(f"{_text(entry)} was answered {_reply_text(reply)}; due: {due}", sim)
                continue
            new = holder != src or not valid
            why = ("a new lease (it was free, expired or someone else's): a token higher than every "
                   f"token handed out before ({highest!r})") if new else \
                f"{src} asks again while its lease is valid: it keeps its token {token!r}"
        else:
            if not (holder == src and entry["token"] == token and valid):
                state = "no lease" if holder is None else \
                    f"{holder}'s lease with token {token!r}, {'valid until' if valid else 'expired at'} {expires:g}"
                if reply is None or reply.type != "refused":
                    raise ScenarioFailed(
                        f"{_text(entry)} was answered {_reply_text(reply)}; due: refused (the server "
                        f"held {state}): a renewal extends only the current, unexpired lease of that "
                        "holder with that token, and never revives or takes over a lease", sim)
                continue
            new = False
            why = f"{src} renews its valid lease: the same token {token!r}"
        given = reply.get("token") if reply is not None and reply.type == "granted" else None
        fine = given is not None and reply.get("ttl") == ttl and (
            (new and (highest is None or given > highest)) or (not new and given == token))
        if not fine:
            raise ScenarioFailed(f"{_text(entry)} was answered {_reply_text(reply)}; due: granted with "
                                 f"ttl={ttl:g} and {why}", sim)
        holder, token, expires = src, given, now + ttl
        highest = given if highest is None or given > highest else highest
    return sim
