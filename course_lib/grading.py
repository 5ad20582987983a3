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
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterable, Mapping, Sequence

from .sim import Simulation
from .sim.errors import (EventBudgetExceeded, HandlerError, InvariantViolation, NoHandlerError,
                         ScenarioFailed)


class ScenarioReport(AssertionError):
    """The failure ``check_scenario`` raises: what failed, with which seed, and how to replay it."""

    def __init__(self, message: str, *, scenario: Callable, args: tuple, kwargs: dict,
                 sim: Simulation | None) -> None:
        super().__init__(message)
        self.scenario = scenario
        self.call_args = args
        self.call_kwargs = kwargs
        self.sim = sim

    def draw(self, **options: Any) -> Any:
        """Draw the space-time diagram of the failing run (options go to ``space_time``)."""
        if self.sim is None:
            raise ValueError("this failure has no simulation to draw (it failed before the run)")
        from .viz import space_time
        return space_time(self.sim, **options)


def _name(obj: Any) -> str:
    return getattr(obj, "__name__", None) or type(obj).__name__


def replay_line(scenario: Callable, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """Return the one-line call that reruns ``scenario(*args, **kwargs)`` in a notebook."""
    parts = [_name(a) if isinstance(a, type) or callable(a) else repr(a) for a in args]
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    module = getattr(scenario, "__module__", None)
    call = f"{_name(scenario)}({', '.join(parts)})"
    if module and module not in ("__main__", "builtins"):
        return f"from {module} import {_name(scenario)}; {call}"
    return call


def run_once(scenario: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run one scenario; on failure raise :class:`ScenarioReport` with its replay line."""
    if not callable(scenario):
        raise TypeError(f"scenario={scenario!r} must be callable")
    where = f"scenario {_name(scenario)!r} with " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    replay = replay_line(scenario, args, kwargs)
    try:
        return scenario(*args, **kwargs)
    except ScenarioFailed as exc:
        message, sim = str(exc), exc.sim
    except InvariantViolation as exc:
        message, sim = str(exc), None
    except HandlerError as exc:
        cause = exc.error
        what = ("NotImplementedError (a method is not written yet)"
                if isinstance(cause, NotImplementedError) else f"{type(cause).__name__}: {cause}")
        message = f"your node {exc.node!r} raised {what} in {exc.where} at simulated time {exc.time:g}"
        sim = None
    except NoHandlerError as exc:
        message, sim = str(exc), None
    except EventBudgetExceeded as exc:
        message, sim = f"the run never settled: {exc}", None
    except AssertionError as exc:
        message, sim = str(exc) or "an assertion failed", None
    except Exception as exc:  # the learner's code raised outside a handler (e.g. in write())
        what = ("NotImplementedError (a method is not written yet)"
                if isinstance(exc, NotImplementedError) else f"{type(exc).__name__}: {exc}")
        raise ScenarioReport(f"{where}: your code raised {what}\n  replay: {replay}",
                             scenario=scenario, args=args, kwargs=kwargs, sim=None) from exc
    raise ScenarioReport(f"{where}: {message}\n  replay: {replay}", scenario=scenario, args=args,
                         kwargs=kwargs, sim=sim) from None


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
        ValueError: ``seeds`` or ``settings`` is empty.
        ScenarioReport: a run failed.

    Example:
        >>> def never_fails(seed):
        ...     return Simulation(seed=seed)
        >>> check_scenario(never_fails, seeds=range(3))
    """
    seeds = list(seeds)
    settings = list(settings)
    if not seeds:
        raise ValueError("seeds=[] must name at least one seed")
    if not settings:
        raise ValueError("settings=[] must hold at least one setting (use [{}] for none)")
    for index, setting in enumerate(settings):
        if not isinstance(setting, Mapping):
            raise TypeError(f"settings[{index}]={setting!r} must be a dict of keyword arguments")
    for setting, seed in itertools.product(settings, seeds):
        run_once(scenario, *args, seed=seed, **setting, **fixed)
