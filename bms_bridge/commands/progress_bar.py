"""A rich progress bar on stderr for the long commands (import-readings, close, export, demo history).

Only when stderr is a terminal: piped or redirected output (and every `--json`, which goes to
stdout) never sees a bar or its escape codes, nor is any of its lines moved to stderr. One bar per
phase label, kept on screen when done.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from metering.progress import Progress, no_progress


class _Bars:
    def __init__(self, bars: RichProgress) -> None:
        self._bars = bars
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, done: int, total: int, label: str) -> None:
        task = self._tasks.get(label)
        if task is None:
            task = self._tasks[label] = self._bars.add_task(label, total=total)
        self._bars.update(task, completed=done, total=total)


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[Progress]:
    """A `Progress` drawing bars on `console` (default: stderr), or one that shows nothing when that
    is not a terminal."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield no_progress
        return
    bars = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        # printed lines show above the bar when stdout is the same terminal; a piped stdout is left alone
        redirect_stdout=sys.stdout.isatty(),
    )
    with bars:
        yield _Bars(bars)
