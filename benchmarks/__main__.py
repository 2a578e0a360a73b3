"""Run every `bench_*.py` module in this folder (its `main()`), or only those named on the command line."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def discover() -> list[str]:
    here = str(Path(__file__).parent)
    return sorted(m.name for m in pkgutil.iter_modules([here]) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    available = discover()
    wanted = [a if a.startswith("bench_") else f"bench_{a}" for a in argv] or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    for name in wanted:
        print(f"== {name}")
        started = time.perf_counter()
        importlib.import_module(f"{__package__}.{name}").main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
