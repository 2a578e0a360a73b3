"""Verdicts in time order → episodes that persisted long enough to be raised.

A run of FAULT instants becomes an episode once the fault has been observed for `persistence`
(APAR: 60 min; each instant stands for one `step`, time in a suspension does not count). A CLEAR
instant ends it. Suspended instants (data gap, equipment off) neither raise nor extend it; a
suspension longer than `persistence` ends it at its last fault, so a finding never claims time the
bridge could not see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from metering.events import EvidenceSample
from metering.hvac.rules import Judgement, Verdict

EVIDENCE_SAMPLES = 8  # first and last few instants of an episode: a short, readable series


@dataclass(frozen=True, slots=True)
class Step:
    ts: datetime
    judgement: Judgement
    values: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Episode:
    start: datetime
    end: datetime | None  # None: still going at the last instant judged
    fault_times: tuple[datetime, ...]
    evidence: tuple[EvidenceSample, ...]
    details: tuple[str, ...]  # rule variants seen, e.g. ("APAR 21", "APAR 22")


def _evidence(steps: list[Step]) -> tuple[EvidenceSample, ...]:
    half = EVIDENCE_SAMPLES // 2
    chosen = steps if len(steps) <= EVIDENCE_SAMPLES else steps[:half] + steps[-half:]
    return tuple(EvidenceSample(s.ts, dict(s.values)) for s in chosen)


def episodes(steps: Iterable[Step], step: timedelta, persistence: timedelta) -> list[Episode]:
    found: list[Episode] = []
    run: list[Step] = []
    last_seen: datetime | None = None  # last instant judged (fault or clear)

    def close(end: datetime | None) -> None:
        if run and step * len(run) >= persistence:
            details = tuple(sorted({s.judgement.detail for s in run if s.judgement.detail}))
            found.append(Episode(run[0].ts, end, tuple(s.ts for s in run), _evidence(run), details))
        run.clear()

    for s in steps:
        verdict = s.judgement.verdict
        if verdict is Verdict.FAULT:
            if run and last_seen is not None and s.ts - run[-1].ts > persistence:
                close(run[-1].ts + step)
            run.append(s)
            last_seen = s.ts
        elif verdict is Verdict.CLEAR:
            close(s.ts if run and s.ts - run[-1].ts <= persistence else (run[-1].ts + step if run else None))
            last_seen = s.ts
        elif run and s.ts - run[-1].ts > persistence:
            close(run[-1].ts + step)
    if run:
        close(None)
    return found
