"""Load model: daily and weekly shapes, the two built-in faults, totals that only grow, determinism."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bms_bridge.simulate import LoadModel
from bms_bridge.simulate.load_model import STEP, STEP_HOURS
from point_mapping.loader import LoadedSite

BERLIN = ZoneInfo("Europe/Berlin")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_server_room_is_flat_around_the_clock(model: LoadModel) -> None:
    start = local(2024, 3, 4, 0)
    rates = [model.rate("el-A3-03", start + STEP * i) for i in range(7 * 96)]
    assert min(rates) > 15.0
    assert max(rates) / min(rates) < 1.03


def test_office_works_weekdays_in_daytime(model: LoadModel) -> None:
    weekday_day = model.rate("el-A1-01", local(2024, 3, 5, 11))  # Tuesday
    weekday_night = model.rate("el-A1-01", local(2024, 3, 5, 3))
    sunday_day = model.rate("el-A1-01", local(2024, 3, 10, 11))
    assert weekday_day > 3 * weekday_night
    assert weekday_day > 3 * sunday_day
    assert weekday_night > 0  # the base load never stops


def test_public_holiday_looks_like_a_sunday(model: LoadModel) -> None:
    easter_monday = model.rate("el-A1-01", local(2024, 4, 1, 11))
    tuesday = model.rate("el-A1-01", local(2024, 4, 2, 11))
    assert tuesday > 3 * easter_monday


def test_restaurant_peaks_at_lunch_and_dinner(model: LoadModel) -> None:
    for meter in ("el-A0-rest", "rest.gas", "rest.cw"):
        lunch = model.rate(meter, local(2024, 3, 5, 12, 30))
        dinner = model.rate(meter, local(2024, 3, 5, 19))
        afternoon = model.rate(meter, local(2024, 3, 5, 16))
        night = model.rate(meter, local(2024, 3, 5, 3))
        assert lunch > afternoon > night and dinner > afternoon, meter
    assert model.rate("rest.gas", local(2024, 3, 10, 12, 30)) == 0.0  # closed on Sundays


def test_fitness_peaks_before_and_after_work(model: LoadModel) -> None:
    for meter in ("fit.hw", "fit.cw", "fit.heat"):
        morning = model.rate(meter, local(2024, 3, 5, 7, 30))
        evening = model.rate(meter, local(2024, 3, 5, 18))
        midday = model.rate(meter, local(2024, 3, 5, 13))
        assert morning > 1.5 * midday and evening > 1.5 * midday, meter
    assert model.rate("fit.hw", local(2024, 3, 5, 23, 30)) == 0.0


def test_restroom_b2_leaks_at_night_only(model: LoadModel) -> None:
    for day in (4, 9, 10):  # Monday, Saturday, Sunday
        assert model.rate("wc-b2.cw", local(2024, 3, day, 2)) >= 0.02
        assert model.rate("wc-a0.cw", local(2024, 3, day, 2)) == 0.0  # a sound restroom is dry at night
    assert model.rate("wc-b2.cw", local(2024, 3, 10, 14)) == 0.0  # Sunday afternoon: no use, no leak
    assert model.rate("wc-b2.cw", local(2024, 3, 10, 5, 30)) == 0.0  # the leak stops at 05:00
    # the building's main meter sees it too
    assert model.rate("B.cw", local(2024, 3, 4, 2)) >= 0.02


@pytest.mark.parametrize("day", [local(2024, 4, 10, 11), local(2025, 10, 14, 11)])
def test_heating_and_cooling_at_once_in_the_spells(model: LoadModel, day: datetime) -> None:
    assert model.rate("chiller.cooling", day) > 50.0
    assert model.rate("chiller", day) > 10.0
    assert model.rate("A.heat", day) > 20.0
    assert model.rate("B.heat", day) > 20.0


def test_no_cooling_on_a_cool_day_outside_the_spells(model: LoadModel) -> None:
    assert model.rate("chiller.cooling", local(2024, 3, 12, 11)) == 0.0
    assert model.rate("chiller.cooling", local(2024, 4, 24, 11)) == pytest.approx(0.0, abs=60.0)


def test_chiller_follows_summer_heat(model: LoadModel) -> None:
    july = model.rate("chiller.cooling", local(2024, 7, 16, 15))
    assert july > 100.0
    assert model.rate("A.heat", local(2024, 1, 16, 10)) > model.rate("A.heat", local(2024, 7, 16, 10))


def test_main_meter_is_its_submeters_plus_common_load(model: LoadModel, demo: LoadedSite) -> None:
    t = local(2024, 3, 5, 11)
    children = [m.id for m in demo.model.meters if m.submeter_of == "A.main"]
    assert len(children) > 20
    assert model.rate("A.main", t) > sum(model.rate(c, t) for c in children)
    start, end = local(2024, 3, 5, 0), local(2024, 3, 6, 0)
    common = model.cumulative("el.A-common", end) - model.cumulative("el.A-common", start)
    assert common > 0


def test_totals_only_grow_and_match_the_rate(model: LoadModel, demo: LoadedSite) -> None:
    cumulative = [p.id for p in demo.model.points if p.unit in ("kWh", "m3") and not p.is_virtual]
    t = local(2024, 2, 28, 22)
    previous = {p: model.cumulative(p, t) for p in cumulative}
    for _ in range(24 * 12):  # every 5 minutes for a day, across the 29th of February
        t += timedelta(minutes=5)
        for p in cumulative:
            value = model.cumulative(p, t)
            assert value >= previous[p], p
            previous[p] = value
    step_start = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    used = model.consumption("A.main", step_start, step_start + STEP)
    assert used == pytest.approx(model.rate("A.main", step_start) * STEP_HOURS)


def test_deterministic_whatever_the_order_of_questions(demo: LoadedSite) -> None:
    late, early = local(2024, 9, 1, 12, 7), local(2024, 2, 1, 8, 3)
    first, second = LoadModel(demo.model), LoadModel(demo.model)
    late_first = first.cumulative("el.B-main", late)
    assert second.cumulative("el.B-main", early) == first.cumulative("el.B-main", early)
    assert second.cumulative("el.B-main", late) == late_first
    assert first.rate("el-B1-01", late) == second.rate("el-B1-01", late)


def test_times_before_the_epoch_or_naive_are_refused(model: LoadModel) -> None:
    with pytest.raises(ValueError, match="epoch"):
        model.cumulative("el.A-main", datetime(2023, 12, 31, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        model.rate("A.main", datetime(2024, 3, 1))
