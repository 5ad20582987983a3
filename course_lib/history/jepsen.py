"""Load Jepsen histories: EDN maps, one per line, and jepsen.util log lines; the bundled files."""

from __future__ import annotations




import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from course_lib.sim.validation import InvalidArgument, check_type

from .model import EVENT_TYPES, Event, History

__all__ = ["bundled_history_path", "load_jepsen"]


# -- loading Jepsen files ---------------------------------------------------


class _Keyword(str):
    """An EDN keyword such as ``:ok``, held without its colon."""


class _EdnError(ValueError):
    """A line that is not valid EDN; load_jepsen adds the file and line."""


_EDN_MAX_DEPTH = 100
"""Deepest nesting of collections in one value; Jepsen's nest a handful of levels."""

_EDN_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_EDN_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r",
              "backspace": "\b", "formfeed": "\f"}
_EDN_SPACE = re.compile(r"(?:[ \t\r\n\f\v,]+|;[^\n]*)*")
_EDN_SPACE_CHARS = frozenset(" \t\r\n\f\v,;")
_EDN_TOKEN = re.compile(r"[^ \t\r\n\f\v,{}\[\]()\";]*")
_EDN_STRING_RUN = re.compile(r'[^"\\]*')
_EDN_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_EDN_INT = re.compile(r"[+-]?[0-9]+N?")
_EDN_FLOAT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?M?")
_EDN_SYMBOLIC = {"Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
_EDN_CLOSE = {"map": "}", "set": "}", "vector": "]", "list": ")"}
_NOTHING = object()  # a line holding only comments or discarded forms
_DISCARD = object()  # a pending "#_": drop the next value


class _Collection:
    """A collection being read: its kind, items so far and where it opened."""

    __slots__ = ("kind", "items", "start", "pending")

    def __init__(self, kind: str, start: int) -> None:
        self.kind = kind
        self.items: list = []
        self.start = start
        self.pending: list = []  # "#_" and "#tag" prefixes waiting for the next value


def _parse_edn(text: str, pos: int = 0) -> Any:
    """Parse the EDN value of ``text[pos:]``; return ``_NOTHING`` if it holds only comments.

    Reads maps, vectors, lists, sets (``#{...}``, as frozensets), strings with
    their escapes (``\\n``, ``\\u00e9``, surrogate pairs), characters,
    keywords, symbols, nil, booleans, integers, floats and ``##Inf``; a tag
    (``#inst "..."``, ``#jepsen.history.Op{...}``) is dropped and its value
    kept; ``#_`` discards the next value; ``;`` starts a comment.

    The reader keeps its own stack instead of recursing, so no input can
    exhaust Python's; a value nesting deeper than ``_EDN_MAX_DEPTH`` levels
    is refused, because comparing or printing such a value recurses.

    Raises:
        _EdnError: Saying what is wrong and at which column of ``text``.
    """
    stack = [_Collection("top", pos)]
    n = len(text)
    while True:
        if pos < n and text[pos] in _EDN_SPACE_CHARS:
            pos = _EDN_SPACE.match(text, pos).end()
        if pos >= n:
            break
        top = stack[-1]
        if len(stack) == 1 and top.items and not top.pending:
            raise _EdnError(f"unexpected {text[pos:pos + 10]!r} after the value "
                            f"at column {pos + 1}")
        c = text[pos]
        if c in "{[(" or (c == "#" and text.startswith("#{", pos)):
            kind = {"{": "map", "[": "vector", "(": "list", "#": "set"}[c]
            if len(stack) > _EDN_MAX_DEPTH:
                raise _EdnError(
                    f"the value nests collections more than {_EDN_MAX_DEPTH} levels deep "
                    f"(column {pos + 1}); Jepsen histories nest a few levels, so the line "
                    "is probably corrupt")
            stack.append(_Collection(kind, pos))
            pos += 2 if c == "#" else 1
            continue
        if c in "}])":
            if len(stack) == 1 or c != _EDN_CLOSE[top.kind]:
                raise _EdnError(f"unexpected {c!r} at column {pos + 1}")
            if top.pending:
                raise _EdnError(f"{_edn_prefix(top.pending[-1])} at the end of a "
                                f"{top.kind} (column {pos + 1}) has no value to apply to")
            stack.pop()
            value = _edn_collection(top)
            top = stack[-1]
            pos += 1
        elif c == "#":
            if text.startswith("#_", pos):
                top.pending.append(_DISCARD)
                pos += 2
                continue
            if text.startswith("##", pos):
                end = _EDN_TOKEN.match(text, pos + 2).end()
                name = text[pos + 2:end]
                if name not in _EDN_SYMBOLIC:
                    raise _EdnError(f"unknown symbolic value '##{name}' at column {pos + 1}; "
                                    "EDN has ##Inf, ##-Inf and ##NaN")
                value, pos = _EDN_SYMBOLIC[name], end
            else:
                end = _EDN_TOKEN.match(text, pos + 1).end()
                tag = text[pos + 1:end]
                if not tag or not (tag[0].isalpha()):
                    raise _EdnError(f"unexpected {text[pos:pos + 10]!r} at column {pos + 1}: "
                                    "'#' starts a set '#{', a discard '#_' or a tag '#inst'")
                top.pending.append(tag)
                pos = end
                continue
        elif c == '"':
            value, pos = _edn_string(text, pos)
        elif c == "\\":
            value, pos = _edn_char(text, pos)
        else:
            end = _EDN_TOKEN.match(text, pos).end()
            value = _edn_atom(text[pos:end], pos)
            pos = end
        # A value is complete: apply the prefixes waiting for it, innermost first.
        while top.pending:
            if top.pending.pop() is _DISCARD:
                break
        else:
            top.items.append(value)
    if len(stack) > 1:
        unclosed = stack[-1]
        raise _EdnError(f"the {unclosed.kind} opened at column {unclosed.start + 1} is "
                        f"missing its closing {_EDN_CLOSE[unclosed.kind]!r} (truncated?)")
    top = stack[0]
    if top.pending:
        raise _EdnError(f"{_edn_prefix(top.pending[-1])} has no value after it")
    return top.items[0] if top.items else _NOTHING


def _edn_prefix(prefix: Any) -> str:
    return "'#_'" if prefix is _DISCARD else f"the tag '#{prefix}'"


def _edn_collection(collection: _Collection) -> Any:
    """Build the Python value of a closed collection."""
    items = collection.items
    where = f"the {collection.kind} opened at column {collection.start + 1}"
    if collection.kind in ("vector", "list"):
        return tuple(items)
    if collection.kind == "set":
        result: set = set()
        for item in items:
            try:
                if item in result:
                    raise _EdnError(f"{where} holds {_short(item)} twice")
                result.add(item)
            except TypeError:
                raise _EdnError(f"{where} holds {_short(item)}, which is not hashable "
                                "(a map or a set cannot be a set element)") from None
        return frozenset(result)
    if len(items) % 2:
        raise _EdnError(f"{where} has the key {_short(items[-1])} without a value")
    mapping: dict = {}
    for k in range(0, len(items), 2):
        key = items[k]
        try:
            if key in mapping:
                raise _EdnError(f"{where} has the key {_short(key)} twice")
            mapping[key] = items[k + 1]
        except TypeError:
            raise _EdnError(f"{where} has the key {_short(key)}, which is not hashable "
                            "(a map cannot be a map key)") from None
    return mapping


def _short(value: Any) -> str:
    text = repr(_plain(value))
    return text if len(text) <= 40 else text[:37] + "..."


def _edn_string(text: str, pos: int) -> tuple[str, int]:
    """Read the string starting at the quote at ``pos``; return it and the position after."""
    start = pos
    out = []
    pos += 1
    n = len(text)
    while True:
        end = _EDN_STRING_RUN.match(text, pos).end()
        out.append(text[pos:end])
        pos = end
        if pos >= n:
            raise _EdnError(f"the string opened at column {start + 1} is missing its "
                            "closing quote (truncated?)")
        if text[pos] == '"':
            return "".join(out), pos + 1
        # a backslash
        esc = text[pos + 1:pos + 2]
        if esc == "u":
            code, pos = _edn_unicode(text, pos)
            out.append(code)
        elif esc in _EDN_ESCAPES and esc:
            out.append(_EDN_ESCAPES[esc])
            pos += 2
        elif not esc:
            raise _EdnError(f"the string opened at column {start + 1} ends in a backslash")
        else:
            raise _EdnError(f"unknown escape '\\{esc}' at column {pos + 1}; strings "
                            "escape \\n \\t \\r \\b \\f \\\" \\\\ and \\uXXXX")


def _edn_unicode(text: str, pos: int) -> tuple[str, int]:
    """Read ``\\uXXXX`` at ``pos`` (joining a UTF-16 surrogate pair); return the char and end."""
    if not _EDN_HEX4.match(text, pos + 2):
        raise _EdnError(f"the escape {text[pos:pos + 6]!r} at column {pos + 1} needs "
                        "four hex digits, as in \\u00e9")
    code = int(text[pos + 2:pos + 6], 16)
    if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", pos + 6) \
            and _EDN_HEX4.match(text, pos + 8):
        low = int(text[pos + 8:pos + 12], 16)
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), pos + 12
    if 0xD800 <= code <= 0xDFFF:
        raise _EdnError(f"the escape {text[pos:pos + 6]!r} at column {pos + 1} is half of "
                        "a UTF-16 surrogate pair without its other half")
    return chr(code), pos + 6


def _edn_char(text: str, pos: int) -> tuple[str, int]:
    """Read a character literal such as ``\\a``, ``\\space`` or ``\\u00e9``."""
    if text.startswith("\\u", pos) and _EDN_HEX4.match(text, pos + 2):
        return _edn_unicode(text, pos)
    if pos + 1 >= len(text):
        raise _EdnError(f"a backslash ends the line at column {pos + 1}")
    end = _EDN_TOKEN.match(text, pos + 2).end()
    name = text[pos + 1:end]
    if len(name) == 1:
        return name, end
    if name in _EDN_CHARS:
        return _EDN_CHARS[name], end
    raise _EdnError(f"unknown character '\\{name}' at column {pos + 1}")


def _edn_atom(token: str, pos: int) -> Any:
    """Return the value of a keyword, nil, boolean, number or symbol token."""
    if not token:
        raise _EdnError(f"unexpected character at column {pos + 1}")
    if token[0] == ":":
        if len(token) == 1:
            raise _EdnError(f"empty keyword ':' at column {pos + 1}")
        return _Keyword(token[1:])
    if token == "nil":
        return None
    if token == "true":
        return True
    if token == "false":
        return False
    if _EDN_INT.fullmatch(token):
        try:
            return int(token.rstrip("N"))
        except ValueError:  # longer than Python's int-from-text limit
            raise _EdnError(f"the integer at column {pos + 1} has {len(token)} digits, more "
                            f"than Python reads ({sys.get_int_max_str_digits()})") from None
    if _EDN_FLOAT.fullmatch(token):
        return float(token.rstrip("M"))
    return token  # a symbol; keep its name


def _plain(value: Any) -> Any:
    """Turn parsed EDN into plain Python: keywords to str (vectors are already tuples)."""
    if isinstance(value, _Keyword):
        return str(value)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _event_from_fields(process, type_, f, key, value, time, where: str) -> Event | None:
    """Build an event from parsed fields, or None for a nemesis event."""
    if isinstance(process, _Keyword) or process is None:
        return None  # the nemesis (or another non-client) is not a client
    if not isinstance(type_, _Keyword) or type_ not in EVENT_TYPES:
        raise InvalidArgument(f"{where}: type={_plain(type_)!r} is not one of "
                              f":{', :'.join(EVENT_TYPES)}")
    if not isinstance(f, str) or not f:
        raise InvalidArgument(f"{where}: f={_plain(f)!r} must be a keyword such as :read")
    type_ = str(type_)
    # Jepsen's old register tests log a timed-out operation as
    # ":fail ... :timed-out"; a timeout says nothing about whether it happened.
    if type_ == "fail" and isinstance(value, _Keyword) and value == "timed-out":
        type_ = "info"
    return Event(_plain(process), type_, str(f), _plain(key), _plain(value), float(time))


def load_jepsen(path: str | os.PathLike) -> History:
    """Load a Jepsen history file, detecting its format.

    Two formats are understood:

    - EDN maps, one per line:
      ``{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}``
      (a tagged map such as ``#jepsen.history.Op{...}`` is read as the map);
    - ``jepsen.util`` log lines of a single register:
      ``INFO  jepsen.util - 3 :ok :read 4``, with any whitespace (tabs or
      spaces, as in porcupine's etcd logs) between the process, the type, the
      function and the value. Lines without ``jepsen.util -`` followed by a
      process (an integer, or a keyword for the nemesis) are skipped.

    The format is that of the first line holding something: EDN if it starts
    with ``{`` or ``#``, log lines otherwise. Events of the nemesis (a keyword
    process such as ``:nemesis``) are skipped. A ``:fail`` whose value is
    ``:timed-out`` is read as ``info`` (indeterminate). An invocation without
    a completion is kept: it becomes an indeterminate operation with
    ``status=None``, which may have taken effect or not (see
    :class:`History`). Vectors and lists become tuples, sets frozensets and
    keywords plain strings. An event's time is its line number (from 0); a
    ``:time`` field is ignored.

    Args:
        path: The file (a str or a :class:`pathlib.Path`).

    Returns:
        The history; never empty.

    Raises:
        FileNotFoundError: If the file does not exist (other OSErrors pass
            through too).
        InvalidArgument: If the file is empty or blank, is not UTF-8 text, holds
            no client event, a line cannot be parsed (naming the file and
            line), or the events break the rules of :class:`History`. It is a
            ValueError.
        InvalidArgumentType: If ``path`` is not a str or a path.

    Example::

        >>> h = load_jepsen(bundled_history_path("c01-ok"))
        >>> h[0].type, h[0].f
        ('invoke', 'append')
    """
    check_type("path", path, (str, os.PathLike), "a file path (a str or a pathlib.Path)")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(
            f"{path} is not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); "
            "is it compressed or binary? load_jepsen reads text files") from None
    lines = text.splitlines()
    first = next((line.strip() for line in lines
                  if line.strip() and not line.lstrip().startswith(";")), None)
    if first is None:
        raise InvalidArgument(f"{path} is empty{'' if not text else ' (only blank lines)'}: "
                              "a history file holds at least one event")
    is_log = not first.startswith(("{", "#"))
    history = History()
    for number, line in enumerate(lines):
        where = f"{path}:{number + 1}"
        if not line.strip():
            continue
        try:
            if is_log:
                event = _parse_log_line(line, number, where)
            else:
                event = _parse_map_line(line, number, where)
        except _EdnError as exc:
            raise InvalidArgument(f"{where}: cannot parse {line.strip()[:80]!r}: {exc}") from None
        if event is None:
            continue
        try:
            history.append(event)
        except InvalidArgument as exc:
            raise type(exc)(f"{where}: {exc}") from None
    if len(history) == 0:
        if is_log:
            raise InvalidArgument(f"path={str(path)!r} has no EDN map lines and no "
                                  "'jepsen.util - ' log lines of a client process")
        raise InvalidArgument(f"path={str(path)!r} has no events of a client process "
                              "(only the nemesis's, or comments)")
    return history


def _parse_map_line(line: str, number: int, where: str) -> Event | None:
    data = _parse_edn(line)
    if data is _NOTHING:
        return None  # a comment
    if not isinstance(data, dict):
        raise InvalidArgument(f"{where}: expected an EDN map, got {line.strip()[:80]!r}")
    fields = {str(k): v for k, v in data.items() if isinstance(k, _Keyword)}
    for name in ("process", "type", "f"):
        if name not in fields:
            raise InvalidArgument(f"{where}: the map has no :{name}")
    return _event_from_fields(fields["process"], fields["type"], fields["f"],
                              fields.get("key"), fields.get("value"), number, where)


_LOG_MARKER = re.compile(r"jepsen\.util\s+-\s+")
_LOG_PROCESS = re.compile(r"[+-]?[0-9]+|:\S+|nil")


def _parse_log_line(line: str, number: int, where: str) -> Event | None:
    found = _LOG_MARKER.search(line)
    if found is None:
        return None  # some other log line
    rest = line[found.end():]
    fields = rest.split(None, 3)
    if not fields or not _LOG_PROCESS.fullmatch(fields[0]):
        return None  # a jepsen.util message that is not an operation
    process = _parse_edn(fields[0])
    if isinstance(process, _Keyword) or process is None:
        return None  # the nemesis: its values are no client's business
    if len(fields) < 3:
        raise InvalidArgument(f"{where}: expected 'process type f value' (separated by tabs "
                              f"or spaces) after 'jepsen.util - ', got {line.strip()[:80]!r}")
    type_ = _parse_edn(fields[1])
    f = _parse_edn(fields[2])
    # Parse the value in place, so that errors give columns of the line.
    value = _parse_edn(line, len(line) - len(fields[3])) if len(fields) > 3 else None
    return _event_from_fields(process, type_, f, None, None if value is _NOTHING else value,
                              number, where)


# -- bundled data -----------------------------------------------------------

_BUNDLED_DIR = Path("data") / "jepsen-kv-histories"


def bundled_history_path(name: str) -> Path:
    """Return the path of a history shipped in the course repository.

    The files live in ``data/jepsen-kv-histories/`` of the course clone (not
    in the installed package); see its README for their source and verdicts.

    Args:
        name: A file name such as ``"c50-ok"`` or ``"c50-ok.txt"``.

    Returns:
        The absolute path of the file.

    Raises:
        FileNotFoundError: If the repository's data directory cannot be found
            (for example when course_lib is installed outside a clone).
        InvalidArgument: If there is no history called ``name``, or ``name``
            is a path rather than a file name.
        InvalidArgumentType: If ``name`` is not a str.

    Example::

        >>> h = load_jepsen(bundled_history_path("c01-ok"))
        >>> len(h)
        116
    """
    check_type("name", name, str, "a history name such as 'c10-ok'")
    if "/" in name or "\\" in name or name.startswith("."):
        raise InvalidArgument(f"name={name!r} must be a history name such as 'c10-ok', "
                              "not a path")
    root = Path(__file__).resolve().parents[2]  # course_lib/history/jepsen.py -> the clone
    directory = root / _BUNDLED_DIR
    if not directory.is_dir():
        raise FileNotFoundError(
            f"directory={str(directory)!r} does not exist: bundled histories are "
            "found relative to a clone of the course repository (pip install -e .)"
        )
    filename = name if name.endswith(".txt") else f"{name}.txt"
    path = directory / filename
    if not name or not path.is_file():
        available = sorted(p.stem for p in directory.glob("*.txt"))
        raise InvalidArgument(f"name={name!r} is not a bundled history; "
                              f"available: {', '.join(available)}")
    return path
