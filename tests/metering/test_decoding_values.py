"""decode()/encode() against register words computed by hand from IEEE 754 and two's complement."""

from __future__ import annotations

import math
from typing import Any

import pytest

from metering.decoding import DecodeError, decode, encode
from point_mapping.model.profiles import RegisterSpec


def spec(data_type: str, **extra: Any) -> RegisterSpec:
    return RegisterSpec.model_validate(
        {"function_code": "input", "address": 0, "data_type": data_type, "unit": "kWh", **extra}
    )


@pytest.mark.parametrize(
    ("data_type", "byte_order", "word_order", "words", "expected"),
    [
        # 1234.5 = 0x449A5000 (sign 0, exponent 137, mantissa 0x1A5000)
        ("float32", "big", "big", [0x449A, 0x5000], 1234.5),
        ("float32", "big", "little", [0x5000, 0x449A], 1234.5),
        ("float32", "little", "big", [0x9A44, 0x0050], 1234.5),
        ("float32", "little", "little", [0x0050, 0x9A44], 1234.5),
        ("float32", "big", "big", [0xC020, 0x0000], -2.5),
        # 1.0 = 0x3FF0000000000000, -2.5 = 0xC004000000000000
        ("float64", "big", "big", [0x3FF0, 0, 0, 0], 1.0),
        ("float64", "big", "little", [0, 0, 0, 0xC004], -2.5),
        ("float64", "little", "big", [0xF03F, 0, 0, 0], 1.0),
        ("int16", "big", "big", [0xFFFE], -2),
        ("int16", "little", "big", [0xFEFF], -2),
        ("uint16", "big", "big", [0xFFFE], 65534),
        ("uint16", "little", "big", [0x3412], 0x1234),
        # -123456 = 0xFFFE1DC0
        ("int32", "big", "big", [0xFFFE, 0x1DC0], -123456),
        ("int32", "big", "little", [0x1DC0, 0xFFFE], -123456),
        ("uint32", "big", "big", [0x1234, 0x5678], 0x12345678),
        ("uint32", "little", "big", [0x3412, 0x7856], 0x12345678),
        ("uint32", "little", "little", [0x7856, 0x3412], 0x12345678),
        # 1234567890123 = 0x0000011F71FB04CB
        ("int64", "big", "big", [0x0000, 0x011F, 0x71FB, 0x04CB], 1234567890123),
        ("int64", "big", "little", [0x04CB, 0x71FB, 0x011F, 0x0000], 1234567890123),
        ("int64", "big", "big", [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], -1),
        ("uint64", "big", "big", [0x8000, 0, 0, 0], 2**63),
        ("uint64", "little", "little", [0x0100, 0, 0, 0], 1),
    ],
)
def test_decode_hand_computed(
    data_type: str, byte_order: str, word_order: str, words: list[int], expected: float
) -> None:
    s = spec(data_type)
    assert decode(s, words, byte_order=byte_order, word_order=word_order) == expected  # type: ignore[arg-type]
    assert encode(s, expected, byte_order=byte_order, word_order=word_order) == words  # type: ignore[arg-type]


def test_register_override_beats_profile_default() -> None:
    s = spec("float32", word_order="little")
    assert decode(s, [0x5000, 0x449A], word_order="big") == 1234.5


def test_scale_and_offset() -> None:
    # Carlo Gavazzi EM24 kWh x0.1, LSW first: 12345.6 kWh = raw 123456 = 0x0001E240
    em24 = spec("int32", scale=0.1)
    assert decode(em24, [0xE240, 0x0001], word_order="little") == pytest.approx(12345.6)
    assert encode(em24, 12345.6, word_order="little") == [0xE240, 0x0001]
    # Schneider iEM3000 INT64 Wh -> kWh
    iem = spec("int64", scale=0.001)
    assert decode(iem, [0, 0, 0x0012, 0xD687]) == pytest.approx(1234.567)  # 1234567 Wh
    temp = spec("int16", scale=0.1, offset=-50.0, unit="degC")
    assert decode(temp, [725]) == pytest.approx(22.5)
    assert encode(temp, 22.5) == [725]


@pytest.mark.parametrize(
    ("data_type", "sentinels", "words"),
    [
        ("int16", [0x8000], [0x8000]),
        ("int16", [-32768], [0x8000]),  # same bit pattern written as a signed number
        ("uint16", [0xFFFF], [0xFFFF]),
        ("uint32", [0xFFFFFFFF], [0xFFFF, 0xFFFF]),
        ("int32", [0x80000000], [0x8000, 0x0000]),
        ("int64", [0x8000000000000000], [0x8000, 0, 0, 0]),
        ("float32", [0xFFC00000], [0xFFC0, 0x0000]),
    ],
)
def test_sentinels_mean_not_available(data_type: str, sentinels: list[int], words: list[int]) -> None:
    s = spec(data_type, sentinels=sentinels)
    assert decode(s, words) is None
    assert encode(s, None) == words


def test_sentinel_compared_after_word_order() -> None:
    s = spec("int32", sentinels=[0x80000000])
    assert decode(s, [0x0000, 0x8000], word_order="little") is None
    assert decode(s, [0x0000, 0x8000], word_order="big") == 0x8000


@pytest.mark.parametrize(
    "words",
    [[0x7FC0, 0x0000], [0xFFC0, 0x0000], [0x7F80, 0x0000], [0xFF80, 0x0000]],
    ids=["nan", "negative-nan", "inf", "-inf"],
)
def test_non_finite_floats_are_not_available(words: list[int]) -> None:
    assert decode(spec("float32"), words) is None


def test_float_none_encodes_nan() -> None:
    words = encode(spec("float64"), None)
    assert len(words) == 4 and decode(spec("float64"), words) is None


def test_wrong_register_count() -> None:
    with pytest.raises(DecodeError, match="float32 at address 0 needs 2 registers, got 1"):
        decode(spec("float32"), [0x449A])
    with pytest.raises(DecodeError, match="needs 4 registers, got 5"):
        decode(spec("int64"), [0] * 5)


@pytest.mark.parametrize("bad", [0x10000, -1, 1.5])
def test_word_out_of_range(bad: Any) -> None:
    with pytest.raises(DecodeError, match="not a 16-bit word"):
        decode(spec("uint32"), [0, bad])


@pytest.mark.parametrize(
    ("data_type", "value"),
    [("int16", 32768), ("uint16", -1), ("uint32", 2**32), ("int64", 2**63), ("float32", 1e39)],
)
def test_encode_refuses_out_of_range(data_type: str, value: float) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        encode(spec(data_type), value)


def test_encode_none_without_sentinel_for_integers() -> None:
    with pytest.raises(ValueError, match="no 'not available' value"):
        encode(spec("uint16"), None)


ROUND_TRIP_VALUES = {
    "int16": [-32768, -1, 0, 1, 32767],
    "uint16": [0, 1, 0x8000, 65535],
    "int32": [-(2**31), -123456, 0, 2**31 - 1],
    "uint32": [0, 0xDEADBEEF, 2**32 - 1],
    "int64": [-(2**63), -1, 0, 2**53],
    "uint64": [0, 2**53, 2**63],
    "float32": [0.0, -0.5, 1234.5, 16777216.0, 2.0**127],
    "float64": [0.0, -1e-300, math.pi, 1.7e308],
}


@pytest.mark.parametrize(("data_type", "value"), [(t, v) for t, values in ROUND_TRIP_VALUES.items() for v in values])
@pytest.mark.parametrize("byte_order", ["big", "little"])
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_round_trip(data_type: str, value: float, byte_order: str, word_order: str) -> None:
    s = spec(data_type)
    words = encode(s, value, byte_order=byte_order, word_order=word_order)  # type: ignore[arg-type]
    assert all(0 <= w <= 0xFFFF for w in words)
    assert decode(s, words, byte_order=byte_order, word_order=word_order) == value  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0.0, 0.1, 12345.6, 99999.9])
def test_round_trip_scaled(value: float) -> None:
    s = spec("int32", scale=0.1)
    assert decode(s, encode(s, value)) == pytest.approx(value, abs=1e-9)
