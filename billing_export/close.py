"""One statement per contract for a period, from the site model and the period's intervals.

Pure apart from reading intervals through `IntervalSource`: the same intervals give the same
statements, which is what makes closing a period twice idempotent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing_export.allocation import Reconciliation, allocate, pool_slots, reconcile, tenant_points
from billing_export.money import PRICE_STEP, ZERO, quantity, round_money, vat_of
from billing_export.period import Period, occupancy, occupied_days
from billing_export.pricing import (
    DynamicPrices,
    PricingError,
    Slot,
    SpanPrice,
    ZoneUsage,
    price_at,
    price_changes,
    price_slots,
    price_spans,
)
from billing_export.source import IntervalSource, registers_at, replacements_of, span_sums
from billing_export.statement import LineKind, Statement, StatementLine
from billing_export.tariff_calendar import TariffCalendar, public_holidays
from metering.exchanges import MeterExchange
from metering.progress import Progress, Steps
from metering.quanta import QUANTUM_PLACES, SpanSum, to_quanta
from metering.readings import Reading
from point_mapping.model import Contract, SiteModel, Tariff
from point_mapping.model.meters import Resource

SLOTS_PER_HOUR = 4


@dataclass(frozen=True)
class CloseResult:
    statements: tuple[Statement, ...]
    reconciliations: tuple[Reconciliation, ...]


def calendar_for(site: SiteModel, period: Period) -> TariffCalendar:
    years = {period.year - 1, period.year, period.year + 1}  # local days near New Year
    return TariffCalendar(
        period.zone, public_holidays(site.site.holidays_country, site.site.holidays_subdivision, years)
    )


async def load_slots(
    source: IntervalSource, point_ids: set[str], start: datetime, end: datetime
) -> dict[str, list[Slot]]:
    """Each point's intervals as slots, each value taken in quanta of 10^-9 like `span_sums` adds them."""
    result = {}
    for point_id in sorted(point_ids):
        intervals = await source.intervals(point_id, start, end)
        result[point_id] = [
            Slot(i.start, Decimal(to_quanta(i.value)).scaleb(-QUANTUM_PLACES), i.quality) for i in intervals
        ]
    return result


def demand_points(site: SiteModel, contracts: Sequence[Contract]) -> set[str]:
    """Electricity points of contracts whose electricity tariff has a demand charge (priced per slot)."""
    result = set()
    for contract in contracts:
        tariff_id = contract.tariffs.get(Resource.ELECTRICITY)
        if tariff_id is None:
            continue
        if any(terms.demand_charge_per_kw for _, _, terms in site.tariff_by_id[tariff_id].terms()):
            result |= {
                part.point
                for part in contract.points
                if site.resource_of(site.point_by_id[part.point]) == Resource.ELECTRICITY
            }
    return result


async def close_period(
    site: SiteModel,
    period: Period,
    source: IntervalSource,
    dynamic: Mapping[str, DynamicPrices] | None = None,
    progress: Progress | None = None,
) -> CloseResult:
    """Statements of every contract in force in `period`, and the reconciliation of every pool.
    `progress` hears one step per contract in force (N contracts: N steps)."""
    calendar = calendar_for(site, period)
    spans = {c.id: span for c in site.contracts if (span := occupancy(c, period)) is not None}
    steps = Steps(progress, len(spans), f"closing {period}")
    pool_points = {p for pool in site.common_pools for p in (pool.main, *pool.common_points, *pool.submeters)}
    in_force = [c for c in site.contracts if c.id in spans]
    needed = {cp.point for c in in_force for cp in c.points} | pool_points
    # pools and demand are judged quarter hour by quarter hour; all else is priced from sums per span
    slots = await load_slots(source, pool_points | demand_points(site, in_force), period.start, period.end)
    dynamic = dynamic or {}
    tariffs = [site.tariff_by_id[t] for t in sorted({t for c in in_force for t in c.tariffs.values()})]
    cuts = price_changes(tariffs, calendar, dynamic, period.start, period.end)
    bounds = sorted(cuts | {period.start, period.end} | {at for span in spans.values() for at in span})
    sums = await span_sums(source, sorted(needed), bounds)
    prices = {t.id: [price_at(t, calendar, dynamic.get(t.id), at) for at in bounds[:-1]] for t in tariffs}
    registered = {cp.point for c in in_force for cp in c.points if site.point_by_id[cp.point].meter is not None}
    registers = {
        at: await registers_at(source, sorted(registered), at)
        for at in sorted({at for s in spans.values() for at in s})
    }
    meters = sorted({m for p in registered if (m := site.point_by_id[p].meter) is not None})
    exchanges = await replacements_of(source, meters)
    builder = _Builder(site, period, calendar, source, dynamic, prices, bounds, registers, exchanges)

    lines: dict[str, list[StatementLine]] = defaultdict(list)
    own: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)  # (contract, point) -> billed quantity
    for contract in in_force:
        span = spans[contract.id]
        first, last = bounds.index(span[0]), bounds.index(span[1])
        for part in contract.points:
            share = Decimal(repr(part.share))
            usage = await builder.usage(contract, part.point, share, span, sums[part.point][first:last])
            own[(contract.id, part.point)] = sum((entry.quantity for entry in usage), ZERO)
            lines[contract.id] += await builder.energy_lines(contract, part.point, share, span, usage)
        lines[contract.id] += builder.demand_lines(contract, span, slots)
        steps.step()

    reconciliations = []
    for pool in site.common_pools:
        series = pool_slots(pool, slots)
        members = tenant_points(site, pool)
        metered = {c: sum((q for (c2, p), q in own.items() if c2 == c and p in members), ZERO) for c in spans}
        allocated = ZERO
        for allocation in allocate(site, pool, series, spans, metered):
            contract = next(c for c in site.contracts if c.id == allocation.contract)
            allocated += sum((s.quantity for s in allocation.slots), ZERO)
            lines[contract.id] += builder.allocation_lines(
                contract, pool.id, pool.resource, allocation.slots, allocation.basis
            )
        billed = sum((q for (_, p), q in own.items() if p in members), ZERO)
        reconciliations.append(reconcile(pool, pool.resource.billing_unit, slots.get(pool.main, []), billed, allocated))

    statements = []
    for contract in site.contracts:
        if contract.id not in spans:
            continue
        contract_lines = lines[contract.id] + builder.fee_lines(contract, spans[contract.id])
        tenant = site.tenant_by_id[contract.tenant]
        statements.append(
            Statement(
                site.site.id,
                contract.id,
                tenant.id,
                tenant.billing_account,
                str(period),
                site.site.currency,
                tuple(contract_lines),
            )
        )
    steps.finish()
    return CloseResult(tuple(statements), tuple(reconciliations))


@dataclass
class _Builder:
    site: SiteModel
    period: Period
    calendar: TariffCalendar
    source: IntervalSource
    dynamic: Mapping[str, DynamicPrices]
    prices: Mapping[str, Sequence[SpanPrice | None]]  # per tariff, from each of `bounds` but the last
    bounds: Sequence[datetime]
    registers: Mapping[datetime, Mapping[str, Reading]]  # at each span's start and end: opening, closing
    exchanges: Mapping[str, Sequence[MeterExchange]]  # per meter of a contract's point

    async def usage(
        self,
        contract: Contract,
        point_id: str,
        share: Decimal,
        span: tuple[datetime, datetime],
        sums: Sequence[SpanSum | None],
    ) -> list[ZoneUsage]:
        """The point's usage per (version, zone) in `span` at `share` percent, from its sums per span."""
        tariff = self.tariff(contract, self.site.resource_of(self.site.point_by_id[point_id]))
        first, last = self.bounds.index(span[0]), self.bounds.index(span[1])
        usage = price_spans(sums, self.prices[tariff.id][first:last], share, tariff)
        if usage is not None:
            return usage
        # a quarter hour without a version or a price: the slot-by-slot pricing names it
        mine = (await load_slots(self.source, {point_id}, span[0], span[1]))[point_id]
        parts = [Slot(s.start, s.quantity * share / 100, s.quality) for s in mine]
        return price_slots(parts, tariff, self.calendar, self.dynamic.get(tariff.id))

    def tariff(self, contract: Contract, resource: Resource) -> Tariff:
        tariff_id = contract.tariffs.get(resource)
        if tariff_id is None:
            raise PricingError(f"contract {contract.id} bills {resource.value} but names no tariff for it")
        return self.site.tariff_by_id[tariff_id]

    def currency(self, tariff: Tariff) -> tuple[str, int | None]:
        return tariff.currency or self.site.site.currency, tariff.minor_unit_digits

    def zone_lines(
        self, kind: LineKind, tariff: Tariff, usage: Sequence[ZoneUsage], description: str, **extra: object
    ) -> list[StatementLine]:
        currency, digits = self.currency(tariff)
        result = []
        for entry in usage:
            qty = quantity(entry.quantity)
            if entry.fixed_price is not None:
                unit_price, net = entry.fixed_price, round_money(qty * entry.fixed_price, currency, digits)
            else:
                unit_price = (entry.cost / entry.quantity).quantize(PRICE_STEP) if entry.quantity else ZERO
                net = round_money(entry.cost, currency, digits)
            estimated = (entry.not_measured * 100 / entry.quantity).quantize(Decimal("0.1")) if entry.quantity else ZERO
            zone_name = next(z.name or z.id for z in entry.terms.zones if z.id == entry.zone)
            result.append(
                StatementLine(
                    kind=kind,
                    description=f"{description}, {zone_name}",
                    resource=tariff.resource.value,
                    quantity=qty,
                    unit=tariff.unit,
                    unit_price=unit_price,
                    net=net,
                    vat_percent=entry.terms.vat_percent,
                    vat=vat_of(net, entry.terms.vat_percent, currency, digits),
                    zone=entry.zone,
                    estimated_percent=estimated,
                    **extra,  # type: ignore[arg-type]
                )
            )
        return result

    async def energy_lines(
        self, contract: Contract, point_id: str, share: Decimal, span: tuple[datetime, datetime], usage: list[ZoneUsage]
    ) -> list[StatementLine]:
        point = self.site.point_by_id[point_id]
        tariff = self.tariff(contract, self.site.resource_of(point))
        serial, opening, closing, basis = None, None, None, ""
        if point.meter is not None:
            meter = self.site.meter_by_id[point.meter]
            serial = meter.serial or None
            first, last = self.registers[span[0]].get(point_id), self.registers[span[1]].get(point_id)
            opening = quantity(first.value) if first is not None else None
            closing = quantity(last.value) if last is not None else None
            exchanges = [r for r in self.exchanges[meter.id] if span[0] <= r.ts < span[1]]
            basis = "; ".join(
                f"meter exchanged {r.ts.astimezone(self.period.zone):%Y-%m-%d %H:%M}: "
                f"old final {quantity(r.old_final)}, new initial {quantity(r.new_initial)}"
                for r in exchanges
            )
        description = f"{point.name or point.id}" + (f" ({share} %)" if share != 100 else "")
        return self.zone_lines(
            LineKind.ENERGY, tariff, usage, description,
            point_id=point_id, meter_serial=serial, opening=opening, closing=closing, share_percent=share, basis=basis,
        )  # fmt: skip

    def allocation_lines(
        self, contract: Contract, pool_id: str, resource: Resource, parts: Sequence[Slot], basis: str
    ) -> list[StatementLine]:
        tariff = self.tariff(contract, resource)
        usage = price_slots(parts, tariff, self.calendar, self.dynamic.get(tariff.id))
        return self.zone_lines(
            LineKind.ALLOCATION, tariff, usage, f"Common areas {pool_id}", point_id=pool_id, basis=basis
        )

    def fee_lines(self, contract: Contract, span: tuple[datetime, datetime]) -> list[StatementLine]:
        """Each standing charge of the contract's tariffs × occupied days / days in the month."""
        result = []
        for tariff_id in sorted(set(contract.tariffs.values())):
            tariff = self.site.tariff_by_id[tariff_id]
            currency, digits = self.currency(tariff)
            for start, end, terms in tariff.terms():
                if not terms.standing_charge_per_month:
                    continue
                lo = max(span[0], self.calendar.local_instant(start)) if start else span[0]
                hi = min(span[1], self.calendar.local_instant(end)) if end else span[1]
                if lo >= hi:
                    continue
                days = occupied_days((lo, hi), self.period)
                net = round_money(terms.standing_charge_per_month * days / self.period.days, currency, digits)
                result.append(
                    StatementLine(
                        kind=LineKind.FEE,
                        description=f"{tariff.name or tariff.id}: standing charge",
                        resource=tariff.resource.value,
                        quantity=days.quantize(Decimal("0.0001")),
                        unit="d",
                        unit_price=terms.standing_charge_per_month,
                        net=net,
                        vat_percent=terms.vat_percent,
                        vat=vat_of(net, terms.vat_percent, currency, digits),
                        basis=f"{days.quantize(Decimal('0.0001'))} of {self.period.days} days",
                    )
                )
        return result

    def demand_lines(
        self, contract: Contract, span: tuple[datetime, datetime], slots: Mapping[str, Sequence[Slot]]
    ) -> list[StatementLine]:
        """The highest 15-minute average kW of the contract's own electricity points (shares applied)."""
        tariff_id = contract.tariffs.get(Resource.ELECTRICITY)
        if tariff_id is None:
            return []
        tariff = self.site.tariff_by_id[tariff_id]
        if not any(terms.demand_charge_per_kw for _, _, terms in tariff.terms()):
            return []
        combined: dict[datetime, Decimal] = defaultdict(lambda: ZERO)
        for part in contract.points:
            point = self.site.point_by_id[part.point]
            if self.site.resource_of(point) != Resource.ELECTRICITY:
                continue
            for slot in slots[part.point]:
                if span[0] <= slot.start < span[1]:
                    combined[slot.start] += slot.quantity * Decimal(repr(part.share)) / 100
        if not combined:
            return []
        # the earliest of equal peaks, so the named interval does not depend on dict order
        peak_start = min(combined, key=lambda start: (-combined[start], start))
        kw = quantity(combined[peak_start] * SLOTS_PER_HOUR)
        found = self.calendar.version_at(tariff, peak_start)
        if found is None:
            raise PricingError(f"tariff {tariff.id} has no version in force at {peak_start.isoformat()}")
        terms = found[1]
        currency, digits = self.currency(tariff)
        net = round_money(kw * terms.demand_charge_per_kw, currency, digits)
        local = peak_start.astimezone(self.period.zone)
        return [
            StatementLine(
                kind=LineKind.DEMAND,
                description=f"{tariff.name or tariff.id}: demand charge",
                resource=tariff.resource.value,
                quantity=kw,
                unit="kW",
                unit_price=terms.demand_charge_per_kw,
                net=net,
                vat_percent=terms.vat_percent,
                vat=vat_of(net, terms.vat_percent, currency, digits),
                basis=f"peak 15-min interval from {local.isoformat()}",
            )
        ]
