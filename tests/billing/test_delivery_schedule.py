"""Billing schedules on the site's wall clock, with a fake clock: month starts, DST both ways, catch-up
after a stop, failures as events, and the scheduled export feeding the outbox (approved only)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from billing_export.period import Period
from billing_export.schedule import next_fire, previous_fire
from bms_bridge.billing.scheduler import FAILED_KIND, BillingScheduler
from metering.events import Event
from point_mapping.model.billing_export import BillingExportSettings, BillingSchedule
from tests.billing.outbox_support import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def settings(*schedules: tuple[str, str], catch_up: str = "1d") -> BillingExportSettings:
    return BillingExportSettings.model_validate(
        {
            "url": "https://billing.example.com/api",
            "secret_env": "KEY",
            "catch_up": catch_up,
            "schedules": [{"cron": cron, "action": action} for cron, action in schedules],
        }
    )


class Recorder:
    """Remembers what ran and at which (fake) time."""

    def __init__(self, clock: FakeClock, fail: str | None = None) -> None:
        self.clock = clock
        self.fail = fail
        self.calls: list[tuple[str, str, datetime]] = []

    async def close(self, period: Period) -> None:
        self.calls.append(("close", str(period), self.clock.now))
        if self.fail == "close":
            raise RuntimeError("period has unvalidated intervals")

    async def export(self, period: Period, format: str) -> None:
        self.calls.append((f"export {format}", str(period), self.clock.now))


# -- fire times by hand -------------------------------------------------------------------------------


def test_first_of_the_month_at_six_local_in_winter_and_in_summer() -> None:
    assert next_fire("0 6 1 * *", BERLIN, utc(2026, 10, 15)) == utc(2026, 11, 1, 5)  # CET, UTC+1
    assert next_fire("0 6 1 * *", BERLIN, utc(2026, 3, 15)) == utc(2026, 4, 1, 4)  # CEST, UTC+2
    assert next_fire("0 6 1 * *", BERLIN, utc(2026, 11, 1, 5)) == utc(2026, 12, 1, 5)  # strictly after
    assert previous_fire("0 6 1 * *", BERLIN, utc(2026, 11, 1, 5)) == utc(2026, 11, 1, 5)  # at or before


def test_a_time_skipped_by_the_spring_change_fires_when_the_clock_jumps() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist that night
    assert next_fire("30 2 * * *", BERLIN, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)
    assert next_fire("30 2 * * *", BERLIN, utc(2026, 3, 29, 1)) == utc(2026, 3, 30, 0, 30)  # 02:30 CEST


def test_a_time_repeated_by_the_autumn_change_fires_once() -> None:
    # 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens at 00:30 and 01:30 UTC
    scheduler = BillingScheduler(
        settings(("30 2 * * *", "close")), BERLIN, Recorder(FakeClock(utc(2026, 1, 1))), clock=lambda: utc(2026, 1, 1)
    )
    fires = scheduler.fires_between(utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert [f.at for f in fires] == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    # looking from inside the repeated hour, the second 02:30 is not a new fire
    assert next_fire("30 2 * * *", BERLIN, utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 26, 1, 30)


def test_the_period_is_the_month_before_the_local_fire_time() -> None:
    # 1 Nov 00:30 in Berlin is still 31 Oct in UTC: the period follows the site's calendar
    scheduler = BillingScheduler(
        settings(("30 0 1 * *", "close")), BERLIN, Recorder(FakeClock(utc(2026, 1, 1))), clock=lambda: utc(2026, 1, 1)
    )
    [fire] = scheduler.fires_between(utc(2026, 10, 30), utc(2026, 11, 2))
    assert (fire.at, str(fire.period)) == (utc(2026, 10, 31, 23, 30), "2026-10")


# -- the scheduler as a task with a fake clock ------------------------------------------------------------


async def test_close_then_export_run_on_the_1st_moving_the_fake_clock() -> None:
    clock = FakeClock(utc(2026, 10, 31, 12))
    actions = Recorder(clock)
    slept: list[float] = []
    until, passed = utc(2026, 12, 1, 6), asyncio.Event()

    async def sleep(seconds: float) -> None:  # time passes only when the scheduler sleeps
        slept.append(seconds)
        clock.move_to(clock.now + timedelta(seconds=seconds))
        if clock.now >= until:
            passed.set()
        await asyncio.sleep(0)

    config = settings(("0 6 1 * *", "close"), ("30 6 1 * *", "export"))
    async with BillingScheduler(config, BERLIN, actions, clock=clock, sleep=sleep, max_sleep=timedelta(hours=6)):
        await asyncio.wait_for(passed.wait(), 10)
    assert actions.calls == [
        ("close", "2026-10", utc(2026, 11, 1, 5)),
        ("export json", "2026-10", utc(2026, 11, 1, 5, 30)),
        ("close", "2026-11", utc(2026, 12, 1, 5)),
        ("export json", "2026-11", utc(2026, 12, 1, 5, 30)),
    ]
    assert max(slept) == 6 * 3600  # never asleep longer than max_sleep, however far the next fire


Call = tuple[str, str, datetime]


async def run_scheduler(config: BillingExportSettings, start: datetime, until: datetime) -> list[Call]:
    """Run the scheduler task from `start` until the fake clock passes `until`; time moves as it sleeps."""
    clock = FakeClock(start)
    actions = Recorder(clock)
    passed = asyncio.Event()

    async def sleep(seconds: float) -> None:
        clock.move_to(clock.now + timedelta(seconds=seconds))
        if clock.now >= until:
            passed.set()
        await asyncio.sleep(0)

    async with BillingScheduler(config, BERLIN, actions, clock=clock, sleep=sleep, max_sleep=timedelta(hours=1)):
        await asyncio.wait_for(passed.wait(), 10)
    return actions.calls


@pytest.mark.parametrize(
    ("start", "fires"),
    [
        # spring: 02:30 CET (01:30 UTC); skipped on the 29th, so at the jump to 03:00 CEST; then 00:30 UTC
        (utc(2026, 3, 27, 12), [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)]),
        # autumn: 02:30 CEST (00:30 UTC), on the 25th only the first of the two 02:30s, then CET 01:30 UTC
        (utc(2026, 10, 23, 12), [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]),
    ],
)
async def test_a_nightly_export_fires_once_a_night_across_dst(start: datetime, fires: list[datetime]) -> None:
    config = settings(("30 2 * * *", "export"), catch_up="1m")  # nothing to catch up at noon
    calls = await run_scheduler(config, start, start + timedelta(days=3))
    assert [at for _, _, at in calls] == fires


async def test_a_fire_missed_while_stopped_runs_at_start_if_recent() -> None:
    config = settings(("0 6 1 * *", "close"), ("30 6 1 * *", "export"), catch_up="1d")
    clock = FakeClock(utc(2026, 11, 1, 8))  # 09:00 local: both fires of this morning were missed
    actions = Recorder(clock)
    scheduler = BillingScheduler(config, BERLIN, actions, clock=clock)
    assert [(f.schedule.action, str(f.period)) for f in await scheduler.start(clock.now)] == [
        ("close", "2026-10"),
        ("export", "2026-10"),
    ]
    assert await scheduler.run_due(clock.now) == []  # and not again
    late = BillingScheduler(config, BERLIN, Recorder(clock), clock=clock)
    assert await late.start(utc(2026, 11, 3, 8)) == []  # two days late: beyond catch_up


async def test_a_failing_action_becomes_an_event_and_the_next_still_runs() -> None:
    clock = FakeClock(utc(2026, 11, 1, 4))
    actions = Recorder(clock, fail="close")
    events: list[Event] = []

    async def add_event(event: Event) -> int:
        events.append(event)
        return len(events)

    config = settings(("0 6 1 * *", "close"), ("30 6 1 * *", "export"), catch_up="1m")
    scheduler = BillingScheduler(config, BERLIN, actions, clock=clock, add_event=add_event)
    await scheduler.start(clock.now)
    clock.move_to(utc(2026, 11, 1, 6))
    await scheduler.run_due(clock.now)
    assert [c[:2] for c in actions.calls] == [("close", "2026-10"), ("export json", "2026-10")]
    [event] = events
    assert (event.kind, event.subject, event.started_at) == (FAILED_KIND, "2026-10", utc(2026, 11, 1, 5))
    assert "period has unvalidated intervals" in event.title


def test_schedule_defaults() -> None:
    schedule = BillingSchedule.model_validate({"cron": "0 6 1 * *", "action": "export"})
    assert (schedule.period, schedule.format) == ("previous-month", "json")
    with pytest.raises(ValueError, match="never fires"):
        BillingSchedule.model_validate({"cron": "0 6 30 2 *", "action": "export"})
