"""Tests of course_lib.checkers.session: the four session guarantees."""

import random
import time

import pytest

from course_lib.checkers import (
    monotonic_reads,
    monotonic_writes,
    read_your_writes,
    writes_follow_reads,
)
from course_lib.history import History

ALL = (read_your_writes, monotonic_reads, monotonic_writes, writes_follow_reads)


def one_at_a_time(*ops):
    """Build a history of non-overlapping ops from (process, f, key, value) tuples.

    For reads the value is what was read; ``status`` may be given as a fifth item.
    """
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


def test_read_your_writes_catches_a_session_missing_its_own_write():
    """A session that wrote x=1 must not then read the initial value of x."""
    h = one_at_a_time(("a", "write", "x", 1), ("a", "read", "x", None))
    result = read_your_writes(h)
    assert result.valid is False and not result
    write, read = h.operations()
    assert result.violations[0].ops == (write, read)
    assert "does not see" in result.explain()


def test_read_your_writes_catches_an_overwritten_own_write():
    """After writing 1 then 2, reading 1 again misses the session's latest write."""
    h = one_at_a_time(("a", "write", "x", 1), ("a", "write", "x", 2), ("a", "read", "x", 1))
    assert read_your_writes(h).valid is False


def test_a_write_causally_follows_what_its_session_read():
    """Having read b's x=1 and then written x=2, a session must not read 1 again."""
    h = one_at_a_time(("b", "write", "x", 1), ("a", "read", "x", 1), ("a", "write", "x", 2),
                      ("a", "read", "x", 1))
    assert read_your_writes(h).valid is False


def test_read_your_writes_allows_a_newer_write_of_another_session():
    """Reading another session's unrelated write after one's own is allowed."""
    h = one_at_a_time(("a", "write", "x", 1), ("b", "write", "x", 2), ("a", "read", "x", 2),
                      ("a", "read", "y", None))
    assert read_your_writes(h).valid is True


def test_read_your_writes_ignores_writes_that_may_not_have_happened():
    """An indeterminate or failed own write need not be visible."""
    for status in ("info", "fail"):
        h = one_at_a_time(("a", "write", "x", 1, status), ("a", "read", "x", None))
        assert read_your_writes(h).valid is True


def test_monotonic_reads_catches_a_read_going_back_to_initial():
    """Having read x=1, a session must not later read x's initial value."""
    h = one_at_a_time(("b", "write", "x", 1), ("a", "read", "x", 1), ("a", "read", "x", None))
    result = monotonic_reads(h)
    assert result.valid is False
    _, first, later = h.operations()
    assert result.violations[0].ops == (first, later)


def test_monotonic_reads_catches_a_causally_older_value():
    """Reading 2 then 1, where the writer wrote 1 before 2, goes back in time."""
    h = one_at_a_time(("b", "write", "x", 1), ("b", "write", "x", 2),
                      ("a", "read", "x", 2), ("a", "read", "x", 1))
    assert monotonic_reads(h).valid is False


def test_monotonic_reads_allows_unrelated_writes_in_either_order():
    """Two causally unrelated writes may be read in either order."""
    h = one_at_a_time(("b", "write", "x", 1), ("c", "write", "x", 2),
                      ("a", "read", "x", 2), ("a", "read", "x", 1))
    assert monotonic_reads(h).valid is True


def test_monotonic_writes_catches_a_reader_missing_the_earlier_write():
    """Who saw a session's second write must also see its first."""
    h = one_at_a_time(("b", "write", "x", 1), ("b", "write", "y", 1),
                      ("a", "read", "y", 1), ("a", "read", "x", None))
    result = monotonic_writes(h)
    assert result.valid is False
    w1, w2, saw, read = h.operations()
    assert result.violations[0].ops == (w1, w2, saw, read)
    ok = one_at_a_time(("b", "write", "x", 1), ("b", "write", "y", 1),
                       ("a", "read", "y", 1), ("a", "read", "x", 1))
    assert monotonic_writes(ok).valid is True


def test_writes_follow_reads_catches_a_reply_seen_without_its_post():
    """A write made after reading w0 must not be seen by someone who then misses w0."""
    h = one_at_a_time(("c", "put", "post", "hello"), ("b", "get", "post", "hello"),
                      ("b", "put", "reply", "hi!"), ("a", "get", "reply", "hi!"),
                      ("a", "get", "post", ""))
    result = writes_follow_reads(h)
    assert result.valid is False
    assert "misses" in result.violations[0].message
    assert monotonic_writes(h).valid is True  # the two writes come from different sessions


def test_cas_counts_as_a_write_of_its_new_value():
    """An ok cas [old new] writes new, which a read may then name."""
    h = one_at_a_time(("a", "write", "x", 1), ("a", "cas", "x", (1, 2)), ("a", "read", "x", 1))
    assert read_your_writes(h).valid is False


@pytest.mark.parametrize("checker", ALL)
def test_a_read_of_a_value_nobody_wrote_is_reported_by_every_checker(checker):
    """A read naming no write, or a failed one, breaks every guarantee."""
    h = one_at_a_time(("b", "write", "x", 1, "fail"), ("a", "read", "x", 1))
    result = checker(h)
    assert result.valid is False and "no write wrote" in result.violations[0].message


@pytest.mark.parametrize("checker", ALL)
def test_repeated_write_values_are_rejected(checker):
    """Session checkers need distinct write values per key, and say which repeat."""
    h = one_at_a_time(("a", "write", "x", 1), ("b", "write", "x", 1))
    with pytest.raises(ValueError, match="key='x': value=1 is written by both"):
        checker(h)


@pytest.mark.parametrize("checker", ALL)
def test_unsupported_functions_and_initial_values_are_rejected(checker):
    """Appends cannot name one write, and a write of the initial value is ambiguous."""
    with pytest.raises(ValueError, match="f='append'"):
        checker(one_at_a_time(("a", "append", "x", "v")))
    with pytest.raises(ValueError, match="value=None"):
        checker(one_at_a_time(("a", "write", "x", None)))


@pytest.mark.parametrize("checker", ALL)
def test_a_single_copy_history_satisfies_every_guarantee(checker):
    """Sessions over one always-up-to-date copy keep every guarantee."""
    h = one_at_a_time(("a", "write", "x", 1), ("b", "read", "x", 1), ("b", "write", "y", 1),
                      ("a", "read", "y", 1), ("a", "read", "x", 1), ("c", "write", "x", 2),
                      ("a", "read", "x", 2), ("b", "read", "x", 2))
    result = checker(h)
    assert result.valid is True and result.violations == []
    assert "holds" in result.explain()


# -- the checkers against the definitions, and on long histories ----------------


def by_definition(history):
    """Return, per guarantee, the sorted op-id tuples of its violations, by the definitions.

    A deliberately naive reading of the module docstring: quadratic and cubic
    loops, the causal order as a closure over all pairs.
    """
    ops = [op for op in history.operations() if op.status != "fail"]
    writes = [op for op in ops if op.f in ("write", "put", "cas")]
    value = {w.id: (w.value[1] if w.f == "cas" else w.value) for w in writes}
    sessions = {}
    for op in ops:
        if op.status == "ok":
            sessions.setdefault(op.process, []).append(op)

    def src(read):
        if read.output is None or read.output == "":
            return "initial"
        return next((w for w in writes if w.key == read.key and value[w.id] == read.output), None)

    edges = set()  # (w1, w2): w1 causally before w2, directly
    for p in {op.process for op in ops}:
        seen = []
        for op in (o for o in ops if o.process == p):
            if op.f in ("write", "put", "cas"):
                edges |= {(w.id, op.id) for w in seen}
                seen.append(op)
            elif op.status == "ok" and src(op) not in (None, "initial"):
                seen.append(src(op))
    closure = set(edges)
    while True:
        more = {(a, d) for a, b in closure for c, d in closure if b == c} - closure
        if not more:
            break
        closure |= more

    def stale(read, w):
        s = src(read)
        if read.key != w.key or s is None or s is w:
            return False
        return s == "initial" or (s.id, w.id) in closure

    reads = lambda s: [op for op in s if op.f in ("read", "get")]  # noqa: E731
    unwritten = [(op.id,) for s in sessions.values() for op in reads(s) if src(op) is None]
    out = {name: list(unwritten) for name in ("ryw", "mr", "mw", "wfr")}
    for s in sessions.values():
        for i, a in enumerate(s):
            for b in s[i + 1:]:
                if a.f in ("write", "put", "cas") and b.f in ("read", "get") and stale(b, a):
                    out["ryw"].append((a.id, b.id))
                if a.f in ("read", "get") and b.f in ("read", "get") and src(a) not in (
                        None, "initial") and stale(b, src(a)):
                    out["mr"].append((a.id, b.id))
    for s in sessions.values():
        for i, first in enumerate(s):
            for w2 in (op for op in s[i + 1:] if op.f in ("write", "put", "cas")):
                for t in sessions.values():
                    for k, saw in enumerate(reads(t)):
                        if src(saw) is not w2:
                            continue
                        for read in reads(t)[k + 1:]:
                            if first.f in ("write", "put", "cas") and stale(read, first):
                                out["mw"].append((first.id, w2.id, saw.id, read.id))
                            w0 = src(first) if first.f in ("read", "get") else None
                            if w0 not in (None, "initial") and stale(read, w0):
                                out["wfr"].append((first.id, w2.id, saw.id, read.id))
    return {name: sorted(found) for name, found in out.items()}


def random_session_history(rng: random.Random) -> History:
    """A random register history: unique write values, overlapping ops, odd outcomes."""
    h, counter, written, open_ops = History(), 0, {}, {}
    processes, keys = rng.randrange(1, 5), rng.randrange(1, 3)
    for _ in range(rng.randrange(1, 30)):
        p = rng.randrange(processes)
        if p in open_ops:
            f, key = open_ops.pop(p)
            end = rng.choice(["ok"] * 6 + ["fail", "info"])
            if end == "ok" and f == "read":  # the initial value, a write's, a future write's
                h.ok(p, value=rng.choice([None, *written.get(key, []), counter + 1]))
            else:
                getattr(h, end)(p)
            continue
        key = rng.randrange(keys)
        if rng.random() < 0.45:
            counter += 1
            f = "cas" if rng.random() < 0.15 else "write"
            old = rng.choice([None, *written.get(key, [])])
            h.invoke(p, f, key=key, value=counter if f == "write" else (old, counter))
            written.setdefault(key, []).append(counter)
            open_ops[p] = (f, key)
        else:
            h.invoke(p, "read", key=key)
            open_ops[p] = ("read", key)
    return h


def test_checkers_agree_with_the_definitions():
    """On 1,500 random histories each checker reports exactly what the definitions name."""
    rng = random.Random(3)
    for _ in range(1_500):
        h = random_session_history(rng)
        expected = by_definition(h)
        for checker, name in ((read_your_writes, "ryw"), (monotonic_reads, "mr"),
                              (monotonic_writes, "mw"), (writes_follow_reads, "wfr")):
            found = [tuple(op.id for op in v.ops) for v in checker(h).violations]
            assert found == expected[name], (checker.__name__, list(h))


def test_long_histories_are_checked_in_seconds():
    """8,000 operations by 10 sessions take seconds, not minutes (the search is not cubic)."""
    rng = random.Random(1)
    h, written, counter = History(), {k: [] for k in range(5)}, 0
    for _ in range(8_000):
        p, key = rng.randrange(10), rng.randrange(5)
        if rng.random() < 0.4:
            counter += 1
            h.invoke(p, "write", key=key, value=counter)
            h.ok(p)
            written[key].append(counter)
        else:
            h.invoke(p, "read", key=key)
            h.ok(p, value=rng.choice(written[key][-5:] or [None]))
    start = time.perf_counter()
    results = [checker(h) for checker in ALL]
    assert time.perf_counter() - start < 15  # was 60 s for the last two
    assert [len(r.violations) for r in results] == [157, 100, 81, 38]
