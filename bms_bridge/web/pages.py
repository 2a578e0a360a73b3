"""Server-rendered pages (Jinja2). Charts are drawn in the browser by plotly.js from the same
/api/v1/ endpoints a script would call, so a page and its CSV download always show the same data."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bms_bridge.web.auth import scope_of, user_of
from bms_bridge.web.context import context
from bms_bridge.web.params import month, subject, time_range
from bms_bridge.web.queries import NotCumulative

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

CHARTS = {
    "load": ("Load graph", "series", 7),
    "profile": ("Consumption profile", "profile", 28),
    "heatmap": ("Heat map", "heatmap", 28),
}


@routes.get("/")
@aiohttp_jinja2.template("overview.html")
async def overview(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    data = await ctx.queries.overview(scope, ctx.clock())
    tenant = scope.tenant(scope.tenant_id) if scope.tenant_id else None
    return {"data": data, "tenant": tenant, "title": "Overview"}


@routes.get("/points")
@aiohttp_jinja2.template("points.html")
async def points(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    return {
        "points": ctx.queries.points(scope),
        "last": await ctx.queries.last_values(scope),
        "title": "Points",
    }


def _chart_page(kind: str) -> Any:
    title, endpoint, default_days = CHARTS[kind]

    @aiohttp_jinja2.template("chart.html")
    async def page(request: web.Request) -> dict[str, Any]:
        ctx, scope = context(request), scope_of(request)
        point_id = request.match_info["point_id"]
        info = ctx.queries.info(scope, point_id)  # NotVisible -> 404 before any data is read
        if kind != "load" and not info.cumulative:
            raise NotCumulative(f"{point_id} is instantaneous ({info.unit}); a {title.lower()} needs consumption")
        start, end = time_range(request.query, ctx.queries.zone, ctx.clock(), default_days=default_days)
        zone = ctx.queries.zone
        query = {"from": start.astimezone(zone).isoformat(), "to": end.astimezone(zone).isoformat()}
        data_url = f"/api/v1/points/{point_id}/{endpoint}?{urlencode(query)}"
        return {
            "title": f"{title}: {info.point.name or info.point.id}",
            "kind": kind,
            "info": info,
            "unit": info.series_unit.replace("per 15 min", "per hour") if kind == "heatmap" else info.series_unit,
            "data_url": data_url,
            "csv_url": f"{data_url}&format=csv",
            "from_day": (start.astimezone(zone)).date().isoformat(),
            "to_day": (end.astimezone(zone) - timedelta(microseconds=1)).date().isoformat(),
            "charts": CHARTS,
        }

    return page


routes.get("/points/{point_id}/load")(_chart_page("load"))
routes.get("/points/{point_id}/profile")(_chart_page("profile"))
routes.get("/points/{point_id}/heatmap")(_chart_page("heatmap"))


@routes.get("/compare")
@aiohttp_jinja2.template("compare.html")
async def compare(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    chosen = subject(request.query)
    period = month(request.query, ctx.queries.zone, ctx.clock())
    if chosen["point"] is not None:
        info = ctx.queries.info(scope, chosen["point"])
        name = info.point.name or info.point.id
    elif chosen["tenant"] is not None:
        name = scope.tenant(chosen["tenant"]).name
    else:
        name = str(chosen["resource"])
    query = {k: v for k, v in chosen.items() if v is not None}
    data_url = f"/api/v1/compare?{urlencode({**query, 'month': str(period)})}"
    return {
        "title": f"Period comparison: {name}",
        "subject": query,
        "month": str(period),
        "data_url": data_url,
        "csv_url": f"{data_url}&format=csv",
    }


@routes.get("/devices")
@aiohttp_jinja2.template("devices.html")
async def devices(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    now = ctx.clock()
    return {"devices": await ctx.queries.devices(scope, now), "now": now, "title": "Devices and mapping"}


@routes.get("/events")
@aiohttp_jinja2.template("events.html")
async def events(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    since: datetime = ctx.clock() - timedelta(days=90)
    return {"events": list(reversed(await ctx.queries.events(scope, since, None))), "title": "Events"}


@routes.get("/events/{event_id:\\d+}")
@aiohttp_jinja2.template("event.html")
async def event(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    found = await ctx.queries.event(scope, int(request.match_info["event_id"]))
    data_url = f"/api/v1/events/{found.id}"
    return {"title": found.title, "event": found, "data_url": data_url, "csv_url": f"{data_url}?format=csv"}


@routes.post("/events/{event_id:\\d+}/acknowledge")
async def acknowledge(request: web.Request) -> web.StreamResponse:
    """The form on the events page (its CSRF token is checked by the auth middleware)."""
    ctx, scope = context(request), scope_of(request)
    form = await request.post()
    comment = form.get("comment", "")
    user = user_of(request)
    event_id = int(request.match_info["event_id"])
    await ctx.queries.acknowledge(scope, event_id, user.name, ctx.clock(), comment if isinstance(comment, str) else "")
    log.info("audit: %s acknowledged event %s", user.name, event_id)
    raise web.HTTPSeeOther(f"/events/{event_id}" if form.get("back") == "event" else "/events")


@routes.get("/tenants/{tenant_id}")
@aiohttp_jinja2.template("tenant.html")
async def tenant(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    found = scope.tenant(request.match_info["tenant_id"])
    contracts = scope.contracts(found.id)
    zone = ctx.queries.zone
    start, end = time_range(request.query, zone, ctx.clock(), default_days=30)
    query = urlencode({"from": start.astimezone(zone).isoformat(), "to": end.astimezone(zone).isoformat()})
    data_url = f"/api/v1/tenants/{found.id}/breakdown?{query}"
    return {
        "tenant": found,
        "contracts": contracts,
        "infos": {p.point: ctx.queries.info(scope, p.point) for c in contracts for p in c.points},
        "title": found.name,
        "data_url": data_url,
        "csv_url": f"{data_url}&format=csv",
        "from_day": start.astimezone(zone).date().isoformat(),
        "to_day": (end.astimezone(zone) - timedelta(microseconds=1)).date().isoformat(),
        "peers_url": f"/tenants/{found.id}/peers",
    }


def _tenant_chart_page(kind: str) -> Any:
    label, _endpoint, default_days = CHARTS[kind]

    @aiohttp_jinja2.template("tenant_chart.html")
    async def page(request: web.Request) -> dict[str, Any]:
        ctx, scope = context(request), scope_of(request)
        found = scope.tenant(request.match_info["tenant_id"])
        zone = ctx.queries.zone
        start, end = time_range(request.query, zone, ctx.clock(), default_days=default_days)
        resource = request.query.get("resource") or "electricity"
        query = {
            "from": start.astimezone(zone).isoformat(),
            "to": end.astimezone(zone).isoformat(),
            "resource": resource,
        }
        data_url = f"/api/v1/tenants/{found.id}/{kind}?{urlencode(query)}"
        return {
            "title": f"{label}: {found.name}, {resource}",
            "kind": kind,
            "tenant": found,
            "resource": resource,
            "data_url": data_url,
            "csv_url": f"{data_url}&format=csv",
            "from_day": start.astimezone(zone).date().isoformat(),
            "to_day": (end.astimezone(zone) - timedelta(microseconds=1)).date().isoformat(),
        }

    return page


routes.get("/tenants/{tenant_id}/profile")(_tenant_chart_page("profile"))
routes.get("/tenants/{tenant_id}/heatmap")(_tenant_chart_page("heatmap"))


@routes.get("/tenants/{tenant_id}/peers")
@aiohttp_jinja2.template("peers.html")
async def tenant_peers(request: web.Request) -> dict[str, Any]:
    ctx, scope = context(request), scope_of(request)
    found = scope.tenant(request.match_info["tenant_id"])
    period = month(request.query, ctx.queries.zone, ctx.clock())
    resource = request.query.get("resource") or "electricity"
    data_url = f"/api/v1/tenants/{found.id}/peers?{urlencode({'month': str(period), 'resource': resource})}"
    return {
        "title": f"{found.name} against similar tenants",
        "tenant": found,
        "month": str(period),
        "resource": resource,
        "data_url": data_url,
        "csv_url": f"{data_url}&format=csv",
    }


@routes.get("/tenants")
@aiohttp_jinja2.template("tenants.html")
async def tenants(request: web.Request) -> dict[str, Any]:
    return {"tenants": scope_of(request).tenants(), "title": "Tenants"}
