"""Energy-saving measures, the baseline settings that judge them, and CO2e emission factors.

A measure is recorded as what was done and from when (`measures:`); the savings are measured, never
declared: `metering.savings` fits a baseline on the days before `date` and compares the days after.
Emission factors are the integrator's (`emission_factors:`): location-based grid and supply factors
per resource and year, with the source they come from. There are no defaults.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import timedelta
from typing import Literal

from pydantic import Field, PositiveFloat, model_validator

from point_mapping.model.common import Duration, Frozen, Id
from point_mapping.model.meters import Resource

MeasureScope = Literal["points", "tenants", "building"]


class Measure(Frozen):
    """One energy-saving measure: what was done, where, and the first day it was in effect."""

    id: Id
    date: Date = Field(description="first day (site time) the measure is in effect")
    scope: MeasureScope
    points: list[Id] = Field(default_factory=list, description="scope points: the metering points it affects")
    tenants: list[Id] = Field(default_factory=list, description="scope tenants: their contracts' own points")
    building: Id | None = Field(default=None, description="scope building: the building's main points")
    resource: Resource | None = Field(default=None, description="the resource judged; default: every one in scope")
    description: str = Field(min_length=1)
    expected_saving_pct: float | None = Field(
        default=None, gt=0, lt=100, description="what the supplier promised; shown beside the measured saving"
    )

    @model_validator(mode="after")
    def _scope_given(self) -> Measure:
        given = {"points": bool(self.points), "tenants": bool(self.tenants), "building": self.building is not None}
        if not given[self.scope]:
            what = "a building id" if self.scope == "building" else f"a list of {self.scope}"
            raise ValueError(f"scope '{self.scope}' needs '{self.scope}': {what}")
        others = [name for name, present in given.items() if present and name != self.scope]
        if others:
            raise ValueError(f"scope '{self.scope}' takes no '{others[0]}'")
        return self


class OutdoorTemperature(Frozen):
    """Where the daily mean outdoor temperature comes from: a BMS trend or a weather station's CSV."""

    bms_point: Id | None = Field(default=None, description="a bms_points id trending the outside air (degC)")
    csv: str | None = Field(
        default=None, description="a CSV 'date,mean_temperature_c' (one row a day), relative to the site folder"
    )

    @model_validator(mode="after")
    def _one_source(self) -> OutdoorTemperature:
        if (self.bms_point is None) == (self.csv is None):
            raise ValueError("give either 'bms_point' or 'csv' as the outdoor temperature source")
        return self


class SavingsSettings(Frozen):
    """How baselines are fitted and judged; every default is explained in docs/savings.md."""

    outdoor_temperature: OutdoorTemperature | None = None
    # 15 degC: the heating limit of a well-insulated office (VDI 4710's Heizgrenztemperatur); 18 degC
    # for cooling: the demo chiller starts there. Both are settings: fit them to the building.
    heating_base_c: float = 15.0
    cooling_base_c: float = 18.0
    baseline_days: int = Field(default=365, ge=14, description="days before a measure the baseline is fitted on")
    forecast_refresh: Duration | None = Field(
        default=timedelta(hours=6), description="how often the service flags forecast deviations; null: never"
    )
    forecast_baseline_days: int = Field(
        default=180, ge=14, description="days before the month a forecast's baseline is fitted on"
    )
    min_baseline_days: int = Field(default=60, ge=7, description="fewer measured days: no baseline")
    min_day_coverage: float = Field(
        default=0.9, gt=0, le=1, description="a day with less measured (not estimated) data is left out of the fit"
    )
    # ASHRAE Guideline 14-2014, 5.3.2.4: for daily data (it states monthly and hourly limits; daily
    # follows the hourly ones in common practice) CV(RMSE) <= 30 % and |NMBE| <= 10 %
    max_cv_rmse_pct: PositiveFloat = 30.0
    max_abs_nmbe_pct: PositiveFloat = 10.0
    confidence: float = Field(default=0.90, gt=0.5, lt=1, description="level of the savings' uncertainty")
    # a day outside its 99 % interval: about 3 false alarms a year per subject, not 3 a month
    deviation_confidence: float = Field(default=0.99, gt=0.5, lt=1, description="forecast-deviation interval")


class EmissionFactor(Frozen):
    """kg CO2e per billing unit (kWh, m3) of one resource in one year, location-based."""

    resource: Resource
    year: int = Field(ge=2000, le=2100)
    kg_co2e_per_unit: float = Field(ge=0)
    source: str = Field(min_length=1, description="where the factor comes from, printed in the report")
