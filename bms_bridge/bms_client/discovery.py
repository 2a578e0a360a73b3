"""BMS discovery for integrators: who is there, and what does each controller hold?

    async with Discovery("127.0.0.1/8:47821", timeout=3.0) as discovery:
        devices = await discovery.run("127.0.0.1:47809", low=5001, high=5001)

Who-Is (clause 16.10), directed at one address or broadcast, optionally limited to a device instance
range; then, for each device that answers with I-Am, its Device object (Object_List, name,
description) and, for every object in Object_List, Object_Name, Description, Units and Present_Value.
A controller that cannot return its whole Object_List in one answer (it does not segment, so it
aborts) is read element by element: array index 0 is the length, 1..N the entries (ReadProperty,
clause 15.5). The objects' properties are read by ReadPropertyMultiple (15.7) a few objects at a time,
halved when the device aborts, and property by property when it rejects ReadPropertyMultiple.

Requests go one at a time per device (a live BMS network is shared with the plant's own traffic),
each bounded by `timeout`; a device that stops answering ends discovery with a `DiscoveryError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from bacpypes3.apdu import AbortPDU, ErrorRejectAbortNack, RejectPDU
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from bms_bridge.bms_client.client import SHRINKING_ABORTS, local_application
from point_mapping.units import UNITS

log = logging.getLogger(__name__)

DISCOVERY_INSTANCE = 4194002  # our own device instance while discovering (near the top of the range)
WHO_IS_ROUNDS = 3
OBJECTS_PER_REQUEST = 8  # objects per ReadPropertyMultiple; 4 properties each, names up to ~60 bytes
NOT_POINTS = frozenset({"device", "network-port"})
_ANALOG = frozenset({"analog-input", "analog-output", "analog-value", "large-analog-value", "accumulator"})
_BINARY = frozenset({"binary-input", "binary-output", "binary-value"})
_MULTISTATE = frozenset({"multi-state-input", "multi-state-output", "multi-state-value"})
_WITH_VALUE = _ANALOG | _BINARY | _MULTISTATE

# BACnetEngineeringUnits (clause 21) -> our unit symbol; 95 is "no-units"
_OUR_UNITS = {info.bacnet: info.symbol for info in reversed(UNITS.values()) if info.bacnet != 95}


class DiscoveryError(RuntimeError):
    """Nothing answered, or a device stopped answering: one sentence for the integrator."""


@dataclass(frozen=True, slots=True)
class DiscoveredObject:
    object_type: str  # "analog-output"
    instance: int
    name: str
    description: str = ""
    units: str | None = None  # the BACnet units name ("degrees-celsius"), when the object has units
    unit: str | None = None  # our symbol for them ("degC"), when the site model knows them
    value_type: str | None = None  # the Present_Value's datatype ("Real", "BinaryPV", "Unsigned")
    value: str | None = None  # the Present_Value when read, as text
    states: tuple[str, ...] = ()  # State_Text of a multistate object, Inactive_/Active_Text of a binary one
    error: str | None = None  # why some of it could not be read

    @property
    def reference(self) -> str:
        return f"{self.object_type},{self.instance}"


@dataclass(slots=True)
class DiscoveredDevice:
    instance: int
    address: str  # where its I-Am came from, "HOST:PORT"
    name: str = ""
    description: str = ""
    vendor_id: int | None = None
    max_apdu: int | None = None
    segmentation: str | None = None  # "segmented-both", "no-segmentation", ...
    object_list_by_element: bool = False  # the whole Object_List did not fit one answer
    objects: list[DiscoveredObject] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None or _is_error(value) else str(value)


def _is_error(value: Any) -> bool:
    return type(value).__name__ == "ErrorType" or isinstance(value, ErrorRejectAbortNack)


def _units(value: Any) -> tuple[str | None, str | None]:
    if value is None or _is_error(value):
        return None, None
    code = int(value)
    name = str(value)
    return (None, None) if code == 95 else (name, _OUR_UNITS.get(code))


def _states(values: dict[str, Any]) -> tuple[str, ...]:
    texts = values.get("state-text")
    if texts is not None and not _is_error(texts):
        return tuple(str(t) for t in texts)
    pair = (values.get("inactive-text"), values.get("active-text"))
    return tuple(_text(t) for t in pair) if all(t is not None and not _is_error(t) for t in pair) else ()


def target_address(text: str) -> Address:
    """`--bacnet`'s address for bacpypes3; a ValueError in one sentence when it is none."""
    try:
        return Address(text)
    except (ValueError, RuntimeError) as error:  # RuntimeError: a host name that does not resolve
        raise ValueError(
            f"--bacnet {text!r} is not a BACnet/IP address (HOST[:PORT] or a broadcast address): {error}"
        ) from None


class Discovery:
    def __init__(self, local_address: str, *, timeout: float = 3.0, who_is_wait: float | None = None) -> None:
        self.local_address = local_address
        self.timeout = timeout
        self.who_is_wait = who_is_wait if who_is_wait is not None else timeout
        self.app: Any = None
        self.requests = 0

    async def __aenter__(self) -> Discovery:
        self.app = local_application(self.local_address, DISCOVERY_INSTANCE, "bms-bridge discovery")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.app is not None:
            self.app.close()
            await asyncio.sleep(0)  # let the datagram transport close
            self.app = None

    async def run(
        self, target: str, low: int | None = None, high: int | None = None, *, label: str | None = None
    ) -> list[DiscoveredDevice]:
        """Every device at `target` (within `low`..`high`) with its objects, ordered by instance.

        `target` is a controller's "HOST:PORT" or "*" (a broadcast on our subnet, to our port);
        `label` is how the error names it (what the integrator typed)."""
        found = await self.who_is(target, low, high)
        if not found:
            target = label or target
            limit = "" if low is None else (f" with instance {low}" if low == high else f" in {low}..{high}")
            raise DiscoveryError(f"no BACnet device{limit} answered Who-Is at {target} within {self.who_is_wait:g} s")
        return [await self.read_device(device) for device in found]

    async def who_is(self, target: str, low: int | None, high: int | None) -> list[DiscoveredDevice]:
        """I-Am answers to Who-Is sent `WHO_IS_ROUNDS` times over the wait: an unconfirmed datagram that
        nobody acknowledges, so one lost (or sent before a controller's socket is up) is sent again."""
        address = target_address(target)
        devices: dict[int, DiscoveredDevice] = {}
        for _round in range(WHO_IS_ROUNDS):
            i_ams = await self.app.who_is(low, high, address=address, timeout=self.who_is_wait / WHO_IS_ROUNDS)
            self._collect(i_ams, devices)
            if devices and low is not None and low == high:
                break  # the one device asked for
        log.info("Who-Is at %s: %d devices answered", target, len(devices))
        return [devices[i] for i in sorted(devices)]

    @staticmethod
    def _collect(i_ams: list[Any], devices: dict[int, DiscoveredDevice]) -> None:
        for i_am in i_ams:
            instance = int(i_am.iAmDeviceIdentifier[1])
            devices[instance] = DiscoveredDevice(
                instance=instance,
                address=str(i_am.pduSource),
                vendor_id=int(i_am.vendorID),
                max_apdu=int(i_am.maxAPDULengthAccepted),
                segmentation=str(i_am.segmentationSupported),
            )

    # -- requests -----------------------------------------------------------------------------------
    async def _call(self, device: DiscoveredDevice, what: str, make: Callable[[], Awaitable[Any]]) -> Any:
        self.requests += 1
        try:
            answer = await asyncio.wait_for(make(), self.timeout)
        except TimeoutError:
            raise DiscoveryError(
                f"device {device.instance} at {device.address} stopped answering ({what}: nothing within "
                f"{self.timeout:g} s)"
            ) from None
        if isinstance(answer, ErrorRejectAbortNack):  # bacpypes3 returns some of these instead of raising
            raise answer
        return answer

    async def _read(self, device: DiscoveredDevice, obj: ObjectIdentifier, prop: str, index: int | None = None) -> Any:
        address = Address(device.address)
        return await self._call(device, f"{obj} {prop}", lambda: self.app.read_property(address, obj, prop, index))

    # -- one device -----------------------------------------------------------------------------------
    async def read_device(self, device: DiscoveredDevice) -> DiscoveredDevice:
        device_id = ObjectIdentifier(("device", device.instance))
        try:
            device.name = _text(await self._read(device, device_id, "object-name"))
            try:
                device.description = _text(await self._read(device, device_id, "description"))
            except ErrorRejectAbortNack:
                device.description = ""  # Description is optional in a Device object
            ids = await self.object_list(device)
        except ErrorRejectAbortNack as error:  # a BaseException in bacpypes3: never let it escape
            raise DiscoveryError(
                f"device {device.instance} at {device.address} refused to say what it holds: {error}"
            ) from None
        wanted = [i for i in ids if str(i[0]) not in NOT_POINTS]
        device.objects = await self.describe(device, wanted)
        log.info("device %d: %d objects", device.instance, len(device.objects))
        return device

    async def object_list(self, device: DiscoveredDevice) -> list[ObjectIdentifier]:
        """Object_List whole, or element by element when the device cannot send it in one answer."""
        device_id = ObjectIdentifier(("device", device.instance))
        try:
            return list(await self._read(device, device_id, "object-list"))
        except AbortPDU as refused:  # segmentation-not-supported, buffer-overflow
            log.info("device %d: Object_List refused whole (%s); element by element", device.instance, refused)
        device.object_list_by_element = True
        count = int(await self._read(device, device_id, "object-list", 0))
        return [await self._read(device, device_id, "object-list", i) for i in range(1, count + 1)]

    async def describe(self, device: DiscoveredDevice, ids: list[ObjectIdentifier]) -> list[DiscoveredObject]:
        """Name, description, units and present value of each object, a few objects per RPM."""
        found: list[DiscoveredObject] = []
        size = OBJECTS_PER_REQUEST
        rpm = True
        i = 0
        while i < len(ids):
            batch = ids[i : i + size]
            if rpm:
                try:
                    found += await self._rpm(device, batch)
                    i += len(batch)
                    continue
                except AbortPDU as abort:
                    reason = str(abort.apduAbortRejectReason)
                    if reason in SHRINKING_ABORTS and size > 1:
                        size = max(1, size // 2)
                        log.info("device %d: %s; %d objects per request", device.instance, reason, size)
                        continue
                    log.info("device %d: %s for %s; property by property", device.instance, reason, batch[0])
                except RejectPDU as reject:
                    if str(reject.apduAbortRejectReason) == "unrecognized-service":  # no RPM here at all
                        log.info("device %d: RPM rejected; ReadProperty from now on", device.instance)
                        rpm = False
                except ErrorRejectAbortNack as error:  # e.g. an object gone from the list meanwhile
                    log.info("device %d: RPM refused (%s); these objects one by one", device.instance, error)
            found += [await self._one_by_one(device, obj) for obj in batch]
            i += len(batch)
        return found

    @staticmethod
    def _properties(object_type: str) -> list[str]:
        props = ["object-name", "description"]
        if object_type in _ANALOG:
            props.append("units")
        if object_type in _WITH_VALUE:
            props.append("present-value")
        # what the states are called says what the point is ("Occupied"/"Unoccupied", "Heat"/"Cool")
        if object_type in _MULTISTATE:
            props.append("state-text")
        if object_type in _BINARY:
            props += ["inactive-text", "active-text"]
        return props

    async def _rpm(self, device: DiscoveredDevice, ids: list[ObjectIdentifier]) -> list[DiscoveredObject]:
        request: list[Any] = []
        for obj in ids:
            request += [obj, self._properties(str(obj[0]))]
        address = Address(device.address)
        answer = await self._call(
            device, f"{len(ids)} objects", lambda: self.app.read_property_multiple(address, request)
        )
        values: dict[str, dict[str, Any]] = {}
        for obj, prop, _index, value in answer:
            values.setdefault(str(obj), {})[str(prop)] = value
        return [self._object(obj, values.get(str(obj), {})) for obj in ids]

    async def _one_by_one(self, device: DiscoveredDevice, obj: ObjectIdentifier) -> DiscoveredObject:
        values: dict[str, Any] = {}
        for prop in self._properties(str(obj[0])):
            try:
                values[prop] = await self._read(device, obj, prop)
            except ErrorRejectAbortNack as error:
                values[prop] = error
        return self._object(obj, values)

    @staticmethod
    def _object(obj: ObjectIdentifier, values: dict[str, Any]) -> DiscoveredObject:
        name, value = values.get("object-name"), values.get("present-value")
        units, unit = _units(values.get("units"))
        problems = [p for p in ("object-name", "present-value") if _is_error(values.get(p))]
        return DiscoveredObject(
            object_type=str(obj[0]),
            instance=int(obj[1]),
            name=_text(name),
            description=_text(values.get("description")),
            units=units,
            unit=unit,
            value_type=None if value is None or _is_error(value) else type(value).__name__,
            value=None if value is None or _is_error(value) else str(value),
            states=_states(values),
            error=f"could not read {', '.join(problems)}" if problems else None,
        )
