"""The demo's first start closes last month: a draft statement per tenant, with the server room's own
line, the A2-03 tenant change prorated by date and time, and the common-area electricity pools."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import bms_bridge.commands.demo as demo
from billing_export.statement import LineKind, StatementState
from billing_export.store import StatementStore
from bms_bridge.commands.demo_billing import close_last_month, last_month, write_lease_change
from bms_bridge.simulate.load_model import LoadModel
from bms_bridge.sites import open_site
from metering.store import Store
from point_mapping.loader import LoadedSite
from tests.service.demo_copy import demo_copy

# the demo's history is built first: minutes on a loaded two-core machine, not a hang
pytestmark = pytest.mark.timeout(1200)

NOW = datetime(2026, 12, 3, 6, tzinfo=UTC)  # last month: November 2026 (Berlin: CET all month)


async def _noop(*_args: object) -> None:
    return None


async def test_first_start_leaves_november_in_draft_for_every_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "HISTORY_DAYS", 33)  # enough for November; the full demo fills 13 months
    monkeypatch.setattr(demo, "fill_bms_history", _noop)  # HVAC trends play no part in billing
    folder = demo_copy(tmp_path / "site")
    site: LoadedSite = open_site(folder)
    period = last_month(NOW, site)
    assert str(period) == "2026-11"
    assert "changes tenant on 2026-11-14 at 12:00" in write_lease_change(folder, period).read_text()
    site = open_site(folder)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    heard: dict[str, list[tuple[int, int]]] = {}
    await demo.fill_history(
        site,
        url,
        NOW,
        LoadModel(site.model),
        lambda done, total, label: heard.setdefault(label, []).append((done, total)),
    )
    # each phase of the fill counted to its end: 33 days of each source (from 2026-10-31 06:00 UTC)
    assert list(heard) == [
        "Modbus meters, days",
        "LPWAN meters, days",
        "manual readings, days",
        "15-minute intervals",
        "anomaly rules, 8-week slices",
    ]
    for label in ("Modbus meters, days", "LPWAN meters, days", "manual readings, days"):
        assert heard[label][0] == (0, 33) and heard[label][-1] == (33, 33)
        assert [done for done, _ in heard[label]] == sorted(done for done, _ in heard[label])
    assert heard["15-minute intervals"] == [(0, 1), (1, 1)]
    assert heard["anomaly rules, 8-week slices"][-1][0] == heard["anomaly rules, 8-week slices"][-1][1]

    closed = await close_last_month(site, url, NOW)
    assert closed is not None
    assert await close_last_month(site, url, NOW) is None  # a later start leaves the month as it is
    async with Store.open(url) as store:
        stored = {s.statement.contract: s for s in await StatementStore(store).find("demo", period="2026-11")}

    assert {s.statement.tenant for s in stored.values()} == {t.id for t in site.model.tenants}
    assert {s.state for s in stored.values()} == {StatementState.DRAFT}

    # the server room is a line of its own, with its meter's serial and registers
    it = stored["c-nordlicht-it"].statement
    room = [line for line in it.lines if line.point_id == "el.A3-03"]
    assert {line.zone for line in room} == {"peak", "offpeak"}
    first = room[0]
    assert first.meter_serial and first.opening is not None and first.closing is not None
    # the zones share the month's consumption, which is closing - opening up to the few seconds between
    # each boundary and the last reading before it (registers are read, intervals end on the boundary)
    month = sum(line.quantity for line in room)
    assert abs(month - (first.closing - first.opening)) <= month / 1000

    # Weiss moves out of A2-03 on 14 November at 12:00: 13.5 of 30 days; Solaris has the other 16.5
    for contract, days in (("c-old-consult", "13.5000"), ("c-solaris-consult", "16.5000")):
        fees = [line for line in stored[contract].statement.lines if line.kind == LineKind.FEE]
        assert {line.basis for line in fees} == {f"{days} of 30 days"}
        # the standing charge 12.50 / month for electricity: 12.50 x 13.5 / 30 = 5.625 -> 5.63
    [weiss_el_fee] = [
        line
        for line in stored["c-old-consult"].statement.lines
        if line.kind == LineKind.FEE and line.unit_price == 12.5
    ]
    assert weiss_el_fee.net == Decimal("5.63")

    # both buildings' common-area electricity is a pool allocated by leased area, and it reconciles
    pooled = {line.point_id for s in stored.values() for line in s.statement.lines if line.kind == LineKind.ALLOCATION}
    assert pooled == {"el-A-common", "el-B-common"}
    assert [r.pool for r in closed.reconciliations] == ["el-A-common", "el-B-common"]
    for r in closed.reconciliations:
        assert r.main > 0 and r.billed + r.common + r.losses == r.main and not r.flagged
    allocated = sum(
        line.quantity
        for s in stored.values()
        for line in s.statement.lines
        if line.kind == LineKind.ALLOCATION and line.point_id == "el-A-common"
    )
    # what the tenants share is the pool, up to rounding each allocation line to 1 Wh
    pool_a = closed.reconciliations[0].common
    lines_a = sum(1 for s in stored.values() for line in s.statement.lines if line.point_id == "el-A-common")
    assert abs(allocated - pool_a) <= Decimal("0.0005") * lines_a
