"""Synthetic daily use with a known answer: use = 200 + 6·HDD + 120·(working day) kWh, noise × 300 kWh."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from metering.savings.baseline import DayDrivers, drivers_of
from metering.savings.daily import DailyUse
from point_mapping.model.savings import SavingsSettings

SETTINGS = SavingsSettings(heating_base_c=15.0, cooling_base_c=18.0)
START = date(2025, 1, 1)


def temperature(day: date) -> float:
    """A smooth year: 1 degC in mid-January, 19 degC in mid-July."""
    return 10.0 - 9.0 * math.cos(2 * math.pi * (day - date(2025, 1, 15)).days / 365.25)


def days(count: int, start: date = START) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def series(
    count: int,
    *,
    saving_from: date | None = None,
    saving: float = 0.0,
    noise: float = 0.03,
    seed: int = 1,
    holidays: frozenset[date] = frozenset(),
) -> tuple[list[DailyUse], dict[date, DayDrivers]]:
    rng = np.random.default_rng(seed)
    temps = {d: temperature(d) for d in days(count)}
    drivers = drivers_of(list(temps), temps, holidays, SETTINGS)
    uses = []
    for d in days(count):
        row = drivers[d]
        value = 200 + 6 * row.heating_degree_days + 120 * row.working_day
        value += noise * 300 * rng.standard_normal()  # additive: the same scatter all year
        if saving_from is not None and d >= saving_from:
            value *= 1 - saving
        uses.append(DailyUse(d, value, 96, 96, 96))
    return uses, drivers
