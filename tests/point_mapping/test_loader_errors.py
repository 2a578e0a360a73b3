"""Bad YAML of every kind is reported at the exact FILE:LINE:COL of the offending node."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid

Edit = Callable[[str, str, str], Path]


def problems_of(site_dir: Path) -> list[str]:
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    # paths relative to the site folder make the expectations readable
    return [str(p).replace(f"{site_dir}/", "") for p in caught.value.problems]


def test_minimal_site_is_valid(site_dir: Path) -> None:
    site = open_site(site_dir)
    assert [p.id for p in site.model.points] == [
        "main.energy",
        "main.power",
        "a1-01.energy",
        "a1-02.energy",
        "common.energy",
    ]
    assert site.model.meter_by_id["M-MAIN"].multiplier == 40
    assert site.model.site.zone.key == "Europe/Berlin"


def test_syntax_error_points_at_the_parser_position(site_dir: Path, edit: Edit) -> None:
    edit("meters.yaml", "  - {id: M-A1-01, device: em-a1-01,", "  - {id: M-A1-01, device: [em-a1-01,")
    (problem,) = problems_of(site_dir)
    assert problem.startswith("meters.yaml:3:")
    assert "YAML syntax error" in problem


def test_unknown_key_points_at_the_key(site_dir: Path, edit: Edit) -> None:
    edit("devices.yaml", "    profile: eastron-sdm630\n", "    profile: eastron-sdm630\n    pol_interval: 30s\n")
    assert problems_of(site_dir) == ["devices.yaml:14:5: unknown key 'pol_interval'"]


def test_wrong_type_and_unknown_unit(site_dir: Path, edit: Edit) -> None:
    edit("meters.yaml", "multiplier: 40", "multiplier: forty")
    edit("meters.yaml", "    unit: kWh\n", "    unit: kWhh\n")
    found = problems_of(site_dir)
    assert found[0].startswith("meters.yaml:2:70: multiplier: Input should be a valid number")
    assert found[1].startswith("meters.yaml:14:11: unit: unknown unit 'kWhh'")


def test_missing_required_key_points_at_the_mapping(site_dir: Path, edit: Edit) -> None:
    edit("devices.yaml", "host: 127.0.0.1, port: 15022", "port: 15022")
    assert problems_of(site_dir) == ["devices.yaml:9:17: missing required key 'host'"]


def test_dangling_references(site_dir: Path, edit: Edit) -> None:
    edit("meters.yaml", "device: em-a1-02", "device: em-a1-99")
    edit("tenants.yaml", "{point: a1-02.energy}", "{point: a1-03.energy}")
    edit("devices.yaml", "bus: bus-a, unit: 1", "bus: bus-b, unit: 1")
    assert problems_of(site_dir) == [
        "devices.yaml:12:41: unknown bus 'bus-b'",
        "meters.yaml:4:27: unknown device 'em-a1-99'",
        "tenants.yaml:19:17: unknown point 'a1-03.energy'",
    ]


def test_unknown_profile_and_register(site_dir: Path, edit: Edit) -> None:
    edit("devices.yaml", "profile: eastron-sdm120", "profile: eastron-sdm999")
    edit("meters.yaml", "meter: M-MAIN, register: active_power}", "meter: M-MAIN, register: reactive_power}")
    found = problems_of(site_dir)
    assert found[0].startswith("devices.yaml:16:14: unknown profile 'eastron-sdm999'; known: ")
    assert found[1].startswith("meters.yaml:8:47: device 'em-main' has no register 'reactive_power'; it offers: ")


def test_duplicate_ids_across_files(site_dir: Path) -> None:
    (site_dir / "more-meters.yaml").write_text("meters:\n  - {id: M-A1-01, device: em-a1-01, resource: electricity}\n")
    found = problems_of(site_dir)
    assert found == ["more-meters.yaml:2:10: duplicate meter id 'M-A1-01' (first defined at meters.yaml:3:10)"]


def test_duplicate_yaml_key(site_dir: Path, edit: Edit) -> None:
    edit("site.yaml", "  currency: EUR\n", "  currency: EUR\n  currency: USD\n")
    assert problems_of(site_dir) == ["site.yaml:6:3: duplicate key 'currency' in this mapping"]


def test_two_meters_on_the_same_bus_and_unit(site_dir: Path, edit: Edit) -> None:
    edit("devices.yaml", "bus: bus-a, unit: 2", "bus: bus-a, unit: 1")
    assert problems_of(site_dir) == [
        "devices.yaml:15:17: device 'em-a1-02' has the same bus and unit id as device 'em-a1-01'"
    ]


def test_shares_over_100_percent_in_overlapping_contracts(site_dir: Path, edit: Edit) -> None:
    edit("tenants.yaml", "{point: common.energy, share: 42}", "{point: common.energy, share: 50}")
    assert problems_of(site_dir) == [
        "tenants.yaml:20:39: point 'common.energy' is billed 108 % on 2025-01-01 (C1 58 %, C2 50 %); at most 100 %"
    ]


def test_shares_of_consecutive_contracts_do_not_add_up(site_dir: Path, edit: Edit) -> None:
    edit(
        "tenants.yaml",
        "    start: 2025-01-01\n    spaces: [A1-01]",
        "    start: 2024-01-01\n    end: 2024-12-31\n    spaces: [A1-01]",
    )
    edit("tenants.yaml", "{point: common.energy, share: 42}", "{point: common.energy, share: 100}")
    open_site(site_dir)  # C1 ended before C2 started: 58 % then 100 % is fine


def test_cycle_in_virtual_meters(site_dir: Path) -> None:
    (site_dir / "virtual.yaml").write_text(
        "points:\n"
        "  - {id: v1, formula: '{v2} - {main.energy}', resource: electricity, unit: kWh}\n"
        "  - {id: v2, formula: '{v1}', resource: electricity, unit: kWh}\n"
    )
    assert problems_of(site_dir) == ["virtual.yaml:2:23: virtual points form a cycle: v1 -> v2 -> v1"]


def test_bad_formula_and_timezone(site_dir: Path, edit: Edit) -> None:
    edit("meters.yaml", '"{main.energy} - {a1-01.energy} - {a1-02.energy}"', '"{main.energy} {a1-01.energy}"')
    edit("site.yaml", "Europe/Berlin", "Europe/Berln")
    assert problems_of(site_dir) == [
        "site.yaml:4:13: timezone: unknown timezone 'Europe/Berln'; use an IANA name such as 'Europe/Berlin'"
    ]  # schema errors stop before reference checks; the formula is checked once the schema passes
    edit("site.yaml", "Europe/Berln", "Europe/Berlin")
    assert problems_of(site_dir) == ["meters.yaml:12:14: formula: missing '+' or '-' between points (at character 15)"]


def test_secret_inline_is_rejected(site_dir: Path) -> None:
    (site_dir / "lpwan.yaml").write_text("lpwan:\n  webhook:\n    auth: {kind: token, secret_env: s3cr3t-token}\n")
    (problem,) = problems_of(site_dir)
    assert problem.startswith("lpwan.yaml:3:37: secret_env: name an environment variable")


def test_every_problem_is_reported_at_once(site_dir: Path, edit: Edit) -> None:
    edit("meters.yaml", "device: em-a1-02", "device: nope")
    edit("meters.yaml", "space: A1-01", "space: Z9")
    assert len(problems_of(site_dir)) == 2


def test_timeout_must_be_shorter_than_the_poll_interval(site_dir: Path, edit: Edit) -> None:
    edit("devices.yaml", "    profile: eastron-sdm120\n", "    profile: eastron-sdm120\n    poll_interval: 2s\n")
    assert problems_of(site_dir) == ["devices.yaml:14:5: timeout (2 s) must be shorter than poll_interval (2 s)"]


def test_bacnet_address_needs_its_mask(site_dir: Path) -> None:
    (site_dir / "exposure.yaml").write_text(
        "exposure:\n  bacnet:\n    device_instance: 4001\n    device_name: test\n    address: 127.0.0.1:47808\n"
    )
    (problem,) = problems_of(site_dir)
    assert problem == (
        "exposure.yaml:5:14: address: '127.0.0.1:47808' needs address/mask:port, e.g. '192.168.10.20/24:47808' "
        "(without the mask no broadcast Who-Is is heard)"
    )


def test_shares_over_100_percent_when_the_later_listed_contract_starts_first(site_dir: Path, edit: Edit) -> None:
    # C2 (listed second) runs from 2025-01-01; C1 (listed first) joins on 2025-03-01 and tips the point
    # over 100 %. The overlap must be reported whichever contract the YAML lists first.
    edit(
        "tenants.yaml",
        "    start: 2025-01-01\n    spaces: [A1-01]",
        "    start: 2025-03-01\n    spaces: [A1-01]",
    )
    edit("tenants.yaml", "{point: common.energy, share: 42}", "{point: common.energy, share: 50}")
    assert problems_of(site_dir) == [
        "tenants.yaml:12:39: point 'common.energy' is billed 108 % on 2025-03-01 (C1 58 %, C2 50 %); at most 100 %"
    ]


def test_formula_inputs_are_checked_in_the_unit_they_are_stored_in(site_dir: Path, edit: Edit) -> None:
    # main.power gives no unit of its own: it is in kW (its register's unit), not energy
    edit("meters.yaml", '"{main.energy} - {a1-01.energy} - {a1-02.energy}"', '"{main.energy} - {main.power}"')
    assert problems_of(site_dir) == [
        "meters.yaml:12:14: point 'main.power' is in kW, not a unit of the same quantity as kWh"
    ]


def test_virtual_point_unit_must_fit_its_resource(site_dir: Path, edit: Edit) -> None:
    edit("meters.yaml", "    resource: electricity\n    unit: kWh\n", "    resource: cold_water\n    unit: kWh\n")
    assert problems_of(site_dir) == ["meters.yaml:14:11: kWh is not a unit of cold_water"]


def test_duplicate_bus_ids_name_the_kind(site_dir: Path, edit: Edit) -> None:
    edit("devices.yaml", "buses:\n", "buses:\n  - {id: bus-a, kind: modbus-tcp-gateway, host: 127.0.0.2}\n")
    assert problems_of(site_dir) == ["devices.yaml:3:9: duplicate bus id 'bus-a' (first defined at devices.yaml:2:10)"]


_LPWAN_WATER_METER = """\
devices:
  - id: wm-1
    connection:
      kind: lpwan
      dev_eui: 70b3d57ed0001234
      decoder:
        kind: bytes
        fields:
          - {name: volume, offset: 0, width: 4, unit: L}
          - {name: temperature, offset: 4, width: 2, signed: true, scale: 0.01, unit: degC%s}
meters:
  - {id: WM-1, device: wm-1, resource: cold_water}
points:
  - {id: WM-1.volume, meter: WM-1, register: volume, unit: m3}
  - {id: WM-1.temp, meter: WM-1, register: temperature}
"""


def test_lpwan_fields_are_running_totals_only_when_their_unit_is(site_dir: Path) -> None:
    from point_mapping.registers import point_measure

    (site_dir / "lpwan.yaml").write_text(_LPWAN_WATER_METER % "")
    site = open_site(site_dir)
    measures = {
        p: point_measure(site.model, site.model.point_by_id[p], site.profiles) for p in ("WM-1.volume", "WM-1.temp")
    }
    assert {p: m.cumulative for p, m in measures.items() if m is not None} == {"WM-1.volume": True, "WM-1.temp": False}
    (site_dir / "lpwan.yaml").write_text(_LPWAN_WATER_METER % ", cumulative: true")
    (problem,) = problems_of(site_dir)
    assert problem.startswith("lpwan.yaml:10:")
    assert "a 'degC' value cannot be cumulative" in problem
