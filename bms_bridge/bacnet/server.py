"""BACnet/IP server facade: one device whose objects are our exposed points.

    async with BacnetServer(settings, points) as server:
        server.update(PointValue(...))      # Present_Value + status; COV goes out by itself
        server.add_object(later_point)      # tenant consumption, flags, ... after start

`GatewayApplication` serves ReadProperty, ReadPropertyMultiple (all/required/optional), Who-Is/I-Am,
Who-Has/I-Have, SubscribeCOV (confirmed/unconfirmed, with lifetimes, 13.14) and refuses writes that
YAML did not allow; this module builds the device, checks that the UDP sockets really bound and maps
domain statuses onto the objects.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from bacpypes3.basetypes import BDTEntry, HostNPort, IPMode, ObjectTypesSupported, Segmentation
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.primitivedata import ObjectType

from bms_bridge.bacnet.application import GatewayApplication
from bms_bridge.bacnet.objects import HonestPropertyList, PointObject, build_object
from bms_bridge.bacnet.settings import BacnetDeviceSettings
from bms_bridge.bacnet.trend_log import TrendSource, build_trend_log
from bms_bridge.exposure.points import ExposedPoint, PointValue

log = logging.getLogger(__name__)

# Annex J: the largest APDU that fits one BACnet/IP datagram
MAX_APDU_BIP = 1476
# The revision bacpypes3's object and property tables follow (Network Port object, rev. >= 17)
PROTOCOL_REVISION = 22


class BacnetBindError(RuntimeError):
    """The UDP port could not be bound (bacpypes3 itself would retry forever in silence)."""


class BacnetServer:
    def __init__(
        self, settings: BacnetDeviceSettings, points: Iterable[ExposedPoint] = (), trends: TrendSource | None = None
    ) -> None:
        self.settings = settings
        self._trends = trends  # with a source, each point with `trend_log` gets a Trend Log object
        self._trend_logs: dict[str, Any] = {}
        self._pending: list[ExposedPoint] = []
        self._objects: dict[str, PointObject] = {}
        self._app: Any = None  # bacpypes3 Application once started
        self._link_layer: Any = None
        # owners of each object name and (type, instance), pending or installed: duplicates fail loudly
        self._names: dict[str, str] = {}
        self._refs: dict[tuple[str, int], str] = {}
        self._ids: set[str] = set()
        for point in points:
            self.add_object(point)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> BacnetServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._app is not None:
            raise RuntimeError("BACnet server already started")
        self._check_port_free()
        device, port = self._device_object(), self._network_port_object()
        # bacpypes3 objects schedule work on the running loop when created: build them here, not in
        # __init__, which may run outside a loop
        app = GatewayApplication.from_object_list([device, port])
        app.trend_logs_served = self._trends is not None
        self._app = app
        self._link_layer = app.link_layers[port.objectIdentifier]
        try:
            await self._wait_bound()
            for point in self._pending:
                self._install(point)
        except BaseException:
            await self.stop()
            raise
        self._pending.clear()
        log.info(
            "BACnet device %s (%r) serving %d objects on %s",
            self.settings.device_instance,
            self.settings.device_name,
            len(self._objects),
            self.settings.address,
        )

    async def stop(self) -> None:
        app, link = self._app, self._link_layer
        if app is None:
            return
        self._app = self._link_layer = None
        if self.settings.foreign_device is not None and link is not None:
            # J.5.2: deregister (TTL 0) instead of leaving an entry to expire in the BBMD's FDT
            link.unregister()
            await asyncio.sleep(0.05)  # let the deregistration datagram leave before closing
        if self.settings.bbmd_peers is not None and link is not None:
            link._fdt_clock_handle.cancel()  # the BBMD's 1 s FDT clock would reschedule itself forever
        udp = getattr(link, "server", None)
        for task in getattr(udp, "_transport_tasks", []):
            task.cancel()
        transports = [t for t in (udp.local_transport, udp.broadcast_transport) if t is not None] if udp else []
        app.close()
        # a datagram transport closes its socket on the next loop turn: wait, so that the port is
        # free when stop() returns (a restart would otherwise find it taken)
        deadline = asyncio.get_running_loop().time() + 1.0
        while any(t.get_extra_info("socket").fileno() != -1 for t in transports):
            if asyncio.get_running_loop().time() > deadline:
                log.warning("BACnet/IP sockets still open after close")
                break
            await asyncio.sleep(0)
        # re-queue the points so a restarted server serves them again
        installed = [po.point for po in self._objects.values()]
        self._pending = installed + [p for p in self._pending if p.point_id not in self._objects]
        self._objects.clear()
        self._trend_logs.clear()
        log.info("BACnet device %s stopped", self.settings.device_instance)

    # -- points ------------------------------------------------------------------------------------

    def add_object(self, point: ExposedPoint) -> None:
        """Expose one more point; before start it is queued, after start it is served at once."""
        ref = (point.bacnet_object, point.bacnet_instance)
        if point.point_id in self._ids:
            raise ValueError(f"point {point.point_id!r} is already exposed over BACnet")
        if point.name in self._names:
            raise ValueError(
                f"BACnet object name {point.name!r} used by {self._names[point.name]} and {point.point_id}"
            )
        if ref in self._refs:
            raise ValueError(f"BACnet object {ref[0]},{ref[1]} used by {self._refs[ref]} and {point.point_id}")
        if self._app is None:
            self._pending.append(point)
        else:
            self._install(point)
        self._ids.add(point.point_id)
        self._names[point.name] = point.point_id
        self._refs[ref] = point.point_id

    def add_points(self, points: Iterable[ExposedPoint]) -> None:
        for point in points:
            self.add_object(point)

    def remove_object(self, point_id: str) -> None:
        self._ids.discard(point_id)
        self._names = {name: pid for name, pid in self._names.items() if pid != point_id}
        self._refs = {ref: pid for ref, pid in self._refs.items() if pid != point_id}
        if self._app is None:
            self._pending = [p for p in self._pending if p.point_id != point_id]
            return
        po = self._objects.pop(point_id)
        trend_log = self._trend_logs.pop(point_id, None)
        if trend_log is not None:
            self._app.delete_object(trend_log)
        detection = self._app._cov_detections.get(po.obj.objectIdentifier)
        if detection is not None:  # end its COV subscriptions (13.14: the object is gone)
            for cov in list(detection.cov_subscriptions):
                self._app.cancel_subscription(cov)
        self._app.delete_object(po.obj)
        self._bump_database_revision()

    def update(self, value: PointValue) -> None:
        """Show a new reading and status; COV notifications go out from the event loop."""
        try:
            po = self._objects[value.point_id]
        except KeyError:
            raise KeyError(f"point {value.point_id!r} is not exposed over BACnet (or not started)") from None
        po.apply(value)

    def update_many(self, values: Iterable[PointValue]) -> None:
        for value in values:
            self.update(value)

    @property
    def points(self) -> list[ExposedPoint]:
        return [po.point for po in self._objects.values()] + list(self._pending)

    @property
    def running(self) -> bool:
        return self._app is not None

    @property
    def cov_subscription_count(self) -> int:
        """Active SubscribeCOV subscriptions over all objects (13.14), e.g. for health metrics."""
        if self._app is None:
            return 0
        return sum(len(d.cov_subscriptions) for d in self._app._cov_detections.values())

    # -- BBMD / foreign device -----------------------------------------------------------------------

    @property
    def foreign_device_registered(self) -> bool:
        """True once the BBMD accepted our Register-Foreign-Device (J.5.2.1 result 0)."""
        if self.settings.foreign_device is None or self._link_layer is None:
            return False
        return bool(self._link_layer.bbmdRegistrationStatus == 0)

    def foreign_device_table(self) -> list[str]:
        """'host:port' of each foreign device registered with us as a BBMD (J.5.2)."""
        if self.settings.bbmd_peers is None or self._link_layer is None:
            return []
        return [str(entry.fdAddress) for entry in self._link_layer.bbmdFDT]

    # -- internals -----------------------------------------------------------------------------------

    def _install(self, point: ExposedPoint) -> None:
        po = build_object(point, accumulator_decimals=self.settings.accumulator_decimals)
        self._app.add_object(po.obj)
        self._objects[point.point_id] = po
        if self._trends is not None and point.trend_log:
            trend_log = build_trend_log(point, self._trends)
            self._app.add_object(trend_log)
            self._trend_logs[point.point_id] = trend_log
        self._bump_database_revision()

    def _bump_database_revision(self) -> None:
        # 12.11 Device, Database_Revision: incremented whenever an object is created or deleted, so a
        # BMS knows to re-read Object_List
        device = self._app.device_object
        device.databaseRevision = int(device.databaseRevision) + 1

    def _check_port_free(self) -> None:
        # bacpypes3 binds with SO_REUSEPORT, so a second BACnet process on our port would silently share
        # (and steal) our traffic. A plain bind without it fails if anyone else holds the port.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((self.settings.host, self.settings.port))
            except OSError as err:
                raise BacnetBindError(f"cannot bind BACnet/IP to {self.settings.unicast_address}: {err}") from err

    async def _wait_bound(self) -> None:
        server = self._link_layer.server
        tasks = list(server._transport_tasks)
        _done, pending = await asyncio.wait(tasks, timeout=self.settings.bind_timeout)
        if pending or server.local_transport is None:
            raise BacnetBindError(
                f"BACnet/IP did not bind {self.settings.address} within {self.settings.bind_timeout} s "
                "(address not on this host, or port taken)"
            )
        if server.broadcast_address is not None and server.broadcast_transport is None:
            raise BacnetBindError(f"BACnet/IP broadcast socket {server.broadcast_address} did not bind")

    def _device_object(self) -> Any:
        s = self.settings
        return GatewayDevice(
            objectIdentifier=("device", s.device_instance),
            objectName=s.device_name,
            vendorIdentifier=s.vendor_id,
            vendorName=s.vendor_name,
            modelName=s.model_name,
            description=s.description,
            location=s.location,
            firmwareRevision="n/a",
            applicationSoftwareVersion=_software_version(),
            maxApduLengthAccepted=MAX_APDU_BIP,
            protocolRevision=PROTOCOL_REVISION,
            # segmentation lets Object_List and RPM 'all' answers exceed one datagram (5.2)
            segmentationSupported=Segmentation.segmentedBoth,
        )

    def _network_port_object(self) -> Any:
        s = self.settings
        port = GatewayNetworkPort(s.address, objectIdentifier=("network-port", 1), objectName="NetworkPort-1")
        if s.foreign_device is not None:
            port.bacnetIPMode = IPMode.foreign
            port.fdBBMDAddress = HostNPort(s.foreign_device.bbmd_address)
            port.fdSubscriptionLifetime = s.foreign_device.ttl_seconds
        elif s.bbmd_peers is not None:
            # J.4.3: the BDT lists every BBMD of the internetwork, this one included
            peers = dict.fromkeys((s.unicast_address, *s.bbmd_peers))
            port.bacnetIPMode = IPMode.bbmd
            port.bbmdAcceptFDRegistrations = True
            port.bbmdForeignDeviceTable = []
            port.bbmdBroadcastDistributionTable = [BDTEntry(peer) for peer in peers]
        return port


class GatewayNetworkPort(HonestPropertyList, NetworkPortObject):  # type: ignore[misc]
    """The BACnet/IP Network Port object, listing its properties as clause 12 says of Property_List."""


class GatewayDevice(HonestPropertyList, DeviceObject):  # type: ignore[misc]
    """bacpypes3's local device reports no object types; list the ones we serve (12.11 Device,
    Protocol_Object_Types_Supported) so a BMS knows what to expect."""

    @property
    def protocolObjectTypesSupported(self) -> ObjectTypesSupported:
        types = {"device", "network-port"}
        if self._app is not None:
            types.update(str(objid[0]) for objid in self._app.objectIdentifier)
        bits = ObjectTypesSupported([])
        for name in types:
            bits[getattr(ObjectTypesSupported, ObjectType(name).attr)] = 1
        return bits

    @protocolObjectTypesSupported.setter
    def protocolObjectTypesSupported(self, value: Any) -> None:
        pass  # computed


def _software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bms-bridge")
    except PackageNotFoundError:
        return "0+unknown"
