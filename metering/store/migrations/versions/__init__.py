"""Revision files; alembic skips this `__init__.py` when it scans for revisions."""
