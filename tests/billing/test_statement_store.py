"""Statements in the database: exact decimals, the review workflow, adjustments, the audit log."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from billing_export.review import ReviewError
from billing_export.statement import LineKind, Statement, StatementLine, StatementState
from billing_export.store.statements import StatementStore
from metering.store import Store
from metering.store.migrate import alembic_config

S = StatementState

ENERGY = StatementLine(
    kind=LineKind.ENERGY,
    description="Office A1-01, Peak",
    resource="electricity",
    quantity=Decimal("1234.567"),
    unit="kWh",
    unit_price=Decimal("0.31800"),
    net=Decimal("392.59"),  # 1234.567 x 0.318 = 392.592306 -> 392.59
    vat_percent=Decimal(19),
    vat=Decimal("74.59"),  # 392.59 x 19 % = 74.5921 -> 74.59
    point_id="el.A1-01",
    meter_serial="EM-0001",
    zone="peak",
    opening=Decimal("10000.000"),
    closing=Decimal("11234.567"),
    estimated_percent=Decimal("2.5"),
)
FEE = StatementLine(
    kind=LineKind.FEE,
    description="Electricity: standing charge",
    resource="electricity",
    quantity=Decimal("30.0000"),
    unit="d",
    unit_price=Decimal("12.50"),
    net=Decimal("12.50"),
    vat_percent=Decimal(19),
    vat=Decimal("2.38"),  # 2.375 -> 2.38 half-up
    basis="30.0000 of 30 days",
)
STATEMENT = Statement("demo", "c-1", "t-1", "D-1", "2026-11", "EUR", (ENERGY, FEE))


async def test_a_statement_comes_back_exactly_as_stored(store: Store) -> None:
    repo = StatementStore(store)
    stored = await repo.create(STATEMENT, by="close")
    assert stored.id == "demo:2026-11:c-1:v1"
    again = await repo.get(stored.id)
    assert again is not None
    assert again.statement == STATEMENT  # every Decimal with its exponent: 0.31800 stays 0.31800
    assert str(again.statement.lines[0].unit_price) == "0.31800"
    assert (again.statement.net, again.statement.vat, again.statement.gross) == (
        Decimal("405.09"),
        Decimal("76.97"),
        Decimal("482.06"),
    )
    assert (again.state, again.version, again.adjustments) == (S.DRAFT, 1, (None, None))
    assert await repo.latest("demo", "c-1", "2026-11") == again
    assert [s.id for s in await repo.find("demo", period="2026-11", state=S.DRAFT)] == [stored.id]
    assert await repo.find("demo", period="2026-10") == []


async def test_the_workflow_goes_one_step_at_a_time(store: Store) -> None:
    repo = StatementStore(store)
    stored = await repo.create(STATEMENT, by="close")
    with pytest.raises(ReviewError, match="is draft; it must be reviewed before you approve it"):
        await repo.transition(stored, S.APPROVED, by="anna")
    reviewed = await repo.transition(stored, S.REVIEWED, by="anna")
    with pytest.raises(ReviewError, match="already reviewed"):
        await repo.transition(reviewed, S.REVIEWED, by="anna")
    approved = await repo.transition(reviewed, S.APPROVED, by="bernd")
    exported = await repo.transition(approved, S.EXPORTED, by="exporter")
    with pytest.raises(ReviewError, match="already exported, past approved"):
        await repo.transition(exported, S.APPROVED, by="bernd")
    with pytest.raises(ReviewError, match="cannot be moved to superseded by hand"):
        await repo.transition(exported, S.SUPERSEDED, by="bernd")
    # acting on what one saw before someone else moved it on
    with pytest.raises(ReviewError, match="changed meanwhile"):
        await repo.transition(reviewed, S.APPROVED, by="carla")
    log = await repo.audit(statement_id=stored.id)
    assert [(e.actor, e.action, e.detail.get("from")) for e in log] == [
        ("close", "created", None),
        ("anna", "reviewed", "draft"),
        ("bernd", "approved", "reviewed"),
        ("exporter", "exported", "approved"),
    ]


async def test_adjusting_a_draft_changes_it_in_place_and_a_reviewed_one_goes_back_to_draft(store: Store) -> None:
    repo = StatementStore(store)
    reviewed = await repo.transition(await repo.create(STATEMENT, by="close"), S.REVIEWED, by="anna")
    with pytest.raises(ReviewError, match="needs a reason"):
        await repo.adjust(reviewed, 1, by="anna", reason=" ", amount=Decimal("300.00"))
    with pytest.raises(ReviewError, match="more than 2 decimals"):
        await repo.adjust(reviewed, 1, by="anna", reason="goodwill", amount=Decimal("300.001"))
    with pytest.raises(ReviewError, match="has lines 1 to 2, not 3"):
        await repo.adjust(reviewed, 3, by="anna", reason="goodwill", amount=Decimal("1"))
    adjusted = await repo.adjust(reviewed, 2, by="anna", reason="moved in on the 16th", quantity=Decimal(15))
    line = adjusted.statement.lines[1]
    # 15 d x 12.50 = 187.50, VAT 19 % = 35.625 -> 35.63
    assert (line.quantity, line.net, line.vat) == (Decimal(15), Decimal("187.50"), Decimal("35.63"))
    assert adjusted.state == S.DRAFT
    assert adjusted.statement.net == Decimal("392.59") + Decimal("187.50")
    mark = adjusted.adjustments[1]
    assert mark is not None and (mark.by, mark.reason) == ("anna", "moved in on the 16th")
    [entry] = [e for e in await repo.audit(statement_id=adjusted.id) if e.action == "adjusted"]
    assert entry.detail["before"] == {"quantity": "30.0000", "net": "12.50", "vat": "2.38"}
    assert entry.detail["state"] == {"from": "reviewed", "to": "draft"}


async def test_adjusting_an_approved_statement_makes_a_new_version(store: Store) -> None:
    repo = StatementStore(store)
    first = await repo.create(STATEMENT, by="close")
    approved = await repo.transition(await repo.transition(first, S.REVIEWED, by="a"), S.APPROVED, by="b")
    second = await repo.adjust(approved, 1, by="b", reason="meter read wrongly", amount=Decimal("350.00"))
    assert (second.id, second.version, second.state, second.supersedes) == (
        "demo:2026-11:c-1:v2",
        2,
        S.DRAFT,
        first.id,
    )
    assert second.statement.lines[0].net == Decimal("350.00")
    assert second.statement.lines[0].vat == Decimal("66.50")
    assert second.adjustments[0] is not None
    old = await repo.get(first.id)
    assert old is not None
    assert old.state == S.SUPERSEDED
    assert old.statement == STATEMENT  # the issued statement itself is untouched
    with pytest.raises(ReviewError, match="superseded; adjust its newest version"):
        await repo.adjust(old, 1, by="b", reason="x", amount=Decimal(1))
    assert [s.version for s in await repo.versions("demo", "c-1", "2026-11")] == [1, 2]


async def test_the_audit_log_refuses_updates_and_deletes(store: Store) -> None:
    repo = StatementStore(store)
    await repo.create(replace(STATEMENT, contract="c-2"), by="close")
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with store.engine.begin() as conn:
                await conn.execute(text(sql))
    assert [e.actor for e in await repo.audit()] == ["close"]


async def test_storing_the_same_version_twice_is_refused(store: Store) -> None:
    repo = StatementStore(store)
    await repo.create(STATEMENT, by="close")
    with pytest.raises(ReviewError, match="demo:2026-11:c-1:v1 was stored meanwhile"):
        await repo.create(STATEMENT, by="close")
    assert [e.action for e in await repo.audit()] == ["created"]


def _down_and_up(conn: Connection) -> tuple[set[str], set[str]]:
    config = alembic_config(conn)
    command.downgrade(config, "0003")
    without = set(inspect(conn).get_table_names())
    command.upgrade(config, "head")
    return without, set(inspect(conn).get_table_names())


async def test_migration_0004_goes_down_and_up_again(store: Store) -> None:
    async with store.engine.begin() as conn:
        without, again = await conn.run_sync(_down_and_up)
    billing = {"statements", "statement_lines", "audit_log"}
    assert not billing & without
    assert billing <= again
    repo = StatementStore(store)
    await repo.create(STATEMENT, by="close")  # the triggers are back with the tables
    with pytest.raises(Exception, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_log"))
