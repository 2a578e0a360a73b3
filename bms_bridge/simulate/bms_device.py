"""The demo's simulated BMS controller: one bacpypes3 device serving the plant's points on loopback.

Run in a process of its own (`python -m bms_bridge.simulate.bms_device SITE`, started by `run
--simulate` and `make demo`), on the address of its `bms_devices` entry. Objects: one per BMS point
(analog input/output/value, binary value, multistate value), the AHUs' Schedule objects (Weekly_Schedule
and an Exception_Schedule that refers to the holiday Calendar, 12.24) and that Calendar (12.9).
Values follow `BmsPlant` at the simulated instant; assigning Present_Value sends COV by itself.

Options for tests: `--no-segmentation` and `--max-apdu N` make a controller that refuses segmented
messages, `--delay S` one that answers slowly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from bacpypes3.app import Application
from bacpypes3.basetypes import (
    CalendarEntry,
    DailySchedule,
    DateRange,
    EngineeringUnits,
    Segmentation,
    SpecialEvent,
    SpecialEventPeriod,
    TimeValue,
)
from bacpypes3.local.analog import AnalogInputObject, AnalogOutputObject, AnalogValueObject
from bacpypes3.local.binary import BinaryValueObject
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.multistate import MultiStateValueObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.local.schedule import ScheduleObject
from bacpypes3.object import CalendarObject as _CalendarObject
from bacpypes3.primitivedata import Date, ObjectIdentifier, Real, Time

from bms_bridge.simulate.bms_plant import BmsPlant
from bms_bridge.simulate.load_model import LoadModel
from metering.hvac.schedule import OccupancySchedule
from point_mapping.model import SiteModel
from point_mapping.model.bms import BmsDevice, BmsPoint

log = logging.getLogger(__name__)

_UNITS = {"%": EngineeringUnits.percent, "degC": EngineeringUnits.degreesCelsius}


class LocalCalendar(LocalObject, _CalendarObject):  # type: ignore[misc]
    """bacpypes3 has no local Calendar class; Present_Value says whether today is in Date_List (12.9)."""

    async def _post_init(self) -> None:
        # a Calendar has no Notification_Class (12.9): nothing to link, unlike bacpypes3's generic case
        return None


def bacnet_date(day: date) -> Date:
    return Date((day.year - 1900, day.month, day.day, day.isoweekday()))


def _time_values(changes: tuple[tuple[time, bool], ...]) -> list[TimeValue]:
    return [TimeValue(time=Time((t.hour, t.minute, t.second, 0)), value=Real(1.0 if on else 0.0)) for t, on in changes]


def _bind_address(device: BmsDevice) -> str:
    host, port = device.address.rsplit(":", 1)
    return f"{host}/8:{port}"


class SimulatedBms:
    """`async with SimulatedBms(site, device, model) as bms: bms.update(now)`."""

    def __init__(
        self,
        site: SiteModel,
        device: BmsDevice,
        model: LoadModel,
        *,
        segmentation: bool = True,
        max_apdu: int = 1476,
        delay: float = 0.0,
    ) -> None:
        self.site, self.device, self.plant = site, device, BmsPlant(site, model)
        self.segmentation, self.max_apdu, self.delay = segmentation, max_apdu, delay
        self.points = [p for p in site.bms_points if p.device == device.id]
        self._objects: dict[str, Any] = {}
        self._app: Any = None

    async def __aenter__(self) -> SimulatedBms:
        self._check_port_free()
        device = DeviceObject(
            objectIdentifier=("device", self.device.device_instance),
            objectName=self.device.name or self.device.id,
            vendorIdentifier=999,
            maxApduLengthAccepted=self.max_apdu,
            segmentationSupported=Segmentation.segmentedBoth if self.segmentation else Segmentation.noSegmentation,
        )
        port = NetworkPortObject(_bind_address(self.device), objectIdentifier=("network-port", 1), objectName="NP-1")
        app = Application.from_object_list([device, port])
        if self.delay:
            _slow_down(app, self.delay)
        self._app = app
        now = datetime.now(UTC)
        holidays = self.plant.holidays(now.year - 2, now.year + 1)
        # a Schedule refers to its Calendar: bacpypes3 evaluates it on add, so calendars go first
        for point in sorted(self.points, key=lambda p: not p.object.startswith("calendar")):
            obj = self._build(point, holidays)
            if obj is not None:
                app.add_object(obj)
                self._objects[point.id] = obj
        self.update(now)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None

    def _check_port_free(self) -> None:
        host, port = self.device.address.rsplit(":", 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((host, int(port)))  # no SO_REUSEPORT: a stale peer on the port fails here

    def _build(self, point: BmsPoint, holidays: frozenset[date]) -> Any:
        kind, _, number = point.object.partition(",")
        ident = (kind, int(number))
        common: dict[str, Any] = {
            "objectIdentifier": ident,
            "objectName": point.id,
            "description": point.name or point.role,
        }
        units = _UNITS.get(point.unit or "", EngineeringUnits.noUnits)
        if kind == "analog-input":
            return AnalogInputObject(**common, presentValue=0.0, units=units, covIncrement=0.1)
        if kind == "analog-output":
            return AnalogOutputObject(**common, presentValue=0.0, units=units, covIncrement=0.1, relinquishDefault=0.0)
        if kind == "analog-value":
            return AnalogValueObject(**common, presentValue=0.0, units=units, covIncrement=0.1)
        if kind == "binary-value":
            return BinaryValueObject(**common, presentValue="inactive")
        if kind == "multi-state-value":
            return MultiStateValueObject(
                **common, presentValue=2, numberOfStates=2, stateText=["occupied", "unoccupied"]
            )
        if kind == "calendar":
            today = datetime.now(UTC).date()
            return LocalCalendar(
                **common,
                presentValue=today in holidays,
                dateList=[CalendarEntry(date=bacnet_date(d)) for d in sorted(holidays)],
            )
        if kind == "schedule":
            return self._schedule(point, common, holidays)
        log.warning("simulated BMS: no object for %s (%s)", point.id, kind)
        return None

    def _schedule(self, point: BmsPoint, common: dict[str, Any], holidays: frozenset[date]) -> Any:
        program: OccupancySchedule = self.plant.schedule(point.equipment, holidays)
        calendar = next((p for p in self.points if p.role == "calendar"), None)
        # Weekly_Schedule is indexed Monday..Sunday (12.24.6)
        weekly = [DailySchedule(daySchedule=_time_values(day)) for day in program.weekly]
        exceptions = []
        if calendar is not None:
            kind, _, number = calendar.object.partition(",")
            exceptions.append(
                SpecialEvent(
                    period=SpecialEventPeriod(calendarReference=ObjectIdentifier((kind, int(number)))),
                    listOfTimeValues=[TimeValue(time=Time((0, 0, 0, 0)), value=Real(0.0))],
                    eventPriority=1,
                )
            )
        # no List_Of_Object_Property_References: the fans follow the AHUs' old time program, not this
        # Schedule (the case study's "ventilation on old settings")
        return ScheduleObject(
            **common,
            presentValue=Real(0.0),
            scheduleDefault=Real(0.0),
            weeklySchedule=weekly,
            exceptionSchedule=exceptions,
            effectivePeriod=DateRange(startDate=bacnet_date(date(2020, 1, 1)), endDate=bacnet_date(date(2099, 12, 31))),
            listOfObjectPropertyReferences=[],
            priorityForWriting=16,
        )

    def update(self, now: datetime) -> None:
        """Every object's Present_Value at `now` (COV notifications follow by themselves)."""
        for point_id, value in self.plant.values(now).items():
            obj = self._objects.get(point_id)
            if obj is None:
                continue
            kind = point_id and obj.objectIdentifier[0]
            if str(kind) == "binary-value":
                obj.presentValue = "active" if value >= 0.5 else "inactive"
            elif str(kind) == "multi-state-value":
                obj.presentValue = int(value)
            else:
                obj.presentValue = float(value)

    def remove(self, point_id: str) -> None:
        """Delete one object (a test's "missing point")."""
        obj = self._objects.pop(point_id)
        self._app.delete_object(obj)


def _slow_down(app: Any, delay: float) -> None:
    """Answer every confirmed request `delay` seconds late (a controller behind a slow MS/TP router)."""
    original = app.indication

    async def slow(apdu: Any) -> None:
        await asyncio.sleep(delay)
        await original(apdu)

    app.indication = slow


async def _serve(site: SiteModel, device: BmsDevice, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    model = LoadModel(site)
    async with SimulatedBms(
        site, device, model, segmentation=not args.no_segmentation, max_apdu=args.max_apdu, delay=args.delay
    ) as bms:
        print(f"READY {device.address}", flush=True)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.update_every)
            bms.update(datetime.now(UTC))


def main(argv: list[str] | None = None) -> int:
    from bms_bridge.sites import open_site

    parser = argparse.ArgumentParser(prog="bms_bridge.simulate.bms_device")
    parser.add_argument("site", type=Path)
    parser.add_argument("--device", help="bms_devices id (default: the first)")
    parser.add_argument("--address", help="override the device's address, e.g. 127.0.0.1:47990")
    parser.add_argument("--instance", type=int, help="override the device instance")
    parser.add_argument("--no-segmentation", action="store_true")
    parser.add_argument("--max-apdu", type=int, default=1476)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--update-every", type=float, default=5.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    site = open_site(args.site).model
    device = next((d for d in site.bms_devices if args.device in (None, d.id)), None)
    if device is None:
        print(f"error: no BMS device {args.device!r}", file=sys.stderr)
        return 1
    changes: dict[str, Any] = {}
    if args.address:
        changes["address"] = args.address
    if args.instance is not None:
        changes["device_instance"] = args.instance
    device = device.model_copy(update=changes)
    try:
        asyncio.run(_serve(site, device, args))
    except OSError as error:
        print(f"error: simulated BMS could not bind {device.address}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
