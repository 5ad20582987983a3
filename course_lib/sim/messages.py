"""Messages: immutable values passed between nodes.

A message has a ``type`` (which picks the receiver's ``on_<type>`` handler),
a ``src``, a ``dst`` and named fields. The receiver never shares a mutable
object with the sender: fields that are not plain immutable values are deep
copied for every delivery, so a learner's bug cannot hide behind a shared
list or dict.

A message is a value: two messages are equal when they have the same type,
the same route (``src`` and ``dst``) and equal fields, and equal messages hash
alike, so a set of acknowledgements counts each sender once. The transport's
bookkeeping (``id``, ``reply_to``) is not part of the value: a message
delivered twice by a duplicating network equals itself.
"""

from __future__ import annotations

import copy
import keyword
from types import MappingProxyType
from typing import Any

from .validation import InvalidArgument, InvalidArgumentType

#: Types whose values can be shared between nodes without copying.
_ATOMIC = frozenset({int, float, complex, str, bool, bytes, type(None)})
#: Names a field may not take: the message's own attributes and methods.
_RESERVED = frozenset({"type", "fields", "src", "dst", "id", "reply_to", "get"})
#: The envelope: kept in the same namespace as the fields, not part of ``fields``.
_ENVELOPE = ("type", "src", "dst", "id", "reply_to", "_frozen", "_rpc", "_tc", "_fp")
_ENVELOPE_SET = frozenset(_ENVELOPE)
#: Not part of a message's value (equality and hash).
_TRANSPORT = frozenset({"id", "reply_to", "_frozen", "_rpc", "_tc", "_fp"})
_CHECKED_TYPES: set = set()

_new = object.__new__
_set = object.__setattr__


def is_immutable(value: Any) -> bool:
    """Return True when ``value`` can be shared between nodes without copying.

    Numbers, strings, bytes, None, and tuples and frozensets made only of
    those. A frozenset or tuple holding a mutable object is not immutable: the
    object inside could still be changed by one node under the other's feet.
    """
    kind = type(value)
    if kind in _ATOMIC:
        return True
    if kind is tuple or kind is frozenset:
        return all(is_immutable(v) for v in value)
    return False


def check_type_name(msg_type: Any, what: str = "msg_type") -> str:
    """Return ``msg_type`` if it can name an ``on_<type>`` handler, else raise."""
    if not isinstance(msg_type, str):
        raise InvalidArgumentType(f"{what}={msg_type!r} must be a str such as 'replicate'")
    if not msg_type.isidentifier() or keyword.iskeyword(msg_type):
        raise InvalidArgument(
            f"{what}={msg_type!r} must be a Python identifier "
            f"(it names the handler on_{msg_type})"
        )
    return msg_type


class Message:
    """An immutable message with a type and named fields.

    Fields are real attributes (``msg.key``), and read by subscript
    (``msg["key"]``) or with :meth:`get`; ``"key" in msg`` asks whether the
    message has that field. ``src``, ``dst`` and ``id`` are filled in when the
    message is sent. Treat a message as a value: it cannot be changed, only
    answered or sent anew.

    Example:
        >>> m = Message("append", index=3, count=2)
        >>> m.type, m.index, m["count"], "index" in m
        ('append', 3, 2, True)
        >>> Message("ack", term=1) == Message("ack", term=1)
        True
    """

    # Defaults of the envelope, stored in the instance only when they differ.
    reply_to = None
    _frozen = True
    _rpc = False

    # The envelope and the fields live in the instance __dict__, so reading
    # either is a plain attribute lookup (see benchmarks/bench_delivery.py).
    # Construction bypasses __setattr__, which refuses every change.

    def __init__(self, msg_type: str, /, **fields: Any) -> None:
        frozen = _check(msg_type, fields)
        fields.update(type=msg_type, src=None, dst=None, id=None)
        if not frozen:
            fields["_frozen"] = False
        _set(self, "__dict__", fields)

    # -- reading -------------------------------------------------------------------
    @property
    def fields(self) -> MappingProxyType:
        """The named fields, as a read-only mapping (without type, src, dst, id)."""
        return MappingProxyType({k: v for k, v in self.__dict__.items() if k not in _ENVELOPE_SET})

    # No __getattr__: defining one would slow every attribute read of every message
    # (CPython then skips its fast path). A missing field raises Python's own
    # AttributeError (with its "Did you mean" hint); a handler that reads one gets the
    # message's fields listed in its HandlerError (see missing_field).

    def __getitem__(self, name: str) -> Any:
        if isinstance(name, str) and name not in _ENVELOPE_SET:
            try:
                return self.__dict__[name]
            except KeyError:
                pass
        raise KeyError(
            f"message {self.__dict__.get('type')!r} has no field {name!r}; "
            f"its fields are {sorted(self.fields)}"
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name not in _ENVELOPE_SET and name in self.__dict__

    def get(self, name: str, default: Any = None) -> Any:
        """Return field ``name`` or ``default`` when the message has no such field."""
        if name in _ENVELOPE_SET:
            return default
        return self.__dict__.get(name, default)

    # -- immutability -------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"messages are immutable: cannot set {name!r} on a {self.type!r} message; "
            "send a new message instead"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(
            f"messages are immutable: cannot delete {name!r} from a {self.type!r} message"
        )

    # -- value semantics ----------------------------------------------------------
    def _value_items(self) -> list:
        return [(k, v) for k, v in self.__dict__.items() if k not in _TRANSPORT]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        mine, theirs = self.__dict__, other.__dict__
        compared = 0
        for name, value in mine.items():
            if name in _TRANSPORT:
                continue
            if name not in theirs:
                return False
            other_value = theirs[name]
            if not (other_value is value or other_value == value):
                return False
            compared += 1
        return compared == sum(1 for name in theirs if name not in _TRANSPORT)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        # Order-independent over (name, value); an unhashable value (a list)
        # contributes its type only, which keeps hash consistent with ==.
        return hash(frozenset((name, _hashable(value)) for name, value in self._value_items()))

    # -- copying and pickling ------------------------------------------------------
    def __copy__(self) -> "Message":
        return self

    def __deepcopy__(self, memo: dict) -> "Message":
        if self._frozen:
            return self
        clone = _new(Message)
        _set(clone, "__dict__", copy.deepcopy(self.__dict__, memo))
        return clone

    def __reduce__(self) -> tuple:
        return (_rebuild, (dict(self.__dict__),))

    def __repr__(self) -> str:
        d = self.__dict__
        body = ", ".join(f"{k}={v!r}" for k, v in d.items() if k not in _ENVELOPE_SET)
        route = f" {d['src']!r}->{d['dst']!r}" if d.get("src") is not None else ""
        return f"Message({d['type']!r}{route}{', ' if body else ''}{body})"

    # -- framework -------------------------------------------------------------------
    def _stamped(self, src: Any, dst: Any, msg_id: int, reply_to: int | None) -> "Message":
        """Return the copy that travels the wire (framework use)."""
        d = self.__dict__
        wire = dict(d) if self._frozen else copy.deepcopy(d)
        wire["src"], wire["dst"], wire["id"] = src, dst, msg_id
        if reply_to is not None:
            wire["reply_to"] = reply_to
        else:
            wire.pop("reply_to", None)
        wire.pop("_rpc", None)
        wire.pop("_fp", None)  # a schedule search's cache of the value: a new route is a new value
        out = _new(Message if self._frozen and reply_to is None else SlowMessage)
        _set(out, "__dict__", wire)
        return out

    def _delivery_copy(self) -> "Message":
        """Return the object handed to a handler: itself if immutable, else a deep copy."""
        if self._frozen:
            return self
        out = _new(Message)
        _set(out, "__dict__", copy.deepcopy(self.__dict__))
        return out


class SlowMessage(Message):
    """A message in flight that takes the general delivery path: a reply, or fields to copy.

    The simulator's own: the run loop tells plain messages from these by their class, so
    the common delivery checks nothing more. To a handler it is a :class:`Message` like any.
    """


def missing_field(error: BaseException) -> str | None:
    """Say which field a handler asked a message for and which it has, or None if not that.

    Example:
        >>> try:
        ...     Message("vote", term=2).trem
        ... except AttributeError as exc:
        ...     print(missing_field(exc))
        message 'vote' has no field 'trem'; its fields are ['term']
    """
    msg = getattr(error, "obj", None)
    if not isinstance(error, AttributeError) or not isinstance(msg, Message) or not error.name:
        return None
    return (f"message {msg.__dict__.get('type')!r} has no field {error.name!r}; "
            f"its fields are {sorted(msg.fields)}")


def _rebuild(state: dict) -> Message:
    out = _new(Message)
    _set(out, "__dict__", state)
    return out


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return ("<unhashable>", type(value).__name__)
    return value


def _check(msg_type: str, fields: dict) -> bool:
    """Validate a message's type and field names; return whether all its fields are immutable."""
    if msg_type not in _CHECKED_TYPES:
        check_type_name(msg_type)
        _CHECKED_TYPES.add(msg_type)
    frozen = True
    for name, value in fields.items():
        if name in _RESERVED or name[0] == "_":
            raise InvalidArgument(
                f"field name {name!r} is reserved for the message itself (reserved: "
                f"{sorted(_RESERVED)} and names starting with '_'); rename it "
                f"(message type {msg_type!r})"
            )
        if frozen and type(value) not in _ATOMIC and not is_immutable(value):
            frozen = False
    return frozen
