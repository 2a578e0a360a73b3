"""The schedules in the real service, as `bms-bridge run` builds it: on 1 July at 06:00 Berlin the June
close, at 06:30 its export, to a billing system in a process of its own.

The site is the golden case `billing_move_out` (Alpha C1 net 84.10, Beta C2 net 89.90, see
test_close_cli.py). The service's clock is a fake set to 06:45: both fires of the morning were missed
minutes ago and run at start (catch-up), close before export. Only approved statements leave the
house unless the site auto-approves.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from billing_export.outbox import OutboxState
from billing_export.outbox.store import OutboxStore
from billing_export.statement import StatementState
from billing_export.store import StatementStore
from bms_bridge.billing.wiring import AUTO_APPROVER
from bms_bridge.commands.run import service_options
from bms_bridge.service import Service
from bms_bridge.sites import open_site
from metering.store import ConsumptionStore, Store
from tests.billing.golden import build_site, load_into
from tests.billing.outbox_support import SECRET, SECRET_ENV, FakeClock, ReceiverProcess
from tests.support.services import free_tcp_port

pytestmark = pytest.mark.slow

CASE = Path(__file__).parent.parent / "fixtures" / "billing_move_out"
MORNING = datetime(2025, 7, 1, 4, 45, tzinfo=UTC)  # 06:45 CEST on 1 July 2025
C1, C2 = "golden:2025-06:C1", "golden:2025-06:C2"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def make_site(tmp_path: Path, receiver_url: str, *, auto_approve: bool) -> tuple[Path, str]:
    site_dir = build_site(CASE, tmp_path)
    site_yaml = site_dir / "site.yaml"  # the meters are dead, on a port nobody answers
    site_yaml.write_text(site_yaml.read_text().replace("port: 15022", f"port: {free_tcp_port()}"))
    (site_dir / "billing.yaml").write_text(
        f"""billing_export:
  url: {receiver_url}
  secret_env: {SECRET_ENV}
  timeout: 5s
  auto_approve: {str(auto_approve).lower()}
  schedules:
    - {{cron: "0 6 1 * *", action: close}}
    - {{cron: "30 6 1 * *", action: export}}
"""
    )
    url = f"sqlite:///{tmp_path / 'state.db'}"

    async def load() -> None:
        async with Store.open(url) as store:
            await load_into(store, json.loads((CASE / "input.json").read_text()), open_site(site_dir).model.site.zone)
            await ConsumptionStore(store).take_dirty()

    asyncio.run(load())
    return site_dir, url


async def run_service_until(
    site_dir: Path, url: str, now: datetime, delivered: int, logged: Callable[[], str] | None = None
) -> None:
    """The service as `run` builds it, on a fake clock, until `delivered` versions are delivered (and
    the export has said `held` statements wait, when given)."""
    site = open_site(site_dir)
    options = service_options(site, url, clock=FakeClock(now))
    assert options.billing is not None
    async with Service(site, url, options).running() as service:
        assert service.store is not None
        outbox = OutboxStore(service.store)
        for _ in range(500):
            entries = await outbox.entries(OutboxState.DELIVERED)
            states = await states_of(service.store)
            done = len(entries) >= delivered and list(states.values()).count("exported") >= delivered
            if done and (logged is None or "statements wait for approval" in logged()):
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {delivered} statements delivered and marked exported")


async def states_of(store: Store) -> dict[str, str]:
    return {s.id: s.state.value for s in await StatementStore(store).find("golden", period="2025-06")}


async def wait_for_statements(url: str) -> dict[str, str]:
    async with Store.open(url) as store:
        return await states_of(store)


def test_the_schedules_close_june_and_deliver_only_the_approved_statement(
    tmp_path: Path, receiver: ReceiverProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    caplog.set_level(logging.INFO, logger="bms_bridge.billing")
    site_dir, url = make_site(tmp_path, receiver.url, auto_approve=False)

    # first start at 06:45: June is closed, both statements are drafts, nothing is delivered
    asyncio.run(run_service_until(site_dir, url, MORNING, 0, lambda: caplog.text))
    assert "2025-06: 2 statements wait for approval" in caplog.text
    assert asyncio.run(wait_for_statements(url)) == {f"{C1}:v1": "draft", f"{C2}:v1": "draft"}
    assert receiver.booked_keys() == []

    # the accountant approves Alpha's statement; the service started again at 06:50 exports again
    async def approve() -> None:
        async with Store.open(url) as store:
            statements = StatementStore(store)
            stored = await statements.get(f"{C1}:v1")
            assert stored is not None
            stored = await statements.transition(stored, StatementState.REVIEWED, by="anna")
            await statements.transition(stored, StatementState.APPROVED, by="bernd")

    asyncio.run(approve())
    asyncio.run(run_service_until(site_dir, url, MORNING.replace(minute=50), 1))
    assert receiver.booked_keys() == [f"{C1}:1"]
    assert asyncio.run(wait_for_statements(url)) == {f"{C1}:v1": "exported", f"{C2}:v1": "draft"}
    booked = [json.loads(r["body"]) for r in asyncio.run(receiver.accepted())]
    assert [(b["statement_id"], b["version"], b["totals"]["net"]) for b in booked] == [(C1, 1, "84.10")]


def test_an_auto_approving_site_delivers_every_statement(
    tmp_path: Path, receiver: ReceiverProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    site_dir, url = make_site(tmp_path, receiver.url, auto_approve=True)
    asyncio.run(run_service_until(site_dir, url, MORNING, 2))
    assert sorted(receiver.booked_keys()) == [f"{C1}:1", f"{C2}:1"]
    assert asyncio.run(wait_for_statements(url)) == {f"{C1}:v1": "exported", f"{C2}:v1": "exported"}

    async def audit() -> list[tuple[str, str, str | None]]:
        async with Store.open(url) as store:
            return [(e.actor, e.action, e.statement_id) for e in await StatementStore(store).audit()]

    trail = asyncio.run(audit())
    for sid in (f"{C1}:v1", f"{C2}:v1"):
        assert [(actor, action) for actor, action, s in trail if s == sid] == [
            ("schedule (billing_export.schedules)", "created"),
            (AUTO_APPROVER, "reviewed"),
            (AUTO_APPROVER, "approved"),
            ("schedule (billing_export.schedules)", "exported"),
        ]
