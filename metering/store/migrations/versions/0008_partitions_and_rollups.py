"""Readings partitioned by month on PostgreSQL; hourly and daily roll-ups of intervals on both backends.

PostgreSQL: `readings` becomes a table partitioned by range of `ts`, one partition per UTC month
(`readings_mYYYYMM`, see metering.store.partitions); every existing row is carried over into the
partition of its month. SQLite keeps its table as it is.

Both: `interval_hours` and `interval_days` hold, per point and UTC hour/day, the sum, count, minimum,
maximum and first/last start of the point's intervals there; filled here from the stored intervals,
then kept equal to them by every write of intervals (metering.store.rollups).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
PREFIX = "readings_m"  # as metering.store.partitions.PREFIX at this revision


def _rollup_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("point_id", sa.String(200), nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("minimum", sa.Float, nullable=False),
        sa.Column("maximum", sa.Float, nullable=False),
        sa.Column("first", sa.BigInteger, nullable=False),
        sa.Column("last", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("point_id", "start", name=f"pk_{name}"),
        sqlite_with_rowid=False,
    )


def _fill(name: str, source: str, width: int, value: str, count: str, first: str, last: str, lo: str, hi: str) -> None:
    op.execute(
        f'INSERT INTO {name} (point_id, start, total, count, minimum, maximum, "first", "last")'
        f" SELECT point_id, (start / {width}) * {width}, sum({value}), sum({count}), min({lo}), max({hi}),"
        f" min({first}), max({last}) FROM {source} GROUP BY point_id, start / {width}"
    )


def _months(first_ms: int, last_ms: int) -> list[tuple[int, int, str]]:
    """(start ms, end ms, partition name) of every UTC month from the one of first_ms to that of last_ms."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    moment = epoch + timedelta(milliseconds=first_ms)
    last = epoch + timedelta(milliseconds=last_ms)
    month = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    months = []
    while month <= last:
        following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
        start, end = (month - epoch) // timedelta(milliseconds=1), (following - epoch) // timedelta(milliseconds=1)
        months.append((start, end, f"{PREFIX}{month.year:04d}{month.month:02d}"))
        month = following
    return months


def _partition_readings() -> None:
    op.rename_table("readings", "readings_0007")
    op.execute("ALTER TABLE readings_0007 RENAME CONSTRAINT pk_readings TO pk_readings_0007")
    op.execute(
        "CREATE TABLE readings (ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, point INTEGER NOT NULL,"
        " tag INTEGER NOT NULL, CONSTRAINT pk_readings PRIMARY KEY (point, ts)) PARTITION BY RANGE (ts)"
    )
    first, last = op.get_bind().execute(sa.text("SELECT min(ts), max(ts) FROM readings_0007")).one()
    if first is not None:
        for start, end, name in _months(int(first), int(last)):
            op.execute(f"CREATE TABLE {name} PARTITION OF readings FOR VALUES FROM ({start}) TO ({end})")
        op.execute("INSERT INTO readings (ts, value, point, tag) SELECT ts, value, point, tag FROM readings_0007")
    op.drop_table("readings_0007")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _partition_readings()
    _rollup_table("interval_hours")
    _rollup_table("interval_days")
    _fill("interval_hours", "intervals", HOUR_MS, "value", "1", "start", "start", "value", "value")
    _fill("interval_days", "interval_hours", DAY_MS, "total", "count", '"first"', '"last"', "minimum", "maximum")


def downgrade() -> None:
    op.drop_table("interval_days")
    op.drop_table("interval_hours")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.rename_table("readings", "readings_0008")
    op.execute("ALTER TABLE readings_0008 RENAME CONSTRAINT pk_readings TO pk_readings_0008")
    op.create_table(
        "readings",
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("point", sa.Integer, nullable=False),
        sa.Column("tag", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("point", "ts", name="pk_readings"),
    )
    op.execute("INSERT INTO readings (ts, value, point, tag) SELECT ts, value, point, tag FROM readings_0008")
    op.execute("DROP TABLE readings_0008 CASCADE")  # its monthly partitions with it
