"""Build the course's website: `make book`, or `python book/build.py [--out DIR]`.

Stages the site's sources (book/pages.py) and runs Sphinx on them with warnings as errors, so a
broken link between pages, a missing image or a page outside the table of contents fails the
build. Offline: nothing is executed or fetched.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from sphinx.cmd.build import build_main

BOOK = Path(__file__).resolve().parent


def load_pages():
    """book/pages.py as the module ``course_book_pages`` (book/ is no package, nor on sys.path)."""
    name = "course_book_pages"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BOOK / "pages.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: its dataclass looks itself up there
        spec.loader.exec_module(module)
    return sys.modules[name]


pages = load_pages()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=pages.REPO / "_build" / "html",
                        help="where the HTML goes (default: _build/html)")
    parser.add_argument("--work", type=Path, default=None,
                        help="where the staged sources and Sphinx's cache go "
                             "(default: beside --out: src/ and doctrees/)")
    parser.add_argument("--repo", type=Path, default=pages.REPO,
                        help="the course whose notebooks become the site (default: this one)")
    args = parser.parse_args(argv)
    work = args.work or args.out.parent
    started = time.monotonic()
    pages.stage(work / "src", args.repo)
    status = build_main(["-b", "html", "-W", "--keep-going", "-q", "-c", str(BOOK),
                         "-d", str(work / "doctrees"), str(work / "src"), str(args.out)])
    if status == 0:
        print(f"built {args.out / 'index.html'} in {time.monotonic() - started:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
