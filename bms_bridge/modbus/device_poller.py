"""One scheduler per Modbus device (never per point): read its plan, decode, hand readings on.

Each cycle reads the blocks planned for the registers the device's in-service points use. Modbus
meters carry no timestamp, so every reading of a cycle gets the poll time from the injected clock.

Failures are of three kinds (`errors.py`). An answer with an exception or garbage costs one block: the
other blocks are still read and delivered, and health records the error. No answer at all ends the
cycle at once and puts the device into back-off: it is retried after backoff_initial, doubling up to
backoff_max (never sooner than its poll interval), and each retry is ONE small read (a probe) before
a full cycle, so a dead unit costs its bus one timeout per retry, not one per block.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bms_bridge.modbus.errors import AcquisitionError, DeviceUnreachable
from bms_bridge.modbus.network import DeviceLink
from metering.clock import Clock, utc_now
from metering.decoding import DecodeError
from metering.health import DeviceHealth, after_attempt, backoff_delay
from metering.log_context import device_var, log_context
from metering.point_values import point_sources, registers_wanted, values_from
from metering.read_plan import BlockDecoder, ReadBlock, plan_reads
from metering.readings import Reading
from point_mapping.model import Device, MeterProfile, SiteModel
from point_mapping.model.profiles import MODBUS_MAX_READ

log = logging.getLogger(__name__)

ReadingSink = Callable[[Reading], Awaitable[None]]
HealthSink = Callable[[DeviceHealth], Awaitable[None]]

MAX_ERRORS_IN_HEALTH = 3  # keep the health text readable when every block fails


@dataclass(frozen=True, slots=True)
class CycleOutcome:
    """What one attempt at a device produced."""

    device_id: str
    at: datetime
    readings: tuple[Reading, ...]
    unavailable: tuple[str, ...]  # points whose register said "not available"
    errors: tuple[str, ...]
    unreachable: bool
    probe_only: bool  # a probe of a dead device that failed: no full cycle was tried
    requests: int
    registers: int
    failed_points: tuple[str, ...] = ()  # points of the blocks or registers that failed: named in the log


def device_plan(site: SiteModel, device: Device, profiles: Mapping[str, MeterProfile]) -> list[ReadBlock]:
    """Blocks covering the registers the device's points use, within the profile's and device's limits."""
    profile = profiles[device.profile or ""]
    limit = min(profile.max_registers_per_read, device.max_registers_per_read or MODBUS_MAX_READ)
    wanted = [(name, profile.registers[name]) for name in registers_wanted(site, device.id)]
    return plan_reads(wanted, limit, profile.max_gap)


class DevicePoller:
    def __init__(
        self,
        site: SiteModel,
        profiles: Mapping[str, MeterProfile],
        device: Device,
        link: DeviceLink,
        sink: ReadingSink,
        health_sink: HealthSink,
        clock: Clock = utc_now,
    ) -> None:
        self.site, self.profiles, self.device, self.link = site, profiles, device, link
        self.sink, self.health_sink, self.clock = sink, health_sink, clock
        self.profile = profiles[device.profile or ""]
        self.plan = device_plan(site, device, profiles)
        # Formats, offsets and orders of every block, worked out once rather than every cycle.
        self.decoders = tuple(
            BlockDecoder(b, byte_order=self.profile.byte_order, word_order=self.profile.word_order) for b in self.plan
        )
        self.sources = point_sources(site, device.id, profiles)
        self.health = DeviceHealth.unknown(device.id, clock())
        self.unanswered = 0  # attempts in a row with no answer at all; drives back-off
        self.interval = device.poll_interval.total_seconds()
        self.backoff_initial = site.acquisition.backoff_initial.total_seconds()
        self.backoff_max = site.acquisition.backoff_max.total_seconds()

    def next_delay(self) -> float:
        if self.unanswered == 0:
            return self.interval
        return max(self.interval, backoff_delay(self.unanswered, self.backoff_initial, self.backoff_max))

    async def attempt(self) -> CycleOutcome:
        """Probe first if the device has been silent, then a full cycle; update health, deliver readings."""
        with log_context(device=self.device.id):
            at = self.clock()
            if self.unanswered and self.plan:
                probe = await self._probe(at)
                if probe is not None:
                    return await self._conclude(probe)
            return await self._conclude(await self._cycle(at))

    async def _probe(self, at: datetime) -> CycleOutcome | None:
        """A failed probe's outcome, or None when the device answered (even with an exception)."""
        _, spec = self.plan[0].members[0]
        try:
            await self.link.read(spec.function_code, spec.address, spec.register_count)
        except DeviceUnreachable as exc:
            return CycleOutcome(self.device.id, at, (), (), (str(exc),), True, True, 1, 0)
        except AcquisitionError:
            pass  # it answers; the full cycle tells what is wrong
        return None

    async def _cycle(self, at: datetime) -> CycleOutcome:
        decoded: dict[str, float | None] = {}
        errors: list[str] = []
        failed: set[str] = set()  # register names
        unreachable = False
        requests = registers = 0
        for decoder in self.decoders:
            block = decoder.block
            requests += 1
            try:
                words = await self.link.read(block.function_code, block.address, block.count)
            except DeviceUnreachable as exc:
                errors.append(str(exc))
                unreachable = True
                break  # a silent device would time out on every block
            except AcquisitionError as exc:
                errors.append(str(exc))
                failed.update(name for name, _ in block.members)
                continue
            registers += block.count
            try:
                block_values, undecoded = decoder.decode(words)
            except DecodeError as exc:
                errors.append(f"{self.device.id}: {exc}")
                failed.update(name for name, _ in block.members)
                continue
            decoded.update(block_values)
            errors.extend(f"{self.device.id} {name}: {exc}" for name, exc in undecoded)
            failed.update(name for name, _ in undecoded)
        values = values_from(self.sources, self.device.id, decoded, at)
        return CycleOutcome(
            self.device.id,
            at,
            values.readings,
            values.unavailable,
            tuple(errors),
            unreachable,
            False,
            requests,
            registers,
            tuple(s.point_id for s in self.sources if s.register in failed),
        )

    async def _conclude(self, outcome: CycleOutcome) -> CycleOutcome:
        self.unanswered = self.unanswered + 1 if outcome.unreachable else 0
        error = "; ".join(outcome.errors[:MAX_ERRORS_IN_HEALTH]) if outcome.errors else None
        self.health = after_attempt(self.health, outcome.at, error)
        if error and (outcome.readings or outcome.unavailable):
            # It answered and some blocks decoded: the device is reachable, so the BMS must not see a
            # communication failure on every point; the points whose block failed go stale instead.
            self.health = replace(self.health, online=True)
        if error:
            # one point affected: the line names it (a dead device or several points: the device only)
            point = outcome.failed_points[0] if len(outcome.failed_points) == 1 else None
            log.warning("device %s: %s", self.device.id, error, extra={"point": point})
        for reading in outcome.readings:
            await self.sink(reading)
        await self.health_sink(self.health)
        return outcome

    async def run(self) -> None:
        """Poll at a fixed rate until cancelled; a late cycle skips the slots it missed."""
        device_var.set(self.device.id)  # the task's own context: everything it logs names the device
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                await self.attempt()
            except Exception:  # a failing sink must not end the device's polling
                log.exception("device %s: poll cycle failed", self.device.id)
            due += self.next_delay()
            now = loop.time()
            if due < now:
                log.info("device %s: cycle overran its interval by %.3f s", self.device.id, now - due)
                due = now
