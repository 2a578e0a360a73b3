"""Billing's tables (Core): statements, their lines, the audit log. Created by migration 0004.

Amounts, quantities, prices and percentages are Decimal kept as text: exact and identical on SQLite
and PostgreSQL (SQLite has no exact NUMERIC). Timestamps are UTC epoch milliseconds as everywhere.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

DECIMAL = 40  # characters of a Decimal as text

statements = Table(
    "statements",
    metadata,
    Column("id", String(250), nullable=False),  # site:period:contract:vN
    Column("site", String(100), nullable=False),
    Column("contract", String(200), nullable=False),
    Column("tenant", String(200), nullable=False),
    Column("billing_account", String(200), nullable=False),
    Column("period", String(7), nullable=False),  # 'YYYY-MM'
    Column("version", Integer, nullable=False),
    Column("state", String(20), nullable=False),  # draft | reviewed | approved | exported | superseded
    Column("currency", String(3), nullable=False),
    Column("net", String(DECIMAL), nullable=False),
    Column("vat", String(DECIMAL), nullable=False),
    Column("gross", String(DECIMAL), nullable=False),
    Column("supersedes", String(250), nullable=True),  # id of the version this one replaces
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("state_changed_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("id", name="pk_statements"),
    UniqueConstraint("site", "contract", "period", "version", name="uq_statements_version"),
    Index("ix_statements_period", "period"),
)

statement_lines = Table(
    "statement_lines",
    metadata,
    Column("statement_id", String(250), nullable=False),
    Column("line_no", Integer, nullable=False),  # 1-based, in statement order
    Column("kind", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("resource", String(40), nullable=False),
    Column("quantity", String(DECIMAL), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("unit_price", String(DECIMAL), nullable=False),
    Column("net", String(DECIMAL), nullable=False),
    Column("vat_percent", String(DECIMAL), nullable=False),
    Column("vat", String(DECIMAL), nullable=False),
    Column("point_id", String(200), nullable=True),
    Column("meter_serial", String(200), nullable=True),
    Column("zone", String(100), nullable=True),
    Column("opening", String(DECIMAL), nullable=True),
    Column("closing", String(DECIMAL), nullable=True),
    Column("share_percent", String(DECIMAL), nullable=False),
    Column("estimated_percent", String(DECIMAL), nullable=False),
    Column("basis", Text, nullable=False),
    Column("refers_to", String(250), nullable=True),  # statement a correction line corrects
    Column("adjusted_at", BigInteger, nullable=True),
    Column("adjusted_by", String(200), nullable=True),
    Column("adjust_reason", Text, nullable=True),
    PrimaryKeyConstraint("statement_id", "line_no", name="pk_statement_lines"),
    ForeignKeyConstraint(["statement_id"], ["statements.id"], name="fk_statement_lines_statement"),
)

# Append-only: the migration adds triggers that refuse UPDATE and DELETE on both backends.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("statement_id", String(250), nullable=True),
    Column("detail", Text, nullable=False),  # JSON object
    PrimaryKeyConstraint("id", name="pk_audit_log"),
    Index("ix_audit_log_statement_id", "statement_id"),
)
