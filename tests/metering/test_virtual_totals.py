"""A virtual point's past totals, rebuilt from its intervals and anchored on its live value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from metering.readings import Interval
from metering.virtual_totals import running_totals

T = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
Q = timedelta(minutes=15)
INTERVALS = [Interval("common", T - 4 * Q + i * Q, v) for i, v in enumerate([2.0, 3.0, 1.5, 2.5])]


def test_totals_lead_back_from_the_live_value() -> None:
    # live 100 kWh at 09:07: the 09:00-09:15 slot is not complete, so 09:00 is the newest sample
    assert running_totals([*INTERVALS, Interval("common", T, 9.0)], (T + timedelta(minutes=7), 100.0)) == [
        (T - 3 * Q, 100.0 - 2.5 - 1.5 - 3.0),
        (T - 2 * Q, 100.0 - 2.5 - 1.5),
        (T - Q, 100.0 - 2.5),
        (T, 100.0),
    ]


def test_without_a_live_value_totals_start_from_zero() -> None:
    assert running_totals(INTERVALS, None) == [(T - 3 * Q, 2.0), (T - 2 * Q, 5.0), (T - Q, 6.5), (T, 9.0)]
