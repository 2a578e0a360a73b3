"""Uplink messages as ChirpStack v4 and The Things Stack v3 write them (trimmed to what matters)."""

from __future__ import annotations

import base64
import struct
import uuid
from typing import Any

# A network server gives every uplink its own id, the same on each redelivery of that uplink.
_IDS = uuid.UUID("6c0b9d1e-3f59-4d4e-9f0e-2a7d3b1c5e88")


def delivery_id(dev_eui: str, f_cnt: int, session: str = "") -> str:
    return str(uuid.uuid5(_IDS, f"{dev_eui.lower()}:{f_cnt}:{session}"))


def water_payload(litres: int, temperature_centi: int) -> bytes:
    return struct.pack(">Ih", litres, temperature_centi)


def chirpstack_up(dev_eui: str, f_cnt: int, payload: bytes, time: str, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "deduplicationId": delivery_id(dev_eui, f_cnt, str(extra.get("devAddr", ""))),
        "time": time,
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
            "applicationName": "meters",
            "deviceName": "water-1",
            "devEui": dev_eui,
            "tags": {},
        },
        "devAddr": "00189440",
        "adr": True,
        "dr": 5,
        "fCnt": f_cnt,
        "fPort": 2,
        "confirmed": False,
        "data": base64.b64encode(payload).decode(),
        "rxInfo": [{"gatewayId": "0016c001f153a14c", "rssi": -57, "snr": 10.0}],
        "txInfo": {"frequency": 868100000},
    }
    message.update(extra)
    return message


def tts_up(dev_eui: str, f_cnt: int, decoded: dict[str, Any], received_at: str) -> dict[str, Any]:
    return {
        "end_device_ids": {
            "device_id": "heat-1",
            "application_ids": {"application_id": "meters"},
            "dev_eui": dev_eui.upper(),
            "join_eui": "800000000000000C",
            "dev_addr": "00BCB929",
        },
        "correlation_ids": [
            f"as:up:{delivery_id(dev_eui, f_cnt).replace('-', '').upper()}",
            "rpc:/ttn.lorawan.v3.AppAs/Up",
        ],
        "received_at": received_at.replace("00Z", "02Z"),
        "uplink_message": {
            "session_key_id": "AXA50...",
            "f_port": 1,
            "f_cnt": f_cnt,
            "frm_payload": "gv9rn4MXjZA=",
            "decoded_payload": decoded,
            "rx_metadata": [{"gateway_ids": {"gateway_id": "gtw1"}, "rssi": -35}],
            "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}}},
            "received_at": received_at,
            "consumed_airtime": "0.056576s",
        },
    }
