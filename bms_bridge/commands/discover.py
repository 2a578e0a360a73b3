"""`bms-bridge discover --bacnet ADDRESS [--instance N|LOW-HIGH] [--local ADDRESS] [--out FILE]`.

Who-Is at ADDRESS (a controller's "HOST:PORT", or a broadcast address such as 192.168.1.255), then
each answering device's objects; prints a `bms_devices`/`bms_points` YAML skeleton with guessed roles
for the integrator to confirm (or writes it to FILE). Nothing answering is exit code 1, one sentence.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from bacpypes3.apdu import ErrorRejectAbortNack

from bms_bridge.bms_client.client import BmsClientError
from bms_bridge.bms_client.discovery import Discovery, DiscoveryError, target_address
from bms_bridge.bms_client.skeleton import render

LOCAL_PORT = 47821  # our client's UDP port while discovering: not 47808, which a BMS host may hold
MAX_INSTANCE = 4194303


def instance_range(text: str) -> tuple[int, int]:
    """'5001' -> (5001, 5001); '5000-5099' -> (5000, 5099)."""
    low_text, _, high_text = text.partition("-")
    try:
        low, high = int(low_text), int(high_text or low_text)
    except ValueError:
        raise ValueError(f"--instance {text!r} is not a device instance or a range like 5000-5099") from None
    if not 0 <= low <= high <= MAX_INSTANCE:
        raise ValueError(f"--instance {text!r}: instances run from 0 to {MAX_INSTANCE}, low before high")
    return low, high


def default_local(target: str) -> str:
    """Bind where the route to `target` leaves this host: loopback for a loopback controller.

    The mask is a guess (/24) that only matters for broadcasts; `--local HOST/MASK:PORT` says it exactly.
    """
    host = target.rsplit(":", 1)[0] if target.count(":") == 1 else target
    try:
        if ipaddress.ip_address(host).is_loopback:
            return f"127.0.0.1/8:{LOCAL_PORT}"
    except ValueError:
        pass  # a host name: the route below resolves it
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 47808))  # no packet is sent: this only picks the interface
            local = probe.getsockname()[0]
    except (OSError, UnicodeError):
        raise ValueError(f"cannot tell which interface reaches {target!r}; give --local HOST/MASK:PORT") from None
    return f"{local}/24:{LOCAL_PORT}"


async def _discover(args: argparse.Namespace, low: int | None, high: int | None) -> str:
    local = args.local or default_local(args.bacnet)
    if "/" not in local:
        host, port = local.rsplit(":", 1) if ":" in local else (local, str(LOCAL_PORT))
        local = f"{host}/24:{port}" if not ipaddress.ip_address(host).is_loopback else f"{host}/8:{port}"
    async with Discovery(local, timeout=args.timeout) as discovery:
        devices = await discovery.run(args.bacnet, low, high)
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
        target_address(args.bacnet)
        if args.instance:
            low, high = instance_range(args.instance)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        text = asyncio.run(_discover(args, low, high))
    except (DiscoveryError, BmsClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ErrorRejectAbortNack as error:  # an answer nobody above expected (bacpypes3: a BaseException)
        print(f"error: a BACnet device refused a request: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # an address bacpypes3 or ipaddress cannot parse
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: confirm the guessed roles, then put it in the site folder", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
