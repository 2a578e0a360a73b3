"""`measures:`, `savings:` and `emission_factors:` load from YAML; every mistake names its file:line:col."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bms_bridge.cli import main
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid

GOOD = """measures:
  - id: led-a1
    date: 2026-03-02
    scope: points
    points: [a1-01.energy]
    description: LED lighting in office 1
  - id: t2-behaviour
    date: 2026-01-12
    scope: tenants
    tenants: [T2]
    description: Switch-off campaign
emission_factors:
  - {resource: electricity, year: 2026, kg_co2e_per_unit: 0.36, source: "grid factor 2026"}
"""


def problems_of(site_dir: Path) -> list[str]:
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    return [str(p).replace(f"{site_dir}/", "") for p in caught.value.problems]


def test_measures_load_and_list(site_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site_dir / "measures.yaml").write_text(GOOD)
    model = open_site(site_dir).model
    assert [(m.id, m.date, m.scope) for m in model.measures] == [
        ("led-a1", date(2026, 3, 2), "points"),
        ("t2-behaviour", date(2026, 1, 12), "tenants"),
    ]
    assert model.emission_factors[0].kg_co2e_per_unit == 0.36
    assert main(["measures", str(site_dir), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in listed] == ["t2-behaviour", "led-a1"]  # by date
    assert listed[1]["points"] == ["a1-01.energy"]
    assert main(["measures", str(site_dir)]) == 0
    assert "2 measures" in capsys.readouterr().out


def test_unknown_references_point_at_the_value(site_dir: Path) -> None:
    bad = GOOD.replace("[a1-01.energy]", "[a1-01.energy, a1-09.energy]").replace("[T2]", "[T9]")
    (site_dir / "measures.yaml").write_text(bad)
    assert problems_of(site_dir) == [
        "measures.yaml:5:28: unknown point 'a1-09.energy'",
        "measures.yaml:10:15: unknown tenant 'T9'",
    ]


def test_scope_without_its_list_is_an_error(site_dir: Path) -> None:
    (site_dir / "measures.yaml").write_text(GOOD.replace("    points: [a1-01.energy]\n", ""))
    (problem,) = problems_of(site_dir)
    assert problem.startswith("measures.yaml:2:5:") and "scope 'points' needs 'points'" in problem


def test_second_factor_for_a_year_is_an_error(site_dir: Path) -> None:
    twice = GOOD + "  - {resource: electricity, year: 2026, kg_co2e_per_unit: 0.4, source: other}\n"
    (site_dir / "measures.yaml").write_text(twice)
    (problem,) = problems_of(site_dir)
    assert problem.startswith("measures.yaml:14:") and "a second electricity factor for 2026" in problem


def test_unknown_outdoor_point(site_dir: Path) -> None:
    (site_dir / "measures.yaml").write_text(GOOD + "savings:\n  outdoor_temperature: {bms_point: oat}\n")
    assert problems_of(site_dir) == ["measures.yaml:15:36: unknown BMS point 'oat'"]
