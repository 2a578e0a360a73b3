"""What every handler of the web app shares, stored on the aiohttp application under `CONTEXT`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web

from bms_bridge.web.jobs import JobRegistry
from bms_bridge.web.metrics import WebMetrics
from bms_bridge.web.queries import SiteQueries
from bms_bridge.web.ratelimit import LoginLimiter
from bms_bridge.web.statements import StatementReview
from bms_bridge.web.users import UserStore
from metering.clock import Clock
from point_mapping.loader import LoadedSite

ServiceStats = Callable[[], Mapping[str, float]]  # the running service's counters, read at scrape time


@dataclass(frozen=True)
class WebSettings:
    # Secure cookies travel over HTTPS only; browsers also accept them from http://127.0.0.1 and
    # http://localhost, which they treat as secure origins. Turn off only behind a plain-HTTP proxy.
    secure_cookies: bool = True
    session_ttl: timedelta = timedelta(hours=12)
    login_max_failures: int = 5  # per client address and user name within `login_window`
    login_window: timedelta = timedelta(minutes=15)


@dataclass
class WebContext:
    site: LoadedSite
    queries: SiteQueries
    users: UserStore
    clock: Clock
    settings: WebSettings
    limiter: LoginLimiter
    review: StatementReview
    jobs: JobRegistry
    metrics: WebMetrics = field(default_factory=WebMetrics)
    service_stats: ServiceStats | None = None


CONTEXT = web.AppKey("bms_bridge_web", WebContext)


def context(request: web.Request) -> WebContext:
    return request.app[CONTEXT]
