"""Database URLs: the default SQLite file and the async drivers SQLAlchemy needs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url

DEFAULT_DB_NAME = "bms-bridge.db"

# plain driver names a user is likely to type -> the asyncio driver we ship
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
}
SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")


def default_sqlite_url(state_dir: Path) -> str:
    """URL of the site's SQLite file under its state directory (e.g. `SITE/.state/`)."""
    return f"sqlite+aiosqlite:///{(state_dir / DEFAULT_DB_NAME).resolve()}"


def normalise_db_url(url: str | URL) -> URL:
    """Parse `url` and swap a sync driver for its async one; unknown backends are an error."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    if driver not in SUPPORTED:
        raise ValueError(
            f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
            f"use sqlite:///path/to/file.db or postgresql://user@host/db"
        )
    if driver.startswith("sqlite") and parsed.database in (None, "", ":memory:"):
        # every pooled connection would see its own empty database
        raise ValueError("an in-memory SQLite database cannot be shared; give a file path")
    return parsed.set(drivername=driver)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"
