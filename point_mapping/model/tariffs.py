"""Tariffs: a price per unit by tariff zone (time-of-use windows), plus fixed, demand and VAT terms.

A tariff is either one set of terms in force forever (`zones`, charges at the top level) or a list of
`versions`, each in force from a local date/time. Consistency across zones and versions (gaps,
overlaps, quarter-hour boundaries) is checked in `point_mapping.tariff_checks` so each problem points
at the window or version that needs fixing.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Literal

from pydantic import Field, NonNegativeInt, field_validator, model_validator

from point_mapping.model.billing_export import delivery_url_problem
from point_mapping.model.common import Frozen, Id, UnitSymbol
from point_mapping.model.meters import Resource

DayKind = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekdays", "weekend", "holidays"]

# Money and rates are Decimal from the YAML text on (pydantic converts a YAML float via its repr).
Price = Decimal


class TimeWindow(Frozen):
    days: list[DayKind] = Field(min_length=1)
    start: time = Field(alias="from")
    end: time = Field(alias="to", description="exclusive; 00:00 means midnight at the end of the day")

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end != time(0) and self.end <= self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start}); split it at midnight")
        return self


class TariffZone(Frozen):
    id: Id
    name: str = ""
    price: Price | None = Field(default=None, ge=0, description="currency per tariff unit; none: from prices_csv")
    windows: list[TimeWindow] = Field(default_factory=list, description="empty: the default zone")


class TariffTerms(Frozen):
    """What a tariff charges while one version is in force."""

    zones: list[TariffZone] = Field(default_factory=list)
    standing_charge_per_month: Price = Field(default=Decimal(0), ge=0, description="prorated by days")
    demand_charge_per_kw: Price = Field(default=Decimal(0), ge=0, description="on the max 15-min kW of the month")
    vat_percent: Decimal = Field(default=Decimal(0), ge=0, le=100)
    prices_csv: str | None = Field(
        default=None, description="dynamic prices: CSV 'start,zone,price' relative to the site folder"
    )
    prices_url: str | None = Field(
        default=None,
        description="dynamic prices: an HTTPS source of day-ahead prices per zone, fetched before a close",
    )

    @property
    def dynamic(self) -> bool:
        """Zone prices come from a price table (CSV or HTTP source), not from the zones."""
        return self.prices_csv is not None or self.prices_url is not None

    @field_validator("prices_url")
    @classmethod
    def _fetchable(cls, value: str | None) -> str | None:
        problem = None if value is None else delivery_url_problem(value)
        if problem is not None:
            raise ValueError(
                problem.replace(
                    "'https://billing.example.com/api/statements'", "'https://prices.example.com/day-ahead'"
                )
            )
        return value

    @model_validator(mode="after")
    def _zones_priced(self) -> TariffTerms:
        defaults = [zone.id for zone in self.zones if not zone.windows]
        if len(defaults) > 1:
            raise ValueError(f"a tariff has at most one zone without windows (the default), found {defaults}")
        if self.prices_csv is not None and self.prices_url is not None:
            raise ValueError("give either prices_csv or prices_url, not both")
        if not self.dynamic:
            unpriced = [zone.id for zone in self.zones if zone.price is None]
            if unpriced:
                raise ValueError(f"zones {unpriced} have no price and the tariff has no prices_csv or prices_url")
        return self


class TariffVersion(TariffTerms):
    effective_from: datetime = Field(alias="from", description="local time of the site; a date means 00:00")
    effective_to: datetime | None = Field(default=None, alias="to", description="exclusive; default: next version")

    @model_validator(mode="after")
    def _naive_local(self) -> TariffVersion:
        for moment in (self.effective_from, self.effective_to):
            if moment is not None and moment.tzinfo is not None:
                raise ValueError("give tariff version times in the site's local time, without an offset")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError(f"version ends ({self.effective_to}) before it starts ({self.effective_from})")
        return self


class Tariff(TariffTerms):
    id: Id
    name: str = ""
    resource: Resource
    unit: UnitSymbol
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="default: the site's")
    versions: list[TariffVersion] = Field(default_factory=list)
    minor_unit_digits: NonNegativeInt | None = Field(default=None, le=4, description="default: ISO 4217")

    @model_validator(mode="after")
    def _terms_or_versions(self) -> Tariff:
        if self.versions and self.zones:
            raise ValueError("give either 'zones' (one set of terms) or 'versions', not both")
        if not self.versions and not self.zones:
            raise ValueError("a tariff needs 'zones' or 'versions'")
        return self

    def terms(self) -> list[tuple[datetime | None, datetime | None, TariffTerms]]:
        """(from, to, terms) in local time, oldest first; None means open-ended."""
        if not self.versions:
            return [(None, None, self)]
        ordered = sorted(self.versions, key=lambda v: v.effective_from)
        result: list[tuple[datetime | None, datetime | None, TariffTerms]] = []
        for i, version in enumerate(ordered):
            following = ordered[i + 1].effective_from if i + 1 < len(ordered) else None
            result.append((version.effective_from, version.effective_to or following, version))
        return result
