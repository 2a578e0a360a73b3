"""Query parameters of pages and API calls, parsed once; bad input is a `BadRequest` (HTTP 400)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from billing_export.period import Period
from bms_bridge.web.charts import DEFAULT_MAX_POINTS

MAX_SPAN = timedelta(days=3 * 366)  # a request for more is refused rather than read into memory
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # stored times are epoch milliseconds
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


class BadRequest(ValueError):
    pass


def _moment(text: str, zone: ZoneInfo, *, end: bool) -> datetime:
    """YYYY-MM-DD is a local day (an end day is inclusive: up to the next midnight); anything else is
    an ISO 8601 time, local unless it carries an offset."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(0), tzinfo=zone)
            if end:
                moment += timedelta(days=1)
        else:
            moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise BadRequest(f"not a date or time: {text!r} (use YYYY-MM-DD or ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 local is before the first UTC instant Python can hold
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise BadRequest(f"{text!r} is out of range (1970 to 9998)")
    return utc


def time_range(
    query: Mapping[str, str], zone: ZoneInfo, now: datetime, default_days: int = 7
) -> tuple[datetime, datetime]:
    """`from` and `to` (default: the last `default_days` days up to now)."""
    end = _moment(query["to"], zone, end=True) if query.get("to") else now.astimezone(UTC)
    start = _moment(query["from"], zone, end=False) if query.get("from") else end - timedelta(days=default_days)
    if start >= end:
        raise BadRequest("'from' must be before 'to'")
    if end - start > MAX_SPAN:
        raise BadRequest(f"a range of at most {MAX_SPAN.days} days, please")
    return start, end


def max_points(query: Mapping[str, str]) -> int:
    text = query.get("max_points")
    if not text:
        return DEFAULT_MAX_POINTS
    try:
        value = int(text)
    except ValueError:
        raise BadRequest("max_points must be a whole number") from None
    if not 4 <= value <= 100_000:
        raise BadRequest("max_points must be between 4 and 100000")
    return value


def wants_csv(query: Mapping[str, str]) -> bool:
    fmt = query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest("format must be json or csv")
    return fmt == "csv"


def optional_day(query: Mapping[str, str], name: str, zone: ZoneInfo) -> datetime | None:
    text = query.get(name)
    return _moment(text, zone, end=False) if text else None


def month(query: Mapping[str, str], zone: ZoneInfo, now: datetime) -> Period:
    """`month=YYYY-MM` (default: the current month in the site's zone)."""
    text = query.get("month")
    if not text:
        local = now.astimezone(zone)
        return Period(local.year, local.month, zone)
    try:
        return Period.parse(text, zone)
    except ValueError:
        raise BadRequest(f"month must be YYYY-MM, not {text!r}") from None


def subject(query: Mapping[str, str]) -> dict[str, str | None]:
    """Exactly one of point, tenant, resource (for comparisons)."""
    chosen = {name: query.get(name) or None for name in ("point", "tenant", "resource")}
    if sum(v is not None for v in chosen.values()) != 1:
        raise BadRequest("give exactly one of point, tenant or resource")
    return chosen
