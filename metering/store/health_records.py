"""Device health in the store: one row per device with its online state, last success, last error
and failure counts, as `metering.health` computes them for every protocol.

Its own file because device health is written by one recorder task on its own rhythm and shares
nothing with readings or events but the plumbing in `base`; the row decoding lives here with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from metering.health import DeviceHealth, after_attempt
from metering.store import schema as t
from metering.store.base import StoreBase
from metering.store.timecodec import from_ms, opt_from_ms, opt_to_ms, to_ms


class HealthRecords(StoreBase):
    """Record, store and list device health."""

    async def record_health(
        self, device_id: str, at: datetime, error: str | None = None, *, offline_after: int = 1
    ) -> DeviceHealth:
        """Record one poll of `device_id` (success when `error` is None) and return the new state."""
        async with self.write() as conn:
            c = t.device_health.c
            result = await conn.execute(select(t.device_health).where(c.device_id == device_id))
            row = result.first()
            previous = _health(row) if row is not None else DeviceHealth.unknown(device_id, at)
            health = after_attempt(previous, at, error, offline_after=offline_after)
            await self._upsert_health(conn, health)
        return health

    async def save_health(self, health: DeviceHealth) -> None:
        """Store a state computed elsewhere, replacing the device's previous one."""
        async with self.write() as conn:
            await self._upsert_health(conn, health)

    async def _upsert_health(self, conn: AsyncConnection, health: DeviceHealth) -> None:
        values = {
            "device_id": health.device_id,
            "online": health.online,
            "last_success": opt_to_ms(health.last_success),
            "last_attempt": opt_to_ms(health.last_attempt),
            "last_error": health.last_error,
            "error_count": health.error_count,
            "consecutive_failures": health.consecutive_failures,
            "updated_at": to_ms(health.updated_at),
        }
        stmt = self.insert(t.device_health).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["device_id"],
            set_={k: stmt.excluded[k] for k in values if k != "device_id"},
        )
        await conn.execute(stmt)

    async def device_health(self) -> list[DeviceHealth]:
        rows = await self.fetch(select(t.device_health).order_by(t.device_health.c.device_id))
        return [_health(row) for row in rows]


def _health(row: Row[Any]) -> DeviceHealth:
    return DeviceHealth(
        device_id=row.device_id,
        online=bool(row.online),
        last_success=opt_from_ms(row.last_success),
        last_attempt=opt_from_ms(row.last_attempt),
        last_error=row.last_error,
        error_count=row.error_count,
        consecutive_failures=row.consecutive_failures,
        updated_at=from_ms(row.updated_at),
    )
