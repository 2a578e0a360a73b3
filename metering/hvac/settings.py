"""Rule thresholds, with defaults from the literature (see docs/hvac-rules.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RuleSettings:
    # NIST APAR (House et al. 2001): a valve or damper counts as open above ε = 2 % of its travel
    valve_open_pct: float = 2.0
    # APAR reports a rule only when it persists 60 min; G36's AlarmDelay is 30 min
    persistence: timedelta = timedelta(minutes=60)
    # heating and cooling setpoints closer than this fight each other (a dead band of at least 1 K)
    min_deadband_k: float = 1.0
    # APAR: more than 7 mode switches an hour is hunting
    max_mode_switches_per_hour: int = 7
    # a sample older than this does not describe the instant: the rule is suspended, not judged
    max_sample_age: timedelta = timedelta(minutes=20)
    # the economiser damper counts as open above the minimum outdoor-air position plus ε
    min_outdoor_air_pct: float = 20.0
    # a heat or cooling meter counts as active in an hour when it uses more than this share of its peak
    # hour in the data at hand (no source gives a figure; 10 % sits above a circuit's standing losses)
    meter_active_pct: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.valve_open_pct < 50:
            raise ValueError("valve_open_pct must be between 0 and 50 %")
        if self.persistence < timedelta(0) or self.max_sample_age <= timedelta(0):
            raise ValueError("persistence and max_sample_age must be positive")
        if not 0 < self.meter_active_pct < 100:
            raise ValueError("meter_active_pct must be between 0 and 100 %")
        if self.max_mode_switches_per_hour < 1:
            raise ValueError("max_mode_switches_per_hour must be at least 1")
