"""Check that replicas have converged: every replica holds the same state.

Eventual consistency promises that once writes stop and messages get through,
all replicas end up equal. :func:`converged` checks the "equal" part on a
snapshot of replica states and, when they differ, says which replicas differ
from the majority and how.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterator, Mapping, Sequence

from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

__all__ = ["ConvergenceResult", "converged"]


@dataclass(repr=False)
class ConvergenceResult:
    """The verdict of :func:`converged`; truthy only when valid.

    Attributes:
        valid: True if all replica states are equal.
        groups: Replica names grouped by equal state, largest group first
            (ties in order of first appearance).
        states: One state per group, in the same order.
        differing: Replicas outside the first (majority) group.
        differences: For each differing replica, a line saying how its state
            differs from the majority's (per key for mapping states).
    """

    valid: bool
    groups: list[list[Hashable]] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)
    differing: list[Hashable] = field(default_factory=list)
    differences: dict[Hashable, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.valid

    def __repr__(self) -> str:
        return (f"<ConvergenceResult valid={self.valid!r}: {len(self.groups)} distinct "
                f"state{'s' if len(self.groups) != 1 else ''}, differing={self.differing!r}>")

    def explain(self) -> str:
        """Return the verdict and, for each differing replica, how it differs."""
        replicas = sum(len(group) for group in self.groups)
        if self.valid:
            return f"Converged: all {replicas} replicas hold {self.states[0]!r}."
        majority = self.groups[0]
        lines = [f"Not converged: {len(self.groups)} distinct states among {replicas} "
                 f"replicas; {_names(majority)} hold {_short(self.states[0])}."]
        lines += [f"  {name}: {self.differences[name]}" for name in self.differing]
        return "\n".join(lines)


def _names(names: Sequence[Hashable]) -> str:
    return ", ".join(str(n) for n in names)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _difference(state: Any, reference: Any) -> str:
    if isinstance(state, Mapping) and isinstance(reference, Mapping):
        parts = []
        for key in list(reference) + [k for k in state if k not in reference]:
            if key not in state:
                parts.append(f"{key!r} missing (majority has {_short(reference[key], 30)})")
            elif key not in reference:
                parts.append(f"{key!r}={_short(state[key], 30)} extra")
            elif not _equal(state[key], reference[key]):
                parts.append(f"{key!r}={_short(state[key], 30)} "
                             f"(majority has {_short(reference[key], 30)})")
        return "; ".join(parts)
    return f"holds {_short(state)}"


def _equal(a: Any, b: Any) -> bool:
    """Return ``a == b``, except that NaN equals NaN, also inside dicts, lists and tuples.

    Two replicas that both hold NaN hold the same state, though ``nan == nan``
    is False in Python.
    """
    if a == b:
        return True
    if isinstance(a, float) and isinstance(b, float):
        return math.isnan(a) and math.isnan(b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if type(a) is type(b) and isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return False


def _named_states(replica_states: Any) -> Iterator[tuple[Hashable, Any]]:
    if isinstance(replica_states, Mapping):
        return iter(list(replica_states.items()))
    if isinstance(replica_states, Sequence) and not isinstance(replica_states, (str, bytes)):
        return iter(list(enumerate(replica_states)))
    hint = ("; wrap it in list(...) to name replicas by position"
            if isinstance(replica_states, Iterator) else "")
    raise InvalidArgumentType(
        f"replica_states={replica_states!r} must be a mapping from replica name to state, "
        f"or a sequence of states{hint}")


def converged(replica_states: Mapping[Hashable, Any] | Sequence[Any]) -> ConvergenceResult:
    """Check that all replicas hold equal states.

    States are compared with ``==``, so they need not be hashable (dicts,
    lists and sets are fine); NaN counts as equal to NaN, also inside dicts,
    lists and tuples, since two replicas holding NaN hold the same value.

    Args:
        replica_states: A mapping from replica name to state, or a sequence of
            states (named by index).

    Returns:
        A :class:`ConvergenceResult`.

    Raises:
        InvalidArgument: If there are no replicas (a ValueError).
        InvalidArgumentType: If ``replica_states`` is neither a mapping nor a
            sequence (a set or a generator has no stable names), or two
            states cannot be compared with ``==`` (also a TypeError).

    Example::

        >>> r = converged({"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 2}})
        >>> r.valid, r.differing
        (False, ['c'])
    """
    items = list(_named_states(replica_states))
    if not items:
        raise InvalidArgument(
            f"replica_states is empty: there are no replicas to compare (got {replica_states!r})")
    groups: list[list[Hashable]] = []
    states: list[Any] = []
    for name, state in items:
        for group, representative in zip(groups, states):
            try:
                same = bool(_equal(state, representative))
            except (TypeError, ValueError) as exc:
                raise InvalidArgumentType(
                    f"replica_states[{name!r}]={_short(state)} cannot be compared with "
                    f"replica_states[{group[0]!r}] using ==: {exc}") from None
            if same:
                group.append(name)
                break
        else:
            groups.append([name])
            states.append(state)
    ranked = sorted(range(len(groups)), key=lambda g: -len(groups[g]))  # stable: ties keep order
    groups = [groups[g] for g in ranked]
    states = [states[g] for g in ranked]
    differing = [name for group in groups[1:] for name in group]
    reference = states[0]
    state_of = dict(zip([n for g in groups for n in g],
                        [s for g, s in zip(groups, states) for _ in g]))
    differences = {name: _difference(state_of[name], reference) for name in differing}
    return ConvergenceResult(len(groups) == 1, groups, states, differing, differences)
