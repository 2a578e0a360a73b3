"""Loading a site for the service: the YAML model plus the builtin meter profiles."""

from __future__ import annotations

import os
from pathlib import Path

from metering.profiles import builtin_profiles
from metering.store.urls import default_sqlite_url
from point_mapping.loader import LoadedSite, load_site

DB_ENV = "BMS_BRIDGE_DB"


def open_site(folder: str | Path) -> LoadedSite:
    """Load and check a site folder; raises `point_mapping.errors.SiteInvalid`."""
    return load_site(Path(folder), builtin_profiles())


def database_url(site: LoadedSite, cli_value: str | None) -> str:
    """--db wins, then $BMS_BRIDGE_DB, then an SQLite file under SITE/.state/."""
    return cli_value or os.environ.get(DB_ENV) or default_sqlite_url(site.state_dir)
