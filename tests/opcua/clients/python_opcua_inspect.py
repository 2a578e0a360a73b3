"""python-opcua (an SDK sharing no code with our asyncua server) inspecting variables as an HMI would.

python python_opcua_inspect.py URL 'STEPS_JSON' prints one JSON line per step:
  {"op": "variable", "node": "ns=2;s=..."}   value, status, source timestamp, EngineeringUnits, EURange,
                                             Historizing, AccessLevel, parent folder names
  {"op": "history", "node": "...", "start": ISO, "end": ISO}   status of the read and the samples
  {"op": "browse", "path": ["0:Objects", "2:Site", ...]}      display names of the children
  {"op": "server-profiles"}                  ServerCapabilities.ServerProfileArray
"""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime
from typing import Any

from opcua import Client, ua


def emit(**fields: Any) -> None:
    print(json.dumps(fields, default=str), flush=True)


def plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def read_attribute(client: Client, node: Any, attribute: int) -> ua.DataValue:
    # Node.get_attribute raises on a Bad value status; the raw service shows it instead.
    read = ua.ReadValueId()
    read.NodeId = node.nodeid
    read.AttributeId = attribute
    params = ua.ReadParameters()
    params.NodesToRead = [read]
    return client.uaclient.read(params)[0]


def naive_utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(UTC).replace(tzinfo=None)  # python-opcua: naive UTC


def variable(client: Client, node_id: str) -> dict[str, Any]:
    node = client.get_node(node_id)
    dv = read_attribute(client, node, ua.AttributeIds.Value)
    eu = node.get_child(["0:EngineeringUnits"]).get_value()
    eu_range = node.get_child(["0:EURange"]).get_value()
    access = node.get_attribute(ua.AttributeIds.AccessLevel).Value.Value
    parents = []
    parent = node.get_parent()
    while parent is not None and parent.nodeid != ua.NodeId(ua.ObjectIds.ObjectsFolder):
        parents.insert(0, parent.get_display_name().Text)
        parent = parent.get_parent()
    return {
        "value": plain(dv.Value.Value) if dv.Value is not None else None,
        "status": dv.StatusCode.name,
        "source_timestamp": dv.SourceTimestamp.isoformat() + "Z" if dv.SourceTimestamp else None,
        "unit_id": eu.UnitId,
        "unit": eu.DisplayName.Text,
        "eu_range": [plain(eu_range.Low), plain(eu_range.High)],
        "historizing": node.get_attribute(ua.AttributeIds.Historizing).Value.Value,
        "history_read": bool(access & ua.AccessLevel.HistoryRead.mask),
        "parents": parents,
    }


def history(client: Client, node_id: str, start: str, end: str) -> dict[str, Any]:
    details = ua.ReadRawModifiedDetails()
    details.IsReadModified = False
    details.StartTime = naive_utc(start)
    details.EndTime = naive_utc(end)
    details.NumValuesPerNode = 0
    details.ReturnBounds = False
    read = ua.HistoryReadValueId()
    read.NodeId = ua.NodeId.from_string(node_id)
    params = ua.HistoryReadParameters()
    params.HistoryReadDetails = details
    params.TimestampsToReturn = ua.TimestampsToReturn.Both
    params.NodesToRead = [read]
    result = client.uaclient.history_read(params)[0]
    values = result.HistoryData.DataValues if result.HistoryData is not None else []
    return {
        "status": result.StatusCode.name,
        "samples": [[dv.SourceTimestamp.isoformat() + "Z", plain(dv.Value.Value)] for dv in values or []],
    }


def run(client: Client, step: dict[str, Any]) -> dict[str, Any]:
    op = step["op"]
    try:
        if op == "variable":
            return variable(client, step["node"])
        if op == "history":
            return history(client, step["node"], step["start"], step["end"])
        if op == "browse":
            node = client.get_root_node().get_child(step["path"])
            return {"children": sorted(child.get_display_name().Text for child in node.get_children())}
        if op == "server-profiles":
            node = client.get_node(ua.NodeId(ua.ObjectIds.Server_ServerCapabilities_ServerProfileArray))
            return {"profiles": node.get_value()}
    except ua.UaStatusCodeError as exc:
        return {"error": ua.StatusCode(exc.code).name}
    raise ValueError(f"unknown op {op!r}")


def main() -> int:
    url, steps = sys.argv[1], json.loads(sys.argv[2])
    client = Client(url, timeout=5)
    client.connect()
    try:
        for step in steps:
            emit(step=step, **run(client, step))
    finally:
        client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
