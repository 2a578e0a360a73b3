"""LPWAN uplinks as plain values: parse a network server's JSON, decode the payload, map it to readings.

Pure: no I/O and no clock (the receive time is passed in). Two network servers are understood:

- ChirpStack v4 (HTTP integration `?event=up`, MQTT `application/<appId>/device/<devEui>/event/up`):
  `deviceInfo.devEui`, `fCnt`, `fPort`, base64 `data`, decoded `object`, network `time`.
- The Things Stack v3 (webhook / MQTT `up` message): `end_device_ids.dev_eui`,
  `uplink_message.{f_cnt, f_port, frm_payload, decoded_payload, received_at}`.

Both servers leave out protobuf default values (0, "", false) from their JSON, so a missing frame
counter or port means 0 and missing payload bytes mean an empty payload; a value of the wrong type is
an error. LPWAN meters often report late or in batches (docs/performance.md, "LoRaWAN"), so the device's
own time is kept apart from our receive time: readings carry the device time.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from metering.readings import Quality, Reading
from point_mapping.model import LpwanConnection, MeterProfile, SiteModel
from point_mapping.model.devices import BytesDecoder, ObjectDecoder
from point_mapping.registers import point_measure
from point_mapping.units import convert

Network = Literal["chirpstack", "tts"]

_EUI = re.compile(r"^[0-9a-fA-F]{16}$")
# Keys a decoder (ChirpStack codec, TTS payload formatter) may use for the meter's own timestamp.
_PAYLOAD_TIME_KEYS = ("time", "timestamp")


class UplinkError(ValueError):
    """An uplink that cannot be used; the message says what is wrong and where."""


@dataclass(frozen=True, slots=True)
class Uplink:
    dev_eui: str  # lowercase hex, 16 digits
    f_cnt: int
    f_port: int
    device_time: datetime  # aware UTC: the payload's timestamp, else the network server's time
    received_at: datetime  # aware UTC: when we got it (our clock)
    payload: bytes
    decoded: dict[str, Any] | None  # what the network server's codec made of the payload
    network: Network
    session: str | None = None  # the device address of its current session (a rejoin gets a new one)
    delivery_id: str | None = None  # the network server's id of this uplink (ChirpStack deduplicationId)

    def __post_init__(self) -> None:
        if not _EUI.match(self.dev_eui) or self.dev_eui != self.dev_eui.lower():
            raise ValueError(f"dev_eui must be 16 lowercase hex digits, not {self.dev_eui!r}")
        for name in ("device_time", "received_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"uplink {name} must be timezone-aware")


# -- parsing --------------------------------------------------------------------------------------


def parse_chirpstack_v4(message: Any, received_at: datetime) -> Uplink:
    """An `up` event of ChirpStack v4 (JSON marshaler) as an `Uplink`."""
    body = _mapping(message, "the message")
    info = _mapping(body.get("deviceInfo"), "deviceInfo")
    dev_eui = _eui(info.get("devEui"), "deviceInfo.devEui")
    decoded = _optional_mapping(body.get("object"), "object")
    network_time = _optional_time(body.get("time"), "time")
    return Uplink(
        dev_eui=dev_eui,
        f_cnt=_counter(body.get("fCnt", 0), "fCnt"),
        f_port=_counter(body.get("fPort", 0), "fPort"),
        device_time=_device_time(decoded, network_time, received_at),
        received_at=_aware_utc(received_at),
        payload=_base64(body.get("data", ""), "data"),
        decoded=decoded,
        network="chirpstack",
        session=_optional_text(body.get("devAddr"), "devAddr"),
        delivery_id=_optional_text(body.get("deduplicationId"), "deduplicationId"),
    )


def _optional_text(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 100:
        raise UplinkError(f"{where} must be a string of at most 100 characters")
    return value.lower()


def _first_correlation(value: Any) -> str | None:
    """TTS's application-server uplink id (`as:up:…`), which stays the same on a retried delivery."""
    if not isinstance(value, list):
        return None
    return next((v for v in value if isinstance(v, str) and v.startswith("as:up:") and len(v) <= 100), None)


def parse_tts_v3(message: Any, received_at: datetime) -> Uplink:
    """An uplink message of The Things Stack v3 (webhook or MQTT `up`) as an `Uplink`."""
    body = _mapping(message, "the message")
    ids = _mapping(body.get("end_device_ids"), "end_device_ids")
    dev_eui = _eui(ids.get("dev_eui"), "end_device_ids.dev_eui")
    up = _mapping(body.get("uplink_message"), "uplink_message")
    decoded = _optional_mapping(up.get("decoded_payload"), "uplink_message.decoded_payload")
    # uplink_message.received_at is when the network server got the frame; the top-level one is later
    network_time = _optional_time(up.get("received_at"), "uplink_message.received_at") or _optional_time(
        body.get("received_at"), "received_at"
    )
    return Uplink(
        dev_eui=dev_eui,
        f_cnt=_counter(up.get("f_cnt", 0), "uplink_message.f_cnt"),
        f_port=_counter(up.get("f_port", 0), "uplink_message.f_port"),
        device_time=_device_time(decoded, network_time, received_at),
        received_at=_aware_utc(received_at),
        payload=_base64(up.get("frm_payload", ""), "uplink_message.frm_payload"),
        decoded=decoded,
        network="tts",
        session=_optional_text(ids.get("dev_addr"), "end_device_ids.dev_addr"),
        delivery_id=_first_correlation(body.get("correlation_ids")),
    )


def detect_network(message: Any) -> Network:
    """Which network server wrote `message`, from its top-level keys."""
    if isinstance(message, Mapping):
        if "deviceInfo" in message:
            return "chirpstack"
        if "end_device_ids" in message:
            return "tts"
    raise UplinkError(
        "not a ChirpStack v4 uplink (no 'deviceInfo') nor a The Things Stack v3 uplink (no 'end_device_ids')"
    )


def parse_uplink(message: Any, received_at: datetime) -> Uplink:
    """Parse either format, detected from the message itself."""
    if detect_network(message) == "chirpstack":
        return parse_chirpstack_v4(message, received_at)
    return parse_tts_v3(message, received_at)


# -- decoding -------------------------------------------------------------------------------------


def decode_uplink(uplink: Uplink, decoder: BytesDecoder | ObjectDecoder) -> dict[str, float]:
    """Field values of `uplink` (after each field's scale), by field name."""
    values: dict[str, float] = {}
    if isinstance(decoder, BytesDecoder):
        for field in decoder.fields:
            end = field.offset + field.width
            if len(uplink.payload) < end:
                raise UplinkError(
                    f"field '{field.name}' needs payload bytes {field.offset}..{end - 1} but the payload of "
                    f"frame {uplink.f_cnt} has {len(uplink.payload)} bytes"
                )
            raw = int.from_bytes(uplink.payload[field.offset : end], field.endianness, signed=field.signed)
            values[field.name] = raw * field.scale
        return values
    if uplink.decoded is None:
        raise UplinkError(
            f"frame {uplink.f_cnt} has no decoded object; configure a codec (ChirpStack) or payload "
            "formatter (The Things Stack) for this device, or use a 'bytes' decoder"
        )
    for object_field in decoder.fields:
        found = _at_path(uplink.decoded, object_field.path)
        if found is None:
            raise UplinkError(f"field '{object_field.name}': the decoded object has no '{object_field.path}'")
        if isinstance(found, bool) or not isinstance(found, int | float) or not math.isfinite(found):
            raise UplinkError(f"field '{object_field.name}': '{object_field.path}' is {found!r}, not a finite number")
        values[object_field.name] = float(found) * object_field.scale
    return values


def _at_path(root: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path; a numeric part indexes a list ('readings.0.value')."""
    node: Any = root
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


# -- mapping to readings --------------------------------------------------------------------------


def lpwan_connection(site: SiteModel, dev_eui: str) -> tuple[str, LpwanConnection] | None:
    """The device id and connection of the LPWAN device with `dev_eui`, if the site has one."""
    wanted = dev_eui.lower()
    for device in site.devices:
        if isinstance(device.connection, LpwanConnection) and device.connection.eui == wanted:
            return device.id, device.connection
    return None


def uplink_readings(
    site: SiteModel, uplink: Uplink, profiles: Mapping[str, MeterProfile] | None = None
) -> list[Reading]:
    """Readings for the points of the meters on the uplink's device, at the device's time.

    Each value goes through the point's measure (pulse weight or CT ratio, then unit conversion), as
    for every other source. Fields no point uses are dropped; an unknown device is an `UplinkError`.
    """
    found = lpwan_connection(site, uplink.dev_eui)
    if found is None:
        raise UplinkError(f"no device in this site has dev_eui {uplink.dev_eui}")
    device_id, connection = found
    values = decode_uplink(uplink, connection.decoder)
    readings: list[Reading] = []
    for meter in site.meters_of_device(device_id):
        if meter.out_of_service:
            continue
        for point in site.points_of_meter(meter.id):
            raw = values.get(point.register_name or "")
            measure = point_measure(site, point, profiles or {})
            if raw is None or measure is None:
                continue
            value = convert(raw * measure.multiplier, measure.source_unit, measure.unit)
            readings.append(Reading(point.id, uplink.device_time, value, Quality.MEASURED, f"lpwan:{uplink.dev_eui}"))
    return readings


# -- JSON helpers ---------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        raise UplinkError(f"{where} is missing; is this an uplink of the expected network server?")
    if not isinstance(value, Mapping):
        raise UplinkError(f"{where} must be a JSON object, got {_kind(value)}")
    return value


def _optional_mapping(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return dict(_mapping(value, where))


def _eui(value: Any, where: str) -> str:
    if value is None:
        raise UplinkError(f"{where} is missing: the uplink does not say which device sent it")
    if not isinstance(value, str) or not _EUI.match(value):
        raise UplinkError(f"{where} must be 16 hex digits, got {value!r}")
    return value.lower()


# LoRaWAN frame counters are 32 bits (LoRaWAN 1.0.4 / 1.1 §4.3.1.5); anything larger is not a frame counter.
_MAX_COUNTER = 2**32 - 1


def _counter(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNTER:
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
        raise UplinkError(f"{where} must be an integer 0..{_MAX_COUNTER} (a 32-bit frame counter), got {shown}")
    return value


def _base64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise UplinkError(f"{where} must be base64 text, got {_kind(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UplinkError(f"{where} is not valid base64: {value[:40]!r}") from None


def _optional_time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    return _timestamp(value, where)


def _timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # epoch seconds, or milliseconds from decoders that use JavaScript's Date.now()
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise UplinkError(f"{where} is not a usable epoch time: {value!r}") from None
    if not isinstance(value, str):
        raise UplinkError(f"{where} must be an RFC 3339 time, got {_kind(value)}")
    try:
        moment = datetime.fromisoformat(_trim_nanoseconds(value))
    except ValueError:
        raise UplinkError(f"{where} is not an RFC 3339 time: {value!r}") from None
    if moment.tzinfo is None:
        raise UplinkError(f"{where} has no UTC offset: {value!r}")
    return moment.astimezone(UTC)


# Go and Rust write nanoseconds ("...:15.775023242+00:00"); Python's fromisoformat takes at most micro.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _trim_nanoseconds(text: str) -> str:
    return _FRACTION.sub(r"\1", text.strip(), count=1)


def _device_time(decoded: Mapping[str, Any] | None, network_time: datetime | None, received_at: datetime) -> datetime:
    if decoded is not None:
        for key in _PAYLOAD_TIME_KEYS:
            if key in decoded:
                return _timestamp(decoded[key], f"decoded object '{key}'")
    return network_time or _aware_utc(received_at)


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    return moment.astimezone(UTC)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), type(value).__name__
    )


__all__ = [
    "Network",
    "Uplink",
    "UplinkError",
    "decode_uplink",
    "detect_network",
    "lpwan_connection",
    "parse_chirpstack_v4",
    "parse_tts_v3",
    "parse_uplink",
    "uplink_readings",
]
