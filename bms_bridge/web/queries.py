"""The web app's query layer: every read of stored data for a page, an API call or a download.

Each method takes the caller's `Scope` first and asks it which points and which time windows it may
read before touching the store, so no page or endpoint can reach data its user may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from billing_export.period import Period
from billing_export.store import StatementStore
from billing_export.tariff_calendar import public_holidays
from bms_bridge.exposure.build import stale_thresholds
from bms_bridge.web.charts import DayProfile, HeatMap, Sample, day_profile, downsample, heat_map
from bms_bridge.web.params import BadRequest
from bms_bridge.web.peers import MIN_PEERS, tenants_in_month
from bms_bridge.web.periods import ComparedPeriod, compared_periods
from bms_bridge.web.roles import Permission
from bms_bridge.web.scope import FOREVER, NotVisible, Scope, Window, lease_window
from metering.consumption import is_cumulative
from metering.events import Acknowledgement
from metering.health import DeviceHealth
from metering.quality import worst_of
from metering.readings import Quality
from metering.store import Event, Store
from metering.store.chart_rows import bucket_extremes, interval_rows, interval_sum, reading_rows, row_span
from metering.store.rollups import HOUR_MS
from point_mapping.errors import Location
from point_mapping.loader import LoadedSite
from point_mapping.model import Point
from point_mapping.registers import point_measure

EXACT_UP_TO = 50_000  # values downsampled exactly in Python; a year of 15-minute intervals is 35,040
AGGREGATED = "aggregated"  # quality of a chart point that stands for a bucket's minimum or maximum


class NotCumulative(ValueError):
    """A profile or heat map was asked of an instantaneous point (power, temperature)."""


@dataclass(frozen=True)
class PointInfo:
    point: Point
    unit: str
    resource: str
    cumulative: bool  # a running total: charts show its 15-minute consumption

    @property
    def series_unit(self) -> str:
        return f"{self.unit} per 15 min" if self.cumulative else self.unit


@dataclass(frozen=True)
class Series:
    info: PointInfo
    kind: Literal["consumption", "reading"]
    samples: list[Sample]


@dataclass(frozen=True)
class ChartSeries:
    info: PointInfo
    kind: Literal["consumption", "reading"]
    samples: list[Sample]  # at most the points asked for
    stored: int  # values stored in the range
    aggregated: bool  # extremes per time bucket computed in SQL (quality "aggregated")


@dataclass(frozen=True)
class LastValue:
    point_id: str
    ts: datetime
    value: float
    quality: str


@dataclass(frozen=True)
class OverviewLine:
    info: PointInfo
    share: float  # percent billed to the tenant (100 for the whole site)
    today: float | None  # consumption today so far, share applied, in `info.unit`
    last: LastValue | None


@dataclass(frozen=True)
class Overview:
    lines: list[OverviewLine]
    load_now: list[OverviewLine]  # instantaneous power of the main meters
    by_resource: dict[str, tuple[float, str]]  # resource -> (today's consumption, unit)
    devices_online: int | None  # None: not for this user
    devices_total: int | None
    open_events: list[Event]


@dataclass(frozen=True)
class PointStatus:
    info: PointInfo
    location: Location
    device_id: str | None
    last: LastValue | None
    status: str  # "ok", "stale", "no data", "virtual"


@dataclass(frozen=True)
class DeviceStatus:
    device_id: str
    name: str
    kind: str
    location: Location
    health: DeviceHealth | None
    points: list[PointStatus]


@dataclass(frozen=True)
class Term:
    """Part of a sum: `share` percent of a point's consumption inside `window`."""

    point_id: str
    share: float
    window: Window


@dataclass(frozen=True)
class PeriodValue:
    period: ComparedPeriod
    value: float | None  # None: nothing stored in the span


@dataclass(frozen=True)
class Comparison:
    resource: str
    unit: str
    periods: list[PeriodValue]


@dataclass(frozen=True)
class BreakdownLine:
    info: PointInfo
    contract_id: str
    space: str | None
    share: float
    value: float | None  # consumption in the range within the lease, share applied


@dataclass(frozen=True)
class PeerFigure:
    tenant_id: str | None  # None: a peer this user may not name
    name: str | None
    per_m2: float | None  # None: nothing stored for it in the month
    own: bool


@dataclass(frozen=True)
class PeerComparison:
    tenant_id: str
    use: str | None  # None: no lease in force in the month
    resource: str
    unit: str
    month: str
    figures: list[PeerFigure]  # sorted, lowest first
    withheld: bool  # too few similar tenants to show a tenant anything but itself


class SiteQueries:
    def __init__(self, site: LoadedSite, store: Store) -> None:
        self.site = site
        self.store = store
        self.zone = site.model.site.zone

    # -- points -----------------------------------------------------------------------------------

    def info(self, scope: Scope, point_id: str) -> PointInfo:
        point = scope.point(point_id)
        model = self.site.model
        measure = point_measure(model, point, self.site.profiles)
        unit = measure.unit if measure else (point.unit or "")
        return PointInfo(point, unit, model.resource_of(point).value, is_cumulative(self.site, point))

    def points(self, scope: Scope) -> list[PointInfo]:
        return [self.info(scope, p.id) for p in scope.points()]

    async def series(self, scope: Scope, point_id: str, start: datetime, end: datetime) -> Series:
        """15-minute consumption of a cumulative point, or the readings of an instantaneous one,
        within [start, end) and the scope's windows."""
        info = self.info(scope, point_id)
        samples: list[Sample] = []
        rows = interval_rows if info.cumulative else reading_rows
        for lo, hi in scope.clip(point_id, start, end):
            samples += await rows(self.store, point_id, lo, hi)
        return Series(info, "consumption" if info.cumulative else "reading", samples)

    async def chart(self, scope: Scope, point_id: str, start: datetime, end: datetime, max_points: int) -> ChartSeries:
        """`series` downsampled to at most `max_points`: exactly in Python (every extreme at its own time)
        up to EXACT_UP_TO stored values, beyond that as minimum and maximum per bucket from SQL, both at
        the bucket's middle, so a year of minute readings never crosses into Python row by row."""
        info = self.info(scope, point_id)
        kind: Literal["consumption", "reading"] = "consumption" if info.cumulative else "reading"
        table = "intervals" if info.cumulative else "readings"
        windows = scope.clip(point_id, start, end)
        spans = [(window, await row_span(self.store, table, point_id, *window)) for window in windows]
        stored = sum(span[0] for _window, span in spans)
        present = [span for _window, span in spans if span[0]]
        first = min((s[1] for s in present), default=0)
        last = max((s[2] for s in present), default=0)
        width = max(1, -(-(last - first + 1) // max(1, (max_points - 2) // 2)))  # ceiling division
        # intervals in buckets of an hour or more come from the roll-ups (a year by day: 365 rows)
        rolled = table == "intervals" and stored > max_points and width >= HOUR_MS
        if stored <= EXACT_UP_TO and not rolled:
            series = await self.series(scope, point_id, start, end)
            return ChartSeries(info, kind, downsample(series.samples, max_points), stored, False)
        samples: list[Sample] = []
        for (lo, hi), (count, _first, _last) in spans:
            if not count:
                continue
            for a, b, low, high in await bucket_extremes(self.store, table, point_id, lo, hi, width):
                middle = (a + b) // 2
                samples.append((middle, low, AGGREGATED))
                if high != low:
                    samples.append((middle, high, AGGREGATED))
        # windows cut buckets at lease boundaries: a last pass keeps the promise of max_points
        return ChartSeries(info, kind, downsample(samples, max_points), stored, True)

    async def _consumption(self, scope: Scope, point_id: str, start: datetime, end: datetime) -> Series:
        series = await self.series(scope, point_id, start, end)
        if not series.info.cumulative:
            raise NotCumulative(f"{point_id} is instantaneous ({series.info.unit}); this chart needs consumption")
        return series

    async def profile(self, scope: Scope, point_id: str, start: datetime, end: datetime) -> tuple[Series, DayProfile]:
        series = await self._consumption(scope, point_id, start, end)
        return series, day_profile(series.samples, self.zone, self._day_off(start, end))

    def _day_off(self, start: datetime, end: datetime) -> Callable[[date], bool]:
        """Weekends and the site's public holidays."""
        model = self.site.model.site
        years = range(start.astimezone(self.zone).year, end.astimezone(self.zone).year + 1)
        days_off = public_holidays(model.holidays_country, model.holidays_subdivision, years)

        def is_day_off(day: date) -> bool:
            return day.weekday() >= 5 or day in days_off

        return is_day_off

    async def heat_map(self, scope: Scope, point_id: str, start: datetime, end: datetime) -> tuple[Series, HeatMap]:
        series = await self._consumption(scope, point_id, start, end)
        return series, heat_map(series.samples, self.zone)

    async def last_values(self, scope: Scope) -> dict[str, LastValue]:
        """Each visible point's latest reading, if the user may see the point at that moment."""
        latest = await self.store.last_readings()
        values = {}
        for point in scope.points():
            reading = latest.get(point.id)
            if reading is not None and scope.visible_at(point.id, reading.ts):
                values[point.id] = LastValue(point.id, reading.ts, reading.value, reading.quality.value)
        return values

    # -- overview ---------------------------------------------------------------------------------

    def _main_points(self, scope: Scope) -> list[tuple[Point, float]]:
        """Every point of a main meter (one that is nobody's sub-meter)."""
        model = self.site.model
        mains = {m.id for m in model.meters if m.submeter_of is None}
        return [(p, 100.0) for p in model.points if p.meter in mains]

    def _overview_terms(self, scope: Scope, now: datetime) -> list[tuple[Point, float, list[Term]]]:
        """(point, share shown, terms): the site's main points; for a tenant, its contracts' points, each
        with the share of the contract in force now (or last) and every contract's term."""
        if scope.tenant_id is None:
            return [(p, share, [Term(p.id, share, FOREVER)]) for p, share in self._main_points(scope)]
        grouped: dict[str, list[Term]] = {}
        for term in self._tenant_terms(scope, scope.tenant_id):
            grouped.setdefault(term.point_id, []).append(term)
        result = []
        for point_id, terms in grouped.items():
            current = next((t for t in terms if t.window[0] <= now < t.window[1]), terms[-1])
            result.append((scope.point(point_id), current.share, terms))
        return result

    async def overview(self, scope: Scope, now: datetime) -> Overview:
        midnight = datetime.combine(now.astimezone(self.zone).date(), datetime.min.time(), tzinfo=self.zone)
        last = await self.last_values(scope)
        lines, load = [], []
        by_resource: dict[str, tuple[float, str]] = {}
        for point, share, terms in self._overview_terms(scope, now):
            info = self.info(scope, point.id)
            if info.cumulative:
                parts = [await self._sum(scope, term, midnight.astimezone(UTC), now) for term in terms]
                present = [p for p in parts if p is not None]
                today = sum(present) if present else None
                lines.append(OverviewLine(info, share, today, last.get(point.id)))
                if today is not None:
                    total, _unit = by_resource.get(info.resource, (0.0, info.unit))
                    by_resource[info.resource] = (total + today, info.unit)
            elif info.unit == "kW":
                load.append(OverviewLine(info, share, None, last.get(point.id)))
        online = total_devices = None
        if scope.allows(Permission.VIEW_DEVICES):
            health = await self.store.device_health()
            online, total_devices = sum(h.online for h in health), len(self.site.model.devices)
        events = [scope.redact_event(e) for e in await self.store.open_events() if scope.sees_event(e)]
        return Overview(lines, load, by_resource, online, total_devices, events)

    # -- period comparison and tenant breakdown --------------------------------------------------

    async def _sum(self, scope: Scope, term: Term, start: datetime, end: datetime) -> float | None:
        lo, hi = max(start, term.window[0]), min(end, term.window[1])
        if lo >= hi:
            return None
        series = await self.series(scope, term.point_id, lo, hi)
        if not series.samples:
            return None
        return sum(s[1] for s in series.samples) * term.share / 100

    def _tenant_terms(self, scope: Scope, tenant_id: str) -> list[Term]:
        zone = self.zone
        return [
            Term(share.point, share.share, lease_window(contract, zone))
            for contract in scope.contracts(tenant_id)
            for share in contract.points
        ]

    def _terms(self, scope: Scope, *, point: str | None, tenant: str | None, resource: str | None) -> list[Term]:
        """What a comparison adds up: one point; a tenant's contract points with shares, within its
        leases; or a resource: the site's main meters (a tenant user: its own points)."""
        if sum(x is not None for x in (point, tenant, resource)) != 1:
            raise BadRequest("give exactly one of point, tenant or resource")
        if point is not None:
            info = self.info(scope, point)
            if not info.cumulative:
                raise NotCumulative(f"{point} is instantaneous ({info.unit}); a comparison needs consumption")
            return [Term(point, 100.0, FOREVER)]
        if tenant is not None:
            return self._tenant_terms(scope, tenant)
        if scope.tenant_id is not None:
            terms = self._tenant_terms(scope, scope.tenant_id)
        else:
            terms = [Term(p.id, share, FOREVER) for p, share in self._main_points(scope)]
        chosen = [t for t in terms if self.info(scope, t.point_id).resource == resource]
        if not chosen:
            raise NotVisible(f"no {resource} points")
        return chosen

    async def compare(
        self,
        scope: Scope,
        month: Period,
        now: datetime,
        *,
        point: str | None = None,
        tenant: str | None = None,
        resource: str | None = None,
    ) -> list[Comparison]:
        """Per resource: the month, the month before and the same month a year before."""
        terms = self._terms(scope, point=point, tenant=tenant, resource=resource)
        by_resource: dict[str, list[Term]] = {}
        for term in terms:
            info = self.info(scope, term.point_id)
            if info.cumulative:
                by_resource.setdefault(info.resource, []).append(term)
        result = []
        for resource_name, members in sorted(by_resource.items()):
            values = []
            for period in compared_periods(month, now):
                parts = [await self._sum(scope, term, period.start, period.end) for term in members]
                present = [p for p in parts if p is not None]
                values.append(PeriodValue(period, sum(present) if present else None))
            unit = self.info(scope, members[0].point_id).unit
            result.append(Comparison(resource_name, unit, values))
        return result

    async def tenant_series(
        self, scope: Scope, tenant_id: str, resource: str, start: datetime, end: datetime
    ) -> tuple[str, list[Sample]]:
        """(unit, 15-minute consumption) of a tenant for one resource: its contract points, each with
        its share and within its contract's lease, added up slot by slot (worst quality of a slot)."""
        terms = [t for t in self._tenant_terms(scope, tenant_id) if self.info(scope, t.point_id).resource == resource]
        terms = [t for t in terms if self.info(scope, t.point_id).cumulative]
        if not terms:
            raise NotVisible(f"no {resource} points for {tenant_id}")
        totals: dict[int, float] = {}
        qualities: dict[int, list[Quality]] = {}
        for term in terms:
            lo, hi = max(start, term.window[0]), min(end, term.window[1])
            if lo >= hi:
                continue
            for ms, value, quality in (await self.series(scope, term.point_id, lo, hi)).samples:
                totals[ms] = totals.get(ms, 0.0) + value * term.share / 100
                qualities.setdefault(ms, []).append(Quality(quality))
        samples = [(ms, totals[ms], worst_of(qualities[ms]).value) for ms in sorted(totals)]
        return self.info(scope, terms[0].point_id).unit, samples

    async def tenant_profile(
        self, scope: Scope, tenant_id: str, resource: str, start: datetime, end: datetime
    ) -> tuple[str, DayProfile]:
        unit, samples = await self.tenant_series(scope, tenant_id, resource, start, end)
        return unit, day_profile(samples, self.zone, self._day_off(start, end))

    async def tenant_heat_map(
        self, scope: Scope, tenant_id: str, resource: str, start: datetime, end: datetime
    ) -> tuple[str, HeatMap]:
        unit, samples = await self.tenant_series(scope, tenant_id, resource, start, end)
        return unit, heat_map(samples, self.zone)

    async def breakdown(self, scope: Scope, tenant_id: str, start: datetime, end: datetime) -> list[BreakdownLine]:
        """A tenant's consumption per contract point (server room, offices, its share of common areas)."""
        lines = []
        for contract in scope.contracts(tenant_id):
            window = lease_window(contract, self.zone)
            for share in contract.points:
                info = self.info(scope, share.point)
                if not info.cumulative:
                    continue
                value = await self._sum(scope, Term(share.point, share.share, window), start, end)
                meter = self.site.model.meter_by_id.get(info.point.meter or "")
                space = info.point.space or (meter.space if meter else None)
                lines.append(BreakdownLine(info, contract.id, space, share.share, value))
        return lines

    async def peers(self, scope: Scope, tenant_id: str, month: Period, now: datetime, resource: str) -> PeerComparison:
        """A tenant's consumption per m² of leased area against tenants whose spaces have the same main use."""
        tenant = scope.tenant(tenant_id)  # NotVisible for another tenant
        model = self.site.model
        units = {}
        for point in model.points:
            measure = point_measure(model, point, self.site.profiles)
            if measure is not None and is_cumulative(self.site, point):
                units[point.id] = (model.resource_of(point).value, measure.unit)
        everyone = tenants_in_month(model, month, now, resource, {p: r for p, (r, _u) in units.items()})
        me = next((t for t in everyone if t.tenant_id == tenant.id), None)
        unit = next((u for r, u in units.values() if r == resource), "")
        if me is None:
            return PeerComparison(tenant.id, None, resource, f"{unit}/m²", str(month), [], False)
        similar = [t for t in everyone if t.use == me.use]
        withheld = not scope.peer_names_visible and len(similar) - 1 < MIN_PEERS
        figures = []
        for other in similar:
            own = other.tenant_id == tenant.id
            if withheld and not own:
                continue
            parts = [(await interval_sum(self.store, t.point_id, *t.window), t.share) for t in other.terms]
            stored = [total * share / 100 for (total, count), share in parts if count]
            named = own or scope.peer_names_visible
            figures.append(
                PeerFigure(
                    other.tenant_id if named else None,
                    model.tenant_by_id[other.tenant_id].name if named else None,
                    sum(stored) / other.area_m2 if stored else None,
                    own,
                )
            )
        figures.sort(key=lambda f: (f.per_m2 is None, f.per_m2 or 0.0))
        return PeerComparison(tenant.id, me.use, resource, f"{unit}/m²", str(month), figures, withheld)

    # -- events and devices -----------------------------------------------------------------------

    async def events(self, scope: Scope, since: datetime | None, until: datetime | None) -> list[Event]:
        found = await self.store.events(since=since, until=until)
        return [scope.redact_event(e) for e in found if scope.sees_event(e)]

    async def event(self, scope: Scope, event_id: int) -> Event:
        for event in await self.store.events():
            if event.id == event_id and scope.sees_event(event):
                return scope.redact_event(event)
        raise NotVisible(f"no event {event_id}")

    async def acknowledge(self, scope: Scope, event_id: int, by: str, at: datetime, comment: str) -> Event:
        """Record who saw an event (it stays open until its condition clears)."""
        scope.require(Permission.ACKNOWLEDGE)
        await self.event(scope, event_id)
        if len(comment) > 2000:
            raise BadRequest("a comment of at most 2000 characters, please")
        await self.store.acknowledge_event(event_id, Acknowledgement(by, at, comment.strip()))
        # every state-changing action is in the one append-only audit log, beside the billing steps
        detail = {"event": event_id, "comment": comment.strip()}
        await StatementStore(self.store).record(by=by, action="event acknowledged", statement_id=None, detail=detail)
        return await self.event(scope, event_id)

    async def devices(self, scope: Scope, now: datetime) -> list[DeviceStatus]:
        scope.require(Permission.VIEW_DEVICES)
        model, locator = self.site.model, self.site.locator
        health = {h.device_id: h for h in await self.store.device_health()}
        last = await self.last_values(scope)
        limits = stale_thresholds(self.site)  # the same per-source rule the BMS exposure uses
        by_device: dict[str | None, list[PointStatus]] = {}
        for index, point in enumerate(model.points):
            meter = model.meter_by_id.get(point.meter or "")
            device_id = meter.device if meter else None
            value = last.get(point.id)
            if point.is_virtual:
                status = "virtual"
            elif value is None:
                status = "no data"
            else:
                limit = limits.get(point.id)
                status = "ok" if limit is None or now - value.ts <= limit else "stale"
            location = self._relative(locator.at("points", index))
            by_device.setdefault(device_id, []).append(
                PointStatus(self.info(scope, point.id), location, device_id, value, status)
            )
        devices = [
            DeviceStatus(
                d.id,
                d.name,
                d.connection.kind,
                self._relative(locator.at("devices", index)),
                health.get(d.id),
                by_device.get(d.id, []),
            )
            for index, d in enumerate(model.devices)
        ]
        virtual = by_device.get(None, [])
        if virtual:
            devices.append(DeviceStatus("(virtual)", "Virtual points", "formula", locator.fallback, None, virtual))
        return devices

    def _relative(self, location: Location) -> Location:
        try:
            file = str(Path(location.file).resolve().relative_to(self.site.folder.resolve().parent))
        except ValueError:
            file = location.file
        return Location(file, location.line, location.col)
