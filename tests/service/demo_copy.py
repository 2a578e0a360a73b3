"""A copy of the demo site with every listening port moved to a free one, for tests that run it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.support.services import free_tcp_port, free_udp_port

DEMO = Path(__file__).resolve().parents[2] / "sites" / "demo"
_TCP_PORTS = re.compile(r"(\bport: |127\.0\.0\.1:)(150\d\d|8080|8081|4840)\b")
_BACNET = re.compile(r"127\.0\.0\.1/8:47808")
_BMS = re.compile(r"127\.0\.0\.1(/8)?:(47809|47820)\b")  # the simulated BMS and the bridge's BMS client


def demo_copy(target: Path, *, mqtt: bool = False) -> Path:
    """Copy sites/demo into `target`, remapping Modbus, webhook, web and OPC UA ports (BACnet: UDP)."""
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns(".state", "identifiers.lock.yaml"))
    mapping: dict[str, int] = {}

    def remap(match: re.Match[str]) -> str:
        old = match.group(2)
        mapping.setdefault(old, free_tcp_port())
        return f"{match.group(1)}{mapping[old]}"

    bacnet_port = free_udp_port()
    bms_ports = {"47809": free_udp_port(), "47820": free_udp_port()}
    for path in target.glob("*.yaml"):
        text = _TCP_PORTS.sub(remap, path.read_text())
        text = _BACNET.sub(f"127.0.0.1/8:{bacnet_port}", text)
        text = _BMS.sub(lambda m: f"127.0.0.1{m.group(1) or ''}:{bms_ports[m.group(2)]}", text)
        if not mqtt:
            text = text.replace("  mqtt:\n", "  mqtt:\n    enabled: false\n", 1)
        path.write_text(text)
    return target
