"""The runner over a real SQLite store: periodic runs over a sliding period keep one finding per leak,
name the night it started although that night is older than the period, and close it when it stops."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from bms_bridge.anomalies import refresh_anomalies
from metering.readings import Interval
from metering.store import Store
from tests.anomalies.sites import OFFICES, between, local, series, workday, write_house

FIRST, LAST = local(date(2025, 2, 1)), local(date(2025, 4, 1))


def restroom_leaking(first: date, last: date) -> Callable[[datetime], float]:
    def rate(at: datetime) -> float:
        use = 0.1 if workday(at) and between(at, 8, 18) else 0.0
        return use + (0.005 if first <= at.date() <= last and between(at, 0, 4) else 0.0)

    return rate


async def test_a_leak_across_periodic_runs(tmp_path: Path) -> None:
    site = write_house(tmp_path / "site")
    wc = series("cw.H1-wc", FIRST, LAST, restroom_leaking(date(2025, 3, 5), date(2025, 3, 27)))
    kit = series("cw.H1-kit", FIRST, LAST, lambda at: 0.02 if workday(at) and between(at, 9, 17) else 0.0)
    main = [Interval("cw.H-main", a.start, a.value + b.value) for a, b in zip(wc, kit, strict=True)]
    async with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        await store.upsert_intervals([*wc, *kit, *main])
        lookback = site.model.anomalies.lookback  # 14 days: the leak began before the first run's period
        for now in (local(date(2025, 3, 20), time(12)), local(date(2025, 3, 27), time(12))):
            await refresh_anomalies(site, store, now - lookback, now)
            [leak] = await store.open_events(kind_prefix="anomaly.night_flow")
            assert leak.dedup_key == "anomaly.night_flow:cw.H1-wc:2025-03-05"
            assert leak.started_at == local(date(2025, 3, 5), time(1))
        assert leak.details["nights"] == 23  # 5 to 27 March
        assert leak.energy == 23 * 0.08  # 80 L a night
        # the leak was repaired on the 27th: the next run closes the finding at the end of its last night
        now = local(date(2025, 3, 31), time(12))
        await refresh_anomalies(site, store, now - lookback, now)
        assert await store.open_events(kind_prefix="anomaly.") == []
        [closed] = await store.events(kind="anomaly.night_flow")
        assert closed.ended_at == local(date(2025, 3, 27), time(4))
        assert closed.details["nights"] == 23
        # running again over the same data adds nothing
        await refresh_anomalies(site, store, now - lookback, now + timedelta(hours=1))
        assert len(await store.events()) == 1


def office(area: float, after: Callable[[datetime], float]) -> Callable[[datetime], float]:
    return lambda at: area * (12.0 if workday(at) and between(at, 7, 19) else after(at)) * 0.25 / 1000


async def test_equipment_left_on_across_weekly_runs_counts_every_week_once(tmp_path: Path) -> None:
    site = write_house(tmp_path / "site")
    first, last = local(date(2025, 1, 27)), local(date(2025, 4, 8))
    intervals: list[Interval] = []
    for space, area in OFFICES.items():
        left_on = space == "H1-03"
        after = (lambda at: 9.0 if at.date() >= date(2025, 3, 10) else 3.0) if left_on else (lambda at: 3.0)
        intervals += series(f"el.{space}", first, last, office(area, after))
    async with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        await store.upsert_intervals(intervals)
        lookback = site.model.anomalies.lookback
        for day in (date(2025, 3, 17), date(2025, 3, 24), date(2025, 3, 31), date(2025, 4, 7)):
            now = local(day, time(12))
            await refresh_anomalies(site, store, now - lookback, now)
        [found] = await store.events(kind="anomaly.after_hours")
        assert found.dedup_key == "anomaly.after_hours:t3:2025-03-10" and found.ended_at is None
        # the weeks of 10, 17, 24 and 31 March at 1.8 kW above the peers' 3 W/m² x 300 m² for 108 after-hours
        # hours, 107 in the week the clocks go forward (30 March): 3 x 194.4 + 192.6 kWh at 0.25 EUR
        assert [(w["week"], w["excess_kwh"]) for w in found.details["weekly"]] == [
            ("2025-03-10", 194.4),
            ("2025-03-17", 194.4),
            ("2025-03-24", 192.6),
            ("2025-03-31", 194.4),
        ]
        assert found.energy == 775.8 and found.cost_exact == Decimal("193.95")
        assert "since the week of 2025-03-10" in found.title


async def test_a_meter_silent_for_longer_than_what_is_read_stays_open(tmp_path: Path) -> None:
    site = write_house(tmp_path / "site")
    stop = local(date(2025, 3, 5), time(9))
    intervals = series("el.H1-04", local(date(2025, 2, 1)), stop, office(200, lambda at: 3.0))
    async with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        await store.upsert_intervals(intervals)
        for day in (date(2025, 3, 10), date(2025, 5, 30)):  # the second reads nothing of el.H1-04 any more
            now = local(day, time(12))
            await refresh_anomalies(site, store, now - site.model.anomalies.lookback, now)
            [gap] = await store.open_events(kind_prefix="anomaly.gap")
            assert gap.subject == "el.H1-04" and gap.started_at == stop
