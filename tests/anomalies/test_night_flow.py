"""Night-flow leaks on synthetic series: a leak from a known night, thresholds, DST nights, gaps, occupancy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from bms_bridge.hvac.prices import price_lookup
from metering.anomalies.inputs import AnomalyInputs
from metering.anomalies.night_flow import night_flow, nights_of
from metering.events import Condition
from metering.readings import Interval, Quality
from point_mapping.loader import LoadedSite
from tests.anomalies.sites import TENANTS, ZONE, between, local, series, workday, write_house

START, END = local(date(2025, 2, 24)), local(date(2025, 3, 17))  # three weeks, Monday to Monday


def restroom(at: datetime) -> float:
    return 0.1 if workday(at) and between(at, 8, 18) else 0.0  # 100 L a quarter hour of use


def kitchen(at: datetime) -> float:
    return 0.02 if workday(at) and between(at, 9, 17) else 0.0


def leak(
    per_quarter_m3: float, first: date, last: date = date.max, hours: tuple[float, float] = (0, 4)
) -> Callable[[datetime], float]:
    def rate(at: datetime) -> float:
        return per_quarter_m3 if first <= at.date() <= last and between(at, *hours) else 0.0

    return rate


def house_inputs(site: LoadedSite, wc: list[Interval], start: datetime = START, end: datetime = END) -> AnomalyInputs:
    kit = series("cw.H1-kit", start, end, kitchen)
    main = [Interval("cw.H-main", a.start, a.value + b.value, a.quality) for a, b in zip(wc, kit, strict=True)]
    rest = [Interval("cw.H-rest", a.start, a.value, a.quality) for a in wc]  # main - kitchen
    return AnomalyInputs(
        site.model,
        {"cw.H1-wc": wc, "cw.H1-kit": kit, "cw.H-main": main, "cw.H-rest": rest},
        start,
        end,
        price=price_lookup(site.model),
        currency="EUR",
    )


def wc_series(
    rate_leak: Callable[[datetime], float],
    start: datetime = START,
    end: datetime = END,
    quality: Callable[[datetime], Quality] | None = None,
) -> list[Interval]:
    return series("cw.H1-wc", start, end, lambda at: restroom(at) + rate_leak(at), quality=quality)


def only(conditions: list[Condition]) -> Condition:
    assert len(conditions) == 1, [c.key for c in conditions]
    return conditions[0]


def test_a_leak_from_a_known_night_is_found_once_at_the_leaf(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    # 5 L a quarter hour from 00:00 to 04:00 = 20 L/h, 80 L a day, from the night to Wednesday 5 March
    found = only(night_flow(house_inputs(site, wc_series(leak(0.005, date(2025, 3, 5))))))
    assert found.key == "anomaly.night_flow:cw.H1-wc:2025-03-05"
    assert found.subject == "cw.H1-wc" and found.kind == "anomaly.night_flow"
    assert found.started_at == datetime(2025, 3, 5, 0, tzinfo=UTC)  # 01:00 CET, the window's start
    assert found.ended_at is None  # still leaking in the last night judged
    d = found.details
    assert d["area"] == "Restrooms (H1-wc)" and d["start_night"] == "2025-03-05" and d["nights"] == 12
    assert d["min_flow_l_per_h"] == 20.0 and d["litres_per_day"] == 80.0
    assert d["cost_per_day"] == "0.37"  # 0.080 m3 x 4.65 EUR = 0.372
    # the main meter and the virtual rest show the same flow: reported once, here, naming them
    assert d["seen_in"] == ["cw.H-main", "cw.H-rest"] and d["contained_in"] == ["cw.H-main", "cw.H-rest"]
    assert found.waste is not None
    assert found.waste.energy == 0.96 and found.waste.unit == "m3"  # 12 nights x 80 L
    assert found.waste.cost == Decimal("4.46") and found.waste.currency == "EUR"  # 0.96 x 4.65 = 4.464
    assert found.zone == "H" and found.equipment == "wc.cw" and found.tenants == ()
    assert "80 L/day" in found.title and "0.37 EUR/day" in found.title


def test_a_leak_that_stopped_is_closed_at_the_end_of_its_last_night(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    found = only(night_flow(house_inputs(site, wc_series(leak(0.005, date(2025, 3, 3), date(2025, 3, 7))))))
    assert found.started_at == local(date(2025, 3, 3), time(1))
    assert found.ended_at == local(date(2025, 3, 7), time(4))
    assert found.details["nights"] == 5


def test_threshold_boundaries(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    # 6 L/h is the default: 1.5 L a quarter hour is reported, 1.49 (5.96 L/h) is not
    at = night_flow(house_inputs(site, wc_series(leak(0.0015, date(2025, 1, 1)))))
    assert [c.subject for c in at] == ["cw.H1-wc"]
    below = night_flow(house_inputs(site, wc_series(leak(0.00149, date(2025, 1, 1)))))
    assert below == []


def test_nights_and_threshold_come_from_yaml(tmp_path: Path) -> None:
    yaml = """
    anomalies:
      night_flow: {nights: 5, min_flow_l_per_h: 2, expected_flow_l_per_h: {cw.H1-kit: 10}}
    """
    site = write_house(tmp_path, anomalies=yaml)
    four = night_flow(house_inputs(site, wc_series(leak(0.001, date(2025, 3, 13)))))  # 4 L/h, 4 nights
    assert four == []
    five = only(night_flow(house_inputs(site, wc_series(leak(0.001, date(2025, 3, 12))))))
    assert five.details["nights"] == 5 and five.details["threshold_l_per_h"] == 2.0


def test_the_night_window_is_local_time_across_dst(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    start, end = local(date(2025, 3, 24)), local(date(2025, 4, 7))
    inputs = house_inputs(site, wc_series(leak(0.005, date(2025, 1, 1)), start, end), start, end)
    nights = {n.night: n for n in nights_of(inputs, site.model.point_by_id["cw.H1-wc"])}
    spring = nights[date(2025, 3, 30)]  # clocks go from 02:00 CET to 03:00 CEST
    assert (spring.start, spring.end) == (datetime(2025, 3, 30, 0, tzinfo=UTC), datetime(2025, 3, 30, 2, tzinfo=UTC))
    assert nights[date(2025, 3, 31)].start == datetime(2025, 3, 30, 23, tzinfo=UTC)  # 01:00 CEST
    # 00:00-04:00 local lasts three hours that night: 12 quarter hours of 5 L
    assert spring.leak_litres == 60.0 and nights[date(2025, 3, 29)].leak_litres == 80.0
    assert spring.min_l_per_h == 20.0
    found = only(night_flow(inputs))
    assert found.details["litres_per_day"] == 80.0 and found.details["nights"] == 14


def test_the_autumn_night_is_four_hours_long(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    start, end = local(date(2025, 10, 20)), local(date(2025, 11, 3))
    inputs = house_inputs(site, wc_series(leak(0.005, date(2025, 1, 1)), start, end), start, end)
    autumn = {n.night: n for n in nights_of(inputs, site.model.point_by_id["cw.H1-wc"])}[date(2025, 10, 26)]
    assert autumn.end - autumn.start == datetime(2025, 1, 1, 4) - datetime(2025, 1, 1)
    assert autumn.leak_litres == 100.0  # 00:00 CEST to 04:00 CET: five hours of 20 L


def test_spread_values_across_a_gap_are_not_a_night_flow(tmp_path: Path) -> None:
    site = write_house(tmp_path)

    def gap(at: datetime) -> bool:
        return date(2025, 3, 4) <= at.date() <= date(2025, 3, 8)

    wc = series(
        "cw.H1-wc",
        START,
        END,
        lambda at: 0.002 if gap(at) else restroom(at),  # what interpolation across five days looks like
        quality=lambda at: Quality.ESTIMATED if gap(at) else Quality.MEASURED,
    )
    assert night_flow(house_inputs(site, wc)) == []


def test_a_night_that_cannot_be_judged_does_not_break_a_run(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    rate = leak(0.005, date(2025, 3, 13))  # nights to 13, 14, 15 and 16 March; the 15th was not measured
    wc = wc_series(rate, quality=lambda at: Quality.ESTIMATED if at.date() == date(2025, 3, 15) else Quality.MEASURED)
    found = only(night_flow(house_inputs(site, wc)))
    assert found.details["start_night"] == "2025-03-13" and found.details["nights"] == 3


def test_hours_a_tenant_occupies_are_not_night(tmp_path: Path) -> None:
    tenants = TENANTS.replace(
        "  - {id: c4,",
        "  - {id: c5, tenant: t4, start: 2024-01-01, spaces: [H1-wc], occupancy: [{days: [mon, tue, wed, thu, fri,"
        " sat, sun], from: '00:00', to: '00:00'}]}\n  - {id: c4,",
    )
    site = write_house(tmp_path, tenants=tenants)
    assert night_flow(house_inputs(site, wc_series(leak(0.005, date(2025, 3, 1))))) == []


def test_a_second_leak_in_the_main_meter_is_reported_beside_the_first(tmp_path: Path) -> None:
    site = write_house(tmp_path)
    inputs = house_inputs(site, wc_series(leak(0.005, date(2025, 3, 10))))
    # an unmetered pipe behind the main meter leaks 12 L/h more from the same night (3 L a quarter hour)
    main = [
        Interval(
            i.point_id, i.start, i.value + (0.003 if leak(0.003, date(2025, 3, 10))(i.start.astimezone(ZONE)) else 0)
        )
        for i in inputs.intervals["cw.H-main"]
    ]
    found = night_flow(AnomalyInputs(site.model, {**inputs.intervals, "cw.H-main": main}, START, END))
    assert sorted((c.subject, c.details["min_flow_l_per_h"]) for c in found) == [
        ("cw.H-main", 32.0),  # 20 L/h of the restrooms (named in seen_in) + 12 L/h of its own
        ("cw.H1-wc", 20.0),
    ]
    by_subject = {c.subject: c for c in found}
    # 16 quarter hours of 3 L of its own a day: the restrooms' 80 L are theirs, not counted twice
    assert by_subject["cw.H-main"].details["litres_per_day"] == 48.0
    assert by_subject["cw.H-main"].details["own_flow_l_per_h"] == 12.0
    assert by_subject["cw.H1-wc"].details["litres_per_day"] == 80.0
    # cw.H-rest (main less the kitchen) is explained by both; the main meter only in part
    assert by_subject["cw.H1-wc"].details["seen_in"] == ["cw.H-main", "cw.H-rest"]
