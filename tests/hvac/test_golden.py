from __future__ import annotations

import pytest

from tests.hvac.golden import cases, expected, run_case


@pytest.mark.parametrize("case", cases())
def test_golden_case(case: str) -> None:
    assert run_case(case) == expected(case)


def test_every_rule_has_its_cases() -> None:
    names = set(cases())
    for needed in ("normal", "fault", "boundary", "data_gap", "equipment_off", "missing_point"):
        assert f"hvac_shc_{needed}" in names
    assert {"hvac_ventilation_exception_day", "hvac_ventilation_after_hours", "hvac_zone_fight"} <= names
    assert {"hvac_setpoints_crossed", "hvac_setpoints_boundary", "hvac_hunting"} <= names
    assert {f"hvac_zone_meters_{c}" for c in ("normal", "fault", "boundary", "data_gap")} <= names
    assert {f"hvac_zone_setpoints_{c}" for c in ("normal", "fault", "boundary", "data_gap", "equipment_off")} <= names
