"""BACnet instances and OPC UA node ids never shift when YAML is reordered, extended or pruned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.identifiers import LOCK_FILE, write_lock

Edit = Callable[[str, str, str], Path]


def lock_site(site_dir: Path) -> dict[str, int]:
    site = open_site(site_dir)
    write_lock(site.folder, site.identifiers)
    return dict(site.identifiers.bacnet_instance)


def test_new_points_are_numbered_in_id_order(site_dir: Path) -> None:
    assert lock_site(site_dir) == {
        "a1-01.energy": 1,
        "a1-02.energy": 2,
        "common.energy": 3,
        "main.energy": 4,
        "main.power": 5,
    }
    assert open_site(site_dir).identifiers.opcua_node_id["main.power"] == "main.power"


def test_reordering_and_adding_points_keeps_numbers(site_dir: Path) -> None:
    before = lock_site(site_dir)
    meters = site_dir / "meters.yaml"
    lines = meters.read_text().splitlines(keepends=True)
    points_start = lines.index("points:\n") + 1
    body = lines[points_start : points_start + 4]
    # reverse the physical points and add one that sorts first
    lines[points_start : points_start + 4] = [
        "  - {id: a0.power, meter: M-A1-01, register: active_power}\n",
        *reversed(body),
    ]
    meters.write_text("".join(lines))
    after = lock_site(site_dir)
    assert {k: after[k] for k in before} == before
    assert after["a0.power"] == 6  # above every number ever used, not 1


def test_removed_points_retire_their_numbers(site_dir: Path, edit: Edit) -> None:
    lock_site(site_dir)
    edit("meters.yaml", "  - {id: main.power, meter: M-MAIN, register: active_power}\n", "")
    lock_site(site_dir)
    lock = yaml.safe_load((site_dir / LOCK_FILE).read_text())
    assert lock["retired"] == {"main.power": 5}
    edit("meters.yaml", "points:\n", "points:\n  - {id: new.power, meter: M-MAIN, register: active_power}\n")
    assert lock_site(site_dir)["new.power"] == 6  # 5 is never handed out again


def test_explicit_ids_win_and_collisions_are_errors(site_dir: Path, edit: Edit) -> None:
    lock_site(site_dir)
    edit(
        "meters.yaml",
        "register: active_power}",
        "register: active_power, exposure: {bacnet_instance: 500, opcua_node_id: mains/power}}",
    )
    site = open_site(site_dir)
    assert site.identifiers.bacnet_instance["main.power"] == 500
    assert site.identifiers.opcua_node_id["main.power"] == "mains/power"
    edit("meters.yaml", "bacnet_instance: 500", "bacnet_instance: 1")  # 1 belongs to a1-01.energy
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    assert [p.message for p in caught.value.problems] == [
        f"BACnet instance 1 belongs to point 'a1-01.energy' in {LOCK_FILE}; choose another"
    ]


def test_invalid_site_writes_no_lock(site_dir: Path, edit: Edit) -> None:
    from bms_bridge.cli import main

    edit("meters.yaml", "device: em-a1-02", "device: nope")
    assert main(["check", str(site_dir)]) == 1
    assert not (site_dir / LOCK_FILE).exists()
    edit("meters.yaml", "device: nope", "device: em-a1-02")
    assert main(["check", str(site_dir)]) == 0
    assert (site_dir / LOCK_FILE).exists()


def test_a_point_that_comes_back_gets_its_own_number_back(site_dir: Path, edit: Edit) -> None:
    lock_site(site_dir)
    edit("meters.yaml", "register: active_power}", "register: active_power, exposure: {enabled: false}}")
    assert "main.power" not in lock_site(site_dir)
    edit("meters.yaml", ", exposure: {enabled: false}}", "}")
    assert lock_site(site_dir)["main.power"] == 5  # the BMS still has its graphics bound to 5
    lock = yaml.safe_load((site_dir / LOCK_FILE).read_text())
    assert lock["retired"] == {}
    assert open_site(site_dir).identifiers.lock_changed is False


def test_a_lock_file_that_is_not_a_mapping_is_a_site_problem(site_dir: Path) -> None:
    (site_dir / LOCK_FILE).write_text("- 1\n- 2\n")
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    assert [p.message for p in caught.value.problems] == ["lock file must be a mapping of sections"]


def test_finding_objects_get_numbers_above_every_point_and_keep_them(site_dir: Path, edit: Edit) -> None:
    from dataclasses import replace

    from point_mapping.identifiers import assign_finding_instances

    lock_site(site_dir)  # points 1-5
    site = open_site(site_dir)
    lock = assign_finding_instances(site.identifiers.lock, ["finding.hvac.x.ahu-a", "finding.anomaly.y.cw-1"])
    assert lock.findings == {"finding.anomaly.y.cw-1": 6, "finding.hvac.x.ahu-a": 7}  # sorted, above 5
    assert assign_finding_instances(lock, ["finding.hvac.x.ahu-a"]) == lock  # kept, nothing new
    write_lock(site.folder, replace(site.identifiers, lock=lock, lock_changed=True))
    # a new point is numbered above the findings too; the findings survive the points' re-assignment
    edit("meters.yaml", "points:\n", "points:\n  - {id: new.power, meter: M-MAIN, register: active_power}\n")
    assert lock_site(site_dir)["new.power"] == 8
    assert yaml.safe_load((site_dir / LOCK_FILE).read_text())["finding_instances"] == lock.findings
    # a point cannot take a finding's number by hand
    edit("meters.yaml", "register: active_power}", "register: active_power, exposure: {bacnet_instance: 7}}")
    with pytest.raises(SiteInvalid) as caught:
        open_site(site_dir)
    assert f"BACnet instance 7 belongs to the finding object 'finding.hvac.x.ahu-a' in {LOCK_FILE}; choose another" in [
        p.message for p in caught.value.problems
    ]
