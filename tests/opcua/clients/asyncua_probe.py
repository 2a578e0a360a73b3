"""Independent asyncua client for the OPC UA server tests; prints one JSON object per line.

Run as a subprocess: python asyncua_probe.py URL COMMAND [args]. Commands:
  tree NS_URI                     every folder and variable under Objects in that namespace
  read NODEID...                  value, status, timestamps, EngineeringUnits, EURange, type
  subscribe NODEID COUNT          "subscribed" after the initial value, then COUNT changes
  history NODEID START END LIMIT  raw history (ISO times, LIMIT 0 = all)
  write NODEID VALUE              try a write; prints the status or the refusal
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from datetime import datetime
from typing import Any

from asyncua import Client, Node, ua
from asyncua.ua.uaerrors import UaStatusCodeError


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def number(value: Any) -> Any:
    # JSON has no NaN/inf: spell them out.
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


async def tree(client: Client, ns_uri: str) -> None:
    idx = await client.get_namespace_index(ns_uri)

    async def walk(node: Node, path: list[str]) -> None:
        for child in await node.get_children(refs=ua.ObjectIds.HierarchicalReferences):
            name = await child.read_browse_name()
            if name.NamespaceIndex != idx:
                continue
            node_class = await child.read_node_class()
            child_path = [*path, name.Name]
            emit(kind=node_class.name, path=child_path, node_id=child.nodeid.to_string())
            if node_class == ua.NodeClass.Object:
                await walk(child, child_path)

    await walk(client.nodes.objects, [])


async def read(client: Client, node_ids: list[str]) -> None:
    for node_id in node_ids:
        node = client.get_node(node_id)
        dv = await node.read_data_value(raise_on_bad_status=False)
        props = {}
        for prop in await node.get_properties():
            name = await prop.read_browse_name()
            props[f"{name.NamespaceIndex}:{name.Name}"] = await prop.read_value()
        eu = props.get("0:EngineeringUnits")
        eu_range = props.get("0:EURange")
        type_def = await node.read_type_definition()
        emit(
            node_id=node_id,
            value=number(dv.Value.Value if dv.Value is not None else None),
            variant_type=dv.Value.VariantType.name if dv.Value is not None else None,
            status=dv.StatusCode.name,
            source_timestamp=iso(dv.SourceTimestamp),
            server_timestamp=iso(dv.ServerTimestamp),
            properties=sorted(props),
            eu=None
            if eu is None
            else {
                "namespace_uri": eu.NamespaceUri,
                "unit_id": eu.UnitId,
                "display_name": eu.DisplayName.Text,
                "description": eu.Description.Text,
            },
            eu_range=None if eu_range is None else [number(eu_range.Low), number(eu_range.High)],
            type_definition=type_def.to_string() if type_def is not None else None,
            access_level=sorted(a.name for a in await node.get_access_level()),
            data_type=(await node.read_data_type()).to_string(),
        )


class Changes:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[ua.DataValue] = asyncio.Queue()

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        self.queue.put_nowait(data.monitored_item.Value)


async def subscribe(client: Client, node_id: str, count: int) -> None:
    changes = Changes()
    subscription = await client.create_subscription(20, changes)
    await subscription.subscribe_data_change(client.get_node(node_id))
    first = await changes.queue.get()  # Part 4 5.12.1: the current value is sent first
    emit(event="subscribed", value=number(first.Value.Value), status=first.StatusCode.name)
    for _ in range(count):
        dv = await changes.queue.get()
        emit(
            event="datachange",
            value=number(dv.Value.Value),
            status=dv.StatusCode.name,
            source_timestamp=iso(dv.SourceTimestamp),
        )
    await subscription.delete()


async def history(client: Client, node_id: str, start: str, end: str, limit: int) -> None:
    node = client.get_node(node_id)
    values = await node.read_raw_history(datetime.fromisoformat(start), datetime.fromisoformat(end), limit)
    for dv in values:
        emit(source_timestamp=iso(dv.SourceTimestamp), value=dv.Value.Value, status=dv.StatusCode.name)
    emit(event="end", count=len(values))


async def write(client: Client, node_id: str, value: float) -> None:
    try:
        await client.get_node(node_id).write_value(ua.Variant(value, ua.VariantType.Double))
    except UaStatusCodeError as exc:
        emit(event="write", status=type(exc).__name__)
        return
    emit(event="write", status="Good")


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("command")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--user")
    parser.add_argument("--password")
    options = parser.parse_args()
    client = Client(options.url, timeout=5)
    if options.user:
        client.set_user(options.user)
        client.set_password(options.password or "")
    try:
        await client.connect()
    except (UaStatusCodeError, OSError) as exc:
        emit(event="connect-failed", error=type(exc).__name__)
        return 2
    try:
        args = options.args
        if options.command == "tree":
            await tree(client, args[0])
        elif options.command == "read":
            await read(client, args)
        elif options.command == "subscribe":
            await subscribe(client, args[0], int(args[1]))
        elif options.command == "history":
            await history(client, args[0], args[1], args[2], int(args[3]))
        elif options.command == "write":
            await write(client, args[0], float(args[1]))
        else:
            emit(event="error", error=f"unknown command {options.command}")
            return 1
    finally:
        await client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
