"""The pure core: parsing both network servers' JSON, decoding payloads, mapping to readings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from metering.lpwan import (
    Uplink,
    UplinkError,
    decode_uplink,
    parse_chirpstack_v4,
    parse_tts_v3,
    parse_uplink,
    uplink_readings,
)
from metering.readings import Quality
from point_mapping.model.devices import BytesDecoder, ObjectDecoder
from tests.lpwan.messages import chirpstack_up, tts_up, water_payload
from tests.lpwan.sites import HEAT_EUI, WATER_EUI, write_site

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def test_chirpstack_fields_and_nanosecond_time() -> None:
    message = chirpstack_up(WATER_EUI.upper(), 42, b"\x01\x02", "2025-03-04T10:15:00.775023242+00:00")
    uplink = parse_chirpstack_v4(message, NOW)
    assert uplink.dev_eui == WATER_EUI
    assert (uplink.f_cnt, uplink.f_port, uplink.payload) == (42, 2, b"\x01\x02")
    assert uplink.device_time == datetime(2025, 3, 4, 10, 15, 0, 775023, tzinfo=UTC)
    assert uplink.received_at == NOW
    assert uplink.network == "chirpstack"


def test_defaults_left_out_by_protobuf_json() -> None:
    message = chirpstack_up(WATER_EUI, 0, b"", "2025-03-04T10:15:00Z")
    del message["fCnt"], message["data"]
    uplink = parse_chirpstack_v4(message, NOW)
    assert (uplink.f_cnt, uplink.payload) == (0, b"")


def test_tts_uses_network_receive_time_and_decoded_payload() -> None:
    uplink = parse_tts_v3(tts_up(HEAT_EUI, 7, {"meter": {"energy": 1234}}, "2025-03-04T10:00:00Z"), NOW)
    assert uplink.dev_eui == HEAT_EUI
    assert uplink.device_time == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    assert uplink.decoded == {"meter": {"energy": 1234}}
    assert uplink.network == "tts"


def test_payload_timestamp_wins_over_network_time() -> None:
    # a meter that sends its own (earlier) reading time, e.g. a batched hourly value
    message = tts_up(HEAT_EUI, 7, {"time": "2025-03-04T09:00:00+01:00", "meter": {"energy": 1}}, "2025-03-04T10:00:00Z")
    assert parse_uplink(message, NOW).device_time == datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def test_network_time_missing_falls_back_to_receive_time() -> None:
    message = chirpstack_up(WATER_EUI, 1, b"", "x")
    del message["time"]
    assert parse_uplink(message, NOW).device_time == NOW


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m["deviceInfo"].pop("devEui"), "deviceInfo.devEui is missing"),
        (lambda m: m["deviceInfo"].update(devEui="70b3"), "16 hex digits"),
        (lambda m: m.update(data="not base64!"), "data is not valid base64"),
        (lambda m: m.update(fCnt="12"), "fCnt must be an integer 0..4294967295"),
        (lambda m: m.update(fCnt=-1), "fCnt must be an integer 0..4294967295"),
        (lambda m: m.update(fCnt=2**63), "fCnt must be an integer 0..4294967295"),
        (lambda m: m.update(object=[1, 2]), "object must be a JSON object"),
        (lambda m: m.update(time="yesterday"), "time is not an RFC 3339 time"),
        (lambda m: m.update(time="2025-03-04T10:00:00"), "time has no UTC offset"),
        (lambda m: m.update(deviceInfo="x"), "deviceInfo must be a JSON object"),
    ],
)
def test_malformed_chirpstack_messages_say_what_is_wrong(change: Any, expected: str) -> None:
    message = chirpstack_up(WATER_EUI, 1, b"\x00", "2025-03-04T10:15:00Z")
    change(message)
    with pytest.raises(UplinkError, match=expected):
        parse_chirpstack_v4(message, NOW)


def test_unknown_format() -> None:
    with pytest.raises(UplinkError, match="not a ChirpStack v4 uplink"):
        parse_uplink({"hello": 1}, NOW)
    with pytest.raises(UplinkError, match="uplink_message is missing"):
        parse_tts_v3({"end_device_ids": {"dev_eui": HEAT_EUI}}, NOW)


def _uplink(payload: bytes = b"", decoded: dict[str, Any] | None = None) -> Uplink:
    return Uplink(WATER_EUI, 9, 2, NOW, NOW, payload, decoded, "chirpstack")


def test_bytes_decoder_widths_endianness_sign_and_scale() -> None:
    decoder = BytesDecoder.model_validate(
        {
            "kind": "bytes",
            "fields": [
                {"name": "a", "offset": 0, "width": 2, "endianness": "little", "unit": "L"},
                {"name": "b", "offset": 2, "width": 3, "signed": True, "scale": 0.5, "unit": "L"},
                {"name": "c", "offset": 5, "width": 1, "unit": "L"},
            ],
        }
    )
    values = decode_uplink(_uplink(b"\x34\x12\xff\xff\xfe\x07"), decoder)
    assert values == {"a": 0x1234, "b": -1.0, "c": 7}


def test_short_payload_names_the_field() -> None:
    decoder = BytesDecoder.model_validate(
        {"kind": "bytes", "fields": [{"name": "volume", "offset": 2, "width": 4, "unit": "L"}]}
    )
    with pytest.raises(UplinkError, match=r"field 'volume' needs payload bytes 2\.\.5 .* has 3 bytes"):
        decode_uplink(_uplink(b"\x00\x01\x02"), decoder)


def test_object_decoder_dotted_paths_and_list_indexes() -> None:
    decoder = ObjectDecoder.model_validate(
        {
            "kind": "object",
            "fields": [
                {"name": "energy", "path": "meter.energy", "scale": 0.001, "unit": "kWh"},
                {"name": "first", "path": "readings.0.v", "unit": "L"},
            ],
        }
    )
    values = decode_uplink(_uplink(decoded={"meter": {"energy": 2500}, "readings": [{"v": 3}]}), decoder)
    assert values == {"energy": 2.5, "first": 3.0}
    with pytest.raises(UplinkError, match=re.escape("field 'energy': the decoded object has no 'meter.energy'")):
        decode_uplink(_uplink(decoded={"meter": {}, "readings": [{"v": 3}]}), decoder)
    with pytest.raises(UplinkError, match=re.escape("field 'energy': 'meter.energy' is 'x', not a finite number")):
        decode_uplink(_uplink(decoded={"meter": {"energy": "x"}, "readings": [{"v": 3}]}), decoder)
    with pytest.raises(UplinkError, match="has no decoded object"):
        decode_uplink(_uplink(), decoder)


def test_readings_at_device_time_in_point_units(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site")
    message = chirpstack_up(WATER_EUI, 3, water_payload(12345, -150), "2025-03-04T10:15:00Z")
    readings = uplink_readings(site.model, parse_uplink(message, NOW), site.profiles)
    by_point = {r.point_id: r for r in readings}
    assert by_point["WM-1.volume"].value == pytest.approx(12.345)  # 12345 L stored in m3
    assert by_point["WM-1.temp"].value == pytest.approx(-1.5)
    for reading in readings:
        assert reading.ts == datetime(2025, 3, 4, 10, 15, tzinfo=UTC)  # device time, not NOW
        assert reading.quality is Quality.MEASURED
        assert reading.source == f"lpwan:{WATER_EUI}"


def test_unknown_device(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site")
    message = chirpstack_up("0102030405060708", 3, b"", "2025-03-04T10:15:00Z")
    with pytest.raises(UplinkError, match="no device in this site has dev_eui 0102030405060708"):
        uplink_readings(site.model, parse_uplink(message, NOW))
