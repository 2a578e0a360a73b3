"""The site's points as the BMS sees them: names an operator understands, units, stable identifiers."""

from __future__ import annotations

from datetime import date, timedelta

from bms_bridge.exposure.points import ExposedPoint
from metering.operating_range import operating_range
from point_mapping.formula import evaluation_order, parse_formula
from point_mapping.loader import LoadedSite
from point_mapping.model import Point, SiteModel
from point_mapping.registers import point_measure

COMMON = "Common areas"
SHARED = "Shared"


def tenant_of(site: SiteModel, point_id: str, on: date) -> str:
    """The tenant name a point belongs to on a day: the one contract in force billing it, else shared/common."""
    holders = {
        site.tenant_by_id[c.tenant].name
        for c in site.contracts
        if c.start <= on and (c.end is None or on <= c.end) and any(cp.point == point_id for cp in c.points)
        if c.tenant in site.tenant_by_id
    }
    if len(holders) == 1:
        return holders.pop()
    return SHARED if holders else COMMON


def _building_of(site: SiteModel, point: Point) -> str:
    """The building a point's space (or its meter's) is in; a virtual point without a space belongs to
    the one building all its inputs are in (common areas = main − tenants of one building), and only a
    point spanning buildings, or placed nowhere, to the site itself."""
    if point.space is None and point.formula is not None:
        buildings = {_building_of(site, site.point_by_id[i]) for i in parse_formula(point.formula).dependencies}
        return buildings.pop() if len(buildings) == 1 else site.site.name
    meter = site.meter_by_id.get(point.meter or "")
    space = point.space or (meter.space if meter else None)
    building = site.building_of_space.get(space or "")
    return building.name if building else site.site.name


def exposed_points(site: LoadedSite, on: date) -> list[ExposedPoint]:
    """One descriptor per exposed point, in YAML order."""
    model = site.model
    result = []
    for point in model.points:
        if not point.exposure.enabled:
            continue
        measure = point_measure(model, point, site.profiles)
        if measure is None:  # cannot happen for a loaded site; keeps the type checker honest
            continue
        meter = model.meter_by_id.get(point.meter or "")
        building, tenant = _building_of(model, point), tenant_of(model, point.id, on)
        meter_label = meter.id if meter else "Virtual"
        what = point.name or (point.register_name or "").replace("_", " ") or "virtual total"
        description = f"{what} — {meter_label}"
        if meter is not None and meter.model:
            description += f" ({meter.model})"
        description += f", {tenant}, {building}"
        device = model.device_by_id.get(meter.device) if meter else None
        profile = site.profiles.get(device.profile or "") if device else None
        kind = point.exposure.bacnet_object or ("large-analog-value" if measure.cumulative else "analog-input")
        result.append(
            ExposedPoint(
                point_id=point.id,
                name=f"{building}.{tenant}.{meter_label}.{point.id}"[:200],
                description=description[:250],
                unit=measure.unit,
                cumulative=measure.cumulative,
                bacnet_object=kind,
                bacnet_instance=site.identifiers.bacnet_instance[point.id],
                opcua_node_id=site.identifiers.opcua_node_id[point.id],
                path=(model.site.name, building, tenant, meter_label),
                cov_increment=point.exposure.cov_increment or 0.0,
                out_of_service=bool(meter and meter.out_of_service),
                writable=point.exposure.writable,
                eu_range=operating_range(point, meter, profile, measure),
                # virtual points have intervals, not readings: no Trend Log of their own
                trend_log=point.exposure.trend_log and not point.is_virtual,
            )
        )
    return result


def devices_of_points(site: LoadedSite) -> dict[str, frozenset[str]]:
    """The devices each point's value depends on; a virtual point depends on all its inputs' devices."""
    model = site.model
    found: dict[str, frozenset[str]] = {
        p.id: frozenset({model.meter_by_id[p.meter].device}) for p in model.points if p.meter in model.meter_by_id
    }
    formulas = {p.id: parse_formula(p.formula) for p in model.points if p.formula is not None}
    for point_id in evaluation_order(formulas):
        found[point_id] = frozenset().union(*(found.get(i, frozenset()) for i in formulas[point_id].dependencies))
    return found


def stale_thresholds(site: LoadedSite) -> dict[str, timedelta | None]:
    """How old each point's value may get before it is flagged stale; None: never (read by hand).

    A point's own `exposure.stale_after` wins, then its device's `stale_after`, then a site-wide
    `exposure.stale_after`, else `exposure.stale_factor` × the device's poll or report interval: an
    hourly LPWAN meter is fresh for three hours, a 30 s Modbus meter for 90 s. A virtual point is as
    patient as its slowest input (its value is as old as its oldest input).
    """
    model = site.model
    exposure = model.exposure

    def of_device(device_id: str) -> timedelta | None:
        device = model.device_by_id[device_id]
        if device.stale_after is not None:
            return device.stale_after
        if exposure.stale_after is not None:
            return exposure.stale_after
        interval = device.report_interval
        return None if interval is None else interval * exposure.stale_factor

    found: dict[str, timedelta | None] = {}
    for point_id, devices in devices_of_points(site).items():
        point = model.point_by_id[point_id]
        if point.exposure.stale_after is not None:
            found[point_id] = point.exposure.stale_after
            continue
        limits = [of_device(d) for d in devices if d in model.device_by_id]
        # one input read by hand (no rhythm) makes the total unknowable in age terms too
        found[point_id] = None if not limits or None in limits else max(x for x in limits if x is not None)
    return found
