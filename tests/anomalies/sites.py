"""A small office house as YAML, and synthetic 15-minute series with values a person can check by hand.

House H (one floor): four offices of 500, 400, 300 and 200 m² let to t1..t4, a server room of 50 m²
(t1's, its point always on), restrooms of 40 m². Water: a main meter H.cw with two sub-meters, the
restrooms (wc.cw) and a tea kitchen (kit.cw); electricity: a main meter with one breaker meter per unit.
A wireless meter (LPWAN, hourly uplinks) reads the yard tap. Water costs 4.65 EUR/m3, electricity 0.25 EUR/kWh, flat.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from metering.profiles import builtin_profiles
from metering.readings import Interval, Quality
from point_mapping.loader import LoadedSite, load_site

ZONE = ZoneInfo("Europe/Berlin")
SLOT = timedelta(minutes=15)
OFFICES = {"H1-01": 500, "H1-02": 400, "H1-03": 300, "H1-04": 200}

SITE = """\
site: {id: house-h, name: House H, timezone: Europe/Berlin, currency: EUR}
"""

BUILDINGS = """\
buildings:
  - id: H
    name: House H
    floors:
      - id: H1
        name: First floor
        spaces:
          - {id: H1-01, name: Office 1, area_m2: 500, use: office}
          - {id: H1-02, name: Office 2, area_m2: 400, use: office}
          - {id: H1-03, name: Office 3, area_m2: 300, use: office}
          - {id: H1-04, name: Office 4, area_m2: 200, use: office}
          - {id: H1-srv, name: Server room, area_m2: 50, use: server-room}
          - {id: H1-wc, name: Restrooms, area_m2: 40, use: common}
          - {id: H1-kit, name: Tea kitchen, area_m2: 20, use: common}
          - {id: H1-tech, name: Plant room, area_m2: 30, use: technical}
"""

METERS = """\
devices:
  - {id: pulses, profile: isma-sfar-1m-4di, connection: {kind: modbus-tcp, host: 127.0.0.1, port: 15999, unit: 1}}
  - {id: d-main, profile: eastron-sdm630, connection: {kind: modbus-tcp, host: 127.0.0.1, port: 15998, unit: 1}}
  - {id: d-01, profile: eastron-sdm630, connection: {kind: modbus-tcp, host: 127.0.0.1, port: 15998, unit: 2}}
  - {id: d-02, profile: eastron-sdm630, connection: {kind: modbus-tcp, host: 127.0.0.1, port: 15998, unit: 3}}
  - {id: d-03, profile: eastron-sdm630, connection: {kind: modbus-tcp, host: 127.0.0.1, port: 15998, unit: 4}}
  - {id: d-04, profile: eastron-sdm630, connection: {kind: modbus-tcp, host: 127.0.0.1, port: 15998, unit: 5}}
  - {id: d-srv, profile: eastron-sdm630, connection: {kind: modbus-tcp, host: 127.0.0.1, port: 15998, unit: 6}}
  - id: lora-1
    connection:
      kind: lpwan
      dev_eui: 70b3d57ed0001234
      expected_interval: 1h
      decoder: {kind: bytes, fields: [{name: volume, offset: 0, width: 4, unit: L}]}
meters:
  - {id: H.cw, device: pulses, resource: cold_water, space: H1-tech, pulse_weight: {value: 1, unit: L}}
  - {id: wc.cw, device: pulses, resource: cold_water, space: H1-wc, pulse_weight: {value: 1, unit: L},
     submeter_of: H.cw}
  - {id: kit.cw, device: pulses, resource: cold_water, space: H1-kit, pulse_weight: {value: 1, unit: L},
     submeter_of: H.cw}
  - {id: yard.cw, device: lora-1, resource: cold_water, space: H1-tech}
  - {id: H.main, device: d-main, resource: electricity, space: H1-tech}
  - {id: el-01, device: d-01, resource: electricity, space: H1-01, submeter_of: H.main}
  - {id: el-02, device: d-02, resource: electricity, space: H1-02, submeter_of: H.main}
  - {id: el-03, device: d-03, resource: electricity, space: H1-03, submeter_of: H.main}
  - {id: el-04, device: d-04, resource: electricity, space: H1-04, submeter_of: H.main}
  - {id: el-srv, device: d-srv, resource: electricity, space: H1-srv, submeter_of: H.main}
points:
  - {id: cw.H-main, meter: H.cw, register: counter_1, unit: m3}
  - {id: cw.H1-wc, meter: wc.cw, register: counter_2, unit: m3}
  - {id: cw.H1-kit, meter: kit.cw, register: counter_3, unit: m3}
  - {id: cw.H-rest, formula: "{cw.H-main} - {cw.H1-kit}", resource: cold_water, unit: m3}
  - {id: cw.H-yard, meter: yard.cw, register: volume, unit: m3}
  - {id: el.H-main, meter: H.main, register: active_energy_import, unit: kWh}
  - {id: el.H1-01, meter: el-01, register: active_energy_import, unit: kWh}
  - {id: el.H1-02, meter: el-02, register: active_energy_import, unit: kWh}
  - {id: el.H1-03, meter: el-03, register: active_energy_import, unit: kWh}
  - {id: el.H1-04, meter: el-04, register: active_energy_import, unit: kWh}
  - {id: el.H1-srv, meter: el-srv, register: active_energy_import, unit: kWh, always_on: true}
"""

TENANTS = """\
tenants:
  - {id: t1, name: Tenant 1, billing_account: T1}
  - {id: t2, name: Tenant 2, billing_account: T2}
  - {id: t3, name: Tenant 3, billing_account: T3}
  - {id: t4, name: Tenant 4, billing_account: T4}
contracts:
  - {id: c1, tenant: t1, start: 2024-01-01, spaces: [H1-01, H1-srv], points: [{point: el.H1-01}, {point: el.H1-srv}]}
  - {id: c2, tenant: t2, start: 2024-01-01, spaces: [H1-02], points: [{point: el.H1-02}]}
  - {id: c3, tenant: t3, start: 2024-01-01, spaces: [H1-03], points: [{point: el.H1-03}]}
  - {id: c4, tenant: t4, start: 2024-01-01, spaces: [H1-04], points: [{point: el.H1-04}]}
tariffs:
  - {id: water, resource: cold_water, unit: m3, zones: [{id: flat, price: 4.65}]}
  - {id: power, resource: electricity, unit: kWh, zones: [{id: flat, price: 0.25}]}
"""


def write_house(folder: Path, *, anomalies: str = "", tenants: str = TENANTS, meters: str = METERS) -> LoadedSite:
    """Write House H into `folder`, with an optional `anomalies:` section (YAML text), and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(SITE + textwrap.dedent(anomalies))
    (folder / "buildings.yaml").write_text(BUILDINGS)
    (folder / "meters.yaml").write_text(meters)
    (folder / "tenants.yaml").write_text(tenants)
    return load_site(folder, builtin_profiles())


def local(day: date, at: time = time(0)) -> datetime:
    return datetime.combine(day, at, ZONE).astimezone(UTC)


Rate = Callable[[datetime], float]  # value per quarter hour at a local time, in the point's unit


def series(
    point_id: str,
    start: datetime,
    end: datetime,
    rate: Rate,
    *,
    quality: Callable[[datetime], Quality] | None = None,
    missing: Callable[[datetime], bool] | None = None,
) -> list[Interval]:
    """Quarter hours in [start, end) (UTC instants) valued by `rate` at the slot's local start time."""
    found: list[Interval] = []
    t = start.astimezone(UTC)
    while t < end:
        at = t.astimezone(ZONE)
        if missing is None or not missing(at):
            found.append(Interval(point_id, t, rate(at), quality(at) if quality else Quality.MEASURED))
        t += SLOT
    return found


def between(at: datetime, start: float, end: float) -> bool:
    hour = at.hour + at.minute / 60
    return start <= hour < end


def workday(at: datetime) -> bool:
    return at.weekday() < 5


def plus(*rates: Rate) -> Rate:
    return lambda at: sum(r(at) for r in rates)


def days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
