"""Simulated Modbus meters: real pymodbus servers on loopback serving every Modbus meter of a site.

One server per gateway bus (all unit ids of that bus) and one per direct Modbus TCP host:port, each
device's registers laid out by its profile and refreshed from the load model every few seconds at the
injected clock's time. RTU-over-TCP buses are served with RTU framing; serial buses are skipped (a pty
pair is a test concern, docs/testing-peers.md).

    async with SimulatedMeters(site) as meters:   # ports as the site says, or port_map={15020: 40123}
        ...

Only this module imports pymodbus; the values come from `registers.MeterRegisters`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from pymodbus import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from bms_bridge.simulate.history import simulated_history
from bms_bridge.simulate.load_model import LoadModel, Scenario
from bms_bridge.simulate.registers import MeterRegisters, RegisterBlock
from bms_bridge.tasks import cancel_and_wait
from metering.clock import Clock, utc_now
from point_mapping.loader import LoadedSite
from point_mapping.model import Device, ModbusRtuConnection, ModbusTcpConnection
from point_mapping.model.devices import ModbusTcpGatewayBus, RtuOverTcpBus

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


wall_clock = utc_now  # simulated meters count on the same clock as the service


@dataclass
class Endpoint:
    """One listening server: the devices (by unit id) it answers for."""

    name: str  # bus id or "host:port"
    host: str
    port: int  # the port actually bound (after port_map)
    rtu_framing: bool
    devices: dict[int, Device] = field(default_factory=dict)
    server: ModbusTcpServer | None = None


def _sim_device(unit: int, blocks: list[RegisterBlock]) -> SimDevice:
    # SimDevice needs an entry in each of its four lists; an unused block stands for "none".
    holding = [SimData(b.address, values=b.words, datatype=DataType.REGISTERS) for b in blocks if b.function_code == 3]
    inputs = [SimData(b.address, values=b.words, datatype=DataType.REGISTERS) for b in blocks if b.function_code == 4]
    no_bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    return SimDevice(
        id=unit,
        simdata=(
            no_bits,
            list(no_bits),
            holding or [SimData(65535, datatype=DataType.INVALID)],
            inputs or [SimData(65535, datatype=DataType.INVALID)],
        ),
    )


class SimulatedMeters:
    """Every Modbus endpoint of a site as a live pymodbus server (`async with`)."""

    def __init__(
        self,
        site: LoadedSite,
        *,
        clock: Clock = wall_clock,
        refresh_interval: float = 5.0,
        port_map: Mapping[int, int] | None = None,
        model: LoadModel | None = None,
        scenario: Scenario | None = None,
    ) -> None:
        self.site = site
        self.clock = clock
        self.refresh_interval = refresh_interval
        self.model = model or LoadModel(site.model, scenario)
        self.registers = MeterRegisters(site.model, site.profiles, self.model)
        self.endpoints = self._endpoints(dict(port_map or {}))
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def _endpoints(self, port_map: dict[int, int]) -> list[Endpoint]:
        found: dict[str, Endpoint] = {}
        for device in self.site.model.devices:
            connection = device.connection
            if not device.enabled:
                continue
            if isinstance(connection, ModbusTcpConnection):
                key, host, port, rtu = f"{connection.host}:{connection.port}", connection.host, connection.port, False
                unit = connection.unit
            elif isinstance(connection, ModbusRtuConnection):
                bus = self.site.model.bus_by_id[connection.bus]
                if not isinstance(bus, ModbusTcpGatewayBus | RtuOverTcpBus):
                    log.info("device %s is on serial bus %s: not simulated", device.id, bus.id)
                    continue
                key, host, port, rtu = bus.id, bus.host, bus.port, isinstance(bus, RtuOverTcpBus)
                unit = connection.unit
            else:
                continue
            if host not in (LOOPBACK, "localhost"):
                log.warning("device %s is at %s, not loopback: not simulated", device.id, host)
                continue
            endpoint = found.get(key)
            if endpoint is None:
                endpoint = found[key] = Endpoint(key, LOOPBACK, port_map.get(port, port), rtu)
            endpoint.devices[unit] = device
        return list(found.values())

    def address_of(self, device_id: str) -> tuple[str, int, int]:
        """(host, port, unit) a client uses to reach a simulated device."""
        for endpoint in self.endpoints:
            for unit, device in endpoint.devices.items():
                if device.id == device_id:
                    return endpoint.host, endpoint.port, unit
        raise KeyError(f"device {device_id!r} is not simulated")

    def _images(self, t: datetime) -> list[tuple[Endpoint, int, list[RegisterBlock]]]:
        return [
            (endpoint, unit, self.registers.blocks(device, t))
            for endpoint in self.endpoints
            for unit, device in endpoint.devices.items()
        ]

    async def __aenter__(self) -> SimulatedMeters:
        # The first computation integrates from the model's epoch (seconds for years): off the loop.
        images = await asyncio.to_thread(self._images, self.clock())
        by_endpoint: dict[str, list[SimDevice]] = {}
        for endpoint, unit, blocks in images:
            by_endpoint.setdefault(endpoint.name, []).append(_sim_device(unit, blocks))
        try:
            for endpoint in self.endpoints:
                framer = FramerType.RTU if endpoint.rtu_framing else FramerType.SOCKET
                server = ModbusTcpServer(
                    by_endpoint[endpoint.name], framer=framer, address=(endpoint.host, endpoint.port)
                )
                await server.serve_forever(background=True)
                endpoint.server = server
                await self._wait_listening(endpoint)
                log.info("simulating %d Modbus devices on %s:%d", len(endpoint.devices), endpoint.host, endpoint.port)
        except BaseException:
            await self._stop_servers()
            raise
        self._task = asyncio.create_task(self._refresh_loop(), name="simulated-meters-refresh")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self._stop_servers()

    async def _stop_servers(self) -> None:
        for endpoint in self.endpoints:
            if endpoint.server is not None:
                await endpoint.server.shutdown()  # type: ignore[no-untyped-call]
                endpoint.server = None

    @staticmethod
    async def _wait_listening(endpoint: Endpoint) -> None:
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise RuntimeError(f"Modbus simulator for {endpoint.name} did not listen on {endpoint.host}:{endpoint.port}")

    async def refresh(self, t: datetime | None = None) -> datetime:
        """Write every register for time t (default: the clock's now); returns the time used."""
        async with self._lock:
            at = t or self.clock()
            for endpoint, unit, blocks in await asyncio.to_thread(self._images, at):
                assert endpoint.server is not None
                for block in blocks:
                    await endpoint.server.async_setValues(unit, block.function_code, block.address, block.words)
            return at

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval)
            try:
                await self.refresh()
            except Exception:  # keep serving the last values; the next round may succeed
                log.exception("refreshing simulated meters failed")


__all__ = ["Endpoint", "SimulatedMeters", "simulated_history", "wall_clock"]
