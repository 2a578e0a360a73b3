"""Meter data you can bill from: interval corrections after freeze, dirty ranges, exchange source.

- `interval_corrections`: a recomputed interval that differs from a frozen one (the billing period
  is closed) is recorded here instead of altering the frozen number.
- `interval_dirty`: per point, the span of readings changed since its intervals were last computed,
  written in the same transaction as the readings.
- `billing_periods.start`/`end`: the UTC bounds of a frozen period.
- `meter_replacements.source`: where the exchange was recorded (yaml, cli).
- `lpwan_frames.session`/`delivery_id`: the device's session (device address) and the network server's
  uplink id, so a replay is refused however late and a rejoin is told apart by its new session.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interval_corrections",
        sa.Column("point_id", sa.String(200), nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("frozen_value", sa.Float, nullable=True),
        sa.Column("frozen_quality", sa.String(20), nullable=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("quality", sa.String(20), nullable=True),
        sa.Column("detected_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("point_id", "start", name="pk_interval_corrections"),
    )
    op.create_table(
        "interval_dirty",
        sa.Column("point_id", sa.String(200), nullable=False),
        sa.Column("first_ts", sa.BigInteger, nullable=False),
        sa.Column("last_ts", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("point_id", name="pk_interval_dirty"),
    )
    with op.batch_alter_table("billing_periods") as batch:
        batch.add_column(sa.Column("start", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("end", sa.BigInteger, nullable=True))
    with op.batch_alter_table("meter_replacements") as batch:
        batch.add_column(sa.Column("source", sa.String(20), nullable=False, server_default=""))
    with op.batch_alter_table("lpwan_frames") as batch:
        batch.add_column(sa.Column("session", sa.String(100), nullable=True))
        batch.add_column(sa.Column("delivery_id", sa.String(100), nullable=True))
    op.create_index("ix_lpwan_frames_delivery_id", "lpwan_frames", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_lpwan_frames_delivery_id", "lpwan_frames")
    with op.batch_alter_table("lpwan_frames") as batch:
        batch.drop_column("delivery_id")
        batch.drop_column("session")
    with op.batch_alter_table("meter_replacements") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("billing_periods") as batch:
        batch.drop_column("end")
        batch.drop_column("start")
    op.drop_table("interval_dirty")
    op.drop_table("interval_corrections")
