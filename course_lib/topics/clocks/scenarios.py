"""Chapter 02's graded scenarios: Lamport, vector and hybrid logical clocks, and causal broadcast.

The clock scenarios drive the learner's clock class on every node of a
:func:`~.harness.run_clocks` run and check its timestamps against the
happens-before oracle; a failure names the two events (or the one event) at
fault. :func:`causal_broadcast_scenario` runs the learner's broadcast on every
member of a group chat and checks its deliveries against the happens-before
order of the posts; a failure names the node and the posts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

from ...sim.errors import ScenarioFailed
from ...sim import Simulation
from ...sim.validation import (InvalidArgument, InvalidArgumentType, check_callable, check_choice, check_int,
                               check_type)
from .broadcast import (SCHEDULES, BroadcastNode, _happened_before, arrivals, broadcast_labels, broadcast_run,
                        scripted_run)
from .harness import ClockRun, run_clocks
from .pictures import format_timestamp


def _scenario_failed(message: str, run: ClockRun, *events: int, clock: str = "clock") -> Exception:
    """The failure of a clock scenario: its picture shows every event's timestamp under ``clock``
    and rings ``events``, the ones the message names."""
    nodes = sorted(run.nodes, key=str)
    labels = {e.index: format_timestamp(e.ts[clock], nodes) for e in run.events if clock in e.ts}
    return ScenarioFailed(message, run.sim, events=events, labels=labels)


def _stamps(run: ClockRun) -> dict[int, Any]:
    return run.timestamps("clock")


#: What a scenario's ``**options`` may set: run_clocks' workload and faults (the scenario sets the rest).
_RUN_OPTIONS = ("nodes", "sends", "local_events", "topology", "latency", "duplicate", "reorder",
                "max_offset", "max_drift", "jumps", "jump_size", "think", "max_events")


def _check_scenario_args(cls: Any, options: Mapping[str, Any], **flags: Any) -> None:
    """Check a scenario's clock class, its bool flags and that ``options`` are run_clocks options."""
    check_callable("cls", cls, "cls(node_id)")
    for name, value in flags.items():
        check_type(name, value, bool, what="True or False")
    for name, value in options.items():
        if name not in _RUN_OPTIONS:
            raise InvalidArgumentType(f"{name}={value!r} is not an option of the scenario; options "
                                      f"(passed to run_clocks) are {', '.join(_RUN_OPTIONS)}")


def lamport_scenario(cls: type, seed: Any, *, exact: bool = False, **options: Any) -> ClockRun:
    """Drive ``cls(node_id)`` as each node's Lamport clock; check the clock condition.

    Checks that a → b implies C(a) < C(b) for every pair of events (exactly:
    along program order and each event's causal frontier), that timestamps are
    ints, and with ``exact`` that C(e) is the lecture's counting rule (tick by 1
    at every event, receive = max then tick), i.e. the longest causal chain
    ending at e. ``options`` go to :func:`run_clocks`.

    Raises:
        ScenarioFailed: naming the two events that break the property.
        InvalidArgument: a bad argument or option (named in the message).
    """
    _check_scenario_args(cls, options, exact=exact)
    run = run_clocks(lambda node: cls(node.id), seed, **options)
    stamps = _stamps(run)
    for index, ts in stamps.items():
        if isinstance(ts, bool) or not isinstance(ts, int):
            raise _scenario_failed(
                f"a Lamport timestamp must be an int, but {run.describe(index)} got {ts!r} "
                f"({type(ts).__name__})", run, index)
    oracle = run.oracle
    bad = oracle.find_violation(stamps.__getitem__)
    if bad is not None:
        a, b = bad
        raise _scenario_failed(
            f"clock condition broken: {run.describe(a, 'clock')} happened before "
            f"{run.describe(b, 'clock')}, but {stamps[a]!r} is not < {stamps[b]!r}", run, a, b)
    if exact:
        for e in oracle.events:
            if stamps[e] != oracle.lamport(e):
                raise _scenario_failed(
                    f"{run.describe(e, 'clock')} should have Lamport time {oracle.lamport(e)} "
                    f"(tick by 1 at every event; receive = max(own, message) + 1)", run, e)
    return run


def _vector_tuple(ts: Any, nodes: Sequence[Any], where: str) -> tuple:
    if not isinstance(ts, Mapping):
        raise TypeError(f"{where}: a vector timestamp must be a dict {{node id: count}}, "
                        f"got {ts!r} ({type(ts).__name__})")
    unknown = [k for k in ts if k not in nodes]
    if unknown:
        raise TypeError(f"{where}: vector {ts!r} has entries for unknown nodes {unknown} "
                        f"(nodes are {list(nodes)})")
    return tuple(ts.get(n, 0) for n in nodes)


def _strictly_less(a: tuple, b: tuple) -> bool:
    return a != b and all(x <= y for x, y in zip(a, b))


def vector_scenario(cls: type, seed: Any, *, check: str = "causality", pairs: int = 400,
                    all_pairs_up_to: int = 250, **options: Any) -> ClockRun:
    """Drive ``cls(node_id)`` as each node's vector clock and check it against the oracle.

    Args:
        check: ``"causality"``: a → b if and only if V(a) < V(b) (every entry
            <=, one <), so V(a), V(b) incomparable exactly for concurrent events;
            all pairs of a run with at most ``all_pairs_up_to`` events, else
            ``pairs`` seeded random pairs plus each event's causal frontier.
            ``"compare"``: ``cls.compare(V(a), V(b))`` answers ``"before"``,
            ``"after"``, ``"equal"`` or ``"concurrent"`` as the oracle does, on
            ``pairs`` seeded pairs and every event with itself.
            ``"exact"``: V(e)[n] is the number of events of node n that
            happened before or equal e, the lecture's rule (tick at every event;
            receive = merge, then tick).
        options: passed to :func:`run_clocks`.

    Raises:
        ScenarioFailed: naming the two events (or the one event) at fault.
        InvalidArgument: a bad argument or option (named in the message).
    """
    _check_vector_args(cls, check, pairs, all_pairs_up_to)
    _check_scenario_args(cls, options)
    run = run_clocks(lambda node: cls(node.id), seed, **options)
    check_vectors(run, cls, check=check, pairs=pairs, all_pairs_up_to=all_pairs_up_to)
    return run


VECTOR_CHECKS = ("causality", "compare", "exact")


def _check_vector_args(cls: Any, check: Any, pairs: Any, all_pairs_up_to: Any) -> None:
    check_choice("check", check, VECTOR_CHECKS)
    check_int("pairs", pairs, low=1)
    check_int("all_pairs_up_to", all_pairs_up_to, low=0)
    if check == "compare" and not callable(getattr(cls, "compare", None)):
        raise InvalidArgumentType(f"cls={cls!r} has no compare(a, b) method, which check='compare' calls")


def check_vectors(run: ClockRun, cls: type, *, check: str = "causality", pairs: int = 400,
                  all_pairs_up_to: int = 250, clock: str = "clock") -> None:
    """Check the vector timestamps of a finished run (see :func:`vector_scenario` for ``check``).

    Large runs are checked on ``pairs`` seeded random pairs plus the causal
    frontier of about ``pairs / nodes`` sampled events, so the cost stays linear.
    Every check first makes sure that no timestamp changed after the clock
    returned it (a clock handing out its own dict, or a send's timestamp changed
    by its receiver): each method must return a copy.

    Raises:
        ScenarioFailed: naming the two events (or the one event) at fault.
        InvalidArgument: a bad argument (named in the message).
    """
    check_type("run", run, ClockRun, what="a ClockRun (from run_clocks)")
    _check_vector_args(cls, check, pairs, all_pairs_up_to)
    oracle = run.oracle
    nodes = oracle.nodes
    raw = run.timestamps(clock)
    for event in run.events:
        handed_out = event.returned.get(clock)
        if isinstance(handed_out, dict) and handed_out != event.ts[clock]:
            raise _scenario_failed(
                f"the timestamp {event.ts[clock]!r} of {run.describe(event.index)} has changed since "
                f"it was returned: it is now {handed_out!r}. Each method must return a copy of the "
                "clock (a later event must not change an earlier timestamp), and receive(ts) must "
                "leave the message's ts alone", run, event.index, clock=clock)
    bad_index = None
    try:
        vec = {}
        for e, ts in raw.items():
            bad_index = e
            vec[e] = _vector_tuple(ts, nodes, run.describe(e))
    except TypeError as exc:
        raise _scenario_failed(str(exc), run, bad_index, clock=clock) from None
    rng = run.sim.rng_for("vector-check")
    events = oracle.events
    if check == "exact":
        for e in events:
            if vec[e] != oracle.vector(e):
                raise _scenario_failed(
                    f"{run.describe(e, clock)} should be {oracle.vector_dict(e)} (per node, the number "
                    f"of its events that happened before or equal this one)", run, e, clock=clock)
        return
    if check == "compare":
        chosen = oracle.sample_pairs(pairs, rng) + [(e, e) for e in events[:: max(1, len(events) // 50)]]
        for a, b in chosen:
            want = oracle.relation(a, b)
            got = cls.compare(raw[a], raw[b])
            if got != want:
                raise _scenario_failed(
                    f"compare({raw[a]!r}, {raw[b]!r}) returned {got!r}, but {run.describe(a)} and "
                    f"{run.describe(b)} are {want!r}"
                    + (" (the same event)" if a == b else ""), run, a, b, clock=clock)
        return
    if len(events) <= all_pairs_up_to:
        chosen = [(a, b) for a in events for b in events if a != b]
    else:
        chosen = [(a, b) for a, b in oracle.sample_pairs(pairs, rng) if a != b]
        some = rng.sample(events, min(len(events), max(1, pairs // max(1, len(nodes)))))
        chosen += [(a, b) for b in some for a in oracle.frontier(b)]
    for a, b in chosen:
        hb = oracle.happened_before(a, b)
        less = _strictly_less(vec[a], vec[b])
        if hb != less:
            fact = ("happened before" if hb else
                    "is concurrent with" if oracle.concurrent(a, b) else "happened after")
            clock_says = "V(a) < V(b)" if less else "not V(a) < V(b)"
            raise _scenario_failed(
                f"a = {run.describe(a, clock)} {fact} b = {run.describe(b, clock)}, "
                f"but the vectors say {clock_says}", run, a, b, clock=clock)


def _hlc_pair(ts: Any, where: str) -> tuple[float, int]:
    if (not isinstance(ts, tuple) or len(ts) != 2 or isinstance(ts[1], bool)
            or not isinstance(ts[1], int) or not isinstance(ts[0], (int, float))):
        raise TypeError(f"{where}: a hybrid timestamp must be a tuple (l, c) of a number and an int, "
                        f"got {ts!r}")
    return ts


HLC_CHECKS = ("causality", "physical", "bounded")


def hlc_scenario(cls: type, seed: Any, *, check: str = "causality", **options: Any) -> ClockRun:
    """Drive ``cls(node_id, physical)`` as each node's hybrid logical clock and check it.

    ``physical`` is the node's own physical clock (``node.clock.now``), which is
    offset, drifts and may jump.

    Args:
        check: ``"causality"``: a → b implies (l, c)(a) < (l, c)(b).
            ``"physical"``: pt(e) <= l(e) <= the highest physical clock reading
            anywhere so far, so l - pt never exceeds the clocks' skew.
            ``"bounded"``: c(e) is at most the number of events f → e with
            l(f) = l(e) (Kulkarni et al. 2014, theorem 3), so c stays small.
        options: passed to :func:`run_clocks`.

    Raises:
        ScenarioFailed: naming the event(s) at fault.
        InvalidArgument: a bad argument or option (named in the message).
    """
    check_choice("check", check, HLC_CHECKS)
    _check_scenario_args(cls, options)
    run = run_clocks(lambda node: cls(node.id, node.clock.now), seed, track_horizon=True, **options)
    raw = _stamps(run)
    bad_index = None
    try:
        stamps = {}
        for e, ts in raw.items():
            bad_index = e
            stamps[e] = _hlc_pair(ts, run.describe(e))
    except TypeError as exc:
        raise _scenario_failed(str(exc), run, bad_index) from None
    oracle = run.oracle
    if check == "causality":
        bad = oracle.find_violation(stamps.__getitem__)
        if bad is not None:
            a, b = bad
            raise _scenario_failed(
                f"causality broken: {run.describe(a, 'clock')} happened before "
                f"{run.describe(b, 'clock')}, but {stamps[a]!r} is not < {stamps[b]!r}", run, a, b)
    elif check == "physical":
        for e in oracle.events:
            ev = run.by_index[e]
            logical = stamps[e][0]
            if logical < ev.pt:
                raise _scenario_failed(
                    f"{run.describe(e, 'clock')}: l={logical!r} is behind the node's physical clock "
                    f"{ev.pt!r}; l must never lag physical time", run, e)
            if logical > ev.horizon + 1e-9:
                raise _scenario_failed(
                    f"{run.describe(e, 'clock')}: l={logical!r} is ahead of every physical clock so far "
                    f"(the highest reading was {ev.horizon!r}); l must be a physical time some node "
                    f"has read", run, e)
    else:
        groups: dict[float, list[int]] = defaultdict(list)
        for e in oracle.events:
            groups[stamps[e][0]].append(e)
        for same_l in groups.values():
            for k, e in enumerate(same_l):
                c = stamps[e][1]
                if c == 0:
                    continue
                allowed = sum(1 for f in same_l[:k] if oracle.happened_before(f, e))
                if c > allowed:
                    raise _scenario_failed(
                        f"{run.describe(e, 'clock')}: c={c} but only {allowed} earlier events with the "
                        f"same l={stamps[e][0]!r} happened before it: reset c to 0 whenever l moves "
                        f"on", run, e)
    return run


BROADCAST_CHECKS = ("order", "prompt")

#: What a chat's ``**options`` may set (passed to broadcast_run), and their defaults in the scenario.
_CHAT_OPTIONS = {"nodes": 4, "posts": 12, "reply_chance": 0.3, "duplicate": 0.2, "reorder": 0.3}


def causal_broadcast_scenario(cls: type, seed: Any, *, schedule: str = "chat", check: str = "order",
                              **options: Any) -> Simulation:
    """Run ``cls`` on every member of a group chat and check that it delivers in causal order.

    A post p happened before a post q when q's sender had posted or delivered p
    (or a post that p happened before) when it posted q.

    Args:
        cls: the learner's :class:`~.broadcast.BroadcastNode` subclass.
        seed: the simulation's seed.
        schedule: ``"chat"``, a random group chat (:func:`~.broadcast.broadcast_run`) over a
            network that by default duplicates 20% and delays 30% of the messages further,
            or a name in :data:`~.broadcast.SCHEDULES`, a scripted run.
        check: ``"order"``: every node delivers every post exactly once, and only after
            every post that happened before it; it never holds a copy of a post it has
            delivered. ``"prompt"``: that, and a post is held only while a post that
            happened before it is missing there: it is delivered the moment it is ready.
        options: for ``"chat"``, passed to broadcast_run: ``nodes``, ``posts``,
            ``reply_chance``, ``duplicate``, ``reorder``.

    Returns:
        The finished simulation.

    Raises:
        ScenarioFailed: naming the node and the posts at fault (its picture rings their events).
        InvalidArgument: a bad argument or option (named in the message).
    """
    _check_broadcast_args(cls, schedule, check, options)
    if schedule == "chat":
        sim = broadcast_run(cls, seed=seed, **{**_CHAT_OPTIONS, **options})
    else:
        sim = scripted_run(cls, schedule, seed=seed)
    _check_causal_delivery(sim, prompt=check == "prompt")
    return sim


def _check_broadcast_args(cls: Any, schedule: Any, check: Any, options: Mapping[str, Any]) -> None:
    if not (isinstance(cls, type) and issubclass(cls, BroadcastNode)):
        raise InvalidArgumentType(f"cls={cls!r} must be a BroadcastNode subclass (your CausalBroadcast)")
    check_choice("schedule", schedule, ("chat", *SCHEDULES))
    check_choice("check", check, BROADCAST_CHECKS)
    for name, value in options.items():
        if name not in _CHAT_OPTIONS:
            raise InvalidArgumentType(f"{name}={value!r} is not an option of the scenario; options "
                                      f"(passed to broadcast_run) are {', '.join(_CHAT_OPTIONS)}")
        if schedule != "chat":
            raise InvalidArgument(f"{name}={value!r} is an option of random chats, but schedule={schedule!r} "
                                  "is scripted: leave it out")


def _broadcast_failed(message: str, sim: Simulation, *events: int) -> Exception:
    try:
        labels = broadcast_labels(sim)
    except InvalidArgument:
        labels = None
    return ScenarioFailed(message, sim, events=[e for e in events if e is not None], labels=labels)


def _check_causal_delivery(sim: Simulation, *, prompt: bool) -> None:
    """Check every node's deliveries against the happens-before order of the posts (see the scenario)."""
    trace = list(sim.trace)
    before = _happened_before(sim)
    posts = {e.info["pid"]: (index, e) for index, e in enumerate(trace) if e.kind == "custom" and e.type == "post"}

    def name(pid: str) -> str:
        return f"{pid} ({posts[pid][1].info['text']!r})" if pid in posts else pid

    delivered: dict[Any, dict[str, int]] = {node: {} for node in sim.nodes}   # node -> pid -> first delivery
    for index, e in enumerate(trace):
        if e.kind != "custom" or e.type not in ("deliver", "hold"):
            continue
        pid, mine = e.info["pid"], delivered[e.node]
        if e.type == "hold":
            if pid in mine:
                raise _broadcast_failed(
                    f"{e.node} held {name(pid)} at t={e.time:g}, a copy of a post it had delivered at "
                    f"t={trace[mine[pid]].time:g}: it would wait for ever. The network delivers some "
                    "messages twice: ignore a copy of a post delivered (or held) already", sim, index, mine[pid])
            continue
        if pid in mine:
            raise _broadcast_failed(
                f"{e.node} delivered {name(pid)} twice, at t={trace[mine[pid]].time:g} and again at "
                f"t={e.time:g}: the network delivers some messages twice, and a post must be delivered "
                "once", sim, mine[pid], index)
        sender = pid.split(":")[0]
        for p in sorted(before.get(pid, ()), key=_post_order):
            if p not in mine:
                direct = any(f.kind == "custom" and f.type == "deliver" and f.node == sender
                             and f.info["pid"] == p for f in trace[:posts[pid][0]])
                why = (f"{sender} posted {p} first" if p.split(":")[0] == sender else
                       f"{sender} had delivered {p} before posting {pid}" if direct else
                       f"{sender} had delivered a post that {p} happened before, before posting {pid}")
                later = next((k for k in range(index + 1, len(trace)) if trace[k].kind == "custom"
                              and trace[k].type == "deliver" and trace[k].node == e.node
                              and trace[k].info["pid"] == p), None)
                raise _broadcast_failed(
                    f"{e.node} delivered {name(pid)} at t={e.time:g} before {name(p)}, which happened "
                    f"before it ({why})" + (f"; {e.node} delivered {p} only at t={trace[later].time:g}"
                                            if later is not None else f"; {e.node} never delivered {p}"),
                    sim, index, later if later is not None else posts[p][0])
        mine[pid] = index
    held_last = {(e.node, e.info["pid"]): index for index, e in enumerate(trace)
                 if e.kind == "custom" and e.type == "hold"}
    reached = arrivals(sim)
    for node in sim.nodes:
        for pid in sorted(posts, key=_post_order):
            if pid in delivered[node]:
                continue
            hold = held_last.get((node, pid))
            where = (f"it has been held since t={trace[hold].time:g} (waiting for "
                     f"{trace[hold].info.get('waiting_for')!r})" if hold is not None else
                     f"it arrived at t={trace[reached[(node, pid)]].time:g} and was neither delivered nor held"
                     if (node, pid) in reached else "it never arrived")
            raise _broadcast_failed(
                f"{node} never delivered {name(pid)}: {where}. Every post must reach every member, "
                "its poster included (holding posts back for ever breaks no order, and delivers nothing)",
                sim, hold if hold is not None else reached.get((node, pid), posts[pid][0]))
    if not prompt:
        return
    for node in sim.nodes:
        mine = delivered[node]
        for pid in sorted(mine, key=_post_order):
            arrived = reached.get((node, pid))
            if arrived is None:
                continue
            ready = max([arrived] + [mine[p] for p in before.get(pid, ())])
            hold = next((k for k in range(ready, mine[pid]) if trace[k].kind == "custom"
                         and trace[k].type == "hold" and trace[k].node == node
                         and trace[k].info["pid"] == pid), None)
            if hold is not None:
                deps = sorted(before.get(pid, ()), key=_post_order)
                raise _broadcast_failed(
                    f"{node} held {name(pid)} at t={trace[hold].time:g} though it was ready: "
                    + (f"every post that happened before it ({', '.join(deps)}) had been delivered there"
                       if deps else "no post happened before it")
                    + ". Hold a post back only while a post that happened before it is missing",
                    sim, hold)
            if trace[mine[pid]].time > trace[ready].time:
                raise _broadcast_failed(
                    f"{node} delivered {name(pid)} at t={trace[mine[pid]].time:g}, but it was ready at "
                    f"t={trace[ready].time:g} (it had arrived, and everything that happened before it had "
                    "been delivered): deliver a post as soon as it is ready", sim, ready, mine[pid])


def _post_order(pid: str) -> tuple:
    sender, _, n = pid.rpartition(":")
    return (sender, int(n)) if n.isdigit() else (pid, 0)
