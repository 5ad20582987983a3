"""Bad input to course_lib.history: every row is a clear, named error or a documented behaviour.

Two tables. ``ERRORS`` rows are (callable, args, exception type, a substring
the message must contain): the message names the parameter and its value, or
the file and line. ``BEHAVIOURS`` rows are (callable, args, check): input that
looks odd but has a documented meaning, and the check asserts that meaning.
A :class:`File` in ``args`` is written to ``tmp_path`` and replaced by its path.
Every row runs under a deadline: nothing may hang.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_lib.history import Event, History, bundled_history_path, load_jepsen
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

from bad_input_support import deadline

DATA = Path(__file__).parent / "data"
DEADLINE = 20  # seconds a row may take before it counts as a hang


@dataclass(frozen=True)
class File:
    """A file to write to tmp_path before the row runs: text or bytes."""

    content: str | bytes
    name: str = "h.edn"




def materialise(args: tuple, tmp_path: Path) -> tuple:
    """Replace each File in ``args`` by the path it is written to."""
    out = []
    for arg in args:
        if isinstance(arg, File):
            path = tmp_path / arg.name
            if isinstance(arg.content, bytes):
                path.write_bytes(arg.content)
            else:
                path.write_text(arg.content, encoding="utf-8")
            arg = path
        out.append(arg)
    return tuple(out)


def invoked(*events) -> History:
    """Return a History of the given (process, f) invocations, left open."""
    h = History()
    for process, f in events:
        h.invoke(process, f)
    return h


def call(method: str, *args, **kwargs):
    """Return a callable that records one event on a History holding one open read of p0."""
    def run():
        h = History()
        h.invoke(0, "read", time=5.0)
        return getattr(h, method)(*args, **kwargs)
    run.__name__ = f"History.{method}"
    return run


INVOKE_READ = '{:process 0, :type :invoke, :f :read, :value nil}\n'
LOG = "INFO  jepsen.util - "
DEEP = 10_000

ERRORS = [
    # -- History: events and their fields ----------------------------------
    pytest.param(History, (5,), InvalidArgumentType, "events=5", id="events-not-iterable"),
    pytest.param(History, ([("invoke", 0, "read")],), InvalidArgumentType,
                 "event=('invoke', 0, 'read')", id="event-not-an-Event"),
    pytest.param(History().append, ("x",), InvalidArgumentType, "event='x'",
                 id="append-a-str"),
    pytest.param(History, ([Event(0, "done", "read")],), InvalidArgument, "type='done'",
                 id="unknown-event-type"),
    pytest.param(History().invoke, (0, ""), InvalidArgument, "f=''", id="empty-f"),
    pytest.param(History().invoke, (0, 3), InvalidArgumentType, "f=3", id="f-not-a-str"),
    pytest.param(History().invoke, (0, None), InvalidArgumentType, "f=None", id="f-None"),
    pytest.param(History().invoke, (["p"], "read"), InvalidArgumentType, "process=['p']",
                 id="unhashable-process"),
    pytest.param(lambda: History().invoke(0, "get", key=["k"]), (), InvalidArgumentType,
                 "key=['k']", id="unhashable-key"),
    pytest.param(lambda: History().invoke(0, "read", time=math.nan), (), InvalidArgument,
                 "time=nan", id="time-nan"),
    pytest.param(lambda: History().invoke(0, "read", time=math.inf), (), InvalidArgument,
                 "time=inf", id="time-inf"),
    pytest.param(lambda: History().invoke(0, "read", time=-math.inf), (), InvalidArgument,
                 "time=-inf", id="time-minus-inf"),
    pytest.param(lambda: History().invoke(0, "read", time="3"), (), InvalidArgumentType,
                 "time='3'", id="time-a-str"),
    pytest.param(lambda: History().invoke(0, "read", time=True), (), InvalidArgumentType,
                 "time=True", id="time-a-bool"),
    pytest.param(call("ok", 0, time=4.0), (), InvalidArgument, "time=4.0 is before",
                 id="time-goes-backwards"),
    pytest.param(call("ok", 99), (), InvalidArgument, "process=99 has no open operation",
                 id="complete-unknown-process"),
    pytest.param(call("invoke", 0, "write", value=1), (), InvalidArgument,
                 "process=0 invokes 'write'", id="second-invoke-while-open"),
    pytest.param(call("ok", 0, "write"), (), InvalidArgument, "f='write'",
                 id="completion-f-mismatch"),
    pytest.param(call("ok", 0, key="b"), (), InvalidArgument, "key='b'",
                 id="completion-key-mismatch"),
    # -- load_jepsen: the path ----------------------------------------------
    pytest.param(load_jepsen, (42,), InvalidArgumentType, "path=42", id="path-an-int"),
    pytest.param(load_jepsen, (None,), InvalidArgumentType, "path=None", id="path-None"),
    pytest.param(load_jepsen, (Path("no-such-history.edn"),), FileNotFoundError,
                 "no-such-history.edn", id="missing-file"),
    # -- load_jepsen: empty, blank, binary, undetectable files ---------------
    pytest.param(load_jepsen, (File(""),), InvalidArgument, "h.edn is empty", id="empty-file"),
    pytest.param(load_jepsen, (File("\n   \n\t\n"),), InvalidArgument, "h.edn is empty",
                 id="blank-file"),
    pytest.param(load_jepsen, (File(b"\x1f\x8b\x08\x00\xff\xfe binary"),), InvalidArgument,
                 "not UTF-8", id="binary-file"),
    pytest.param(load_jepsen, (File("INFO  jepsen.core - Worker 0 starting\n", "h.log"),),
                 InvalidArgument, "no 'jepsen.util - ' log lines", id="log-without-ops"),
    # -- load_jepsen: malformed and truncated lines, named by file and line ----
    pytest.param(load_jepsen, (File(INVOKE_READ + '{:process 0, :type :ok, :f :read'),),
                 InvalidArgument, "h.edn:2: ", id="truncated-map"),
    pytest.param(load_jepsen, (File(INVOKE_READ + '{:process 0, :type :ok, :f :read, '
                                    ':value "abc'),),
                 InvalidArgument, "h.edn:2: ", id="truncated-string"),
    pytest.param(load_jepsen, (File(INVOKE_READ + '{:process 0, :type :ok, :f :read, '
                                    ':value [1 2'),),
                 InvalidArgument, "h.edn:2: ", id="truncated-vector"),
    pytest.param(load_jepsen, (File(f"{LOG}0\t:invoke\t:read\tnil\n{LOG}0\t:ok\n", "h.log"),),
                 InvalidArgument, "h.log:2: ", id="truncated-log-line"),
    pytest.param(load_jepsen, (File(f"{LOG}0\t:invoke\t:write\t[4 \n", "h.log"),),
                 InvalidArgument, "h.log:1: ", id="truncated-log-value"),
    pytest.param(load_jepsen, (File(INVOKE_READ + "[1 2 3]\n"),), InvalidArgument,
                 "h.edn:2: expected an EDN map", id="vector-line-in-edn"),
    pytest.param(load_jepsen, (File(INVOKE_READ + f"{LOG}0\t:ok\t:read\tnil\n"),),
                 InvalidArgument, "h.edn:2: ", id="log-line-in-edn"),
    pytest.param(load_jepsen, (File("{:process 0, :f :read}\n"),), InvalidArgument,
                 "h.edn:1: the map has no :type", id="map-without-type"),
    pytest.param(load_jepsen, (File("{:process 0, :type :done, :f :read}\n"),),
                 InvalidArgument, "h.edn:1: type='done'", id="unknown-type-in-file"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f 3}\n"),),
                 InvalidArgument, "h.edn:1: f=3", id="f-not-a-keyword"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, :value 1} x\n"),),
                 InvalidArgument, "h.edn:1: ", id="trailing-garbage"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, :value 1}}\n"),),
                 InvalidArgument, "h.edn:1: ", id="stray-closer"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, :value}\n"),),
                 InvalidArgument, "h.edn:1: ", id="map-key-without-value"),
    pytest.param(load_jepsen, (File('{:process 0, :type :invoke, :f :read, :value "\\q"}\n'),),
                 InvalidArgument, "h.edn:1: ", id="unknown-string-escape"),
    pytest.param(load_jepsen, (File('{:process 0, :type :invoke, :f :read, :value "\\u00zz"}'),),
                 InvalidArgument, "h.edn:1: ", id="bad-unicode-escape"),
    pytest.param(load_jepsen, (File('{:process 0, :type :invoke, :f :read, :value "\\u12"}'),),
                 InvalidArgument, "h.edn:1: ", id="short-unicode-escape"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, "
                                    ":value {{:a 1} 2}}\n"),),
                 InvalidArgument, "h.edn:1: ", id="unhashable-map-key"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, "
                                    ":value #{{:a 1}}}\n"),),
                 InvalidArgument, "h.edn:1: ", id="unhashable-set-element"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, :value #{1 1}}\n"),),
                 InvalidArgument, "h.edn:1: ", id="duplicate-set-element"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, :value "
                                    + "1" * 5_000 + "}\n"),),
                 InvalidArgument, "h.edn:1: ", id="integer-too-long-for-python"),
    pytest.param(load_jepsen, (File("{:process {:a 1}, :type :invoke, :f :read}\n"),),
                 InvalidArgument, "h.edn:1: ", id="unhashable-process-in-file"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, :value "
                                    + "[" * DEEP + "]" * DEEP + "}\n"),),
                 InvalidArgument, "h.edn:1: ", id="deeply-nested-vectors"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :read, :value "
                                    + "[" * DEEP + "\n"),),
                 InvalidArgument, "h.edn:1: ", id="deeply-nested-unclosed"),
    pytest.param(load_jepsen, (File(f"{LOG}0\t:invoke\t:read\t" + "{:a " * DEEP + "\n",
                                    "h.log"),),
                 InvalidArgument, "h.log:1: ", id="deeply-nested-log-value"),
    # -- load_jepsen: history rules broken in a file -------------------------
    pytest.param(load_jepsen, (File("{:process 0, :type :ok, :f :read, :value 1}\n"),),
                 InvalidArgument, "h.edn:1: process=0 has no open operation",
                 id="completion-without-invoke"),
    pytest.param(load_jepsen, (File(INVOKE_READ * 2),), InvalidArgument,
                 "h.edn:2: process=0 invokes 'read'", id="invoke-twice"),
    # -- bundled_history_path ------------------------------------------------
    pytest.param(bundled_history_path, (42,), InvalidArgumentType, "name=42",
                 id="bundled-name-an-int"),
    pytest.param(bundled_history_path, ("c99",), InvalidArgument, "name='c99'",
                 id="bundled-unknown-name"),
    pytest.param(bundled_history_path, ("",), InvalidArgument, "name=''",
                 id="bundled-empty-name"),
    pytest.param(bundled_history_path, ("../README.md",), InvalidArgument,
                 "name='../README.md'", id="bundled-name-with-a-directory"),
]


@pytest.mark.parametrize("function, args, error, message", ERRORS)
def test_bad_input_is_a_clear_named_error(function, args, error, message, tmp_path):
    """A bad argument or file raises the stated error naming parameter and value, or file, line."""
    args = materialise(args, tmp_path)
    with deadline(DEADLINE), pytest.raises(error) as caught:
        function(*args)
    assert message in str(caught.value)
    assert isinstance(caught.value, (InvalidArgument, OSError))  # never a bare crash


def _pending(h: History) -> bool:
    ops = h.operations()
    return (len(ops) == 1 and ops[0].status is None and ops[0].indeterminate
            and ops[0].deadline == math.inf and ops[0].return_time is None)


def _values(h: History) -> list:
    return [e.value for e in h]


BEHAVIOURS = [
    pytest.param(load_jepsen, (File(INVOKE_READ),), _pending,
                 id="invocation-without-completion-loads-as-indeterminate"),
    pytest.param(load_jepsen, (File(f"{LOG}0\t:invoke\t:write\t3\n", "h.log"),), _pending,
                 id="log-invocation-without-completion-loads-as-indeterminate"),
    pytest.param(invoked, ((0, "read"),), _pending,
                 id="recorded-invocation-without-completion-is-indeterminate"),
    pytest.param(load_jepsen, (File(f"{LOG}0   :invoke :cas    [1 2]\n"
                                    f"{LOG}0 \t :ok\t  :cas [1 2]\n", "h.log"),),
                 lambda h: [(e.type, e.f, e.value) for e in h] == [
                     ("invoke", "cas", (1, 2)), ("ok", "cas", (1, 2))],
                 id="any-whitespace-between-log-fields"),
    pytest.param(load_jepsen, (File("{:process 0, :type :invoke, :f :add, :value #{1 2}}\n"),),
                 lambda h: _values(h) == [frozenset({1, 2})], id="edn-set-is-a-frozenset"),
    pytest.param(load_jepsen, (File('{:process 0, :type :invoke, :f :put, :key "caf\\u00e9", '
                                    ':value "\\ud83d\\ude00"}\n'),),
                 lambda h: (h[0].key, h[0].value) == ("café", "\U0001F600"),
                 id="unicode-escapes-and-surrogate-pairs"),
    pytest.param(load_jepsen, (File("; a comment line\n"
                                    "{:process 0, :type :invoke, :f :write, "
                                    ":value #_ignored [1 #inst \"2024-01-01\"]} ; trailing\n"),),
                 lambda h: _values(h) == [(1, "2024-01-01")],
                 id="comments-discards-and-tags"),
    pytest.param(load_jepsen, (File("#jepsen.history.Op{:process 0, :type :invoke, :f :read}\n"),),
                 lambda h: [(e.process, e.type) for e in h] == [(0, "invoke")],
                 id="tagged-op-records"),
    pytest.param(load_jepsen, (File(f"{LOG}:nemesis\t:info\t:start\t{{\"n1\" #{{\"n2\"}}}}\n"
                                    f"{LOG}0\t:invoke\t:read\tnil\n", "h.log"),),
                 lambda h: [e.process for e in h] == [0], id="nemesis-lines-are-skipped"),
    pytest.param(lambda: History([Event(0, "invoke", "read", time=-2.0)]), (),
                 lambda h: h[0].time == -2.0, id="negative-time-is-allowed"),
    pytest.param(load_jepsen, (File('{:process 0, :type :invoke, :f :read, :time 999}\n'),),
                 lambda h: h[0].time == 0.0, id="time-is-the-line-number"),
]


@pytest.mark.parametrize("function, args, check", BEHAVIOURS)
def test_odd_input_has_its_documented_behaviour(function, args, check, tmp_path):
    """Input that looks odd but is documented does what the documentation says."""
    args = materialise(args, tmp_path)
    with deadline(DEADLINE):
        result = function(*args)
    assert check(result)
