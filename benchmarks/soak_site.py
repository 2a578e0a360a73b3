"""A generated site for the soak: the demo's office floors scaled to any number of points.

Buildings of six floors, ten office units a floor, one Eastron SDM630 breaker meter per unit with all
15 of its registers as points (the last meter takes the remainder), Modbus TCP on loopback with one
port per floor (units 1-10, like a floor gateway), BACnet/IP and OPC UA exposure on free loopback
ports. 5,000 points make 334 meters on 34 ports in 6 buildings.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from metering.profiles import builtin_profiles

PROFILE = "eastron-sdm630"
UNITS_PER_FLOOR = 10
FLOORS_PER_BUILDING = 6


@dataclass(frozen=True)
class SoakSite:
    folder: Path
    points: int
    meters: int
    ports: tuple[int, ...]
    bacnet_port: int
    opcua_port: int


def free_ports(count: int, kind: int = socket.SOCK_STREAM) -> list[int]:
    """`count` distinct free loopback ports: all held open until chosen, since a port released at once
    may be handed out again by the next bind."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket(socket.AF_INET, kind))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _duration(interval: timedelta) -> str:
    return f"{int(interval.total_seconds() * 1000)}ms"


def write_site(folder: Path, points: int, poll_interval: timedelta) -> SoakSite:
    """Write site.yaml into `folder` (created) for `points` points; returns what was laid out."""
    registers = list(builtin_profiles()[PROFILE].registers)
    meter_count = -(-points // len(registers))
    floor_count = -(-meter_count // UNITS_PER_FLOOR)
    *floor_ports, opcua_port = free_ports(floor_count + 1)
    ports = tuple(floor_ports)
    (bacnet_port,) = free_ports(1, socket.SOCK_DGRAM)
    # A request answers in about a millisecond on loopback; the timeout only matters for a hung server.
    timeout = min(timedelta(seconds=2), poll_interval / 4)
    buildings: dict[str, dict[str, Any]] = {}
    devices, meters, point_docs = [], [], []
    left = points
    for m in range(meter_count):
        floor_no, unit = divmod(m, UNITS_PER_FLOOR)
        building_no, level = divmod(floor_no, FLOORS_PER_BUILDING)
        building_id, floor_id = f"B{building_no + 1:02d}", f"B{building_no + 1:02d}-{level}"
        space_id = f"{floor_id}-{unit + 1:02d}"
        building = buildings.setdefault(
            building_id, {"id": building_id, "name": f"Building {building_no + 1}", "floors": []}
        )
        if not building["floors"] or building["floors"][-1]["id"] != floor_id:
            building["floors"].append({"id": floor_id, "name": f"Floor {level}", "level": level, "spaces": []})
        building["floors"][-1]["spaces"].append(
            {"id": space_id, "name": f"Office unit {space_id}", "area_m2": 300 + 37 * (m % 11), "use": "office"}
        )
        device_id, meter_id = f"dev-{space_id}", f"el-{space_id}"
        devices.append(
            {
                "id": device_id,
                "profile": PROFILE,
                "connection": {"kind": "modbus-tcp", "host": "127.0.0.1", "port": ports[floor_no], "unit": unit + 1},
                "poll_interval": _duration(poll_interval),
                "timeout": _duration(timeout),
            }
        )
        meters.append(
            {"id": meter_id, "device": device_id, "resource": "electricity", "space": space_id, "rated_current_a": 100}
        )
        for register in registers[: min(left, len(registers))]:
            point_docs.append({"id": f"el.{space_id}.{register}", "meter": meter_id, "register": register})
        left -= len(registers)
    doc = {
        "site": {"id": "soak", "name": "Soak site (generated)", "timezone": "Europe/Berlin", "currency": "EUR"},
        "exposure": {
            "bacnet": {
                "device_instance": 4900,
                "device_name": "bms-bridge soak",
                "address": f"127.0.0.1/8:{bacnet_port}",
            },
            "opcua": {
                "endpoint": f"opc.tcp://127.0.0.1:{opcua_port}",
                "server_name": "bms-bridge soak",
                "namespace": "urn:bms-bridge:soak",
            },
        },
        "buildings": list(buildings.values()),
        "devices": devices,
        "meters": meters,
        "points": point_docs,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return SoakSite(folder, len(point_docs), meter_count, ports, bacnet_port, opcua_port)
