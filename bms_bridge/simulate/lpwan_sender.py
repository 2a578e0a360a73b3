"""The demo's LPWAN network server: posts each simulated meter's uplink to the site's own webhook.

It signs the body as the webhook expects (HMAC-SHA256 or a bearer token from the environment variable the
YAML names) and posts a ChirpStack v4 `?event=up` message once per expected interval of each device.
Re-posting within an interval repeats the same frame counter, which the intake drops as a duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType

import aiohttp

from bms_bridge.simulate.load_model import EPOCH, LoadModel
from bms_bridge.simulate.lpwan_uplinks import uplink
from bms_bridge.tasks import cancel_and_wait
from point_mapping.loader import LoadedSite
from point_mapping.model import LpwanConnection

log = logging.getLogger(__name__)


class SimulatedLpwan:
    def __init__(
        self,
        site: LoadedSite,
        model: LoadModel,
        clock: Callable[[], datetime],
        *,
        period: float = 30.0,
        timeout: float = 10.0,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        webhook = site.model.lpwan.webhook
        if webhook is None:
            raise ValueError("the site has no lpwan webhook to post simulated uplinks to")
        self._site, self._model, self._clock, self._period = site, model, clock, period
        self._timeout = timeout
        self._url = f"http://{webhook.host}:{webhook.port}{webhook.path}?event=up"
        self._auth = webhook.auth
        self._secret = environ.get(webhook.auth.secret_env, "").encode()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    async def __aenter__(self) -> SimulatedLpwan:
        self._task = asyncio.create_task(self._run(), name="simulated-lpwan")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await cancel_and_wait(self._task)

    def _headers(self, body: bytes) -> dict[str, str]:
        if self._auth.kind == "hmac-sha256":
            signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            return {self._auth.header or "X-Signature": signature}
        return {self._auth.header or "Authorization": f"Bearer {self._secret.decode()}"}

    async def send_once(self, session: aiohttp.ClientSession) -> None:
        now = self._clock()
        for device in self._site.model.devices:
            if not device.enabled or not isinstance(device.connection, LpwanConnection):
                continue
            step = device.connection.expected_interval
            sent_at = EPOCH + step * ((now - EPOCH) // step)  # the last boundary the device reported at
            body = json.dumps(uplink(self._site.model, self._model, device, sent_at).payload).encode()
            headers = {"Content-Type": "application/json", **self._headers(body)}
            async with session.post(self._url, data=body, headers=headers) as response:
                if response.status != 200:
                    log.warning("webhook refused simulated uplink of %s: %s", device.id, await response.text())
                else:
                    self.sent += 1

    async def _run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout)) as session:
            while True:
                try:
                    await self.send_once(session)
                except (aiohttp.ClientError, TimeoutError) as exc:  # aiohttp's total timeout is a bare TimeoutError
                    log.warning("simulated LPWAN uplinks not delivered: %r", exc)
                except Exception:  # one bad round must not end the demo's wireless meters
                    log.exception("simulated LPWAN uplinks failed")
                await asyncio.sleep(self._period)
