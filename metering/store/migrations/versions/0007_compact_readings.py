"""Compact readings: integer point keys, quality and source as small codes, no receive time.

A reading row was (point_id text, ts, value, quality text, source text, received_at), ~55 bytes on
SQLite. It becomes (ts, value, point, tag): the point's key lives once in `point_keys`, each source
string once in `sources`, and `tag` packs the quality code, a decimal scale and the source code
(0 = the point's usual source); see metering.store.codes. `received_at` is dropped: nothing ever
read it back (LPWAN keeps its receive times in `lpwan_frames`). Every existing reading is carried
over with its point, time, value, quality and source (its value as it is: scale 0).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# fixed codes, as in metering.store.codes at this revision (a migration keeps describing its day)
# tag = quality code | scale << 3 | source code << 5; rows carried over keep their value as it is (scale 0)
QUALITY_CODES = {"measured": 0, "estimated": 1, "manual": 2, "corrected": 3, "questionable": 4}
QUALITY_BITS = 3
SOURCE_SHIFT = 5


def _quality_case(column: str) -> str:
    whens = " ".join(f"WHEN '{name}' THEN {code}" for name, code in QUALITY_CODES.items())
    return f"CASE {column} {whens} END"  # an unknown quality gives NULL: the NOT NULL column refuses it


def _quality_name(column: str) -> str:
    whens = " ".join(f"WHEN {code} THEN '{name}'" for name, code in QUALITY_CODES.items())
    return f"CASE {column} % {1 << QUALITY_BITS} {whens} END"


def upgrade() -> None:
    op.create_table(
        "point_keys",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("source_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_point_keys"),
        sa.UniqueConstraint("key", name="uq_point_keys_key"),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("name", name="uq_sources_name"),
    )
    op.rename_table("readings", "readings_0005")
    if op.get_bind().dialect.name == "postgresql":  # index names are per schema there
        op.execute("ALTER TABLE readings_0005 RENAME CONSTRAINT pk_readings TO pk_readings_0005")
    op.create_table(
        "readings",
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("point", sa.Integer, nullable=False),
        sa.Column("tag", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("point", "ts", name="pk_readings"),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO sources (name) SELECT DISTINCT source FROM readings_0005 ORDER BY source")
    # a point's usual source, whose readings store source code 0, is the one most of them came from
    op.execute(
        "INSERT INTO point_keys (key, source_id)"
        " SELECT u.point_id, s.id FROM"
        " (SELECT point_id, source, row_number() OVER"
        " (PARTITION BY point_id ORDER BY count(*) DESC, source) AS n"
        " FROM readings_0005 GROUP BY point_id, source) u"
        " JOIN sources s ON s.name = u.source WHERE u.n = 1 ORDER BY u.point_id"
    )
    op.execute(
        "INSERT INTO readings (ts, value, point, tag)"
        f" SELECT r.ts, r.value, p.id, {_quality_case('r.quality')}"
        f" + CASE WHEN s.id = p.source_id THEN 0 ELSE s.id * {1 << SOURCE_SHIFT} END"
        " FROM readings_0005 r JOIN point_keys p ON p.key = r.point_id JOIN sources s ON s.name = r.source"
    )
    op.drop_table("readings_0005")


def downgrade() -> None:
    op.rename_table("readings", "readings_0007")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE readings_0007 RENAME CONSTRAINT pk_readings TO pk_readings_0007")
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
    code = f"r.tag / {1 << SOURCE_SHIFT}"
    scale = f"(r.tag / {1 << QUALITY_BITS}) % 4"  # integer division on both backends
    op.execute(  # no receive time is kept: ts stands in for it
        "INSERT INTO readings (point_id, ts, value, quality, source, received_at)"
        f" SELECT p.key, r.ts, CASE {scale} WHEN 0 THEN r.value WHEN 1 THEN r.value / 10.0"
        f" WHEN 2 THEN r.value / 100.0 ELSE r.value / 1000.0 END, {_quality_name('r.tag')}, s.name, r.ts"
        " FROM readings_0007 r JOIN point_keys p ON p.id = r.point"
        f" JOIN sources s ON s.id = CASE WHEN {code} = 0 THEN p.source_id ELSE {code} END"
    )
    op.drop_table("readings_0007")
    op.drop_table("sources")
    op.drop_table("point_keys")
