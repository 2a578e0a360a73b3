"""Modbus acquisition for a site: continuous (`ModbusAcquisition`) or one round (`poll_once`).

async with ModbusAcquisition(site, sink=writer.put, health_sink=record) as acquisition:
    ...  # one poller task per enabled Modbus device runs until the block ends
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from bms_bridge.modbus.device_poller import (
    CycleOutcome,
    DevicePoller,
    HealthSink,
    ReadingSink,
)
from bms_bridge.modbus.network import ModbusNetwork
from metering.clock import Clock, utc_now
from metering.health import DeviceHealth
from metering.readings import Reading
from point_mapping.loader import LoadedSite
from point_mapping.model import Device, ModbusRtuConnection, ModbusTcpConnection

log = logging.getLogger(__name__)


def modbus_devices(site: LoadedSite) -> list[Device]:
    """Enabled Modbus devices, in site order."""
    return [
        d
        for d in site.model.devices
        if d.enabled and isinstance(d.connection, ModbusTcpConnection | ModbusRtuConnection)
    ]


def _pollers(
    site: LoadedSite, network: ModbusNetwork, sink: ReadingSink, health_sink: HealthSink, clock: Clock
) -> dict[str, DevicePoller]:
    pollers: dict[str, DevicePoller] = {}
    for device in modbus_devices(site):
        poller = DevicePoller(site.model, site.profiles, device, network.link(device), sink, health_sink, clock)
        if not poller.plan:
            log.info("device %s has no in-service point to read; not polled", device.id)
            continue
        pollers[device.id] = poller
    return pollers


class ModbusAcquisition:
    """Starts one poller task per enabled Modbus device on entry; stops them and closes clients on exit."""

    def __init__(self, site: LoadedSite, sink: ReadingSink, health_sink: HealthSink, clock: Clock = utc_now) -> None:
        self.site = site
        self.network = ModbusNetwork(site.model)
        self.pollers = _pollers(site, self.network, sink, health_sink, clock)
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> ModbusAcquisition:
        self._tasks = [
            asyncio.create_task(poller.run(), name=f"modbus-poller:{device_id}")
            for device_id, poller in self.pollers.items()
        ]
        log.info("modbus acquisition started: %d devices", len(self._tasks))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.network.close()


@dataclass
class PollResult:
    """One round over every Modbus device: readings, and per device its errors and health."""

    readings: list[Reading] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)  # device id -> error texts (failed only)
    unavailable: dict[str, list[str]] = field(default_factory=dict)  # device id -> points reading "n/a"
    health: dict[str, DeviceHealth] = field(default_factory=dict)
    requests: int = 0
    registers: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        """Plain data for `bms-bridge poll --once --json`."""
        return {
            "readings": [
                {
                    "point": r.point_id,
                    "ts": r.ts.isoformat(),
                    "value": r.value,
                    "quality": r.quality.value,
                    "source": r.source,
                }
                for r in self.readings
            ],
            "errors": self.errors,
            "unavailable": self.unavailable,
            "devices": {
                device_id: {"online": h.online, "last_error": h.last_error} for device_id, h in self.health.items()
            },
            "requests": self.requests,
            "registers": self.registers,
        }


async def poll_once(site: LoadedSite, clock: Clock = utc_now) -> PollResult:
    """Poll every enabled Modbus device once, concurrently within the lanes' bounds."""

    async def discard(_: object) -> None:
        return None

    network = ModbusNetwork(site.model)
    try:
        pollers = _pollers(site, network, discard, discard, clock)
        # a TaskGroup waits for every attempt (cancelling the rest if one fails) before the clients close
        async with asyncio.TaskGroup() as group:
            attempts = [group.create_task(p.attempt()) for p in pollers.values()]
        outcomes: list[CycleOutcome] = [attempt.result() for attempt in attempts]
    finally:
        network.close()
    result = PollResult()
    for poller, outcome in zip(pollers.values(), outcomes, strict=True):
        result.readings.extend(outcome.readings)
        if outcome.errors:
            result.errors[outcome.device_id] = list(outcome.errors)
        if outcome.unavailable:
            result.unavailable[outcome.device_id] = list(outcome.unavailable)
        result.health[outcome.device_id] = poller.health
        result.requests += outcome.requests
        result.registers += outcome.registers
    return result
