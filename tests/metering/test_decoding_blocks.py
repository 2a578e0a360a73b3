"""BlockDecoder (a whole block read at once) gives exactly what decode() gives value by value."""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import pytest

from metering.decoding import DecodeError, decode, encode
from metering.read_plan import BlockDecoder, ReadBlock, plan_reads, split_block_result
from point_mapping.model.profiles import RegisterSpec

TYPES = ["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
ORDERS = ["big", "little"]


def reg(address: int, data_type: str, **extra: Any) -> RegisterSpec:
    return RegisterSpec.model_validate(
        {"function_code": "input", "address": address, "data_type": data_type, "unit": "kWh", **extra}
    )


def block_of(*specs: RegisterSpec, max_gap: int = 0) -> ReadBlock:
    (block,) = plan_reads([(f"v{i}", s) for i, s in enumerate(specs)], max_gap=max_gap)
    return block


def by_decode(block: ReadBlock, words: list[int], byte_order: Any, word_order: Any) -> dict[str, float | None]:
    parts = split_block_result(block, words)
    return {n: decode(s, parts[n], byte_order=byte_order, word_order=word_order) for n, s in block.members}


def same(a: dict[str, float | None], b: dict[str, float | None]) -> bool:
    """Equal to the last bit (math.isclose would hide a changed order of operations)."""
    return a.keys() == b.keys() and all(
        (a[k] is None and b[k] is None) or (a[k] is not None and b[k] is not None and a[k].hex() == b[k].hex())  # type: ignore[union-attr]
        for k in a
    )


@pytest.mark.parametrize(("byte_order", "word_order"), list(product(ORDERS, ORDERS)))
def test_every_type_and_order_matches_decode(byte_order: Any, word_order: Any) -> None:
    # One block of every type back to back, scaled and offset, so every value sits at its own offset.
    specs, address = [], 0
    for data_type in TYPES:
        specs.append(reg(address, data_type, scale=0.1, offset=-3.0))
        address = specs[-1].end
    block = block_of(*specs)
    words: list[int] = []
    for s in specs:
        value = 1234.5 if s.data_type.startswith("float") else 77.7
        words += encode(s, value, byte_order=byte_order, word_order=word_order)
    decoder = BlockDecoder(block, byte_order=byte_order, word_order=word_order)
    values, errors = decoder.decode(words)
    assert errors == []
    assert same(values, by_decode(block, words, byte_order, word_order))
    # decode() itself is checked against hand-computed words; check the offsets here independently.
    assert values == {f"v{i}": pytest.approx(1234.5 if t.startswith("float") else 77.7) for i, t in enumerate(TYPES)}


def test_register_overrides_beat_the_profile_orders() -> None:
    specs = [reg(0, "float32", word_order="little"), reg(2, "int32", byte_order="little"), reg(4, "uint16")]
    block = block_of(*specs)
    words = [0x5000, 0x449A, 0xFEFF, 0xC01D, 0x3412]
    values, _ = BlockDecoder(block, byte_order="big", word_order="big").decode(words)
    assert values == by_decode(block, words, "big", "big") == {"v0": 1234.5, "v1": -123456.0, "v2": 0x3412}


@pytest.mark.parametrize(("byte_order", "word_order"), list(product(ORDERS, ORDERS)))
def test_sentinels_nan_and_gaps(byte_order: Any, word_order: Any) -> None:
    specs = [
        reg(0, "int32", sentinels=[0x80000000]),
        reg(3, "float32"),  # register 2 is a gap
        reg(5, "uint64", sentinels=[-1 & 0xFFFFFFFFFFFFFFFF]),
        reg(9, "int16", sentinels=[-32768]),
    ]
    block = block_of(*specs, max_gap=1)
    absent = [encode(s, None, byte_order=byte_order, word_order=word_order) for s in specs]
    words = [*absent[0], 0xBEEF, *absent[1], *absent[2], *absent[3]]
    values, errors = BlockDecoder(block, byte_order=byte_order, word_order=word_order).decode(words)
    assert errors == [] and values == dict.fromkeys(["v0", "v1", "v2", "v3"])
    # One bit off a sentinel is a value again, for both paths alike.
    words[0] ^= 1
    values, _ = BlockDecoder(block, byte_order=byte_order, word_order=word_order).decode(words)
    assert values["v0"] is not None and same(values, by_decode(block, words, byte_order, word_order))


def test_infinite_floats_are_not_available() -> None:
    block = block_of(reg(0, "float32"), reg(2, "float64"))
    words = [*encode(reg(0, "float32"), math.inf), 0x7FF0, 0, 0, 0]
    assert BlockDecoder(block).decode(words) == ({"v0": None, "v1": None}, [])


@pytest.mark.parametrize("bad", [0x10000, -1, 1.5, "7"])
def test_a_bad_word_costs_only_its_own_values(bad: Any) -> None:
    block = block_of(reg(0, "uint32"), reg(2, "uint16"), reg(3, "float32"))
    words: list[Any] = [0, 1, 2, bad, 0]
    values, errors = BlockDecoder(block).decode(words)
    assert values == {"v0": 1.0, "v1": 2.0}
    assert [name for name, _ in errors] == ["v2"]
    assert str(errors[0][1]) == f"register 3 holds {bad!r}, not a 16-bit word (0..65535)"


def test_int_like_words_are_refused_as_decode_refuses_them() -> None:
    class Word:  # struct would take it (it has __index__); decode() never did
        def __index__(self) -> int:
            return 1

    block = block_of(reg(0, "uint16"), reg(1, "uint16"))
    values, errors = BlockDecoder(block).decode([Word(), 5])  # type: ignore[list-item]
    assert values == {"v1": 5.0} and [name for name, _ in errors] == ["v0"]


def test_wrong_word_count_fails_the_block_like_split_block_result() -> None:
    block = block_of(reg(0, "float32"), reg(2, "float32"))
    with pytest.raises(DecodeError) as split_error:
        split_block_result(block, [0] * 3)
    with pytest.raises(DecodeError) as block_error:
        BlockDecoder(block).decode([0] * 3)
    assert str(block_error.value) == str(split_error.value)
