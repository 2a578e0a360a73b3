"""After-hours load per tenant: against peers per m² and its own past; a 24/7 point is not judged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from bms_bridge.anomalies import contract_schedules
from bms_bridge.hvac.prices import price_lookup
from metering.anomalies.after_hours import after_hours, scopes
from metering.anomalies.inputs import AnomalyInputs
from metering.hvac.schedule import OccupancySchedule, schedule_to_json
from metering.profiles import builtin_profiles
from metering.readings import Interval
from metering.store import Store
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite, load_site
from tests.anomalies.sites import METERS, OFFICES, TENANTS, ZONE, between, local, series, workday, write_house

HISTORY, START, END = local(date(2025, 2, 3)), local(date(2025, 3, 3)), local(date(2025, 3, 24))
POINTS = {"H1-01": "el.H1-01", "H1-02": "el.H1-02", "H1-03": "el.H1-03", "H1-04": "el.H1-04"}


def office(area: float, after_w_per_m2: Callable[[datetime], float]) -> Callable[[datetime], float]:
    """12 W/m² on weekdays 07-19 (the default lease hours), `after_w_per_m2` otherwise; kWh a quarter hour."""

    def rate(at: datetime) -> float:
        w = 12.0 if workday(at) and between(at, 7, 19) else after_w_per_m2(at)
        return area * w * 0.25 / 1000

    return rate


def inputs(site: LoadedSite, h1_03_after: Callable[[datetime], float]) -> AnomalyInputs:
    intervals: dict[str, list[Interval]] = {}
    for space, area in OFFICES.items():
        after = h1_03_after if space == "H1-03" else (lambda at: 3.0)
        intervals[POINTS[space]] = series(POINTS[space], HISTORY, END, office(area, after))
    intervals["el.H1-srv"] = series("el.H1-srv", HISTORY, END, lambda at: 18.0 * 0.25)  # 18 kW, day and night
    return AnomalyInputs(site.model, intervals, START, END, price=price_lookup(site.model), currency="EUR")


def from_day(first: date, before: float, after: float) -> Callable[[datetime], float]:
    return lambda at: after if at.date() >= first else before


def test_equipment_left_on_from_a_known_week(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    found = after_hours(inputs(site, from_day(date(2025, 3, 10), 3.0, 9.0)))
    assert [c.key for c in found] == ["anomaly.after_hours:t3:2025-03-10"]
    c = found[0]
    assert c.started_at == datetime(2025, 3, 9, 23, tzinfo=UTC) and c.ended_at is None  # Monday 00:00 CET
    d = c.details
    assert d["after_hours_w_per_m2"] == 9.0 and d["peer_median_w_per_m2"] == 3.0 and d["peers"] == 3
    assert d["own_reference_kw"] == 0.9 and d["reasons"] == ["peers", "own history"]
    assert d["working_hours_kw"] == 3.6 and d["after_to_working"] == 0.75  # 12 W/m² x 300 m²; 2.7 / 3.6
    # 108 after-hours hours a week at 2.7 kW instead of 0.9 kW: 194.4 kWh a week, two weeks
    assert d["excess_kwh_per_week"] == 194.4 and d["weeks"] == 2
    assert c.waste is not None and c.waste.energy == 388.8
    assert c.waste.cost == Decimal("97.20") and c.waste.currency == "EUR"  # 388.8 kWh x 0.25 EUR
    assert c.tenants == ("t3",) and c.zone == "H"


def test_the_server_room_marked_always_on_is_not_judged(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    t1 = next(s for s in scopes(site.model, date(2025, 3, 1)) if s.tenant == "t1")
    assert [p.id for p in t1.points] == ["el.H1-01"] and t1.area_m2 == 500
    assert after_hours(inputs(site, lambda at: 3.0)) == []
    # without the flag its 18 kW make t1's nights 39 W/m²: that is what the flag is for
    unflagged = write_house(tmp_path / "unflagged", meters=METERS.replace(", always_on: true", ""))
    found = after_hours(inputs(unflagged, lambda at: 3.0))
    assert [c.subject for c in found] == ["t1"] and found[0].details["reasons"] == ["peers"]


def test_peer_factor_boundaries(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    assert after_hours(inputs(site, lambda at: 5.97)) == []  # 1.99 x the peers' 3 W/m², as always
    above = after_hours(inputs(site, lambda at: 6.03))  # 2.01 x
    assert [c.subject for c in above] == ["t3"]
    assert above[0].details["reasons"] == ["peers"] and above[0].started_at == START  # judged from the first week
    assert above[0].details["since_window_start"] is True


def test_trend_factor_boundaries(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    assert after_hours(inputs(site, from_day(date(2025, 3, 10), 3.0, 4.41))) == []  # 1.47 x its own past
    above = after_hours(inputs(site, from_day(date(2025, 3, 10), 3.0, 4.59)))  # 1.53 x
    assert [(c.subject, c.details["reasons"]) for c in above] == [("t3", ["own history"])]


def test_a_week_that_ended_closes_the_finding(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    week = lambda at: 9.0 if date(2025, 3, 10) <= at.date() < date(2025, 3, 17) else 3.0  # noqa: E731
    found = after_hours(inputs(site, week))
    assert [(c.started_at, c.ended_at) for c in found] == [(local(date(2025, 3, 10)), local(date(2025, 3, 17)))]


def test_lease_hours_from_yaml(tmp_path: Path) -> None:
    # t3 works 07-22 by its lease: its evenings at 30 W/m² are working hours, not after hours
    yaml = TENANTS.replace(
        "points: [{point: el.H1-03}]}",
        "points: [{point: el.H1-03}], occupancy: [{days: [weekdays], from: '07:00', to: '22:00'}]}",
    )
    site = write_house(tmp_path / "site", tenants=yaml)
    evenings = lambda at: 30.0 if between(at, 19, 22) and workday(at) else 3.0  # noqa: E731
    assert after_hours(inputs(site, evenings)) == []
    default = write_house(tmp_path / "default")
    # by the default 07-19: (15 h x 30 + 93 h x 3) / 108 h = 6.75 W/m², above twice the peers' 3
    found = after_hours(inputs(default, evenings))
    assert [(c.subject, c.details["after_hours_w_per_m2"]) for c in found] == [("t3", 6.75)]


BMS = """\
bms_devices:
  - {id: bms, address: "127.0.0.1:47900", device_instance: 900}
bms_points:
  - {id: t3.schedule, device: bms, object: "schedule,3", role: schedule, equipment: ahu-h}
"""


def test_occupancy_from_the_bms_schedule_the_contract_names(tmp_path: Path) -> None:
    # t3's lease names the BMS Schedule object; the controller runs it 07-22 on weekdays
    folder = tmp_path / "site"
    write_house(folder)
    (folder / "bms.yaml").write_text(BMS)
    named = "points: [{point: el.H1-03}], occupancy_schedule: t3.schedule}"
    (folder / "tenants.yaml").write_text(TENANTS.replace("points: [{point: el.H1-03}]}", named))
    site = load_site(folder, builtin_profiles())
    evenings = lambda at: 30.0 if between(at, 19, 22) and workday(at) else 3.0  # noqa: E731
    weekday = ((time(7), True), (time(22), False))
    schedule = OccupancySchedule((weekday,) * 5 + ((), ()), ZONE)
    with_bms = replace(inputs(site, evenings), schedules={"t3.schedule": schedule})
    assert after_hours(with_bms) == []  # its evenings are occupied by the BMS schedule
    # not read from the BMS yet: the site's working hours 07-19 apply, as without the schedule (6.75 W/m²)
    found = after_hours(inputs(site, evenings))
    assert [(c.subject, c.details["after_hours_w_per_m2"]) for c in found] == [("t3", 6.75)]


def test_a_contract_schedule_must_be_a_bms_schedule_point(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    write_house(folder)
    (folder / "bms.yaml").write_text(BMS.replace("role: schedule", "role: occupancy"))
    tenants = (folder / "tenants.yaml").read_text()
    marked = tenants.replace(
        "points: [{point: el.H1-03}]}", "points: [{point: el.H1-03}], occupancy_schedule: t3.schedule}"
    )
    (folder / "tenants.yaml").write_text(marked)
    with pytest.raises(SiteInvalid) as invalid:
        load_site(folder, builtin_profiles())
    assert [p.message for p in invalid.value.problems] == [
        "BMS point 't3.schedule' has role 'occupancy', not 'schedule'"
    ]
    (folder / "tenants.yaml").write_text(marked.replace("t3.schedule}", "t3.nothing}"))
    with pytest.raises(SiteInvalid) as invalid:
        load_site(folder, builtin_profiles())
    problem = invalid.value.problems[0]
    assert problem.message == "unknown BMS point 't3.nothing'" and problem.location.file.endswith("tenants.yaml")


async def test_the_service_reads_the_contract_schedule_as_the_bms_client_stored_it(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    write_house(folder)
    (folder / "bms.yaml").write_text(BMS)
    named = "points: [{point: el.H1-03}], occupancy_schedule: t3.schedule}"
    (folder / "tenants.yaml").write_text(TENANTS.replace("points: [{point: el.H1-03}]}", named))
    site = load_site(folder, builtin_profiles())
    schedule = OccupancySchedule((((time(7), True), (time(22), False)),) * 5 + ((), ()), ZONE, name="t3 offices")
    async with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        assert await contract_schedules(site.model, store) == {}  # not read yet: YAML hours apply
        await store.save_schedule("t3.schedule", START, schedule_to_json(schedule))
        await store.save_schedule("ahu-x.schedule", START, schedule_to_json(schedule))  # no contract names it
        read = await contract_schedules(site.model, store)
    assert list(read) == ["t3.schedule"] and read["t3.schedule"].weekly == schedule.weekly
    assert read["t3.schedule"].occupied(local(date(2025, 3, 10), time(21, 45)))  # a Monday evening
