"""Leaderless (Dynamo-style) replication on the simulator: storage replicas, quorum clients, runs.

The protocol between a client and a replica is two requests:

* ``store(key, value, version)``: the replica keeps the write if ``version`` is
  newer than the one it holds (a missing key holds no version) and answers
  ``stored(key, version)`` either way;
* ``fetch(key)``: the replica answers ``fetched(key, value, version)``, with
  ``version=None`` and ``value=None`` for a key it has never stored.

Versions are compared with ``<``: numbers, or tuples such as
``(counter, client_id)``. Replicas keep their data in ``self.storage``, so it
survives a crash.

A :class:`QuorumClient` runs a workload of gets and puts and records them in a
shared :class:`~course_lib.history.History`; a subclass decides *how* a put and
a get talk to the replicas by writing :meth:`QuorumClient.put` and
:meth:`QuorumClient.get`. :class:`TutorialQuorumClient` is the tutorial's
``QuorumStore`` (see :mod:`~course_lib.topics.replication.naive`) on the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ...checkers import converged, linearizable
from ...history import History, Operation
from ...sim import Node, Simulation, Uniform
from .naive import check_quorum_sizes
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_ids,
                               check_int, check_number, check_probability)


def newer(version: Any, than: Any) -> bool:
    """Return True if ``version`` is newer than ``than`` (None is older than every version)."""
    if version is None:
        return False
    return than is None or than < version


class StorageReplica(Node):
    """A leaderless replica: a durable ``key -> (version, value)`` map answering ``store`` and ``fetch``."""

    def on_store(self, msg):
        held = self.storage.get(msg.key)
        if held is None or newer(msg.version, held[0]):
            self.storage[msg.key] = (msg.version, msg.value)
        self.reply(msg, "stored", key=msg.key, version=msg.version)

    def on_fetch(self, msg):
        version, value = self.storage.get(msg.key, (None, None))
        self.reply(msg, "fetched", key=msg.key, version=version, value=value)

    def data(self) -> dict:
        """Return ``{key: (version, value)}``, sorted by key."""
        return {k: self.storage[k] for k in sorted(self.storage, key=repr)}

    def values(self) -> dict:
        """Return ``{key: value}``, sorted by key (what convergence compares)."""
        return {k: v for k, (_, v) in self.data().items()}


class _Recorder:
    """The run's shared history and the source of unique write values."""

    def __init__(self) -> None:
        self.history = History()
        self.count = 0

    def next_value(self) -> int:
        self.count += 1
        return self.count


class QuorumClient(Node):
    """A client that puts and gets through replicas and records what it saw; subclass it.

    Write :meth:`put` and :meth:`get`. Each is called for one operation at a time
    and must eventually call ``done`` (``done()`` for a put, ``done(value)`` for a
    get) once the operation has succeeded; it may call ``fail()`` when it knows the
    operation did not happen. Calls of ``done`` or ``fail`` after the operation
    timed out, or twice, are ignored, so you may call them from late replies.

    What a subclass may read: ``self.replicas`` (the ``n`` replica ids, in order),
    ``self.n``, ``self.r``, ``self.w``, ``self.timeout`` (a timeout for one request
    to a replica), and everything a :class:`~course_lib.sim.Node` has
    (``self.request``, ``self.send``, ``self.set_timer``, ``self.every``, ...).
    A reply to a ``fetch`` has ``key``, ``value`` and ``version``; a reply to a
    ``store`` has ``key`` and ``version``.

    The workload: ``ops`` operations, each a get (with probability
    ``read_fraction``) or a put of a fresh, unique value of a random key from
    ``keys``, a random pause in ``think`` between them; or a ``script`` of
    ``(time, f, key)`` steps (``f`` is ``"get"`` or ``"put"``), each issued at
    its time or when the previous one ends, whichever is later. An operation
    not done within ``op_timeout`` is recorded as indeterminate (``info``).
    """

    def __init__(self, replicas: Sequence[Any], recorder: _Recorder, *, n: int, r: int, w: int,
                 keys: Sequence[Any] = ("x",), ops: int = 0, read_fraction: float = 0.5,
                 think: tuple = (0.0, 2.0), op_timeout: float = 30.0, timeout: float = 5.0,
                 script: Sequence[tuple] = (), process: Any = None, start: float = 0.0) -> None:
        self.replicas = list(replicas)
        self.n, self.r, self.w = n, r, w
        self.recorder = recorder
        self.keys = list(keys)
        self.ops = ops
        self.read_fraction = read_fraction
        self.think = think
        self.op_timeout = op_timeout
        self.timeout = timeout
        self.script = list(script)
        self.process = self.id if process is None else process
        self.start = start
        self.issued = 0
        self._token = None  # the open operation, or None

    # -- the learner's part ----------------------------------------------------------------
    def put(self, key: Any, value: Any, done: Callable[[], Any]) -> None:
        """Write ``value`` to ``key``; call ``done()`` when the write is safe (subclasses write this)."""
        raise NotImplementedError(f"{type(self).__name__}.put(key, value, done) is not written yet")

    def get(self, key: Any, done: Callable[[Any], Any]) -> None:
        """Read ``key``; call ``done(value)`` with the value read (subclasses write this)."""
        raise NotImplementedError(f"{type(self).__name__}.get(key, done) is not written yet")

    # -- the workload ---------------------------------------------------------------------------
    def on_start(self) -> None:
        if self.incarnation > 0:
            return  # a restarted client issues nothing more
        if self.script:
            self.set_timer(max(0.0, self.script[0][0] - self.sim.now), self._next)
        elif self.ops:
            self.set_timer(self.start + self.rng.uniform(*self.think), self._next)

    @property
    def busy(self) -> bool:
        """True while an operation is open."""
        return self._token is not None

    def _next(self) -> None:
        if self._token is not None:
            return
        if self.script:
            if self.issued >= len(self.script):
                return
            at, f, key = self.script[self.issued]
            if at > self.sim.now:
                self.set_timer(at - self.sim.now, self._next)
                return
        else:
            if self.issued >= self.ops:
                return
            f = "get" if self.rng.random() < self.read_fraction else "put"
            key = self.keys[self.rng.randrange(len(self.keys))]
        self.issued += 1
        self.begin(f, key)

    def begin(self, f: str, key: Any) -> None:
        """Issue one operation now (the workload calls this; a harness may too)."""
        history = self.recorder.history
        token = (self.incarnation, self.issued, f, key)
        self._token = token
        timer = self.set_timer(self.op_timeout, self._expired, token)

        def finish(status, value=None):
            if self._token != token:
                return
            self._token = None
            timer.cancel()
            getattr(history, status)(self.process, value=value, time=self.sim.now)
            self.record("op_" + status, f=f, key=key, value=value)
            pause = 0.0 if self.script else self.rng.uniform(*self.think)
            self.set_timer(pause, self._next)

        def fail():
            finish("fail")

        if f == "get":
            history.invoke(self.process, "get", key, time=self.sim.now)
            self._hand_over(self.get, key, lambda value=None: finish("ok", value), fail)
        else:
            value = self.recorder.next_value()
            history.invoke(self.process, "put", key, value, time=self.sim.now)
            self._hand_over(self.put, key, value, lambda *_: finish("ok"), fail)

    def _hand_over(self, method, *args):
        *args, fail = args
        self._fail = fail
        method(*args)

    def fail(self) -> None:
        """Give up the open operation: it certainly did not happen (recorded as ``fail``)."""
        if self._token is not None:
            self._fail()

    def on_stored(self, msg):
        """A reply that came after its request timed out (or no request): ignored unless overridden."""

    def on_fetched(self, msg):
        """A reply that came after its request timed out (or no request): ignored unless overridden."""

    def _expired(self, token) -> None:
        if self._token != token:
            return
        self._token = None
        self.recorder.history.info(self.process, value="timed out", time=self.sim.now)
        self.record("op_info", f=token[2], key=token[3])
        self.set_timer(0.0 if self.script else self.rng.uniform(*self.think), self._next)


class TutorialQuorumClient(QuorumClient):
    """The tutorial's ``QuorumStore`` on the simulator, faithfully: every write and read waits for *all* nodes.

    A put sends ``store`` to every replica with a version the caller chose (here,
    as a caller would, one more than the number of writes this client has made to
    the key) and succeeds if at least ``w`` answered. A get asks every replica,
    drops the ones that did not answer or hold nothing, fails with fewer than
    ``r`` answers, and returns the value with the highest version. No read repair,
    no hinted handoff. With ``sloppy=True`` a put that reached fewer than ``w``
    home replicas also stores on the ``spares`` and counts them (a sloppy quorum);
    gets still ask the home replicas only.
    """

    def __init__(self, *args: Any, sloppy: bool = False, spares: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sloppy = sloppy
        self.spares = list(spares)
        self.my_writes: dict = {}

    def _ask_all(self, targets, msg_type, on_all, **fields):
        results: dict = {}

        def answer(target, reply):
            results[target] = reply
            if len(results) == len(targets):
                on_all([results[t] for t in targets])

        for target in targets:
            self.request(target, msg_type, timeout=self.timeout, **fields,
                         on_reply=lambda reply, t=target: answer(t, reply),
                         on_timeout=lambda _msg, t=target: answer(t, None))

    def put(self, key, value, done):
        self.my_writes[key] = self.my_writes.get(key, 0) + 1
        version = self.my_writes[key]

        def counted(results, extra=0):
            successes = sum(1 for r in results if r is not None) + extra
            if successes >= self.w:
                done()
            elif self.sloppy and self.spares and not extra:
                self._ask_all(self.spares, "store", lambda more: counted(more, successes),
                              key=key, value=value, version=version)
            else:
                self.fail()  # "Write failed: insufficient quorum"

        self._ask_all(self.replicas, "store", counted, key=key, value=value, version=version)

    def get(self, key, done):
        def chosen(results):
            results = [r for r in results if r is not None and r.version is not None]
            if len(results) < self.r:
                self.fail()  # "Read failed: insufficient quorum"
                return
            done(max(results, key=lambda r: r.version).value)

        self._ask_all(self.replicas, "fetch", chosen, key=key)


@dataclass
class QuorumRun:
    """What :func:`run_quorum` measured: the history, the replicas' final data and the simulation."""

    sim: Simulation
    history: History
    replicas: list
    n: int
    r: int
    w: int
    states: dict = field(default_factory=dict)

    def operations(self) -> list[Operation]:
        return self.history.operations()

    def linearizable(self):
        """Chapter 01's checker on the recorded history (the ``"kv"`` model)."""
        return linearizable(self.history, "kv")

    def converged(self):
        """Chapter 01's convergence checker over the live replicas' ``{key: value}``."""
        live = {rid: self.states[rid] for rid in self.replicas if not self.sim[rid].crashed}
        return converged(live)

    def stale_reads(self) -> list[Operation]:
        """The reads that missed a write acknowledged before they began (see :func:`stale_reads`)."""
        return stale_reads(self.history)

    def lost_writes(self) -> list[Operation]:
        """Acknowledged writes no live replica holds and no later write replaced (see :func:`lost_writes`)."""
        return lost_writes(self.history, self.states)

    def counts(self) -> dict:
        ops = self.operations()
        reads = [op for op in ops if op.f == "get"]
        return {"ops": len(ops), "ok": sum(op.status == "ok" for op in ops),
                "failed": sum(op.status == "fail" for op in ops),
                "unknown": sum(op.indeterminate for op in ops),
                "reads": len(reads), "stale reads": len(self.stale_reads())}

    def latencies(self, f: str | None = None) -> list[float]:
        return [op.return_time - op.call_time for op in self.operations()
                if op.status == "ok" and (f is None or op.f == f)]

    def __repr__(self) -> str:
        c = self.counts()
        return (f"<QuorumRun N={self.n} R={self.r} W={self.w}: {c['ops']} ops, {c['ok']} ok, "
                f"{c['failed']} failed, {c['unknown']} unknown, {c['stale reads']} stale reads>")


def _writes_by_value(ops):
    return {(op.key, op.value): op for op in ops if op.f == "put" and op.status != "fail"}


def stale_reads(history: History) -> list[Operation]:
    """Return the reads that certainly returned an overwritten value.

    A read of ``k`` is stale if some ``ok`` write of ``k`` completed before the
    read began and after the write the read saw had completed (or the read saw
    nothing). Each such read alone proves the history is not linearizable.

    Raises:
        InvalidArgumentType: ``history`` is not a History.
    """
    if not isinstance(history, History):
        raise InvalidArgumentType(f"history={history!r} must be a course_lib.history.History")
    ops = history.operations()
    source = _writes_by_value(ops)
    out = []
    for rd in ops:
        if rd.f != "get" or rd.status != "ok":
            continue
        saw = None if rd.output is None else source.get((rd.key, rd.output))
        if rd.output is not None and (saw is None or saw.status != "ok"):
            continue
        for wr in ops:
            if (wr.f == "put" and wr.key == rd.key and wr.status == "ok" and wr is not saw
                    and wr.return_index < rd.call_index
                    and (saw is None or saw.return_index < wr.call_index)):
                out.append(rd)
                break
    return out


def lost_writes(history: History, states: dict) -> list[Operation]:
    """Return acknowledged writes that are gone: no replica in ``states`` holds their value, and
    no other write of the same key could have replaced them (one that did not finish before they began).

    Args:
        history: the run's history.
        states: ``{replica: {key: value}}`` at the end of the run.

    Raises:
        InvalidArgumentType: ``history`` is not a History or ``states`` not a dict.
    """
    if not isinstance(history, History):
        raise InvalidArgumentType(f"history={history!r} must be a course_lib.history.History")
    if not isinstance(states, dict):
        raise InvalidArgumentType(f"states={states!r} must be a dict of replica -> {{key: value}}")
    ops = history.operations()
    held = {(k, v) for state in states.values() for k, v in state.items()}
    lost = []
    for wr in ops:
        if wr.f != "put" or wr.status != "ok" or (wr.key, wr.value) in held:
            continue
        if not any(o.f == "put" and o.key == wr.key and o.status != "fail" and o is not wr
                   and not (o.return_index is not None and o.return_index < wr.call_index
                            and o.status == "ok") for o in ops):
            lost.append(wr)
    return lost


def _check_client_class(name: str, cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, QuorumClient)):
        raise InvalidArgumentType(f"{name}={cls!r} must be a subclass of QuorumClient")


def run_quorum(client: type, *, seed: int | str, n: int = 3, r: int = 2, w: int = 2,
               clients: int = 3, ops: int = 10, keys: Sequence[Any] = ("x", "y"),
               read_fraction: float = 0.5, latency: Any = None, loss: float = 0.0,
               duplicate: float = 0.0, think: tuple = (0.0, 2.0), op_timeout: float = 30.0,
               timeout: float = 8.0, faults: Callable[[Simulation], Any] | None = None,
               scripts: Sequence[Sequence[tuple]] | None = None, final_reads: bool = False,
               spares: int = 0, settle: float = 50.0, client_options: dict | None = None,
               restart: bool = True, trace: bool = True) -> QuorumRun:
    """Run ``clients`` clients of class ``client`` against ``n`` storage replicas and return a :class:`QuorumRun`.

    Args:
        client: a :class:`QuorumClient` subclass (yours, or :class:`TutorialQuorumClient`).
        seed: the random seed.
        n, r, w: replicas, read quorum, write quorum (1 <= r, w <= n).
        clients, ops, keys, read_fraction, think: the workload (see :class:`QuorumClient`).
        latency: the network's latency (default: uniform between 1 and 3).
        loss, duplicate: the network's faults.
        op_timeout, timeout: an operation's and one request's timeouts.
        faults: ``faults(sim)`` is called before the run to schedule faults
            (``sim.nemesis.crash("r2", at=5)``, ``sim.crash_on_send(...)``).
        scripts: one script per client instead of the random workload (``clients`` is then ignored).
        final_reads: once every client is done, heal the network, restart crashed replicas
            (unless ``restart=False``), and have a fresh client ``final`` get every key once
            (through ``client``), one after another: reads that repair, and the final word on
            what the store holds.
        spares: extra replicas ``s1, s2, ...`` outside the ``n`` (for sloppy quorums).
        settle: time to let messages land after the last operation.
        client_options: extra keyword arguments for every client (``{"sloppy": True}``).

    Replicas are ``r1 .. rN``, clients ``c1 ..``; the run ends when every client is done.

    Raises:
        InvalidArgument: a size or probability is out of range, ``r`` or ``w`` exceeds ``n``.
        InvalidArgumentType: ``client`` is not a QuorumClient subclass, ``faults`` not callable.
    """
    _check_client_class("client", client)
    check_int("n", n, low=1, high=50)
    check_quorum_sizes(n, r, w)
    check_int("clients", clients, low=1, high=50)
    check_int("ops", ops, low=0, high=10_000)
    check_int("spares", spares, low=0, high=10)
    keys = check_ids("keys", keys)
    check_probability("read_fraction", read_fraction)
    check_probability("loss", loss)
    check_probability("duplicate", duplicate)
    check_number("op_timeout", op_timeout, low=0, low_open=True)
    check_number("timeout", timeout, low=0, low_open=True)
    check_number("settle", settle, low=0)
    if faults is not None:
        check_callable("faults", faults, "faults(sim)")
    if client_options is not None and not isinstance(client_options, dict):
        raise InvalidArgumentType(f"client_options={client_options!r} must be a dict of keyword arguments")
    if scripts is not None:
        if isinstance(scripts, (str, bytes)) or not all(isinstance(s, (list, tuple)) for s in scripts):
            raise InvalidArgumentType(f"scripts={scripts!r} must be a list of scripts, each a list "
                                      "of (time, 'get' or 'put', key)")
        for script in scripts:
            for step in script:
                if not (isinstance(step, tuple) and len(step) == 3 and step[1] in ("get", "put")):
                    raise InvalidArgument(f"scripts holds {step!r}; a step is (time, 'get' or 'put', key)")
    sim = Simulation(seed=seed, latency=Uniform(1.0, 3.0) if latency is None else latency,
                     loss=loss, duplicate=duplicate, trace=trace)
    replicas = [f"r{i + 1}" for i in range(n)]
    spare_ids = [f"s{i + 1}" for i in range(spares)]
    sim.add_nodes(StorageReplica, replicas + spare_ids)
    recorder = _Recorder()
    options = dict(client_options or {})
    if spares and client is TutorialQuorumClient:
        options.setdefault("spares", spare_ids)
    common = dict(n=n, r=r, w=w, keys=keys, read_fraction=read_fraction, think=think,
                  op_timeout=op_timeout, timeout=timeout, **options)
    ids = []
    if scripts is not None:
        for i, script in enumerate(scripts):
            ids.append(f"c{i + 1}")
            sim.add_node(client, ids[-1], replicas, recorder, script=script, process=i + 1, **common)
    else:
        for i in range(clients):
            ids.append(f"c{i + 1}")
            sim.add_node(client, ids[-1], replicas, recorder, ops=ops, process=i + 1, **common)
    reader = None
    if final_reads:  # created now, so that ``faults`` can shape its links too
        reader = sim.add_node(client, "final", replicas, recorder, script=[], process="final", **common)
    if faults is not None:
        faults(sim)
    horizon = 0.0
    while True:  # run until every client has finished its workload
        horizon += 50.0
        sim.run(until=horizon)
        pending = [c for c in ids if not sim[c].crashed and (sim[c].busy or sim[c].issued < (
            len(sim[c].script) if sim[c].script else sim[c].ops))]
        if not pending or horizon > 100_000:
            break
    if reader is not None:
        sim.network.heal()
        for rid in replicas + spare_ids:
            if sim[rid].crashed and restart:
                sim.restart(rid)
        sim.run(until=sim.now + settle)
        for key in keys:
            reader.begin("get", key)
            while reader.busy:
                sim.run(until=sim.now + 5.0)
    sim.run(until=sim.now + settle)
    states = {rid: sim[rid].values() for rid in replicas + spare_ids}
    return QuorumRun(sim=sim, history=recorder.history, replicas=replicas, n=n, r=r, w=w, states=states)
