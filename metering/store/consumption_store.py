"""The store side of the consumption pipeline: what `metering.consumption.ConsumptionRepository` asks for.

Intervals are replaced per point and range, so a recomputation removes rows that no longer exist.
Slots inside a frozen period (a closed billing month) are never altered: a recomputation that differs
is written to `interval_corrections`, which billing turns into correction lines on the next statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select

from metering.consumption import DirtySpan, FrozenPeriod, IntervalCorrection, ReplaceOutcome
from metering.events import Event
from metering.exchanges import MeterExchange
from metering.readings import Interval, Quality, Reading
from metering.store import rollups
from metering.store import schema as t
from metering.store.store import Store
from metering.store.timecodec import from_ms, to_ms

FROZEN = "frozen"


class ConsumptionStore:
    """`ConsumptionRepository` over a `Store` (same engine and transactions)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- what the pipeline reads ------------------------------------------------------------------

    async def readings(self, point_id: str, start: datetime, end: datetime) -> list[Reading]:
        return await self.store.readings(point_id, start, end)

    async def readings_around(self, point_id: str, ts: datetime, *, before: int, after: int) -> list[Reading]:
        return await self.store.readings_around(point_id, ts, before=before, after=after)

    async def exchanges(self, meter_id: str) -> list[MeterExchange]:
        return await self.store.exchanges(meter_id)

    async def intervals(self, point_id: str, start: datetime, end: datetime) -> list[Interval]:
        return await self.store.intervals(point_id, start, end)

    async def add_event(self, event: Event) -> int:
        return await self.store.add_event(event)

    # -- what it writes ---------------------------------------------------------------------------

    async def replace_intervals(
        self, point_id: str, start: datetime, end: datetime, intervals: Sequence[Interval]
    ) -> ReplaceOutcome:
        """Make the stored intervals of `point_id` in [start, end) equal `intervals`, except in frozen
        periods, where each difference becomes a correction and the frozen number stays."""
        lo, hi = to_ms(start), to_ms(end)
        frozen = [p for p in await self.frozen_periods() if to_ms(p.start) < hi and to_ms(p.end) > lo]
        new = {to_ms(i.start): i for i in intervals if lo <= to_ms(i.start) < hi}
        c = t.intervals.c
        now = to_ms(self.store._clock())
        async with self.store.write() as conn:
            rows = (
                await conn.execute(
                    select(c.start, c.value, c.quality).where(c.point_id == point_id, c.start >= lo, c.start < hi)
                )
            ).all()
            old = {row.start: (row.value, row.quality) for row in rows}
            corrections: list[dict[str, Any]] = []
            cleared: list[int] = []
            upserts: list[dict[str, Any]] = []
            removed: list[int] = []
            for slot in sorted(set(old) | set(new)):
                period = next((p.period for p in frozen if to_ms(p.start) <= slot < to_ms(p.end)), None)
                was = old.get(slot)
                now_value = (new[slot].value, new[slot].quality.value) if slot in new else None
                if period is not None:
                    if was != now_value:
                        corrections.append(_correction(point_id, slot, period, was, now_value, now))
                    else:
                        cleared.append(slot)
                elif now_value is None:
                    removed.append(slot)
                elif was != now_value:
                    upserts.append(
                        {
                            "point_id": point_id,
                            "start": slot,
                            "value": now_value[0],
                            "quality": now_value[1],
                            "updated_at": now,
                        }
                    )
            if removed:
                await conn.execute(delete(t.intervals).where(c.point_id == point_id, c.start.in_(removed)))
            if upserts:
                await conn.execute(self._upsert(t.intervals, ("value", "quality", "updated_at")), upserts)
            changed = removed + [row["start"] for row in upserts]
            if changed:  # the hours and days holding them, in this transaction
                await rollups.refresh(conn, {point_id: (min(changed), max(changed))})
            k = t.interval_corrections.c
            if cleared:  # the recomputation agrees with the frozen number again: nothing to correct
                await conn.execute(delete(t.interval_corrections).where(k.point_id == point_id, k.start.in_(cleared)))
            if corrections:  # the frozen side is kept as first recorded; the recomputed side follows
                await conn.execute(
                    self._upsert(t.interval_corrections, ("value", "quality", "detected_at")), corrections
                )
        return ReplaceOutcome(written=len(upserts), removed=len(removed), corrections=len(corrections))

    def _upsert(self, table: Table, updated: tuple[str, ...]) -> Any:
        """Insert rows keyed by (point_id, start), or update `updated` columns of the existing ones."""
        stmt = self.store.insert(table)
        return stmt.on_conflict_do_update(
            index_elements=["point_id", "start"], set_={name: stmt.excluded[name] for name in updated}
        )

    # -- frozen periods ---------------------------------------------------------------------------

    async def freeze_period(self, period: str, start: datetime, end: datetime, *, by: str = "") -> bool:
        """Freeze [start, end) as `period` ('YYYY-MM'); False if it already was (with the same bounds)."""
        c = t.billing_periods.c
        async with self.store.write() as conn:
            row = (await conn.execute(select(t.billing_periods).where(c.period == period))).first()
            if row is not None and row.status == FROZEN:
                if (row.start, row.end) != (to_ms(start), to_ms(end)):
                    raise ValueError(f"period {period} is already frozen with other bounds")
                return False
            values = {
                "period": period,
                "status": FROZEN,
                "closed_at": to_ms(self.store._clock()),
                "closed_by": by,
                "start": to_ms(start),
                "end": to_ms(end),
            }
            if row is None:
                await conn.execute(t.billing_periods.insert().values(values))
            else:
                await conn.execute(t.billing_periods.update().where(c.period == period).values(values))
        return True

    async def frozen_periods(self) -> list[FrozenPeriod]:
        c = t.billing_periods.c
        rows = await self.store.fetch(
            select(c.period, c.start, c.end).where(c.status == FROZEN, c.start.is_not(None)).order_by(c.start)
        )
        return [FrozenPeriod(r.period, from_ms(r.start), from_ms(r.end)) for r in rows]

    async def corrections(self, *, period: str | None = None) -> list[IntervalCorrection]:
        """Recomputed intervals that differ from frozen ones, oldest slot first."""
        k = t.interval_corrections.c
        query = select(t.interval_corrections).order_by(k.start, k.point_id)
        if period is not None:
            query = query.where(k.period == period)
        rows = await self.store.fetch(query)
        return [
            IntervalCorrection(
                point_id=r.point_id,
                start=from_ms(r.start),
                period=r.period,
                frozen=_interval(r.point_id, r.start, r.frozen_value, r.frozen_quality),
                recomputed=_interval(r.point_id, r.start, r.value, r.quality),
                detected_at=from_ms(r.detected_at),
            )
            for r in rows
        ]

    # -- dirty spans ------------------------------------------------------------------------------

    async def mark_dirty(self, spans: Iterable[DirtySpan]) -> None:
        merged: dict[str, tuple[int, int]] = {}
        for span in spans:
            a, b = to_ms(span.first), to_ms(span.last)
            old = merged.get(span.point_id, (a, b))
            merged[span.point_id] = (min(old[0], a), max(old[1], b))
        async with self.store.write() as conn:
            await self.store.mark_dirty_spans(conn, merged)

    async def dirty_points(self) -> list[str]:
        """Points with readings not yet recomputed into intervals."""
        d = t.interval_dirty.c
        return [r.point_id for r in await self.store.fetch(select(d.point_id).order_by(d.point_id))]

    async def take_dirty(self) -> list[DirtySpan]:
        """The dirty spans, removed from the table in the same transaction (mark them again on failure)."""
        d = t.interval_dirty.c
        async with self.store.write() as conn:
            rows = (await conn.execute(select(d.point_id, d.first_ts, d.last_ts).order_by(d.point_id))).all()
            if rows:
                await conn.execute(delete(t.interval_dirty))
        return [DirtySpan(r.point_id, from_ms(r.first_ts), from_ms(r.last_ts)) for r in rows]


def _correction(
    point_id: str, slot: int, period: str, was: tuple[float, str] | None, now: tuple[float, str] | None, at: int
) -> dict[str, Any]:
    return {
        "point_id": point_id,
        "start": slot,
        "period": period,
        "frozen_value": was[0] if was else None,
        "frozen_quality": was[1] if was else None,
        "value": now[0] if now else None,
        "quality": now[1] if now else None,
        "detected_at": at,
    }


def _interval(point_id: str, start: int, value: float | None, quality: str | None) -> Interval | None:
    if value is None or quality is None:
        return None
    return Interval(point_id, from_ms(start), value, Quality(quality))
