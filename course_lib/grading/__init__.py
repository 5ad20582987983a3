"""Grading: scenarios run over seeds with a replay line for the first failure, and scoring with nbgrader's rules.

- :mod:`course_lib.grading.scenarios`: :func:`check_scenario`, :func:`run_once`, the
  failure report (:class:`ScenarioReport`, drawable) and :func:`replay_line`; :func:`draw_failure`
  draws any failure (by default the last error raised in the session);
- :mod:`course_lib.grading.scoring`: :func:`score_notebook`, the score of an exercise notebook
  as nbgrader's autograder would give it (``make check``).
"""

from ..sim.errors import ScenarioFailed
from ..viz.failure import draw_failure
from .scenarios import ScenarioReport, check_scenario, replay_line, run_once

__all__ = ["check_scenario", "run_once", "replay_line", "ScenarioReport", "ScenarioFailed", "draw_failure"]
