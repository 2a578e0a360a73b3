"""Small test sites written as YAML into a temporary folder and loaded like a real one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from metering.profiles import builtin_profiles
from point_mapping.loader import LoadedSite, load_site

SITE_INFO = {"id": "test-site", "name": "Test site", "timezone": "Europe/Berlin", "currency": "EUR"}


def write_site(
    folder: Path,
    *,
    devices: list[dict[str, Any]],
    meters: list[dict[str, Any]],
    points: list[dict[str, Any]],
    buses: list[dict[str, Any]] | None = None,
    acquisition: dict[str, Any] | None = None,
) -> LoadedSite:
    """Write `site.yaml` with the given sections into `folder` and load it with the builtin profiles."""
    folder.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"site": SITE_INFO, "devices": devices, "meters": meters, "points": points}
    if buses:
        doc["buses"] = buses
    if acquisition:
        doc["acquisition"] = acquisition
    (folder / "site.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_site(folder, builtin_profiles())


def tcp_device(
    device_id: str, port: int, profile: str, *, unit: int = 1, poll: str = "1s", timeout: str = "300ms"
) -> dict[str, Any]:
    return {
        "id": device_id,
        "connection": {"kind": "modbus-tcp", "host": "127.0.0.1", "port": port, "unit": unit},
        "profile": profile,
        "poll_interval": poll,
        "timeout": timeout,
    }


def rtu_device(
    device_id: str, bus: str, unit: int, profile: str, *, poll: str = "1s", timeout: str = "300ms"
) -> dict[str, Any]:
    return {
        "id": device_id,
        "connection": {"kind": "modbus-rtu", "bus": bus, "unit": unit},
        "profile": profile,
        "poll_interval": poll,
        "timeout": timeout,
    }


def meter(meter_id: str, device: str, resource: str = "electricity", **extra: Any) -> dict[str, Any]:
    return {"id": meter_id, "device": device, "resource": resource, **extra}


def point(point_id: str, meter_id: str, register: str, unit: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": point_id, "meter": meter_id, "register": register}
    if unit is not None:
        found["unit"] = unit
    return found
