"""Table definitions the queries are written against (Core, not ORM).

The migrations in `migrations/versions/` create these tables; they are written out separately there
because a migration must keep describing the schema of its day. A test checks the two agree.
Every timestamp column holds integer UTC epoch milliseconds (see `timecodec`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# revision 0007: compact readings. The point and source strings live once in `point_keys` and
# `sources`; a reading row holds integers and its value (see docs/storage.md for the byte count).
point_keys = Table(
    "point_keys",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("key", String(200), nullable=False),
    Column("source_id", Integer, nullable=True),  # the point's usual source: its readings store 0
    PrimaryKeyConstraint("id", name="pk_point_keys"),
    UniqueConstraint("key", name="uq_point_keys_key"),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("name", String(200), nullable=False),
    PrimaryKeyConstraint("id", name="pk_sources"),
    UniqueConstraint("name", name="uq_sources_name"),
)

# Column order keeps PostgreSQL from padding (8-byte columns first); the key is still (point, ts).
# revision 0008: on PostgreSQL partitioned by range of ts, one partition per UTC month (`partitions`).
readings = Table(
    "readings",
    metadata,
    Column("ts", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Column("point", Integer, nullable=False),  # point_keys.id
    Column("tag", Integer, nullable=False),  # quality | decimal scale << 3 | source << 5 (`codes`)
    PrimaryKeyConstraint("point", "ts", name="pk_readings"),
    sqlite_with_rowid=False,
    postgresql_partition_by="RANGE (ts)",
)

intervals = Table(
    "intervals",
    metadata,
    Column("point_id", String(200), nullable=False),
    Column("start", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Column("quality", String(20), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("point_id", "start", name="pk_intervals"),
    sqlite_with_rowid=False,
)


def _rollup(name: str) -> Table:
    """Per point and UTC hour (or day): what its intervals there add up to, kept by `rollups`."""
    return Table(
        name,
        metadata,
        Column("point_id", String(200), nullable=False),
        Column("start", BigInteger, nullable=False),  # the hour's (day's) first millisecond
        Column("total", Float, nullable=False),
        Column("count", Integer, nullable=False),
        Column("minimum", Float, nullable=False),
        Column("maximum", Float, nullable=False),
        Column("first", BigInteger, nullable=False),  # start of the first and last interval inside
        Column("last", BigInteger, nullable=False),
        PrimaryKeyConstraint("point_id", "start", name=f"pk_{name}"),
        sqlite_with_rowid=False,
    )


# revision 0008: roll-ups of intervals for long-range queries
interval_hours = _rollup("interval_hours")
interval_days = _rollup("interval_days")

device_health = Table(
    "device_health",
    metadata,
    Column("device_id", String(200), nullable=False),
    Column("online", Boolean, nullable=False),
    Column("last_success", BigInteger, nullable=True),
    Column("last_attempt", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("error_count", Integer, nullable=False),
    Column("consecutive_failures", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("device_id", name="pk_device_health"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("kind", String(100), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
    Column("title", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON object as text: same on both backends
    Column("energy", Float, nullable=True),
    Column("energy_unit", String(20), nullable=True),
    Column("cost", Float, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("dedup_key", String(300), nullable=False),
    # revision 0005: findings with equipment, tenants, evidence, exact cost and acknowledgement
    Column("equipment", String(200), nullable=True),
    Column("zone", String(200), nullable=True),
    Column("tenants", Text, nullable=True),  # JSON list
    Column("evidence", Text, nullable=True),  # JSON list of {ts, values}
    Column("cost_exact", String(40), nullable=True),  # Decimal as text: exact on both backends
    Column("acked_by", String(200), nullable=True),
    Column("acked_at", BigInteger, nullable=True),
    Column("ack_comment", Text, nullable=True),
    PrimaryKeyConstraint("id", name="pk_events"),
    UniqueConstraint("dedup_key", name="uq_events_dedup_key"),
    Index("ix_events_started_at", "started_at"),
)

# revision 0005: values read back from the BMS, typed (analog REAL, binary 0/1, multistate 1..n)
bms_trends = Table(
    "bms_trends",
    metadata,
    Column("point_id", String(200), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),  # "analog" | "binary" | "multistate"
    Column("value", Float, nullable=False),
    Column("quality", String(20), nullable=False),
    PrimaryKeyConstraint("point_id", "ts", name="pk_bms_trends"),
    sqlite_with_rowid=False,
)

# revision 0005: the BMS's Schedule objects as last read, decoded (weekly + exceptions, JSON)
bms_schedules = Table(
    "bms_schedules",
    metadata,
    Column("point_id", String(200), nullable=False),
    Column("read_at", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("point_id", name="pk_bms_schedules"),
)

lpwan_frames = Table(
    "lpwan_frames",
    metadata,
    Column("dev_eui", String(16), nullable=False),
    Column("f_cnt", BigInteger, nullable=False),
    Column("device_time", BigInteger, nullable=True),
    Column("received_at", BigInteger, nullable=False),
    Column("session", String(100), nullable=True),  # device address of the session (a rejoin changes it)
    Column("delivery_id", String(100), nullable=True),  # the network server's uplink id
    PrimaryKeyConstraint("dev_eui", "f_cnt", name="pk_lpwan_frames"),
    Index("ix_lpwan_frames_delivery_id", "delivery_id"),
    sqlite_with_rowid=False,
)

meter_replacements = Table(
    "meter_replacements",
    metadata,
    Column("meter_id", String(200), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("old_final", Float, nullable=False),
    Column("new_initial", Float, nullable=False),
    Column("note", Text, nullable=False),
    Column("source", String(20), nullable=False, server_default=""),
    PrimaryKeyConstraint("meter_id", "ts", name="pk_meter_replacements"),
)

billing_periods = Table(
    "billing_periods",
    metadata,
    Column("period", String(7), nullable=False),  # 'YYYY-MM'
    Column("status", String(20), nullable=False),
    Column("closed_at", BigInteger, nullable=True),
    Column("closed_by", String(200), nullable=True),
    Column("start", BigInteger, nullable=True),  # UTC bounds of the period once frozen
    Column("end", BigInteger, nullable=True),
    PrimaryKeyConstraint("period", name="pk_billing_periods"),
)

# A recomputed interval that differs from a frozen one: the frozen number stays in `intervals`.
interval_corrections = Table(
    "interval_corrections",
    metadata,
    Column("point_id", String(200), nullable=False),
    Column("start", BigInteger, nullable=False),
    Column("period", String(7), nullable=False),
    Column("frozen_value", Float, nullable=True),  # None: no interval was frozen for the slot
    Column("frozen_quality", String(20), nullable=True),
    Column("value", Float, nullable=True),  # None: the recomputation has no interval there
    Column("quality", String(20), nullable=True),
    Column("detected_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("point_id", "start", name="pk_interval_corrections"),
)

# Per point, the span of readings changed since its intervals were last computed.
interval_dirty = Table(
    "interval_dirty",
    metadata,
    Column("point_id", String(200), nullable=False),
    Column("first_ts", BigInteger, nullable=False),
    Column("last_ts", BigInteger, nullable=False),
    PrimaryKeyConstraint("point_id", name="pk_interval_dirty"),
)

# revision 0005: statement versions for the billing system; one row per idempotency key, never two
export_outbox = Table(
    "export_outbox",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("statement_id", String(200), nullable=False),
    Column("statement_version", Integer, nullable=False),
    Column("idempotency_key", String(220), nullable=False),  # f"{statement_id}:{statement_version}"
    Column("body", LargeBinary, nullable=False),  # the exact bytes that are signed and sent
    Column("state", String(20), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("receipt", Text, nullable=True),  # the receiver's JSON answer, as text
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("id", name="pk_export_outbox"),
    UniqueConstraint("idempotency_key", name="uq_export_outbox_idempotency_key"),
    Index("ix_export_outbox_due", "state", "next_attempt_at"),
)


# revision 0006: web app users (argon2 hashes), API tokens and browser sessions (both stored as SHA-256)
users = Table(
    "users",
    metadata,
    Column("id", Integer, autoincrement=True, nullable=False),
    Column("name", String(100), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("tenant_id", String(200), nullable=True),  # set for the tenant role only
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("id", name="pk_users"),
    UniqueConstraint("name", name="uq_users_name"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("token_hash", name="pk_api_tokens"),
    ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user", ondelete="CASCADE"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("session_hash", name="pk_web_sessions"),
    ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_web_sessions_user", ondelete="CASCADE"),
)
