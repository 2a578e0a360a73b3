"""The billing part of the service end to end: YAML → scheduled close and export → outbox → a real
receiver process. Only approved statements reach the billing system unless the site auto-approves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from billing_export.outbox import OutboxInput, OutboxState
from billing_export.outbox.selection import ExportCandidate
from billing_export.outbox.store import OutboxStore
from billing_export.period import Period
from billing_export.statement import StatementState
from bms_bridge.billing.delivery import DeliveryConfigError
from bms_bridge.billing.wiring import AUTO_APPROVER, BillingHooks, billing_running
from bms_bridge.service import Service
from bms_bridge.sites import open_site
from metering.store import Store
from tests.billing.outbox_support import SECRET, SECRET_ENV, FakeClock, ReceiverProcess
from tests.support.services import free_tcp_port

pytestmark = pytest.mark.slow

# 06:45 in Berlin on 1 November: the 06:00 close and 06:30 export were missed minutes ago
NOW = datetime(2026, 11, 1, 5, 45, tzinfo=UTC)


def billing_yaml(url: str, *, auto_approve: bool) -> str:
    return f"""
billing_export:
  url: {url}
  secret_env: {SECRET_ENV}
  timeout: 5s
  auto_approve: {str(auto_approve).lower()}
  schedules:
    - {{cron: "0 6 1 * *", action: close}}
    - {{cron: "30 6 1 * *", action: export}}
"""


class Statements:
    """A stand-in for the statement store (being built elsewhere): three statements of October."""

    def __init__(self) -> None:
        self.closed: list[str] = []
        self.approved: list[tuple[str, str]] = []
        self.exported_versions: list[tuple[str, str]] = []
        self.items = [
            ExportCandidate("ACME-2026-10", 1, StatementState.APPROVED, b'{"statement":"ACME-2026-10"}'),
            ExportCandidate("CAFE-2026-10", 1, StatementState.DRAFT, b'{"statement":"CAFE-2026-10"}'),
            ExportCandidate("DATACORP-2026-10", 1, StatementState.SUPERSEDED, b'{"statement":"DATACORP-2026-10"}'),
        ]

    async def close(self, period: Period) -> None:
        self.closed.append(str(period))

    async def export_candidates(self, period: Period) -> list[ExportCandidate]:
        assert self.closed == [str(period)], "the close runs before the export"
        return self.items

    async def approve(self, candidate: ExportCandidate, by: str) -> None:
        self.approved.append((candidate.statement_id, by))

    async def exported(self, statement_id: str, version: int, receipt: dict[str, Any]) -> None:
        self.exported_versions.append((f"{statement_id}:{version}", receipt["receipt_id"]))


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def delivered_keys(outbox: OutboxStore, statements: Statements, count: int) -> list[str]:
    """Wait until `count` versions are delivered and the statement side has been told of each."""
    for _ in range(250):
        keys = [e.key for e in await outbox.entries(OutboxState.DELIVERED)]
        if len(keys) >= count and len(statements.exported_versions) >= count:
            return keys
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} delivered")


@pytest.mark.parametrize(
    ("auto_approve", "expected", "approved"),
    [
        (False, ["ACME-2026-10:1"], []),
        (True, ["ACME-2026-10:1", "CAFE-2026-10:1"], [("CAFE-2026-10", AUTO_APPROVER)]),
    ],
)
async def test_scheduled_close_and_export_deliver_what_is_approved(
    site_dir: Path,
    receiver: ReceiverProcess,
    monkeypatch: pytest.MonkeyPatch,
    auto_approve: bool,
    expected: list[str],
    approved: list[tuple[str, str]],
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    (site_dir / "billing.yaml").write_text(billing_yaml(receiver.url, auto_approve=auto_approve))
    site = open_site(site_dir)
    statements = Statements()
    hooks = BillingHooks(closer=statements, statements=statements)
    async with Store.open(f"sqlite:///{site_dir / 'state.db'}") as store:
        async with billing_running(site, store, FakeClock(NOW), hooks) as delivery:
            assert delivery is not None
            keys = await delivered_keys(OutboxStore(store), statements, len(expected))
        entries = await OutboxStore(store).entries()
    assert statements.closed == ["2026-10"]
    assert statements.approved == approved
    assert keys == expected == receiver.booked_keys()
    assert [e.key for e in entries] == expected  # held drafts and superseded versions never enter the outbox
    receipts = [(e.key, e.receipt["receipt_id"]) for e in entries if e.receipt]
    assert statements.exported_versions == receipts  # each statement told once, with its receipt
    assert [r for _, r in receipts] == ["R-0001", "R-0002"][: len(expected)]


async def test_the_service_does_not_start_billing_without_its_secret(
    site_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    (site_dir / "billing.yaml").write_text(billing_yaml("http://127.0.0.1:9/statements", auto_approve=False))
    site = open_site(site_dir)
    async with Store.open(f"sqlite:///{site_dir / 'state.db'}") as store:
        with pytest.raises(DeliveryConfigError, match=f"environment variable {SECRET_ENV} is not set"):
            async with billing_running(site, store, FakeClock(NOW)):
                pass


async def test_a_site_without_billing_export_runs_no_billing(site_dir: Path) -> None:
    async with (
        Store.open(f"sqlite:///{site_dir / 'state.db'}") as store,
        billing_running(open_site(site_dir), store, FakeClock(NOW)) as delivery,
    ):
        assert delivery is None


async def test_the_running_service_delivers_its_outbox(
    site_dir: Path, edit: Callable[[str, str, str], Path], receiver: ReceiverProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the whole service on the minimal site (its meters dead on free ports), with billing_export set
    edit("devices.yaml", "port: 15020", f"port: {free_tcp_port()}")
    edit("devices.yaml", "port: 15022", f"port: {free_tcp_port()}")
    monkeypatch.setenv(SECRET_ENV, SECRET)
    (site_dir / "billing.yaml").write_text(billing_yaml(receiver.url, auto_approve=False).split("  schedules:")[0])
    url = f"sqlite:///{site_dir / 'state.db'}"
    async with Store.open(url) as store:  # queued before the service starts, e.g. by a previous run
        await OutboxStore(store).enqueue([OutboxInput("ACME-2026-10", 1, b"{}")], datetime.now(UTC))
    async with Service(open_site(site_dir), url).running():
        await receiver.wait_accepted(1)
    assert receiver.booked_keys() == ["ACME-2026-10:1"]
