"""Grade a class: autograde every collected submission, several at a time (``make grade``).

nbgrader's ``autograde`` grades the submissions it finds one after another, and its FAQ says
parallel autograding is not supported yet (jupyter/nbgrader#174). A submission's grading is
independent of every other one (its own kernel, its own folder in ``autograded/``, its own rows
in the gradebook), so this runs nbgrader's own command once per submission::

    nbgrader autograde <assignment> --student=<student> [--force]

in up to ``workers`` processes at a time, from the course directory. Each run therefore reads
the course's ``nbgrader_config.py`` exactly as a run by hand does: guarded execution
(:mod:`course_lib.grading.execution`), cell timeouts, hash seed 0, encrypted kernel connections.
The grades are the ones a serial ``nbgrader autograde <assignment>`` gives (tested, and measured
in ``benchmarks/bench_grade.py``).

The gradebook is shared by the runs. nbgrader opens it for short transactions (create the
student and the submission, read the source cells, save the grades), so with SQLite concurrent
runs at worst wait for each other's lock; a run that still fails on the database is run again
(``retries``). nbgrader's FAQ advises Postgres over SQLite when several people grade at once;
this works with either (the runs use whatever ``CourseDirectory.db_url`` the course sets).

From a shell, in the course directory (``make grade`` does this)::

    python -m course_lib.grading.classroom [--workers N] [--assignment A] [--student S] [--force]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import glob
import os
import pathlib
import re
import subprocess
import sys
import time
from typing import Any, Callable, Iterable, Sequence

from ..sim.validation import InvalidArgument, InvalidArgumentType, check_int, check_type

#: Log lines of a failed run that say the database was busy: such a run is tried again.
_DATABASE_BUSY = re.compile(r"database is locked|error accessing the nbgrader database", re.I)


@dataclasses.dataclass(frozen=True, order=True)
class Submission:
    """One student's collected submission of one assignment."""

    assignment: str
    student: str


@dataclasses.dataclass
class Outcome:
    """How grading one submission went: nbgrader's exit status, its log and the time it took."""

    submission: Submission
    returncode: int
    seconds: float
    attempts: int
    log: str

    @property
    def ok(self) -> bool:
        # nbgrader may exit 0 after failing a submission: it only logs that it could not process it.
        return self.returncode == 0 and "There was an error processing" not in self.log


def _course_directory(course: pathlib.Path) -> Any:
    """nbgrader's ``CourseDirectory`` as the course's ``nbgrader_config.py`` configures it."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course / "nbgrader_config.py").is_file():
        # The course's file may set variables for the kernels nbgrader starts (the hash seed): they
        # are for nbgrader's processes, which read the file again, not for this one.
        saved = dict(os.environ)
        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    coursedir = CourseDirectory(config=config)
    if not config.get("CourseDirectory", {}).get("root"):
        coursedir.root = str(course)
    return coursedir


def collected(course: str | os.PathLike, assignments: Iterable[str] | None = None,
              students: Iterable[str] | None = None) -> list[Submission]:
    """Every submission in the course's ``submitted/`` folder, in a fixed order.

    A submission is a ``submitted/<student>/<assignment>/`` folder (nbgrader's layout, as
    ``nbgrader collect`` makes it) holding at least one notebook. ``assignments`` and
    ``students``, when given, keep only those (names, not patterns).
    """
    course = _checked_course(course)
    wanted_assignments = _names("assignments", assignments)
    wanted_students = _names("students", students)
    coursedir = _course_directory(course)
    step = coursedir.submitted_directory
    pattern = re.compile(coursedir.format_path(step, "(?P<student>[^/]+)", "(?P<assignment>[^/]+)", escape=True)
                         + "$")
    found = []
    for folder in glob.glob(coursedir.format_path(step, "*", "*")):
        match = pattern.match(os.path.normpath(folder))
        if match is None or not glob.glob(os.path.join(glob.escape(folder), "*.ipynb")):
            continue
        submission = Submission(match["assignment"], match["student"])
        if wanted_assignments is not None and submission.assignment not in wanted_assignments:
            continue
        if wanted_students is not None and submission.student not in wanted_students:
            continue
        found.append(submission)
    return sorted(found)


def default_workers() -> int:
    """How many submissions to grade at once by default: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: ``nbgrader`` as its own script starts it, minus one import. jsonschema (nbformat validates with it)
#: imports the optional ``rfc3987_syntax`` when installed, only to check strings declared
#: ``"format": "iri"`` in draft-7 and later schemas; nbformat's schemas are draft 4 and declare
#: none. That import builds 38 Lark grammars, about 1.7 s of CPU in every nbgrader process (half
#: of its start-up). Declined here, the import fails and jsonschema goes on without the check.
_LAUNCHER = ("import sys; sys.modules['rfc3987_syntax'] = None; sys.argv[0] = 'nbgrader'; "
             "from nbgrader.apps.nbgraderapp import main; main()")


def nbgrader_command() -> list[str]:
    """The command that runs nbgrader of this Python environment (the course's venv under ``make grade``).

    Arguments follow it as they would follow ``nbgrader``; see ``_LAUNCHER`` for the one difference.
    """
    return [sys.executable, "-c", _LAUNCHER]


def _environment() -> dict[str, str]:
    """The environment of each run: this Python's scripts first on PATH (nbgrader runs alembic by name)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
    return env


def grade_one(course: str | os.PathLike, submission: Submission, force: bool = False,
              extra_args: Sequence[str] = (), retries: int = 2) -> Outcome:
    """Autograde one submission with ``nbgrader autograde``; run it again if the database was busy.

    ``extra_args`` follow nbgrader's own (``--Execute.timeout=10``, say).
    """
    course = _checked_course(course)
    check_type("submission", submission, Submission)
    check_type("force", force, bool)
    extra_args = _arguments(extra_args)
    check_int("retries", retries, low=0)
    args = [*nbgrader_command(), "autograde", submission.assignment,
            f"--student={glob.escape(submission.student)}", *(["--force"] if force else []), *extra_args]
    start = time.perf_counter()
    attempts = 0
    while True:
        attempts += 1
        proc = subprocess.run(args, cwd=course, env=_environment(), text=True, capture_output=True,
                              stdin=subprocess.DEVNULL)
        log = proc.stdout + proc.stderr
        outcome = Outcome(submission, proc.returncode, time.perf_counter() - start, attempts, log)
        if outcome.ok or attempts > retries or not _DATABASE_BUSY.search(log):
            return outcome
        # nbgrader removed the failed submission's autograded folder: the next run starts clean.
        args = [*args, "--force"] if "--force" not in args else args


def grade_class(course: str | os.PathLike, submissions: Sequence[Submission] | None = None,
                workers: int | None = None, force: bool = False, extra_args: Sequence[str] = (),
                retries: int = 2, progress: Callable[[Outcome], Any] | None = None) -> list[Outcome]:
    """Autograde ``submissions`` (default: every collected one) with ``workers`` parallel nbgrader runs.

    Returns one :class:`Outcome` per submission, in the order of ``submissions``. ``progress``,
    if given, is called with each outcome as it finishes. ``workers`` defaults to
    :func:`default_workers`; ``workers=1`` grades one submission after another.
    """
    course = _checked_course(course)
    if submissions is None:
        submissions = collected(course)
    if isinstance(submissions, (str, Submission)) or not isinstance(submissions, Iterable):
        raise InvalidArgumentType(f"submissions={submissions!r} must be a list of Submission values")
    submissions = list(submissions)
    for item in submissions:
        if not isinstance(item, Submission):
            raise InvalidArgumentType(f"submissions={submissions!r} must hold Submission values, not {item!r}")
    if len(set(submissions)) != len(submissions):
        raise InvalidArgument(f"submissions={submissions!r} names a submission twice")
    workers = default_workers() if workers is None else check_int("workers", workers, low=1)
    check_int("retries", retries, low=0)
    check_type("force", force, bool)
    extra_args = _arguments(extra_args)
    if progress is not None and not callable(progress):
        raise InvalidArgumentType(f"progress={progress!r} must be callable as progress(outcome), or None")
    outcomes: dict[Submission, Outcome] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grade_one, course, s, force, extra_args, retries): s for s in submissions}
        for future in concurrent.futures.as_completed(futures):
            outcome = future.result()
            outcomes[futures[future]] = outcome
            if progress is not None:
                progress(outcome)
    return [outcomes[s] for s in submissions]


def gradebook_scores(course: str | os.PathLike, submissions: Iterable[Submission] | None = None
                     ) -> dict[Submission, tuple[float, float]]:
    """``(score, max_score)`` of each graded submission in the course's gradebook."""
    return _from_gradebook(course, submissions, lambda sub: (sub.score, sub.max_score))


def cell_scores(course: str | os.PathLike, submissions: Iterable[Submission] | None = None
                ) -> dict[Submission, dict[str, float]]:
    """The score of every graded cell of each submission in the course's gradebook (by grade id)."""
    return _from_gradebook(course, submissions,
                           lambda sub: {g.name: g.score for nb in sub.notebooks for g in nb.grades})


def _from_gradebook(course: str | os.PathLike, submissions: Iterable[Submission] | None,
                    read: Callable[[Any], Any]) -> dict:
    """``read(submission)`` for each graded submission in the course's gradebook (all, or ``submissions``)."""
    from nbgrader.api import Gradebook

    course = _checked_course(course)
    coursedir = _course_directory(course)
    wanted = None if submissions is None else set(submissions)
    found = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for assignment in gb.assignments:
            for sub in gb.assignment_submissions(assignment.name):
                key = Submission(assignment.name, sub.student.id)
                if wanted is None or key in wanted:
                    found[key] = read(sub)
    return found


def _checked_course(course: Any) -> pathlib.Path:
    if not isinstance(course, (str, os.PathLike)):
        raise InvalidArgumentType(f"course={course!r} must be the path of an nbgrader course directory")
    path = pathlib.Path(course).resolve()
    if not path.is_dir():
        raise InvalidArgument(f"course={str(course)!r} must be an existing directory (the course's root)")
    return path


def _names(parameter: str, values: Iterable[str] | None) -> set[str] | None:
    if values is None:
        return None
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidArgumentType(f"{parameter}={values!r} must be a list of names (or None for all)")
    values = list(values)
    for value in values:
        if not isinstance(value, str) or not value or "/" in value:
            raise InvalidArgument(f"{parameter}={values!r} must hold names (non-empty str without '/'), "
                                  f"not {value!r}")
    return set(values)


def _arguments(values: Any) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidArgumentType(f"extra_args={values!r} must be a list of command-line arguments")
    values = tuple(values)
    for value in values:
        if not isinstance(value, str):
            raise InvalidArgumentType(f"extra_args={values!r} must hold str arguments, not {value!r}")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading.classroom",
        description="Autograde every collected submission of an nbgrader course with parallel workers.")
    parser.add_argument("--course", default=".", help="the course directory (default: the current one)")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"submissions graded at once (default: the cores, here {default_workers()})")
    parser.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--force", action="store_true",
                        help="regrade submissions already autograded (nbgrader autograde --force)")
    options = parser.parse_args(argv)
    if options.workers is not None and options.workers < 1:
        parser.error(f"--workers must be at least 1, got {options.workers}")
    course = pathlib.Path(options.course)
    submissions = collected(course, options.assignment, options.student)
    if not submissions:
        print(f"no collected submission to grade in {course.resolve()} (run `nbgrader collect <assignment>` "
              "first, or put them in submitted/<student>/<assignment>/)")
        return 1
    workers = options.workers or default_workers()
    print(f"grading {len(submissions)} submissions with {min(workers, len(submissions))} workers")
    width = max(len(f"{s.assignment}/{s.student}") for s in submissions)

    def report(outcome: Outcome) -> None:
        s = outcome.submission
        status = "graded" if outcome.ok else f"FAILED (exit {outcome.returncode})"
        retried = f", {outcome.attempts} runs" if outcome.attempts > 1 else ""
        print(f"  {s.assignment + '/' + s.student:{width}s} {outcome.seconds:7.1f} s  {status}{retried}", flush=True)

    start = time.perf_counter()
    outcomes = grade_class(course, submissions, workers=workers, force=options.force, progress=report)
    elapsed = time.perf_counter() - start
    scores = gradebook_scores(course, submissions)
    print(f"\n{'submission':{width}s} {'score':>13s}")
    for outcome in outcomes:
        s = outcome.submission
        score = scores.get(s)
        shown = f"{score[0]:g} / {score[1]:g}" if score and outcome.ok else "not graded"
        print(f"{s.assignment + '/' + s.student:{width}s} {shown:>13s}")
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        print(f"\n--- nbgrader's log for {outcome.submission.assignment}/{outcome.submission.student} "
              f"(last lines) ---\n{outcome.log[-3000:]}")
    print(f"\n{len(outcomes) - len(failed)} graded, {len(failed)} failed in {elapsed:.1f} s "
          f"({elapsed / len(outcomes):.1f} s per submission with {min(workers, len(outcomes))} workers)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
