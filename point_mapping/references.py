"""Checks across the site model: duplicate ids, dangling references, bus collisions, shares, cycles.

Each check returns problems located at the YAML node that needs fixing; duplicates and dangling
references are errors, never warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta

from point_mapping.errors import SiteProblem
from point_mapping.formula import CycleError, Formula, FormulaError, evaluation_order, parse_formula
from point_mapping.locator import Locator
from point_mapping.model import (
    LpwanConnection,
    MeterProfile,
    ModbusRtuConnection,
    ModbusTcpConnection,
    SiteModel,
)
from point_mapping.model.meters import Resource
from point_mapping.model.tenants import Contract
from point_mapping.registers import point_measure, registers_of
from point_mapping.savings_checks import check_savings
from point_mapping.tariff_checks import check_tariffs
from point_mapping.units import Quantity, unit_info

Path = tuple[str | int, ...]

_RESOURCE_QUANTITIES: dict[Resource, frozenset[Quantity]] = {
    Resource.ELECTRICITY: frozenset({Quantity.ENERGY}),
    Resource.HEAT: frozenset({Quantity.ENERGY}),
    Resource.COOLING: frozenset({Quantity.ENERGY}),
    Resource.COLD_WATER: frozenset({Quantity.VOLUME}),
    Resource.HOT_WATER: frozenset({Quantity.VOLUME}),
    Resource.GAS: frozenset({Quantity.VOLUME, Quantity.ENERGY}),
}
# reactive and apparent energy totals come with electricity meters of any resource's installation
_ANY_RESOURCE = frozenset({Quantity.REACTIVE_ENERGY, Quantity.APPARENT_ENERGY})


def check_references(site: SiteModel, at: Locator, profiles: Mapping[str, MeterProfile]) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    problems += _duplicates(site, at)
    problems += _devices(site, at, profiles)
    problems += _meters(site, at)
    problems += _points(site, at, profiles)
    problems += _contracts(site, at)
    problems += check_tariffs(site, at)
    problems += _bms(site, at)
    problems += _anomalies(site, at)
    problems += check_savings(site, at)
    return problems


def _unique(at: Locator, kind: str, items: Iterable[tuple[str, Path]], problems: list[SiteProblem]) -> None:
    seen: dict[str, Path] = {}
    for item_id, path in items:
        if item_id in seen:
            problems.append(
                at.problem(path, f"duplicate {kind} id '{item_id}' (first defined at {at.at(*seen[item_id])})")
            )
        else:
            seen[item_id] = path


def _indexed(section: str, items: Sequence[object]) -> list[tuple[str, Path]]:
    return [(getattr(item, "id"), (section, i, "id")) for i, item in enumerate(items)]  # noqa: B009


def _duplicates(site: SiteModel, at: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    for section in ("buses", "devices", "meters", "points", "tenants", "contracts", "tariffs", "profiles"):
        kind = "bus" if section == "buses" else section.removesuffix("s")
        _unique(at, kind, _indexed(section, getattr(site, section)), problems)
    _unique(at, "building", _indexed("buildings", site.buildings), problems)
    floors, spaces = [], []
    for b, building in enumerate(site.buildings):
        for f, floor in enumerate(building.floors):
            floors.append((floor.id, ("buildings", b, "floors", f, "id")))
            for s, space in enumerate(floor.spaces):
                spaces.append((space.id, ("buildings", b, "floors", f, "spaces", s, "id")))
    _unique(at, "floor", floors, problems)
    _unique(at, "space", spaces, problems)
    _unique(at, "BMS device", _indexed("bms_devices", site.bms_devices), problems)
    _unique(at, "BMS point", _indexed("bms_points", site.bms_points), problems)
    return problems


def _devices(site: SiteModel, at: Locator, profiles: Mapping[str, MeterProfile]) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    addresses: dict[tuple[object, ...], str] = {}
    for i, device in enumerate(site.devices):
        conn = device.connection
        key: tuple[object, ...] | None = None
        if isinstance(conn, ModbusRtuConnection):
            if conn.bus not in site.bus_by_id:
                problems.append(at.problem(("devices", i, "connection", "bus"), f"unknown bus '{conn.bus}'"))
            key = ("bus", conn.bus, conn.unit)
        elif isinstance(conn, ModbusTcpConnection):
            key = ("tcp", conn.host, conn.port, conn.unit)
        elif isinstance(conn, LpwanConnection):
            key = ("lpwan", conn.eui)
        if key is not None:
            if key in addresses:
                where = "bus and unit id" if key[0] == "bus" else "address"
                problems.append(
                    at.problem(
                        ("devices", i, "connection"),
                        f"device '{device.id}' has the same {where} as device '{addresses[key]}'",
                    )
                )
            else:
                addresses[key] = device.id
        if device.profile is not None and device.profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            problems.append(
                at.problem(("devices", i, "profile"), f"unknown profile '{device.profile}'; known: {known}")
            )
    return problems


def _meters(site: SiteModel, at: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    for i, meter in enumerate(site.meters):
        if meter.device not in site.device_by_id:
            problems.append(at.problem(("meters", i, "device"), f"unknown device '{meter.device}'"))
        if meter.space is not None and meter.space not in site.space_by_id:
            problems.append(at.problem(("meters", i, "space"), f"unknown space '{meter.space}'"))
        if meter.submeter_of is not None and meter.submeter_of not in site.meter_by_id:
            problems.append(at.problem(("meters", i, "submeter_of"), f"unknown meter '{meter.submeter_of}'"))
        at_times = [r.at for r in meter.replacements]
        if at_times != sorted(at_times):
            problems.append(at.problem(("meters", i, "replacements"), "replacements must be in time order"))
    # sub-meter chains must end at a main meter
    parents = {m.id: m.submeter_of for m in site.meters if m.submeter_of}
    problems += _cycles(parents.get, list(parents), at, "meters", site, "submeter_of")
    return problems


def _cycles(
    parent: Callable[[str], str | None], ids: list[str], at: Locator, section: str, site: SiteModel, field: str
) -> list[SiteProblem]:
    index = {item.id: i for i, item in enumerate(getattr(site, section))}
    reported: set[str] = set()
    problems: list[SiteProblem] = []
    for start in ids:
        trail, node = [start], parent(start)
        while node is not None and node not in trail:
            trail.append(node)
            node = parent(node)
        if node is not None and start not in reported:
            cycle = trail[trail.index(node) :]
            reported.update(cycle)
            problems.append(at.problem((section, index[start], field), "cycle: " + " -> ".join([*cycle, node])))
    return problems


def _points(site: SiteModel, at: Locator, profiles: Mapping[str, MeterProfile]) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    formulas: dict[str, Formula] = {}
    for i, point in enumerate(site.points):
        if point.space is not None and point.space not in site.space_by_id:
            problems.append(at.problem(("points", i, "space"), f"unknown space '{point.space}'"))
        if point.formula is not None:
            try:
                formula = parse_formula(point.formula)
            except FormulaError as exc:
                problems.append(at.problem(("points", i, "formula"), f"formula: {exc}"))
                continue
            formulas[point.id] = formula
            assert point.unit is not None and point.resource is not None  # the model requires both
            if unit_info(point.unit).quantity not in _RESOURCE_QUANTITIES[point.resource] | _ANY_RESOURCE:
                problems.append(
                    at.problem(("points", i, "unit"), f"{point.unit} is not a unit of {point.resource.value}")
                )
            for dependency in formula.dependencies:
                other = site.point_by_id.get(dependency)
                if other is None:
                    problems.append(at.problem(("points", i, "formula"), f"unknown point '{dependency}'"))
                    continue
                # a point without `unit:` is in its register's unit: compare what it is really stored in
                other_measure = point_measure(site, other, profiles)
                other_unit = other_measure.unit if other_measure is not None else other.unit
                if other_unit is not None and not _same_quantity(other_unit, point.unit):
                    problems.append(
                        at.problem(
                            ("points", i, "formula"),
                            f"point '{dependency}' is in {other_unit}, not a unit of the same quantity as {point.unit}",
                        )
                    )
            continue
        meter = site.meter_by_id.get(point.meter or "")
        if meter is None:
            problems.append(at.problem(("points", i, "meter"), f"unknown meter '{point.meter}'"))
            continue
        device = site.device_by_id.get(meter.device)
        if device is None:
            continue  # reported on the meter
        offered = registers_of(device, profiles)
        if offered and point.register_name not in offered:
            problems.append(
                at.problem(
                    ("points", i, "register"),
                    f"device '{device.id}' has no register '{point.register_name}'; it offers: "
                    + ", ".join(sorted(offered)),
                )
            )
            continue
        measure = point_measure(site, point, profiles)
        if measure is None:
            continue
        if (
            offered.get(point.register_name or "")
            and offered[point.register_name or ""].unit == "pulses"
            and (meter.pulse_weight is None)
        ):
            problems.append(at.problem(("meters", site.meters.index(meter)), "a pulse counter needs 'pulse_weight'"))
        if not _same_quantity(measure.source_unit, measure.unit):
            problems.append(
                at.problem(("points", i, "unit"), f"cannot show a {measure.source_unit} value in {measure.unit}")
            )
        elif (
            measure.cumulative
            and unit_info(measure.unit).quantity
            not in _RESOURCE_QUANTITIES.get(meter.resource, frozenset()) | _ANY_RESOURCE
        ):
            problems.append(
                at.problem(("points", i, "unit"), f"{measure.unit} is not a unit of {meter.resource.value}")
            )
    try:
        evaluation_order(formulas)
    except CycleError as exc:
        index = next(i for i, p in enumerate(site.points) if p.id == exc.cycle[0])
        problems.append(at.problem(("points", index, "formula"), str(exc)))
    return problems


def _same_quantity(a: str, b: str) -> bool:
    return unit_info(a).quantity == unit_info(b).quantity


def _occupancy_schedule(site: SiteModel, at: Locator, i: int, point_id: str) -> list[SiteProblem]:
    where = ("contracts", i, "occupancy_schedule")
    point = next((p for p in site.bms_points if p.id == point_id), None)
    if point is None:
        return [at.problem(where, f"unknown BMS point '{point_id}'")]
    if point.role != "schedule":
        return [at.problem(where, f"BMS point '{point_id}' has role '{point.role}', not 'schedule'")]
    return []


def _contracts(site: SiteModel, at: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    for i, contract in enumerate(site.contracts):
        if contract.tenant not in site.tenant_by_id:
            problems.append(at.problem(("contracts", i, "tenant"), f"unknown tenant '{contract.tenant}'"))
        for s, space in enumerate(contract.spaces):
            if space not in site.space_by_id:
                problems.append(at.problem(("contracts", i, "spaces", s), f"unknown space '{space}'"))
        for p, share in enumerate(contract.points):
            if share.point not in site.point_by_id:
                problems.append(at.problem(("contracts", i, "points", p, "point"), f"unknown point '{share.point}'"))
        if contract.occupancy_schedule is not None:
            problems += _occupancy_schedule(site, at, i, contract.occupancy_schedule)
        for resource, tariff_id in contract.tariffs.items():
            tariff = site.tariff_by_id.get(tariff_id)
            if tariff is None:
                problems.append(
                    at.problem(("contracts", i, "tariffs", resource.value), f"unknown tariff '{tariff_id}'")
                )
            elif tariff.resource != resource:
                problems.append(
                    at.problem(
                        ("contracts", i, "tariffs", resource.value),
                        f"tariff '{tariff_id}' is for {tariff.resource.value}, not {resource.value}",
                    )
                )
    problems += _shares(site, at)
    for i, tariff in enumerate(site.tariffs):
        if unit_info(tariff.unit).quantity not in _RESOURCE_QUANTITIES[tariff.resource]:
            problems.append(
                at.problem(("tariffs", i, "unit"), f"{tariff.unit} is not a unit of {tariff.resource.value}")
            )
    return problems


def _shares(site: SiteModel, at: Locator) -> list[SiteProblem]:
    """At any moment, the contracts in force may bill at most 100 % of a point.

    Contracts are in force from move-in (start day at `move_in`, default 00:00) until move-out (end
    day at `move_out`, default the end of the day), in local time: a tenant may move out at noon and
    the next one move in at the same instant.
    """
    problems: list[SiteProblem] = []
    by_point: dict[str, list[tuple[int, int, float]]] = {}
    for i, contract in enumerate(site.contracts):
        for p, share in enumerate(contract.points):
            by_point.setdefault(share.point, []).append((i, p, share.share))
    spans = [_span(contract) for contract in site.contracts]
    for point_id, entries in by_point.items():
        # the total is a step function of time; its maximum is reached at some contract's move-in
        for i, p, _ in entries:
            moment = spans[i][0]
            active = [(j, q, s) for j, q, s in entries if spans[j][0] <= moment < spans[j][1]]
            total = sum(s for _, _, s in active)
            # reported once per moment, at the last-listed contract starting then (which one is listed
            # first in the YAML says nothing about which one tipped the point over 100 %)
            starting = [j for j, _, _ in active if spans[j][0] == moment]
            if total > 100.0 + 1e-9 and max(starting) == i:
                names = ", ".join(f"{site.contracts[j].id} {s:g} %" for j, _, s in active)
                when = moment.date() if moment.time() == time(0) else moment
                problems.append(
                    at.problem(
                        ("contracts", i, "points", p, "share"),
                        f"point '{point_id}' is billed {total:g} % on {when} ({names}); at most 100 %",
                    )
                )
    return problems


def _span(contract: Contract) -> tuple[datetime, datetime]:
    """[move-in, move-out) in naive local time."""
    start = datetime.combine(contract.start, contract.move_in or time(0))
    if contract.end is None:
        return start, datetime.max
    if contract.move_out is None:
        return start, datetime.combine(contract.end + timedelta(days=1), time(0))
    return start, datetime.combine(contract.end, contract.move_out)


def _bms(site: SiteModel, at: Locator) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    devices = {d.id for d in site.bms_devices}
    for i, point in enumerate(site.bms_points):
        if point.device not in devices:
            problems.append(at.problem(("bms_points", i, "device"), f"unknown BMS device '{point.device}'"))
    _unique(at, "HVAC equipment", _indexed("hvac_equipment", site.hvac_equipment), problems)
    points = {p.id for p in site.points}
    spaces = {s.id for b in site.buildings for f in b.floors for s in f.spaces}
    for i, eq in enumerate(site.hvac_equipment):
        for j, meter in enumerate(eq.meters):
            if meter.point not in points:
                problems.append(
                    at.problem(("hvac_equipment", i, "meters", j, "point"), f"unknown point '{meter.point}'")
                )
        for j, space in enumerate(eq.spaces):
            if space not in spaces:
                problems.append(at.problem(("hvac_equipment", i, "spaces", j), f"unknown space '{space}'"))
    return problems


def _anomalies(site: SiteModel, at: Locator) -> list[SiteProblem]:
    points = {p.id for p in site.points}
    named = [("night_flow", "expected_flow_l_per_h", p) for p in site.anomalies.night_flow.expected_flow_l_per_h]
    named += [("meter_health", "max_unmetered_pct", p) for p in site.anomalies.meter_health.max_unmetered_pct]
    return [
        at.problem(("anomalies", rule, key, point_id), f"unknown point '{point_id}'")
        for rule, key, point_id in named
        if point_id not in points
    ]
