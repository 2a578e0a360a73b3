"""Long operations started from the web app (a period's close, an export) as background jobs.

A job runs as an asyncio task of the web app's process and reports through `metering.progress`; the
page polls GET /api/v1/jobs/{id}. Jobs live in memory only (one process per site): a restart forgets
them, the statements and the audit log they wrote stay in the database. The newest `KEEP` finished
jobs are kept; running ones are cancelled when the app stops.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metering.clock import Clock
from metering.progress import Progress

log = logging.getLogger(__name__)

KEEP = 50


@dataclass(frozen=True)
class JobFile:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    file: JobFile | None = None


Work = Callable[[Progress], Awaitable[Outcome]]


@dataclass
class Job:
    id: str
    kind: str
    period: str
    started_by: str
    started_at: datetime
    state: str = "running"  # running, done, failed
    done: int = 0
    total: int = 0
    label: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    finished_at: datetime | None = None
    file: JobFile | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def report(self, done: int, total: int, label: str) -> None:
        self.done, self.total, self.label = done, total, label

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class JobRegistry:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._jobs: dict[str, Job] = {}

    def start(self, kind: str, period: str, by: str, work: Work) -> Job:
        job = Job(secrets.token_urlsafe(12), kind, period, by, self._clock())
        self._jobs[job.id] = job
        job.task = asyncio.get_running_loop().create_task(self._run(job, work), name=f"job {kind} {period}")
        self._forget_old()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def wait(self, job_id: str) -> Job:
        """The job once it has finished (tests and callers that need the result)."""
        job = self._jobs[job_id]
        if job.task is not None:
            await asyncio.shield(job.task)
        return job

    async def _run(self, job: Job, work: Work) -> None:
        try:
            outcome = await work(job.report)
        except asyncio.CancelledError:
            job.state, job.error = "failed", "stopped with the web app"
            raise
        except ValueError as error:  # refusals (a month not over, not closed): one sentence, as the CLI says it
            job.state, job.error = "failed", str(error)
        except Exception as error:
            log.exception("job %s %s %s failed", job.kind, job.period, job.id)
            job.state, job.error = "failed", f"internal error ({type(error).__name__}); see the service log"
        else:
            job.result, job.file, job.state = outcome.result, outcome.file, "done"
            job.total = job.total or 1  # a job of no steps (nothing to close) is still complete
            job.done = job.total
        finally:
            job.finished_at = self._clock()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in finished[: max(0, len(finished) - KEEP)]:
            del self._jobs[job.id]

    async def close(self) -> None:
        running = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
