"""Meter exchanges in the store: when a meter was replaced, the old meter's final register and the
new one's initial register (the one model of `metering.exchanges`).

Its own file because exchanges are few records (`replace-meter` writes them) that consumption consults
to bridge a replaced meter's register jump; they are written with their own conflict check
(`StoreConflict`), read per meter or for many meters at once, and share only the plumbing with readings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select

from metering.exchanges import MeterExchange, format_register
from metering.store import schema as t
from metering.store.base import StoreBase, StoreConflict
from metering.store.timecodec import from_ms, to_ms


class ExchangeRecords(StoreBase):
    """Record meter exchanges and list them per meter."""

    async def add_exchange(self, exchange: MeterExchange) -> bool:
        """Record a meter exchange; False if it is already stored (the same one recorded again, even a
        little apart in time), StoreConflict if another exchange with other values has this time."""
        stored = await self.exchanges(exchange.meter_id)
        if any(exchange.same_as(other) for other in stored):
            return False
        clash = next((other for other in stored if other.ts == exchange.ts), None)
        if clash is not None:
            raise StoreConflict(
                f"meter {exchange.meter_id} already has an exchange at {clash.ts.isoformat()} "
                f"({format_register(clash.old_final)} -> {format_register(clash.new_initial)}); refusing to "
                f"overwrite it with ({format_register(exchange.old_final)} -> {format_register(exchange.new_initial)})"
            )
        values = {
            "meter_id": exchange.meter_id,
            "ts": to_ms(exchange.ts),
            "old_final": exchange.old_final,
            "new_initial": exchange.new_initial,
            "note": exchange.note,
            "source": exchange.source,
        }
        async with self.write() as conn:
            await conn.execute(self.insert(t.meter_replacements).values(values))
        return True

    async def exchanges(self, meter_id: str) -> list[MeterExchange]:
        c = t.meter_replacements.c
        rows = await self.fetch(select(t.meter_replacements).where(c.meter_id == meter_id).order_by(c.ts))
        return [_exchange(row) for row in rows]

    async def exchanges_of(self, meter_ids: Iterable[str]) -> dict[str, list[MeterExchange]]:
        """`exchanges` of many meters in one query; every meter asked about has a list."""
        wanted = sorted(set(meter_ids))
        result: dict[str, list[MeterExchange]] = {m: [] for m in wanted}
        c = t.meter_replacements.c
        for exchange in [_exchange(row) for row in await self.fetch(select(t.meter_replacements).order_by(c.ts))]:
            if exchange.meter_id in result:
                result[exchange.meter_id].append(exchange)
        return result


def _exchange(row: Row[Any]) -> MeterExchange:
    return MeterExchange(row.meter_id, from_ms(row.ts), row.old_final, row.new_initial, row.note, row.source)
