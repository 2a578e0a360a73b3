"""BAC0 as an independent BACnet client, run as its own process by the tests.

    HOME=<tmp> python bac0_client.py --port PORT --server 127.0.0.1:PORT analog-input:1 accumulator:1 ...

Reads presentValue, units and statusFlags of each object with one ReadPropertyMultiple (request_dict=,
see docs/testing-peers.md) and prints {"object": ..., "values": {...}} JSON lines, then {"event": "done"}.
Run with HOME set to a temporary folder (BAC0 writes ~/.BAC0/) and a temporary CWD (it reads .env).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import BAC0


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()


def plain(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


async def run(args: argparse.Namespace) -> None:
    BAC0.log_level("silence")
    async with BAC0.start(ip="127.0.0.1/8", port=args.port, deviceId=args.device, ping=False) as bacnet:
        emit(event="ready")
        for obj in args.objects:
            props = (
                ["presentValue", "statusFlags"]
                if obj.startswith("binary")
                else ["presentValue", "units", "statusFlags"]
            )
            request = {"address": args.server, "objects": {obj: props}}
            result = await bacnet.readMultiple(args.server, request_dict=request, timeout=5)
            # request_dict answers {"type:inst" or (type, inst): [(property, value), ...]}
            values = {}
            for _key, pairs in dict(result).items():
                for prop, value in pairs:
                    values[str(prop)] = plain(value)
            emit(object=obj, values=values)
            single = await bacnet.read(f"{args.server} {obj.replace(':', ' ')} presentValue", timeout=5)
            emit(object=obj, read_present_value=plain(single))
        emit(event="done")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--device", type=int, default=4_000_002)
    parser.add_argument("objects", nargs="+")
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except BaseException as err:
        emit(event="crash", error=repr(err))
        raise


if __name__ == "__main__":
    main()
