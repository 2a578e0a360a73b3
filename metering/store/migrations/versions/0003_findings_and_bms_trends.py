"""Findings (equipment, zone, tenants, evidence, exact cost, acknowledgement), typed BMS trends, BMS schedules.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_EVENT_COLUMNS = (
    ("equipment", sa.String(200)),
    ("zone", sa.String(200)),
    ("tenants", sa.Text()),
    ("evidence", sa.Text()),
    ("cost_exact", sa.String(40)),
    ("acked_by", sa.String(200)),
    ("acked_at", sa.BigInteger()),
    ("ack_comment", sa.Text()),
)


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a table much, alembic recreates it there and ALTERs elsewhere
    with op.batch_alter_table("events") as batch:
        for name, kind in _EVENT_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_table(
        "bms_trends",
        sa.Column("point_id", sa.String(200), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("quality", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("point_id", "ts", name="pk_bms_trends"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "bms_schedules",
        sa.Column("point_id", sa.String(200), nullable=False),
        sa.Column("read_at", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("point_id", name="pk_bms_schedules"),
    )


def downgrade() -> None:
    op.drop_table("bms_schedules")
    op.drop_table("bms_trends")
    with op.batch_alter_table("events") as batch:
        for name, _kind in reversed(_EVENT_COLUMNS):
            batch.drop_column(name)
