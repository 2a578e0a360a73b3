"""The compact value encoding: a value is scaled to a whole number only where that is exact."""

from __future__ import annotations

from metering.store.codes import compact, compact_many, value_of

SCALE_SHIFT = 3


def test_decimals_become_whole_numbers_and_the_rest_stays_as_it_is() -> None:
    values = [1234.56, 0.1, -3.25, 123456789.123, 7.0, 0.30000000000000004, 1 / 3, 1e-9, float("inf")]
    expected = [
        (123456.0, 2),
        (1.0, 1),
        (-325.0, 2),
        (123456789123.0, 3),
        (7.0, 0),  # whole already: SQLite stores it compactly as it is
        (0.30000000000000004, 0),  # 0.3 would be another float
        (1 / 3, 0),
        (1e-9, 0),
        (float("inf"), 0),
    ]
    assert [compact(v) for v in values] == expected
    stored, scales = compact_many(values)
    assert list(zip(stored, scales, strict=True)) == expected
    assert [value_of(v, s << SCALE_SHIFT) for v, s in expected] == values
