"""Checking a CSV of manual readings: every row, every problem with its line."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from metering.manual_import import ManualRows, RowError, parse_manual_csv
from metering.readings import Quality
from point_mapping.loader import LoadedSite


def _parse(site: LoadedSite, text: str, replacements: dict[str, list[datetime]] | None = None) -> ManualRows:
    return parse_manual_csv(site.model, textwrap.dedent(text).lstrip("\n"), "book.csv", site.profiles, replacements)


def test_good_file_by_meter_and_by_point(site: LoadedSite) -> None:
    rows = parse_manual_csv(
        site.model,
        "\ufeffMeter,Timestamp,Value,Note\n"
        "GAS-1,2025-03-01T08:00:00+01:00,1234.5,read by caretaker\n"
        "GAS-1,2025-04-01T08:05:00Z,1301,\n"
        "EL-1,2025-03-01T08:00:00+01:00,12.5,\n",
        "book.csv",
        site.profiles,
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
        site.model, "point,timestamp,value\nEL-1.energy,2025-03-01T08:00:00+01:00,0.5\n", "b.csv", site.profiles
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
    assert not rows.ok and rows.readings == ()
    found = {(e.line, e.message.split(";")[0]) for e in rows.errors}
    expected_lines = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
    assert {line for line, _ in found} == expected_lines
    messages = {e.line: e.message for e in rows.errors}
    assert messages[3] == "unknown meter 'NOPE'"
    assert messages[4] == "unknown point 'GAS-1.nope'"
    assert "has no UTC offset" in messages[5]
    assert "'12a' is not a number" in messages[6]
    assert "negative" in messages[7]
    assert messages[8] == "empty line; remove it"
    assert "already given on line 2" in messages[9]
    assert "lower than 100" in messages[10] and "(line 2)" in messages[10]
    assert "has 2 cumulative points (HM-1.heat, HM-1.heat_t2)" in messages[11]
    assert "virtual" in messages[12]
    assert messages[13] == "give a meter or a point, not both"
    assert "decimal point" in messages[14]
    assert "3 values for 5 columns" in messages[15]
    assert "not ISO 8601" in messages[16]


def test_declared_replacement_allows_the_register_to_restart(site: LoadedSite) -> None:
    text = """
        meter,timestamp,value
        WAT-1,2025-03-01T08:00:00+01:00,470
        WAT-1,2025-04-01T08:00:00+02:00,12
        WAT-1,2025-05-01T08:00:00+02:00,11
    """
    rows = _parse(site, text)
    # March -> April crosses the declared exchange of 15 March; April -> May does not
    assert rows.errors == (RowError(4, rows.errors[0].message),)
    assert "lower than 12" in rows.errors[0].message
    passed_in = {"WAT-1": [datetime(2025, 4, 20, tzinfo=UTC)]}
    assert _parse(site, text, replacements=passed_in).ok


def test_reading_at_the_exchange_time_is_the_old_meters_final(site: LoadedSite) -> None:
    # As in `metering.counters.Replacement`: a reading stamped exactly at the exchange is the old
    # meter's final one, so the drop comes after it (the exchange of WAT-1 is at 09:00 on 15 March).
    final_then_new = """
        meter,timestamp,value
        WAT-1,2025-03-15T09:00:00+01:00,480
        WAT-1,2025-04-01T08:00:00+02:00,12
    """
    assert _parse(site, final_then_new).ok
    old_meter_drops = """
        meter,timestamp,value
        WAT-1,2025-03-01T08:00:00+01:00,470
        WAT-1,2025-03-15T09:00:00+01:00,3
    """
    rows = _parse(site, old_meter_drops)
    assert [e.line for e in rows.errors] == [3]
    assert "lower than 470" in rows.errors[0].message


def test_rows_out_of_time_order_are_compared_in_time_order(site: LoadedSite) -> None:
    text = """
        meter,timestamp,value
        GAS-1,2025-04-01T08:00:00+02:00,120
        GAS-1,2025-03-01T08:00:00+01:00,100
    """
    assert _parse(site, text).ok


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
    rows = parse_manual_csv(site.model, text, "b.csv", site.profiles)
    assert len(rows.errors) == 1 and rows.errors[0].line == 1
    assert expected in rows.errors[0].message
