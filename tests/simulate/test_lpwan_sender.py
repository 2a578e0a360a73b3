"""The demo's simulated network server against a webhook peer on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.simulate.lpwan_sender import SimulatedLpwan
from bms_bridge.sites import open_site
from tests.service.demo_copy import demo_copy


async def test_a_webhook_that_answers_too_late_does_not_end_the_sender(tmp_path: Path) -> None:
    site = open_site(demo_copy(tmp_path / "demo"))
    hook = site.model.lpwan.webhook
    assert hook is not None
    posts = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal posts
        posts += 1
        await request.read()
        await asyncio.sleep(1.0)  # longer than the sender's timeout
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(hook.path, slow)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", hook.port).start()
        sender = SimulatedLpwan(
            site, LoadModel(site.model), lambda: datetime.now(UTC), period=0.05, timeout=0.1, environ={}
        )
        async with sender:
            for _ in range(100):
                if posts >= 3:
                    break
                await asyncio.sleep(0.05)
            assert sender._task is not None and not sender._task.done()
        assert posts >= 3  # it kept trying after the first timeout
    finally:
        await runner.cleanup()
