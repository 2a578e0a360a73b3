"""The web app on the minimal site, with stored data a person can check by hand.

Site (tests/point_mapping/sites/minimal): tenant T1 (Alpha GmbH) has a1-01.energy and 58 % of
common.energy from 2025-01-01; tenant T2 (Beta AG) has a1-02.energy and 42 % of common.energy, its
lease moved here to start on 2025-06-01 (local). Stored for 2025-05-26 00:00 to 2025-06-09 00:00 local
(two weeks, CEST): every 15-minute interval of a1-01.energy is 1.0 kWh, of a1-02.energy 2.0 kWh, of
common.energy 3.0 kWh, of main.energy 6.0 kWh; main.power has a reading of 24.0 kW every 15 minutes
up to an hour before "now" (2025-06-08 12:00 local); the energy points' last readings are 5 minutes old.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from billing_export.statement import LineKind, Statement, StatementLine, StatementState
from billing_export.store import StatementStore
from bms_bridge.sites import open_site
from bms_bridge.web.app import create_app
from bms_bridge.web.roles import Role
from bms_bridge.web.users import UserStore
from metering.events import EvidenceSample
from metering.health import DeviceHealth
from metering.readings import Interval, Reading
from metering.store import Event, Store
from point_mapping.loader import LoadedSite
from tests.store.conftest import Backend, backend  # noqa: F401  (two-backend fixture)

ZONE = ZoneInfo("Europe/Berlin")
FIRST = datetime(2025, 5, 26, tzinfo=ZONE).astimezone(UTC)
LAST = datetime(2025, 6, 9, tzinfo=ZONE).astimezone(UTC)
SLOT = timedelta(minutes=15)
VALUES = {"a1-01.energy": 1.0, "a1-02.energy": 2.0, "common.energy": 3.0, "main.energy": 6.0}
NOW = datetime(2025, 6, 8, 10, 0, tzinfo=UTC)  # 12:00 local on a Sunday
# argon2id with small costs: the tests log in many times on a shared two-core machine
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery"
USERS = {
    "admin": (Role.ADMIN, None),
    "ops": (Role.OPERATOR, None),
    "alpha": (Role.TENANT, "T1"),
    "beta": (Role.TENANT, "T2"),
}


class Clock:
    """A clock the tests move; nothing sleeps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class WebWorld:
    site: LoadedSite
    store: Store
    users: UserStore
    clock: Clock
    events: dict[str, int]  # name -> stored event id
    statements: dict[str, str] = field(default_factory=dict)  # name -> stored statement id


def slots() -> list[datetime]:
    count = int((LAST - FIRST) / SLOT)
    return [FIRST + SLOT * i for i in range(count)]


async def fill(store: Store) -> dict[str, int]:
    await store.upsert_intervals(
        Interval(point_id, start, value) for point_id, value in VALUES.items() for start in slots()
    )
    readings = [Reading("main.power", ts, 24.0, source="test") for ts in slots() if ts < NOW - timedelta(hours=1)]
    readings += [Reading(p, NOW - timedelta(minutes=5), 1000.0 + v, source="test") for p, v in VALUES.items()]
    await store.insert_readings(readings, received_at=NOW)
    await store.save_health(DeviceHealth("em-main", True, NOW, NOW, None, 0, 0, NOW))
    await store.save_health(DeviceHealth("em-a1-02", False, NOW - timedelta(days=1), NOW, "timeout", 7, 7, NOW))
    at = datetime(2025, 6, 3, 2, 0, tzinfo=UTC)
    events = {
        "alpha": Event("night_flow", "a1-01.energy", "warning", at, "Alpha's night load", "e-alpha", tenants=("T1",)),
        "beta": Event("night_flow", "a1-02.energy", "warning", at, "Beta's night load", "e-beta"),
        "site": Event(
            "gap",
            "main.energy",
            "info",
            at,
            "Main meter gap",
            "e-site",
            evidence=tuple(EvidenceSample(at + SLOT * i, {"main.power": 20.0 + i}) for i in range(4)),
        ),
    }
    return {name: await store.add_event(event) for name, event in events.items()}


def _statement(contract: str, tenant: str, period: str, kwh: str, net: str) -> Statement:
    line = StatementLine(
        LineKind.ENERGY,
        f"{tenant} offices, off-peak",
        "electricity",
        Decimal(kwh),
        "kWh",
        Decimal("0.18"),
        Decimal(net),
        Decimal(19),
        (Decimal(net) * Decimal("0.19")).quantize(Decimal("0.01")),
        point_id="a1-01.energy" if tenant == "T1" else "a1-02.energy",
        zone="offpeak",
    )
    return Statement("mini", contract, tenant, f"ACC-{tenant[1]}", period, "EUR", (line,))


async def store_statements(store: Store) -> dict[str, str]:
    """C1 (T1) for 2025-05 approved and for 2025-04 still a draft; C2 (T2) for 2025-05 approved."""
    statements = StatementStore(store)
    ids = {}
    for name, (contract, tenant, period, kwh, net, approved) in {
        "alpha": ("C1", "T1", "2025-05", "100.000", "18.00", True),
        "alpha_draft": ("C1", "T1", "2025-04", "90.000", "16.20", False),
        "beta": ("C2", "T2", "2025-05", "200.000", "36.00", True),
    }.items():
        stored = await statements.create(_statement(contract, tenant, period, kwh, net), by="close")
        if approved:
            stored = await statements.transition(stored, StatementState.REVIEWED, by="anna")
            stored = await statements.transition(stored, StatementState.APPROVED, by="bernd")
        ids[name] = stored.id
    return ids


@pytest.fixture
def web_backend(site_dir: Path) -> Backend:
    """SQLite by default; a module overrides this with `two_backends` to run on PostgreSQL too."""
    return Backend("sqlite", f"sqlite:///{site_dir / 'state.db'}")


@pytest.fixture
async def world(site_dir: Path, edit: Callable[[str, str, str], Path], web_backend: Backend) -> AsyncIterator[WebWorld]:
    async with make_world(site_dir, edit, web_backend) as made:
        yield made


@asynccontextmanager
async def make_world(
    site_dir: Path, edit: Callable[[str, str, str], Path], on: Backend | None = None
) -> AsyncIterator[WebWorld]:
    edit("tenants.yaml", "start: 2025-01-01\n    spaces: [A1-02]", "start: 2025-06-01\n    spaces: [A1-02]")
    (site_dir / "exposure.yaml").write_text("exposure:\n  stale_after: 15m  # site-wide, instead of 3 polls\n")
    site = open_site(site_dir)
    clock = Clock(NOW)
    on = on or Backend("sqlite", f"sqlite:///{site_dir / 'state.db'}")
    async with on.open(clock=clock) as store:
        events = await fill(store)
        users = UserStore(store.engine, clock=clock, hasher=CHEAP_HASHER)
        for name, (role, tenant) in USERS.items():
            await users.add(name, PASSWORD, role, tenant)
        yield WebWorld(site, store, users, clock, events, await store_statements(store))


@asynccontextmanager
async def serve(world: WebWorld, **settings: Any) -> AsyncIterator[TestClient[Any, Any]]:
    """A real server on 127.0.0.1 and a client whose cookie jar treats it as a secure origin, as
    browsers do for loopback, so the Secure session cookie travels as it would in Chromium."""
    from bms_bridge.web.context import WebSettings

    app = create_app(world.site, world.store, clock=world.clock, users=world.users, settings=WebSettings(**settings))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    client = TestClient(server, cookie_jar=jar)
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def text_of(response: Any) -> str:
    """A response's text without the random CSRF token, which may by chance contain "T2" or "a1-0"."""
    return re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1"', await response.text())


def login_token(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


async def log_in(client: TestClient[Any, Any], name: str, password: str = PASSWORD) -> Any:
    page = await client.get("/login")
    token = login_token(await page.text())
    return await client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token}, allow_redirects=False
    )


@pytest.fixture
def as_user(world: WebWorld) -> Callable[[str], Any]:
    """`async with as_user("alpha") as client:` a client logged in as that user."""

    @asynccontextmanager
    async def _as(name: str) -> AsyncIterator[TestClient[Any, Any]]:
        async with serve(world) as client:
            response = await log_in(client, name)
            assert response.status == 302, await response.text()
            yield client

    return _as
