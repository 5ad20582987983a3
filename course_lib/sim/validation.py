"""Checks of arguments a learner passes in: one error type, one voice.

Every public function of ``course_lib`` that takes a value from a learner
checks it here, so a mistake gets the same kind of answer everywhere: an
:class:`InvalidArgument` (a :class:`ValueError`) naming the parameter, showing
the value and saying what is allowed; or, for a value of the wrong type, an
:class:`InvalidArgumentType`, which is both an ``InvalidArgument`` and a
:class:`TypeError`.

Example:
    >>> try:
    ...     check_probability("loss", 1.5)
    ... except InvalidArgument as error:
    ...     print(error)
    loss=1.5 must be a probability, a number in [0, 1]
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence


class InvalidArgument(ValueError):
    """An argument has a value the function cannot use; the message names it and says what is allowed."""


class InvalidArgumentType(InvalidArgument, TypeError):
    """An argument has the wrong type (also a :class:`TypeError`)."""


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, finite: bool = True,
                 what: str | None = None) -> float | int:
    """Return ``value`` if it is a real number (not a bool) in the given range, else raise.

    Args:
        name: the parameter's name, as the caller wrote it.
        low, high: bounds (inclusive unless ``low_open`` / ``high_open``).
        finite: reject NaN and the infinities (NaN is always rejected).
        what: how to describe an allowed value ("a time", "a delay"), for the message.
    """
    if not _is_number(value):
        raise InvalidArgumentType(f"{name}={value!r} must be {what or 'a number'}")
    if math.isnan(value) or (finite and math.isinf(value)):
        raise InvalidArgument(f"{name}={value!r} must be {what or 'a finite number'}"
                              + ("" if what is None else " (finite, not NaN)"))
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        if low is not None and high is not None:
            allowed = f"in {lo}, {hi}"
        elif low is not None:
            allowed = f"{'>' if low_open else '>='} {low:g}"
        else:
            allowed = f"{'<' if high_open else '<='} {high:g}"
        raise InvalidArgument(f"{name}={value!r} must be {what + ' ' if what else 'a number '}{allowed}")
    return value


def check_non_negative(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite number >= 0, else raise naming ``name``."""
    return float(check_number(name, value, low=0, what="a finite number"))


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite number > 0, else raise naming ``name``."""
    return float(check_number(name, value, low=0, low_open=True, what="a finite number"))


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a probability in [0, 1], else raise naming ``name``."""
    if not _is_number(value) or math.isnan(value) or not 0.0 <= value <= 1.0:
        error = InvalidArgumentType if not _is_number(value) else InvalidArgument
        raise error(f"{name}={value!r} must be a probability, a number in [0, 1]")
    return float(value)


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) in ``[low, high]``, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentType(f"{name}={value!r} must be an int")
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            allowed = f"in [{low}, {high}]"
        elif low is not None:
            allowed = f">= {low}"
        else:
            allowed = f"<= {high}"
        raise InvalidArgument(f"{name}={value!r} must be an int {allowed}")
    return value


def check_type(name: str, value: Any, types: type | tuple[type, ...], what: str | None = None) -> Any:
    """Return ``value`` if it is an instance of ``types`` (bools are not ints), else raise."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        if what is None:
            names = types if isinstance(types, tuple) else (types,)
            what = "a " + " or a ".join(t.__name__ for t in names)
        raise InvalidArgumentType(f"{name}={value!r} must be {what}")
    return value


def check_callable(name: str, value: Any, signature: str | None = None) -> Callable:
    """Return ``value`` if it is callable, else raise naming ``name`` (and the expected call)."""
    if not callable(value):
        how = f" as {signature}" if signature else ""
        raise InvalidArgumentType(f"{name}={value!r} must be callable{how}")
    return value


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise listing them."""
    try:
        ok = value in allowed
    except TypeError:
        ok = False
    if not ok:
        raise InvalidArgument(f"{name}={value!r} must be one of {tuple(allowed)!r}")
    return value


def check_ids(name: str, values: Any, *, allow_empty: bool = False) -> list:
    """Return ``values`` as a list of ids: an iterable (not a str), without duplicates.

    A bare string is refused because iterating it gives its characters
    (``["n1", "n2"]`` is meant, ``"n1"`` is a mistake).
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidArgumentType(
            f"{name}={values!r} must be a list of ids such as ['a', 'b'], not a single "
            f"{type(values).__name__}")
    out = list(values)
    if not out and not allow_empty:
        raise InvalidArgument(f"{name}={out!r} must not be empty")
    seen: set = set()  # membership only; order comes from ``out``
    for item in out:
        try:
            hash(item)
        except TypeError:
            raise InvalidArgumentType(f"{name} holds {item!r}, which is not hashable; ids are "
                                      "strs or ints") from None
        if item in seen:
            raise InvalidArgument(f"{name}={out!r} names {item!r} twice")
        seen.add(item)
    return out
