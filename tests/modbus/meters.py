"""Register images of meters for the simulators: a profile's values encoded as the meter would send them."""

from __future__ import annotations

from collections.abc import Mapping

from pymodbus.simulator import DataType, SimData, SimDevice

from metering.decoding import encode
from metering.profiles import builtin_profiles
from metering.read_plan import plan_profile_reads

Blocks = dict[int, list[int]]


def meter_image(profile_id: str, values: Mapping[str, float | None]) -> dict[int, Blocks]:
    """{function code: {address: words}} serving every register of the profile (zero unless given).

    One block per planned read, zero-filled across the gaps the profile allows, so the meter answers
    exactly the reads a correct client makes.
    """
    profile = builtin_profiles()[profile_id]
    image: dict[int, Blocks] = {3: {}, 4: {}}
    for block in plan_profile_reads(profile):
        words = [0] * block.count
        for name, spec in block.members:
            at = spec.address - block.address
            byte_order, word_order = profile.orders(name)
            words[at : at + spec.register_count] = encode(
                spec, values.get(name, 0.0), byte_order=byte_order, word_order=word_order
            )
        image[block.function_code][block.address] = words
    return image


def sim_device(unit: int, image: Mapping[int, Blocks]) -> SimDevice:
    """A pymodbus SimDevice for `unit`; undefined addresses answer exception 02 (illegal data address)."""
    no_bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]

    def registers(blocks: Blocks) -> list[SimData]:
        found = [SimData(a, values=w, datatype=DataType.REGISTERS) for a, w in sorted(blocks.items()) if w]
        return found or [SimData(65535, datatype=DataType.INVALID)]

    return SimDevice(
        id=unit, simdata=(no_bits, list(no_bits), registers(image.get(3, {})), registers(image.get(4, {})))
    )
