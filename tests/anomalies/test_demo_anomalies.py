"""The demo's history holds the case study's anomalies: one leak, one tenant's equipment left on, one stuck meter.

The history is 44 days to Monday 16 February 2026, 12:00 UTC: five weeks of reference and the week of
9 February judged, which holds el-A4-03's stuck register (10-12 February, local days).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bms_bridge.cli import main
from bms_bridge.commands import demo
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import open_site

# the demo's history is built first: minutes on a loaded two-core machine, not a hang
pytestmark = pytest.mark.timeout(1200)

NOW = datetime(2026, 2, 16, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    site = open_site(demo.DEMO_SITE)
    old = demo.HISTORY_DAYS
    demo.HISTORY_DAYS = 44  # from Saturday 3 January 12:00 UTC
    try:
        asyncio.run(demo.fill_history(site, url, NOW, LoadModel(site.model)))
    finally:
        demo.HISTORY_DAYS = old
    return url


def _anomalies(url: str) -> list[dict[str, object]]:
    """`bms-bridge events SITE --json` (which judges the stored intervals first), anomalies only."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--db", url, "events", str(demo.DEMO_SITE), "--json"]) == 0
    events: list[dict[str, object]] = json.loads(out.getvalue())
    return [e for e in events if str(e["kind"]).startswith("anomaly.")]


@pytest.fixture(scope="module")
def listed(demo_db: str) -> list[dict[str, object]]:
    return _anomalies(demo_db)


def test_exactly_the_three_demo_anomalies(listed: list[dict[str, object]]) -> None:
    found = listed
    assert sorted((e["kind"], e["subject"]) for e in found) == [
        ("anomaly.after_hours", "media-nord"),
        ("anomaly.night_flow", "cw.B2-wc"),
        ("anomaly.stuck_meter", "el.A4-03"),
    ]


def test_the_restroom_leak(listed: list[dict[str, object]]) -> None:
    leak = next(e for e in listed if e["kind"] == "anomaly.night_flow")
    d = leak["details"]
    assert isinstance(d, dict)
    # it leaks from the first night of the history: the walk back reaches the night to Sunday 4 January
    assert d["start_night"] == "2026-01-04" and d["since_window_start"] is True
    assert leak["started_at"] == "2026-01-04T00:00:00+00:00" and leak["ended_at"] is None
    # 30 L/h from 00:00 to 05:00: 150 L a day; at 4.65 EUR/m3, 0.70 EUR a day
    assert d["litres_per_day"] == pytest.approx(150, rel=0.03) and d["cost_per_day"] == "0.70"
    assert d["area"] == "Restrooms B2 east wing (B2-wc)" and leak["tenants"] == []
    # the building's main water meter and the common-area remainder carry it too; reported once, here
    assert d["contained_in"] == ["cw.B-common", "cw.B-main"]
    assert leak["energy_unit"] == "m3" and leak["currency"] == "EUR"
    nights = int(str(d["nights"]))
    assert nights == 44  # the nights to 4 January ... 16 February
    assert float(str(leak["energy"])) == pytest.approx(0.150 * nights, rel=0.03)
    assert Decimal(str(leak["cost_exact"])) == pytest.approx(Decimal("0.6975") * nights, rel=Decimal("0.03"))


def test_equipment_left_on_after_hours(listed: list[dict[str, object]]) -> None:
    left_on = next(e for e in listed if e["kind"] == "anomaly.after_hours")
    d = left_on["details"]
    assert isinstance(d, dict)
    assert left_on["tenants"] == ["media-nord"] and d["points"] == ["el.B2-03"] and d["area_m2"] == 420
    # 3 W/m² standby plus 6 W/m² left on, against the other offices' 3 W/m² (a little more with the 19-20 shoulder)
    assert d["after_hours_w_per_m2"] == pytest.approx(9.2, abs=0.3)
    assert d["peer_median_w_per_m2"] == pytest.approx(3.2, abs=0.3) and d["reasons"] == ["peers"]
    assert d["first_week"] == "2026-02-09"
    # the server room (nordlicht-it's el.A3-03, 18 kW day and night) is always_on: not judged
    assert all(e["subject"] != "nordlicht-it" for e in listed)


def test_the_stuck_meter(listed: list[dict[str, object]]) -> None:
    stuck = next(e for e in listed if e["kind"] == "anomaly.stuck_meter")
    assert stuck["subject"] == "el.A4-03" and stuck["equipment"] == "el-A4-03"
    # 10 to 12 February, local days: 72 hours
    assert (stuck["started_at"], stuck["ended_at"]) == ("2026-02-09T23:00:00+00:00", "2026-02-12T23:00:00+00:00")
    d = stuck["details"]
    assert isinstance(d, dict) and d["parent"] == "el.A-main" and d["zero_hours"] == 72.0
    assert stuck["tenants"] == ["nova-pharma"]


def test_listing_again_adds_nothing_and_acknowledging_keeps_it_open(
    demo_db: str, listed: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    before = listed
    leak = next(e for e in before if e["kind"] == "anomaly.night_flow")
    args = ["--db", demo_db, "events", str(demo.DEMO_SITE), "--ack", str(leak["id"]), "--by", "facility"]
    assert main([*args, "--comment", "cistern valve B2 east ordered"]) == 0
    after = _anomalies(demo_db)
    assert [e["id"] for e in after] == [e["id"] for e in before]
    acked = next(e for e in after if e["id"] == leak["id"])
    assert acked["acknowledged"]["by"] == "facility" and acked["ended_at"] is None  # type: ignore[index]
