"""Sums of 15-minute interval values per point and span, computed by the database, as exact integers.

Billing needs a month's consumption per metering point split at every instant a tariff zone, version
or price changes (a few dozen spans a month); reading 3,000 intervals per point into Python to add
them up costs far more than the adding. Each value is taken in quanta of 10^-9 of its unit (see
`metering.quanta`), so sums are exact integers whatever the order of addition. The query is one scalar
subquery per (point, span): each walks the primary key (point_id, start) over its range, no sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from metering.quanta import SpanSum
from metering.readings import Quality
from metering.store.timecodec import to_ms

_POINTS_PER_QUERY = 400  # bind parameters stay far below SQLite's limit


# SQLite's round(r) is (double)(int64)(r + 0.5), mirrored for r < 0; PostgreSQL's round(double)
# rounds ties to even, so there the same rule is spelled out
_QUANTA_SQLITE = "CAST(ROUND(i.value * 1000000000.0) AS INTEGER)"
_QUANTA_POSTGRESQL = "CAST(SIGN(i.value) * FLOOR(ABS(i.value * 1000000000.0) + 0.5) AS BIGINT)"


async def interval_sums(
    engine: AsyncEngine, point_ids: Sequence[str], bounds: Sequence[datetime]
) -> dict[str, list[SpanSum | None]]:
    """Per point, per span [bounds[k], bounds[k + 1]): its sums, None where it has no interval."""
    sqlite = engine.dialect.name == "sqlite"
    edges = [to_ms(b) for b in bounds]
    # the spans' numbers are our own integers, written in; point ids are bound
    spans = ", ".join(f"({k}, {int(edges[k])}, {int(edges[k + 1])})" for k in range(len(edges) - 1))
    quanta = _QUANTA_SQLITE if sqlite else _QUANTA_POSTGRESQL
    result: dict[str, list[SpanSum | None]] = {}
    async with engine.connect() as conn:
        for at in range(0, len(point_ids), _POINTS_PER_QUERY):
            chunk = list(point_ids[at : at + _POINTS_PER_QUERY])
            points = ", ".join(f"(CAST(:p{n} AS VARCHAR(200)))" for n in range(len(chunk)))
            # a scalar subquery returns one column: both sums travel as the text "total not_measured"
            query = text(
                f"WITH points(id) AS (VALUES {points}), spans(k, lo, hi) AS (VALUES {spans}) "
                f"SELECT points.id, spans.k, (SELECT CAST(SUM({quanta}) AS VARCHAR(40)) || ' ' || "
                f"CAST(SUM(CASE WHEN i.quality = '{Quality.MEASURED.value}' THEN 0 ELSE {quanta} END) AS VARCHAR(40)) "
                "FROM intervals i WHERE i.point_id = points.id AND i.start >= spans.lo AND i.start < spans.hi) "
                "FROM points CROSS JOIN spans"
            ).bindparams(**{f"p{n}": point_id for n, point_id in enumerate(chunk)})
            for point_id in chunk:
                result[point_id] = [None] * (len(edges) - 1)
            for point_id, k, both in (await conn.execute(query)).all():
                if both is not None:
                    total, not_measured = both.split()
                    result[point_id][k] = SpanSum(int(total), int(not_measured))
    return result
