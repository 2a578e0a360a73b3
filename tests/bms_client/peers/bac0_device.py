"""An independent BACnet device written with BAC0, run as its own process by the tests.

    HOME=<tmp> python bac0_device.py --port PORT --device ID --values 40 [--no-segmentation --max-apdu 206]

Serves analog values 1..N (present value = 10 + instance), binary value 1 (active) and multistate
value 1 (state 2); prints READY when bound and runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import BAC0
from BAC0.core.devices.local.factory import ObjectFactory, analog_value, binary_value, multistate_value
from bacpypes3.basetypes import Segmentation


async def run(args: argparse.Namespace) -> None:
    BAC0.log_level("silence")
    async with BAC0.start(ip="127.0.0.1/8", port=args.port, deviceId=args.device, ping=False) as bacnet:
        # BAC0 leaves these at bacpypes3's defaults; the stack reads them from the device object for
        # every transaction, so a device that refuses segmentation is made by setting them here
        device = bacnet.this_application.app.device_object
        if args.no_segmentation:
            device.segmentationSupported = Segmentation.noSegmentation
        if args.max_apdu:
            device.maxApduLengthAccepted = args.max_apdu
        ObjectFactory.clear_objects()
        for i in range(1, args.values + 1):
            analog_value(instance=i, name=f"av-{i}", presentValue=10.0 + i, description=f"value {i}")
        binary_value(instance=1, name="fan", presentValue=True)
        factory = multistate_value(instance=1, name="mode", presentValue=2, properties={"numberOfStates": 3})
        factory.add_objects_to_application(bacnet)
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        await asyncio.Event().wait()  # until killed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--device", type=int, required=True)
    parser.add_argument("--values", type=int, default=10)
    parser.add_argument("--no-segmentation", action="store_true")
    parser.add_argument("--max-apdu", type=int)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
