"""`make check`: run your exercise notebooks and report each graded test.

Usage: python tools/check_exercises.py [ASSIGNMENT ...]   (default: every assignment)

This never modifies your notebooks: it runs a copy. Hidden tests run only when
your work is graded, so passing here is necessary, not sufficient.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_lib.grading.scoring import score_notebook  # noqa: E402


def main(argv: list[str]) -> int:
    exercises = ROOT / "exercises"
    names = argv or sorted(p.name for p in exercises.iterdir() if p.is_dir())
    failed = False
    for name in names:
        folder = exercises / name
        if not folder.is_dir():
            known = sorted(p.name for p in exercises.iterdir() if p.is_dir())
            print(f"ASSIGNMENT={name!r} is not an assignment; choose from {known}", file=sys.stderr)
            return 2
        for notebook in sorted(folder.glob("*.ipynb")):
            result = score_notebook(notebook)
            print(result.report())
            print()
            failed |= result.score < result.max_score
    print("Hidden tests add seeds and faults when your work is graded." if not failed else
          "Some tests fail: each message names the scenario and seed, with a line to replay it.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
