"""Identity and network settings of the BACnet/IP device that exposes our points.

Validated once on creation (fail loudly); the lead maps the site YAML onto it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# "a.b.c.d/mask:port": the mask is required, without it bacpypes3 opens no broadcast socket and
# never hears a broadcast Who-Is (see docs/testing-peers.md).
_ADDRESS_RE = re.compile(r"^(?P<host>\d{1,3}(?:\.\d{1,3}){3})/(?P<mask>\d{1,2}):(?P<port>\d{1,5})$")
_HOST_PORT_RE = re.compile(r"^(?P<host>\d{1,3}(?:\.\d{1,3}){3}):(?P<port>\d{1,5})$")

# 12.11 Device, Object_Identifier: instance 4194303 is the "unassigned" wildcard, never a real device.
MAX_DEVICE_INSTANCE = 4_194_302

# bms-bridge has no ASHRAE-assigned vendor identifier; 999 is the value bacpypes3's samples use. It only
# qualifies proprietary objects/properties/services (12.11 Device, Vendor_Identifier), of which we serve
# none; an integrator delivering the gateway sets its own assigned id (docs/pics.md, "Device object").
DEFAULT_VENDOR_ID = 999


def _check_host_port(value: str, what: str) -> None:
    match = _HOST_PORT_RE.match(value)
    if not match:
        raise ValueError(f"{what} must look like '127.0.0.1:47808', got {value!r}")
    ipaddress.IPv4Address(match["host"])
    if not 0 < int(match["port"]) < 65536:
        raise ValueError(f"{what}: port out of range in {value!r}")


@dataclass(frozen=True)
class ForeignDeviceSettings:
    """Register with a BBMD as a foreign device (Annex J.5.2), renewed every `ttl_seconds`."""

    bbmd_address: str  # "host:port" of the BBMD
    ttl_seconds: int = 300

    def __post_init__(self) -> None:
        _check_host_port(self.bbmd_address, "foreign_device.bbmd_address")
        # J.2.6 Register-Foreign-Device: Time-to-Live is a 2-octet value; 0 would mean "deregister"
        if not 0 < self.ttl_seconds <= 65535:
            raise ValueError(f"foreign_device.ttl_seconds must be 1..65535, got {self.ttl_seconds}")


@dataclass(frozen=True)
class BacnetDeviceSettings:
    device_instance: int
    device_name: str
    vendor_id: int = DEFAULT_VENDOR_ID
    vendor_name: str = "bms-bridge"
    model_name: str = "bms-bridge BACnet/IP gateway"
    description: str = ""
    location: str = ""
    address: str = "127.0.0.1/8:47808"
    # Run as a BBMD (Annex J.4) with these peer BBMDs ("host:port") in the Broadcast Distribution
    # Table; our own address is added automatically. None = no BBMD.
    bbmd_peers: tuple[str, ...] | None = None
    foreign_device: ForeignDeviceSettings | None = None
    # Accumulator Present_Value is an Unsigned count of 10^-decimals units (12.1.8 Scale).
    accumulator_decimals: int = 3
    # seconds to wait for the UDP sockets before start-up fails
    bind_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.device_instance <= MAX_DEVICE_INSTANCE:
            raise ValueError(f"device_instance must be 0..{MAX_DEVICE_INSTANCE}, got {self.device_instance}")
        if not self.device_name.strip():
            raise ValueError("device_name must not be empty")
        if not 0 <= self.vendor_id <= 65535:
            raise ValueError(f"vendor_id must be 0..65535, got {self.vendor_id}")
        match = _ADDRESS_RE.match(self.address)
        if not match:
            raise ValueError(f"address must look like '127.0.0.1/8:47808' (mask required), got {self.address!r}")
        ipaddress.IPv4Address(match["host"])
        if not 0 < int(match["mask"]) <= 32:
            raise ValueError(f"address: mask out of range in {self.address!r}")
        if not 0 < int(match["port"]) < 65536:
            raise ValueError(f"address: port must be 1..65535 in {self.address!r}")
        if self.bbmd_peers is not None:
            for peer in self.bbmd_peers:
                _check_host_port(peer, "bbmd_peers entry")
        if self.bbmd_peers is not None and self.foreign_device is not None:
            raise ValueError("a device is either a BBMD or a foreign device, not both")
        if not 0 <= self.accumulator_decimals <= 6:
            raise ValueError(f"accumulator_decimals must be 0..6, got {self.accumulator_decimals}")
        if self.bind_timeout <= 0:
            raise ValueError("bind_timeout must be positive")

    @property
    def host(self) -> str:
        return self.address.split("/", 1)[0]

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    @property
    def unicast_address(self) -> str:
        """'host:port', the form a client addresses us by."""
        return f"{self.host}:{self.port}"
