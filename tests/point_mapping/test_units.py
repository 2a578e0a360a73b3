"""Unit codes a BMS and an HMI decode: BACnetEngineeringUnits numbers and UNECE Rec. 20 common codes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from point_mapping.units import UNITS, unece_unit_id, unit_info

# Checked by hand against ANSI/ASHRAE 135 clause 21 (BACnetEngineeringUnits) and UNECE Rec. 20 common codes.
ELECTRICAL = [
    ("var", 11, "D44"),  # volt-amperes-reactive; 45 would be pounds-mass-per-minute
    ("kvar", 12, "KVR"),  # kilovolt-amperes-reactive; 46 would be pounds-mass-per-hour
    ("VA", 8, "D46"),  # volt-amperes
    ("kVA", 9, "KVA"),  # kilovolt-amperes
    ("kVAh", 240, "C79"),  # kilovolt-ampere-hours; KVA is the power unit
    ("kvarh", 204, "K3"),
    ("W", 47, "WTT"),
    ("kW", 48, "KWT"),
    ("kWh", 19, "KWH"),
]


@pytest.mark.parametrize(("symbol", "bacnet", "unece"), ELECTRICAL)
def test_electrical_units_have_their_standard_codes(symbol: str, bacnet: int, unece: str) -> None:
    info = unit_info(symbol)
    assert (info.bacnet, info.unece) == (bacnet, unece)


def test_units_of_different_dimensions_never_share_a_code() -> None:
    # Units that are the same thing under two names may share a code ("%" and "%RH" are both percent;
    # power factor, pulses and "no unit" are all dimensionless "one"). Anything else must not: an HMI
    # decoding the code would show a var as a volt-ampere.
    same_thing = [{"%", "%RH"}, {"PF", "pulses", ""}]
    by_unece: dict[str, set[str]] = defaultdict(set)
    for symbol, info in UNITS.items():
        by_unece[info.unece].add(symbol)
    shared = [symbols for symbols in by_unece.values() if len(symbols) > 1]
    assert sorted(map(sorted, shared)) == sorted(map(sorted, same_thing))
    by_bacnet: dict[int, set[str]] = defaultdict(set)
    for symbol, info in UNITS.items():
        by_bacnet[info.bacnet].add(symbol)
    assert [s for s in by_bacnet.values() if len(s) > 1] == [{"pulses", ""}]  # both no-units (95)


def test_opcua_unit_id_packs_the_code() -> None:
    # OPC 10000-8 5.6.3: "KVR" = 0x4B5652; a two-letter code keeps its leading zero octet
    assert unece_unit_id("KVR") == 0x4B5652 == 4937298
    assert unece_unit_id("D44") == 0x443434
    assert unece_unit_id("K3") == 0x4B33


def test_docs_unit_table_is_the_code_table() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "units.md"
    rows = {}
    for line in doc.read_text().splitlines():
        if line.startswith("| `") or line.startswith("| (empty)"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            symbol = "" if cells[0] == "(empty)" else cells[0].strip("`")
            rows[symbol] = (int(cells[2].split()[0]), cells[3], int(cells[4]))
    assert rows == {s: (u.bacnet, u.unece, unece_unit_id(u.unece)) for s, u in UNITS.items()}
