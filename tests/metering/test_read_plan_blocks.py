"""Read planning: fewest requests, within the per-read limit, one function code per request."""

from __future__ import annotations

from typing import Any

import pytest

from metering.decoding import DecodeError
from metering.read_plan import ReadBlock, plan_profile_reads, plan_reads, split_block_result
from point_mapping.model.profiles import MeterProfile, RegisterSpec


def reg(address: int, data_type: str = "float32", fc: str = "input", **extra: Any) -> RegisterSpec:
    return RegisterSpec.model_validate(
        {"function_code": fc, "address": address, "data_type": data_type, "unit": "V", **extra}
    )


def shape(blocks: list[ReadBlock]) -> list[tuple[int, int, int, list[str]]]:
    return [(b.function_code, b.address, b.count, [n for n, _ in b.members]) for b in blocks]


def test_adjacent_registers_merge() -> None:
    wanted = [("c", reg(4)), ("a", reg(0)), ("b", reg(2))]
    assert shape(plan_reads(wanted)) == [(4, 0, 6, ["a", "b", "c"])]


def test_gap_splits_unless_allowed() -> None:
    wanted = [("a", reg(0)), ("b", reg(5))]  # registers 2..4 undefined
    assert shape(plan_reads(wanted)) == [(4, 0, 2, ["a"]), (4, 5, 2, ["b"])]
    assert shape(plan_reads(wanted, max_gap=2)) == [(4, 0, 2, ["a"]), (4, 5, 2, ["b"])]
    assert shape(plan_reads(wanted, max_gap=3)) == [(4, 0, 7, ["a", "b"])]


def test_function_codes_never_mix() -> None:
    wanted = [("i", reg(0, fc="input")), ("h", reg(2, fc="holding")), ("h0", reg(0, fc="holding"))]
    assert shape(plan_reads(wanted, max_gap=10)) == [(3, 0, 4, ["h0", "h"]), (4, 0, 2, ["i"])]


def test_never_exceeds_modbus_limit_of_125() -> None:
    wanted = [(f"r{i}", reg(2 * i)) for i in range(100)]  # 200 contiguous registers
    blocks = plan_reads(wanted)
    assert [b.count for b in blocks] == [124, 76]  # a float32 is never split across reads
    assert sum(len(b.members) for b in blocks) == 100


def test_smaller_limit_per_profile() -> None:
    wanted = [(f"r{i}", reg(2 * i)) for i in range(50)]
    blocks = plan_reads(wanted, max_registers=80)  # Eastron: 40 parameters per request
    assert [b.count for b in blocks] == [80, 20]
    assert all(b.count <= 80 for b in blocks)


def test_gap_never_pushes_past_limit() -> None:
    wanted = [("a", reg(0)), ("b", reg(10)), ("c", reg(20))]
    assert shape(plan_reads(wanted, max_registers=12, max_gap=100)) == [
        (4, 0, 12, ["a", "b"]),
        (4, 20, 2, ["c"]),
    ]


def test_overlapping_values_share_a_read() -> None:
    wanted = [("whole", reg(10, "uint32")), ("low", reg(11, "uint16"))]
    blocks = plan_reads(wanted)
    assert shape(blocks) == [(4, 10, 2, ["whole", "low"])]
    assert split_block_result(blocks[0], [1, 2]) == {"whole": [1, 2], "low": [2]}


def test_split_block_result() -> None:
    wanted = [("a", reg(100, "int16")), ("b", reg(103, "int64"))]
    [block] = plan_reads(wanted, max_gap=2)
    assert (block.address, block.count, block.end) == (100, 7, 107)
    assert split_block_result(block, [1, 2, 3, 4, 5, 6, 7]) == {"a": [1], "b": [4, 5, 6, 7]}
    with pytest.raises(DecodeError, match=r"read of 7 registers from address 100 .* returned 6"):
        split_block_result(block, [0] * 6)


def test_bad_requests_fail_loudly() -> None:
    with pytest.raises(ValueError, match="wanted twice"):
        plan_reads([("a", reg(0)), ("a", reg(2))])
    with pytest.raises(ValueError, match=r"max_registers must be 1\.\.125"):
        plan_reads([("a", reg(0))], max_registers=126)
    with pytest.raises(ValueError, match="needs 4 registers, more than 2"):
        plan_reads([("a", reg(0, "float64"))], max_registers=2)
    with pytest.raises(ValueError, match="max_gap"):
        plan_reads([("a", reg(0))], max_gap=-1)


def test_empty_plan() -> None:
    assert plan_reads([]) == []


def test_profile_limits_are_used() -> None:
    profile = MeterProfile.model_validate(
        {
            "id": "test",
            "manufacturer": "x",
            "model": "y",
            "source": "test",
            "max_registers_per_read": 4,
            "max_gap": 2,
            "registers": {
                "voltage_l1": {"function_code": 4, "address": 0, "data_type": "float32", "unit": "V"},
                "voltage_l2": {"function_code": 4, "address": 4, "data_type": "float32", "unit": "V"},
                "voltage_l3": {"function_code": 4, "address": 6, "data_type": "float32", "unit": "V"},
            },
        }
    )
    assert shape(plan_profile_reads(profile)) == [(4, 0, 2, ["voltage_l1"]), (4, 4, 4, ["voltage_l2", "voltage_l3"])]
    assert shape(plan_profile_reads(profile, ["voltage_l3"])) == [(4, 6, 2, ["voltage_l3"])]
    with pytest.raises(ValueError, match="has no register 'energy'"):
        plan_profile_reads(profile, ["energy"])
