"""Messages: immutable values passed between nodes.

A message has a ``type`` (which picks the receiver's ``on_<type>`` handler),
a ``src``, a ``dst`` and named fields. The receiver never shares a mutable
object with the sender: fields that are not plain immutable values are deep
copied for every delivery, so a learner's bug cannot hide behind a shared
list or dict.
"""

from __future__ import annotations

import copy
import keyword
from types import MappingProxyType

try:  # the C accessor namedtuple uses; it reads the tuple slot directly
    from collections import _tuplegetter as _slot
except ImportError:  # pragma: no cover - other Pythons
    def _slot(index: int, doc: str | None) -> property:  # type: ignore[misc]
        return property(lambda self: tuple.__getitem__(self, index), doc=doc)
from typing import Any

_IMMUTABLE = (int, float, str, bool, bytes, type(None), frozenset)


def is_immutable(value: Any) -> bool:
    """Return True when ``value`` can be shared between nodes without copying."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return True
    if kind is tuple:
        return all(is_immutable(v) for v in value)
    return False


def check_type_name(msg_type: Any) -> str:
    """Return ``msg_type`` if it can name an ``on_<type>`` handler, else raise."""
    if not isinstance(msg_type, str):
        raise TypeError(f"msg_type={msg_type!r} must be a str such as 'replicate'")
    if not msg_type.isidentifier() or keyword.iskeyword(msg_type):
        raise ValueError(
            f"msg_type={msg_type!r} must be a Python identifier "
            f"(it names the handler on_{msg_type})"
        )
    return msg_type


_RESERVED = frozenset({"type", "fields", "src", "dst", "id", "reply_to", "get"})
_CHECKED_TYPES: set = set()


def _rebuild(state: tuple) -> "Message":
    return tuple.__new__(Message, state)


class Message(tuple):
    """An immutable message with a type and named fields.

    Fields read as attributes (``msg.key``) or by subscript (``msg["key"]``);
    ``src``, ``dst`` and ``id`` are filled in when the message is sent. Treat a
    message as a value: it cannot be changed, only answered or sent anew.

    Example:
        >>> m = Message("replicate", key="x", value=1)
        >>> m.type, m.key, m["value"]
        ('replicate', 'x', 1)
    """

    # A tuple underneath: immutable for free and cheap to build, which matters
    # because every send builds one (see benchmarks/bench_delivery.py).
    __slots__ = ()

    type = _slot(0, "The message type; picks the handler ``on_<type>``.")
    fields = property(lambda self: MappingProxyType(tuple.__getitem__(self, 1)),
                      doc="The named fields, as a read-only mapping.")
    src = _slot(2, "The sender's node id (None until sent).")
    dst = _slot(3, "The receiver's node id (None until sent).")
    id = _slot(4, "A number unique to this send within the simulation.")
    reply_to = _slot(5, "The id of the request this message answers, if any.")
    _frozen = _slot(6, None)

    def __new__(cls, msg_type: str, /, **fields: Any) -> "Message":
        return tuple.__new__(cls, (msg_type, fields, None, None, None, None,
                                   _check(msg_type, fields)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        fields = tuple.__getitem__(self, 1)
        try:
            return fields[name]
        except KeyError:
            raise AttributeError(
                f"message {self.type!r} has no field {name!r}; its fields are {sorted(fields)}"
            ) from None

    def __getitem__(self, name: str) -> Any:  # type: ignore[override]
        fields = tuple.__getitem__(self, 1)
        try:
            return fields[name]
        except (KeyError, TypeError):
            raise KeyError(
                f"message {tuple.__getitem__(self, 0)!r} has no field {name!r}; its fields are {sorted(fields)}"
            ) from None

    def get(self, name: str, default: Any = None) -> Any:
        """Return field ``name`` or ``default`` when the message has no such field."""
        return tuple.__getitem__(self, 1).get(name, default)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"messages are immutable: cannot set {name!r} on a {self.type!r} message; "
            "send a new message instead"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(
            f"messages are immutable: cannot delete {name!r} from a {self.type!r} message"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (tuple.__getitem__(self, 0) == tuple.__getitem__(other, 0)
                and tuple.__getitem__(self, 1) == tuple.__getitem__(other, 1))

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self.type)

    def __reduce__(self) -> tuple:
        return (_rebuild, (tuple(self),))

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in tuple.__getitem__(self, 1).items())
        route = f" {self.src!r}->{self.dst!r}" if self.src is not None else ""
        return f"Message({self.type!r}{route}{', ' if body else ''}{body})"

    def _stamped(self, src: Any, dst: Any, msg_id: int, reply_to: int | None) -> "Message":
        """Return the copy that travels the wire (framework use)."""
        t, fields, _, _, _, _, frozen = self
        return tuple.__new__(Message, (t, fields if frozen else copy.deepcopy(fields),
                                       src, dst, msg_id, reply_to, frozen))

    def _delivery_copy(self) -> "Message":
        """Return the object handed to a handler: itself if immutable, else a deep copy."""
        if tuple.__getitem__(self, 6):
            return self
        t, fields, src, dst, msg_id, reply_to, frozen = self
        return tuple.__new__(Message, (t, copy.deepcopy(fields), src, dst, msg_id, reply_to, frozen))


def _check(msg_type: str, fields: dict) -> bool:
    """Validate a message's type and field names; return whether all its fields are immutable."""
    if msg_type not in _CHECKED_TYPES:
        check_type_name(msg_type)
        _CHECKED_TYPES.add(msg_type)
    if fields:
        if not _RESERVED.isdisjoint(fields):
            raise ValueError(
                f"field names {sorted(_RESERVED.intersection(fields))} are reserved "
                f"for the message itself; rename them (message type {msg_type!r})"
            )
        for value in fields.values():
            if type(value) not in _IMMUTABLE and not is_immutable(value):
                return False
    return True


def wire_message(msg_type: str, fields: dict, src: Any, dst: Any, msg_id: int,
                 reply_to: int | None) -> Message:
    """Build a sent message straight from a type and fields (framework fast path of ``send``)."""
    frozen = _check(msg_type, fields)
    if not frozen:
        fields = copy.deepcopy(fields)
    return tuple.__new__(Message, (msg_type, fields, src, dst, msg_id, reply_to, frozen))
