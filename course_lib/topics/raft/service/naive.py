"""The lecture's "before" versions: a service and a clerk that look right and are not.

:class:`NaiveKVServer` puts writes through the log but answers a ``get`` from its own
state as soon as it believes it leads: a leader cut off from the majority still believes
it, and answers with a value the others have overwritten (a stale read). It also applies
every command that commits, so a write the clerk sent twice is applied twice.

:class:`NaiveClerk` finds the leader by trying the servers in turn and retries an
operation that times out, with no client id and no sequence number: the server cannot
tell a retry from a new operation, so an append whose reply was lost is appended twice.

Both are wrong on purpose (the chapter's exercise writes the right ones); their protocol:
the clerk sends ``naive_get(key)``, ``naive_put(key, value)`` or ``naive_append(key,
value)`` as a request; the server answers ``naive_reply(value)`` when the operation is
done, or ``naive_reply(wrong_leader=True)`` when it does not lead.
"""

from __future__ import annotations

from typing import Any

from .base import ClerkBase, KVServiceBase


class NaiveKVServer(KVServiceBase):
    """A key-value service that reads locally on the leader and keeps no duplicate table (wrong)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict = {}
        self.waiting: dict = {}   # log index -> (request, command) of a client waiting for it

    def on_naive_get(self, msg: Any) -> None:
        term, leading = self.get_state()
        if not leading:
            self.reply(msg, "naive_reply", wrong_leader=True, value=None)
            return
        self.reply(msg, "naive_reply", wrong_leader=False, value=self.data.get(msg.key, ""))  # no log: stale

    def on_naive_put(self, msg: Any) -> None:
        self._through_log(msg, ("put", msg.key, msg.value))

    def on_naive_append(self, msg: Any) -> None:
        self._through_log(msg, ("append", msg.key, msg.value))

    def _through_log(self, msg: Any, command: tuple) -> None:
        index, term, leading = self.start(command)
        if not leading:
            self.reply(msg, "naive_reply", wrong_leader=True, value=None)
            return
        self.waiting[index] = (msg, command)

    def on_apply(self, index, entry):
        if entry is not None:
            op, key, value = entry
            old = self.data.get(key, "")
            self.data[key] = value if op == "put" else old + value   # twice if sent twice
        waiter = self.waiting.pop(index, None)
        if waiter is not None and waiter[1] == entry:
            self.reply(waiter[0], "naive_reply", wrong_leader=False, value=None)


class NaiveClerk(ClerkBase):
    """A clerk that tries servers in turn and retries on timeout, with no ids (wrong: retries duplicate)."""

    TIMEOUT = 80.0

    def __init__(self) -> None:
        super().__init__()
        self.guess = 0   # which server to try first

    def get(self, key, finish):
        self._ask("naive_get", {"key": key}, finish)

    def put(self, key, new, finish):
        self._ask("naive_put", {"key": key, "value": new}, lambda _ignored: finish())

    def append(self, key, suffix, finish):
        self._ask("naive_append", {"key": key, "value": suffix}, lambda _ignored: finish())

    def _ask(self, kind: str, fields: dict, finish: Any) -> None:
        target = self.servers[self.guess % len(self.servers)]

        def answered(reply):
            if reply.wrong_leader:
                self.guess += 1
                self.set_timer(5.0, self._ask, kind, fields, finish)
            else:
                finish(reply.value)

        def lost(_request):
            self.guess += 1
            self._ask(kind, fields, finish)   # the same operation again, indistinguishable from a new one

        self.request(target, kind, timeout=self.TIMEOUT, on_reply=answered, on_timeout=lost, **fields)
