"""Turn Modbus register words into engineering values, and back (for simulators and tests).

Pure functions over `RegisterSpec`; only `struct`. Not-available values come back as None: a raw bit
pattern listed in the spec's `sentinels`, or a float that is NaN or infinite (IEEE 754 NaN is what
Schneider and Eastron meters report for a value they do not measure).

`ValueDecoder` gives what `decode` gives, with the spec's format, byte positions and sentinels worked
out once: a poller decodes the same values every cycle, straight from the bytes of a whole block read.
`decode` stays the plain, obviously right version: one-off callers use it and the tests hold the two
to the same answers.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from point_mapping.model.profiles import REGISTER_COUNTS, Order, RegisterSpec

# struct formats, always big-endian: register words are put in big-endian byte order first.
_FORMATS: dict[str, str] = {
    "int16": ">h",
    "uint16": ">H",
    "int32": ">i",
    "uint32": ">I",
    "int64": ">q",
    "uint64": ">Q",
    "float32": ">f",
    "float64": ">d",
}
_FLOATS = frozenset({"float32", "float64"})


class DecodeError(ValueError):
    """Register words that cannot be a value of the spec (wrong count, word out of 0..65535)."""


def _swap_bytes(word: int) -> int:
    return ((word & 0xFF) << 8) | (word >> 8)


def _to_canonical(words: Sequence[int], byte_order: Order, word_order: Order) -> list[int]:
    """Reorder as big-endian words, most significant first; the transform is its own inverse."""
    ordered = list(reversed(words)) if word_order == "little" else list(words)
    return [_swap_bytes(w) for w in ordered] if byte_order == "little" else ordered


def _resolve(spec: RegisterSpec, byte_order: Order, word_order: Order) -> tuple[Order, Order]:
    return spec.byte_order or byte_order, spec.word_order or word_order


def _byte_positions(count: int, byte_order: Order, word_order: Order) -> tuple[int, ...]:
    """For each byte of the big-endian value, where it sits in the words as sent (each big-endian)."""
    words = range(count - 1, -1, -1) if word_order == "little" else range(count)
    inner = (1, 0) if byte_order == "little" else (0, 1)
    return tuple(2 * w + b for w in words for b in inner)


class ValueDecoder:
    """`decode` of one spec at given profile orders, reading from the bytes of register words.

    The bytes are the words as sent, each big-endian (`struct` format ">nH"); values in the two uniform
    layouts (all big or all little) unpack in place, mixed ones are gathered into big-endian first.
    """

    __slots__ = ("_float", "_gather", "_offset", "_scale", "_sentinels", "_size", "_struct")

    def __init__(self, spec: RegisterSpec, *, byte_order: Order = "big", word_order: Order = "big") -> None:
        count = REGISTER_COUNTS[spec.data_type]
        positions = _byte_positions(count, *_resolve(spec, byte_order, word_order))
        code = _FORMATS[spec.data_type][1:]
        self._gather: tuple[int, ...] | None = None
        if positions == tuple(range(2 * count)):
            self._struct = struct.Struct(">" + code)
        elif positions == tuple(reversed(range(2 * count))):
            self._struct = struct.Struct("<" + code)
        else:
            self._struct = struct.Struct(">" + code)
            self._gather = positions
        # Sentinels as they appear on the wire, so a value's bytes are compared without reordering.
        mask = (1 << (16 * count)) - 1
        self._sentinels = frozenset(_scatter((s & mask).to_bytes(2 * count, "big"), positions) for s in spec.sentinels)
        self._size = 2 * count
        self._float = spec.data_type in _FLOATS
        self._scale, self._offset = spec.scale, spec.offset

    def at(self, raw: bytes, word: int) -> float | None:
        """The value whose first register is word `word` of `raw`; `raw` must hold all of it."""
        start = 2 * word
        if self._sentinels and raw[start : start + self._size] in self._sentinels:
            return None
        if self._gather is None:
            value = self._struct.unpack_from(raw, start)[0]
        else:
            value = self._struct.unpack(bytes(raw[start + p] for p in self._gather))[0]
        if self._float and not math.isfinite(value):
            return None
        return float(value) * self._scale + self._offset


def _scatter(canonical: bytes, positions: Sequence[int]) -> bytes:
    wire = bytearray(len(canonical))
    for byte, position in zip(canonical, positions, strict=True):
        wire[position] = byte
    return bytes(wire)


def decode(
    spec: RegisterSpec,
    registers: Sequence[int],
    *,
    byte_order: Order = "big",
    word_order: Order = "big",
) -> float | None:
    """The engineering value of `registers` (raw * scale + offset), or None when not available.

    `byte_order`/`word_order` are the profile's defaults; the spec's own orders win.
    """
    count = REGISTER_COUNTS[spec.data_type]
    if len(registers) != count:
        raise DecodeError(f"{spec.data_type} at address {spec.address} needs {count} registers, got {len(registers)}")
    for index, word in enumerate(registers):
        if not isinstance(word, int) or not 0 <= word <= 0xFFFF:
            raise DecodeError(f"register {spec.address + index} holds {word!r}, not a 16-bit word (0..65535)")
    words = _to_canonical(registers, *_resolve(spec, byte_order, word_order))
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    if spec.sentinels:
        pattern = int.from_bytes(raw, "big")
        mask = (1 << (16 * count)) - 1
        if any(pattern == s & mask for s in spec.sentinels):
            return None
    value = struct.unpack(_FORMATS[spec.data_type], raw)[0]
    if spec.data_type in _FLOATS and not math.isfinite(value):
        return None
    return float(value) * spec.scale + spec.offset


def encode(
    spec: RegisterSpec,
    value: float | None,
    *,
    byte_order: Order = "big",
    word_order: Order = "big",
) -> list[int]:
    """Register words a meter would send for `value`; None gives the first sentinel (or NaN).

    Integer types round (raw = (value - offset) / scale) and refuse values out of range.
    """
    count = REGISTER_COUNTS[spec.data_type]
    if value is None:
        if spec.sentinels:
            raw = (spec.sentinels[0] & ((1 << (16 * count)) - 1)).to_bytes(2 * count, "big")
        elif spec.data_type in _FLOATS:
            raw = struct.pack(_FORMATS[spec.data_type], math.nan)
        else:
            raise ValueError(f"{spec.data_type} at address {spec.address} has no 'not available' value")
    else:
        scaled = (value - spec.offset) / spec.scale
        if spec.data_type in _FLOATS:
            try:
                raw = struct.pack(_FORMATS[spec.data_type], scaled)
            except OverflowError:
                raise ValueError(f"{value!r} does not fit in {spec.data_type}") from None
        else:
            try:
                raw = struct.pack(_FORMATS[spec.data_type], round(scaled))
            except (struct.error, OverflowError, ValueError):
                raise ValueError(f"{value!r} (raw {scaled!r}) does not fit in {spec.data_type}") from None
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return _to_canonical(words, *_resolve(spec, byte_order, word_order))
