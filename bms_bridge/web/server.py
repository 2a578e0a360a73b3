"""The web app as one `async with` part of the running service: bind, serve, stop."""

from __future__ import annotations

import logging
from types import TracebackType

from aiohttp import web

from bms_bridge.web.app import create_app
from bms_bridge.web.context import ServiceStats
from metering.clock import Clock
from metering.store import Store
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)


class WebServer:
    def __init__(
        self, site: LoadedSite, store: Store, clock: Clock, *, service_stats: ServiceStats | None = None
    ) -> None:
        self._site = site
        self._app = create_app(site, store, clock=clock, service_stats=service_stats)
        self._runner: web.AppRunner | None = None
        self.url = f"http://{site.model.web.host}:{site.model.web.port}"

    async def __aenter__(self) -> WebServer:
        settings = self._site.model.web
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, settings.host, settings.port).start()
        except OSError:
            await self._runner.cleanup()
            raise
        log.info("web app on %s", self.url)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
