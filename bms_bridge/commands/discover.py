"""`bms-bridge discover --bacnet ADDRESS [--instance N|LOW-HIGH] [--local ADDRESS] [--out FILE]`.

Who-Is at ADDRESS (a controller's "HOST[:PORT]", or a broadcast: `*` or the subnet's broadcast
address), then each answering device's objects; prints a `bms_devices`/`bms_points` YAML skeleton with
guessed roles for the integrator to confirm (or writes it to FILE). Nothing answering is exit code 1
with one sentence; a bad option is exit code 2. See docs/bms-discovery.md.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import re
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bacpypes3.apdu import ErrorRejectAbortNack

from bms_bridge.bms_client.client import BmsClientError
from bms_bridge.bms_client.discovery import Discovery, DiscoveryError
from bms_bridge.bms_client.skeleton import render

BACNET_PORT = 47808  # BACnet/IP's own port (Annex J); many devices broadcast their I-Am to it
LOOPBACK_PORT = 47821  # ours for a controller on this host (the demo's): its own port is taken by it
MAX_INSTANCE = 4194303


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def instance_range(text: str) -> tuple[int, int]:
    """'5001' -> (5001, 5001); '5000-5099' -> (5000, 5099)."""
    match = _RANGE.match(text.strip())
    if match is None:
        raise ValueError(f"--instance {text!r} is not a device instance or a range like 5000-5099")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not low <= high <= MAX_INSTANCE:
        raise ValueError(f"--instance {text!r}: instances run from 0 to {MAX_INSTANCE}, low before high")
    return low, high


@dataclass(frozen=True, slots=True)
class Addresses:
    who_is: str  # where Who-Is goes: "HOST:PORT", or "*" for a broadcast on our subnet
    local: str  # where our client binds: "HOST/MASK:PORT"

    @property
    def broadcast(self) -> bool:
        return self.who_is == "*"


def _ip(host: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.gethostbyname(host))
    except (OSError, UnicodeError):
        raise ValueError(f"--bacnet {host!r} is neither an IPv4 address nor a host name that resolves") from None


def _host_port(text: str) -> tuple[str, int | None]:
    host, sep, port = text.rpartition(":") if ":" in text else (text, "", "")
    try:
        return host, int(port) if sep else None
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number") from None


def _interface(local: str, loopback: bool) -> tuple[str, int | None]:
    """'192.168.1.7' -> ('192.168.1.7/24', None); the mask (a /24 guess) only matters for broadcasts."""
    address, port = _host_port(local)
    if "/" not in address:
        address += "/8" if loopback else "/24"
    try:
        ipaddress.IPv4Interface(address)
    except ValueError:
        raise ValueError(f"--local {local!r} is not HOST/MASK:PORT") from None
    return address, port


def _routed_interface(ip: ipaddress.IPv4Address, port: int) -> str:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)  # the target may be a broadcast
            probe.connect((str(ip), port))  # no packet is sent: this only picks the interface
            return str(probe.getsockname()[0])
    except OSError:
        raise ValueError(f"cannot tell which interface reaches {ip}; give --local HOST/MASK:PORT") from None


def plan_addresses(target: str, local: str | None) -> Addresses:
    """Who-Is destination and our bind address from `--bacnet` and `--local`.

    A unicast target gets Who-Is at its address. A broadcast (`*`, or the broadcast address of our
    interface's subnet) is sent as a BACnet broadcast, which bacpypes3 sends to our own port: so we
    bind the devices' port (47808 unless the target names another). Without `--local`, we bind the
    interface that routes to the target (loopback: 127.0.0.1/8, port 47821).
    """
    if target == "*":
        if local is None:
            raise ValueError(
                "a broadcast '*' needs --local HOST/MASK:PORT (the interface, its mask, the devices' port)"
            )
        interface, local_port = _interface(local, loopback=False)
        return Addresses("*", f"{interface}:{local_port or BACNET_PORT}")
    host, target_port = _host_port(target)
    port = target_port or BACNET_PORT
    ip = _ip(host)
    if local is None:
        interface = "127.0.0.1/8" if ip.is_loopback else f"{_routed_interface(ip, port)}/24"
        local_port = None
    else:
        interface, local_port = _interface(local, loopback=ip.is_loopback)
    if ip != ipaddress.IPv4Interface(interface).network.broadcast_address:
        default = LOOPBACK_PORT if ip.is_loopback else BACNET_PORT
        return Addresses(f"{ip}:{port}", f"{interface}:{local_port or default}")
    if local_port is not None and local_port != port:
        raise ValueError(
            f"a broadcast reaches devices on port {port} only from that port: give --local {interface}:{port}"
        )
    return Addresses("*", f"{interface}:{port}")


async def _discover(args: argparse.Namespace, addresses: Addresses, low: int | None, high: int | None) -> str:
    async with Discovery(addresses.local, timeout=args.timeout) as discovery:
        devices = await discovery.run(addresses.who_is, low, high, label=args.bacnet)
    return render(devices, command_line(args), f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def command_line(args: argparse.Namespace) -> str:
    words = ["bms-bridge discover --bacnet", args.bacnet]
    if args.instance:
        words += ["--instance", args.instance]
    if args.local:
        words += ["--local", args.local]
    return " ".join(words)


def run(args: argparse.Namespace) -> int:
    low = high = None
    try:
        addresses = plan_addresses(args.bacnet, args.local)
        if args.instance:
            low, high = instance_range(args.instance)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        text = asyncio.run(_discover(args, addresses, low, high))
    except (DiscoveryError, BmsClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ErrorRejectAbortNack as error:  # an answer nobody above expected (bacpypes3: a BaseException)
        print(f"error: a BACnet device refused a request: {error}", file=sys.stderr)
        return 1
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: confirm the guessed roles, then put it in the site folder", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
