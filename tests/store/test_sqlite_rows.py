"""`sqlite_rows` (the SQLite batch path) makes exactly the rows and dirty spans `_Batch` makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from metering.readings import Quality, Reading
from metering.store import Store
from metering.store.engine import create_sqlite_batch_engine
from metering.store.sqlite_rows import sqlite_rows
from metering.store.store import _Batch

T0 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the night Europe/Berlin repeats 02:00-03:00
BERLIN = ZoneInfo("Europe/Berlin")


def mixed() -> list[Reading]:
    shared = T0 + timedelta(minutes=5)  # one poll: one datetime object for several points
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # 00:30 UTC
    second = first.replace(fold=1)  # equal to `first` by value, yet 01:30 UTC
    return [
        Reading("a", shared, 1234.56, source="modbus:m1"),
        Reading("b", shared, 7.0, Quality.ESTIMATED, source="modbus:m1"),
        Reading("a", T0, 1234.5, source="modbus:m1"),
        Reading("a", T0 + timedelta(milliseconds=1, microseconds=999), 1 / 3, source="csv:book"),
        Reading("c", first, 10.0, source="lpwan:x"),
        Reading("c", second, 11.0, Quality.MANUAL, source="lpwan:x"),
        Reading("b", T0.astimezone(timezone(timedelta(hours=5))), 8.25, source="modbus:m1"),
        Reading("a", shared, 99.0, source="modbus:m1"),  # same point and time again: first one wins
    ]


async def test_the_rows_and_spans_are_those_of_the_generic_batch(tmp_path: Path) -> None:
    async with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        engine = create_sqlite_batch_engine(store.engine.url)
        try:
            for round_ in range(2):  # new points and sources first, then all of them known
                readings = mixed()
                with engine.connect() as conn, conn.begin():
                    rows, spans, learned = sqlite_rows(readings, store._keys, conn)
                    expected_learned = store._keys.assign(conn, _Batch(readings).usual, _Batch(readings).sources)
                store._keys.commit(learned if round_ == 0 else expected_learned)
                batch = _Batch(readings)
                assert rows == batch.rows(expected_learned, scaled=True, first_only=False)
                assert spans == batch.spans
                c = spans["c"]
                assert c[1] - c[0] == 3_600_000  # the repeated hour: two instants, an hour apart
        finally:
            engine.dispose()
