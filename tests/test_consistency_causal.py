"""Tests of course_lib.checkers.causal: Ahamad et al.'s causal memory on one register."""

import itertools
import random

import pytest

from course_lib.checkers import monotonic_reads, monotonic_writes, read_your_writes, writes_follow_reads
from course_lib.history import History
from course_lib.sim import InvalidArgument, InvalidArgumentType
from course_lib.checkers import causal_memory
from course_lib.topics.consistency import Clients, Faults, run_workload


def history(*ops):
    """Build a history of register x from (process, f, value) tuples, one at a time, in this order."""
    h = History()
    for t, (process, f, value) in enumerate(ops):
        if f == "write":
            h.invoke(process, "write", "x", value, time=2 * t)
            h.ok(process, time=2 * t + 1)
        else:
            h.invoke(process, "read", "x", time=2 * t)
            h.ok(process, value=value, time=2 * t + 1)
    return h


def sessions_hold(h):
    return all(check(h) for check in (read_your_writes, monotonic_reads, monotonic_writes,
                                      writes_follow_reads))


def by_definition(ops):
    """Decide causal memory by trying every sequence of each client's view (small histories only)."""
    n = len(ops)
    writer = {value: k for k, (_, f, value) in enumerate(ops) if f == "write"}
    before = [set() for _ in range(n)]
    for k, (p, f, value) in enumerate(ops):
        before[k] |= {j for j in range(k) if ops[j][0] == p}
        if f == "read" and value is not None:
            if value not in writer:
                return False
            before[k].add(writer[value])
    for _ in range(n):  # transitive closure
        before = [b.union(*(before[j] for j in b)) for b in before]
    if any(k in before[k] for k in range(n)):
        return False
    for p in {op[0] for op in ops}:
        view = [k for k, op in enumerate(ops) if op[1] == "write" or op[0] == p]
        for order in itertools.permutations(view):
            at = {k: i for i, k in enumerate(order)}
            if any(at[j] > at[k] for k in view for j in before[k] if j in at):
                continue
            value, legal = None, True
            for k in order:
                if ops[k][1] == "write":
                    value = ops[k][2]
                elif ops[k][2] != value:
                    legal = False
                    break
            if legal:
                break
        else:
            return False
    return True


def test_concurrent_writes_seen_in_different_orders_are_causal():
    """Two clients may see two concurrent writes in opposite orders (not sequentially consistent)."""
    h = history((0, "write", 1), (1, "write", 2), (2, "read", 1), (3, "read", 2), (2, "read", 2),
                (3, "read", 1))
    assert causal_memory(h).valid


def test_going_back_to_a_value_already_replaced_is_not_causal_though_sessions_hold():
    """Reading 2, then a concurrent 1, then 2 again passes the four session guarantees, not causal memory."""
    h = history((0, "write", 1), (1, "write", 2), (3, "read", 2), (3, "read", 1), (3, "read", 2))
    assert sessions_hold(h)
    result = causal_memory(h)
    assert not result and result.process == 3
    assert "p3 read('x') -> 2" in result.explain()


def test_reading_an_older_write_of_the_same_client_is_not_causal():
    """A client that saw 2 may not then read 1 when the same client wrote 1 before 2."""
    h = history((0, "write", 1), (0, "write", 2), (1, "read", 2), (1, "read", 1))
    assert not causal_memory(h)


def test_the_initial_value_after_a_causally_earlier_write_is_not_causal():
    """A client that read what p0 wrote after writing 1 may not read the initial value of x."""
    h = history((0, "write", 1), (0, "write", 2), (1, "read", 2), (1, "read", None))
    assert "initial value" in causal_memory(h).explain()


def test_a_value_nobody_wrote_is_not_causal():
    """A read of a value no write wrote breaks causal memory."""
    assert "no write wrote" in causal_memory(history((0, "write", 1), (1, "read", 5))).explain()


def test_a_cyclic_causal_order_is_not_causal():
    """Each client reading the other's later write makes the causal order a cycle."""
    h = history((0, "read", 2), (1, "read", 1), (0, "write", 1), (1, "write", 2))
    assert "cycle" in causal_memory(h).explain()


def test_failed_writes_are_left_out_and_indeterminate_ones_may_be_seen():
    """A failed write cannot be read; an indeterminate one can."""
    h = History()
    h.invoke(0, "write", "x", 1, time=0)
    h.fail(0, time=1)
    h.invoke(1, "write", "x", 2, time=2)
    h.info(1, time=3)
    h.invoke(2, "read", "x", time=4)
    h.ok(2, value=2, time=5)
    assert causal_memory(h).valid
    h.invoke(2, "read", "x", time=6)
    h.ok(2, value=1, time=7)
    assert not causal_memory(h).valid


def test_agrees_with_the_definition_on_random_small_histories():
    """On 1500 random histories of up to 7 operations, the walk and the definition agree."""
    rng = random.Random(14)
    verdicts = set()
    for _ in range(1500):
        ops, written = [], 0
        for _ in range(rng.randint(2, 7)):
            process = rng.randrange(3)
            if rng.random() < 0.45:
                written += 1
                ops.append((process, "write", written))
            else:
                ops.append((process, "read", rng.choice([None, *range(1, written + 2)])))
        expected = by_definition(ops)
        assert causal_memory(history(*ops)).valid == expected, ops
        verdicts.add(expected)
    assert verdicts == {True, False}


def test_the_ap_register_is_causal_with_pinned_clients_and_not_with_roaming_ones():
    """Clients pinned to a replica see causal memory; clients hopping between replicas do not."""
    faults = Faults(partition=(30, 70))
    pinned = run_workload("AP", seed="causal/0", clients=Clients(per_replica=2), duration=100, faults=faults)
    assert causal_memory(pinned.history).valid
    roaming = [run_workload("AP", seed=f"causal/{k}", duration=100, faults=faults,
                            clients=Clients(per_replica=2, route="random")) for k in range(4)]
    assert not all(causal_memory(run.history) for run in roaming)


@pytest.mark.parametrize("bad, error, words", [
    ("x", InvalidArgumentType, "history='x'"),
    (history((0, "write", 1), (1, "write", 1)), InvalidArgument, "value=1 is written by both"),
    (history((0, "write", None)), InvalidArgument, "value=None"),
])
def test_bad_input_is_named(bad, error, words):
    """A history causal_memory cannot judge raises an error naming the argument and its value."""
    with pytest.raises(error, match=words.replace("(", r"\(")):
        causal_memory(bad)


def test_two_keys_are_refused():
    """causal_memory checks one register: a history over two keys is refused, naming them."""
    h = History()
    h.invoke(0, "write", "x", 1, time=0)
    h.ok(0, time=1)
    h.invoke(0, "write", "y", 2, time=2)
    h.ok(0, time=3)
    with pytest.raises(InvalidArgument, match="keys"):
        causal_memory(h)
