"""Tests of course_lib.checkers.sequential: sequential consistency of small histories."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.checkers import RegisterModel, linearizable, sequential_consistency
from course_lib.history import History


def one_at_a_time(*ops):
    """Build a history of non-overlapping (process, f, key, value[, status]) ops."""
    h = History()
    for process, f, key, value, *status in ops:
        status = status[0] if status else "ok"
        if f in ("read", "get"):
            h.invoke(process, f, key=key)
            getattr(h, status)(process, value=value)
        else:
            h.invoke(process, f, key=key, value=value)
            getattr(h, status)(process)
    return h


def test_stale_read_is_sequentially_consistent_but_not_linearizable():
    """Real time across processes does not bind sequential consistency."""
    h = one_at_a_time((0, "write", None, 1), (1, "read", None, None))
    assert linearizable(h, "register").valid is False
    result = sequential_consistency(h, "register")
    assert result.valid is True and [op.process for op in result.order] == [1, 0]


def test_each_process_order_is_kept():
    """A reader cannot see a writer's writes out of the writer's order."""
    h = one_at_a_time((0, "write", None, 1), (0, "write", None, 2),
                      (1, "read", None, 2), (1, "read", None, 1))
    result = sequential_consistency(h, "register")
    assert result.valid is False and not result
    assert "Longest legal interleaving" in result.explain()


def test_store_buffering_across_keys_is_caught():
    """Dekker's test: both processes missing each other's put is not SC, though each key is."""
    h = one_at_a_time((0, "put", "x", "1"), (1, "put", "y", "1"),
                      (0, "get", "y", ""), (1, "get", "x", ""))
    assert sequential_consistency(h, "kv").valid is False
    for key in ("x", "y"):
        ops = [op for op in h.operations() if op.key == key]
        assert sequential_consistency(ops, "kv").valid is True


def test_keys_keep_independent_states():
    """With a per-key model, a put to one key does not change another."""
    h = one_at_a_time((0, "put", "x", "1"), (0, "get", "y", ""), (0, "get", "x", "1"))
    assert sequential_consistency(h, "kv").valid is True


def test_indeterminate_op_cannot_take_effect_before_its_process_earlier_ops():
    """A timed-out write still follows the writes its process made before it."""
    h = one_at_a_time((0, "write", None, 1), (0, "write", None, 2, "info"),
                      (1, "read", None, 2), (1, "read", None, 1))
    assert sequential_consistency(h, "register").valid is False


def test_failed_ops_are_dropped_and_indeterminate_ops_are_optional():
    """A failed write never happens; an info write may happen or not."""
    failed = one_at_a_time((0, "write", None, 1, "fail"), (1, "read", None, 1))
    assert sequential_consistency(failed, "register").valid is False
    for seen in (None, 1):
        maybe = one_at_a_time((0, "write", None, 1, "info"), (1, "read", None, seen))
        assert sequential_consistency(maybe, "register").valid is True


def test_indeterminate_op_may_take_effect_after_its_process_moved_on():
    """A timed-out write may land after its own process's next read, as in linearizability."""
    h = History()
    h.invoke(0, "write", value=1)
    h.info(0)
    h.invoke(0, "read")
    h.ok(0, value=None)
    h.invoke(1, "read")
    h.ok(1, value=1)
    assert linearizable(h, "register").valid is True
    assert sequential_consistency(h, "register").valid is True


def test_too_many_operations_is_a_clear_error():
    """The search is exhaustive, so histories beyond max_ops are refused."""
    h = one_at_a_time(*[(0, "write", None, v) for v in range(5)])
    with pytest.raises(ValueError, match="max_ops=4"):
        sequential_consistency(h, "register", max_ops=4)
    with pytest.raises(ValueError, match="max_ops=0 must be an int >= 1"):
        sequential_consistency(h, "register", max_ops=0)


def brute_force_sc(history, model) -> bool:
    """Try every interleaving keeping process order; indeterminate ops are optional.

    An indeterminate op follows its process's earlier ops, but its process's
    later ops need not follow it.
    """
    ops = [op for op in history.operations() if op.status != "fail"]
    maybe = [op for op in ops if op.indeterminate]
    for r in range(len(maybe) + 1):
        for skipped in itertools.combinations(maybe, len(maybe) - r):
            chosen = [op for op in ops if op not in skipped]
            for order in itertools.permutations(chosen):
                position = {op.id: k for k, op in enumerate(order)}
                if any(a.process == b.process and a.id < b.id and not a.indeterminate
                       and position[a.id] > position[b.id] for a in order for b in order):
                    continue
                state, legal = model.init(), True
                for op in order:
                    legal, state = model.step(state, op)
                    if not legal:
                        break
                if legal:
                    return True
    return False


@st.composite
def tiny_histories(draw):
    """Random register histories of up to 6 operations by up to 3 processes."""
    h = History()
    open_ops = {}
    for _ in range(draw(st.integers(1, 6))):
        p = draw(st.integers(0, 2))
        if p in open_ops:
            f = open_ops.pop(p)
            end = draw(st.sampled_from(["ok", "ok", "fail", "info"]))
            if end == "ok" and f == "read":
                h.ok(p, value=draw(st.sampled_from([None, 0, 1])))
            else:
                getattr(h, end)(p)
        f = draw(st.sampled_from(["read", "write"]))
        h.invoke(p, f, value=None if f == "read" else draw(st.integers(0, 1)))
        open_ops[p] = f
    for p in sorted(open_ops):
        f = open_ops[p]
        h.ok(p, value=draw(st.sampled_from([None, 0, 1])) if f == "read" else None)
    return h


@settings(max_examples=200, deadline=None)
@given(tiny_histories())
def test_agrees_with_brute_force_and_is_weaker_than_linearizability(h):
    """The search matches brute force, and every linearizable history is SC."""
    verdict = sequential_consistency(h, "register").valid
    assert verdict is brute_force_sc(h, RegisterModel())
    if linearizable(h, "register").valid:
        assert verdict is True


def test_long_histories_do_not_overflow_the_stack():
    """The search keeps its own stack: 1,500 operations are checked without RecursionError."""
    h = History()
    for i in range(500):
        for p in range(3):
            h.invoke(p, "write", key=p, value=i)
            h.ok(p)
            h.invoke(p, "read", key=p)
            h.ok(p, value=i)
    assert len(h.operations()) == 3_000
    ops = h.operations()[:1_500]
    result = sequential_consistency(ops, "register", max_ops=2_000)
    assert result.valid is True and len(result.order) == 1_500
    # One process whose last read is stale: the search goes 1,499 deep, then fails.
    one = one_at_a_time(*[(0, "write", None, v) for v in range(1_499)], (0, "read", None, 0))
    result = sequential_consistency(one, "register", max_ops=2_000)
    assert result.valid is False and len(result.longest) == 1_499


def test_a_hard_search_stops_at_its_budget_with_an_unknown_verdict():
    """The search counts model steps; past the budget the verdict is None and names the budget."""
    h = History()
    for p in range(19):  # 19 concurrent writers and an impossible read: millions of orders
        h.invoke(p, "write", value=p)
        h.ok(p)
    h.invoke(19, "read")
    h.ok(19, value=99)
    result = sequential_consistency(h, "register", budget=50_000)
    assert result.valid is None and not result
    assert "budget=50000" in result.reason and "pass a larger budget" in result.reason
    assert result.steps == 50_000
    assert "Longest legal interleaving" in result.explain()
    small = one_at_a_time(*[(p, "write", None, p) for p in range(4)], (9, "read", None, 99))
    needed = sequential_consistency(small, "register").steps
    assert sequential_consistency(small, "register", budget=needed).valid is False
    assert sequential_consistency(small, "register", budget=needed - 1).valid is None


def test_budget_is_a_positive_integer():
    """budget is validated like max_ops, with its value in the message."""
    h = one_at_a_time((0, "write", None, 1))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=f"budget={bad!r}"):
            sequential_consistency(h, "register", budget=bad)
