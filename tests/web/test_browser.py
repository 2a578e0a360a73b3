"""The web app in headless Chromium (Debian's `chromium`, driven by Playwright): log in as an
operator and as a tenant, see every chart drawn by plotly.js, download a CSV, and find the other
tenant's pages, API data and downloads closed. Screenshots go to tests/artifacts/web/."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import services_required
from tests.web.conftest import PASSWORD, WebWorld, serve

CHROMIUM = Path(os.environ.get("BMS_BRIDGE_CHROMIUM", "/usr/bin/chromium"))
HAVE_CHROMIUM = CHROMIUM.exists()
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
RANGE = "from=2025-05-26&to=2025-06-08"

pytestmark = pytest.mark.slow


def _unavailable(message: str) -> None:
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("Playwright is not installed; install the dev extras: .venv/bin/pip install -e '.[dev]'")
    if not HAVE_CHROMIUM:
        _unavailable(f"no Chromium at {CHROMIUM}; install it with: apt-get install -y chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def base_url(world: WebWorld) -> AsyncIterator[str]:
    async with serve(world) as client:
        yield str(client.make_url("")).rstrip("/")


async def _page(browser: Any, base_url: str, user: str) -> Any:
    context = await browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # checked by the tests: a chart page must not log a script error
    await page.goto(f"{base_url}/points")
    assert page.url.startswith(f"{base_url}/login?next=")
    await page.fill("input[name=name]", user)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    assert page.url == f"{base_url}/points", await page.content()
    return page


async def _chart(page: Any, url: str, shot: str) -> None:
    await page.goto(url)
    await page.wait_for_selector("#chart[data-rendered=true] .main-svg", timeout=20_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


async def test_operator_sees_every_chart_and_downloads_its_csv(
    browser: Any, base_url: str, tmp_path: Path, world: WebWorld
) -> None:
    page = await _page(browser, base_url, "ops")
    await page.goto(f"{base_url}/")
    assert "operator" in await page.inner_text("header")
    await page.screenshot(path=str(SCREENSHOTS / "operator-overview.png"), full_page=True)

    await _chart(page, f"{base_url}/points/main.power/load?{RANGE}", "operator-load-main-power")
    status = await page.inner_text("#chart-status")
    assert status.startswith("1292 values stored")
    # zooming in on one day fetches that day's readings: 96 quarter hours, no downsampling
    day = "{'xaxis.range[0]': '2025-06-02 00:00:00', 'xaxis.range[1]': '2025-06-03 00:00:00'}"
    await page.evaluate(f"() => Plotly.relayout('chart', {day})")
    await page.wait_for_selector("#chart[data-shown='2025-06-02T00:00:00/2025-06-03T00:00:00']")
    assert await page.inner_text("#chart-status") == "96 values stored"
    # the y axis names the unit and the line spans the stored range
    assert "kW" in (await page.text_content("#chart") or "")
    await _chart(page, f"{base_url}/points/common.energy/profile?{RANGE}", "operator-profile-common")
    assert "working day (9 days)" in (await page.text_content("#chart") or "")
    await _chart(page, f"{base_url}/points/main.energy/heatmap?{RANGE}", "operator-heatmap-main")

    async with page.expect_download() as pending:
        await page.click("a.download")
    download = await pending.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert download.suggested_filename == "main.energy-heatmap.csv"
    lines = saved.read_text().splitlines()
    assert lines[0] == "date,hour,value,unit"
    assert lines[1] == "2025-05-26,00:00,24.0,kWh per hour"
    assert len(lines) == 1 + 14 * 24

    await _chart(page, f"{base_url}/compare?point=a1-01.energy", "operator-compare-point")
    assert "720.0 kWh" in (await page.text_content("#chart") or "")
    await _chart(page, f"{base_url}/tenants/T2?from=2025-06-01&to=2025-06-07", "operator-tenant-breakdown")
    assert "1344.0 kWh" in (await page.text_content("#chart") or "")

    # an event's evidence drawn, then acknowledged with the page's form
    await _chart(page, f"{base_url}/events/{world.events['site']}", "operator-event-evidence")
    assert "main.power" in (await page.text_content("#chart") or "")
    await page.fill("form.ack input[name=comment]", "meter swapped, gap expected")
    await page.click("form.ack button")
    await page.wait_for_load_state()
    assert "ops, 2025-06-08 12:00: meter swapped, gap expected" in await page.inner_text("main")

    await page.goto(f"{base_url}/devices")
    assert "site/devices.yaml:8:5" in await page.inner_text("main")
    await page.screenshot(path=str(SCREENSHOTS / "operator-devices.png"), full_page=True)
    assert page.errors == []


async def test_tenant_sees_its_own_charts_and_nothing_of_the_other_tenant(browser: Any, base_url: str) -> None:
    page = await _page(browser, base_url, "alpha")
    rows = await page.locator("table.data tr td small").all_inner_texts()
    assert rows == ["a1-01.energy", "common.energy"]
    await page.goto(f"{base_url}/")
    await page.screenshot(path=str(SCREENSHOTS / "tenant-overview.png"), full_page=True)
    await _chart(page, f"{base_url}/points/a1-01.energy/load?{RANGE}", "tenant-load-own-point")
    await _chart(page, f"{base_url}/points/common.energy/heatmap?{RANGE}", "tenant-heatmap-shared-point")
    await _chart(page, f"{base_url}/tenants/T1/profile?{RANGE}", "tenant-own-profile")
    await _chart(page, f"{base_url}/tenants/T1?from=2025-06-01&to=2025-06-07", "tenant-own-breakdown")
    assert "672.0 kWh" in (await page.text_content("#chart") or "")

    # the other tenant's page, API data and download, and the building's devices
    for path, status in [
        (f"/points/a1-02.energy/load?{RANGE}", 404),
        ("/tenants/T2", 404),
        ("/compare?tenant=T2", 404),
        ("/tenants/T2/heatmap", 404),
        ("/devices", 403),
    ]:
        response = await page.goto(f"{base_url}{path}")
        assert response.status == status
        assert "Beta" not in await page.content()
    await page.screenshot(path=str(SCREENSHOTS / "tenant-other-tenant-404.png"))
    for path in [
        f"/api/v1/points/a1-02.energy/series?{RANGE}",
        f"/api/v1/points/a1-02.energy/heatmap?format=csv&{RANGE}",
        "/api/v1/tenants/T2",
    ]:
        answer = await page.evaluate(
            "async (url) => { const r = await fetch(url); return [r.status, await r.text()]; }", path
        )
        assert answer[0] == 404 and "2.0" not in answer[1]
    # and a chart page for someone else's point draws nothing
    assert await page.locator(".main-svg").count() == 0
    assert [e for e in page.errors if "404" not in e and "403" not in e] == []


# what each role's navigation offers, and what it must be refused
ROLE_PAGES = {
    "admin": (["/", "/points", "/events", "/tenants", "/devices", "/billing", "/import"], []),
    "engineer": (["/", "/points", "/events", "/tenants", "/devices"], ["/billing", "/import"]),
    "accountant": (["/", "/points", "/events", "/tenants", "/billing"], ["/devices", "/import"]),
    "integrator": (["/", "/points", "/events", "/tenants", "/devices", "/import"], ["/billing"]),
}


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
async def test_every_role_opens_its_pages_and_sees_a_chart(
    browser: Any, base_url: str, world: WebWorld, role: str
) -> None:
    from bms_bridge.web.roles import Role

    await world.users.add(f"the-{role}", PASSWORD, Role(role))
    page = await _page(browser, base_url, f"the-{role}")
    allowed, refused = ROLE_PAGES[role]
    nav = await page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert nav == allowed
    for path in allowed:
        response = await page.goto(f"{base_url}{path}")
        assert response.status == 200, path
    for path in refused:
        response = await page.goto(f"{base_url}{path}")
        assert response.status == 403, path
    await _chart(page, f"{base_url}/points/common.energy/profile?{RANGE}", f"{role}-profile")
    assert page.errors == [e for e in page.errors if "403" in e]


async def test_an_accountant_approves_a_statement_in_the_browser(browser: Any, base_url: str, world: WebWorld) -> None:
    from urllib.parse import quote

    from bms_bridge.web.roles import Role

    await world.users.add("carla", PASSWORD, Role.ACCOUNTANT)
    draft = world.statements["alpha_draft"]
    page = await _page(browser, base_url, "carla")
    await page.goto(f"{base_url}/billing?state=draft")
    await page.click(f"a[href='/billing/{quote(draft)}']")
    await page.wait_for_load_state()
    assert "90.000 kWh" in await page.content()
    await page.click("form[action$='/review'] button")
    await page.wait_for_load_state()
    await page.click("form[action$='/approve'] button")
    await page.wait_for_load_state()
    content = await page.content()
    assert "state <strong>approved</strong>" in content
    assert "carla" in content  # the audit log names who reviewed and approved
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "billing-statement.png"), full_page=True)
    assert page.errors == []


async def test_an_accountant_closes_a_month_from_the_billing_page_and_exports_it(
    browser: Any, base_url: str, world: WebWorld, tmp_path: Path
) -> None:
    """July 2nd: June is over and both contracts were in force, so the close makes 2 drafts (2 steps)."""
    from datetime import UTC, datetime

    from bms_bridge.web.roles import Role

    world.clock.now = datetime(2025, 7, 2, 8, 0, tzinfo=UTC)
    await world.users.add("carla", PASSWORD, Role.ACCOUNTANT)
    page = await _page(browser, base_url, "carla")
    await page.goto(f"{base_url}/billing")
    assert await page.input_value("#job-period") == "2025-06"  # last month by the app's clock
    await page.select_option("#job-action", "close")
    await page.click("#job-start")
    await page.wait_for_selector("#job[data-state=done]", timeout=20_000)
    assert await page.get_attribute("#job-progress", "value") == "100"
    assert await page.inner_text("#job-percent") == "100 %"
    assert await page.inner_text("#job-label") == "closing 2025-06 (2 of 2)"
    assert (await page.inner_text("#job-result")).startswith("2025-06 closed: 2 statement(s) created as draft, 0 kept.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "billing-close-job.png"), full_page=True)

    await page.click("#job-result a")  # the month's new drafts
    await page.wait_for_load_state()
    assert await page.locator("a[href^='/billing/mini%3A2025-06']").count() == 2

    await page.select_option("#job-action", "export:csv")
    await page.click("#job-start")
    await page.wait_for_selector("#job[data-state=done]", timeout=20_000)
    assert await page.inner_text("#job-label") == "exporting 2025-06 as csv (2 of 2)"
    async with page.expect_download() as pending:
        await page.click("#job-download")
    download = await pending.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert download.suggested_filename == "mini_2025-06.csv"
    text = saved.read_text()
    assert "mini:2025-06:C1" in text and "mini:2025-06:C2" in text
    assert page.errors == []


async def test_an_operator_imports_readings_from_the_import_page(browser: Any, base_url: str, world: WebWorld) -> None:
    """The 3 rows of tests/web/test_import_job.py: the bar at 100 %, 3 stored; then a refused file's lines."""
    from datetime import UTC, datetime, timedelta

    from tests.web.test_import_job import GOOD, REFUSED

    page = await _page(browser, base_url, "ops")
    await page.click("header nav a[href='/import']")
    await page.wait_for_load_state()
    await page.set_input_files(
        "#import-file", files=[{"name": "readings.csv", "mimeType": "text/csv", "buffer": GOOD.encode()}]
    )
    await page.click("#import-start")
    await page.wait_for_selector("#job[data-state=done]", timeout=20_000)
    assert await page.get_attribute("#job-progress", "value") == "100"
    assert await page.inner_text("#job-percent") == "100 %"
    assert await page.inner_text("#job-label") == "storing (2 of 2)"
    assert (await page.inner_text("#job-result")).startswith(
        "readings.csv: 3 row(s) checked, 3 reading(s) stored, 0 already present."
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "import-job.png"), full_page=True)
    eleven = datetime(2025, 6, 8, 9, 0, tzinfo=UTC)
    stored = await world.store.readings("main.power", eleven, eleven + timedelta(hours=1))
    assert [(r.ts - eleven, r.value) for r in stored] == [
        (timedelta(minutes=15), 25.5),
        (timedelta(minutes=30), 26.0),
        (timedelta(minutes=45), 26.5),
    ]

    await page.set_input_files(
        "#import-file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": REFUSED.encode()}]
    )
    await page.click("#import-start")
    await page.wait_for_selector("#import-refused", state="visible", timeout=20_000)
    assert await page.inner_text("#job-result") == "bad.csv: 3 problem(s) in 4 row(s); nothing stored."
    lines = await page.locator("#import-refused tbody tr td:first-child").all_inner_texts()
    assert lines == ["3", "4", "5"]
    await page.screenshot(path=str(SCREENSHOTS / "import-refused.png"), full_page=True)
    assert page.errors == []
