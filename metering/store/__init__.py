"""Persistence for readings, intervals and the service's records (SQLite by default, or PostgreSQL).

Every timestamp is stored as integer UTC epoch milliseconds; the API takes and returns aware datetimes.
"""

from __future__ import annotations

from metering.store.consumption_store import ConsumptionStore
from metering.store.records import Event
from metering.store.store import Store, StoreConflict
from metering.store.unavailable import StoreUnavailable
from metering.store.urls import default_sqlite_url, normalise_db_url
from metering.store.writer import ReadingWriter, WriterError

__all__ = [
    "ConsumptionStore",
    "Event",
    "ReadingWriter",
    "Store",
    "StoreConflict",
    "StoreUnavailable",
    "WriterError",
    "default_sqlite_url",
    "normalise_db_url",
]
