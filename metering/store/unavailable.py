"""A database that cannot be opened, said in one sentence with the likely fix."""

from __future__ import annotations

from sqlalchemy.engine import URL

from metering.store.urls import is_sqlite


class StoreUnavailable(RuntimeError):
    """The database could not be opened or migrated at start; the message names the cause and the fix."""


def explain(url: URL, error: BaseException) -> StoreUnavailable:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    shown = url.render_as_string(hide_password=True)
    lowered = reason.lower()
    if is_sqlite(url):
        if "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
            fix = "the file or its folder is read-only; give the service write access"
        elif "disk" in lowered and "full" in lowered:
            fix = "the disk is full; free space"
        else:
            fix = "check the path and that the file is an SQLite database"
    elif "does not exist" in lowered and "database" in lowered:
        name = url.database or "?"
        fix = f"create it (createdb {name}) or point --db / BMS_BRIDGE_DB at an existing database"
    elif "connect call failed" in lowered or "connection refused" in lowered or "could not connect" in lowered:
        fix = f"is PostgreSQL running and reachable on {url.host or 'localhost'}:{url.port or 5432}?"
    elif "password" in lowered or "authentication" in lowered:
        fix = "check the user and password in the database URL"
    else:
        fix = "check the database URL and the server"
    return StoreUnavailable(f"cannot open the database {shown}: {reason}; {fix}")
