"""The simulated BMS controller as a child process, for `run --simulate` and `make demo`.

A process of its own, like a real controller: the bridge's BMS client talks to it over loopback UDP
only. Started before the client, stopped (by its PID) after it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from types import TracebackType

from bms_bridge.bms_client.client import BmsClientError

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0  # the load model warms up its caches first


class SimulatedBmsProcess:
    def __init__(self, site_folder: Path) -> None:
        self.site_folder = site_folder
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> SimulatedBmsProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bms_bridge.simulate.bms_device",
            str(self.site_folder),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            line = b""
        if not line.startswith(b"READY"):
            err = (await self._proc.stderr.read()).decode() if self._proc.stderr else ""
            await self._stop()
            raise BmsClientError(f"the simulated BMS did not start: {err.strip()[-500:] or line!r}")
        log.info("simulated BMS %s", line.decode().strip())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        self._proc = None
