"""The base classes of a service on a replicated log: the server side and the client side.

- :class:`KVServiceBase`: a mixin for the service a server runs on top of its log. The
  harness combines it with a log class (:class:`~.log.LogModel`, or a 03b Raft class) into
  one simulator node: ``type("KVServerOnLogModel", (KVServer, LogModel), {})``. The service
  calls the log's methods on ``self`` (``start``, ``get_state``, ``snapshot``,
  ``log_size``; with the log model also ``read_index`` and ``lease_valid``) and the log
  calls the service's hooks ``on_apply(index, command)`` and
  ``on_apply_snapshot(index, term, data)``. It handles its clients' messages with
  ``on_<type>`` handlers, as any node.
- :class:`ClerkBase`: a client node. A subclass writes ``get``, ``put`` and ``append``;
  the base class runs the workload the harness gives it and records every operation in
  the run's :class:`~course_lib.history.History`.
"""

from __future__ import annotations

import dis
from typing import Any, Callable, Sequence

from ....history import History
from ....sim import Node, NodeDefinitionError, Simulation
from ....sim.validation import (InvalidArgument, InvalidArgumentType, check_choice,
                                check_ids, check_int, check_number, check_probability)

#: Names a log uses (the log model's, 03b's RaftBase's, and Figure 2's names for a Raft's state and RPCs
#: that Raft classes use): a service that defined one would silently replace the log's own.
LOG_NAMES = frozenset({
    "log", "start", "apply", "apply_snapshot", "snapshot", "log_size", "get_state", "current_term",
    "voted_for", "commit_index", "last_applied", "role", "read_index", "lease_valid", "lease_length",
    "persist", "restore", "become_follower", "become_candidate", "become_leader",
    "reset_election_timer", "start_heartbeats", "stop_heartbeats", "on_election_timeout",
    "on_heartbeat", "last_log_index", "last_log_term", "term_at", "next_index", "match_index",
    "snapshot_index", "snapshot_term", "snapshot_size", "on_request_vote", "on_request_vote_reply",
    "on_append_entries", "on_append_entries_reply", "on_install_snapshot",
    "on_install_snapshot_reply", "peers", "durable", "hooks",
    "ELECTION_TIMEOUT", "HEARTBEAT_INTERVAL", "MAX_ENTRIES", "DRIFT_BOUND",
})
#: The service's own hooks: the log calls them, the service defines them.
SERVICE_HOOKS = ("on_apply", "on_apply_snapshot")
#: Names of Node a service may define (``on_start`` must call ``super().on_start()``).
_NODE_ALLOWED = frozenset({"on_start", "__init__", "__init_subclass__", "__new__"})


def _self_stores(code: Any, selfname: str | None = None) -> set[str]:
    """The attribute names a function's code assigns on its first argument (``self.x = ...``)."""
    if selfname is None:
        if not code.co_argcount:
            return set()
        selfname = code.co_varnames[0]
    names: set[str] = set()
    previous = None
    for ins in dis.get_instructions(code):
        if ins.opname == "STORE_ATTR" and previous is not None and previous.argval == selfname \
                and previous.opname in ("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE"):
            names.add(ins.argval)
        previous = ins
    for const in code.co_consts:  # nested functions and lambdas that close over self
        if hasattr(const, "co_code") and selfname in const.co_freevars:
            names |= _self_stores(const, selfname)
    return names


def _own_names(cls: type, stop: tuple) -> dict[str, str]:
    """The names ``cls`` and its bases up to ``stop`` define or assign on ``self``, each with its class's name."""
    out: dict[str, str] = {}
    for klass in cls.__mro__:
        if klass in stop or klass is object:
            continue
        for name, value in vars(klass).items():
            if not (name.startswith("__") and name.endswith("__")):
                out.setdefault(name, klass.__name__)
            functions = [value]
            if isinstance(value, (staticmethod, classmethod)):
                functions = [value.__func__]
            elif isinstance(value, property):
                functions = [value.fget, value.fset]
            for fn in functions:
                code = getattr(fn, "__code__", None)
                if code is not None and not isinstance(value, staticmethod):
                    for stored in _self_stores(code):
                        if not (stored.startswith("__") and stored.endswith("__")):
                            out.setdefault(stored, klass.__name__)
    return out


def _node_names() -> set[str]:
    return {n for n in dir(Node) if not n.startswith("__") and n not in _NODE_ALLOWED}


def check_no_clash(service_cls: type, log_cls: type | None = None) -> None:
    """Refuse a service class that uses a name its log uses, or one a node's machinery uses.

    Names are those a class defines (methods, class attributes) and those its methods
    assign on ``self`` (``self.log = []`` in ``__init__``); without ``log_cls``, the names
    of the log model, of 03b's ``RaftBase`` and those Raft classes usually use.

    Raises:
        NodeDefinitionError: naming the clashing names and where each is defined.
    """
    from ..node import RaftBase
    from .log import LogModel
    mine = _own_names(service_cls, (KVServiceBase,))
    owners: dict[str, str] = {n: "a Raft class" for n in LOG_NAMES}
    for log in ([log_cls] if log_cls is not None else [LogModel, RaftBase]):
        owners.update(_own_names(log, (Node,)))
    owners.update({n: "Node" for n in _node_names()})
    clash = sorted(n for n in mine if n in owners and n not in SERVICE_HOOKS and n not in _NODE_ALLOWED)
    if clash:
        where = ", ".join(f"{n!r} (in {mine[n]}; the log's is in {owners[n]})" for n in clash)
        log_name = log_cls.__name__ if log_cls is not None else "(LogModel or a Raft class)"
        raise NodeDefinitionError(
            f"{service_cls.__name__} uses {where}: the log {log_name} uses these names itself, and "
            "the service and its log are one node, so one would silently overwrite the other. "
            "Rename them in the service (it calls the log's start(), get_state(), snapshot() and "
            "log_size(), and defines its own state, its client handlers, on_apply and "
            "on_apply_snapshot)")


class KVServiceBase:
    """The service half of a server (a mixin, not itself a node): subclass it and write the service.

    What a subclass may read: ``self.servers`` (the ids of all servers, in order),
    ``self.peers`` (the other servers), ``self.snapshot_threshold`` (``None``: never
    snapshot; an int: snapshot when ``self.log_size()`` exceeds it), ``self.id``, and the
    log's methods. What it writes: ``on_apply(index, command)`` (apply a committed command;
    ``None`` is a new leader's no-op, to ignore), ``on_apply_snapshot(index, term, data)``
    (replace the state by a snapshot), and ``on_<type>`` handlers for its clients' messages.

    A service keeps nothing in ``self.storage`` itself (it belongs to the log): after a
    crash its state comes back through ``on_apply_snapshot`` and the replayed ``on_apply``.
    A service that defines a name the log uses (``start``, ``log``, ``commit_index``, ...)
    is refused with an error naming it.
    """

    #: None (never snapshot) or the log size beyond which the service snapshots; set by the harness.
    snapshot_threshold: int | None = None
    #: The servers' ids; set by the harness on the combined class.
    _kv_servers: tuple | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if vars(cls).get("_kv_combined", False):
            return
        if issubclass(cls, Node):
            raise NodeDefinitionError(
                f"{cls.__name__} is both a KVServiceBase and a Node: write the service as a subclass "
                "of KVServiceBase only; the harness combines it with the log class")
        check_no_clash(cls)

    def __init__(self) -> None:
        super().__init__()

    @property
    def servers(self) -> list:
        """The ids of all servers, in order."""
        servers = type(self)._kv_servers
        if servers is None:
            return [i for i, n in self.sim.nodes.items() if isinstance(n, KVServiceBase)]
        return list(servers)

    @property
    def peers(self) -> list:
        """The other servers' ids, in order (clerks are not peers)."""
        return [s for s in self.servers if s != self.id]

    def on_apply(self, index: int, command: Any) -> None:
        """A committed command, in index order (a no-op here: write the service's)."""

    def on_apply_snapshot(self, index: int, term: int, data: Any) -> None:
        """Replace the service's state by ``data``, the state after ``index`` (a no-op here)."""


def combine(service_cls: type, log_cls: type, servers: Sequence[Any],
            snapshot_threshold: int | None = None) -> type:
    """The node class of a server: the service first, then the log (checked for name clashes).

    Raises:
        InvalidArgumentType: ``service_cls`` is not a KVServiceBase subclass, or ``log_cls``
            is not a LogModel or RaftBase subclass.
        NodeDefinitionError: the service defines a name the log uses.
    """
    from ..node import RaftBase
    from .log import LogModel
    if not (isinstance(service_cls, type) and issubclass(service_cls, KVServiceBase)):
        raise InvalidArgumentType(f"server_cls={service_cls!r} must be a subclass of KVServiceBase")
    if issubclass(service_cls, Node):
        raise InvalidArgumentType(f"server_cls={service_cls!r} is already a node (a combined class?); "
                                  "pass the service class itself, a subclass of KVServiceBase")
    if not (isinstance(log_cls, type) and issubclass(log_cls, (LogModel, RaftBase))):
        raise InvalidArgumentType(f"log={log_cls!r} must be LogModel or a subclass of "
                                  "course_lib.topics.raft.RaftBase (your 03b Raft)")
    check_no_clash(service_cls, log_cls)
    hooks = tuple(log_cls.hooks) + tuple(h for h in SERVICE_HOOKS if h not in log_cls.hooks)
    namespace = {"_kv_servers": tuple(servers), "snapshot_threshold": snapshot_threshold,
                 "hooks": hooks, "_kv_combined": True, "__module__": service_cls.__module__}
    return type(f"{service_cls.__name__}On{log_cls.__name__}", (service_cls, log_cls), namespace)


# -- clerks ------------------------------------------------------------------------------------------

_RUN = "course_lib.topics.raft.service/run"
FUNCTIONS = ("get", "put", "append")


class Recorder:
    """A run's shared record: the clients' history and each clerk's workload."""

    def __init__(self) -> None:
        self.history = History()
        self.servers: list = []
        self.workloads: dict[Any, dict] = {}
        self.done_at: dict[Any, float] = {}


def recorder(sim: Simulation) -> Recorder:
    """The record of ``sim``'s clients (made the first time it is asked for)."""
    if not isinstance(sim, Simulation):
        raise InvalidArgumentType(f"sim={sim!r} must be a Simulation")
    return sim.memo(_RUN, Recorder)


def make_workload(*, ops: int = 0, keys: Sequence[Any] = ("x",), read_fraction: float = 0.4,
                  append_fraction: float = 0.3, think: tuple = (0.0, 10.0), start: float = 0.0,
                  script: Sequence[tuple] = ()) -> dict:
    """Check and return a clerk's workload (see :class:`ClerkBase`).

    Raises:
        InvalidArgument: a count, fraction or time is out of range, or a script step is not
            ``(time, f, key)`` or ``(time, f, key, value)`` with ``f`` in get/put/append.
    """
    check_int("ops", ops, low=0, high=100_000)
    keys = check_ids("keys", keys)
    check_probability("read_fraction", read_fraction)
    check_probability("append_fraction", append_fraction)
    if read_fraction + append_fraction > 1:
        raise InvalidArgument(f"read_fraction={read_fraction!r} + append_fraction={append_fraction!r} "
                              "exceeds 1 (the rest are puts)")
    if not (isinstance(think, tuple) and len(think) == 2):
        raise InvalidArgumentType(f"think={think!r} must be a (low, high) pair of pauses")
    low = check_number("think", think[0], low=0, what="a pause >= 0")
    check_number("think", think[1], low=low, what=f"a pause >= {low:g}")
    check_number("start", start, low=0, what="a time >= 0")
    if isinstance(script, (str, bytes)) or not isinstance(script, (list, tuple)):
        raise InvalidArgumentType(f"script={script!r} must be a list of steps (time, f, key)")
    steps = []
    for step in script:
        if not (isinstance(step, tuple) and len(step) in (3, 4)):
            raise InvalidArgument(f"script holds {step!r}; a step is (time, f, key) or (time, f, key, value)")
        check_number("script time", step[0], low=0, what="a time >= 0")
        check_choice("script f", step[1], FUNCTIONS)
        if len(step) == 4 and step[1] != "get" and not isinstance(step[3], str):
            raise InvalidArgumentType(f"script holds {step!r}: a value is a str")
        steps.append(step)
    return {"ops": ops, "keys": keys, "read_fraction": read_fraction, "append_fraction": append_fraction,
            "think": (float(think[0]), float(think[1])), "start": float(start), "script": steps}


class ClerkBase(Node):
    """A client of the service: subclass it and write :meth:`get`, :meth:`put` and :meth:`append`.

    Each is called for one operation at a time and must call ``done`` once the operation
    has succeeded: ``done(value)`` for a get (``""`` for a key never written), ``done()``
    for a put or an append. A clerk finds the leader itself (``self.servers`` lists the
    servers) and retries until an operation succeeds; calls of ``done`` twice, or for an
    operation already finished, are ignored, so late replies are harmless.
    ``self.client_id`` is this clerk's id (unique in the run).

    The base class runs the workload the harness gives it: random operations over keys, or
    a script, one at a time with a random pause between them; put values and appended
    values are unique in the run (``"c1.3"``: clerk ``c1``'s third operation; appends add
    ``"+c1.3"``). Every operation is recorded in the run's history (process = the clerk's
    id): its invocation, and its completion when ``done`` is called; an operation still
    open at the end is indeterminate (it may or may not have taken effect).
    """

    def __init__(self) -> None:
        self._kv_open: tuple | None = None
        self._kv_issued = 0
        self._kv_timer: Any = None

    # -- the learner's part ------------------------------------------------------------------
    def get(self, key: Any, done: Callable[[Any], Any]) -> None:
        """Read ``key``; call ``done(value)`` (subclasses write this)."""
        raise NotImplementedError(f"{type(self).__name__}.get(key, done) is not written yet")

    def put(self, key: Any, value: str, done: Callable[[], Any]) -> None:
        """Set ``key`` to ``value``; call ``done()`` (subclasses write this)."""
        raise NotImplementedError(f"{type(self).__name__}.put(key, value, done) is not written yet")

    def append(self, key: Any, value: str, done: Callable[[], Any]) -> None:
        """Append ``value`` to ``key``'s value; call ``done()`` (subclasses write this)."""
        raise NotImplementedError(f"{type(self).__name__}.append(key, value, done) is not written yet")

    # -- what a subclass reads ---------------------------------------------------------------------
    @property
    def client_id(self) -> Any:
        """This clerk's id, unique in the run."""
        return self.id

    @property
    def servers(self) -> list:
        """The servers' ids, in order."""
        return list(recorder(self.sim).servers)

    @property
    def busy(self) -> bool:
        """True while an operation is open."""
        return self._kv_open is not None

    @property
    def issued(self) -> int:
        """How many operations this clerk has begun so far."""
        return self._kv_issued

    @property
    def finished(self) -> bool:
        """True once the clerk has issued its whole workload and nothing is open."""
        work = recorder(self.sim).workloads.get(self.id)
        if work is None:
            return not self.busy
        total = len(work["script"]) if work["script"] else work["ops"]
        return not self.busy and self._kv_issued - work.get("offset", 0) >= total

    # -- the workload ----------------------------------------------------------------------------------
    def on_start(self) -> None:
        if self.incarnation == 0:
            self.kick()

    def kick(self) -> None:
        """Start (or resume) the workload now if the clerk is idle (the harness calls it)."""
        if self._kv_open is not None or self.crashed:
            return
        work = recorder(self.sim).workloads.get(self.id)
        if work is None:
            return
        if self._kv_timer is not None:
            self._kv_timer.cancel()
        if self._kv_issued == work.get("offset", 0) and not work["script"]:
            self._kv_timer = self.set_timer(work["start"] + self.rng.uniform(*work["think"]), self._kv_next,
                                            name="workload")
        else:
            self._kv_timer = self.set_timer(0.0, self._kv_next, name="workload")

    def _kv_next(self) -> None:
        self._kv_timer = None
        if self._kv_open is not None:
            return
        rec = recorder(self.sim)
        work = rec.workloads.get(self.id)
        if work is None:
            return
        if work["script"]:
            done = self._kv_issued - work.get("offset", 0)
            if done >= len(work["script"]):
                rec.done_at.setdefault(self.id, self.sim.now)
                return
            step = work["script"][done]
            if step[0] > self.sim.now:
                self._kv_timer = self.set_timer(step[0] - self.sim.now, self._kv_next, name="workload")
                return
            f, key = step[1], step[2]
            value = step[3] if len(step) == 4 else None
        else:
            if self._kv_issued - work.get("offset", 0) >= work["ops"]:
                rec.done_at.setdefault(self.id, self.sim.now)
                return
            r = self.rng.random()
            f = "get" if r < work["read_fraction"] else (
                "append" if r < work["read_fraction"] + work["append_fraction"] else "put")
            key = work["keys"][self.rng.randrange(len(work["keys"]))]
            value = None
        self.begin(f, key, value)

    def begin(self, f: str, key: Any, value: str | None = None) -> None:
        """Issue one operation now (the workload calls this; a harness or a test may too).

        ``value`` defaults to a value unique in the run (``"c1.3"``, or ``"+c1.3"`` for an append).

        Raises:
            InvalidArgument: ``f`` is not get, put or append, or an operation is open already.
        """
        check_choice("f", f, FUNCTIONS)
        if self._kv_open is not None:
            raise InvalidArgument(f"clerk {self.id!r} has an operation open already ({self._kv_open[1]} "
                                  f"of {self._kv_open[2]!r}); a clerk runs one operation at a time")
        self._kv_issued += 1
        if f != "get" and value is None:
            value = f"{'+' if f == 'append' else ''}{self.id}.{self._kv_issued}"
        token = (self.incarnation, self._kv_issued, f, key, value)
        self._kv_open = token
        history = recorder(self.sim).history
        history.invoke(self.id, f, key, value, time=self.sim.now)
        self.record("op_invoke", f=f, key=key, value=value)

        def done(result: Any = None) -> None:
            if self._kv_open != token:
                return  # late, twice, or for another operation: ignored
            self._kv_open = None
            output = result if f == "get" else None
            history.ok(self.id, value=output, time=self.sim.now)
            self.record("op_ok", f=f, key=key, value=value if f != "get" else output)
            work = recorder(self.sim).workloads.get(self.id) or {}
            pause = 0.0 if work.get("script") else self.rng.uniform(*work.get("think", (0.0, 0.0)))
            self._kv_timer = self.set_timer(pause, self._kv_next, name="workload")

        if f == "get":
            self.get(key, done)
        elif f == "put":
            self.put(key, value, done)
        else:
            self.append(key, value, done)
