"""Billing's storage: the period ledger over the meter-data core, statements with their lines, the audit log.

SQLAlchemy Core over `metering.store.Store`'s engine (same database), on SQLite and PostgreSQL. The
tables are created by migration 0004 in `metering/store/migrations/`.
"""

from billing_export.store.ledger import StorePeriodLedger
from billing_export.store.statements import AuditEntry, StatementStore, StoredStatement

__all__ = ["AuditEntry", "StatementStore", "StorePeriodLedger", "StoredStatement"]
