"""The aiohttp application: pages, API, static files, error mapping. `create_app` builds it; the
running service starts it through `server.WebServer`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import plotly
from aiohttp import web

from bms_bridge.web import api, billing, billing_jobs, import_jobs, openapi, pages
from bms_bridge.web.auth import (
    Handler,
    auth_middleware,
    current_user,
    is_api,
    login,
    login_form,
    logout,
    session_of,
)
from bms_bridge.web.context import CONTEXT, ServiceStats, WebContext, WebSettings, context
from bms_bridge.web.jobs import JobRegistry
from bms_bridge.web.params import BadRequest
from bms_bridge.web.queries import NotCumulative, SiteQueries
from bms_bridge.web.ratelimit import LoginLimiter
from bms_bridge.web.roles import Permission, allows
from bms_bridge.web.scope import Forbidden, NotVisible
from bms_bridge.web.statements import StatementReview
from bms_bridge.web.users import UserStore
from metering.clock import Clock, utc_now
from metering.store import Store
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
# plotly.js as bundled in the plotly Python package: served by us, so the app works offline
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # plotly.js evaluates no strings, but it sets inline styles on the SVG it draws
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain refusals become HTTP statuses: NotVisible 404 (as for an unknown id), Forbidden 403,
    bad parameters 400; JSON for the API, a page for a browser."""
    try:
        response = await handler(request)
    except NotVisible as error:
        response = _error(request, 404, str(error))
    except Forbidden as error:
        response = _error(request, 403, str(error))
    except (BadRequest, NotCumulative) as error:
        response = _error(request, 400, str(error))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        # the router's own 404/405 too: the API always answers JSON, a browser always a page
        response = _error(request, error.status, error.reason)
        for name in ("Allow", "Retry-After"):
            if name in error.headers:
                response.headers[name] = error.headers[name]
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    context(request).metrics.requests.labels(route, str(response.status)).inc()
    return response


def _error(request: web.Request, status: int, message: str) -> web.StreamResponse:
    if is_api(request):
        return web.json_response({"error": message}, status=status)
    return aiohttp_jinja2.render_template(
        "error.html", request, {"status": status, "message": message, "title": f"Error {status}"}, status=status
    )


async def _template_context(request: web.Request) -> dict[str, Any]:
    user = current_user(request)
    session = session_of(request)
    return {
        "user": user,
        "csrf_token": session.csrf_token if session else "",
        "can": (lambda name: user is not None and allows(user.role, Permission(name))),
        "site_name": context(request).site.model.site.name,
        "zone_name": context(request).site.model.site.timezone,
    }


def _quantity(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f} {unit}".replace(",", "\u202f").strip()  # thin space groups thousands


async def plotly_js(request: web.Request) -> web.FileResponse:
    return web.FileResponse(PLOTLY_JS, headers={"Cache-Control": "public, max-age=86400"})


def create_app(
    site: LoadedSite,
    store: Store,
    *,
    clock: Clock = utc_now,
    settings: WebSettings | None = None,
    users: UserStore | None = None,
    service_stats: ServiceStats | None = None,
) -> web.Application:
    settings = settings or WebSettings()
    app = web.Application(middlewares=[errors_middleware, auth_middleware], client_max_size=import_jobs.MAX_BODY)
    app[CONTEXT] = WebContext(
        site=site,
        queries=SiteQueries(site, store),
        users=users or UserStore(store.engine, clock=clock),
        clock=clock,
        settings=settings,
        limiter=LoginLimiter(clock, settings.login_max_failures, settings.login_window),
        review=StatementReview(site.model.site.id, store),
        jobs=JobRegistry(clock),
        service_stats=service_stats,
    )
    zone = site.model.site.zone
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[_template_context],
    )
    env.filters["local"] = lambda moment, fmt="%Y-%m-%d %H:%M": moment.astimezone(zone).strftime(fmt) if moment else "–"
    env.filters["qty"] = _quantity
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/static/plotly.min.js", plotly_js)
    app.router.add_static("/static/", HERE / "static")
    app.router.add_get("/api/openapi.json", openapi.document)
    app.add_routes(api.routes)
    app.add_routes(pages.routes)
    app.add_routes(billing.routes)
    app.add_routes(billing_jobs.routes)
    app.add_routes(import_jobs.routes)
    app.on_cleanup.append(_stop_jobs)
    return app


async def _stop_jobs(app: web.Application) -> None:
    await app[CONTEXT].jobs.close()
