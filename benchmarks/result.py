"""One measured figure of a benchmark, as `benchmarks/run` puts it in its summary table.

Each `bench_*.main()` prints its own detailed table and returns a list of these. `ours` and `baseline`
are in `unit`; `ratio` is how the two compare in the sense of the goal (for a rate ours / baseline, for
a time or a size baseline / ours when the goal says so); `met` is None when no goal is stated.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    name: str
    ours: float | None
    baseline: float | None
    unit: str
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None

    @classmethod
    def rate(cls, name: str, ours: float, baseline: float, unit: str, at_least: float | None = None) -> Result:
        """A throughput against its baseline; the goal (if any) is ours ≥ at_least × baseline."""
        ratio = ours / baseline if baseline else None
        goal = f"≥ {at_least:g}× baseline" if at_least is not None else ""
        met = None if at_least is None or ratio is None else ratio >= at_least
        return cls(name, ours, baseline, unit, ratio, goal, met)

    @classmethod
    def at_most(cls, name: str, ours: float, limit: float, unit: str, baseline: float | None = None) -> Result:
        """A size or time that must not exceed `limit` (the baseline, if given, is shown beside it)."""
        ratio = ours / baseline if baseline else None
        return cls(name, ours, baseline, unit, ratio, f"≤ {limit:g} {unit}", ours <= limit)

    @classmethod
    def time(cls, name: str, ours: float, baseline: float, unit: str, at_most: float | None = None) -> Result:
        """A duration against its baseline's; the ratio is ours / baseline, the goal (if any) ≤ at_most×."""
        ratio = ours / baseline if baseline else None
        goal = f"≤ {at_most:g}× baseline" if at_most is not None else ""
        met = None if at_most is None or ratio is None else ratio <= at_most
        return cls(name, ours, baseline, unit, ratio, goal, met)

    @classmethod
    def floor(cls, name: str, ours: float, baseline: float, unit: str, at_least: float) -> Result:
        """A throughput that must reach `at_least` in its unit (the baseline shown beside it)."""
        ratio = ours / baseline if baseline else None
        return cls(name, ours, baseline, unit, ratio, f"≥ {at_least:,.0f} {unit}", ours >= at_least)


def not_in_run(name: str, why: str) -> Result:
    """A row the issue asks for whose benchmark is absent from this checkout or was skipped."""
    return Result(name, None, None, "", None, why, None)
