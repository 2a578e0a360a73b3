"""Several sites (several bridge processes) writing one PostgreSQL database, each in its own schema."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.store.conftest import _drop_schema
from tests.support.services import POSTGRES_URL, require_postgres

ROOT = Path(__file__).resolve().parents[2]
COUNT = 6_000  # 10 points x 600 minutes: 22:00 on Dec 31st to 08:00 on Jan 1st


async def _run_site(schema: str, site: str) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.store.site_process",
        POSTGRES_URL,
        schema,
        site,
        str(COUNT),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    result: dict[str, int] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@pytest.mark.postgres
async def test_two_site_processes_write_one_database_concurrently_without_interfering() -> None:
    require_postgres()
    schemas = {site: f"t_{site}_{uuid.uuid4().hex[:12]}" for site in ("north", "south")}
    try:
        results = await asyncio.gather(*(_run_site(schema, site) for site, schema in schemas.items()))
        engine = create_async_engine(POSTGRES_URL)
        try:
            seen = {}
            async with engine.connect() as conn:
                for site, schema in schemas.items():
                    q = f'"{schema}"'
                    seen[site] = (
                        (await conn.execute(text(f"SELECT count(*) FROM {q}.readings"))).scalar_one(),
                        sorted((await conn.execute(text(f"SELECT key FROM {q}.point_keys"))).scalars().all()),
                        (await conn.execute(text(f"SELECT count(*) FROM {q}.readings_m202701"))).scalar_one(),
                        (await conn.execute(text(f"SELECT sum(count) FROM {q}.interval_days"))).scalar_one(),
                        (await conn.execute(text(f"SELECT count(*) FROM {q}.interval_dirty"))).scalar_one(),
                    )
        finally:
            await engine.dispose()
    finally:
        for schema in schemas.values():
            await _drop_schema(schema)
    # every reading of each site stored once, the repeated half refused as duplicates, no row lost
    assert results == [{"written": COUNT, "duplicates": COUNT // 2}] * 2
    for site in schemas:
        count, keys, in_january, intervals, dirty = seen[site]
        assert count == COUNT
        assert keys == [f"{site}.em-{p}" for p in range(10)]  # its own points only
        assert in_january == COUNT - 10 * 120  # after the first two hours (22:00, 23:00 of Dec 31st)
        assert intervals == 10 * 10  # 10 hours x 10 points
        assert dirty == 10
