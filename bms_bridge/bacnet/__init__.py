"""BACnet/IP adapter: exposes points as objects of one BACnet device (the only bacpypes3 importer)."""

from __future__ import annotations

from bms_bridge.bacnet.server import BacnetBindError, BacnetServer
from bms_bridge.bacnet.settings import BacnetDeviceSettings, ForeignDeviceSettings

__all__ = ["BacnetBindError", "BacnetDeviceSettings", "BacnetServer", "ForeignDeviceSettings"]
