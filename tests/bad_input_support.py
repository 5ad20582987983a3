"""What the bad-input matrices share: a deadline that turns a hang into a failure, and small histories."""

from __future__ import annotations

import contextlib
import signal

from course_lib.history import History

DEADLINE = 30  # seconds a row may take before it counts as a hang


@contextlib.contextmanager
def deadline(seconds: int = DEADLINE):
    """Fail the test, instead of hanging, if the body runs longer than ``seconds``."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: the row hangs")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def history(*ops, pending=()) -> History:
    """Build a History of one-at-a-time ops (process, f, key, value[, status]).

    For reads the value is what was read. ``pending`` ops (process, f, key,
    value) are invoked at the end and never complete.
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
    for process, f, key, value in pending:
        h.invoke(process, f, key=key, value=value)
    return h


def assert_named_error(call, error, pattern: str, seconds: int = DEADLINE):
    """Run a matrix row: ``call()`` raises ``error`` matching ``pattern`` within ``seconds``.

    A ValueError row must be the course's one bad-argument error (InvalidArgument), a TypeError
    row its type variant (InvalidArgumentType); other errors (a HandlerError, say) stand as given.
    """
    import pytest

    from course_lib.sim.validation import InvalidArgument, InvalidArgumentType

    with deadline(seconds), pytest.raises(error, match=pattern) as caught:
        call()
    if error is ValueError:
        assert isinstance(caught.value, InvalidArgument), caught.value
    if error is TypeError:
        assert isinstance(caught.value, InvalidArgumentType), caught.value
    return caught.value
