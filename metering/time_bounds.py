"""Time bounds: a reading must be stamped after its meter could have been read and not in the future.

A reading stamped in year 1, 1970 (a device clock never set) or 2062 would otherwise make a
computation walk centuries of empty slots, or freeze the BMS value on a "latest" reading that never
ends. The earliest plausible instant is the meter's installation day, else the site's commissioning
day, else `DEFAULT_EARLIEST`; the latest is our clock plus `acquisition.future_tolerance` (docs/vee.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from point_mapping.model import Meter, SiteModel

DEFAULT_EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class TimeBounds:
    earliest: datetime
    future_tolerance: timedelta
    earliest_day: date  # as configured, in the site's zone, for messages

    def problem(self, ts: datetime, now: datetime) -> str | None:
        """Why `ts` cannot be a reading's time, or None when it can."""
        if ts < self.earliest:
            return f"timestamp {ts.isoformat()} is before {self.earliest_day.isoformat()}, when this meter started"
        latest = now + self.future_tolerance
        if ts > latest:
            clock = now.astimezone(UTC).isoformat(timespec="seconds")
            return f"timestamp {ts.isoformat()} is in the future (now {clock}); check the date and the device's clock"
        return None


def bounds_for(site: SiteModel, meter: Meter | None) -> TimeBounds:
    """The bounds for readings of `meter` (or of the site when None), days taken in the site's zone."""
    day = (meter.installed if meter is not None else None) or site.site.commissioned or DEFAULT_EARLIEST
    earliest = datetime.combine(day, time(0), ZoneInfo(site.site.timezone)).astimezone(UTC)
    return TimeBounds(earliest, site.acquisition.future_tolerance, day)
