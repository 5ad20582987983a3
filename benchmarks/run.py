"""Run every benchmark in this folder (``make bench``); each prints its own ratios."""

from __future__ import annotations

import importlib.util
import pathlib
import sys


def main() -> int:
    here = pathlib.Path(__file__).parent
    sys.path.insert(0, str(here.parent))
    for path in sorted(here.glob("bench_*.py")):
        print(f"\n=== {path.stem} ===", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
