"""Progress of a CSV import: one step per row checked (a file of K rows reports K), then storing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bms_bridge.manual_import import import_readings
from metering.store import Store
from point_mapping.loader import LoadedSite

WriteCsv = Callable[..., Path]

# 3 rows; the second is wrapped in quotes over two lines, which is still one row
ROWS = """
    meter,timestamp,value,note
    GAS-1,2025-03-01T08:00:00+01:00,1234.5,read by caretaker
    GAS-1,2025-04-01T08:05:00+02:00,1301.0,"two
    lines"
    WAT-1,2025-03-01T08:00:00+01:00,470,
"""


async def test_a_file_of_three_rows_reports_three_steps_then_storing(
    site: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    heard: list[tuple[int, int, str]] = []
    result = await import_readings(site, store, write_csv(ROWS), progress=lambda *step: heard.append(step))
    assert result.ok and result.inserted == 3
    assert heard == [
        (0, 3, "checking rows"),
        (1, 3, "checking rows"),
        (2, 3, "checking rows"),
        (3, 3, "checking rows"),
        (0, 2, "storing"),
        (1, 2, "storing"),  # the readings, in one transaction
        (2, 2, "storing"),  # the intervals recomputed
    ]


async def test_a_refused_file_reports_its_rows_and_stores_nothing(
    site: LoadedSite, store: Store, write_csv: WriteCsv
) -> None:
    heard: list[tuple[int, int, str]] = []
    bad = "meter,timestamp,value\nGAS-1,2025-03-01T08:00:00+01:00,-1\nNOPE,2025-03-01T08:00:00+01:00,1\n"
    result = await import_readings(site, store, write_csv(bad), progress=lambda *step: heard.append(step))
    assert not result.ok and len(result.errors) == 2
    assert heard == [(0, 2, "checking rows"), (1, 2, "checking rows"), (2, 2, "checking rows")]
