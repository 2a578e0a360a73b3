"""Period comparison and tenant breakdown: sums a person can redo from conftest.py's constant values.

"Now" is 2025-06-08 12:00 local, so June runs "to date": 1 June 00:00 to 8 June 12:00 is 720
quarter hours. Data exist only from 26 May: May to date and June 2024 have none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from billing_export.period import Period
from bms_bridge.web.periods import compared_periods
from tests.web.conftest import text_of

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_running_month_is_compared_to_date() -> None:
    now = datetime(2025, 3, 31, 12, 0, tzinfo=BERLIN)
    periods = compared_periods(Period(2025, 3, BERLIN), now)
    assert [(p.label, p.role) for p in periods] == [
        ("2025-03", "this"),
        ("2025-02", "previous"),
        ("2024-03", "year before"),
    ]
    assert periods[0].end == now.astimezone(UTC)
    assert periods[1].end == datetime(2025, 3, 1, tzinfo=BERLIN).astimezone(UTC)  # February has no 31st
    assert periods[2].end == datetime(2024, 3, 31, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    assert all(p.to_date for p in periods)


def test_a_past_month_is_compared_whole() -> None:
    periods = compared_periods(Period(2025, 1, BERLIN), datetime(2025, 6, 8, tzinfo=UTC))
    assert [(p.start, p.end) for p in periods][1] == (
        datetime(2024, 12, 1, tzinfo=BERLIN).astimezone(UTC),
        datetime(2025, 1, 1, tzinfo=BERLIN).astimezone(UTC),
    )
    assert not any(p.to_date for p in periods)


def _values(body: dict[str, Any]) -> dict[str, list[float | None]]:
    return {c["resource"]: [p["value"] for p in c["periods"]] for c in body["comparisons"]}


@pytest.mark.parametrize(
    ("user", "query", "expected"),
    [
        ("ops", "point=a1-01.energy", {"electricity": [720.0, None, None]}),
        ("ops", "point=a1-01.energy&month=2025-05", {"electricity": [576.0, None, None]}),  # 26-31 May
        # every meter of the minimal site is a main meter (none is declared a sub-meter): 6 + 1 + 2 a slot
        ("ops", "resource=electricity", {"electricity": [720 * 9.0, None, None]}),
        ("ops", "tenant=T2", {"electricity": [720 * 2.0 + 720 * 3.0 * 0.42, None, None]}),
        ("ops", "tenant=T2&month=2025-05", {"electricity": [None, None, None]}),  # before its lease
        ("alpha", "resource=electricity", {"electricity": [720 * 1.0 + 720 * 3.0 * 0.58, None, None]}),
        ("alpha", "tenant=T1", {"electricity": [720 * 1.0 + 720 * 3.0 * 0.58, None, None]}),
    ],
)
async def test_comparisons(as_user: Callable[[str], Any], user: str, query: str, expected: Any) -> None:
    async with as_user(user) as client:
        response = await client.get(f"/api/v1/compare?{query}")
        body = await response.json()
    assert response.status == 200, body
    assert _values(body) == {k: [pytest.approx(v) if v else v for v in vs] for k, vs in expected.items()}


async def test_comparison_csv(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        text = await (await client.get("/api/v1/compare?point=a1-01.energy&format=csv")).text()
    assert text.splitlines() == [
        "resource,period,compared_as,start,end,to_date,value,unit",
        "electricity,2025-06,this,2025-06-01T00:00:00+02:00,2025-06-08T12:00:00+02:00,yes,720.0,kWh",
        "electricity,2025-05,previous,2025-05-01T00:00:00+02:00,2025-05-08T12:00:00+02:00,yes,,kWh",
        "electricity,2024-06,year before,2024-06-01T00:00:00+02:00,2024-06-08T12:00:00+02:00,yes,,kWh",
    ]


async def test_breakdown_applies_lease_and_share(as_user: Callable[[str], Any]) -> None:
    async with as_user("ops") as client:
        beta = await (await client.get("/api/v1/tenants/T2/breakdown?from=2025-05-26&to=2025-06-07")).json()
        csv = await (await client.get("/api/v1/tenants/T2/breakdown?from=2025-05-26&to=2025-06-07&format=csv")).text()
    values = {line["point"]["id"]: line["value"] for line in beta["lines"]}
    assert values == {"a1-02.energy": 672 * 2.0, "common.energy": pytest.approx(672 * 3.0 * 0.42)}  # 1-7 June
    assert csv.splitlines()[1] == "C2,a1-02.energy,,A1-02,electricity,100.0,1344.0,kWh"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/compare?tenant=T2",
        "/api/v1/compare?point=a1-02.energy",
        "/api/v1/compare?point=main.energy",
        "/api/v1/compare?tenant=T2&format=csv",
        "/api/v1/tenants/T2/breakdown",
        "/api/v1/tenants/T2/breakdown?format=csv",
        "/compare?tenant=T2",
        "/compare?point=a1-02.energy",
    ],
)
async def test_another_tenants_comparison_and_breakdown_are_not_found(as_user: Callable[[str], Any], path: str) -> None:
    async with as_user("alpha") as client:
        response = await client.get(path)
        body = await text_of(response)
    assert response.status == 404
    assert "Beta" not in body and "1344" not in body


async def test_comparison_needs_exactly_one_subject(as_user: Callable[[str], Any]) -> None:
    answers = {}
    async with as_user("ops") as client:
        for query in ["point=a1-01.energy&tenant=T1", "", "point=a1-01.energy&month=2025-13", "point=main.power"]:
            response = await client.get(f"/api/v1/compare?{query}")
            answers[query] = (response.status, (await response.json())["error"])
    assert answers == {
        "point=a1-01.energy&tenant=T1": (400, "give exactly one of point, tenant or resource"),
        "": (400, "give exactly one of point, tenant or resource"),
        "point=a1-01.energy&month=2025-13": (400, "month must be YYYY-MM, not '2025-13'"),
        "point=main.power": (400, "main.power is instantaneous (kW); a comparison needs consumption"),
    }


async def test_tenant_profile_and_heat_map_add_shares_slot_by_slot(as_user: Callable[[str], Any]) -> None:
    """T1 every quarter hour: a1-01 1.0 + 58 % of common 3.0 = 2.74 kWh; T2 (from 1 June): 2.0 + 1.26 = 3.26."""
    async with as_user("ops") as client:
        alpha = await (await client.get("/api/v1/tenants/T1/profile?from=2025-05-26&to=2025-06-08")).json()
        beta = await (await client.get("/api/v1/tenants/T2/heatmap?from=2025-05-26&to=2025-06-08")).json()
        csv = await (await client.get("/api/v1/tenants/T2/heatmap?from=2025-05-26&to=2025-06-08&format=csv")).text()
    assert alpha["unit"] == "kWh per 15 min"
    assert {round(v, 6) for v in alpha["working_day"] + alpha["weekend_holiday"]} == {2.74}
    assert beta["days"][0] == "2025-06-01" and len(beta["days"]) == 8  # nothing before its lease
    assert {round(v, 6) for row in beta["values"] for v in row} == {13.04}  # 4 x 3.26 an hour
    assert csv.splitlines()[1] == "2025-06-01,00:00,13.04,kWh per hour"


async def test_tenant_charts_for_a_resource_it_does_not_have(as_user: Callable[[str], Any]) -> None:
    async with as_user("alpha") as client:
        response = await client.get("/api/v1/tenants/T1/profile?resource=gas")
    assert response.status == 404
