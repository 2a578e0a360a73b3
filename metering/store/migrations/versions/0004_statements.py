"""Billing statements, their lines and the append-only audit log (tables of `billing_export.store`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DECIMAL = 40

_SQLITE_GUARDS = [
    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_GUARDS = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("id", sa.String(250), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("contract", sa.String(200), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("billing_account", sa.String(200), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("net", sa.String(DECIMAL), nullable=False),
        sa.Column("vat", sa.String(DECIMAL), nullable=False),
        sa.Column("gross", sa.String(DECIMAL), nullable=False),
        sa.Column("supersedes", sa.String(250), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("state_changed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_statements"),
        sa.UniqueConstraint("site", "contract", "period", "version", name="uq_statements_version"),
    )
    op.create_index("ix_statements_period", "statements", ["period"])
    op.create_table(
        "statement_lines",
        sa.Column("statement_id", sa.String(250), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("resource", sa.String(40), nullable=False),
        sa.Column("quantity", sa.String(DECIMAL), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("unit_price", sa.String(DECIMAL), nullable=False),
        sa.Column("net", sa.String(DECIMAL), nullable=False),
        sa.Column("vat_percent", sa.String(DECIMAL), nullable=False),
        sa.Column("vat", sa.String(DECIMAL), nullable=False),
        sa.Column("point_id", sa.String(200), nullable=True),
        sa.Column("meter_serial", sa.String(200), nullable=True),
        sa.Column("zone", sa.String(100), nullable=True),
        sa.Column("opening", sa.String(DECIMAL), nullable=True),
        sa.Column("closing", sa.String(DECIMAL), nullable=True),
        sa.Column("share_percent", sa.String(DECIMAL), nullable=False),
        sa.Column("estimated_percent", sa.String(DECIMAL), nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("refers_to", sa.String(250), nullable=True),
        sa.Column("adjusted_at", sa.BigInteger, nullable=True),
        sa.Column("adjusted_by", sa.String(200), nullable=True),
        sa.Column("adjust_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("statement_id", "line_no", name="pk_statement_lines"),
        sa.ForeignKeyConstraint(["statement_id"], ["statements.id"], name="fk_statement_lines_statement"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("statement_id", sa.String(250), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_statement_id", "audit_log", ["statement_id"])
    # the log is evidence: the database itself refuses to change or remove an entry
    for statement in _SQLITE_GUARDS if op.get_context().dialect.name == "sqlite" else _POSTGRES_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_index("ix_audit_log_statement_id", "audit_log")
    op.drop_table("audit_log")
    op.drop_table("statement_lines")
    op.drop_index("ix_statements_period", "statements")
    op.drop_table("statements")
