"""A BACnet/IP controller with many plain values, written with bare bacpypes3, for the BMS client benchmark.

    python -m benchmarks.bacnet_device --port PORT --device ID --values N [--max-apdu A] [--no-segmentation]

Serves N analog values (instances 1..N, present value = instance number). Prints READY when bound and
runs until killed: a process of its own, like a real controller, so client and device do not share an
event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bacpypes3.app import Application
from bacpypes3.basetypes import Segmentation
from bacpypes3.local.analog import AnalogValueObject
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject


async def run(args: argparse.Namespace) -> None:
    device = DeviceObject(
        objectIdentifier=("device", args.device), objectName=f"bench controller {args.device}", vendorIdentifier=999,
        maxApduLengthAccepted=args.max_apdu,
        segmentationSupported=Segmentation.noSegmentation if args.no_segmentation else Segmentation.segmentedBoth,
    )  # fmt: skip
    port = NetworkPortObject(f"127.0.0.1/8:{args.port}", objectIdentifier=("network-port", 1), objectName="NP-1")
    app = Application.from_object_list([device, port])
    for i in range(1, args.values + 1):
        app.add_object(
            AnalogValueObject(objectIdentifier=("analog-value", i), objectName=f"AV {i}", presentValue=float(i))
        )
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--device", type=int, required=True)
    parser.add_argument("--values", type=int, default=500)
    parser.add_argument("--max-apdu", type=int, default=1476)
    parser.add_argument("--no-segmentation", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
