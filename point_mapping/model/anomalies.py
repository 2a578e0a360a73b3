"""Thresholds of the anomaly rules (leaks, after-hours load, meter health), overridable under `anomalies:`.

Each default is explained in docs/anomalies.md; the rules in `metering.anomalies` read this model directly.
"""

from __future__ import annotations

from datetime import time, timedelta

from pydantic import Field, PositiveFloat, model_validator

from point_mapping.model.common import Duration, Frozen, Id
from point_mapping.model.tariffs import TimeWindow


def _office_hours() -> list[TimeWindow]:
    return [TimeWindow.model_validate({"days": ["weekdays"], "from": "07:00", "to": "19:00"})]


class NightFlowRule(Frozen):
    """Minimum night flow: a water point that never stops flowing during the night is leaking."""

    enabled: bool = True
    # 01:00-04:00 local: the restaurant and the gym have closed, cleaning has finished, nobody showers yet
    window_start: time = Field(default=time(1), alias="from")
    window_end: time = Field(default=time(4), alias="to")
    # a dripping tap is 1-3 L/h, a running cistern 10-30 L/h; 6 L/h is more than one 1-L pulse per quarter hour
    min_flow_l_per_h: PositiveFloat = 6.0
    nights: int = Field(default=3, ge=1, description="consecutive leaking nights before a leak is reported")
    # a night with fewer measured quarter hours is not judged: spread (estimated) values look like a flow
    min_coverage: float = Field(default=0.8, gt=0, le=1)
    expected_flow_l_per_h: dict[Id, float] = Field(
        default_factory=dict, description="points with a legitimate continuous night flow (L/h), e.g. a make-up valve"
    )

    @model_validator(mode="after")
    def _window(self) -> NightFlowRule:
        if self.window_start == self.window_end:
            raise ValueError("the night window is empty: give different 'from' and 'to'")
        return self


class AfterHoursRule(Frozen):
    """Electricity of a tenant outside its lease or occupancy hours, against its own past and its peers."""

    enabled: bool = True
    working_hours: list[TimeWindow] = Field(
        default_factory=_office_hours, description="occupancy of a contract that names none"
    )
    # a week is judged against the `reference_weeks` before it (own trend) and against peers of the same use
    reference_weeks: int = Field(default=4, ge=1)
    trend_factor: PositiveFloat = Field(default=1.5, description="after-hours share above own past x this")
    peer_factor: PositiveFloat = Field(default=2.0, description="after-hours W/m² above the peers' median x this")
    min_peers: int = Field(default=3, ge=1, description="fewer peers of the same use: no ranking")
    min_after_hours_w_per_m2: float = Field(default=1.0, ge=0, description="below this nothing is worth reporting")


class MeterHealthRule(Frozen):
    """Stuck meters, communication gaps, main meters against their sub-meters, and device clocks."""

    enabled: bool = True
    stuck_after: Duration = Field(default=timedelta(hours=4), description="no change while the parent draws")
    # a point counts as normally drawing in an hour of the week when it drew in this share of those hours
    usually_drawing: float = Field(default=0.95, gt=0, le=1)
    reference: Duration = Field(default=timedelta(days=28), description="history that says what is usual")
    gap_after: Duration = Field(default=timedelta(hours=1), description="missing or spread data this long")
    balance_tolerance_pct: float = Field(default=5.0, gt=0, description="sub-meters above main by more than this")
    max_unmetered_pct: dict[Id, float] = Field(
        default_factory=dict, description="main point -> most of it its sub-meters may leave unmetered a day (%)"
    )
    # a reading stamped 2 min off lands in the wrong quarter hour 13 % of the time, or the wrong tariff zone
    clock_tolerance: Duration = Field(default=timedelta(minutes=2), description="device time off the bridge's by more")
    clock_min_samples: int = Field(default=3, ge=1, description="messages a day needed to judge its clock")


class AnomalyRules(Frozen):
    enabled: bool = True
    lookback: Duration = Field(default=timedelta(days=14), description="what the periodic run judges")
    refresh: Duration = Field(default=timedelta(hours=1), description="how often the service runs the rules")
    night_flow: NightFlowRule = Field(default_factory=NightFlowRule)
    after_hours: AfterHoursRule = Field(default_factory=AfterHoursRule)
    meter_health: MeterHealthRule = Field(default_factory=MeterHealthRule)
