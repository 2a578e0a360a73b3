"""A tenant's statement for one period: lines, and totals that are sums of the rounded lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from billing_export.money import ZERO


class LineKind(StrEnum):
    ENERGY = "energy"  # a metering point's consumption in one tariff zone
    ALLOCATION = "allocation"  # a share of a common-area pool
    FEE = "fee"  # fixed monthly charge, prorated by days
    DEMAND = "demand"  # highest 15-minute average kW of the period
    CORRECTION = "correction"  # late or corrected data of an issued period


class StatementState(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    EXPORTED = "exported"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class StatementLine:
    kind: LineKind
    description: str
    resource: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net: Decimal  # rounded once, half-up to the minor unit
    vat_percent: Decimal
    vat: Decimal  # rounded once, from `net`
    point_id: str | None = None
    meter_serial: str | None = None
    zone: str | None = None
    opening: Decimal | None = None  # register reading at the start of the billed span
    closing: Decimal | None = None  # register reading at its end
    share_percent: Decimal = Decimal(100)  # of the point billed to this contract
    estimated_percent: Decimal = ZERO  # of `quantity` from estimated, manual or corrected intervals
    basis: str = ""  # allocation basis, proration, demand interval, meter exchange
    refers_to: str | None = None  # statement id a correction line corrects

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class Statement:
    site: str
    contract: str
    tenant: str
    billing_account: str
    period: str  # YYYY-MM
    currency: str
    lines: tuple[StatementLine, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return f"{self.site}:{self.period}:{self.contract}"

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((line.vat for line in self.lines), ZERO)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat
