"""Tests of course_lib.checkers.session: the four session guarantees."""

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
