"""Invalid tariffs are `check` errors at the YAML node to fix: zone overlaps and gaps, version gaps and
overlaps, windows off the quarter hour, holiday calendars that do not exist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid

Edit = Callable[[str, str, str], Path]
ZONES = """      - id: peak
        price: 0.28
        windows:
          - {days: [weekdays], from: "08:00", to: "20:00"}
      - {id: offpeak, price: 0.18}
"""


def problems_of(site_dir: Path) -> list[str]:
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    return [str(p).replace(f"{site_dir}/", "") for p in caught.value.problems]


def test_overlapping_zones_point_at_the_later_window(site_dir: Path, edit: Edit) -> None:
    shoulder = '      - {id: shoulder, price: 0.22, windows: [{days: [mon], from: "19:00", to: "21:00"}]}\n'
    edit("tenants.yaml", "      - {id: offpeak, price: 0.18}\n", "      - {id: offpeak, price: 0.18}\n" + shoulder)
    assert problems_of(site_dir) == ["tenants.yaml:33:47: on mon zone 'shoulder' overlaps zone 'peak' from 19:00"]


def test_gaps_without_a_default_zone(site_dir: Path, edit: Edit) -> None:
    weekend = '      - {id: offpeak, price: 0.18, windows: [{days: [weekend, holidays], from: "00:00", to: "00:00"}]}\n'
    edit("tenants.yaml", "      - {id: offpeak, price: 0.18}\n", weekend)
    found = problems_of(site_dir)
    assert "tenants.yaml:31:13: on mon no zone covers 00:00-08:00" in found
    assert "tenants.yaml:31:13: on fri no zone covers 20:00-24:00; add a default zone" in found
    assert not any("on sat" in p or "on holidays" in p for p in found)


def test_window_off_the_quarter_hour(site_dir: Path, edit: Edit) -> None:
    edit("tenants.yaml", 'from: "08:00", to: "20:00"', 'from: "08:10", to: "20:00"')
    assert problems_of(site_dir) == [
        "tenants.yaml:31:13: zone windows start and end on a quarter hour (intervals are 15 min)"
    ]


def test_version_gap_and_overlap(site_dir: Path, edit: Edit) -> None:
    versions = "    versions:\n"
    for start, end in (("2025-01-01", "2025-03-01"), ("2025-03-02", "2025-06-01"), ("2025-05-01", None)):
        versions += f"      - from: {start}\n" + (f"        to: {end}\n" if end else "") + "        zones:\n"
        versions += ZONES.replace("      ", "          ", 1).replace("\n      ", "\n          ")
    edit("tenants.yaml", "    zones:\n" + ZONES, versions)
    found = problems_of(site_dir)
    assert any(p.endswith("gap: no version in force from 2025-03-01 00:00:00 to 2025-03-02 00:00:00") for p in found)
    assert any(p.endswith("version overlaps the one in force until 2025-06-01 00:00:00") for p in found)
    assert len(found) == 2
    assert all(p.split(":")[0] == "tenants.yaml" for p in found)


def test_unknown_holiday_subdivision(site_dir: Path, edit: Edit) -> None:
    edit("site.yaml", "  holidays_country: DE\n", "  holidays_country: DE\n  holidays_subdivision: XX\n")
    assert problems_of(site_dir) == ["site.yaml:7:25: no holiday calendar for DE-XX"]


def test_unknown_holiday_country(site_dir: Path, edit: Edit) -> None:
    edit("site.yaml", "  holidays_country: DE\n", "  holidays_country: QQ\n")
    (problem,) = problems_of(site_dir)
    assert problem.startswith("site.yaml:6:21: holidays_country: no holiday calendar for country 'QQ'")
