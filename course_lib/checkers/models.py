"""Sequential specifications: what a single, correct copy of an object does.

A checker compares a concurrent history with a *model*: the object's
behaviour when operations run one at a time. A model is any object with

- ``init() -> state``: the initial state;
- ``step(state, op) -> (ok, new_state)``: apply the
  :class:`~course_lib.history.Operation` ``op`` to ``state``; ``ok`` is False if
  a sequential object could not have produced what ``op`` observed (for
  example a read returning another value). For an indeterminate ``op``
  (``op.indeterminate``) the output is unknown and must be ignored.

and optionally

- ``partition(ops) -> dict[label, list[Operation]]``: split the operations into
  independent groups (usually one per key) that can be checked separately;
- ``describe(state) -> str``: a readable state for explanations;
- ``read_only(op) -> bool``: True if ``op`` never changes the state, so an
  indeterminate ``op`` can be dropped before checking;
- ``name``: a short name for reports.

States must be hashable (checkers remember the states they have seen) and
should be immutable: ``step`` returns a new state, never edits its argument.

Example: a counter whose ``incr`` returns the new value::

    >>> class Counter:
    ...     name = "counter"
    ...     def init(self):
    ...         return 0
    ...     def step(self, state, op):
    ...         if op.indeterminate:
    ...             return True, state + 1
    ...         return op.output == state + 1, state + 1
"""

from __future__ import annotations

from typing import Any, Hashable, Iterable, Protocol, runtime_checkable

from course_lib.history import Operation
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

__all__ = ["KVModel", "Model", "RegisterModel", "resolve_model", "MODELS"]

# Inline instructions understood by the linearizability search.
_GENERIC, _READ, _WRITE, _APPEND, _CAS = range(5)


@runtime_checkable
class Model(Protocol):
    """The protocol a sequential specification follows (see the module docs)."""

    def init(self) -> Hashable:
        """Return the initial state."""
        ...

    def step(self, state: Hashable, op: Operation) -> tuple[bool, Hashable]:
        """Apply ``op`` to ``state``; return whether it is legal and the new state."""
        ...


def _by_key(ops: Iterable[Operation]) -> dict[Hashable, list[Operation]]:
    groups: dict[Hashable, list[Operation]] = {}
    for op in ops:
        groups.setdefault(op.key, []).append(op)
    return groups


class RegisterModel:
    """Model a read/write/compare-and-set register per key, None initially.

    Operations: ``read`` (the output is the value read), ``write`` (the value
    is written), ``cas`` with value ``[old, new]`` (an ``ok`` cas swapped:
    the register held ``old``; a failed cas never reaches a checker). Keys are
    independent registers.
    """

    name = "register"
    functions = ("read", "write", "cas")

    def init(self) -> Hashable:
        """Return None, the value of a register nobody wrote."""
        return None

    def step(self, state: Hashable, op: Operation) -> tuple[bool, Hashable]:
        """Apply ``op`` to ``state``.

        Raises:
            InvalidArgument: If ``op.f`` is not a register operation or a cas
                value is not a pair (a ValueError).
        """
        f = op.f
        if f == "read":
            return (op.indeterminate or op.output == state), state
        if f == "write":
            return True, op.value
        if f == "cas":
            try:
                old, new = op.value
            except (TypeError, ValueError):
                raise InvalidArgument(
                    f"value={op.value!r} of {op} must be a pair [old, new]") from None
            # An indeterminate cas that did not swap is the same as one that
            # never happened, so when it happens it must swap.
            return state == old, new
        raise InvalidArgument(f"f={f!r} of {op} is not a register operation "
                              f"({', '.join(self.functions)})")

    def _compile(self, op: Operation) -> tuple | None:
        # The search's inline form of step (see linearizability._PartitionSearch);
        # None when a subclass changes step or the op needs the general path.
        if type(self).step is not RegisterModel.step or op.status != "ok":
            return None
        if op.f == "read":
            return (_READ, op.output, None)
        if op.f == "write":
            return (_WRITE, op.value, None)
        if op.f == "cas" and isinstance(op.value, (tuple, list)) and len(op.value) == 2:
            return (_CAS, op.value[0], op.value[1])
        return None

    def partition(self, ops: Iterable[Operation]) -> dict[Hashable, list[Operation]]:
        """Split ``ops`` by key: each key is an independent register."""
        return _by_key(ops)

    def read_only(self, op: Operation) -> bool:
        """Return True for reads."""
        return op.f == "read"

    def describe(self, state: Hashable) -> str:
        """Return the register's value as text."""
        return repr(state)

    def __repr__(self) -> str:
        return "RegisterModel()"


class KVModel:
    """Model a key-value store of strings: get, put and append, ``""`` initially.

    Operations: ``get`` (the output is the value read; a missing key reads as
    ``""``, and a get returning None is taken to read ``""``), ``put``
    (replace), ``append`` (concatenate). Keys are independent, so the state is
    the string of one key and :meth:`partition` splits by key.
    """

    name = "kv"
    functions = ("get", "put", "append")

    def init(self) -> Hashable:
        """Return ``""``, the value of a missing key."""
        return ""

    def step(self, state: Hashable, op: Operation) -> tuple[bool, Hashable]:
        """Apply ``op`` to ``state``.

        Raises:
            InvalidArgument: If ``op.f`` is not a key-value operation, or an
                append's value cannot be appended to the key's string (a
                ValueError).
        """
        f = op.f
        if f == "get":
            if op.indeterminate:
                return True, state
            out = op.output
            return (out == state or (out is None and state == "")), state
        if f == "put":
            return True, op.value
        if f == "append":
            try:
                return True, state + op.value
            except TypeError:
                raise InvalidArgument(
                    f"value={op.value!r} of {op} cannot be appended to the value "
                    f"{state!r}: the kv model appends strings") from None
        raise InvalidArgument(f"f={f!r} of {op} is not a key-value operation "
                              f"({', '.join(self.functions)})")

    def _compile(self, op: Operation) -> tuple | None:
        # The search's inline form of step (see linearizability._PartitionSearch).
        if type(self).step is not KVModel.step or op.status != "ok":
            return None
        if op.f == "get":
            return (_READ, "" if op.output is None else op.output, None)
        if op.f == "put":
            return (_WRITE, op.value, None)
        if op.f == "append" and isinstance(op.value, str):
            return (_APPEND, op.value, None)
        return None

    def partition(self, ops: Iterable[Operation]) -> dict[Hashable, list[Operation]]:
        """Split ``ops`` by key: keys are independent."""
        return _by_key(ops)

    def read_only(self, op: Operation) -> bool:
        """Return True for gets."""
        return op.f == "get"

    def describe(self, state: Hashable) -> str:
        """Return the key's value as text."""
        return repr(state)

    def __repr__(self) -> str:
        return "KVModel()"


MODELS = {"register": RegisterModel, "kv": KVModel}
"""Built-in models by name."""


def resolve_model(model: Any) -> Any:
    """Return a model object for a name in :data:`MODELS` or a model object.

    Raises:
        InvalidArgument: If ``model`` is an unknown name (a ValueError).
        InvalidArgumentType: If ``model`` is a class, or lacks callable
            ``init`` and ``step`` (also a TypeError).

    Example::

        >>> resolve_model("kv")
        KVModel()
    """
    if isinstance(model, str):
        if model not in MODELS:
            raise InvalidArgument(
                f"model={model!r} is not one of {', '.join(map(repr, MODELS))}; "
                "or pass an object with init() and step(state, op)")
        return MODELS[model]()
    if isinstance(model, type):
        raise InvalidArgumentType(
            f"model={model!r} is a class; pass an instance, e.g. {model.__name__}()")
    if not (callable(getattr(model, "init", None)) and callable(getattr(model, "step", None))):
        raise InvalidArgumentType(f"model={model!r} needs methods init() and step(state, op)")
    return model


def model_name(model: Any) -> str:
    """Return the model's ``name`` attribute, or its class name."""
    return getattr(model, "name", None) or type(model).__name__
