"""The owner's yearly report, read from the store: figures per building and resource, the site, measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bms_bridge.savings.inputs import SavingsInputError, cumulative_points, local_start, read_series
from bms_bridge.savings.measures import MeasureResult, judge_measure
from metering.readings import Interval
from metering.savings.report import ResourceFigures, ResourceInput, co2e_total, resource_figures
from metering.savings.scope import building_points
from metering.store import Store
from point_mapping.loader import LoadedSite
from point_mapping.model import EmissionFactor
from point_mapping.model.meters import Resource


@dataclass(frozen=True)
class YearReport:
    site_id: str
    site_name: str
    year: int
    data_until: date | None  # the last day with data; the current year is reported up to it
    buildings: tuple[tuple[str, str, float], ...]  # (id, name, area m²)
    figures: tuple[ResourceFigures, ...]  # per building and resource
    site_figures: tuple[ResourceFigures, ...]  # per resource, all buildings
    measures: tuple[MeasureResult, ...]
    generated_at: datetime
    factors: tuple[EmissionFactor, ...] = ()

    def as_json(self) -> dict[str, Any]:
        co2e, missing = co2e_total(self.site_figures)
        return {
            "site": self.site_id,
            "name": self.site_name,
            "year": self.year,
            "data_until": self.data_until.isoformat() if self.data_until else None,
            "generated_at": self.generated_at.isoformat(),
            "method": "location-based CO2e; savings per ASHRAE Guideline 14 (docs/savings.md)",
            "buildings": [
                {
                    "id": building_id,
                    "name": name,
                    "area_m2": area,
                    "resources": [f.as_json() for f in self.figures if f.building == building_id],
                }
                for building_id, name, area in self.buildings
            ],
            "site_total": {
                "area_m2": sum(area for _, _, area in self.buildings),
                "resources": [f.as_json() for f in self.site_figures],
                "co2e_kg": round(co2e, 1),
                "co2e_missing_factors": missing,
            },
            "measures": [m.as_json(self.factors) for m in self.measures],
        }


async def year_report(site: LoadedSite, store: Store, year: int, now: datetime) -> YearReport:
    model = site.model
    zone = model.site.zone
    span = await store.reading_span()
    last_day = min(span[1], now).astimezone(zone).date() if span else None
    if last_day is not None and year > last_day.year:
        raise SavingsInputError(f"there is no data for {year} yet: the stored readings end on {last_day}")
    end_day = date(year, 12, 31) if last_day is None else min(date(year, 12, 31), last_day)
    last_month = end_day.month if end_day.year == year else 12
    start, end = local_start(site, date(year - 1, 1, 1)), local_start(site, end_day + timedelta(days=1))
    units = cumulative_points(site)
    figures: list[ResourceFigures] = []
    per_resource: dict[Resource, list[tuple[list[list[Interval]], list[str], str]]] = {}
    for building in model.buildings:
        for resource, point_ids in building_points(model, building.id, units).items():
            series = await read_series(store, point_ids, start, end)
            unit = units[point_ids[0]]
            item = ResourceInput(building.id, resource, unit, building.area_m2, tuple(point_ids), series)
            figures.append(resource_figures(item, year, zone, model.emission_factors, last_month))
            per_resource.setdefault(resource, []).append((series, point_ids, unit))
    site_area = sum(b.area_m2 for b in model.buildings)
    site_figures = []
    for resource, parts in per_resource.items():
        units_seen = {unit for _, _, unit in parts}
        if len(units_seen) != 1:
            continue  # main points in different units are not summed (kWh and MWh): per building only
        series = [s for part, _, _ in parts for s in part]
        ids = tuple(p for _, point_ids, _ in parts for p in point_ids)
        item = ResourceInput(None, resource, parts[0][2], site_area, ids, series)
        site_figures.append(resource_figures(item, year, zone, model.emission_factors, last_month))
    measures: list[MeasureResult] = []
    # the last day with data is still being written to; a year that is over ends on 31 December
    until = end_day - timedelta(days=1) if last_day is not None and end_day >= last_day else end_day
    for measure in sorted(model.measures, key=lambda m: (m.date, m.id)):
        if measure.date <= date(year, 12, 31):
            measures.extend(await judge_measure(site, store, measure, until, units, since=date(year, 1, 1)))
    return YearReport(
        model.site.id,
        model.site.name,
        year,
        last_day,
        tuple((b.id, b.name, b.area_m2) for b in model.buildings),
        tuple(figures),
        tuple(site_figures),
        tuple(measures),
        now,
        tuple(model.emission_factors),
    )
