"""Every benchmark in one run, then ONE table: figure, baseline, ratio, goal, met — with the machine described.

    benchmarks/run              # all of them (a few minutes on 2 cores)
    benchmarks/run store opcua  # only those

Each `bench_*.main()` prints its own detail and returns a list of `Result` (or nothing: such a bench
still runs, the table says it returned no figures). Rows the issue asks for whose module is absent from
this checkout are shown as "not in this run". Exit 1 if a benchmark raised, else 0 (goals not met are
reported in the table, not by the exit code: the figures move with the machine).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime

from benchmarks.__main__ import discover
from benchmarks.result import Result, not_in_run

# The table follows issue 13's list; modules not named here come after, alphabetically.
ORDER = ["bench_modbus", "bench_store", "bench_bacnet", "bench_bms_client", "bench_opcua", "bench_validation",
         "bench_close", "bench_web"]  # fmt: skip
# Benchmarks the issue lists that live in modules other branches add: a row saying so when absent.
EXPECTED = {
    "bench_bms_client": "BMS read-back (vs bare bacpypes3 reads)",
    "bench_close": "month close (vs plain SQL)",
    "bench_web": "API latency, a year of one point's data",
}
POSTGRES_ROW = "PostgreSQL ingest (vs COPY)"
SERVERS_LIMIT_MIB = 250.0  # BACnet + OPC UA for 5,000 points together (issue 13)


def _first(path: str, key: str) -> str | None:
    with contextlib.suppress(OSError), open(path, encoding="utf-8") as text:
        for line in text:
            if line.startswith(key):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip().strip('"')
    return None


def machine() -> list[str]:
    """What the figures were measured on: CPU, cores, RAM, Python, OS, date, commit."""
    cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    logical = os.cpu_count() or 0
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as text:
        logical = sum(1 for line in text if line.startswith("processor")) or logical
    cores = f"{logical} logical cores"
    with contextlib.suppress(AttributeError, OSError):
        cores += f", {len(os.sched_getaffinity(0))} usable here"
    mem_kib = (_first("/proc/meminfo", "MemTotal") or "0 kB").split()[0]
    distro = _first("/etc/os-release", "PRETTY_NAME=") or platform.system()
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    return [
        f"CPU     {cpu} ({cores})",
        f"RAM     {int(mem_kib) / 2**20:.1f} GiB",
        f"Python  {platform.python_version()} ({platform.python_implementation()})",
        f"OS      {distro}, {platform.system()} {platform.release()}",
        f"date    {datetime.now(UTC):%Y-%m-%d %H:%M} UTC" + (f", commit {commit}" if commit else ""),
    ]


def peak_rss_mib() -> float:
    """Peak resident memory of this process (every benchmark ran in it) and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def run_one(name: str) -> list[Result]:
    """Run one benchmark's main(), its own printout included; a failure becomes a row, not an abort."""
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    try:
        returned = importlib.import_module(f"benchmarks.{name}").main()
    except Exception as exc:
        traceback.print_exc()
        return [Result(name, None, None, "", None, f"FAILED: {type(exc).__name__}: {exc}"[:100], False)]
    finally:
        print(f"({name} took {time.perf_counter() - started:.1f} s)\n", flush=True)
    results = [r for r in (returned or []) if isinstance(r, Result)]
    return results or [not_in_run(name, "ran; no figures returned (see its printout)")]


def combined_servers(results: Iterable[Result]) -> Result | None:
    """BACnet + OPC UA server memory for their point counts, against the 250 MiB the issue allows."""
    found = {
        prefix: r
        for r in results
        for prefix in ("BACnet server memory", "OPC UA server memory")
        if r.name.startswith(prefix) and r.ours is not None
    }
    if len(found) < 2:
        return None
    total = sum(r.ours or 0.0 for r in found.values())
    return Result.at_most("BACnet + OPC UA servers together (RSS added)", total, SERVERS_LIMIT_MIB, "MiB")


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: list[Result]) -> list[str]:
    header = ("benchmark", "ours", "baseline", "unit", "ratio", "goal", "met?")
    rows = [
        (
            r.name,
            _num(r.ours),
            _num(r.baseline),
            r.unit,
            f"{r.ratio:.2f}×" if r.ratio is not None else "—",
            r.goal or "—",
            {True: "yes", False: "NO", None: "—"}[r.met],
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {1, 2, 4}  # numbers
    lines = []
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _position(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def main(argv: list[str]) -> int:
    available = discover()
    wanted = [a if a.startswith("bench_") else f"bench_{a}" for a in argv] or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    started = time.perf_counter()
    full = not argv  # a full run also says what the issue asks for that this checkout cannot measure
    results: list[Result] = []
    for name in sorted(set(wanted) | (set(EXPECTED) if full else set()), key=_position):
        if name in wanted:
            results += run_one(name)
        else:
            results.append(not_in_run(EXPECTED[name], f"not in this run ({name}.py absent)"))
        if name == "bench_store" and full and not any(r.name.startswith("PostgreSQL") for r in results):
            results.append(not_in_run(POSTGRES_ROW, "not in this run (bench_store measured SQLite only)"))
    both = combined_servers(results)
    if both is not None:
        results.append(both)
    if full:
        results.append(not_in_run("soak: 5,000 points for 10 min", "not in this run: python -m benchmarks.soak"))
    out = io.StringIO()
    print("=" * 100, file=out)
    print("bms-bridge benchmarks: ratios are measured side by side in this run (docs/performance.md)", file=out)
    for line in machine():
        print(f"  {line}", file=out)
    print(
        f"  peak memory of the run (RSS) {peak_rss_mib():.0f} MiB; took {time.perf_counter() - started:.0f} s", file=out
    )
    print(file=out)
    for line in table(results):
        print(line, file=out)
    met = [r.met for r in results]
    print(f"\ngoals met: {met.count(True)}, not met: {met.count(False)}, no goal stated: {met.count(None)}", file=out)
    print(out.getvalue(), end="")
    failed = any(r.goal.startswith("FAILED") for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
