"""Bad input to the checkers: sequential, session, convergence and models.

Every row is a clear, named error or a documented behaviour. ``ERRORS`` rows
are (callable, args, exception type, a substring the message must contain);
``BEHAVIOURS`` rows are (callable, args, check). Every row runs under a
deadline: a search that could run for minutes must stop at its budget.
(The linearizability checker has its own tests.)
"""

from __future__ import annotations

import math

import pytest

from course_lib.checkers import (
    KVModel,
    RegisterModel,
    converged,
    monotonic_reads,
    monotonic_writes,
    read_your_writes,
    sequential_consistency,
    writes_follow_reads,
)
from course_lib.checkers.models import resolve_model
from course_lib.history import History
from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

from bad_input_support import DEADLINE, deadline, history

SESSION = (read_your_writes, monotonic_reads, monotonic_writes, writes_follow_reads)






def ops(*args, **kwargs):
    """Return the operations of :func:`history`."""
    return history(*args, **kwargs).operations()


def one_op():
    return ops((0, "write", None, 1))


class StepReturnsBool:
    """A model whose step forgets to return the new state."""

    name = "bool-step"

    def init(self):
        return 0

    def step(self, state, op):
        return True


class ListState:
    """A model whose state is a list, which checkers cannot remember."""

    def init(self):
        return []

    def step(self, state, op):
        return True, state + [op.value]


class Incomparable:
    """A replica state that refuses to be compared, like a numpy array."""

    def __eq__(self, other):
        raise TypeError("refuses ==")

    __hash__ = object.__hash__


def hard_sequential() -> History:
    """19 single-write processes and a read of a value nobody wrote: millions of states."""
    h = History()
    for p in range(19):
        h.invoke(p, "write", value=p)
        h.ok(p)
    h.invoke(19, "read")
    h.ok(19, value=99)
    return h


ERRORS = [
    # -- sequential_consistency: numbers ------------------------------------
    pytest.param(lambda: sequential_consistency(one_op(), "register", max_ops=0), (),
                 InvalidArgument, "max_ops=0", id="sc-max-ops-zero"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", max_ops=-3), (),
                 InvalidArgument, "max_ops=-3", id="sc-max-ops-negative"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", max_ops=math.nan), (),
                 InvalidArgumentType, "max_ops=nan", id="sc-max-ops-nan"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", max_ops=math.inf), (),
                 InvalidArgumentType, "max_ops=inf", id="sc-max-ops-inf"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", max_ops=True), (),
                 InvalidArgumentType, "max_ops=True", id="sc-max-ops-bool"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", max_ops="20"), (),
                 InvalidArgumentType, "max_ops='20'", id="sc-max-ops-str"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", budget=0), (),
                 InvalidArgument, "budget=0", id="sc-budget-zero"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", budget=-1), (),
                 InvalidArgument, "budget=-1", id="sc-budget-negative"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", budget=math.inf), (),
                 InvalidArgumentType, "budget=inf", id="sc-budget-inf"),
    pytest.param(lambda: sequential_consistency(one_op(), "register", budget=math.nan), (),
                 InvalidArgumentType, "budget=nan", id="sc-budget-nan"),
    pytest.param(lambda: sequential_consistency(ops(*[(0, "write", None, v) for v in range(5)]),
                                                "register", max_ops=4), (),
                 InvalidArgument, "pass a larger max_ops", id="sc-more-ops-than-max-ops"),
    # -- sequential_consistency: the history --------------------------------
    pytest.param(sequential_consistency, (42, "register"), InvalidArgumentType, "history=42",
                 id="sc-history-an-int"),
    pytest.param(sequential_consistency, ("ab", "register"), InvalidArgumentType,
                 "history='ab'", id="sc-history-a-str"),
    pytest.param(sequential_consistency, (["x"], "register"), InvalidArgumentType,
                 "history contains 'x'", id="sc-history-of-non-operations"),
    pytest.param(lambda: sequential_consistency(one_op() * 2, "register"), (),
                 InvalidArgument, "twice", id="sc-duplicate-operations"),
    pytest.param(lambda: sequential_consistency(ops((0, "increment", None, 1)), "register"), (),
                 InvalidArgument, "f='increment'", id="sc-unknown-function"),
    pytest.param(lambda: sequential_consistency(ops((0, "cas", None, 5)), "register"), (),
                 InvalidArgument, "value=5", id="sc-cas-not-a-pair"),
    pytest.param(lambda: sequential_consistency(ops((0, "append", "k", 3)), "kv"), (),
                 InvalidArgument, "value=3", id="sc-kv-append-not-a-str"),
    # -- sequential_consistency: the model ----------------------------------
    pytest.param(sequential_consistency, (one_op(), "regsiter"), InvalidArgument,
                 "model='regsiter'", id="sc-misspelt-model"),
    pytest.param(sequential_consistency, (one_op(), "Register"), InvalidArgument,
                 "model='Register'", id="sc-model-name-is-case-sensitive"),
    pytest.param(sequential_consistency, (one_op(), ""), InvalidArgument, "model=''",
                 id="sc-empty-model-name"),
    pytest.param(sequential_consistency, (one_op(), None), InvalidArgumentType, "model=None",
                 id="sc-model-None"),
    pytest.param(sequential_consistency, (one_op(), RegisterModel), InvalidArgumentType,
                 "pass an instance", id="sc-model-class"),
    pytest.param(sequential_consistency, (one_op(), object()), InvalidArgumentType,
                 "init() and step(state, op)", id="sc-model-without-methods"),
    pytest.param(sequential_consistency, (one_op(), StepReturnsBool()), InvalidArgumentType,
                 "must return (ok, new_state)", id="sc-step-returns-a-bool"),
    pytest.param(sequential_consistency, (one_op(), ListState()), InvalidArgumentType,
                 "not hashable", id="sc-unhashable-state"),
    # -- models directly ------------------------------------------------------
    pytest.param(resolve_model, ("queue",), InvalidArgument, "model='queue'",
                 id="model-unknown-name"),
    pytest.param(resolve_model, (KVModel,), InvalidArgumentType, "KVModel()",
                 id="model-class-instead-of-instance"),
    pytest.param(resolve_model, (42,), InvalidArgumentType, "model=42", id="model-an-int"),
    pytest.param(lambda: RegisterModel().step(None, ops((0, "get", "k", 1))[0]), (),
                 InvalidArgument, "f='get'", id="register-model-given-a-kv-op"),
    pytest.param(lambda: KVModel().step("", ops((0, "read", None, 1))[0]), (),
                 InvalidArgument, "f='read'", id="kv-model-given-a-register-op"),
    pytest.param(lambda: RegisterModel().step(None, ops((0, "cas", None, (1, 2, 3)))[0]), (),
                 InvalidArgument, "value=(1, 2, 3)", id="register-cas-triple"),
    # -- session checkers -------------------------------------------------------
    *[pytest.param(checker, args, error, message, id=f"{checker.__name__}-{name}")
      for checker in SESSION
      for name, args, error, message in [
          ("history-an-int", (42,), InvalidArgumentType, "history=42"),
          ("history-of-non-operations", ([1, 2],), InvalidArgumentType, "history contains 1"),
          ("duplicate-operations", (ops(("a", "write", "x", 1)) * 2,), InvalidArgument, "twice"),
          ("append", (ops(("a", "append", "x", "v")),), InvalidArgument, "f='append'"),
          ("write-of-None", (ops(("a", "write", "x", None)),), InvalidArgument, "value=None"),
          ("write-of-empty-str", (ops(("a", "put", "x", "")),), InvalidArgument, "value=''"),
          ("repeated-write", (ops(("a", "write", "x", 1), ("b", "write", "x", 1)),),
           InvalidArgument, "key='x': value=1 is written by both"),
          ("write-of-nan", (ops(("a", "write", "x", math.nan)),), InvalidArgument,
           "value=nan"),
          ("unhashable-write", (ops(("a", "write", "x", [1])),), InvalidArgumentType,
           "value=[1]"),
          ("cas-not-a-pair", (ops(("a", "cas", "x", 5)),), InvalidArgument, "value=5"),
      ]],
    # -- converged ---------------------------------------------------------------
    pytest.param(converged, (42,), InvalidArgumentType, "replica_states=42",
                 id="converged-an-int"),
    pytest.param(converged, ("abc",), InvalidArgumentType, "replica_states='abc'",
                 id="converged-a-str"),
    pytest.param(converged, (None,), InvalidArgumentType, "replica_states=None",
                 id="converged-None"),
    pytest.param(converged, ({1, 2},), InvalidArgumentType, "replica_states={1, 2}",
                 id="converged-a-set"),
    pytest.param(converged, ((s for s in [1, 1]),), InvalidArgumentType, "list(...)",
                 id="converged-a-generator"),
    pytest.param(converged, ({},), InvalidArgument, "replica_states is empty",
                 id="converged-empty-mapping"),
    pytest.param(converged, ([],), InvalidArgument, "replica_states is empty",
                 id="converged-empty-list"),
    pytest.param(converged, ({"a": Incomparable(), "b": Incomparable()},), InvalidArgumentType,
                 "replica_states['b']", id="converged-incomparable-states"),
]


@pytest.mark.parametrize("function, args, error, message", ERRORS)
def test_bad_input_is_a_clear_named_error(function, args, error, message):
    """A bad argument raises the stated error, naming the parameter and its value."""
    with deadline(DEADLINE), pytest.raises(error) as caught:
        function(*args)
    assert message in str(caught.value)


BEHAVIOURS = [
    pytest.param(lambda: sequential_consistency(History(), "register"), (),
                 lambda r: r.valid is True and r.order == (), id="sc-empty-history-holds"),
    pytest.param(lambda: sequential_consistency(ops((0, "write", None, 1, "fail")), "register"),
                 (), lambda r: r.valid is True and r.order == (), id="sc-only-failed-ops-holds"),
    pytest.param(lambda: sequential_consistency(
        history((1, "read", None, 1), pending=[(0, "write", None, 1)]), "register"), (),
                 lambda r: r.valid is True and len(r.order) == 2,
                 id="sc-pending-write-may-take-effect"),
    pytest.param(lambda: sequential_consistency(
        history((1, "read", None, None), pending=[(0, "write", None, 1)]), "register"), (),
                 lambda r: r.valid is True and len(r.order) == 1,
                 id="sc-pending-write-may-never-take-effect"),
    pytest.param(lambda: sequential_consistency(hard_sequential(), "register", budget=20_000), (),
                 lambda r: (r.valid is None and not r and "budget=20000" in r.reason
                            and "pass a larger budget" in r.reason),
                 id="sc-search-stops-at-its-budget"),
    pytest.param(lambda: sequential_consistency(hard_sequential(), "register"), (),
                 lambda r: r.valid is None and "budget=" in r.reason,
                 id="sc-default-budget-stops-a-hard-search"),
    *[pytest.param(checker, (History(),), lambda r: r.valid is True and r.violations == [],
                   id=f"{checker.__name__}-empty-history-holds") for checker in SESSION],
    *[pytest.param(checker, (history(("b", "read", "x", 1), pending=[("a", "write", "x", 1)]),),
                   lambda r: r.valid is True,
                   id=f"{checker.__name__}-pending-write-may-be-read") for checker in SESSION],
    *[pytest.param(checker, (history(("b", "read", "x", 1), ("a", "write", "x", 1, "fail")),),
                   lambda r: r.valid is False and "no write wrote" in r.explain(),
                   id=f"{checker.__name__}-read-of-failed-write") for checker in SESSION],
    pytest.param(converged, ({"a": 1},), lambda r: r.valid is True, id="converged-one-replica"),
    pytest.param(converged, ([math.nan, float("nan")],), lambda r: r.valid is True,
                 id="converged-nan-equals-nan"),
    pytest.param(converged, ({"a": {"x": math.nan}, "b": {"x": float("nan")}},),
                 lambda r: r.valid is True, id="converged-nested-nan"),
    pytest.param(converged, ({"a": [1, math.nan], "b": [1, 2.0]},),
                 lambda r: r.valid is False and r.differing == ["b"], id="converged-nan-vs-number"),
]


@pytest.mark.parametrize("function, args, check", BEHAVIOURS)
def test_odd_input_has_its_documented_behaviour(function, args, check):
    """Input that looks odd but is documented does what the documentation says."""
    with deadline(DEADLINE):
        result = function(*args)
    assert check(result)
