"""Progress of long operations (history fill, CSV import, close, export), reported as it goes.

A long operation takes an optional `Progress`: any callable given `(done, total, label)` after each
step, `label` naming the phase ("checking rows", "closing 2026-11"). A phase reports `done == 0`
first so the caller can show it started; it ends with `done == total`. Who listens decides how to
show it (a rich bar on a terminal, a job the web page polls); the core knows none of them.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int, label: str) -> None: ...


def no_progress(done: int, total: int, label: str) -> None:
    """The default listener: nobody is watching."""


class Steps:
    """Counts the steps of one phase and reports each to `progress`."""

    def __init__(self, progress: Progress | None, total: int, label: str) -> None:
        self.progress = progress or no_progress
        self.total = max(total, 0)
        self.label = label
        self.done = 0
        self.progress(0, self.total, label)

    def step(self, count: int = 1) -> None:
        self.done = min(self.done + count, self.total)
        self.progress(self.done, self.total, self.label)

    def finish(self) -> None:
        """The phase is over (steps that turned out to need no work count as done)."""
        if self.done < self.total:
            self.done = self.total
            self.progress(self.done, self.total, self.label)


__all__ = ["Progress", "Steps", "no_progress"]
