"""Initial schema: readings, intervals, device health, events, LPWAN frames, replacements, billing periods.

Timestamps are BigInteger UTC epoch milliseconds. Tables keyed by (id, time) are WITHOUT ROWID on
SQLite: the primary key is the table, so a row costs ~20 bytes instead of ~35 (rowid + index).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readings",
        sa.Column("point_id", sa.String(200), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("quality", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("point_id", "ts", name="pk_readings"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "intervals",
        sa.Column("point_id", sa.String(200), nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("quality", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("point_id", "start", name="pk_intervals"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "device_health",
        sa.Column("device_id", sa.String(200), nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("last_success", sa.BigInteger, nullable=True),
        sa.Column("last_attempt", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_device_health"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("ended_at", sa.BigInteger, nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("energy", sa.Float, nullable=True),
        sa.Column("energy_unit", sa.String(20), nullable=True),
        sa.Column("cost", sa.Float, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("dedup_key", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("dedup_key", name="uq_events_dedup_key"),
    )
    op.create_index("ix_events_started_at", "events", ["started_at"])
    op.create_table(
        "lpwan_frames",
        sa.Column("dev_eui", sa.String(16), nullable=False),
        sa.Column("f_cnt", sa.BigInteger, nullable=False),
        sa.Column("device_time", sa.BigInteger, nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("dev_eui", "f_cnt", name="pk_lpwan_frames"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "meter_replacements",
        sa.Column("meter_id", sa.String(200), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("old_final", sa.Float, nullable=False),
        sa.Column("new_initial", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("meter_id", "ts", name="pk_meter_replacements"),
    )
    op.create_table(
        "billing_periods",
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("closed_at", sa.BigInteger, nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("period", name="pk_billing_periods"),
    )


def downgrade() -> None:
    for table in (
        "billing_periods",
        "meter_replacements",
        "lpwan_frames",
        "events",
        "device_health",
        "intervals",
        "readings",
    ):
        op.drop_table(table)
