"""Bad input to the linearizability checker: every row a named error or a documented behaviour.

``ERRORS`` rows are (callable, args, exception type, a substring the message
must contain: the parameter and its value, or the model's own words);
``BEHAVIOURS`` rows are (callable, args, check). Every row runs under a
deadline: a search that could run for minutes must stop at its budget.
"""

from __future__ import annotations

import math

import pytest

from course_lib.checkers import KVModel, RegisterModel, linearizable
from course_lib.history import History
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

from bad_input_support import DEADLINE, deadline, history







def one_write() -> History:
    return history((0, "write", None, 1))


def hard() -> History:
    """20 concurrent writes, then a read of a value nobody wrote: a million orders."""
    h = History()
    for p in range(20):
        h.invoke(p, "write", value=p)
    for p in range(20):
        h.ok(p)
    h.invoke(20, "read")
    h.ok(20, value=99)
    return h


class StepReturnsBool:
    """A model whose step forgets to return the new state."""

    name = "bool-step"

    def init(self):
        return 0

    def step(self, state, op):
        return True


class ListState:
    """A model whose state is a list, which checkers cannot remember."""

    name = "list-state"

    def init(self):
        return ()

    def step(self, state, op):
        return True, list(state) + [op.value]


class ListInit:
    """A model whose initial state is a list."""

    name = "list-init"

    def init(self):
        return []

    def step(self, state, op):
        return True, state


# The numbers a budget or a cache size must not be, and the error each gives.
NOT_COUNTS = [
    (0, InvalidArgument), (-1, InvalidArgument), (-10**9, InvalidArgument),
    (1.5, InvalidArgumentType), (1.0, InvalidArgumentType), (math.nan, InvalidArgumentType),
    (math.inf, InvalidArgumentType), (True, InvalidArgumentType), (False, InvalidArgumentType),
    ("10", InvalidArgumentType), (None, InvalidArgumentType),
]

ERRORS = [
    # -- budget and max_cache ------------------------------------------------------
    *[pytest.param(lambda name=name, value=value: linearizable(one_write(), "register",
                                                              **{name: value}), (),
                   error, f"{name}={value!r}", id=f"{name}-{value!r}")
      for name in ("budget", "max_cache") for value, error in NOT_COUNTS],
    # -- the model ---------------------------------------------------------------------
    pytest.param(linearizable, (one_write(), "queue"), InvalidArgument, "model='queue'",
                 id="model-unknown-name"),
    pytest.param(linearizable, (one_write(), "Register"), InvalidArgument, "model='Register'",
                 id="model-name-is-case-sensitive"),
    pytest.param(linearizable, (one_write(), ""), InvalidArgument, "model=''",
                 id="model-empty-name"),
    pytest.param(linearizable, (one_write(), None), InvalidArgumentType, "model=None",
                 id="model-None"),
    pytest.param(linearizable, (one_write(), 42), InvalidArgumentType, "model=42",
                 id="model-an-int"),
    pytest.param(linearizable, (one_write(), RegisterModel), InvalidArgumentType,
                 "RegisterModel()", id="model-class-instead-of-instance"),
    pytest.param(linearizable, (one_write(), object()), InvalidArgumentType,
                 "init() and step(state, op)", id="model-without-methods"),
    pytest.param(linearizable, (one_write(), StepReturnsBool()), InvalidArgumentType,
                 "model 'bool-step': step(state, p0 write(1) -> ok) returned True; it must "
                 "return (ok, new_state)", id="model-step-returns-a-bool"),
    pytest.param(linearizable, (one_write(), ListState()), InvalidArgumentType,
                 "model 'list-state': step(state, p0 write(1) -> ok) returned the state [1], "
                 "which is not hashable", id="model-state-a-list"),
    pytest.param(linearizable, (one_write(), ListInit()), InvalidArgumentType,
                 "model 'list-init': init() returned the state [], which is not hashable",
                 id="model-initial-state-a-list"),
    # -- operations the model rejects -------------------------------------------------
    pytest.param(linearizable, (history((0, "increment", None, 1)), "register"),
                 InvalidArgument, "f='increment'", id="register-unknown-function"),
    pytest.param(linearizable, (history((0, "read", None, 1)), "kv"), InvalidArgument,
                 "f='read'", id="kv-given-a-register-op"),
    pytest.param(linearizable, (history((0, "cas", None, 5)), "register"), InvalidArgument,
                 "value=5", id="register-cas-not-a-pair"),
    pytest.param(linearizable, (history((0, "append", "k", 3)), "kv"), InvalidArgument,
                 "value=3", id="kv-append-not-a-str"),
    pytest.param(linearizable, (history((0, "put", "k", 7), (0, "append", "k", "x")), "kv"),
                 InvalidArgument, "cannot be appended to the value 7",
                 id="kv-append-to-a-non-str"),
    pytest.param(linearizable, (history((0, "write", None, [1])), "register"),
                 InvalidArgumentType, "returned the state [1], which is not hashable",
                 id="register-write-of-a-list"),
    # -- the history ----------------------------------------------------------------------
    pytest.param(linearizable, (42, "register"), InvalidArgumentType, "history=42",
                 id="history-an-int"),
    pytest.param(linearizable, (None, "register"), InvalidArgumentType, "history=None",
                 id="history-None"),
    pytest.param(linearizable, ("ab", "register"), InvalidArgumentType, "history='ab'",
                 id="history-a-str"),
    pytest.param(linearizable, (b"ab", "register"), InvalidArgumentType, "history=b'ab'",
                 id="history-bytes"),
    pytest.param(linearizable, ([1, 2], "register"), InvalidArgumentType,
                 "history holds 1 at position 0", id="history-of-ints"),
    pytest.param(linearizable, ({"a": 1}, "register"), InvalidArgumentType,
                 "history holds 'a' at position 0", id="history-a-dict"),
    pytest.param(lambda: linearizable(list(one_write()), "register"), (), InvalidArgumentType,
                 "pass the History itself, not its events", id="history-of-events"),
    pytest.param(lambda: linearizable(one_write().operations() + [None], "register"), (),
                 InvalidArgumentType, "history holds None at position 1",
                 id="history-with-a-None"),
]


@pytest.mark.parametrize("function, args, error, message", ERRORS)
def test_bad_input_is_a_clear_named_error(function, args, error, message):
    """A bad argument raises the stated error, naming the parameter and its value."""
    with deadline(DEADLINE), pytest.raises(error) as caught:
        function(*args)
    assert message in str(caught.value)


BEHAVIOURS = [
    pytest.param(linearizable, (History(), "register"),
                 lambda r: (r.valid is True and r.partitions == 0 and r.steps == 0
                            and r.witness == {} and "all 0 partitions" in r.reason),
                 id="empty-history-is-linearizable"),
    pytest.param(linearizable, ([], "kv"), lambda r: r.valid is True and r.partitions == 0,
                 id="empty-list-is-linearizable"),
    pytest.param(linearizable, (history((0, "write", None, 1, "fail"),
                                        (1, "read", None, None)), "register"),
                 lambda r: r.valid is True and r.partitions == 1,
                 id="failed-write-never-happened"),
    pytest.param(linearizable, (history((0, "write", None, 1, "fail")), "register"),
                 lambda r: r.valid is True and r.partitions == 0,
                 id="only-failed-ops-is-linearizable"),
    pytest.param(linearizable, (history((1, "read", None, 1),
                                        pending=[(0, "write", None, 1)]), "register"),
                 lambda r: r.valid is False, id="pending-write-cannot-act-before-its-invocation"),
    pytest.param(linearizable, (history(pending=[(0, "write", None, 1)]), "register"),
                 lambda r: r.valid is True and r.partitions == 1,
                 id="pending-write-alone-is-linearizable"),
    pytest.param(lambda: linearizable(_pending_then_read(1), "register"), (),
                 lambda r: r.valid is True and len(r.witness[None]) == 2,
                 id="pending-write-may-take-effect"),
    pytest.param(lambda: linearizable(_pending_then_read(None), "register"), (),
                 lambda r: r.valid is True and r.witness[None][0].f == "read",
                 id="pending-write-may-take-effect-after-a-later-read"),
    pytest.param(linearizable, (history(pending=[(0, "read", None, None)]), "register"),
                 lambda r: r.valid is True and r.partitions == 0,
                 id="pending-read-constrains-nothing"),
    pytest.param(lambda: linearizable(iter(one_write().operations()), "register"), (),
                 lambda r: r.valid is True and r.steps == 1, id="an-iterator-of-operations"),
    pytest.param(lambda: linearizable(hard(), "register", budget=20_000), (),
                 lambda r: r.valid is None and not r and "budget=20000" in r.reason
                 and r.steps == 20_000, id="hard-search-stops-at-its-budget"),
    pytest.param(lambda: linearizable(hard(), "register", max_cache=1_000), (),
                 lambda r: (r.valid is None and "max_cache=1000" in r.reason
                            and r.cache_peak <= 1_000), id="hard-search-stops-at-its-cache"),
    pytest.param(lambda: linearizable(one_write(), "register", budget=10**30, max_cache=10**30),
                 (), lambda r: r.valid is True, id="huge-limits-are-fine"),
    pytest.param(lambda: linearizable(one_write(), "register", budget=1, max_cache=2), (),
                 lambda r: r.valid is True and r.steps == 1, id="one-step-decides-one-op"),
    pytest.param(lambda: linearizable(one_write(), "register", max_cache=1), (),
                 lambda r: r.valid is None and "max_cache=1" in r.reason,
                 id="max-cache-counts-the-initial-state"),
    pytest.param(lambda: linearizable(history((0, "get", "k", None)), KVModel()), (),
                 lambda r: r.valid is True, id="kv-get-of-None-reads-empty"),
]


def _pending_then_read(value) -> History:
    """A write invoked and never completed, and a later read returning ``value``."""
    h = History()
    h.invoke(0, "write", value=1)
    h.invoke(1, "read")
    h.ok(1, value=value)
    return h


@pytest.mark.parametrize("function, args, check", BEHAVIOURS)
def test_odd_input_has_its_documented_behaviour(function, args, check):
    """Input that looks odd but is documented does what the documentation says."""
    with deadline(DEADLINE):
        result = function(*args)
    assert check(result)
