"""A deterministic load model of a site: how much every meter draws at a given instant.

Pure: no I/O, no clock, no global random state. Time is always an argument (an aware datetime);
"noise" is a hash of (meter id, 15-minute step), so the same question always gets the same answer,
in any process.

Each meter is a consumer whose kind is derived from the site: its resource, the use of the space it
is installed in (office, server-room, restaurant, ...), its sub-meters (a main meter draws the sum of
its sub-meters plus its own common load), and "AHU"/"chiller" in its id or name for shared plant.

Rates are in the resource's billing unit per hour (kW for electricity, heat and cooling; m3/h for
water and gas). Energy and volume totals integrate the rate over 15-minute steps from `EPOCH`, the
rate being constant within a step, so a register's value rises linearly inside a step and power and
energy always agree. The faults the analytics rules must find are built in (`Scenario`): a restroom
leaking at night, spells of simultaneous heating and cooling, a tenant leaving equipment on after
hours and a breaker meter whose register sticks for a few days a year.
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from point_mapping.formula import parse_formula
from point_mapping.model import Meter, SiteModel
from point_mapping.model.meters import Resource
from point_mapping.units import convert

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
STEP_HOURS = 0.25


class Kind(StrEnum):
    """What a meter's own load looks like (a main meter's sub-meters add theirs on top)."""

    BUILDING = "building"  # common load of a building: corridors, lifts, cleaning, heating
    OFFICE = "office"
    SERVER_ROOM = "server-room"
    RESTAURANT = "restaurant"
    FITNESS = "fitness"
    CONFERENCE = "conference"
    RETAIL = "retail"
    SHOWROOM = "showroom"
    RESTROOM = "restroom"
    AHU = "ahu"
    CHILLER = "chiller"


@dataclass(frozen=True)
class Scenario:
    """Faults built into the demo data, for the analytics rules to find.

    - `leaking`: restroom water meters with a constant flow between `leak_hours` (local time) every
      night, a cistern valve that fails when the mains pressure rises at night.
    - `simultaneous_spells`: (month, first day, last day) each year during which the chiller runs on
      working days 07:00-19:00 while the heating is still on (old AHU settings, manual overrides).
    - `left_on`: office meters whose tenant leaves workstations, printers and split units on outside
      08:00-19:00 on working days: `left_on_w_per_m2` more than the offices' 3 W/m² standby.
    - `stuck`: (meter, month, first day, last day) each year during which the meter's energy register
      does not move (local days, inclusive); the load is still there and its parent meter counts it.
    - `retrofits`: (measure id, meter, factor): from the date the site's `measures:` give that measure,
      the meter's own load (not its sub-meters') is multiplied by the factor; a measure the site does
      not record changes nothing. The demo's LED retrofit takes 20 % off building B's common areas.
    """

    leaking: frozenset[str] = frozenset({"wc-b2.cw"})
    leak_flow_m3h: float = 0.03
    leak_hours: tuple[int, int] = (0, 5)
    simultaneous_spells: tuple[tuple[int, int, int], ...] = ((4, 8, 21), (10, 7, 20))
    left_on: frozenset[str] = frozenset({"el-B2-03"})
    left_on_w_per_m2: float = 6.0
    stuck: tuple[tuple[str, int, int, int], ...] = (("el-A4-03", 2, 10, 12),)
    retrofits: tuple[tuple[str, str, float], ...] = (("led-b-common", "B.main", 0.8),)

    def in_spell(self, day: date) -> bool:
        return any(day.month == month and first <= day.day <= last for month, first, last in self.simultaneous_spells)


@dataclass(frozen=True, slots=True)
class StepContext:
    """Everything about one 15-minute step that does not depend on the meter."""

    hour: float  # local decimal hour at the step's midpoint
    weekday: int  # 0 = Monday
    workday: bool  # Monday to Friday and not a public holiday
    outdoor: float  # degC
    spell: bool  # simultaneous heating and cooling
    event_day: bool  # the conference area hosts an event


@dataclass(frozen=True)
class Consumer:
    meter_id: str
    resource: Resource
    kind: Kind
    area_m2: float  # of the meter's space, or of its building for BUILDING
    children: tuple[str, ...]
    start_index: float  # register value at EPOCH, in the billing unit
    three_phase: bool = True
    noise: float = 0.08  # relative amplitude of the step noise
    seed: int = 0  # of the step noise, from the meter id
    retrofit_step: int = 2**62  # from this step on (Scenario.retrofits) the own load is x retrofit_factor
    retrofit_factor: float = 1.0


def step_of(t: datetime) -> tuple[int, float]:
    """(index of the 15-minute step holding t, fraction of that step elapsed)."""
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t!r}; give an aware time")
    if t < EPOCH:
        raise ValueError(f"{t.isoformat()} is before the simulation epoch {EPOCH.isoformat()}")
    seconds = (t - EPOCH).total_seconds()
    index = int(seconds // STEP.total_seconds())
    return index, seconds / STEP.total_seconds() - index


def unit_hash(*parts: object) -> float:
    """A reproducible number in [0, 1) for the given parts (CRC-32, mixed so nearby inputs differ)."""
    value = zlib.crc32("|".join(map(str, parts)).encode())
    value = (value * 2654435761) & 0xFFFFFFFF  # Knuth's multiplicative mix spreads consecutive steps
    return value / 2**32


def step_noise(seed: int, index: int) -> float:
    """A reproducible number in [0, 1) per (seed, step): integer mixing only, for the hot loop."""
    x = (seed ^ (index * 0x9E3779B97F4A7C15)) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF  # splitmix64 finaliser
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return ((x ^ (x >> 31)) >> 11) / 2**53


def _between(hour: float, start: float, end: float) -> bool:
    return start <= hour < end


class LoadModel:
    """Rates and running totals of every meter of a site; totals are cached step by step."""

    def __init__(self, site: SiteModel, scenario: Scenario | None = None) -> None:
        self.site = site
        self.scenario = scenario or Scenario()
        self.zone = ZoneInfo(site.site.timezone)
        country = site.site.holidays_country
        self._holidays = holidays.country_holidays(country, subdiv=site.site.holidays_subdivision) if country else {}
        self._contexts: dict[int, StepContext] = {}
        self._prefix: dict[str, array[float]] = {}  # own consumption before step i, per meter
        self.consumers: Mapping[str, Consumer] = {m.id: self._consumer(m) for m in site.meters}

    # ------------------------------------------------------------------ classification
    @cached_property
    def _children(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for meter in self.site.meters:
            if meter.submeter_of is not None:
                found.setdefault(meter.submeter_of, []).append(meter.id)
        return {k: tuple(v) for k, v in found.items()}

    @cached_property
    def site_area_m2(self) -> float:
        return sum(b.area_m2 for b in self.site.buildings)

    def _consumer(self, meter: Meter) -> Consumer:
        children = self._children.get(meter.id, ())
        space = self.site.space_by_id.get(meter.space or "")
        use = space.use if space is not None else "technical"
        label = f"{meter.id} {meter.name}".lower()
        if "chiller" in label:
            kind = Kind.CHILLER
        elif "ahu" in label and meter.resource is Resource.ELECTRICITY:
            kind = Kind.AHU
        elif children or use in ("technical", "parking"):
            kind = Kind.BUILDING
        elif use == "common":
            kind = Kind.RESTROOM if meter.resource in (Resource.COLD_WATER, Resource.HOT_WATER) else Kind.BUILDING
        else:
            kind = Kind(use)
        if kind is Kind.BUILDING and meter.space in self.site.building_of_space:
            area = self.site.building_of_space[meter.space].area_m2
        else:
            area = space.area_m2 if space is not None else 0.0
        device = self.site.device_by_id.get(meter.device)
        three_phase = device is None or device.profile != "eastron-sdm120"
        # A plausible dial reading at the epoch: thousands of kWh, hundreds of m3.
        scale = 1000.0 if meter.resource.billing_unit == "kWh" else 100.0
        start = round(scale * (1 + 49 * unit_hash("start", meter.id)), 1)
        noise = 0.01 if kind is Kind.SERVER_ROOM else 0.08
        seed = zlib.crc32(meter.id.encode())
        step, factor = self._retrofit(meter.id)
        return Consumer(meter.id, meter.resource, kind, area, children, start, three_phase, noise, seed, step, factor)

    def _retrofit(self, meter_id: str) -> tuple[int, float]:
        """(first step, factor) of the retrofit of a meter's own load, from the site's measure date."""
        dates = {m.id: m.date for m in self.site.measures}
        for measure_id, meter, factor in self.scenario.retrofits:
            if meter == meter_id and measure_id in dates:
                first = datetime.combine(dates[measure_id], datetime.min.time(), self.zone)
                return max(0, step_of(max(first, EPOCH))[0]), factor
        return 2**62, 1.0

    # ------------------------------------------------------------------ time
    def context(self, index: int) -> StepContext:
        found = self._contexts.get(index)
        if found is None:
            found = self._contexts[index] = self._make_context(index)
        return found

    def _make_context(self, index: int) -> StepContext:
        local = (EPOCH + STEP * index + STEP / 2).astimezone(self.zone)
        day = local.date()
        hour = local.hour + local.minute / 60
        workday = local.weekday() < 5 and day not in self._holidays
        return StepContext(
            hour=hour,
            weekday=local.weekday(),
            workday=workday,
            outdoor=self._outdoor(day, hour),
            spell=self.scenario.in_spell(day),
            event_day=workday and unit_hash("event", day) < 0.35,
        )

    @staticmethod
    def _outdoor(day: date, hour: float) -> float:
        """Hamburg-like: daily mean 0.5 degC mid-January to 19 degC mid-July, warmest at 15:00."""
        doy = day.timetuple().tm_yday
        seasonal = 9.75 - 9.25 * math.cos(2 * math.pi * (doy - 18) / 365.25)
        diurnal = 4.5 * math.cos(2 * math.pi * (hour - 15) / 24)
        weather = 6.0 * (unit_hash("weather", day) - 0.5)  # a warm or cold day
        return seasonal + diurnal + weather

    def outdoor_temperature(self, t: datetime) -> float:
        return self.context(step_of(t)[0]).outdoor

    # ------------------------------------------------------------------ rates
    def rate(self, meter_id: str, t: datetime) -> float:
        """Instantaneous draw (kW or m3/h) of a meter and its sub-meters during the step holding t."""
        return self._rate(meter_id, step_of(t)[0])

    def _rate(self, meter_id: str, index: int) -> float:
        consumer = self.consumers[meter_id]
        return self._own_rate(consumer, index) + sum(self._rate(child, index) for child in consumer.children)

    def _own_rate(self, c: Consumer, index: int) -> float:
        ctx = self._contexts.get(index) or self.context(index)
        base = _RATES[c.resource](self, c, ctx)
        if base <= 0.0:
            return 0.0
        if index >= c.retrofit_step:
            base *= c.retrofit_factor
        return base * (1.0 + c.noise * (2.0 * step_noise(c.seed, index) - 1.0))

    def building_area(self, c: Consumer) -> float:
        meter = self.site.meter_by_id[c.meter_id]
        building = self.site.building_of_space.get(meter.space or "")
        return building.area_m2 if building is not None else self.site_area_m2

    def cooling_load(self, ctx: StepContext) -> float:
        """kW of cooling the chiller delivers to both buildings."""
        load = 0.0
        if ctx.workday and _between(ctx.hour, 7, 19):
            load = 0.003 * self.site_area_m2 * max(0.0, ctx.outdoor - 18.0)
            if ctx.spell:
                load = max(load, 0.004 * self.site_area_m2)
        return load

    # ------------------------------------------------------------------ totals
    def _own_consumption(self, c: Consumer, index: int, fraction: float) -> float:
        prefix = self._prefix.get(c.meter_id)
        if prefix is None:
            prefix = self._prefix[c.meter_id] = array("d", [0.0])
        # prefix[i] = own consumption during steps 0 .. i-1; extend once, reuse on every later call
        if len(prefix) <= index:
            own_rate, total = self._own_rate, prefix[-1]
            for last in range(len(prefix) - 1, index):
                total += own_rate(c, last) * STEP_HOURS
                prefix.append(total)
        return prefix[index] + self._own_rate(c, index) * STEP_HOURS * fraction

    def _consumption(self, meter_id: str, index: int, fraction: float) -> float:
        c = self.consumers[meter_id]
        own = self._own_consumption(c, index, fraction)
        return own + sum(self._consumption(child, index, fraction) for child in c.children)

    def consumption(self, meter_id: str, start: datetime, end: datetime) -> float:
        """Consumption of a meter (with its sub-meters) during [start, end), in the billing unit."""
        return self.meter_total(meter_id, end) - self.meter_total(meter_id, start)

    def meter_total(self, meter_id: str, t: datetime) -> float:
        """The meter's register (before CT ratio or pulse weight) at t, in the billing unit.

        A register that was stuck (`Scenario.stuck`) lacks what flowed while it was stuck.
        """
        return self._true_total(meter_id, t) - self._lost(meter_id, t)

    def _true_total(self, meter_id: str, t: datetime) -> float:
        index, fraction = step_of(t)
        return self.consumers[meter_id].start_index + self._consumption(meter_id, index, fraction)

    def stuck_spans(self, meter_id: str, until: datetime) -> list[tuple[datetime, datetime]]:
        """[start, end) of each spell the meter's register was stuck, from the epoch's year to `until`'s."""
        spans: list[tuple[datetime, datetime]] = []
        for stuck_meter, month, first, last in self.scenario.stuck:
            if stuck_meter != meter_id:
                continue
            for year in range(EPOCH.year, until.year + 1):
                start = datetime(year, month, first, tzinfo=self.zone).astimezone(UTC)
                end = (datetime(year, month, last, tzinfo=self.zone) + timedelta(days=1)).astimezone(UTC)
                if start >= EPOCH:
                    spans.append((start, end))
        return spans

    def _lost(self, meter_id: str, t: datetime) -> float:
        lost = 0.0
        for start, end in self.stuck_spans(meter_id, t) if self.scenario.stuck else ():
            if t > start:
                lost += self._true_total(meter_id, min(t, end)) - self._true_total(meter_id, start)
        return lost

    def cumulative(self, point_id: str, t: datetime) -> float:
        """A cumulative point's value at t in the point's unit; virtual points follow their formula."""
        point = self.site.point_by_id[point_id]
        if point.formula is not None:
            return sum(
                term.coefficient * self.cumulative(term.point_id, t) for term in parse_formula(point.formula).terms
            )
        assert point.meter is not None
        meter = self.site.meter_by_id[point.meter]
        total = self.meter_total(meter.id, t)
        return convert(total, meter.resource.billing_unit, point.unit) if point.unit else total

    # ------------------------------------------------------------------ electrical values
    def electrical(self, meter_id: str, t: datetime) -> Electrical:
        index = step_of(t)[0]
        c = self.consumers[meter_id]
        power = self._rate(meter_id, index) if c.resource is Resource.ELECTRICITY else 0.0
        voltages = tuple(230.0 + 4.0 * (unit_hash(meter_id, "V", phase, index) - 0.5) for phase in range(3))
        pf = 0.93 + 0.04 * unit_hash(meter_id, "pf", index)
        phases = 3 if c.three_phase else 1
        currents = tuple(power * 1000.0 / (phases * v * pf) for v in voltages[:phases])
        frequency = 50.0 + 0.06 * (unit_hash("f", index) - 0.5)
        return Electrical(power, voltages[:phases], currents, pf, frequency)


@dataclass(frozen=True)
class Electrical:
    power_kw: float
    voltages: tuple[float, ...]  # V per phase (L-N)
    currents: tuple[float, ...]  # A per phase
    power_factor: float
    frequency: float

    @property
    def reactive_ratio(self) -> float:
        """tan(phi): kvarh per kWh at this power factor."""
        return math.tan(math.acos(self.power_factor))


# ---------------------------------------------------------------------- load shapes per resource
# Figures are typical for a Class B+ office building in northern Germany; W/m² for electricity,
# m3/h for water, kW for heat.


def _electricity(model: LoadModel, c: Consumer, ctx: StepContext) -> float:
    h, area = ctx.hour, c.area_m2
    if c.kind is Kind.OFFICE:
        if ctx.workday and _between(h, 8, 19):
            return area * 0.012
        # equipment left on (Scenario.left_on) on top of the shoulders, nights and weekends
        left_on = area * model.scenario.left_on_w_per_m2 / 1000 if c.meter_id in model.scenario.left_on else 0.0
        if ctx.workday and (_between(h, 7, 8) or _between(h, 19, 20)):
            return area * 0.007 + left_on
        return area * 0.003 + left_on  # standby, fridges, network: the weekend and night base load
    if c.kind is Kind.SERVER_ROOM:
        return 18.0  # racks and precision cooling, 24/7
    if c.kind is Kind.RESTAURANT:
        return _restaurant(ctx, closed=4.0, prep=15.0, lunch=55.0, afternoon=15.0, dinner=42.0)
    if c.kind is Kind.FITNESS:
        return _fitness(ctx, closed=4.0, open_=area * 0.015, peak=area * 0.024)
    if c.kind is Kind.CONFERENCE:
        return area * 0.040 if ctx.event_day and _between(h, 8, 18) else area * 0.002
    if c.kind is Kind.RETAIL:
        return area * 0.025 if ctx.weekday < 6 and _between(h, 7, 19) else area * 0.006
    if c.kind is Kind.SHOWROOM:
        return area * 0.030 if _between(h, 8, 20) else area * 0.015  # lit every night, every day
    if c.kind is Kind.AHU:
        rated = 0.0026 * model.building_area(c)
        if ctx.workday and _between(h, 6, 20):
            return rated * (0.9 if _between(h, 8, 18) else 0.6)
        if ctx.weekday == 5 and _between(h, 8, 14):
            return rated * 0.5
        return 0.4
    if c.kind is Kind.CHILLER:
        cooling = model.cooling_load(ctx)
        return cooling / 3.2 if cooling > 0 else 0.3
    # common areas: lighting, lifts, ventilation of stairs
    if ctx.workday and _between(h, 6, 21):
        return area * 0.0025
    return area * 0.0010


def _water(model: LoadModel, c: Consumer, ctx: StepContext) -> float:
    h = ctx.hour
    hot = c.resource is Resource.HOT_WATER
    if c.kind is Kind.RESTROOM:
        flow = 0.0
        if not hot and ctx.workday and _between(h, 7, 19):
            flow = 0.12
        if c.meter_id in model.scenario.leaking and _between(h, *model.scenario.leak_hours):
            flow += model.scenario.leak_flow_m3h
        return flow
    if c.kind is Kind.RESTAURANT:
        flow = _restaurant(ctx, closed=0.0, prep=0.25, lunch=0.6, afternoon=0.15, dinner=0.5)
        return flow * (0.4 if hot else 1.0)
    if c.kind is Kind.FITNESS:
        return _fitness(ctx, closed=0.0, open_=0.4 if hot else 0.3, peak=1.4 if hot else 0.9)
    if c.kind is Kind.CONFERENCE:
        return 0.35 if ctx.event_day and _between(h, 8, 18) else 0.0
    # unmetered offices and cleaning, by building area
    if ctx.workday and _between(h, 7, 19):
        return c.area_m2 * (0.00002 if hot else 0.00017)
    return 0.0


def _heat(model: LoadModel, c: Consumer, ctx: StepContext) -> float:
    demand = max(0.0, 16.0 - ctx.outdoor)
    if c.kind is Kind.FITNESS:
        space = c.area_m2 * 0.004 * demand
        showers = _fitness(ctx, closed=0.0, open_=8.0, peak=25.0)
        return space + showers
    occupied = ctx.workday and _between(ctx.hour, 6, 20)
    heating = c.area_m2 * 0.0035 * demand * (1.0 if occupied else 0.55)  # night and weekend set-back
    if ctx.spell and ctx.workday and _between(ctx.hour, 7, 19):
        heating += c.area_m2 * 0.004  # AHU reheat fighting the chiller
    return heating


def _cooling(model: LoadModel, c: Consumer, ctx: StepContext) -> float:
    return model.cooling_load(ctx)


def _gas(model: LoadModel, c: Consumer, ctx: StepContext) -> float:
    if c.kind is Kind.RESTAURANT:
        return _restaurant(ctx, closed=0.0, prep=2.0, lunch=7.0, afternoon=1.0, dinner=6.0)
    return 0.0


def _restaurant(
    ctx: StepContext, *, closed: float, prep: float, lunch: float, afternoon: float, dinner: float
) -> float:
    """Open Monday to Saturday: prep from 09:00, lunch 11:30-14:30, dinner 17:30-22:00."""
    h = ctx.hour
    if ctx.weekday == 6:
        return closed
    if _between(h, 11.5, 14.5):
        return lunch
    if _between(h, 17.5, 22):
        return dinner
    if _between(h, 9, 11.5):
        return prep
    if _between(h, 14.5, 17.5):
        return afternoon
    return closed


def _fitness(ctx: StepContext, *, closed: float, open_: float, peak: float) -> float:
    """Open every day 06:00-22:00, busiest before work (07-09) and after work (17-20)."""
    h = ctx.hour
    if not _between(h, 6, 22):
        return closed
    if _between(h, 7, 9) or _between(h, 17, 20):
        return peak
    return open_


_RATES = {
    Resource.ELECTRICITY: _electricity,
    Resource.COLD_WATER: _water,
    Resource.HOT_WATER: _water,
    Resource.HEAT: _heat,
    Resource.COOLING: _cooling,
    Resource.GAS: _gas,
}
