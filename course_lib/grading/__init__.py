"""Grading: scenarios run over seeds with a replay line for the first failure, and scoring with nbgrader's rules.

- :mod:`course_lib.grading.scenarios`: :func:`check_scenario`, :func:`run_once`, the
  failure report (:class:`ScenarioReport`, drawable) and :func:`replay_line`; :func:`draw_failure`
  draws any failure (by default the last error raised in the session);
- :mod:`course_lib.grading.scoring`: :func:`score_notebook`, the score of an exercise notebook
  as nbgrader's autograder would give it (``make check``);
- :mod:`course_lib.grading.execution` and :mod:`course_lib.grading.guard`: grading against an
  untouched library (what a submission changes in course_lib, in the setup's names or in
  IPython's hooks is put back before each test; deleted test and setup cells come back),
  for ``nbgrader autograde`` (``nbgrader_config.py``) and ``make check``;
- :mod:`course_lib.grading.kernels`: kernels started with encrypted connections.
"""

from ..sim.errors import ScenarioFailed
from ..viz.failure import draw_failure
from .scenarios import ScenarioReport, check_scenario, replay_line, run_once

__all__ = ["check_scenario", "run_once", "replay_line", "ScenarioReport", "ScenarioFailed", "draw_failure"]
