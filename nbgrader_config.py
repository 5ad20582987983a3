"""nbgrader configuration: this repository is itself an nbgrader course.

``solutions/`` is the *source* directory (instructor versions with solutions
and hidden tests) and ``exercises/`` the *release* directory (what learners
get). Every path is relative to this file, so the course works from any clone.
"""

import os

from nbgrader.converters import Autograde
from nbgrader.preprocessors import ClearHiddenTests, Execute, GetGrades, NbGraderPreprocessor, OverwriteCells
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

from course_lib.grading.execution import GuardedExecute, RestoreCells
from course_lib.grading.kernels import kernel_settings

HERE = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "distributed-systems"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# nbgrader's working folders and database stay inside the clone, all git-ignored.
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# A local exchange and cache, so a whole classroom flow can be rehearsed on one
# machine without touching the user's home directory or /srv.
c.Exchange.root = os.path.join(HERE, "nbgrader_exchange")
c.Exchange.cache = os.path.join(HERE, ".nbgrader", "cache")
c.Exchange.path_includes_course = True

# Execution: the course's own Python kernel; a learner's infinite loop costs the
# cell it is in (interrupted after the timeout), never the whole grading run.
c.Execute.kernel_name = "python3"
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# A kernel that dies while starting on a busy machine is retried, not graded as zero.
c.Execute.execute_retries = 2
# Every kernel runs with hash seed 0, so a learner's `for p in set(self.peers)` visits the
# peers in the same order when graded as in the learner's kernel, and a replayed failure fails
# again. Kernels inherit the environment of the nbgrader process (jupyter_client copies
# os.environ), which this file configures before any kernel starts: this holds for
# `nbgrader autograde` or `validate` run by hand, with any `python3` kernelspec.
os.environ["PYTHONHASHSEED"] = "0"
# Kernels talk to nbgrader over encrypted connections (CurveZMQ keys provisioned by the kernel
# manager): over plain TCP ipykernel warns at every start (course_lib/grading/kernels.py).
for _name, _value in kernel_settings().items():
    setattr(c.KernelManager, _name, _value)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grade against an untouched library (course_lib/grading/execution.py): every locked cell a
# submission deleted is put back (nbgrader itself restores edited ones and, with this, deleted
# tests), and before each locked cell (setup, sanity checks, tests) what the learner's cells
# changed in course_lib, in the notebook's names those cells bound, or in IPython's hooks is put
# back; a test whose own run changes the library fails. nbgrader's other steps are unchanged.
_defaults = Autograde.class_traits()
c.Autograde.sanitize_preprocessors = [RestoreCells if p is OverwriteCells else p
                                      for p in _defaults["sanitize_preprocessors"].default()]
c.Autograde.autograde_preprocessors = [GuardedExecute if p is Execute else p
                                       for p in _defaults["autograde_preprocessors"].default()]


class HideHiddenTestTracebacks(NbGraderPreprocessor):
    """Reduce the error output of cells with hidden tests to its last line.

    A traceback quotes the failing lines of the cell, so without this the
    feedback would print hidden test code (nbgrader issue 917). The learner
    still sees which assertion failed and its message.
    """

    delimiter = "BEGIN HIDDEN TESTS"

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and self.delimiter in cell.source:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


# Feedback shows the learner's notebook with grades, but never hidden test code.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTestTracebacks,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
c.ClearHiddenTests.enforce_metadata = True
