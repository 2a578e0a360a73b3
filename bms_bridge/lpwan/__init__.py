"""LPWAN (LoRaWAN) uplinks from a network server, by webhook or MQTT; one intake path for both."""

from __future__ import annotations

from bms_bridge.lpwan.intake import IntakeResult, IntakeStats, StoreSink, UnknownDevice, UplinkIntake
from bms_bridge.lpwan.mqtt import LpwanMqtt
from bms_bridge.lpwan.webhook import LpwanConfigError, LpwanWebhook, webhook_app

__all__ = [
    "IntakeResult",
    "IntakeStats",
    "LpwanConfigError",
    "LpwanMqtt",
    "LpwanWebhook",
    "StoreSink",
    "UnknownDevice",
    "UplinkIntake",
    "webhook_app",
]
