"""Settings of the service's own endpoints: BACnet/OPC UA servers, LPWAN intake, polling limits."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from point_mapping.model.common import Duration, EnvName, Frozen, Id
from point_mapping.model.devices import Host, Port

_IP_PORT = re.compile(r"^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$")
_IP_MASK_PORT = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}:\d{1,5}$")


class ForeignDevice(Frozen):
    bbmd: str = Field(description="BBMD to register with, e.g. '10.0.0.5:47808'")
    ttl: Duration = Field(default=timedelta(seconds=900))

    @field_validator("bbmd")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not _IP_PORT.match(value):
            raise ValueError(f"{value!r} is not an IPv4 address and port; write e.g. '10.0.0.5:47808'")
        return value


class BacnetExposure(Frozen):
    enabled: bool = True
    device_instance: int = Field(ge=0, le=4194302)
    device_name: str = Field(min_length=1)
    vendor_id: int = Field(default=999, ge=0, le=65535)
    vendor_name: str = "bms-bridge"
    # the mask matters: without it bacpypes3 opens no broadcast socket and never hears Who-Is
    address: str = Field(
        default="127.0.0.1/8:47808", description="local address/mask:port to bind, e.g. '192.168.10.20/24:47808'"
    )
    location: str = ""
    bbmd: bool = Field(default=False, description="act as a BBMD for this subnet")
    bbmd_peers: list[str] = Field(default_factory=list, description="other BBMDs ('host:port') in the BDT")
    foreign_device: ForeignDevice | None = None

    @field_validator("address")
    @classmethod
    def _address_mask_port(cls, value: str) -> str:
        if not _IP_MASK_PORT.match(value):
            raise ValueError(
                f"{value!r} needs address/mask:port, e.g. '192.168.10.20/24:47808' "
                "(without the mask no broadcast Who-Is is heard)"
            )
        return value

    @field_validator("bbmd_peers")
    @classmethod
    def _peers(cls, value: list[str]) -> list[str]:
        for peer in value:
            if not _IP_PORT.match(peer):
                raise ValueError(f"BBMD peer {peer!r} is not an IPv4 address and port; write e.g. '10.0.1.5:47808'")
        return value

    @model_validator(mode="after")
    def _bbmd_or_foreign(self) -> BacnetExposure:
        if self.bbmd and self.foreign_device is not None:
            raise ValueError("a device is either a BBMD or a foreign device, not both")
        if self.bbmd_peers and not self.bbmd:
            raise ValueError("bbmd_peers needs bbmd: true")
        return self


SecurityPolicy = Literal["None", "Basic256Sha256_Sign", "Basic256Sha256_SignAndEncrypt"]


class OpcUaUser(Frozen):
    username: str = Field(min_length=1)
    password_env: EnvName


class OpcUaExposure(Frozen):
    enabled: bool = True
    endpoint: str = Field(default="opc.tcp://127.0.0.1:4840", pattern=r"^opc\.tcp://")
    server_name: str = "bms-bridge"
    namespace: str = Field(default="urn:bms-bridge", min_length=1)
    allow_anonymous: bool = True
    users: list[OpcUaUser] = Field(default_factory=list)
    security_policies: list[SecurityPolicy] = Field(default_factory=lambda: list[SecurityPolicy](["None"]))
    certificate: str | None = None
    private_key: str | None = None


class Exposure(Frozen):
    # A value is stale when it is older than its source's rhythm allows: `stale_factor` × the device's
    # poll interval (Modbus) or expected report interval (LPWAN); a device's or point's `stale_after`
    # overrides it, and a site-wide `stale_after` here replaces the factor for every point.
    stale_factor: float = Field(default=3.0, ge=1.0, description="stale after this many missed polls or reports")
    stale_after: Duration | None = Field(
        default=None, description="one fixed age for every point instead of stale_factor × its device's interval"
    )
    bacnet: BacnetExposure | None = None
    opcua: OpcUaExposure | None = None
    # each tenant's month-to-date consumption per resource and tariff zone and its cost so far, beside
    # the meter points (docs/billing.md, "Results back to the BMS")
    month_to_date: bool = Field(default=False, description="expose tenants' month-to-date consumption and cost")
    month_to_date_refresh: Duration = Field(default=timedelta(minutes=15), description="how often they are computed")


class Acquisition(Frozen):
    max_in_flight_per_host: int = Field(default=2, ge=1, le=32)
    backoff_initial: Duration = Field(default=timedelta(seconds=30))
    backoff_max: Duration = Field(default=timedelta(minutes=30))
    queue_size: int = Field(default=10_000, ge=100)
    # while the database fails: readings held in memory, then in a local journal (docs/operations.md)
    buffer_readings: int = Field(default=100_000, ge=0, description="readings kept in memory while the store fails")
    journal_max_bytes: int = Field(
        default=1024**3, ge=1024**2, description="bound of the outage journal; past it the oldest readings go"
    )
    future_tolerance: Duration = Field(
        default=timedelta(minutes=5), description="how far ahead of our clock a reading's time may be"
    )


class WebhookAuth(Frozen):
    kind: Literal["token", "hmac-sha256"]
    secret_env: EnvName
    header: str = Field(default="", description="default: Authorization (token) or X-Signature (hmac)")


class Webhook(Frozen):
    enabled: bool = True
    host: Host = "127.0.0.1"
    port: Port = 8081
    path: str = Field(default="/uplink", pattern=r"^/")
    auth: WebhookAuth


class MqttIntake(Frozen):
    enabled: bool = True
    host: Host = "127.0.0.1"
    port: Port = 1883
    topic: str = Field(default="application/+/device/+/event/up", description="ChirpStack v4 layout")
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    client_id: Id = "bms-bridge"


class Lpwan(Frozen):
    webhook: Webhook | None = None
    mqtt: MqttIntake | None = None


class Web(Frozen):
    host: Host = "127.0.0.1"
    port: Port = 8080
    enabled: bool = True


__all__ = ["Acquisition", "Exposure", "Id", "Lpwan", "Web"]


class Storage(Frozen):
    """`storage:` what the store keeps (docs/operations.md, Retention)."""

    raw_readings_days: int | None = Field(
        default=None,
        ge=1,
        description="delete raw readings older than this many days, inside closed billing months only, keeping"
        " each point's first and last reading of every closed month (the registers billing opens and closes"
        " on); intervals and roll-ups are kept. Default: readings are kept for ever",
    )
    retention_check: Duration = Field(default=timedelta(hours=6), description="how often the retention runs")
