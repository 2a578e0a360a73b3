"""A period's close and export started through the API as background jobs: started (202, running),
awaited, then done with their progress at 100 % and their result; tenants can neither start nor see
them; each is in the audit log by the user's name.

The clock is moved to 2025-07-02 so June is over. In June (data from 1 to 8 June, tests/web/conftest.py)
both contracts are in force: the close computes 2 statements, so its job counts 2 steps. C2 is billed
a1-02.energy: 8 days x 96 quarter hours x 2.0 kWh = 1,536 kWh; and 42 % of common.energy's
768 x 3.0 kWh = 967.68 kWh. The stored intervals are kept as given (their dirty marks dropped), or
the close would first recompute the slot of the single stored reading.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from billing_export.store import StatementStore
from bms_bridge.web.context import CONTEXT
from bms_bridge.web.jobs import JobRegistry
from metering.store import ConsumptionStore
from tests.web.conftest import WebWorld, serve

JULY_2ND = datetime(2025, 7, 2, 8, 0, tzinfo=UTC)


async def _token(world: WebWorld, name: str) -> dict[str, str]:
    await ConsumptionStore(world.store).take_dirty()
    user = await world.users.by_name(name)
    assert user is not None
    return {"Authorization": f"Bearer {await world.users.create_token(user)}"}


def _jobs(client: Any) -> JobRegistry:
    return client.server.app[CONTEXT].jobs


async def test_a_close_job_runs_to_100_percent_and_is_audited(world: WebWorld) -> None:
    world.clock.now = JULY_2ND
    admin, alpha = await _token(world, "admin"), await _token(world, "alpha")
    async with serve(world) as client:
        started = await client.post("/api/v1/jobs", json={"kind": "close", "period": "2025-06"}, headers=admin)
        job = await started.json()
        assert started.status == 202, job
        assert started.headers["Location"] == f"/api/v1/jobs/{job['id']}"
        assert (job["state"], job["kind"], job["period"], job["started_by"]) == ("running", "close", "2025-06", "admin")
        assert job["started_at"] == "2025-07-02T10:00:00+02:00" and job["result"] is None

        # a tenant may neither see the job nor start one
        assert (await client.get(f"/api/v1/jobs/{job['id']}", headers=alpha)).status == 403
        refused = await client.post("/api/v1/jobs", json={"kind": "close", "period": "2025-06"}, headers=alpha)
        assert refused.status == 403

        await _jobs(client).wait(job["id"])
        done = await (await client.get(f"/api/v1/jobs/{job['id']}", headers=admin)).json()
        assert (await client.get(f"/api/v1/jobs/{job['id']}/file", headers=admin)).status == 404  # a close has none
        assert (await client.get("/api/v1/jobs/no-such-job", headers=admin)).status == 404
    assert (done["state"], done["done"], done["total"], done["percent"]) == ("done", 2, 2, 100)
    assert done["label"] == "closing 2025-06" and done["error"] is None
    assert done["result"] == {
        "period": "2025-06",
        "created": 2,
        "kept": 0,
        "statements": ["mini:2025-06:C1:v1", "mini:2025-06:C2:v1"],
    }
    c2 = await StatementStore(world.store).get("mini:2025-06:C2:v1")
    assert c2 is not None
    by_point: dict[str | None, Decimal] = {}
    for line in c2.statement.lines:
        by_point[line.point_id] = by_point.get(line.point_id, Decimal(0)) + line.quantity
    assert by_point == {"a1-02.energy": Decimal("1536.000"), "common.energy": Decimal("967.680")}
    audit = await StatementStore(world.store).audit()
    assert [(e.actor, e.action, dict(e.detail)["period"]) for e in audit if e.action == "close"] == [
        ("admin", "close", "2025-06")
    ]


async def test_an_export_job_gives_its_file_and_a_refused_one_its_reason(world: WebWorld) -> None:
    world.clock.now = JULY_2ND
    admin = await _token(world, "admin")
    async with serve(world) as client:
        early = await (
            await client.post("/api/v1/jobs", json={"kind": "export", "period": "2025-06"}, headers=admin)
        ).json()
        await _jobs(client).wait(early["id"])
        not_closed = await (await client.get(f"/api/v1/jobs/{early['id']}", headers=admin)).json()

        close = await (
            await client.post("/api/v1/jobs", json={"kind": "close", "period": "2025-06"}, headers=admin)
        ).json()
        await _jobs(client).wait(close["id"])
        export = await (
            await client.post(
                "/api/v1/jobs", json={"kind": "export", "period": "2025-06", "format": "csv"}, headers=admin
            )
        ).json()
        await _jobs(client).wait(export["id"])
        done = await (await client.get(f"/api/v1/jobs/{export['id']}", headers=admin)).json()
        download = await client.get(f"/api/v1/jobs/{export['id']}/file", headers=admin)
        csv = await download.text()

        bad = await client.post("/api/v1/jobs", json={"kind": "export", "period": "2025-13"}, headers=admin)
        bad_error = (await bad.json())["error"]
        future = await (
            await client.post("/api/v1/jobs", json={"kind": "close", "period": "2025-07"}, headers=admin)
        ).json()
        await _jobs(client).wait(future["id"])
        future = await (await client.get(f"/api/v1/jobs/{future['id']}", headers=admin)).json()
    assert not_closed["state"] == "failed"
    assert not_closed["error"].startswith("period 2025-06 is not closed; close it first")
    assert (done["state"], done["done"], done["total"], done["label"]) == ("done", 2, 2, "exporting 2025-06 as csv")
    assert done["result"]["file"] == "mini_2025-06.csv" and done["result"]["statements"] == 2
    assert (
        download.status == 200 and download.headers["Content-Disposition"] == 'attachment; filename="mini_2025-06.csv"'
    )
    assert done["result"]["bytes"] == len(csv.encode())
    assert "mini:2025-06:C1" in csv and "mini:2025-06:C2" in csv
    assert bad.status == 400 and bad_error == "period '2025-13' is not a month; write YYYY-MM"
    assert future["state"] == "failed" and "is not over until 2025-08-01 00:00" in future["error"]
    audit = await StatementStore(world.store).audit()
    assert [(e.actor, dict(e.detail)) for e in audit if e.action == "export"] == [
        ("admin", {"period": "2025-06", "format": "csv", "file": "mini_2025-06.csv"})
    ]
