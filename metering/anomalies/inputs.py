"""What every anomaly rule is given: the site, the stored intervals, the period judged and a price."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from metering.events import Event
from metering.hvac.schedule import OccupancySchedule
from metering.readings import Interval
from point_mapping.model import SiteModel

# price(point_id, instant) per unit of the point, as billing charges it; None: no tariff for it
PriceLookup = Callable[[str, datetime], Decimal | None]


def no_price(point_id: str, moment: datetime) -> Decimal | None:
    return None


@dataclass(frozen=True, slots=True)
class ClockSample:
    """One message of a device: the time it says (its own clock) and when the bridge received it."""

    device_time: datetime
    received_at: datetime

    @property
    def offset_s(self) -> float:
        """Seconds the device's clock is ahead of the bridge's receive time (negative: behind, or late)."""
        return (self.device_time - self.received_at).total_seconds()


@dataclass(frozen=True)
class AnomalyInputs:
    """`intervals` hold each point's stored 15-minute intervals in [history_start, end), in time order.

    The rules judge [start, end); what lies before `start` is history that says what is usual.
    """

    site: SiteModel
    intervals: Mapping[str, Sequence[Interval]]
    start: datetime
    end: datetime
    holidays: frozenset[date] = frozenset()
    price: PriceLookup = no_price
    currency: str | None = None
    schedules: Mapping[str, OccupancySchedule] = field(default_factory=dict)  # BMS schedule point -> as read
    # per point, the smallest change its register can show, in the point's unit (`resolution.register_steps`)
    steps: Mapping[str, float] = field(default_factory=dict)
    # the validation's stored `counter_fault` events since the history start (resets, decreases, spikes)
    counter_faults: Sequence[Event] = ()
    # per device id, its messages' own timestamps against when the bridge received them (clock drift)
    clock_samples: Mapping[str, Sequence[ClockSample]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment.tzinfo is None:
                raise ValueError(f"anomaly inputs: naive datetime {moment!r}")
        if self.end <= self.start:
            raise ValueError("anomaly inputs: the period judged is empty")

    def series(self, point_id: str) -> Sequence[Interval]:
        return self.intervals.get(point_id, ())
