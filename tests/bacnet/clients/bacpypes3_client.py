"""An independent bacpypes3 BACnet client, run as its own process by the tests.

    python bacpypes3_client.py --local 127.0.0.1/8:PORT --server 127.0.0.1:PORT 'STEPS_JSON'

Runs the steps in order and prints one JSON line per result on stdout (flushed), so a test can follow
along and react (e.g. call `server.update()` once it has seen {"event": "subscribed"}). Steps:
  {"op": "who-is", "address": "127.255.255.255:47808", "low": 1, "high": 1}  # to the server's port
  {"op": "who-has", "name": "..."}
  {"op": "read", "object": "analog-input,1", "property": "present-value"}
  {"op": "rpm", "object": "analog-input,1", "properties": ["all"]}
  {"op": "write", "object": "analog-input,1", "property": "present-value", "value": 1.0}
  {"op": "subscribe", "object": "analog-input,1", "confirmed": true, "lifetime": 60, "count": 2,
   "timeout": 10, "abandon": false}   # abandon: subscribe, never renew nor cancel
  {"op": "pause", "tag": "x"}         # print {"event": "paused"}, wait for a line on stdin
Times are time.monotonic(), which on Linux is one system-wide clock shared with the test process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from bacpypes3.apdu import ErrorRejectAbortNack, WhoIsRequest
from bacpypes3.app import Application
from bacpypes3.constructeddata import Choice, Sequence
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import BitString, Enumerated, ObjectIdentifier
from bacpypes3.service.device import WhoIsFuture


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()


def plain(value: Any) -> Any:
    """A JSON-friendly view of a decoded BACnet value."""
    if isinstance(value, ErrorRejectAbortNack):
        return {"error": str(getattr(value, "errorCode", None) or value)}
    if isinstance(value, BaseException):
        return {"error": repr(value)}
    if isinstance(value, BitString):
        return [int(bit) for bit in value]
    if isinstance(value, Enumerated):
        return str(value)
    if isinstance(value, ObjectIdentifier):
        return f"{value[0]},{value[1]}"
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Choice | Sequence):
        return {k: plain(v) for k, v in vars(value).items() if not k.startswith("_") and v is not None}
    return str(value)


async def who_is(app: Application, step: dict[str, Any]) -> list[dict[str, Any]]:
    # app.who_is(address=...) keeps only I-Ams from that very address; a directed broadcast is answered
    # from the server's unicast address, so register an unfiltered future and send the request by hand.
    # With low == high the future resolves on the first matching I-Am, else after the timeout.
    low, high = step.get("low"), step.get("high")
    future = WhoIsFuture(app, None, low, high, step.get("timeout", 2))
    if not hasattr(app, "_who_is_futures"):
        app._who_is_futures = []
    app._who_is_futures.append(future)
    request = WhoIsRequest(destination=Address(step["address"]))
    if low is not None:
        request.deviceInstanceRangeLowLimit, request.deviceInstanceRangeHighLimit = low, high
    app.request(request)
    i_ams = await future.future
    return [
        {"device": plain(i_am.iAmDeviceIdentifier), "source": str(i_am.pduSource), "vendor": i_am.vendorID}
        for i_am in i_ams
    ]


async def run(args: argparse.Namespace) -> None:
    device = DeviceObject(
        objectIdentifier=("device", args.device), objectName=f"test-client-{args.device}", vendorIdentifier=999
    )
    port = NetworkPortObject(args.local, objectIdentifier=("network-port", 1), objectName="NetworkPort-1")
    app = Application.from_object_list([device, port])
    server = Address(args.server)
    try:
        emit(event="ready")
        for step in json.loads(args.steps):
            op = step["op"]
            if op == "who-is":
                emit(op=op, address=step["address"], i_ams=await who_is(app, step))
            elif op == "who-has":
                i_haves = await app.who_has(object_name=step["name"], address=server, timeout=2)
                emit(
                    op=op,
                    i_haves=[
                        {"device": plain(h.deviceIdentifier), "object": plain(h.objectIdentifier)} for h in i_haves
                    ],
                )
            elif op == "read":
                value = await app.read_property(server, step["object"], step["property"])
                emit(op=op, object=step["object"], property=step["property"], value=plain(value))
            elif op == "rpm":
                objid = ObjectIdentifier(step["object"])
                result = await app.read_property_multiple(server, [objid, step["properties"]])
                if isinstance(result, ErrorRejectAbortNack):
                    emit(op=op, object=step["object"], error=plain(result))
                else:
                    values = {str(prop): plain(value) for _objid, prop, _index, value in result}
                    emit(op=op, object=step["object"], values=values)
            elif op == "write":
                try:
                    await app.write_property(server, step["object"], step["property"], step["value"])
                    emit(op=op, ok=True)
                except BaseException as err:  # BACnet errors derive from BaseException
                    emit(op=op, ok=False, error=str(getattr(err, "errorCode", err)))
            elif op == "subscribe":
                await subscribe(app, server, step)
            elif op == "pause":
                # let the test change the server, then continue on a line from stdin
                emit(event="paused", tag=step.get("tag"))
                await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            else:
                raise ValueError(f"unknown op {op!r}")
    finally:
        app.close()


async def subscribe(app: Application, server: Address, step: dict[str, Any]) -> None:
    # change_of_value needs an ObjectIdentifier, not a string, or notifications are dropped (docs/testing-peers.md)
    objid = ObjectIdentifier(step["object"])
    received = 0
    deadline = time.monotonic() + step.get("timeout", 10)
    scm_cm = app.change_of_value(
        server, objid, issue_confirmed_notifications=step.get("confirmed", True), lifetime=step.get("lifetime")
    )
    if step.get("abandon"):
        # subscribe and vanish without cancelling: the server must expire it after its lifetime
        await scm_cm.refresh_subscription()
        if scm_cm.refresh_subscription_handle:
            scm_cm.refresh_subscription_handle.cancel()
        emit(event="subscribed", object=step["object"], t=time.monotonic())
        return
    async with scm_cm as scm:
        emit(event="subscribed", object=step["object"], t=time.monotonic())
        while received < step.get("count", 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                emit(event="timeout", received=received)
                return
            try:
                prop, value = await asyncio.wait_for(scm.get_value(), remaining)
            except TimeoutError:
                emit(event="timeout", received=received)
                return
            emit(event="cov", property=str(prop), value=plain(value), t=time.monotonic())
            if str(prop) == "status-flags":
                received += 1  # present-value and status-flags arrive together: count notifications


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--local", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--device", type=int, default=4_000_001)
    parser.add_argument("steps")
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except BaseException as err:
        emit(event="crash", error=repr(err))
        raise


if __name__ == "__main__":
    main()
