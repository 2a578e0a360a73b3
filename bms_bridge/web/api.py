"""REST API under /api/v1/: the same data as the pages, as JSON or (`format=csv`) CSV.

Every handler reads through `SiteQueries` with the caller's scope; times are ISO 8601 in the site's
zone with their offset, and every number comes with its unit.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from aiohttp import web

from bms_bridge.web.auth import scope_of, user_of
from bms_bridge.web.charts import DayProfile, local_time
from bms_bridge.web.context import context
from bms_bridge.web.csv_export import (
    breakdown_csv,
    comparison_csv,
    download,
    evidence_csv,
    heat_map_csv,
    peers_csv,
    profile_csv,
    series_csv,
)
from bms_bridge.web.params import BadRequest, max_points, month, optional_day, subject, time_range, wants_csv
from bms_bridge.web.queries import Comparison, LastValue, OverviewLine, PointInfo
from bms_bridge.web.roles import Permission
from metering.store import Event

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def _time(moment: datetime | None, request: web.Request) -> str | None:
    return moment.astimezone(context(request).queries.zone).isoformat() if moment is not None else None


def point_json(info: PointInfo) -> dict[str, Any]:
    return {
        "id": info.point.id,
        "name": info.point.name,
        "resource": info.resource,
        "unit": info.unit,
        "cumulative": info.cumulative,
        "series_unit": info.series_unit,
        "virtual": info.point.is_virtual,
    }


def last_json(last: LastValue | None, unit: str, request: web.Request) -> dict[str, Any] | None:
    if last is None:
        return None
    return {"time": _time(last.ts, request), "value": last.value, "unit": unit, "quality": last.quality}


def event_json(event: Event, request: web.Request) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "subject": event.subject,
        "severity": event.severity,
        "title": event.title,
        "started_at": _time(event.started_at, request),
        "ended_at": _time(event.ended_at, request),
        "energy": event.energy,
        "energy_unit": event.energy_unit,
        "cost": str(event.cost_exact) if event.cost_exact is not None else event.cost,
        "currency": event.currency,
        "acknowledged_by": event.acknowledgement.by if event.acknowledgement else None,
        "acknowledged_at": _time(event.acknowledgement.at, request) if event.acknowledgement else None,
        "acknowledgement_comment": event.acknowledgement.comment if event.acknowledgement else None,
    }


def _line_json(line: OverviewLine, request: web.Request) -> dict[str, Any]:
    return {
        "point": point_json(line.info),
        "share_percent": line.share,
        "today": line.today,
        "unit": line.info.unit,
        "last": last_json(line.last, line.info.unit, request),
    }


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    user = user_of(request)
    return web.json_response({"name": user.name, "role": user.role.value, "tenant": user.tenant_id})


@routes.get("/api/v1/points")
async def points(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    last = await ctx.queries.last_values(scope)
    body = []
    for info in ctx.queries.points(scope):
        item = point_json(info)
        item["last"] = last_json(last.get(info.point.id), info.unit, request)
        body.append(item)
    return web.json_response({"points": body})


@routes.get("/api/v1/points/{point_id}/series")
async def series(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    start, end = time_range(request.query, ctx.queries.zone, ctx.clock())
    limit = max_points(request.query)
    csv = wants_csv(request.query)
    point_id = request.match_info["point_id"]
    if csv:
        data = await ctx.queries.series(scope, point_id, start, end)
        unit = data.info.series_unit
        return download(series_csv(data.samples, unit, ctx.queries.zone), f"{data.info.point.id}-series.csv")
    chart = await ctx.queries.chart(scope, point_id, start, end, limit)
    shown = chart.samples
    return web.json_response(
        {
            "point": point_json(chart.info),
            "kind": chart.kind,
            "unit": chart.info.series_unit,
            "from": _time(start, request),
            "to": _time(end, request),
            "stored": chart.stored,
            "downsampled": len(shown) < chart.stored,
            "aggregated": chart.aggregated,
            "times": [local_time(ms, ctx.queries.zone).isoformat() for ms, _v, _q in shown],
            "values": [v for _ts, v, _q in shown],
            "qualities": [q for _ts, _v, q in shown],
        }
    )


@routes.get("/api/v1/points/{point_id}/profile")
async def profile(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    start, end = time_range(request.query, ctx.queries.zone, ctx.clock(), default_days=28)
    csv = wants_csv(request.query)
    data, day = await ctx.queries.profile(scope, request.match_info["point_id"], start, end)
    unit = data.info.series_unit
    if csv:
        return download(profile_csv(day, unit), f"{data.info.point.id}-profile.csv")
    return web.json_response(
        {
            "point": point_json(data.info),
            "unit": unit,
            "from": _time(start, request),
            "to": _time(end, request),
            "slots": day.slots,
            "working_day": day.working,
            "weekend_holiday": day.weekend,
            "working_days": day.working_days,
            "weekend_holiday_days": day.weekend_days,
        }
    )


@routes.get("/api/v1/points/{point_id}/heatmap")
async def heatmap(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    start, end = time_range(request.query, ctx.queries.zone, ctx.clock(), default_days=28)
    csv = wants_csv(request.query)
    data, heat = await ctx.queries.heat_map(scope, request.match_info["point_id"], start, end)
    unit = data.info.series_unit.replace("per 15 min", "per hour")
    if csv:
        return download(heat_map_csv(heat, unit), f"{data.info.point.id}-heatmap.csv")
    return web.json_response(
        {
            "point": point_json(data.info),
            "unit": unit,
            "from": _time(start, request),
            "to": _time(end, request),
            "days": [d.isoformat() for d in heat.days],
            "hours": heat.hours,
            "values": heat.values,
        }
    )


@routes.get("/api/v1/overview")
async def overview(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    data = await ctx.queries.overview(scope, ctx.clock())
    return web.json_response(
        {
            "tenant": scope.tenant_id,
            "consumption_today": [_line_json(line, request) for line in data.lines],
            "load_now": [_line_json(line, request) for line in data.load_now],
            "by_resource": [
                {"resource": resource, "today": value, "unit": unit}
                for resource, (value, unit) in sorted(data.by_resource.items())
            ],
            "devices_online": data.devices_online,
            "devices_total": data.devices_total,
            "open_events": [event_json(e, request) for e in data.open_events],
        }
    )


@routes.get("/api/v1/events")
async def events(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    zone = ctx.queries.zone
    found = await ctx.queries.events(scope, optional_day(request.query, "since", zone), None)
    return web.json_response({"events": [event_json(e, request) for e in found]})


@routes.get("/api/v1/events/{event_id:\\d+}")
async def event(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    csv = wants_csv(request.query)
    found = await ctx.queries.event(scope, int(request.match_info["event_id"]))
    if csv:
        return download(evidence_csv(found, ctx.queries.zone), f"event-{found.id}-evidence.csv")
    body = event_json(found, request)
    body["evidence"] = [
        {"time": _time(sample.ts, request), "values": dict(sorted(sample.values.items()))} for sample in found.evidence
    ]
    body["tenants"] = list(found.tenants)
    body["details"] = found.details
    return web.json_response(body)


@routes.post("/api/v1/events/{event_id:\\d+}/acknowledge")
async def acknowledge(request: web.Request) -> web.Response:
    """Body: {"comment": "..."} (JSON, optional). With a session the X-CSRF-Token header is needed."""
    ctx, scope = context(request), scope_of(request)
    comment = ""
    if request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise BadRequest('the body must be JSON, e.g. {"comment": "valve closed"}') from None
        if not isinstance(body, dict) or not isinstance(body.get("comment", ""), str):
            raise BadRequest('the body must be {"comment": "..."}')
        comment = body.get("comment", "")
    found = await ctx.queries.acknowledge(
        scope, int(request.match_info["event_id"]), user_of(request).name, ctx.clock(), comment
    )
    log.info("audit: %s acknowledged event %s (%s)", user_of(request).name, found.id, comment)
    return web.json_response(event_json(found, request))


@routes.get("/api/v1/devices")
async def devices(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    found = await ctx.queries.devices(scope, ctx.clock())
    body = []
    for device in found:
        health = device.health
        body.append(
            {
                "id": device.device_id,
                "name": device.name,
                "kind": device.kind,
                "yaml": str(device.location),
                "online": health.online if health else None,
                "last_success": _time(health.last_success, request) if health else None,
                "last_error": health.last_error if health else None,
                "error_count": health.error_count if health else None,
                "points": [
                    {
                        "id": p.info.point.id,
                        "unit": p.info.unit,
                        "status": p.status,
                        "yaml": str(p.location),
                        "last": last_json(p.last, p.info.unit, request),
                    }
                    for p in device.points
                ],
            }
        )
    return web.json_response({"devices": body})


@routes.get("/api/v1/tenants")
async def tenants(request: web.Request) -> web.Response:
    scope = scope_of(request)
    return web.json_response({"tenants": [{"id": t.id, "name": t.name} for t in scope.tenants()]})


@routes.get("/api/v1/tenants/{tenant_id}")
async def tenant(request: web.Request) -> web.Response:
    scope = scope_of(request)
    found = scope.tenant(request.match_info["tenant_id"])
    contracts = scope.contracts(found.id)
    return web.json_response(
        {
            "id": found.id,
            "name": found.name,
            "contracts": [
                {
                    "id": c.id,
                    "start": c.start.isoformat(),
                    "end": c.end.isoformat() if c.end else None,
                    "points": [{"point": p.point, "share_percent": p.share} for p in c.points],
                }
                for c in contracts
            ],
        }
    )


def comparison_json(comparisons: list[Comparison], request: web.Request) -> list[dict[str, Any]]:
    return [
        {
            "resource": c.resource,
            "unit": c.unit,
            "periods": [
                {
                    "period": v.period.label,
                    "compared_as": v.period.role,
                    "start": _time(v.period.start, request),
                    "end": _time(v.period.end, request),
                    "to_date": v.period.to_date,
                    "value": v.value,
                }
                for v in c.periods
            ],
        }
        for c in comparisons
    ]


@routes.get("/api/v1/compare")
async def compare(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    zone, now = ctx.queries.zone, ctx.clock()
    chosen, period, csv = subject(request.query), month(request.query, zone, now), wants_csv(request.query)
    found = await ctx.queries.compare(scope, period, now, **chosen)
    if csv:
        name = next(v for v in chosen.values() if v is not None)
        return download(comparison_csv(found, zone), f"{name}-{period}-comparison.csv")
    return web.json_response({"month": str(period), "comparisons": comparison_json(found, request)})


@routes.get("/api/v1/tenants/{tenant_id}/breakdown")
async def breakdown(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    start, end = time_range(request.query, ctx.queries.zone, ctx.clock(), default_days=30)
    csv = wants_csv(request.query)
    tenant_id = request.match_info["tenant_id"]
    lines = await ctx.queries.breakdown(scope, tenant_id, start, end)
    if csv:
        return download(breakdown_csv(lines), f"{tenant_id}-breakdown.csv")
    return web.json_response(
        {
            "tenant": tenant_id,
            "from": _time(start, request),
            "to": _time(end, request),
            "lines": [
                {
                    "contract": line.contract_id,
                    "point": point_json(line.info),
                    "space": line.space,
                    "share_percent": line.share,
                    "value": line.value,
                    "unit": line.info.unit,
                }
                for line in lines
            ],
        }
    )


def _profile_json(day: DayProfile) -> dict[str, Any]:
    return {
        "slots": day.slots,
        "working_day": day.working,
        "weekend_holiday": day.weekend,
        "working_days": day.working_days,
        "weekend_holiday_days": day.weekend_days,
    }


@routes.get("/api/v1/tenants/{tenant_id}/profile")
async def tenant_profile(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    start, end = time_range(request.query, ctx.queries.zone, ctx.clock(), default_days=28)
    csv, resource = wants_csv(request.query), request.query.get("resource") or "electricity"
    tenant_id = request.match_info["tenant_id"]
    unit, day = await ctx.queries.tenant_profile(scope, tenant_id, resource, start, end)
    series_unit = f"{unit} per 15 min"
    if csv:
        return download(profile_csv(day, series_unit), f"{tenant_id}-{resource}-profile.csv")
    return web.json_response(
        {
            "tenant": tenant_id,
            "resource": resource,
            "unit": series_unit,
            "from": _time(start, request),
            "to": _time(end, request),
            **_profile_json(day),
        }
    )


@routes.get("/api/v1/tenants/{tenant_id}/heatmap")
async def tenant_heatmap(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    start, end = time_range(request.query, ctx.queries.zone, ctx.clock(), default_days=28)
    csv, resource = wants_csv(request.query), request.query.get("resource") or "electricity"
    tenant_id = request.match_info["tenant_id"]
    unit, heat = await ctx.queries.tenant_heat_map(scope, tenant_id, resource, start, end)
    hour_unit = f"{unit} per hour"
    if csv:
        return download(heat_map_csv(heat, hour_unit), f"{tenant_id}-{resource}-heatmap.csv")
    return web.json_response(
        {
            "tenant": tenant_id,
            "resource": resource,
            "unit": hour_unit,
            "from": _time(start, request),
            "to": _time(end, request),
            "days": [d.isoformat() for d in heat.days],
            "hours": heat.hours,
            "values": heat.values,
        }
    )


@routes.get("/api/v1/tenants/{tenant_id}/peers")
async def peers(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    now = ctx.clock()
    period, csv = month(request.query, ctx.queries.zone, now), wants_csv(request.query)
    resource = request.query.get("resource") or "electricity"
    found = await ctx.queries.peers(scope, request.match_info["tenant_id"], period, now, resource)
    if csv:
        return download(peers_csv(found), f"{found.tenant_id}-{found.month}-peers.csv")
    return web.json_response(
        {
            "tenant": found.tenant_id,
            "use": found.use,
            "resource": found.resource,
            "unit": found.unit,
            "month": found.month,
            "withheld": found.withheld,
            "figures": [
                {"tenant": f.tenant_id, "name": f.name, "per_m2": f.per_m2, "own": f.own} for f in found.figures
            ],
        }
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    ctx, scope = context(request), scope_of(request)
    scope.require(Permission.VIEW_METRICS)
    now = ctx.clock()
    last = await ctx.queries.last_values(scope)
    ages = {point_id: (now - value.ts).total_seconds() for point_id, value in last.items()}
    outbox = Counter(entry.state.value for entry in await ctx.review.outbox.entries())
    service = ctx.service_stats() if ctx.service_stats is not None else None
    body = ctx.metrics.render(await ctx.queries.store.device_health(), ages, service, dict(outbox))
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
