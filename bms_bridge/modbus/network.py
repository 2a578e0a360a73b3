"""The site's Modbus endpoints: a lane and a client per serial bus, a lane and a client pool per TCP host.

A poller gets a `DeviceLink` and reads through it; the link queues on the right lane. Nothing is
connected until the first request.
"""

from __future__ import annotations

from collections.abc import Mapping

from bms_bridge.modbus.clients import LazyClient, bus_client, tcp_client
from bms_bridge.modbus.lanes import BusLane, HostLane
from point_mapping.model import Device, ModbusRtuConnection, ModbusTcpConnection, SiteModel


class _TcpPool:
    """Connections to one host:port; at most as many as its host lane lets requests through."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._idle: list[LazyClient] = []
        self._all: list[LazyClient] = []

    def take(self, timeout: float) -> LazyClient:
        if self._idle:
            return self._idle.pop()
        client = LazyClient(f"{self.host}:{self.port}", tcp_client(self.host, self.port, timeout))
        self._all.append(client)
        return client

    def give(self, client: LazyClient) -> None:
        self._idle.append(client)

    @property
    def size(self) -> int:
        return len(self._all)

    def close(self) -> None:
        for client in self._all:
            client.close()


class DeviceLink:
    """How one device is asked: its unit id, its timeout, and the lane its requests queue on."""

    def __init__(
        self,
        device_id: str,
        unit: int,
        timeout: float,
        *,
        bus: tuple[BusLane, LazyClient] | None = None,
        tcp: tuple[HostLane, _TcpPool] | None = None,
    ) -> None:
        if (bus is None) == (tcp is None):
            raise ValueError("a device link goes through a bus or a TCP host, exactly one")
        self.device_id = device_id
        self.unit = unit
        self.timeout = timeout
        self._bus = bus
        self._tcp = tcp

    async def read(self, function_code: int, address: int, count: int) -> list[int]:
        if self._bus is not None:
            lane, client = self._bus
            async with lane.turn():
                return await client.read(function_code, address, count, self.unit, self.timeout)
        assert self._tcp is not None
        host_lane, pool = self._tcp
        async with host_lane.turn():
            pooled = pool.take(self.timeout)
            try:
                return await pooled.read(function_code, address, count, self.unit, self.timeout)
            finally:
                pool.give(pooled)


class ModbusNetwork:
    """Lanes and clients of one site, created on demand and closed together."""

    def __init__(self, site: SiteModel) -> None:
        self._site = site
        self.bus_lanes: dict[str, BusLane] = {}
        self.host_lanes: dict[str, HostLane] = {}
        self._bus_clients: dict[str, LazyClient] = {}
        self._pools: dict[tuple[str, int], _TcpPool] = {}

    @property
    def pools(self) -> Mapping[tuple[str, int], _TcpPool]:
        return self._pools

    def link(self, device: Device) -> DeviceLink:
        connection = device.connection
        timeout = device.timeout.total_seconds()
        if isinstance(connection, ModbusRtuConnection):
            bus = self._site.bus_by_id[connection.bus]
            if bus.id not in self.bus_lanes:
                self.bus_lanes[bus.id] = BusLane(bus.id, bus.frame_gap.total_seconds())
                self._bus_clients[bus.id] = LazyClient(f"bus {bus.id}", bus_client(bus))
            # On a bus the line's own timeout bounds each answer too.
            timeout = min(timeout, bus.timeout.total_seconds())
            return DeviceLink(
                device.id, connection.unit, timeout, bus=(self.bus_lanes[bus.id], self._bus_clients[bus.id])
            )
        if isinstance(connection, ModbusTcpConnection):
            host_lane = self.host_lanes.get(connection.host)
            if host_lane is None:
                cap = self._site.acquisition.max_in_flight_per_host
                host_lane = self.host_lanes[connection.host] = HostLane(connection.host, cap)
            key = (connection.host, connection.port)
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = _TcpPool(*key)
            return DeviceLink(device.id, connection.unit, timeout, tcp=(host_lane, pool))
        raise ValueError(f"device {device.id} is not a Modbus device ({connection.kind})")

    def close(self) -> None:
        for client in self._bus_clients.values():
            client.close()
        for pool in self._pools.values():
            pool.close()
