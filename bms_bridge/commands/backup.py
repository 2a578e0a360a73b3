"""`bms-bridge backup SITE --out FILE` and `bms-bridge restore SITE --from FILE`: a consistent copy of
an SQLite store taken while the service runs (SQLite's online backup API), checked before it is trusted.

PostgreSQL has its own tools (pg_dump, base backups); the commands say so instead of half doing it.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from metering.store import Store, normalise_db_url
from metering.store.migrate import head_revision
from metering.store.urls import is_sqlite
from point_mapping.errors import SiteInvalid

PAGES_PER_STEP = 1024  # copy in steps so the running service's writers are not held up for long


class BackupError(RuntimeError):
    """The copy could not be made or cannot be trusted; the message says why."""


def copy_database(source: Path, target: Path) -> None:
    """Online backup of `source` into `target` (replaced), then an integrity check of the copy."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist; nothing to copy")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(partial) as dst:
        src.backup(dst, pages=PAGES_PER_STEP)
        check_copy(dst, partial)
    partial.replace(target)


def check_copy(conn: sqlite3.Connection, path: Path) -> str:
    """The copy's schema revision; raises when it is damaged or not a bms-bridge store."""
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a bms-bridge database ({error})") from None
    if verdict != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {verdict}")
    if revision is None:
        raise BackupError(f"{path} has no schema version; it is not a bms-bridge database")
    return str(revision[0])


def restore_database(backup: Path, live: Path) -> str:
    """Check `backup`, then copy it over the live database with the backup API (WAL files stay consistent)."""
    if not backup.is_file():
        raise BackupError(f"{backup} does not exist")
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as src:
        revision = check_copy(src, backup)
        known = _known_revisions()
        if revision not in known:
            raise BackupError(
                f"{backup} has schema {revision}, which this version of bms-bridge does not know; "
                "restore it with the version that wrote it"
            )
        live.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(live) as dst:
            src.backup(dst, pages=PAGES_PER_STEP)
    return revision


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from metering.store.migrate import alembic_config

    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _sqlite_path(url: str) -> Path | None:
    parsed = normalise_db_url(url)
    return Path(parsed.database or "") if is_sqlite(parsed) else None


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    url = database_url(site, args.db)
    live = _sqlite_path(url)
    if live is None:
        print("error: the site's database is PostgreSQL; back it up with pg_dump or a base backup", file=sys.stderr)
        return 1
    try:
        if args.command == "backup":
            copy_database(live, Path(args.out))
            print(f"backed up {live} to {args.out} (integrity checked)")
            return 0
        revision = restore_database(Path(args.source), live)
    except (BackupError, OSError, sqlite3.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    asyncio.run(_migrate(url))  # an older backup is brought to this version's schema
    upgraded = f", upgraded from schema {revision}" if revision != head_revision() else ""
    print(f"restored {live} from {args.source}{upgraded}; start the service again")
    return 0


async def _migrate(url: str) -> None:
    async with Store.open(url):
        pass
