"""An independent BACnet client on the bac-py stack (shares no code with our bacpypes3 server).

Runs under its own Python 3.13 venv in .peers/bacpy (see tests/bacnet/peers.py for the install command):

    .peers/bacpy/bin/python bacpy_client.py --port PORT --server 127.0.0.1:PORT 'STEPS_JSON'

Prints one JSON line per step result. Steps:
  {"op": "read", "object": "device,1", "property": "protocol-services-supported"}
  {"op": "raw-read", "object": "device,1", "property": "protocol-services-supported"}   # hex of the value
  {"op": "write", "object": "device,1", "property": "object-name", "value": "x"}
  {"op": "write-raw", "object": "large-analog-value,1", "property": "present-value", "hex": "4400000000"}
  {"op": "wpm", "object": "device,1", "property": "location", "value": "x"}
  {"op": "confirmed", "service": 26, "hex": ""}     # any confirmed service choice with raw data
  {"op": "who-is", "low": 1, "high": 1}   {"op": "who-has", "name": "..."}     # unicast to the server
  {"op": "read-range", "object": "trend-log,1", "by": "position"|"sequence"|"time"|null,
   "reference": 1 | "2026-03-03T09:00:00" (device local time), "count": 10}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bac_py import Client
from bac_py.network.address import parse_address
from bac_py.services.errors import BACnetAbortError, BACnetError, BACnetRejectError, BACnetTimeoutError


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()


def outcome(err: BaseException) -> dict[str, Any]:
    if isinstance(err, BACnetError):
        return {"error": f"{err.error_class.name}/{err.error_code.name}".lower()}
    if isinstance(err, BACnetRejectError):
        return {"reject": err.reason.name.lower()}
    if isinstance(err, BACnetAbortError):
        return {"abort": err.reason.name.lower()}
    if isinstance(err, BACnetTimeoutError | TimeoutError):
        return {"timeout": True}
    return {"exception": repr(err)}


def wpm_error(err: BACnetError) -> dict[str, Any]:
    """bac-py 1.5.7 decodes every Error-PDU as two application-tagged enumerations, but the
    WritePropertyMultiple-Error (clause 21) is [0] { class, code } [1] firstFailedWriteAttempt: it takes
    the opening tag [0] for an empty class and our class for the code. Undo that from its bytes."""
    from bac_py.types.enums import ErrorClass, ErrorCode

    rest = err.error_data
    if rest[:1] != b"\x91":  # not the shifted layout: take bac-py's reading
        return outcome(err)
    error_class = ErrorClass(int(err.error_code))
    error_code = ErrorCode(rest[1])
    return {"error": f"{error_class.name}/{error_code.name}".lower(), "first_failed": rest[3:].hex()}


def tags(data: bytes) -> list[tuple[str, int, bytes]]:
    """Clause 20.2.1 tags of `data` as (kind, number, content): kind 'app', 'ctx', 'open' or 'close'."""
    out, i = [], 0
    while i < len(data):
        first = data[i]
        i += 1
        number = first >> 4
        if number == 0x0F:
            number, i = data[i], i + 1
        context, lvt = bool(first & 0x08), first & 0x07
        if context and lvt in (6, 7):
            out.append(("open" if lvt == 6 else "close", number, b""))
            continue
        length = lvt
        if lvt == 5:
            length, i = data[i], i + 1
        out.append(("ctx" if context else "app", number, data[i : i + length]))
        i += length
    return out


def log_records(data: bytes) -> list[dict[str, Any]]:
    """BACnetLogRecord (clause 21): [0] BACnetDateTime, [1] log datum choice, [2] Status_Flags, decoded
    by hand so that neither stack's decoder is trusted."""
    import struct
    from datetime import datetime

    records: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    depth: list[int] = []
    for kind, number, content in tags(data):
        if kind == "open":
            depth.append(number)
        elif kind == "close":
            depth.pop()
        elif depth == [0] and kind == "app" and number == 10:  # Date
            current["date"] = content
        elif depth == [0] and kind == "app" and number == 11:  # Time
            y, mo, d, _ = current.pop("date")
            h, mi, s, hs = content
            current["timestamp"] = datetime(1900 + y, mo, d, h, mi, s, hs * 10_000).isoformat()
        elif depth == [1] and kind == "ctx":
            current["datum"] = {2: "real"}.get(number, str(number))
            current["value"] = struct.unpack(">f", content)[0] if number == 2 else content.hex()
        elif not depth and kind == "ctx" and number == 2:
            flags = content[1] if len(content) > 1 else 0
            current["status_flags"] = [bool(flags & (0x80 >> b)) for b in range(4)]
            records.append(current)
            current = {}
    return records


async def read_range(client: Client, server: str, step: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime

    from bac_py.services.read_range import RangeByPosition, RangeBySequenceNumber, RangeByTime
    from bac_py.types.enums import ObjectType, PropertyIdentifier
    from bac_py.types.primitives import BACnetDate, BACnetTime, ObjectIdentifier

    kind, instance = step["object"].split(",")
    by, reference, count = step.get("by"), step.get("reference"), step.get("count", 0)
    qualifier: Any = None
    if by == "position":
        qualifier = RangeByPosition(int(reference), int(count))
    elif by == "sequence":
        qualifier = RangeBySequenceNumber(int(reference), int(count))
    elif by == "time":
        moment = datetime.fromisoformat(reference)
        qualifier = RangeByTime(
            BACnetDate(moment.year, moment.month, moment.day, moment.isoweekday()),
            BACnetTime(moment.hour, moment.minute, moment.second, moment.microsecond // 10_000),
            int(count),
        )
    ack = await client.read_range(
        parse_address(server),
        ObjectIdentifier(ObjectType[kind.upper().replace("-", "_")], int(instance)),
        PropertyIdentifier[step.get("property", "log-buffer").upper().replace("-", "_")],
        range_qualifier=qualifier,
        timeout=5,
    )
    flags = ack.result_flags
    return {
        "result_flags": {"first_item": flags.first_item, "last_item": flags.last_item, "more_items": flags.more_items},
        "item_count": ack.item_count,
        "first_sequence_number": ack.first_sequence_number,
        "records": log_records(bytes(ack.item_data)),
    }


def plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "value"):
        return str(value.name).lower()
    return str(value)


async def run_step(client: Client, server: str, step: dict[str, Any]) -> dict[str, Any]:
    op = step["op"]
    try:
        if op == "read":
            return {"value": plain(await client.read(server, step["object"], step["property"]))}
        if op == "raw-read":
            ack = await client.read_property(server, step["object"], step["property"], timeout=5)
            return {"hex": bytes(ack.property_value).hex()}
        if op == "write":
            await client.write(server, step["object"], step["property"], step["value"])
            return {"ack": True}
        if op == "write-raw":
            await client.write_property(server, step["object"], step["property"], bytes.fromhex(step["hex"]), timeout=5)
            return {"ack": True}
        if op == "wpm":
            await client.write_multiple(server, {step["object"]: {step["property"]: step["value"]}}, timeout=5)
            return {"ack": True}
        if op == "confirmed":
            data = await client.app.confirmed_request(
                parse_address(server), int(step["service"]), bytes.fromhex(step.get("hex", "")), timeout=5
            )
            return {"ack": True, "hex": bytes(data).hex()}
        if op == "read-range":
            return await read_range(client, server, step)
        if op == "who-is":
            found = await client.who_is(step.get("low"), step.get("high"), destination=server, timeout=2)
            return {"devices": [i.object_identifier.instance_number for i in found]}
        if op == "who-has":
            found = await client.who_has(object_name=step["name"], destination=server, timeout=2)
            return {"objects": [str(i.object_name) for i in found]}
    except BaseException as err:
        if isinstance(err, BACnetError) and (op == "wpm" or step.get("service") == 16):
            return wpm_error(err)
        return outcome(err)
    raise ValueError(f"unknown op {op!r}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("steps")
    args = parser.parse_args()
    async with Client(
        instance_number=3_999_001, interface="127.0.0.1", port=args.port, broadcast_address="127.255.255.255"
    ) as client:
        emit(event="ready")
        for step in json.loads(args.steps):
            emit(event="result", step=step, **(await run_step(client, args.server, step)))
    emit(event="done")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException as err:
        emit(event="crash", error=repr(err))
        raise
