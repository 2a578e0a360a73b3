"""`import_readings` with a SQLite store: all or nothing, idempotent, conflicts refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bms_bridge.manual_import import import_readings
from metering.exchanges import MeterExchange
from metering.readings import Quality, Reading
from metering.store import Store
from metering.store import schema as t
from point_mapping.loader import LoadedSite

WriteCsv = Callable[..., Path]
EPOCH, END = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)

GOOD = """
    meter,timestamp,value,note
    GAS-1,2025-03-01T08:00:00+01:00,1234.5,read by caretaker
    GAS-1,2025-04-01T08:05:00+02:00,1301.0,
    WAT-1,2025-03-01T08:00:00+01:00,470,
"""


async def _row_count(store: Store) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(t.readings))).scalar_one())


async def test_good_file_is_imported_and_reimport_adds_nothing(
    site: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    path = write_csv(GOOD)
    first = await import_readings(site, store, path)
    assert first.ok
    assert (first.inserted, first.already_present, first.notes_dropped) == (3, 0, 1)
    assert "note(s) not stored" in first.messages[0]
    stored = await store.readings("GAS-1.volume", EPOCH, END)
    assert [(r.ts, r.value, r.quality, r.source) for r in stored] == [
        (datetime(2025, 3, 1, 7, 0, tzinfo=UTC), 1234.5, Quality.MANUAL, "csv:readings.csv"),
        (datetime(2025, 4, 1, 6, 5, tzinfo=UTC), 1301.0, Quality.MANUAL, "csv:readings.csv"),
    ]

    again = await import_readings(site, store, path)
    assert again.ok and (again.inserted, again.already_present) == (0, 3)
    assert await _row_count(store) == 3


async def test_file_with_bad_rows_imports_nothing(site: LoadedSite, store: Store, write_csv: WriteCsv) -> None:
    await import_readings(site, store, write_csv(GOOD, "before.csv"))
    before = await _row_count(store)
    path = write_csv(
        """
        meter,timestamp,value
        GAS-1,2025-05-01T08:00:00+02:00,1400
        GAS-1,2025-05-02T08:00:00,1401
        NOPE,2025-05-02T08:00:00+02:00,1
        GAS-1,2025-05-03T08:00:00+02:00,abc
        GAS-1,2025-05-04T08:00:00+02:00,1399
        """,
        "bad.csv",
    )
    result = await import_readings(site, store, path)
    assert not result.ok and result.inserted == 0
    assert [e.line for e in result.errors] == [3, 4, 5, 6]
    lines = result.error_lines()
    assert lines[0].startswith(f"{path}:3: timestamp '2025-05-02T08:00:00' has no UTC offset")
    assert lines[1] == f"{path}:4: unknown meter 'NOPE'"
    assert await _row_count(store) == before  # the good first row was not stored either


async def test_different_value_already_stored_is_refused(site: LoadedSite, store: Store, write_csv: WriteCsv) -> None:
    ts = datetime(2025, 3, 1, 7, 0, tzinfo=UTC)
    await store.insert_readings([Reading("GAS-1.volume", ts, 1200.0, Quality.MEASURED, "modbus:x")])
    result = await import_readings(site, store, write_csv(GOOD))
    assert [e.line for e in result.errors] == [2]
    assert "already stored with value 1200 (measured, modbus:x)" in result.errors[0].message
    assert await _row_count(store) == 1


async def test_replacement_recorded_in_the_store_allows_a_restart(
    site: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    path = write_csv(
        """
        meter,timestamp,value
        GAS-1,2025-03-01T08:00:00+01:00,900
        GAS-1,2025-04-01T08:00:00+02:00,3
        """
    )
    assert not (await import_readings(site, store, path)).ok
    await store.add_exchange(MeterExchange("GAS-1", datetime(2025, 3, 20, tzinfo=UTC), 950.0, 0.0))
    result = await import_readings(site, store, path)
    assert result.ok and result.inserted == 2


async def test_not_utf8(site: LoadedSite, store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("meter,timestamp,value\nGAS-1,2025-03-01T08:00:00+01:00,1\nGAS-1,x,\xe9\n".encode("latin-1"))
    result = await import_readings(site, store, path)
    assert [(e.line, e.message) for e in result.errors] == [(3, "not UTF-8 text; save the file as 'CSV UTF-8'")]


async def test_a_lower_value_than_a_stored_one_from_another_file_is_refused(
    site: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    # 1000 (1 March) and 1005 (3 March), then 10020 (2 March) in a second file: 10020 breaks the
    # course 1000 → 1005 (it would bill 9,020 m3 instead of 5), whichever file it comes in.
    first = write_csv(
        "meter,timestamp,value\nGAS-1,2025-03-01T08:00:00+01:00,1000.0\nGAS-1,2025-03-03T08:00:00+01:00,1005.0\n"
    )
    assert (await import_readings(site, store, first)).ok
    late = write_csv("meter,timestamp,value\nGAS-1,2025-03-02T08:00:00+01:00,10020.0\n", "late.csv")
    result = await import_readings(site, store, late)
    assert [e.line for e in result.errors] == [2]
    assert "10020" in result.errors[0].message and "1005 at 2025-03-03" in result.errors[0].message
    assert await _row_count(store) == 2


async def test_declared_exchange_lets_the_register_restart_and_a_later_drop_is_refused(
    site: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    # WAT-1 was exchanged on 15 March (old final 480, new initial 0): 470 → 12 crosses it; 12 → 11 does not.
    path = write_csv(
        "meter,timestamp,value\nWAT-1,2025-03-01T08:00:00+01:00,470\nWAT-1,2025-04-01T08:00:00+02:00,12\n"
        "WAT-1,2025-05-01T08:00:00+02:00,11\n"
    )
    result = await import_readings(site, store, path)
    assert [e.line for e in result.errors] == [4]
    assert "12 → 11" in result.errors[0].message
    assert await _row_count(store) == 0


async def test_a_reading_at_the_exchange_time_is_the_old_meters_final(
    site: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    final_then_new = write_csv(
        "meter,timestamp,value\nWAT-1,2025-03-15T09:00:00+01:00,480\nWAT-1,2025-04-01T08:00:00+02:00,12\n"
    )
    assert (await import_readings(site, store, final_then_new)).ok


async def test_a_legitimate_wrap_is_accepted_as_polling_accepts_it(
    site_with_dial: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    # 8-digit dial 99,999,678 → 123 a day later: 445 m3 through the wrap, well within the cap.
    path = write_csv(
        "meter,timestamp,value\nDIAL-1,2025-03-01T08:00:00+01:00,99999678\nDIAL-1,2025-03-02T08:00:00+01:00,123\n"
    )
    result = await import_readings(site_with_dial, store, path)
    assert result.ok, result.error_lines()


async def test_a_value_beyond_the_register_is_refused_as_written(
    site_with_dial: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    path = write_csv(
        "meter,timestamp,value\nDIAL-1,2025-03-01T08:00:00+01:00,1e308\nDIAL-1,2025-03-02T08:00:00+01:00,5\n"
    )
    result = await import_readings(site_with_dial, store, path)
    assert [e.line for e in result.errors] == [2]
    assert "register range 0..100000000" in result.errors[0].message
