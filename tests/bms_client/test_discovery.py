"""Discovery against real peers in other processes: the demo's simulated BMS and a BAC0 device.

The CLI runs as a process of its own too, as an integrator would run it, and the YAML it writes is
put into a copy of a site and loaded with the same loader `bms-bridge check` uses.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bms_bridge.bms_client.discovery import Discovery, DiscoveryError
from bms_bridge.bms_client.skeleton import plan
from bms_bridge.commands.demo import DEMO_SITE
from bms_bridge.sites import open_site
from metering.hvac.roles import guess_role
from tests.bms_client.conftest import PEERS, _peer, client_address
from tests.support.services import free_udp_port

pytestmark = pytest.mark.slow


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bms_bridge.cli", "discover", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_finds_device_5001_and_every_object_of_the_demo_yaml(sim_bms: Callable[..., Any]) -> None:
    demo = open_site(DEMO_SITE).model
    async with sim_bms() as peer, Discovery(client_address(), timeout=2.0) as discovery:
        devices = await discovery.run(peer.address)
    [device] = devices
    assert (device.instance, device.address) == (5001, peer.address)
    assert device.name == "AHU controller (roof plant, both buildings)"
    assert device.max_apdu == 1476 and device.segmentation == "segmented-both"
    assert not device.object_list_by_element
    found = {obj.reference: obj for obj in device.objects}
    assert set(found) == {p.object for p in demo.bms_points}  # 36 objects; device and port left out
    for point in demo.bms_points:
        obj = found[point.object]
        assert obj.name == point.id  # the simulator names each object after its point
        assert obj.unit == point.unit
    assert found["analog-output,1"].units == "percent" and found["analog-input,1"].units == "degrees-celsius"
    assert found["binary-value,1"].value_type == "BinaryPV" and found["binary-value,1"].value in ("active", "inactive")
    assert found["multi-state-value,1"].value_type == "Unsigned"
    assert found["multi-state-value,1"].states == ("occupied", "unoccupied")  # its State_Text
    assert found["analog-output,1"].value_type == "Real"


async def test_guessed_roles_match_the_demo_yaml(sim_bms: Callable[..., Any]) -> None:
    demo = open_site(DEMO_SITE).model
    async with sim_bms() as peer, Discovery(client_address(), timeout=2.0) as discovery:
        devices = await discovery.run(peer.address)
    points = {p.obj.reference: p for p in plan(devices)[0]}
    for expected in demo.bms_points:
        guessed = points[expected.object]
        assert guessed.point_id == expected.id
        assert guessed.guess.role == expected.role, guessed.guess.reason
        # from the object's name alone (the simulator's descriptions repeat the role)
        obj = guessed.obj
        assert guess_role(obj.object_type, obj.name, "", obj.unit).role == expected.role
        if guessed.guess.equipment is not None:  # 'outside-air-temp' and 'holidays' name none
            assert guessed.equipment == expected.equipment
    assert points["analog-input,100"].equipment == "bms-5001"  # the device, marked to confirm


async def test_the_skeleton_passes_the_loader_in_a_site_folder(
    sim_bms: Callable[..., Any], site_dir: Path, tmp_path: Path
) -> None:
    async with sim_bms() as peer:
        out = tmp_path / "bms.yaml"
        local = client_address()
        code, stdout, stderr = await _cli("--bacnet", peer.address, "--local", local, "--out", str(out))
        assert code == 0, stderr
        assert stdout == "" and "wrote" in stderr
        printed_code, printed, _ = await _cli("--bacnet", peer.address, "--local", client_address())
    assert printed_code == 0 and printed.startswith("# BMS points found by `bms-bridge discover --bacnet")
    text = out.read_text()
    assert "# confirm (likely): heating + valve in 'ahu-a.heating-valve'" in text
    # the minimal test site has no BMS sections: the skeleton adds them
    shutil.copy(out, site_dir / "bms.yaml")
    site = open_site(site_dir).model
    assert [d.device_instance for d in site.bms_devices] == [5001]
    assert site.bms_devices[0].address == peer.address
    assert len(site.bms_points) == 36
    roles = {p.id: p.role for p in site.bms_points}
    assert roles["ahu-a.zone-heat-sp"] == "heating-setpoint" and roles["perimeter-b.valve"] == "heating-valve"
    assert {e.id: e.kind for e in site.hvac_equipment}["perimeter-a"] == "perimeter-heating"
    # in the demo, in place of its hand-written bms.yaml
    demo = tmp_path / "demo"
    shutil.copytree(DEMO_SITE, demo, ignore=shutil.ignore_patterns(".state"))
    shutil.copy(out, demo / "bms.yaml")
    assert len(open_site(demo).model.bms_points) == 36


async def test_instance_range_limits_who_answers(sim_bms: Callable[..., Any]) -> None:
    async with sim_bms() as peer, Discovery(client_address(), timeout=1.0) as discovery:
        [device] = await discovery.run(peer.address, 5000, 5099)
        assert device.instance == 5001
        with pytest.raises(DiscoveryError, match=r"no BACnet device in 6000\.\.6099 answered Who-Is"):
            await discovery.run(peer.address, 6000, 6099)


async def test_nothing_answering_is_exit_1_with_one_sentence(tmp_path: Path) -> None:
    silent = f"127.0.0.1:{free_udp_port()}"
    out = tmp_path / "bms.yaml"
    code, stdout, stderr = await _cli(
        "--bacnet", silent, "--local", client_address(), "--timeout", "0.5", "--out", str(out)
    )
    assert code == 1
    assert stderr == f"error: no BACnet device answered Who-Is at {silent} within 0.5 s\n"
    assert stdout == "" and not out.exists()  # nothing written


async def test_bad_options_are_usage_errors() -> None:
    code, _, stderr = await _cli("--bacnet", "127.0.0.1:47809", "--instance", "9-1")
    assert code == 2 and "low before high" in stderr
    code, _, stderr = await _cli("--bacnet", "controller!!")
    assert code == 2
    assert stderr == "error: --bacnet 'controller!!' is neither an IPv4 address nor a host name that resolves\n"


async def test_a_device_that_stops_answering_ends_discovery(sim_bms: Callable[..., Any]) -> None:
    # Who-Is is answered (late, within the 3 s wait); its reads then time out after 0.5 s
    async with sim_bms("--delay", "1.5") as peer, Discovery(client_address(), timeout=0.5, who_is_wait=3) as d:
        with pytest.raises(DiscoveryError, match=r"device 5001 at .* stopped answering \(.*nothing within 0\.5 s\)"):
            await d.run(peer.address)


async def test_object_list_too_long_for_one_answer_is_read_element_by_element(
    bac0_device: Callable[..., Any],
) -> None:
    # 300 analog values, fan, mode, the device and its network port: 304 object ids of 5 bytes do not
    # fit one 1476-byte answer, and this device refuses to segment: it aborts, so Object_List is read
    # entry by entry
    peer_process = bac0_device(7201, "--values", "300", "--no-segmentation")
    async with peer_process as peer, Discovery(client_address(), timeout=2.0) as discovery:
        [device] = await discovery.run(peer.address, 7201, 7201)
        requests = discovery.requests
    assert device.segmentation == "no-segmentation" and device.object_list_by_element
    assert len(device.objects) == 302
    by_ref = {o.reference: o for o in device.objects}
    assert by_ref["analog-value,300"].name == "av-300" and by_ref["analog-value,300"].value == "310.0"
    assert by_ref["binary-value,1"].name == "fan" and by_ref["multi-state-value,1"].name == "mode"
    # name, description, the refused whole list, its length, 304 entries, then 302 objects 8 per RPM
    assert requests == 2 + 1 + 1 + 304 + 38


async def test_a_device_without_read_property_multiple_is_read_property_by_property(tmp_path: Path) -> None:
    port = free_udp_port()
    args = [str(PEERS / "fcu_controller.py"), "--port", str(port), "--device", "7401", "--values", "8", "--no-rpm"]
    controller = _peer(args, f"127.0.0.1:{port}", tmp_path)
    async with controller as peer, Discovery(client_address(), timeout=2.0) as discovery:
        [device] = await discovery.run(peer.address)
        requests = discovery.requests
    assert (device.instance, device.name) == (7401, "FCU-7 controller")
    found = {o.reference: o for o in device.objects}
    assert set(found) == {"analog-output,1", "analog-input,1", "binary-value,1"} | {
        f"analog-value,{i}" for i in range(1, 9)
    }
    assert found["analog-value,8"].name == "FCU-7 AV 8" and found["analog-value,8"].value == "8.0"
    valve, room, fan = found["analog-output,1"], found["analog-input,1"], found["binary-value,1"]
    assert (valve.name, valve.description, valve.unit, valve.value) == ("FCU-7 CLG VLV", "cooling valve", "%", "42.0")
    assert (room.unit, room.value) == ("degC", "22.5") and room.description == ""  # it has none
    assert (fan.name, fan.value) == ("FCU-7 Fan", "active")
    # device name + description + Object_List, one rejected RPM (never tried again for the second
    # batch of 8 objects), then 4 + 4 + 5 (with Inactive_/Active_Text) + 8 × 4 ReadProperty
    assert requests == 3 + 1 + 13 + 32
    points = {p.obj.reference: p.guess for p in plan([device])[0]}
    assert points["analog-output,1"].role == "cooling-valve" and points["analog-input,1"].role == "zone-temperature"
    assert points["binary-value,1"].role == "fan-status" and points["binary-value,1"].equipment == "fcu-7"


async def test_answers_too_big_for_one_datagram_are_asked_for_in_smaller_requests(tmp_path: Path) -> None:
    # 16 analog values with 300-character Descriptions: eight of them (~2.5 kB) do not fit one
    # 1476-byte answer, and the controller does not segment: it aborts, and the requests are halved
    port = free_udp_port()
    args = [str(PEERS / "fcu_controller.py"), "--port", str(port), "--device", "7402", "--values", "16"]
    args += ["--no-segmentation", "--description-length", "300"]
    controller = _peer(args, f"127.0.0.1:{port}", tmp_path)
    async with controller as peer, Discovery(client_address(), timeout=2.0) as discovery:
        [device] = await discovery.run(peer.address)
        requests = discovery.requests
    assert device.segmentation == "no-segmentation"
    values = [o for o in device.objects if o.object_type == "analog-value"]
    assert len(values) == 16 and all(len(o.description) == 300 for o in values)
    assert values[15].name == "FCU-7 AV 16" and values[15].description.startswith("plain value 16 ...")
    # name, description, Object_List; 8 objects (~2.7 kB) aborted; then 19 objects 4 at a time (~1.4 kB)
    assert requests == 3 + 1 + 5
