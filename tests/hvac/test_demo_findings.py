"""The demo's simulated BMS history holds the case study's conflicts; `events` lists and acknowledges them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bms_bridge.cli import main
from bms_bridge.commands import demo
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import open_site

# Thursday 9 October 2025, 12:00 UTC: the autumn spell (7-20 Oct) has run two and a half working days
NOW = datetime(2025, 10, 9, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    site = open_site(demo.DEMO_SITE)
    old = demo.HISTORY_DAYS
    demo.HISTORY_DAYS = 13  # from Friday 26 September: a comparable week and two Saturdays before the spell
    try:
        asyncio.run(demo.fill_history(site, url, NOW, LoadModel(site.model)))
    finally:
        demo.HISTORY_DAYS = old
    return url


def _events(url: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["--db", url, "events", str(demo.DEMO_SITE), "--json"]) == 0
    found: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return found


def test_demo_history_lists_the_case_study_conflicts(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    events = _events(demo_db, capsys)
    shc = [e for e in events if e["kind"] == "hvac.simultaneous_heating_cooling" and e["subject"] == "ahu-a"]
    # Tue 7 and Wed 8 closed 07:00-19:00 local; Thu 9 still open at NOW
    assert [(e["started_at"], e["ended_at"]) for e in shc] == [
        ("2025-10-07T05:00:00+00:00", "2025-10-07T17:00:00+00:00"),
        ("2025-10-08T05:00:00+00:00", "2025-10-08T17:00:00+00:00"),
        ("2025-10-09T05:00:00+00:00", None),
    ]
    first = shc[0]
    assert first["equipment"] == "ahu-a" and first["zone"] == "A"
    # heat, AHU A's half of the chiller's cooling and its fan's electricity, each at its own tariff; kWh of
    # different resources are never added, the money is
    waste = {p["resource"]: p for p in first["waste"]}  # type: ignore[union-attr]
    assert set(waste) == {"heat", "cooling", "electricity"}
    assert all(p["unit"] == "kWh" and p["currency"] == "EUR" for p in waste.values())
    assert waste["heat"]["energy"] > 100 and waste["cooling"]["energy"] > 0
    assert first["energy"] is None and first["energy_unit"] is None
    costs = [Decimal(p["cost"]) for p in waste.values()]
    assert all(c > 0 for c in costs) and Decimal(str(first["cost_exact"])) == sum(costs)
    assert first["currency"] == "EUR"
    assert "arcplan" in first["tenants"]  # type: ignore[operator]
    evidence = first["evidence"]
    assert isinstance(evidence, list) and evidence
    assert evidence[0]["values"]["ahu-a.heating-valve"] > 2 and evidence[0]["values"]["ahu-a.cooling-valve"] > 2
    kinds = {e["kind"] for e in events}
    assert {"hvac.zone_heating_cooling_fight", "hvac.setpoints_crossed", "hvac.ventilation_unoccupied"} <= kinds
    # AHU B runs its old Saturday program although its Schedule object says weekdays only
    saturday = [e for e in events if e["kind"] == "hvac.ventilation_unoccupied"]
    assert [(e["subject"], e["started_at"]) for e in saturday] == [
        ("ahu-b", "2025-09-27T06:00:00+00:00"),
        ("ahu-b", "2025-10-04T06:00:00+00:00"),
    ]
    # outside the spells the valves never overlap
    hvac = [e for e in events if str(e["kind"]).startswith("hvac.")]  # the anomaly rules list theirs too
    assert all(str(e["started_at"]) >= "2025-10-07" for e in hvac if e["kind"] != "hvac.ventilation_unoccupied")


def test_acknowledge_from_the_command_line(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = next(e for e in _events(demo_db, capsys) if e["ended_at"] is None)
    args = ["--db", demo_db, "events", str(demo.DEMO_SITE), "--ack", str(target["id"]), "--by", "j.weber"]
    assert main([*args, "--comment", "AHU A reheat left on by hand; ticket 4711"]) == 0
    acked = next(e for e in _events(demo_db, capsys) if e["id"] == target["id"])
    assert acked["acknowledged"]["by"] == "j.weber"  # type: ignore[index]
    assert acked["ended_at"] is None  # acknowledging does not close it
    assert main(["--db", demo_db, "events", str(demo.DEMO_SITE), "--ack", "999999", "--by", "x"]) == 1
    assert main(["--db", demo_db, "events", str(demo.DEMO_SITE), "--ack", "1"]) == 2


def test_refreshing_closes_a_finding_when_its_condition_clears(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bms_bridge.hvac.findings import refresh_findings
    from bms_bridge.simulate.history import bms_history
    from metering.store import Store

    site = open_site(demo.DEMO_SITE)
    later = datetime(2025, 10, 9, 18, tzinfo=UTC)

    async def refresh() -> None:
        async with Store.open(demo_db) as store:
            # the BMS kept reporting after NOW; judge the last day again up to 18:00 UTC
            await store.insert_trends(bms_history(site, NOW, later, LoadModel(site.model)))
            await refresh_findings(site, store, datetime(2025, 10, 8, tzinfo=UTC), later)

    asyncio.run(refresh())
    shc = [
        e
        for e in _events(demo_db, capsys)
        if e["kind"] == "hvac.simultaneous_heating_cooling" and e["subject"] == "ahu-a"
    ]
    assert len(shc) == 3  # nothing duplicated by a re-run
    assert shc[2]["ended_at"] == "2025-10-09T17:00:00+00:00"  # closed by itself when the valves stopped fighting
