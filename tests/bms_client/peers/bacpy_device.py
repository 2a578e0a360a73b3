"""An independent BACnet/IP controller written with bac-py (shares no code with bacpypes3), run as its own
process by the tests under the bac-py venv (Python >= 3.13, `make peers`):

    .peers/bacpy/bin/python bacpy_device.py --port PORT --device ID [--values N] [--no-segmentation]
                                            [--max-apdu A] [--delay-file PATH]

Serves analog values 1..N (present value = 100 + instance), binary value 1 (active) and multistate
value 1 (state 3). `--no-segmentation` makes it a controller that cannot segment: its Device object says
so, and a ReadPropertyMultiple whose answer does not fit one APDU of `--max-apdu` bytes is aborted with
segmentation-not-supported (ASHRAE 135 clause 5.4.5.3), as such controllers do. `--delay-file` names a
file holding a number of seconds the controller waits before answering each confirmed request (read at
every request, so a test can make it slow and quick again). Prints READY when bound, runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bac_py import BACnetApplication, DefaultServerHandlers, DeviceConfig, DeviceObject
from bac_py.objects.analog import AnalogValueObject
from bac_py.objects.binary import BinaryValueObject
from bac_py.objects.multistate import MultiStateValueObject
from bac_py.services.errors import BACnetAbortError
from bac_py.types.enums import AbortReason, BinaryPV, ConfirmedServiceChoice, Segmentation

COMPLEX_ACK_HEADER = 3  # an unsegmented ComplexACK: type, invoke id, service choice


def _delay(path: Path | None) -> float:
    if path is None:
        return 0.0
    try:
        return float(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0.0


async def run(args: argparse.Namespace) -> None:
    config = DeviceConfig(
        instance_number=args.device, name=f"bac-py controller {args.device}", interface="127.0.0.1", port=args.port,
        max_apdu_length=args.max_apdu,
    )  # fmt: skip
    app = BACnetApplication(config)
    await app.start()
    device = DeviceObject(
        args.device,
        object_name=f"bac-py controller {args.device}",
        vendor_identifier=999,
        max_apdu_length_accepted=args.max_apdu,
        segmentation_supported=Segmentation.NONE if args.no_segmentation else Segmentation.BOTH,
    )
    db = app.object_db
    db.add(device)
    for i in range(1, args.values + 1):
        db.add(AnalogValueObject(i, object_name=f"av-{i}", present_value=100.0 + i))
    db.add(BinaryValueObject(1, object_name="fan", present_value=BinaryPV.ACTIVE))
    db.add(MultiStateValueObject(1, object_name="mode", present_value=3, number_of_states=4))
    handlers = DefaultServerHandlers(app, db, device)
    handlers.register()
    delay_file = Path(args.delay_file) if args.delay_file else None
    registry = app.service_registry
    rpm = registry._confirmed[ConfirmedServiceChoice.READ_PROPERTY_MULTIPLE]
    rp = registry._confirmed[ConfirmedServiceChoice.READ_PROPERTY]

    async def slow_rp(service_choice: int, data: bytes, source: Any) -> Any:
        await asyncio.sleep(_delay(delay_file))
        return await rp(service_choice, data, source)

    async def limited_rpm(service_choice: int, data: bytes, source: Any) -> Any:
        await asyncio.sleep(_delay(delay_file))
        answer = await rpm(service_choice, data, source)
        if args.no_segmentation and answer is not None and len(answer) + COMPLEX_ACK_HEADER > args.max_apdu:
            raise BACnetAbortError(AbortReason.SEGMENTATION_NOT_SUPPORTED)
        return answer

    registry.register_confirmed(ConfirmedServiceChoice.READ_PROPERTY, slow_rp)
    registry.register_confirmed(ConfirmedServiceChoice.READ_PROPERTY_MULTIPLE, limited_rpm)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    await asyncio.Event().wait()  # until killed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--device", type=int, required=True)
    parser.add_argument("--values", type=int, default=10)
    parser.add_argument("--no-segmentation", action="store_true")
    parser.add_argument("--max-apdu", type=int, default=1476)
    parser.add_argument("--delay-file")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
