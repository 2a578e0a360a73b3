"""Which records a ReadRange gets (15.8), on a buffer whose record n has sequence number n."""

from __future__ import annotations

from bms_bridge.bacnet.trend_log import MAX_ITEMS, Window, time_window, window


def test_positive_and_negative_counts_around_a_reference() -> None:
    assert window(30, 1, 5) == Window(0, 5, 30)  # records 1..5
    assert window(30, 30, -3) == Window(27, 3, 30)  # records 28..30
    assert window(30, 28, 10) == Window(27, 3, 30)  # only 3 after 28: no more to say
    assert window(30, 2, -5) == Window(0, 2, 30)
    assert window(30, 31, 1).count == window(30, 0, 1).count == window(30, 5, 0).count == 0


def test_a_large_request_is_capped_nearest_the_reference_with_more_items() -> None:
    ahead = window(500, 1, 250)
    assert (ahead.offset, ahead.count, ahead.result_flags) == (0, MAX_ITEMS, [1, 0, 1])  # first, -, more
    behind = window(500, 500, -250)
    assert (behind.offset, behind.count, behind.result_flags) == (500 - MAX_ITEMS, MAX_ITEMS, [0, 1, 1])


def test_by_time_counts_records_after_or_before_the_reference() -> None:
    # 30 records; 20 stamped at or before the reference time, 19 strictly before it
    assert time_window(30, 20, 19, 2) == Window(20, 2, 30)  # records 21, 22
    assert time_window(30, 20, 19, -2) == Window(17, 2, 30)  # records 18, 19
    assert time_window(30, 30, 30, 5).count == 0  # nothing newer
    assert time_window(30, 0, 0, -5).count == 0  # nothing older
