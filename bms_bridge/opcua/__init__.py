"""OPC UA server adapter: exposes meter points as AnalogItemType variables (the only asyncua importer)."""

from __future__ import annotations

from bms_bridge.opcua.errors import OpcUaServerError
from bms_bridge.opcua.history import HistoryReader, HistorySource
from bms_bridge.opcua.server import OpcUaServer
from bms_bridge.opcua.settings import OpcUaSettings
from bms_bridge.opcua.status import status_code_name

__all__ = ["HistoryReader", "HistorySource", "OpcUaServer", "OpcUaServerError", "OpcUaSettings", "status_code_name"]
