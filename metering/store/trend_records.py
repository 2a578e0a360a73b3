"""BMS trends and schedules in the store: values read back from the building management system
(`metering.trends`) and the latest decoded Schedule object of each point (`metering.hvac.schedule`).

Its own file because these are the BMS's values, not our meters': they are kept as plain rows by
point name, with none of the readings' point keys, partitions or dirty spans, and read by the HVAC,
anomaly and savings rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from metering.readings import Quality
from metering.store import schema as t
from metering.store.base import StoreBase
from metering.store.timecodec import from_ms, to_ms
from metering.trends import TrendKind, TrendSample


class TrendRecords(StoreBase):
    """Insert and read BMS trend values; keep and list BMS schedules."""

    async def insert_trends(self, samples: Iterable[TrendSample]) -> int:
        """Insert BMS values; one already stored for (point_id, ts) keeps its first value."""
        rows = {
            (s.point_id, to_ms(s.ts)): {
                "point_id": s.point_id,
                "ts": to_ms(s.ts),
                "kind": s.kind.value,
                "value": s.value,
                "quality": s.quality.value,
            }
            for s in samples
        }
        if not rows:
            return 0
        stmt = self.insert(t.bms_trends).on_conflict_do_nothing(index_elements=["point_id", "ts"])
        async with self.write() as conn:
            # RETURNING counts the rows really inserted (asyncpg gives no executemany row count)
            result = await conn.execute(stmt.returning(t.bms_trends.c.ts), list(rows.values()))
            return len(result.all())

    async def trends(self, point_id: str, start: datetime, end: datetime) -> list[TrendSample]:
        c = t.bms_trends.c
        query = (
            select(t.bms_trends).where(c.point_id == point_id, c.ts >= to_ms(start), c.ts < to_ms(end)).order_by(c.ts)
        )
        return [
            TrendSample(row.point_id, from_ms(row.ts), TrendKind(row.kind), row.value, Quality(row.quality))
            for row in await self.fetch(query)
        ]

    async def trend_points(self) -> list[str]:
        rows = await self.fetch(select(t.bms_trends.c.point_id).distinct().order_by(t.bms_trends.c.point_id))
        return [row.point_id for row in rows]

    async def save_schedule(self, point_id: str, read_at: datetime, body: dict[str, Any]) -> None:
        """Keep the latest decoded Schedule object of a point (JSON from `metering.hvac.schedule`)."""
        values = {"point_id": point_id, "read_at": to_ms(read_at), "body": json.dumps(body, sort_keys=True)}
        stmt = self.insert(t.bms_schedules).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["point_id"], set_={"read_at": values["read_at"], "body": values["body"]}
        )
        async with self.write() as conn:
            await conn.execute(stmt)

    async def schedules(self) -> dict[str, tuple[datetime, dict[str, Any]]]:
        rows = await self.fetch(select(t.bms_schedules))
        return {row.point_id: (from_ms(row.read_at), json.loads(row.body)) for row in rows}
