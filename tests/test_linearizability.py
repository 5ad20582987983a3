"""Tests of course_lib.checkers.linearizability and the models it checks against."""

import itertools
import random
import tracemalloc
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from course_lib.checkers import KVModel, RegisterModel, linearizable
from course_lib.history import Event, History, bundled_history_path, load_jepsen

DATA = Path(__file__).parent / "data"


def register_history(*steps):
    """Build a register history from (type, process, f, value) tuples."""
    h = History()
    for type_, process, f, value in steps:
        if type_ == "invoke":
            h.invoke(process, f, value=value)
        else:
            getattr(h, type_)(process, f, value=value)
    return h


# -- the six shared histories --------------------------------------------------


@pytest.mark.parametrize("name, verdict", [
    ("c01-ok", True), ("c01-bad", False),
    ("c10-ok", True), ("c10-bad", False),
    ("c50-ok", True), ("c50-bad", False),
])
def test_verdicts_on_porcupine_kv_histories(name, verdict):
    """The checker agrees with porcupine's known verdicts on its six kv histories."""
    result = linearizable(load_jepsen(bundled_history_path(name)), "kv")
    assert result.valid is verdict


def test_c10_bad_explains_the_failing_key():
    """A violation names its partition, a legal prefix and the stuck operations."""
    result = linearizable(load_jepsen(bundled_history_path("c10-bad")), "kv")
    assert result.partition == "0"
    assert result.deadline in result.stuck
    assert all(op.key == "0" for op in result.operations)
    # the prefix replays legally through the model and ends in result.state
    model, state = KVModel(), ""
    for op in result.linearized:
        ok, state = model.step(state, op)
        assert ok
    assert state == result.state
    # no stuck operation is legal and leads to the deadline being satisfiable next
    text = result.explain()
    assert "partition '0'" in text and str(result.deadline) in text
    assert "illegal in this state" in text


def test_witness_of_a_valid_history_is_a_legal_real_time_order():
    """A valid result's witness replays legally and respects real time per key."""
    result = linearizable(load_jepsen(bundled_history_path("c10-ok")), "kv")
    model = KVModel()
    for key, order in result.witness.items():
        state = model.init()
        for k, op in enumerate(order):
            ok, state = model.step(state, op)
            assert ok and op.key == key
            assert all(not (later.return_index < op.call_index) for later in order[k + 1:])


# -- hand-made register histories ----------------------------------------------


def test_stale_read_after_a_completed_write_is_not_linearizable():
    """A read that starts after write(1) completed cannot return the old value."""
    h = register_history(("invoke", 0, "write", 1), ("ok", 0, "write", 1),
                         ("invoke", 1, "read", None), ("ok", 1, "read", None))
    result = linearizable(h, "register")
    assert result.valid is False
    assert [op.f for op in result.linearized] == ["write"]
    assert result.stuck == (h.operations()[1],)


def test_read_concurrent_with_a_write_may_return_either_value():
    """A read overlapping write(1) may return the old or the new value."""
    for seen in (None, 1):
        h = register_history(("invoke", 0, "write", 1), ("invoke", 1, "read", None),
                             ("ok", 1, "read", seen), ("ok", 0, "write", 1))
        assert linearizable(h, "register").valid is True


def test_new_then_old_reads_are_not_linearizable():
    """Once a read returned the new value, a later read cannot return the old one."""
    h = register_history(("invoke", 0, "write", 1),
                         ("invoke", 1, "read", None), ("ok", 1, "read", 1),
                         ("invoke", 2, "read", None), ("ok", 2, "read", None),
                         ("ok", 0, "write", 1))
    assert linearizable(h, "register").valid is False


def test_overlapping_reads_may_see_new_then_old():
    """Two overlapping reads may be ordered either way around the write."""
    h = register_history(("invoke", 0, "write", 1),
                         ("invoke", 1, "read", None), ("invoke", 2, "read", None),
                         ("ok", 1, "read", 1), ("ok", 2, "read", None),
                         ("ok", 0, "write", 1))
    assert linearizable(h, "register").valid is True


def test_cas_swaps_only_from_the_expected_value():
    """An ok cas [old new] needs the register to hold old; a later read sees new."""
    ok = register_history(("invoke", 0, "write", 0), ("ok", 0, "write", 0),
                          ("invoke", 1, "cas", (0, 5)), ("ok", 1, "cas", (0, 5)),
                          ("invoke", 2, "read", None), ("ok", 2, "read", 5))
    assert linearizable(ok, "register").valid is True
    bad = register_history(("invoke", 0, "write", 0), ("ok", 0, "write", 0),
                           ("invoke", 1, "cas", (3, 5)), ("ok", 1, "cas", (3, 5)))
    assert linearizable(bad, "register").valid is False


def test_failed_operations_must_not_take_effect():
    """A failed write or cas definitely did not happen, so nobody may read its value."""
    h = register_history(("invoke", 0, "write", 1), ("fail", 0, "write", 1),
                         ("invoke", 1, "read", None), ("ok", 1, "read", 1))
    assert linearizable(h, "register").valid is False
    assert linearizable(load_jepsen(DATA / "register-bad.log"), "register").valid is False


def test_indeterminate_write_may_take_effect_late():
    """A timed-out write may take effect long after its info completion."""
    h = register_history(("invoke", 0, "write", 1), ("info", 0, "write", None),
                         ("invoke", 1, "read", None), ("ok", 1, "read", None),
                         ("invoke", 1, "read", None), ("ok", 1, "read", 1))
    assert linearizable(h, "register").valid is True
    assert linearizable(load_jepsen(DATA / "register-ok.log"), "register").valid is True


def test_indeterminate_write_may_never_take_effect():
    """An info or never-completed write need not be linearized at all."""
    for end in ("info", None):
        steps = [("invoke", 0, "write", 1)] + ([(end, 0, "write", None)] if end else [])
        steps += [("invoke", 1, "read", None), ("ok", 1, "read", None)]
        assert linearizable(register_history(*steps), "register").valid is True


def test_indeterminate_write_cannot_be_undone():
    """Once a read saw an indeterminate write's value, later reads cannot miss it."""
    h = register_history(("invoke", 0, "write", 1), ("info", 0, "write", None),
                         ("invoke", 1, "read", None), ("ok", 1, "read", 1),
                         ("invoke", 1, "read", None), ("ok", 1, "read", None))
    assert linearizable(h, "register").valid is False


def test_indeterminate_write_cannot_take_effect_before_its_invocation():
    """An info write invoked after a read returned cannot explain that read."""
    h = register_history(("invoke", 1, "read", None), ("ok", 1, "read", 1),
                         ("invoke", 0, "write", 1), ("info", 0, "write", None))
    assert linearizable(h, "register").valid is False


def test_keys_are_checked_independently():
    """Per-key partitions: a violation on one key is reported with that key."""
    h = History()
    h.invoke(0, "put", key="a", value="1")
    h.ok(0)
    h.invoke(1, "get", key="b")
    h.ok(1, value="")
    h.invoke(1, "get", key="a")
    h.ok(1, value="")  # stale: put a=1 completed before
    result = linearizable(h, "kv")
    assert result.valid is False and result.partition == "a"
    assert result.partitions == 2


# -- budget, errors, custom models ---------------------------------------------


def test_tiny_budget_gives_unknown_not_a_wrong_verdict():
    """When the step budget runs out the verdict is None, and the result is falsy."""
    result = linearizable(load_jepsen(bundled_history_path("c50-ok")), "kv", budget=1000)
    assert result.valid is None and not result
    assert result.steps == 1000 and "budget=1000" in result.reason


def test_cache_limit_bounds_memory_of_a_hard_history():
    """max_cache caps remembered states: c50-bad stays within a few MB and ends unknown."""
    history = load_jepsen(bundled_history_path("c50-bad"))
    tracemalloc.start()
    try:
        result = linearizable(history, "kv", max_cache=2_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.valid is None and "max_cache=2000" in result.reason
    assert result.cache_peak <= 2_000
    assert peak < 20 * 1024 * 1024


def test_budget_and_cache_must_be_positive_integers():
    """budget and max_cache are validated with their value in the message."""
    h = History()
    with pytest.raises(ValueError, match="budget=-1 must be a positive integer"):
        linearizable(h, "kv", budget=-1)
    with pytest.raises(ValueError, match="max_cache=0 must be a positive integer"):
        linearizable(h, "kv", max_cache=0)


def test_unknown_model_names_and_classes_are_rejected():
    """The model is a known name or an instance with init and step."""
    with pytest.raises(ValueError, match="model='queue'"):
        linearizable(History(), "queue")
    with pytest.raises(TypeError, match="pass an instance"):
        linearizable(History(), KVModel)
    with pytest.raises(TypeError, match="init"):
        linearizable(History(), object())


def test_unknown_function_is_reported_by_the_model():
    """An operation the model does not know is an error naming f."""
    h = History()
    h.invoke(0, "increment", value=1)
    h.ok(0)
    with pytest.raises(ValueError, match="f='increment'"):
        linearizable(h, "register")


def test_verdict_is_deterministic():
    """Two runs give the same verdict, partition, prefix and step count."""
    history = load_jepsen(bundled_history_path("c10-bad"))
    a, b = linearizable(history, "kv"), linearizable(history, "kv")
    assert (a.valid, a.partition, a.steps, a.linearized) == \
        (b.valid, b.partition, b.steps, b.linearized)


class QueueModel:
    """A FIFO queue: enqueue(v), dequeue() -> v or None when empty."""

    name = "queue"

    def init(self):
        return ()

    def step(self, state, op):
        if op.f == "enqueue":
            return True, state + (op.value,)
        if op.indeterminate:
            return True, state[1:]
        head = state[0] if state else None
        return op.output == head, state[1:]


def test_custom_model_protocol():
    """A learner's model with init and step is checked like a built-in one."""
    h = History()
    h.invoke(0, "enqueue", value="a")
    h.invoke(1, "enqueue", value="b")
    h.ok(0)
    h.ok(1)
    h.invoke(2, "dequeue")
    h.ok(2, value="b")  # b may have been enqueued first: the enqueues overlapped
    assert linearizable(h, QueueModel()).valid is True
    h.invoke(2, "dequeue")
    h.ok(2, value="b")  # but not dequeued twice
    result = linearizable(h, QueueModel())
    assert result.valid is False and result.model == "queue"


def test_subclassed_model_step_is_honoured():
    """Overriding step in a subclass of a built-in model changes the verdict."""

    class AnythingGoes(RegisterModel):
        def step(self, state, op):
            return True, state

    h = register_history(("invoke", 0, "write", 1), ("ok", 0, "write", 1),
                         ("invoke", 1, "read", None), ("ok", 1, "read", 7))
    assert linearizable(h, "register").valid is False
    assert linearizable(h, AnythingGoes()).valid is True


def test_plot_highlights_the_stuck_point():
    """result.plot() draws the failing partition with a line at the stuck time."""
    result = linearizable(load_jepsen(bundled_history_path("c10-bad")), "kv")
    ax = result.plot()
    assert any(line.get_xdata()[0] == result.stuck_time for line in ax.lines)
    red = [p for p in ax.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("#fb6a4a")]
    assert len(red) == len(result.stuck)
    matplotlib.pyplot.close(ax.figure)
    with pytest.raises(ValueError, match="valid=True"):
        linearizable(History(), "kv").plot()


def test_repr_says_the_verdict():
    """The repr names the verdict and the failing partition."""
    result = linearizable(load_jepsen(bundled_history_path("c01-bad")), "kv")
    assert "NOT linearizable" in repr(result) and "partition='7'" in repr(result)


# -- property tests --------------------------------------------------------------


def simulate_register(rng: random.Random, processes: int = 3, operations: int = 8):
    """Run random clients against one atomic register; return the History.

    Each operation takes effect at one atomic step between its invocation and
    its completion. Some time out (info) before or after taking effect; one
    that times out first may still take effect later, or never. A cas whose
    condition is false completes with fail; the run may stop with operations
    still open (never completed).
    """
    h = History()
    register = None
    phase = {p: None for p in range(processes)}  # None or [f, value, applied, result]
    ghosts = []  # timed-out operations that may still take effect
    started = 0

    def apply(f, value):
        nonlocal register
        result = register
        if f == "write":
            register = value
        elif f == "cas":
            result = register == value[0]
            if result:
                register = value[1]
        return result

    while True:
        if ghosts and rng.random() < 0.2:
            f, value = ghosts.pop(rng.randrange(len(ghosts)))
            if rng.random() < 0.7:
                apply(f, value)
            continue
        movable = [p for p in range(processes) if phase[p] is not None or started < operations]
        if not movable or (started >= operations and rng.random() < 0.05):
            return h
        p = rng.choice(movable)
        current = phase[p]
        if current is None:
            f = rng.choice(["read", "write", "cas"])
            value = (None if f == "read" else rng.randrange(3) if f == "write"
                     else (rng.randrange(3), rng.randrange(3)))
            h.invoke(p, f, value=value)
            phase[p] = [f, value, False, None]
            started += 1
        elif rng.random() < 0.1:  # time out, whether or not it took effect
            h.info(p)
            if not current[2]:
                ghosts.append((current[0], current[1]))
            phase[p] = None
        elif not current[2]:  # take effect, atomically
            current[3] = apply(current[0], current[1])
            current[2] = True
        else:
            f, value, _, result = current
            if f == "read":
                h.ok(p, value=result)
            elif f == "cas" and not result:
                h.fail(p)
            else:
                h.ok(p)
            phase[p] = None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(1, 5), st.integers(1, 14))
def test_single_copy_register_histories_are_linearizable(rng, processes, operations):
    """Any history of one atomic register copy is linearizable."""
    h = simulate_register(rng, processes, operations)
    assert linearizable(h, "register").valid is True


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 5), st.integers(2, 14), st.data())
def test_a_read_of_a_value_never_written_is_caught(rng, processes, operations, data):
    """Corrupting one ok read to a never-written value makes the history non-linearizable."""
    h = simulate_register(rng, processes, operations)
    events = list(h)
    reads = [k for k, e in enumerate(events) if e.type == "ok" and e.f == "read"]
    assume(reads)
    k = data.draw(st.sampled_from(reads))
    e = events[k]
    events[k] = Event(e.process, e.type, e.f, e.key, 99, e.time)
    result = linearizable(History(events), "register")
    assert result.valid is False
    assert any(op.output == 99 for op in result.stuck)


def brute_force_linearizable(history, model) -> bool:
    """Try every subset of indeterminate ops and every order of the rest."""
    ops = [op for op in history.operations() if op.status != "fail"]
    certain = [op for op in ops if not op.indeterminate]
    maybe = [op for op in ops if op.indeterminate]
    for r in range(len(maybe) + 1):
        for chosen in itertools.combinations(maybe, r):
            for order in itertools.permutations(certain + list(chosen)):
                if any(b.return_index is not None and not b.indeterminate
                       and b.return_index < a.call_index
                       for i, a in enumerate(order) for b in order[i + 1:]):
                    continue  # b finished before a started, yet comes after it
                state, legal = model.init(), True
                for op in order:
                    legal, state = model.step(state, op)
                    if not legal:
                        break
                if legal:
                    return True
    return False


@st.composite
def tiny_register_histories(draw):
    """Random (mostly non-linearizable) register histories of up to 6 operations."""
    h = History()
    open_ops = {}
    total = draw(st.integers(1, 6))
    started = 0
    while started < total or open_ops:
        can_start = [p for p in range(3) if p not in open_ops] if started < total else []
        choices = [("start", p) for p in can_start] + [("end", p) for p in sorted(open_ops)]
        if started >= total:
            choices.append(("stop", None))
        kind, p = draw(st.sampled_from(choices))
        if kind == "stop":
            break
        if kind == "start":
            f = draw(st.sampled_from(["read", "write", "cas"]))
            value = (None if f == "read" else draw(st.integers(0, 2)) if f == "write"
                     else (draw(st.integers(0, 2)), draw(st.integers(0, 2))))
            h.invoke(p, f, value=value)
            open_ops[p] = f
            started += 1
        else:
            f = open_ops.pop(p)
            end = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info"]))
            if end == "ok" and f == "read":
                h.ok(p, value=draw(st.sampled_from([None, 0, 1, 2])))
            else:
                getattr(h, end)(p)
    return h


@settings(max_examples=300, deadline=None)
@given(tiny_register_histories())
def test_agrees_with_brute_force_on_tiny_histories(h):
    """On tiny histories the search agrees with trying every order."""
    assert linearizable(h, "register").valid is brute_force_linearizable(h, RegisterModel())
