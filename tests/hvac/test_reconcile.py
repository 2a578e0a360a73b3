from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from metering.events import Condition, reconcile
from metering.trends import TrendKind, TrendSample

T0 = datetime(2024, 10, 7, 8, tzinfo=UTC)


def _condition(key: str, ended: datetime | None = None) -> Condition:
    return Condition(key=key, kind="hvac.x", subject="ahu-a", title="t", started_at=T0, ended_at=ended)


def test_reconcile_opens_updates_and_closes() -> None:
    now = T0 + timedelta(hours=3)
    result = reconcile(
        ["still", "gone", "ends"],
        [_condition("new"), _condition("still"), _condition("ends", T0 + timedelta(hours=2))],
        now,
    )
    assert [c.key for c in result.open] == ["new"]
    assert [c.key for c in result.update] == ["still", "ends"]
    assert result.close == (("ends", T0 + timedelta(hours=2)), ("gone", now))


def test_condition_and_trend_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="ends before"):
        _condition("k", T0 - timedelta(seconds=1))
    with pytest.raises(ValueError, match="binary"):
        TrendSample("p", T0, TrendKind.BINARY, 0.5)
    with pytest.raises(ValueError, match="multistate"):
        TrendSample("p", T0, TrendKind.MULTISTATE, 0.0)
