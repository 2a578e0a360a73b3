"""Plan the fewest Modbus reads that fetch a set of registers.

Adjacent values (and values separated by at most `max_gap` undefined registers) are merged into one
request, never longer than the meter's limit (at most 125 registers for FC3/FC4, Modbus Application
Protocol v1.1b3 §6.3/§6.4; Eastron meters accept only 40 parameters = 80 registers) and never mixing
function codes. Greedy merging in address order gives the minimum number of reads for this
interval-covering problem.

`BlockDecoder` turns the words of one block read into its members' values; a poller makes one per
block once and uses it every cycle.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from metering.decoding import DecodeError, ValueDecoder, decode
from point_mapping.model.profiles import MODBUS_MAX_READ, MeterProfile, Order, RegisterSpec


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request: `count` registers of `function_code` from `address`, holding `members`."""

    function_code: int
    address: int
    count: int
    members: tuple[tuple[str, RegisterSpec], ...]

    @property
    def end(self) -> int:
        return self.address + self.count


def plan_reads(
    wanted: Iterable[tuple[str, RegisterSpec]],
    max_registers: int = MODBUS_MAX_READ,
    max_gap: int = 0,
) -> list[ReadBlock]:
    """Blocks covering every wanted register, ordered by function code then address."""
    if not 1 <= max_registers <= MODBUS_MAX_READ:
        raise ValueError(f"max_registers must be 1..{MODBUS_MAX_READ}, got {max_registers}")
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    items = list(wanted)
    seen: set[str] = set()
    for name, spec in items:
        if name in seen:
            raise ValueError(f"register {name!r} is wanted twice")
        seen.add(name)
        if spec.register_count > max_registers:
            raise ValueError(
                f"register {name!r} needs {spec.register_count} registers, more than {max_registers} per read"
            )

    blocks: list[ReadBlock] = []
    ordered = sorted(items, key=lambda item: (item[1].function_code, item[1].address, item[1].end))
    current: list[tuple[str, RegisterSpec]] = []
    start = end = 0
    for name, spec in ordered:
        if current:
            same_fc = current[0][1].function_code == spec.function_code
            near = spec.address - end <= max_gap  # overlapping values are near too
            fits = max(end, spec.end) - start <= max_registers
            if same_fc and near and fits:
                current.append((name, spec))
                end = max(end, spec.end)
                continue
            blocks.append(ReadBlock(current[0][1].function_code, start, end - start, tuple(current)))
        current = [(name, spec)]
        start, end = spec.address, spec.end
    if current:
        blocks.append(ReadBlock(current[0][1].function_code, start, end - start, tuple(current)))
    return blocks


def plan_profile_reads(profile: MeterProfile, names: Iterable[str] | None = None) -> list[ReadBlock]:
    """Blocks for some (default: all) registers of a profile, within the profile's own limits."""
    chosen = list(profile.registers) if names is None else list(names)
    unknown = [n for n in chosen if n not in profile.registers]
    if unknown:
        raise ValueError(
            f"profile {profile.id!r} has no register {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(profile.registers)}"
        )
    return plan_reads([(n, profile.registers[n]) for n in chosen], profile.max_registers_per_read, profile.max_gap)


def split_block_result(block: ReadBlock, registers: Sequence[int]) -> dict[str, list[int]]:
    """Each member's own register words out of the words a block read returned."""
    _check_count(block, registers)
    return {
        name: list(registers[spec.address - block.address : spec.end - block.address]) for name, spec in block.members
    }


def _check_count(block: ReadBlock, registers: Sequence[int]) -> None:
    if len(registers) != block.count:
        raise DecodeError(
            f"read of {block.count} registers from address {block.address} "
            f"(function {block.function_code}) returned {len(registers)}"
        )


class BlockDecoder:
    """The values of a block's members from the words its read returned, as `decode` gives them.

    Everything that does not change between cycles (struct formats, byte orders, offsets, sentinels)
    is worked out here, once: a cycle packs the block's words into bytes with one struct call and
    unpacks each value in place.
    """

    __slots__ = ("_byte_order", "_members", "_word_order", "_words", "block")

    def __init__(self, block: ReadBlock, *, byte_order: Order = "big", word_order: Order = "big") -> None:
        self.block = block
        self._byte_order, self._word_order = byte_order, word_order
        self._words = struct.Struct(f">{block.count}H")
        self._members = tuple(
            (name, spec.address - block.address, ValueDecoder(spec, byte_order=byte_order, word_order=word_order))
            for name, spec in block.members
        )

    def decode(self, registers: Sequence[int]) -> tuple[dict[str, float | None], list[tuple[str, DecodeError]]]:
        """Values by member name, and the members that could not be decoded (with why).

        A wrong number of words is a DecodeError for the whole block; a bad word costs only the
        members it belongs to.
        """
        _check_count(self.block, registers)
        try:
            raw = self._words.pack(*registers)
        except struct.error:
            return self._decode_each(registers)
        if not _PLAIN_INTS.issuperset(map(type, registers)):
            return self._decode_each(registers)  # struct takes any __index__; `decode` only ints
        return {name: value.at(raw, at) for name, at, value in self._members}, []

    def _decode_each(self, registers: Sequence[int]) -> tuple[dict[str, float | None], list[tuple[str, DecodeError]]]:
        """Member by member through `decode`, for words that are not all 16-bit integers."""
        values: dict[str, float | None] = {}
        errors: list[tuple[str, DecodeError]] = []
        for name, spec in self.block.members:
            words = registers[spec.address - self.block.address : spec.end - self.block.address]
            try:
                values[name] = decode(spec, words, byte_order=self._byte_order, word_order=self._word_order)
            except DecodeError as exc:
                errors.append((name, exc))
        return values, errors


_PLAIN_INTS = frozenset({int, bool})
