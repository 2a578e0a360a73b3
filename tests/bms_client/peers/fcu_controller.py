"""A small fan-coil controller written with bare bacpypes3, run as its own process by the tests.

    python fcu_controller.py --port PORT --device ID [--values N] [--no-rpm] [--no-segmentation]
                             [--description-length L]

Serves FCU-7's cooling valve (analog output, %), room temperature (analog input, °C, no
Description), fan (binary value) and N plain analog values (instances 1..N, "FCU-7 AV n", present
value n). `--no-rpm` makes it reject ReadPropertyMultiple with unrecognized-service, like many small
MS/TP controllers; `--no-segmentation` with `--description-length` (the analog values' Descriptions
padded to L characters) makes answers that do not fit one datagram, which it then aborts. Prints
READY when bound and runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bacpypes3.app import Application
from bacpypes3.basetypes import EngineeringUnits, Segmentation
from bacpypes3.local.analog import AnalogInputObject, AnalogOutputObject, AnalogValueObject
from bacpypes3.local.binary import BinaryValueObject
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject


async def run(args: argparse.Namespace) -> None:
    device = DeviceObject(
        objectIdentifier=("device", args.device), objectName="FCU-7 controller", vendorIdentifier=999,
        segmentationSupported=Segmentation.noSegmentation if args.no_segmentation else Segmentation.segmentedBoth,
    )  # fmt: skip
    port = NetworkPortObject(f"127.0.0.1/8:{args.port}", objectIdentifier=("network-port", 1), objectName="NP-1")
    app = Application.from_object_list([device, port])
    if args.no_rpm:
        # the service dispatcher rejects a request it finds no handler for (bacpypes3 Application.indication)
        app.do_ReadPropertyMultipleRequest = None
    app.add_object(
        AnalogOutputObject(
            objectIdentifier=("analog-output", 1), objectName="FCU-7 CLG VLV", description="cooling valve",
            presentValue=42.0, units=EngineeringUnits.percent, relinquishDefault=0.0,
        )
    )  # fmt: skip
    app.add_object(
        AnalogInputObject(
            objectIdentifier=("analog-input", 1), objectName="FCU-7 Room Temp",
            presentValue=22.5, units=EngineeringUnits.degreesCelsius,
        )
    )  # fmt: skip
    app.add_object(
        BinaryValueObject(objectIdentifier=("binary-value", 1), objectName="FCU-7 Fan", presentValue="active")
    )
    for i in range(1, args.values + 1):
        text = f"plain value {i} ".ljust(args.description_length, ".")
        app.add_object(
            AnalogValueObject(
                objectIdentifier=("analog-value", i), objectName=f"FCU-7 AV {i}", description=text,
                presentValue=float(i),
            )
        )  # fmt: skip
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    await asyncio.Event().wait()  # until killed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--device", type=int, required=True)
    parser.add_argument("--values", type=int, default=0)
    parser.add_argument("--no-rpm", action="store_true")
    parser.add_argument("--no-segmentation", action="store_true")
    parser.add_argument("--description-length", type=int, default=0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
