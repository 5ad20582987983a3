"""The grading harness: run a learner's class through named scenarios over many seeds.

Test cells in the exercises stay short because the work happens here::

    check_scenario(converges_under_faults, Replica, seeds=range(20), loss=0.3)

runs ``converges_under_faults(Replica, seed=s, loss=0.3)`` for each seed. A
scenario is a plain function that builds a :class:`~course_lib.sim.Simulation`,
runs it, and raises :class:`ScenarioFailed` (or any ``AssertionError``) when
the outcome is wrong. The harness turns the first failure into an
``AssertionError`` that names the scenario, the seed and the settings, and
gives a one-line replay to paste into the notebook: every failure is
reproducible, because the same seed gives the same run.

A learner's exception inside a handler is reported the same way, with the node,
the handler and the simulated time.

Every failure can be seen: the report's ``.draw()`` draws the failing run, stopped at
the failing event and marked there, and so does the error the pasted replay line
raises (``.draw()``, or :func:`~course_lib.viz.draw_failure` in the next cell).
"""

from __future__ import annotations

import itertools
import sys
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..sim import Simulation
from ..sim.errors import (EventBudgetExceeded, HandlerError, InvariantViolation, NoHandlerError,
                         ScenarioFailed)
from ..sim.validation import InvalidArgument, InvalidArgumentType, check_callable
from ..viz.failure import draw_failure, failure_sim

#: The most seeds :func:`check_scenario` takes from ``seeds`` (a budget: an endless iterator
#: such as ``itertools.count()`` would otherwise never end). Raise it here if you need more.
MAX_SEEDS = 100_000


class ScenarioReport(AssertionError):
    """The failure ``check_scenario`` raises: what failed, with which seed, and how to replay it.

    ``failure`` is the error the run raised (an :class:`~course_lib.sim.InvariantViolation`,
    a :class:`~course_lib.sim.HandlerError`, a :class:`ScenarioFailed`, ...) and ``sim``
    the simulation it happened in, stopped at the failing moment; :meth:`draw` draws it.
    """

    def __init__(self, message: str, *, scenario: Callable, args: tuple, kwargs: dict,
                 sim: Simulation | None, failure: BaseException | None = None) -> None:
        super().__init__(message)
        self.scenario = scenario
        self.call_args = args
        self.call_kwargs = kwargs
        self.sim = sim
        self.failure = failure

    def draw(self, **options: Any) -> Any:
        """Draw the failing run with the failing event marked; return the Axes.

        The chapter's own picture when it has one (Raft: roles, messages and logs),
        else the space-time diagram; options go to it (``start``, ``end``, ``nodes``, ...).

        Raises:
            ValueError: the failure happened before any simulation ran.
        """
        if self.sim is None:
            raise ValueError("this failure happened before any simulation ran (a bad argument, or "
                             "an error in a node's __init__?): there is no run to draw")
        return draw_failure(self.failure if self.failure is not None else self, sim=self.sim,
                            **options)


#: The line of a failure message that says how to see the failing run.
DRAW_HINT = ("draw it: .draw() on the error, e.g. in the next cell: "
             "from course_lib.grading import draw_failure; draw_failure()")


def _name(obj: Any) -> str:
    return getattr(obj, "__name__", None) or type(obj).__name__


def replay_line(scenario: Callable, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """Return the one-line call that reruns ``scenario(*args, **kwargs)`` in a notebook."""
    check_callable("scenario", scenario)
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise InvalidArgumentType(f"args={args!r} must be a tuple of positional arguments")
    if not isinstance(kwargs, Mapping):
        raise InvalidArgumentType(f"kwargs={kwargs!r} must be a dict of keyword arguments")
    parts = [_name(a) if isinstance(a, type) or callable(a) else repr(a) for a in args]
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    module = _home(scenario)
    call = f"{_name(scenario)}({', '.join(parts)})"
    if module and module not in ("__main__", "builtins"):
        return f"from {module} import {_name(scenario)}; {call}"
    return call


def _home(obj: Any) -> str | None:
    """Return the shortest module path a learner imports ``obj`` from.

    A chapter package re-exports its scenarios (``course_lib.topics.raft`` holds
    ``reelection``, defined in ``course_lib.topics.raft.scenarios.election``), so the
    replay line says what the exercise's setup cell says.
    """
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        return None
    parts = module.split(".")
    for depth in range(1, len(parts)):
        parent = sys.modules.get(".".join(parts[:depth]))
        if parent is not None and getattr(parent, _name(obj), None) is obj:
            return parent.__name__
    return module


def _what_failed(exc: BaseException) -> str:
    """The failure message's account of ``exc``, the error a scenario run raised."""
    if isinstance(exc, HandlerError):
        cause = exc.error
        what = ("NotImplementedError (a method is not written yet)"
                if isinstance(cause, NotImplementedError) else f"{type(cause).__name__}: {cause}")
        return f"your node {exc.node!r} raised {what} in {exc.where} at simulated time {exc.time:g}"
    if isinstance(exc, EventBudgetExceeded):
        return f"the run never settled: {exc}"
    if isinstance(exc, (ScenarioFailed, InvariantViolation, NoHandlerError)):
        return str(exc)
    if isinstance(exc, AssertionError):
        return str(exc) or "an assertion failed"
    what = ("NotImplementedError (a method is not written yet)"
            if isinstance(exc, NotImplementedError) else f"{type(exc).__name__}: {exc}")
    return f"your code raised {what}"  # outside a handler (e.g. in write())


def run_once(scenario: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run one scenario; on failure raise :class:`ScenarioReport` with its replay line.

    The report's message names the scenario and its arguments, says what failed and
    gives the line that replays the run; ``report.draw()`` draws the failing run.
    """
    check_callable("scenario", scenario, "scenario(*args, **kwargs)")
    where = f"scenario {_name(scenario)!r} with " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    replay = replay_line(scenario, args, kwargs)
    try:
        return scenario(*args, **kwargs)
    except Exception as exc:
        failure = exc
    sim = failure_sim(failure)
    message = f"{where}: {_what_failed(failure)}\n  replay: {replay}"
    if sim is not None:
        message += f"\n  {DRAW_HINT}"
    report = ScenarioReport(message, scenario=scenario, args=args, kwargs=kwargs, sim=sim,
                            failure=failure)
    known = isinstance(failure, (HandlerError, EventBudgetExceeded, NoHandlerError, AssertionError))
    # The learner's own exception (and a handler stopped in an infinite loop) keeps its
    # traceback, which points into their code; the simulator's reports and failed checks
    # say everything in the message.
    raise report from (None if known else failure)


def check_scenario(scenario: Callable, *args: Any, seeds: Iterable[Any],
                   settings: Sequence[Mapping[str, Any]] = ({},), **fixed: Any) -> None:
    """Run ``scenario(*args, seed=s, **setting, **fixed)`` for every seed and setting.

    Stops at the first failure and raises :class:`ScenarioReport` (an
    ``AssertionError``) naming the scenario, the seed and the settings, with a
    one-line replay.

    Args:
        scenario: a function running one simulation and raising on a wrong outcome.
        *args: passed first to every call (typically the learner's class).
        seeds: the seeds to try, in order.
        settings: fault settings to combine with every seed (each a dict of keywords).
        **fixed: keywords passed to every call.

    Returns nothing, so a test cell ending with it shows no output (nbgrader reads
    a number shown by a test cell as partial credit).

    Raises:
        InvalidArgument: ``seeds`` or ``settings`` is empty, ``seeds`` yields
            more than :data:`MAX_SEEDS` seeds, or a keyword is given twice
            (``seed``, or one both in a setting and in ``fixed``).
        InvalidArgumentType: ``scenario`` is not callable, ``seeds`` is not an
            iterable of seeds (a single str is refused), or a setting is not a dict.
        ScenarioReport: a run failed.

    Example:
        >>> def never_fails(seed):
        ...     return Simulation(seed=seed)
        >>> check_scenario(never_fails, seeds=range(3))
    """
    check_callable("scenario", scenario, "scenario(*args, seed=s, **settings)")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise InvalidArgumentType(f"seeds={seeds!r} must be an iterable of seeds such as range(10) "
                                  "or [1, 2, 3]")
    seeds = list(itertools.islice(seeds, MAX_SEEDS + 1))
    if len(seeds) > MAX_SEEDS:
        raise InvalidArgument(f"seeds yields more than MAX_SEEDS={MAX_SEEDS} seeds (an endless "
                              "iterator?); pass a finite list, or raise course_lib.grading.scenarios.MAX_SEEDS")
    if isinstance(settings, (str, bytes, Mapping)) or not isinstance(settings, Iterable):
        raise InvalidArgumentType(f"settings={settings!r} must be a list of dicts of keyword arguments, "
                                  "such as [{'loss': 0.1}]")
    settings = list(settings)
    if not seeds:
        raise InvalidArgument("seeds=[] must name at least one seed")
    if not settings:
        raise InvalidArgument("settings=[] must hold at least one setting (use [{}] for none)")
    if "seed" in fixed:
        raise InvalidArgument(f"seed={fixed['seed']!r} is given by seeds=; do not pass seed= too")
    for index, setting in enumerate(settings):
        if not isinstance(setting, Mapping):
            raise InvalidArgumentType(f"settings[{index}]={setting!r} must be a dict of keyword arguments")
        for key in setting:
            if not isinstance(key, str):
                raise InvalidArgumentType(f"settings[{index}] has the key {key!r}; keys are keyword "
                                          "names (str)")
            if key == "seed" or key in fixed:
                where = "seeds=" if key == "seed" else f"{key}={fixed[key]!r}"
                raise InvalidArgument(f"settings[{index}] sets {key}={setting[key]!r}, which {where} "
                                      "gives already; give each keyword once")
    for setting, seed in itertools.product(settings, seeds):
        run_once(scenario, *args, seed=seed, **setting, **fixed)
