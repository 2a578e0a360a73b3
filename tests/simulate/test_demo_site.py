"""The demo site is the case study's business center and loads without a problem."""

from __future__ import annotations

from point_mapping.loader import LoadedSite
from point_mapping.model import LpwanConnection, ManualConnection, ModbusRtuConnection, ModbusTcpConnection


def test_demo_site_is_the_case_study(demo: LoadedSite) -> None:
    site = demo.model
    assert site.site.id == "demo" and site.site.timezone == "Europe/Berlin" and site.site.currency == "EUR"
    assert [b.id for b in site.buildings] == ["A", "B"]
    assert 24_000 <= sum(b.area_m2 for b in site.buildings) <= 26_000
    assert len(site.tenants) >= 30
    uses = {s.use for s in site.space_by_id.values()}
    assert {"server-room", "restaurant", "fitness", "conference"} <= uses


def test_demo_site_acquisition_mix(demo: LoadedSite) -> None:
    site = demo.model
    kinds = [type(d.connection) for d in site.devices]
    assert kinds.count(LpwanConnection) == 2
    assert kinds.count(ManualConnection) == 1
    assert kinds.count(ModbusTcpConnection) >= 2
    assert kinds.count(ModbusRtuConnection) >= 30
    assert {(b.kind, b.port) for b in site.buses} == {("modbus-tcp-gateway", 15020), ("modbus-tcp-gateway", 15021)}
    assert any(m.pulse_weight is not None for m in site.meters)
    assert any(m.multiplier != 1 for m in site.meters)


def test_server_room_is_its_own_line_of_the_it_contract(demo: LoadedSite) -> None:
    site = demo.model
    contract = next(c for c in site.contracts if c.tenant == "nordlicht-it")
    billed = {p.point for p in contract.points}
    assert "el.A3-03" in billed and site.space_by_id["A3-03"].use == "server-room"


def test_common_area_points_are_main_minus_tenants(demo: LoadedSite) -> None:
    common = demo.model.point_by_id["el.A-common"]
    assert common.formula is not None and common.formula.startswith("{el.A-main}")
    assert "{el.A3-03}" in common.formula


def test_the_committed_lock_file_covers_every_exposed_point(demo: LoadedSite) -> None:
    # `bms-bridge check sites/demo` must not need to change the committed identifiers.lock.yaml
    assert not demo.identifiers.lock_changed
    instances = list(demo.identifiers.bacnet_instance.values())
    assert len(instances) == len(set(instances)) == sum(1 for p in demo.model.points if p.exposure.enabled)
