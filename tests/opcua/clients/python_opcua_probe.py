"""Second independent client: python-opcua (thread-based, the predecessor of asyncua).

python python_opcua_probe.py URL NODEID... prints one JSON line per node: value, status name, source
timestamp and EngineeringUnits UnitId; then tries a write on the first node and prints its outcome.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from opcua import Client, ua


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def main() -> int:
    url, node_ids = sys.argv[1], sys.argv[2:]
    client = Client(url, timeout=5)
    client.connect()
    try:
        for node_id in node_ids:
            node = client.get_node(node_id)
            # Node.get_data_value() raises on any non-Good status: read through the service instead.
            read = ua.ReadValueId()
            read.NodeId = node.nodeid
            read.AttributeId = ua.AttributeIds.Value
            params = ua.ReadParameters()
            params.NodesToRead = [read]
            dv = client.uaclient.read(params)[0]
            eu = node.get_child(["0:EngineeringUnits"]).get_value()
            value = dv.Value.Value
            if isinstance(value, float) and not math.isfinite(value):
                value = repr(value)
            emit(
                node_id=node_id,
                value=value,
                status=dv.StatusCode.name,
                # python-opcua gives naive UTC datetimes
                source_timestamp=dv.SourceTimestamp.isoformat() + "Z" if dv.SourceTimestamp else None,
                unit_id=eu.UnitId,
                unit=eu.DisplayName.Text,
            )
        try:
            client.get_node(node_ids[0]).set_value(ua.Variant(1.0, ua.VariantType.Double))
            emit(event="write", status="Good")
        except ua.UaStatusCodeError as exc:
            emit(event="write", status=ua.StatusCode(exc.code).name)
    finally:
        client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
