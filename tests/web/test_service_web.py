"""`bms-bridge run` serves the web app when the site has a `web:` section; the demo prints its logins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp

from bms_bridge.commands.demo import DEMO_SITE, banner
from bms_bridge.service import Service
from bms_bridge.sites import open_site
from bms_bridge.web.demo_users import DEMO_LOGINS, ensure_demo_users
from bms_bridge.web.roles import Role
from bms_bridge.web.users import UserStore
from metering.store import Store
from tests.support.services import free_tcp_port


async def test_the_running_service_serves_the_web_app(site_dir: Path, edit: Callable[[str, str, str], Path]) -> None:
    edit("devices.yaml", "port: 15020", f"port: {free_tcp_port()}")  # dead meters: only the web app matters
    edit("devices.yaml", "port: 15022", f"port: {free_tcp_port()}")
    port = free_tcp_port()
    with (site_dir / "site.yaml").open("a") as file:
        file.write(f"\nweb:\n  host: 127.0.0.1\n  port: {port}\n")
    service = Service(open_site(site_dir), f"sqlite:///{site_dir / 'state.db'}")
    async with service.running(), aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/login") as response:
            assert response.status == 200
            assert "Log in" in await response.text()
        async with http.get(f"http://127.0.0.1:{port}/api/v1/points") as response:
            assert response.status == 401
        assert service.store is not None
        users = UserStore(service.store.engine)
        admin = await users.add("root", "a long enough password", Role.ADMIN, None)
        token = await users.create_token(admin)
        async with http.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}) as got:
            text = await got.text()
        # the service's own counters reach the metrics (the meters here are dead: nothing received)
        counters = ("readings_received", "readings_written", "writer_queue", "writer_failed_attempts")
        # and the outage buffer's health: store ok (0), nothing buffered in memory or the journal
        health = ("writer_store_state", "writer_buffered_readings", "writer_journal_readings", "writer_journal_bytes")
        for counter in counters + health:
            assert f'bms_bridge_service{{counter="{counter}"}} 0.0' in text
    async with aiohttp.ClientSession() as http:
        try:
            await http.get(f"http://127.0.0.1:{port}/login")
            raise AssertionError("the web app still answers after the service stopped")
        except aiohttp.ClientConnectionError:
            pass


async def test_demo_users_one_per_role_created_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert await ensure_demo_users(db) == len(DEMO_LOGINS)
    assert await ensure_demo_users(db) == 0  # a later start leaves users alone
    async with Store.open(db) as store:
        users = UserStore(store.engine)
        assert {u.role for u in await users.list()} == set(Role)
        login = next(entry for entry in DEMO_LOGINS if entry.role is Role.TENANT)
        found = await users.authenticate(login.name, login.password)
        assert found is not None and found.tenant_id == login.tenant


def test_demo_banner_prints_the_url_and_a_login_per_role() -> None:
    site = open_site(DEMO_SITE)
    text = banner(site, "sqlite:///demo.db")
    assert "  Web app     http://127.0.0.1:8080" in text
    for login in DEMO_LOGINS:
        assert f"{login.name} / {login.password}  ({login.role.value}" in text
    assert {login.role for login in DEMO_LOGINS} == set(Role)
    assert all(login.tenant in site.model.tenant_by_id for login in DEMO_LOGINS if login.tenant)
