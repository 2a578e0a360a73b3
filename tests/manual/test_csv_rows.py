"""Checking a CSV of manual readings: every row, every problem with its line."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from metering.manual_import import ManualRows, parse_manual_csv
from metering.readings import Quality
from point_mapping.loader import LoadedSite

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _parse(site: LoadedSite, text: str) -> ManualRows:
    return parse_manual_csv(site.model, textwrap.dedent(text).lstrip("\n"), "book.csv", site.profiles, now=NOW)


def test_good_file_by_meter_and_by_point(site: LoadedSite) -> None:
    rows = parse_manual_csv(
        site.model,
        "\ufeffMeter,Timestamp,Value,Note\n"
        "GAS-1,2025-03-01T08:00:00+01:00,1234.5,read by caretaker\n"
        "GAS-1,2025-04-01T08:05:00Z,1301,\n"
        "EL-1,2025-03-01T08:00:00+01:00,12.5,\n",
        "book.csv",
        site.profiles,
        now=NOW,
    )
    assert rows.ok, rows.errors
    by_point = {(r.point_id, r.ts): r for r in rows.readings}
    first = by_point[("GAS-1.volume", datetime(2025, 3, 1, 7, 0, tzinfo=UTC))]
    assert (first.value, first.quality, first.source) == (1234.5, Quality.MANUAL, "csv:book.csv")
    # the dial of a CT-connected meter: 12.5 kWh x 40 = 500 kWh = 0.5 MWh in the point
    assert by_point[("EL-1.energy", datetime(2025, 3, 1, 7, 0, tzinfo=UTC))].value == pytest.approx(0.5)
    assert rows.notes == {("GAS-1.volume", datetime(2025, 3, 1, 7, 0, tzinfo=UTC)): "read by caretaker"}


def test_point_column_takes_the_value_in_the_point_unit(site: LoadedSite) -> None:
    rows = parse_manual_csv(
        site.model,
        "point,timestamp,value\nEL-1.energy,2025-03-01T08:00:00+01:00,0.5\n",
        "b.csv",
        site.profiles,
        now=NOW,
    )
    assert [r.value for r in rows.readings] == [0.5]


def test_every_bad_row_is_listed_with_its_line(site: LoadedSite) -> None:
    text = """
        meter,point,timestamp,value,note
        GAS-1,,2025-03-01T08:00:00+01:00,100,
        NOPE,,2025-03-01T08:00:00+01:00,1,
        ,GAS-1.nope,2025-03-01T08:00:00+01:00,1,
        GAS-1,,2025-03-02T08:00:00,101,
        GAS-1,,2025-03-03T08:00:00+01:00,12a,
        GAS-1,,2025-03-04T08:00:00+01:00,-3,

        GAS-1,,2025-03-01T07:00:00Z,100,
        GAS-1,,2025-03-05T08:00:00+01:00,99.5,
        HM-1,,2025-03-05T08:00:00+01:00,5,
        ,GAS-total,2025-03-05T08:00:00+01:00,5,
        GAS-1,GAS-1.volume,2025-03-06T08:00:00+01:00,120,
        GAS-1,,2025-03-07T08:00:00+01:00,"1,5",
        GAS-1,,2025-03-08T08:00:00+01:00
        GAS-1,,yesterday,130,
    """
    rows = _parse(site, text)
    assert not rows.ok
    found = {(e.line, e.message.split(";")[0]) for e in rows.errors}
    # line 10 (a value lower than line 2's) is a question for the stored course: see test_import.py
    expected_lines = {3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16}
    assert {line for line, _ in found} == expected_lines
    messages = {e.line: e.message for e in rows.errors}
    assert messages[3] == "unknown meter 'NOPE'"
    assert messages[4] == "unknown point 'GAS-1.nope'"
    assert "has no UTC offset" in messages[5]
    assert "'12a' is not a number" in messages[6]
    assert "negative" in messages[7]
    assert messages[8] == "empty line; remove it"
    assert "already given on line 2" in messages[9]
    assert "has 2 cumulative points (HM-1.heat, HM-1.heat_t2)" in messages[11]
    assert "virtual" in messages[12]
    assert messages[13] == "give a meter or a point, not both"
    assert "decimal point" in messages[14]
    assert "3 values for 5 columns" in messages[15]
    assert "not ISO 8601" in messages[16]


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("0001-01-01T00:00:00Z", "before 2000-01-01"),
        ("1970-01-01T00:00:00Z", "before 2000-01-01"),
        ("2062-03-01T08:00:00+01:00", "in the future"),
        ("9999-12-31T23:59:59Z", "in the future"),
        ("0001-01-01T00:00:00+05:00", "outside the calendar"),  # no such instant in UTC
        ("9999-12-31T23:59:59-05:00", "outside the calendar"),
        ("2026-12-02T12:10:00Z", "in the future"),  # beyond the 5-minute tolerance
    ],
)
def test_rows_outside_the_time_bounds_are_refused(site: LoadedSite, stamp: str, reason: str) -> None:
    rows = _parse(site, f"meter,timestamp,value\nGAS-1,{stamp},1\n")
    assert [e.line for e in rows.errors] == [2]
    assert reason in rows.errors[0].message


def test_a_line_the_csv_module_cannot_split_is_an_error_and_the_rest_is_read(site: LoadedSite) -> None:
    huge = "1" * 140_000  # beyond the csv module's field size limit
    rows = _parse(site, f"meter,timestamp,value\nGAS-1,2026-12-01T10:00:00Z,{huge}\nGAS-1,2026-12-01T11:00:00Z,5\n")
    assert [e.line for e in rows.errors] == [2]
    assert "cannot split this line into values" in rows.errors[0].message
    assert [r.value for r in rows.readings] == [5.0]


def test_a_row_within_the_future_tolerance_is_accepted(site: LoadedSite) -> None:
    assert _parse(site, "meter,timestamp,value\nGAS-1,2026-12-02T12:04:00Z,1\n").ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("timestamp,value\n", "no 'meter' or 'point' column"),
        ("meter,value\n", "no 'timestamp' column"),
        ("meter,timestamp,value,comment\n", "unknown column(s) 'comment'"),
        ("meter,meter,timestamp,value\n", "column(s) meter given twice"),
    ],
)
def test_header_problems(site: LoadedSite, text: str, expected: str) -> None:
    rows = parse_manual_csv(site.model, text, "b.csv", site.profiles, now=NOW)
    assert len(rows.errors) == 1 and rows.errors[0].line == 1
    assert expected in rows.errors[0].message
