"""LPWAN frames in the store: which uplinks (device, frame counter, session, network-server id) have
been received, so a delivery repeated by the network server is stored once, and the device clocks
the frames carry.

Its own file because duplicate detection for LPWAN uplinks has its own rules (frame counters restart
on a rejoin, sessions tell rejoins apart) that belong to the intake and to nothing else in the store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, update

from metering.store import schema as t
from metering.store.base import StoreBase
from metering.store.timecodec import from_ms, opt_to_ms, to_ms


class FrameRecords(StoreBase):
    """Note LPWAN uplinks, tell duplicates apart and list the device clocks they carried."""

    async def frame_seen(
        self,
        dev_eui: str,
        f_cnt: int,
        *,
        session: str | None = None,
        delivery_id: str | None = None,
        replace_older_than: datetime | None = None,
    ) -> bool:
        """True when this uplink is already stored: the same network-server uplink id, or the same
        (dev_eui, f_cnt) in the same session. Frame counters restart at 0 when a device rejoins; a new
        session (device address) tells a rejoin apart however late it comes. Only where a session is
        unknown is an entry from before `replace_older_than` taken for an earlier session."""
        c = t.lpwan_frames.c
        if delivery_id is not None and await self.fetch(select(c.f_cnt).where(c.delivery_id == delivery_id).limit(1)):
            return True
        rows = await self.fetch(
            select(c.received_at, c.session).where(c.dev_eui == dev_eui.lower(), c.f_cnt == f_cnt).limit(1)
        )
        if not rows:
            return False
        stored = rows[0]
        if session is not None and stored.session is not None:
            return bool(stored.session == session)
        return replace_older_than is None or stored.received_at >= to_ms(replace_older_than)

    async def frame_clocks(self, since: datetime, until: datetime) -> list[tuple[str, datetime, datetime]]:
        """(dev_eui, device_time, received_at) of the frames received in [since, until) that carry a time."""
        c = t.lpwan_frames.c
        rows = await self.fetch(
            select(c.dev_eui, c.device_time, c.received_at)
            .where(c.device_time.is_not(None), c.received_at >= to_ms(since), c.received_at < to_ms(until))
            .order_by(c.received_at)
        )
        return [(str(r.dev_eui), from_ms(r.device_time), from_ms(r.received_at)) for r in rows]

    async def remember_frame(
        self,
        dev_eui: str,
        f_cnt: int,
        device_time: datetime | None,
        received_at: datetime,
        *,
        replace_older_than: datetime | None = None,
        session: str | None = None,
        delivery_id: str | None = None,
    ) -> bool:
        """Note an uplink; False when (dev_eui, f_cnt) was already seen (a duplicate delivery).

        Frame counters restart at 0 when a device rejoins. A caller that decides a frame seen before
        `replace_older_than` must be from an earlier session passes that cut-off: the old entry is
        then replaced and the frame counts as new.
        """
        c = t.lpwan_frames.c
        values = {
            "dev_eui": dev_eui.lower(),
            "f_cnt": f_cnt,
            "device_time": opt_to_ms(device_time),
            "received_at": to_ms(received_at),
            "session": session,
            "delivery_id": delivery_id,
        }
        stmt = (
            self.insert(t.lpwan_frames)
            .values(values)
            .on_conflict_do_nothing(index_elements=["dev_eui", "f_cnt"])
            .returning(c.f_cnt)
        )
        async with self.write() as conn:
            if (await conn.execute(stmt)).first() is not None:
                return True
            same_frame = (c.dev_eui == values["dev_eui"], c.f_cnt == f_cnt)
            if session is not None:  # a rejoin: the new session's frame replaces the old session's
                newer = and_(*same_frame, c.session.is_not(None), c.session != session)
            elif replace_older_than is not None:
                newer = and_(*same_frame, c.received_at < to_ms(replace_older_than))
            else:
                return False
            result = await conn.execute(
                update(t.lpwan_frames)
                .where(newer)
                .values(
                    device_time=values["device_time"],
                    received_at=values["received_at"],
                    session=session,
                    delivery_id=delivery_id,
                )
            )
            return bool(result.rowcount == 1)
