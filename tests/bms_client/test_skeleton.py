"""The YAML skeleton from discovered objects: ids, quoting, unknown roles, and that `check` loads it."""

from __future__ import annotations

from pathlib import Path

import yaml

from bms_bridge.bms_client.discovery import DiscoveredDevice, DiscoveredObject
from bms_bridge.bms_client.skeleton import plan, render, scalar, slug
from bms_bridge.sites import open_site


def _device(*objects: DiscoveredObject, instance: int = 42) -> DiscoveredDevice:
    return DiscoveredDevice(
        instance, "192.168.1.40:47808", name="RLT Zentrale", vendor_id=5, max_apdu=480,
        segmentation="no-segmentation", objects=list(objects),
    )  # fmt: skip


FIELD_DEVICE = _device(
    DiscoveredObject("analog-output", 1, "AHU-1 HTG VLV", "Heating coil valve", "percent", "%", "Real", "35.5"),
    DiscoveredObject("analog-input", 7, "AHU-1 SAT", "", "degrees-fahrenheit", None, "Real", "64.2"),
    DiscoveredObject("analog-value", 9, "AHU-1 Filter DP", "filter pressure drop", "pascals", None, "Real", "120"),
    DiscoveredObject("binary-input", 3, "ON", "", None, None, "BinaryPV", "active"),
    DiscoveredObject("multi-state-value", 2, "MSV-2", "", None, None, "Unsigned", "1", ("Occupied", "Unoccupied")),
    DiscoveredObject("analog-input", 8, "OAT", "", "degrees-celsius", "degC", "Real", "4.5"),
    DiscoveredObject("analog-input", 9, "OAT", "", "degrees-celsius", "degC", "Real", "4.6"),
    DiscoveredObject("schedule", 1, "AHU-1 Zeitprogramm"),
    DiscoveredObject("trend-log", 1, "AHU-1 SAT log"),
)


def test_scalars_are_quoted_only_when_yaml_would_misread_them() -> None:
    assert scalar("ahu-1.htg-vlv") == "ahu-1.htg-vlv"
    assert scalar("%") == '"%"' and scalar("analog-output,1") == '"analog-output,1"'
    assert scalar("on") == '"on"' and scalar("No") == '"No"'  # PyYAML reads these as booleans
    assert scalar("1") == '"1"' and scalar('say "hi"') == '"say \\"hi\\""'
    for text in ("on", "1", "%", 'a "b": c', "Zuluft-Temp. Ø"):
        assert yaml.safe_load(f"x: {scalar(text)}") == {"x": text}


def test_ids_come_from_names() -> None:
    assert slug("AHU-1 HTG VLV") == "ahu-1-htg-vlv"
    assert slug("ahu-a.heating-valve") == "ahu-a.heating-valve"
    assert slug("  (Zuluft / Temp.) ") == "zuluft-temp"
    assert slug("***") == ""
    points, skipped = plan([FIELD_DEVICE])
    ids = {p.obj.reference: p.point_id for p in points}
    assert ids["analog-input,8"] == "oat" and ids["analog-input,9"] == "oat-2"  # unique
    assert ids["binary-input,3"] == "on"
    assert [obj.reference for _dev, obj in skipped] == ["trend-log,1"]


def test_unknown_roles_are_commented_out_and_guesses_marked() -> None:
    text = render([FIELD_DEVICE], "bms-bridge discover --bacnet 192.168.1.255", "2026-12-03 08:00 UTC")
    lines = text.splitlines()
    valve = next(line for line in lines if "analog-output,1" in line)
    assert valve.startswith('  - {id: ahu-1-htg-vlv, name: "Heating coil valve", device: bms-42')
    assert 'role: heating-valve, equipment: ahu-1, unit: "%"}' in valve
    assert valve.endswith("# confirm (likely): heating + valve in 'AHU-1 HTG VLV'; now 35.5 %")
    sat = next(line for line in lines if "analog-input,7" in line)
    # °F is no unit of the site model: no unit written, the comment says so
    assert "unit:" not in sat.split("#")[0] and "units degrees-fahrenheit (not a unit of the site model)" in sat
    filter_dp = next(line for line in lines if "analog-value,9" in line)
    assert filter_dp.startswith("  # - {id: ahu-1-filter-dp") and "role: ROLE" in filter_dp
    assert "role unknown: nothing in 'AHU-1 Filter DP' ('filter pressure drop') names a known role" in filter_dp
    schedule = next(line for line in lines if "schedule,1" in line)
    assert "role: schedule" in schedule and "confirm" not in schedule  # certain from the type
    assert "#   bms-42 trend-log,1 'AHU-1 SAT log'" in lines
    assert "  - {id: ahu-1, kind: ahu}  # confirm kind; add zone and meters" in lines
    assert "8 points: 5 roles guessed" in text and "2 unknown" in text
    msv = next(line for line in lines if "multi-state-value,2" in line)
    assert msv.endswith(
        "role: occupancy, equipment: bms-42}  # confirm (possible): its states are Occupied/Unoccupied;"
        " confirm equipment (none in the name); now 1"
    )


def test_the_rendered_skeleton_loads_in_a_site(site_dir: Path) -> None:
    text = render([FIELD_DEVICE, _device(instance=43)], "discover", "now")
    (site_dir / "bms.yaml").write_text(text)
    site = open_site(site_dir).model
    assert [d.id for d in site.bms_devices] == ["bms-42", "bms-43"]
    roles = {p.id: p.role for p in site.bms_points}
    # the unknown filter point and the binary input called "ON" are commented out; the rest are there
    assert roles == {
        "ahu-1-htg-vlv": "heating-valve",
        "ahu-1-sat": "supply-air-temperature",
        "oat": "outside-air-temperature",
        "oat-2": "outside-air-temperature",
        "ahu-1-zeitprogramm": "schedule",
        "msv-2": "occupancy",
    }
    point = next(p for p in site.bms_points if p.id == "oat")
    assert (point.device, point.equipment, point.unit) == ("bms-42", "bms-42", "degC")


def test_no_devices_give_empty_lists() -> None:
    text = render([_device()], "discover", "now")
    assert "bms_points: []" in text
    assert yaml.safe_load(text)["bms_points"] == []
