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
from course_lib.checkers.linearizability import DEFAULT_MAX_CACHE, _PartitionSearch
from course_lib.history import Event, History, Operation, bundled_history_path, load_jepsen
from course_lib.sim.validation import InvalidArgument
from linearizability_before import linearizable as linearizable_before

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
    """budget and max_cache are validated with their value in the message (see also bad_input)."""
    h = History()
    with pytest.raises(InvalidArgument, match="budget=-1 must be an int >= 1"):
        linearizable(h, "kv", budget=-1)
    with pytest.raises(InvalidArgument, match="max_cache=0 must be an int >= 1"):
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
    """plot_violation(result) draws the failing partition with a line at the stuck time."""
    from course_lib.viz import plot_violation

    result = linearizable(load_jepsen(bundled_history_path("c10-bad")), "kv")
    ax = plot_violation(result)
    assert any(line.get_xdata()[0] == result.stuck_time for line in ax.lines)
    red = [p for p in ax.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("#fb6a4a")]
    assert len(red) == len(result.stuck)
    matplotlib.pyplot.close(ax.figure)
    with pytest.raises(ValueError, match="only a linearizability violation"):
        plot_violation(linearizable(History(), "kv"))


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


# -- the rework for speed: the same answers, with bounded work -------------------
#
# tests/linearizability_before.py is the checker as it was before it was made
# faster (frozen, never edited): the current one must say exactly what it said,
# down to the step counts that notebooks print.


def simulate_kv(rng: random.Random, processes: int = 3, operations: int = 10,
                keys: tuple = ("a", "b")):
    """Run random clients against one atomic key-value store; return the History.

    As simulate_register: each get, put or append takes effect at one atomic
    step between its invocation and its completion; some time out (info)
    before or after taking effect, and one that timed out first may still
    take effect later, or never; the run may stop with operations still open.
    """
    h = History()
    store = {}
    phase = {p: None for p in range(processes)}  # None or [f, key, value, applied, result]
    ghosts = []  # timed-out operations that may still take effect
    started = 0

    def apply(f, key, value):
        if f == "put":
            store[key] = value
        elif f == "append":
            store[key] = store.get(key, "") + value
        return store.get(key, "")

    while True:
        if ghosts and rng.random() < 0.2:
            f, key, value = ghosts.pop(rng.randrange(len(ghosts)))
            if rng.random() < 0.7:
                apply(f, key, value)
            continue
        movable = [p for p in range(processes) if phase[p] is not None or started < operations]
        if not movable or (started >= operations and rng.random() < 0.05):
            return h
        p = rng.choice(movable)
        current = phase[p]
        if current is None:
            f = rng.choice(["get", "put", "append"])
            key = rng.choice(keys)
            value = None if f == "get" else rng.choice("xyz")
            h.invoke(p, f, key=key, value=value)
            phase[p] = [f, key, value, False, None]
            started += 1
        elif rng.random() < 0.1:  # time out, whether or not it took effect
            h.info(p)
            if not current[3]:
                ghosts.append(tuple(current[:3]))
            phase[p] = None
        elif not current[3]:  # take effect, atomically
            current[4] = apply(*current[:3])
            current[3] = True
        else:
            h.ok(p, value=current[4] if current[0] == "get" else None)
            phase[p] = None


def corrupt_one_read(rng: random.Random, h: History, values: list) -> History:
    """Return ``h`` with one ok read (or get), if any, returning a value drawn from ``values``."""
    events = list(h)
    reads = [k for k, e in enumerate(events) if e.type == "ok" and e.f in ("read", "get")]
    if reads:
        k = rng.choice(reads)
        e = events[k]
        events[k] = Event(e.process, e.type, e.f, e.key, rng.choice(values), e.time)
    return History(events)


def evidence(result):
    """Return everything a result says, to compare two checkers' answers."""
    return (result.valid, result.model, result.partition, result.partitions, result.checked,
            result.steps, result.cache_peak, result.reason, result.linearized, result.stuck,
            result.deadline, result.stuck_time, result.state, result._illegal,
            result.operations, result.witness, result.explain())


def test_agrees_with_the_checker_before_the_rework_on_random_histories():
    """On 3,000 seeded random register and key-value histories, with and without a
    corrupted read and under small budgets and caches, every field of the result
    (verdict, failing partition, prefix, stuck operations, step count, cache peak,
    explanation, witness) equals the frozen pre-rework checker's."""
    rng = random.Random(20240)
    for case in range(3000):
        if case % 3 == 2:
            model, h = "kv", simulate_kv(rng, rng.randint(1, 4), rng.randint(1, 12))
            values = ["", "x", "y", "xy", "yx", "zz", None]
        else:
            model, h = "register", simulate_register(rng, rng.randint(1, 5), rng.randint(1, 14))
            values = [None, 0, 1, 2, 99]
        if case % 2:
            h = corrupt_one_read(rng, h, values)
        limits = rng.choice([{}, {"budget": rng.randint(1, 80)}, {"max_cache": rng.randint(1, 30)}])
        assert evidence(linearizable(h, model, **limits)) == \
            evidence(linearizable_before(h, model, **limits)), (case, limits)


@pytest.mark.parametrize("name", ["c01-ok", "c01-bad", "c10-bad", "c50-bad"])
def test_agrees_with_the_checker_before_the_rework_on_porcupine_histories(name):
    """On porcupine's histories, with the default limits and with small ones, every
    field of the result equals the pre-rework checker's (notebook 01 prints the
    step counts)."""
    history = load_jepsen(bundled_history_path(name))
    for limits in ({}, {"budget": 700}, {"budget": 3000}, {"max_cache": 300}):
        assert evidence(linearizable(history, "kv", **limits)) == \
            evidence(linearizable_before(history, "kv", **limits)), limits


def test_every_budget_stops_where_the_checker_before_the_rework_did():
    """For every budget up to the length of the search, the step count and verdict
    equal the pre-rework checker's: partitions taking turns, the end of a search
    with indeterminate operations left, and the budget running out right there."""
    histories = [load_jepsen(bundled_history_path("c10-ok"))]
    for seed in range(30):
        rng = random.Random(seed)
        histories.append(simulate_kv(rng, 3, 12, keys=("a", "b", "c")))
        histories.append(simulate_register(rng, 4, 12))
    for h in histories:
        model = "register" if h[0].f in ("read", "write", "cas") else "kv"
        full = linearizable_before(h, model).steps
        for budget in range(1, full + 2, 1 + full // 150):
            new = linearizable(h, model, budget=budget)
            old = linearizable_before(h, model, budget=budget)
            assert (new.valid, new.steps, new.partition) == (old.valid, old.steps, old.partition)


def test_result_operations_are_the_historys_own():
    """The operations in a result are Operations equal to those of
    history.operations(): numbered among failed and unfinished ones, with their
    times, outputs and statuses."""
    h = History()
    h.invoke(0, "put", key="a", value="1")
    h.fail(0)
    h.invoke(0, "put", key="a", value="2")
    h.invoke(1, "append", key="b", value="x")
    h.info(1)
    h.ok(0)
    h.invoke(2, "append", key="a", value="3")  # never completes
    h.invoke(1, "get", key="a")
    h.ok(1, value="23")
    h.invoke(1, "get", key="a")
    h.ok(1, value="2")  # stale: "3" was read before
    ops = h.operations()
    result = linearizable(h, "kv")
    assert result.valid is False and result.partition == "a"
    assert result.operations == tuple(op for op in ops if op.key == "a" and op.status != "fail")
    assert all(type(op) is Operation for op in result.operations + result.linearized + result.stuck)
    assert result.deadline == ops[5]
    valid = linearizable(History(list(h)[:-2]), "kv")
    assert valid.valid is True
    assert {op for order in valid.witness.values() for op in order} <= set(ops)


def long_register_history(operations: int, seed: int, processes: int = 10, quiet: int = 0,
                          stale: float = 0.0, timeouts: float = 0.0) -> History:
    """Return a register history of ``operations`` operations from concurrent clients.

    The first ``quiet`` operations run one at a time; then ``processes``
    clients overlap. Reads (60%) and writes of values 0-4 take effect
    atomically; a fraction ``timeouts`` completes with info (after taking
    effect) and a fraction ``stale`` of the reads returns a random value
    instead. The overlapping part depends only on ``seed``, not on ``quiet``.
    """
    h = History()
    quiet_rng, rng = random.Random(seed - 1), random.Random(seed)
    register = 0
    for k in range(max(quiet, 1)):
        value = quiet_rng.randrange(5) if k else 0
        h.invoke(0, "write", value=value)
        h.ok(0)
        register = value
    phase = {}  # process -> [f, value, applied, result]
    idle, busy = list(range(processes)), []
    started = max(quiet, 1)
    while started < operations or busy:
        if idle and started < operations and (not busy or rng.random() < 0.5):
            p = idle.pop(rng.randrange(len(idle)))
            f = "read" if rng.random() < 0.6 else "write"
            value = None if f == "read" else rng.randrange(5)
            h.invoke(p, f, value=value)
            phase[p] = [f, value, False, None]
            busy.append(p)
            started += 1
            continue
        p = busy[rng.randrange(len(busy))]
        current = phase[p]
        if not current[2]:
            if current[0] == "write":
                register = current[1]
            current[2], current[3] = True, register
            continue
        busy.remove(p)
        idle.append(p)
        if rng.random() < timeouts:
            h.info(p)
        elif current[0] == "read":
            h.ok(p, value=current[3] if rng.random() >= stale else rng.randrange(5))
        else:
            h.ok(p)
    return h


@pytest.fixture(scope="module")
def hundred_thousand_operations():
    """A register history of 100,000 operations: 60,000 one at a time, then ten
    clients overlapping, a few reads stale and a few operations timed out."""
    return long_register_history(100_000, seed=1, quiet=60_000, stale=0.001, timeouts=0.02)


def test_a_long_history_with_a_small_budget_answers_unknown_naming_the_budget(
        hundred_thousand_operations):
    """100,000 operations and budget=20,000: exactly 20,000 steps, then valid=None
    with the budget named."""
    result = linearizable(hundred_thousand_operations, "register", budget=20_000)
    assert result.valid is None and not result
    assert result.steps == 20_000
    assert "budget=20000" in result.reason and "partition None" in result.reason


def test_a_budget_limited_search_of_a_long_history_stays_small(hundred_thousand_operations):
    """160,000 steps on 100,000 operations peak under 100 MB: about 600 bytes per
    operation to set up, and a couple of hundred per remembered pair however far
    into the history the search is (before the rework a pair's bitset grew with
    the search's position: several hundred MB here)."""
    tracemalloc.start()
    try:
        result = linearizable(hundred_thousand_operations, "register", budget=160_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.valid is None and result.cache_peak > 80_000
    assert peak < 100 * 2**20


def test_bytes_per_remembered_pair_do_not_grow_with_the_history():
    """The same 60,000 search steps after 1,000 and after 60,000 operations run one
    at a time take the same memory per new remembered (set, state) pair, stack
    included: under 300 bytes, within 25% of each other."""
    per_pair = []
    for quiet in (1_000, 60_000):
        h = long_register_history(quiet + 20_000, seed=3, quiet=quiet, timeouts=0.02)
        ops = [op for op in h.operations() if not (op.indeterminate and op.f == "read")]
        search = _PartitionSearch(None, ops, RegisterModel())
        search.run(quiet, DEFAULT_MAX_CACHE)  # one step per operation run alone
        remembered = len(search.cache)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            search.run(60_000, DEFAULT_MAX_CACHE)
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert search.verdict is None and len(search.cache) - remembered > 10_000
        per_pair.append((after - before) / (len(search.cache) - remembered))
    alone, late = per_pair
    assert late < 300 and late < 1.25 * alone, per_pair
