"""The export outbox: statement versions waiting for, or done with, delivery to the billing system.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_outbox",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("statement_id", sa.String(200), nullable=False),
        sa.Column("statement_version", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(220), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("receipt", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("delivered_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_export_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_export_outbox_idempotency_key"),
    )
    # the deliverer asks "what is pending and due?" on every round
    op.create_index("ix_export_outbox_due", "export_outbox", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_export_outbox_due", table_name="export_outbox")
    op.drop_table("export_outbox")
