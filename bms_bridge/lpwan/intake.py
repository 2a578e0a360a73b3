"""One path for every uplink, whichever transport brought it: parse, check, dedup, write readings.

Order matters (docs/lpwan-intake.md): everything that can reject an uplink (parsing, unknown device,
decoding) runs first; the readings are committed next; the frame is remembered last, so neither a bad
delivery retried after a fix nor a delivery interrupted by a crash is mistaken for a duplicate.
Duplicates are recognised by the network server's uplink id, or by (dev_eui, f_cnt) within the
device's session; the reading insert is idempotent on (point, ts) as well, so a duplicate that slips
through stores nothing twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from metering.clock import Clock, utc_now
from metering.log_context import device_var, log_context
from metering.lpwan import Network, UplinkError, lpwan_connection, parse_chirpstack_v4, parse_tts_v3, parse_uplink
from metering.lpwan import uplink_readings as readings_of
from metering.readings import Quality, Reading
from metering.time_bounds import bounds_for
from point_mapping.loader import LoadedSite
from point_mapping.model import Meter

log = logging.getLogger(__name__)


# Only for uplinks that carry no session (device address): a frame counter seen again after this long
# is taken as a new session (the device rejoined and restarted at 0), not as a duplicate.
DEFAULT_SESSION_GAP = timedelta(hours=1)


class UnknownDevice(UplinkError):
    """A well-formed uplink from a DevEUI the site does not list."""


class FrameLog(Protocol):
    """Where seen frames are noted; `metering.store.Store` is one."""

    async def frame_seen(
        self,
        dev_eui: str,
        f_cnt: int,
        *,
        session: str | None = None,
        delivery_id: str | None = None,
        replace_older_than: datetime | None = None,
    ) -> bool: ...

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
    ) -> bool: ...


class ReadingSink(Protocol):
    """Where readings go; `metering.store.ReadingWriter` is one, `StoreSink` another.

    `flush` returns once everything put so far is committed: the intake answers 2xx only then.
    """

    async def put_many(self, readings: list[Reading]) -> None: ...

    async def flush(self) -> None: ...


class ReadingInserter(Protocol):
    async def insert_readings(self, readings: list[Reading]) -> int: ...


class LpwanStore(FrameLog, ReadingInserter, Protocol):
    """A store that notes frames and inserts readings: `metering.store.Store`."""


class StoreSink:
    """Writes each uplink's readings straight to the store (one small transaction per uplink)."""

    def __init__(self, store: ReadingInserter) -> None:
        self._store = store

    async def put_many(self, readings: list[Reading]) -> None:
        await self._store.insert_readings(readings)

    async def flush(self) -> None:
        """Nothing to wait for: `put_many` committed already."""


@dataclass(frozen=True, slots=True)
class IntakeResult:
    dev_eui: str
    f_cnt: int
    duplicate: bool
    readings: int  # readings handed to the sink; 0 for a duplicate


@dataclass
class IntakeStats:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0  # malformed or undecodable
    unknown_devices: int = 0
    clock_faults: int = 0  # device time before the meter's start or in the future: stamped on receipt
    last_error: str | None = None


class UplinkIntake:
    """Shared by the webhook and the MQTT client; `handle` raises `UplinkError` for a bad uplink."""

    def __init__(
        self,
        site: LoadedSite,
        store: LpwanStore,
        sink: ReadingSink | None = None,
        *,
        clock: Clock = utc_now,
        session_gap: timedelta = DEFAULT_SESSION_GAP,
    ) -> None:
        self.site = site
        self._frames = store
        self._sink = sink if sink is not None else StoreSink(store)
        self._clock = clock
        self._session_gap = session_gap
        self.stats = IntakeStats()

    async def handle_bytes(self, body: bytes, *, network: Network | None = None, transport: str = "") -> IntakeResult:
        """Handle a raw JSON body; a body that is not JSON is an `UplinkError` (and counted)."""
        try:
            message = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            error = UplinkError(f"the body is not JSON: {exc}")
            self._count_rejected(error, transport)
            raise error from None
        except RecursionError:  # thousands of nested arrays: never an uplink, and never storable
            error = UplinkError("the body nests too deeply to be an uplink")
            self._count_rejected(error, transport)
            raise error from None
        return await self.handle(message, network=network, transport=transport)

    async def handle(self, message: Any, *, network: Network | None = None, transport: str = "") -> IntakeResult:
        with log_context(device=None):  # set once the uplink names a known device
            return await self._handle(message, network, transport)

    async def _handle(self, message: Any, network: Network | None, transport: str) -> IntakeResult:
        received_at = self._clock()
        try:
            if network == "chirpstack":
                uplink = parse_chirpstack_v4(message, received_at)
            elif network == "tts":
                uplink = parse_tts_v3(message, received_at)
            else:
                uplink = parse_uplink(message, received_at)
            known_device = lpwan_connection(self.site.model, uplink.dev_eui)
            if known_device is None:
                raise UnknownDevice(
                    f"no device in site '{self.site.model.site.id}' has dev_eui {uplink.dev_eui}; "
                    "add it under devices: with connection kind 'lpwan'"
                )
            device_var.set(known_device[0])  # reset when `handle` returns
            connection_meter = self._meter_of(uplink.dev_eui)
            problem = bounds_for(self.site.model, connection_meter).problem(uplink.device_time, received_at)
            readings = readings_of(self.site.model, uplink, self.site.profiles)
            if problem is not None:
                # A device clock that is unset (1970) or wrong: keep the values, stamped when we got
                # them and flagged, so no reading outside the data's span reaches the store or the BMS.
                self.stats.clock_faults += 1
                log.warning(
                    "uplink %s f_cnt %d: %s; stamped with the receive time", uplink.dev_eui, uplink.f_cnt, problem
                )
                readings = [replace(r, ts=uplink.received_at, quality=Quality.QUESTIONABLE) for r in readings]
        except UplinkError as exc:
            self._count_rejected(exc, transport)
            raise

        cutoff = uplink.received_at - self._session_gap
        known = await self._frames.frame_seen(
            uplink.dev_eui,
            uplink.f_cnt,
            session=uplink.session,
            delivery_id=uplink.delivery_id,
            replace_older_than=cutoff,
        )
        if known:
            self.stats.duplicates += 1
            log.debug("duplicate uplink %s f_cnt %d via %s", uplink.dev_eui, uplink.f_cnt, transport or "?")
            return IntakeResult(uplink.dev_eui, uplink.f_cnt, duplicate=True, readings=0)
        # Readings first, committed before the frame is remembered and before the caller answers 2xx:
        # a crash in between leaves the frame unknown, so the network server's redelivery is stored
        # (again: readings are idempotent by point and time), never refused as a duplicate.
        await self._sink.put_many(readings)
        await self._sink.flush()
        await self._frames.remember_frame(
            uplink.dev_eui,
            uplink.f_cnt,
            uplink.device_time,
            uplink.received_at,
            replace_older_than=cutoff,
            session=uplink.session,
            delivery_id=uplink.delivery_id,
        )
        self.stats.accepted += 1
        log.debug(
            "uplink %s f_cnt %d (%s via %s): %d readings at %s",
            uplink.dev_eui,
            uplink.f_cnt,
            uplink.network,
            transport or "?",
            len(readings),
            uplink.device_time.isoformat(),
        )
        return IntakeResult(uplink.dev_eui, uplink.f_cnt, duplicate=False, readings=len(readings))

    def _meter_of(self, dev_eui: str) -> Meter | None:
        """The first meter on the device (for its installation day), or None."""
        found = lpwan_connection(self.site.model, dev_eui)
        if found is None:
            return None
        return next((m for m in self.site.model.meters if m.device == found[0]), None)

    def _count_rejected(self, error: UplinkError, transport: str) -> None:
        if isinstance(error, UnknownDevice):
            self.stats.unknown_devices += 1
        else:
            self.stats.rejected += 1
        self.stats.last_error = str(error)
        log.warning("rejected uplink via %s: %s", transport or "?", error)


__all__ = [
    "DEFAULT_SESSION_GAP",
    "FrameLog",
    "IntakeResult",
    "IntakeStats",
    "LpwanStore",
    "ReadingSink",
    "StoreSink",
    "UnknownDevice",
    "UplinkIntake",
]
