"""Uplinks of the site's simulated LPWAN meters, as ChirpStack v4 publishes them on MQTT.

`{"deviceInfo": {... "devEui"}, "fCnt", "fPort", "data": base64, "time", ...}` on
`application/<applicationId>/device/<devEui>/event/up` (docs/testing-peers.md). Byte-decoded fields are packed
into `data`; object-decoded fields are put in `object` at their dotted path. Pure: time is an argument.
"""

from __future__ import annotations

import base64
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bms_bridge.simulate.load_model import EPOCH, LoadModel
from point_mapping.model import Device, LpwanConnection, SiteModel
from point_mapping.model.devices import BytesDecoder, ObjectDecoder
from point_mapping.units import convert

APPLICATION_ID = "5b4c7f4e-0000-4000-8000-00000000de70"  # a fixed ChirpStack application for the demo


@dataclass(frozen=True)
class Uplink:
    topic: str
    payload: dict[str, Any]


def _field_value(model: LoadModel, site: SiteModel, device: Device, field_name: str, unit: str, t: datetime) -> float:
    """The counter a field carries: the total of the meter whose point reads that field."""
    for meter in site.meters_of_device(device.id):
        for point in site.points_of_meter(meter.id):
            if point.register_name == field_name:
                return convert(model.meter_total(meter.id, t), meter.resource.billing_unit, unit)
    return 0.0


def uplink(
    site: SiteModel, model: LoadModel, device: Device, t: datetime, application_id: str = APPLICATION_ID
) -> Uplink:
    """The uplink `device` sends at t; the frame counter counts expected intervals since the epoch."""
    connection = device.connection
    if not isinstance(connection, LpwanConnection):
        raise ValueError(f"device {device.id} is not an LPWAN device")
    eui = connection.eui
    fcnt = int((t - EPOCH) // connection.expected_interval) % 2**32
    data = b""
    decoded: dict[str, Any] = {}
    decoder = connection.decoder
    if isinstance(decoder, BytesDecoder):
        size = max(f.offset + f.width for f in decoder.fields)
        buffer = bytearray(size)
        for f in decoder.fields:
            raw = math.floor(_field_value(model, site, device, f.name, f.unit, t) / f.scale + 1e-9)
            raw %= 2 ** (8 * f.width)  # the device's counter wraps
            buffer[f.offset : f.offset + f.width] = raw.to_bytes(f.width, f.endianness, signed=False)
        data = bytes(buffer)
    elif isinstance(decoder, ObjectDecoder):
        for of in decoder.fields:
            node = decoded
            *parents, leaf = of.path.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = round(_field_value(model, site, device, of.name, of.unit, t) / of.scale, 3)
    payload: dict[str, Any] = {
        "deduplicationId": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{eui}:{fcnt}")),
        "time": t.isoformat().replace("+00:00", "Z"),
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "ChirpStack",
            "applicationId": application_id,
            "applicationName": f"{site.site.id}-meters",
            "deviceProfileId": "b3e2c6a1-0000-4000-8000-0000000000aa",
            "deviceProfileName": "water meter",
            "deviceName": device.name or device.id,
            "devEui": eui,
        },
        "devAddr": eui[-8:],
        "adr": True,
        "dr": 5,
        "fCnt": fcnt,
        "fPort": 1,
        "confirmed": False,
        "data": base64.b64encode(data).decode("ascii"),
        "rxInfo": [{"gatewayId": "0016c001ff10a235", "rssi": -97, "snr": 7.5, "context": "AAAAAA=="}],
        "txInfo": {"frequency": 868100000, "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7}}},
    }
    if decoded:
        payload["object"] = decoded
    return Uplink(f"application/{application_id}/device/{eui}/event/up", payload)


def lpwan_uplinks(site: SiteModel, model: LoadModel, t: datetime, application_id: str = APPLICATION_ID) -> list[Uplink]:
    """One uplink per enabled LPWAN device of the site at t."""
    return [
        uplink(site, model, device, t, application_id)
        for device in site.devices
        if device.enabled and isinstance(device.connection, LpwanConnection)
    ]
