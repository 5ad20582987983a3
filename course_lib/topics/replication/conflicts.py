"""Multi-leader conflicts: version vectors, siblings, and the tutorial's last-write-wins losing updates.

* :class:`VersionVector`: a map ``replica -> counter``, compared entry by entry;
* :class:`SiblingStore`: a replica's store that keeps concurrent values as siblings
  (Dynamo, Riak) and hands the reader a context to write back with;
* :func:`multi_leader_run`: two leaders, each with its own (skewed) clock, taking
  writes to one shopping cart and replicating to each other asynchronously;
  resolved with the tutorial's :class:`~course_lib.topics.replication.naive.LWWResolver`
  or kept as siblings and merged by the application. Counts the items lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ...sim import Node, Simulation
from ...sim.validation import InvalidArgumentType, check_choice, check_int, check_number
from .naive import LWWResolver


class VersionVector:
    """An immutable version vector: ``{replica: counter}``; missing entries are 0.

    Example:
        >>> a = VersionVector().increment("n1")
        >>> b = a.increment("n2")
        >>> a.compare(b), b.compare(a), a.increment("n1").compare(b)
        ('before', 'after', 'concurrent')
    """

    __slots__ = ("counts",)

    def __init__(self, counts: Mapping[Any, int] | None = None) -> None:
        counts = dict(counts or {})
        for node, n in counts.items():
            check_int(f"counts[{node!r}]", n, low=0)
        self.counts = {k: counts[k] for k in sorted(counts, key=repr) if counts[k]}

    def increment(self, node: Any) -> "VersionVector":
        """Return a copy with ``node``'s entry one higher."""
        out = dict(self.counts)
        out[node] = out.get(node, 0) + 1
        return VersionVector(out)

    def merge(self, other: "VersionVector") -> "VersionVector":
        """Return the entry-wise maximum of the two vectors."""
        _check_vv("other", other)
        keys = set(self.counts) | set(other.counts)
        return VersionVector({k: max(self.counts.get(k, 0), other.counts.get(k, 0)) for k in keys})

    def compare(self, other: "VersionVector") -> str:
        """Return ``"equal"``, ``"before"``, ``"after"`` or ``"concurrent"``."""
        _check_vv("other", other)
        keys = set(self.counts) | set(other.counts)
        less = any(self.counts.get(k, 0) < other.counts.get(k, 0) for k in keys)
        more = any(self.counts.get(k, 0) > other.counts.get(k, 0) for k in keys)
        return "equal" if not (less or more) else "before" if less and not more else \
            "after" if more and not less else "concurrent"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VersionVector) and self.counts == other.counts

    def __hash__(self) -> int:
        return hash(tuple(self.counts.items()))

    def __repr__(self) -> str:
        return "VV(" + ", ".join(f"{k}:{v}" for k, v in self.counts.items()) + ")"


def _check_vv(name: str, value: Any) -> None:
    if not isinstance(value, VersionVector):
        raise InvalidArgumentType(f"{name}={value!r} must be a VersionVector")


class SiblingStore:
    """One replica's store keeping concurrent writes as siblings.

    ``get(key)`` returns ``(values, context)``; ``put(key, value, context)``
    replaces exactly the siblings the context has seen and keeps the others;
    ``receive(key, siblings)`` folds in another replica's siblings.
    """

    def __init__(self, replica: Any) -> None:
        self.replica = replica
        self.data: dict = {}  # key -> list of (VersionVector, value)

    def get(self, key: Any) -> tuple[list, VersionVector]:
        siblings = self.data.get(key, [])
        context = VersionVector()
        for vv, _ in siblings:
            context = context.merge(vv)
        return [v for _, v in siblings], context

    def put(self, key: Any, value: Any, context: VersionVector | None = None) -> VersionVector:
        context = VersionVector() if context is None else context
        _check_vv("context", context)
        _, known = self.get(key)
        vv = known.merge(context).increment(self.replica)
        kept = [(v, x) for v, x in self.data.get(key, []) if v.compare(context) not in ("before", "equal")]
        self.data[key] = kept + [(vv, value)]
        return vv

    def receive(self, key: Any, siblings: Iterable[tuple]) -> None:
        merged = list(self.data.get(key, []))
        for vv, value in siblings:
            _check_vv("siblings' version", vv)
            if any(v.compare(vv) in ("after", "equal") for v, _ in merged):
                continue
            merged = [(v, x) for v, x in merged if v.compare(vv) != "before"] + [(vv, value)]
        self.data[key] = merged


@dataclass(frozen=True)
class Stamped:
    """A value with the timestamp its leader's clock gave it (what :class:`LWWResolver` compares)."""

    value: Any
    timestamp: float
    origin: Any


class CartLeader(Node):
    """A leader of a multi-leader setup: takes cart additions, replicates them to the other leader."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.lww: Stamped | None = None
        self.store = SiblingStore(self.id)
        self.added: list = []

    def add_item(self, item: Any) -> None:
        self.added.append(item)
        if self.mode == "lww":
            cart = self.lww.value if self.lww else frozenset()
            self.lww = Stamped(cart | {item}, self.clock.now(), self.id)
            self.broadcast("replicate", stamped=self.lww)
        else:
            values, context = self.store.get("cart")
            merged = frozenset().union(*values)  # the application's merge: union of the siblings
            self.store.put("cart", merged | {item}, context)
            self.broadcast("siblings", siblings=tuple(self.store.data["cart"]))

    def on_replicate(self, msg):
        self.lww = msg.stamped if self.lww is None else LWWResolver().resolve([self.lww, msg.stamped])

    def on_siblings(self, msg):
        self.store.receive("cart", msg.siblings)

    def cart(self) -> frozenset:
        if self.mode == "lww":
            return self.lww.value if self.lww else frozenset()
        values, _ = self.store.get("cart")
        return frozenset().union(*values)


@dataclass
class CartRun:
    sim: Simulation
    added: int
    carts: dict
    lost: int
    siblings: int

    def __repr__(self) -> str:
        return (f"<CartRun {self.added} items added, {self.lost} lost; carts "
                f"{ {k: len(v) for k, v in self.carts.items()} }>")


def multi_leader_run(mode: str, *, seed: int | str, items: int = 20, skew: float = 0.0,
                     lag: float = 30.0, gap: float = 10.0) -> CartRun:
    """Two leaders take ``items`` cart additions (each at one of them) and replicate asynchronously.

    Args:
        mode: ``"lww"`` (the tutorial's resolver on each leader's clock) or ``"siblings"``
            (version vectors; the application merges siblings by union).
        seed: the random seed.
        items: how many additions, one every ``gap`` ms on average, at random leaders.
        skew: leader ``b``'s clock runs this many ms behind ``a``'s.
        lag: mean replication delay between the leaders (ms).

    Returns:
        A :class:`CartRun`; ``lost`` counts added items missing from the final cart.

    Raises:
        InvalidArgument: ``mode`` is unknown, or a number is out of range.
    """
    from ...sim import Exponential

    check_choice("mode", mode, ("lww", "siblings"))
    check_int("items", items, low=0, high=100_000)
    check_number("skew", skew)
    check_number("lag", lag, low=0, low_open=True)
    check_number("gap", gap, low=0, low_open=True)
    sim = Simulation(seed=seed, latency=Exponential(lag, minimum=1.0))
    sim.add_node(CartLeader, "a", mode)
    sim.add_node(CartLeader, "b", mode, clock_offset=-skew)
    rng = sim.rng_for("cart workload")
    t = 0.0
    for i in range(items):
        t += rng.expovariate(1.0 / gap)
        leader = "a" if rng.random() < 0.5 else "b"
        sim.at(t, sim[leader].add_item, f"item{i}")
    sim.run(until=t + 20 * lag)
    carts = {nid: sim[nid].cart() for nid in ("a", "b")}
    final = carts["a"]
    siblings = len(sim["a"].store.data.get("cart", [])) if mode == "siblings" else 1
    return CartRun(sim=sim, added=items, carts=carts, lost=items - len(final), siblings=siblings)
