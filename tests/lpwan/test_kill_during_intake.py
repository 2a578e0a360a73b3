"""Nothing acknowledged is lost: `kill -9` the real service right after it answered uplinks, restart it.

The service runs as a separate process (`bms-bridge run`) on a small LPWAN site. A sender posts uplinks
one after the other, as a network server does, and records each frame answered 2xx; the process is killed
with SIGKILL right after an answer, several times, and each time restarted. The network server then
redelivers what was not acknowledged. At the end every acknowledged frame is in the store, once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from metering.store import Store
from tests.lpwan.messages import chirpstack_up, water_payload
from tests.lpwan.sites import TOKEN_ENV, WATER_EUI, write_site
from tests.support.services import free_tcp_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SECRET = "kill-test-token"
T0 = datetime(2026, 11, 30, tzinfo=UTC)


async def _start(site: Path, db: str) -> asyncio.subprocess.Process:
    env = {**os.environ, TOKEN_ENV: SECRET}
    return await asyncio.create_subprocess_exec(
        str(BIN / "bms-bridge"), "--db", db, "run", str(site),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env,
    )  # fmt: skip


async def _wait_listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            await asyncio.sleep(0.1)
    pytest.fail(f"the service did not listen on {port}")


async def _post(http: aiohttp.ClientSession, url: str, f_cnt: int) -> int | None:
    stamp = (T0 + timedelta(minutes=15 * f_cnt)).isoformat().replace("+00:00", "Z")
    body = json.dumps(chirpstack_up(WATER_EUI, f_cnt, water_payload(1000 + 10 * f_cnt, 2000), stamp)).encode()
    try:
        async with http.post(
            url, data=body, params={"event": "up"}, headers={"Authorization": f"Bearer {SECRET}"}
        ) as response:
            return response.status
    except aiohttp.ClientError:
        return None


async def test_every_acknowledged_uplink_survives_kill_9(tmp_path: Path) -> None:
    port = free_tcp_port()
    webhook = f"webhook: {{port: {port}, path: /up, auth: {{kind: token, secret_env: {TOKEN_ENV}}}}}\n"
    site = tmp_path / "site"
    write_site(site, webhook=webhook)
    db = f"sqlite:///{tmp_path / 'state.db'}"
    url = f"http://127.0.0.1:{port}/up"
    acknowledged: set[int] = set()
    pending: list[int] = []  # sent but not acknowledged: the network server will redeliver them
    next_frame = 1
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        for cycle, burst in enumerate((7, 12, 3, 9, 5)):
            proc = await _start(site, db)
            try:
                await _wait_listening(port)
                for f_cnt in [*pending, *range(next_frame, next_frame + burst)]:
                    status = await _post(http, url, f_cnt)
                    if status is not None and 200 <= status < 300:
                        acknowledged.add(f_cnt)
                        pending = [p for p in pending if p != f_cnt]
                    elif f_cnt not in pending:
                        pending.append(f_cnt)
                next_frame += burst
                # one more in flight while the process dies (it may or may not be answered)
                in_flight = asyncio.create_task(_post(http, url, next_frame))
                await asyncio.sleep(0.001 * cycle)
            finally:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
            status = await in_flight
            if status is not None and 200 <= status < 300:
                acknowledged.add(next_frame)
            else:
                pending.append(next_frame)
            next_frame += 1
        proc = await _start(site, db)  # the network server redelivers the rest once the service is back
        try:
            await _wait_listening(port)
            for f_cnt in list(pending):
                assert await _post(http, url, f_cnt) == 200
                acknowledged.add(f_cnt)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
    async with Store.open(db) as store:
        stored = await store.readings("WM-1.volume", T0, T0 + timedelta(days=30))
    stored_frames = sorted(round((r.ts - T0) / timedelta(minutes=15)) for r in stored)
    assert stored_frames == sorted(acknowledged)
    assert len(acknowledged) == next_frame - 1
