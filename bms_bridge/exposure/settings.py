"""Maps the site's `exposure:` YAML onto the BACnet and OPC UA servers' settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bms_bridge.bacnet.settings import BacnetDeviceSettings, ForeignDeviceSettings
from bms_bridge.opcua.settings import OpcUaSettings
from point_mapping.model.services import BacnetExposure, OpcUaExposure


class MissingSecret(RuntimeError):
    pass


def bacnet_settings(config: BacnetExposure, site_name: str) -> BacnetDeviceSettings:
    foreign = None
    if config.foreign_device is not None:
        foreign = ForeignDeviceSettings(config.foreign_device.bbmd, int(config.foreign_device.ttl.total_seconds()))
    return BacnetDeviceSettings(
        device_instance=config.device_instance,
        device_name=config.device_name,
        vendor_id=config.vendor_id,
        vendor_name=config.vendor_name,
        description=f"bms-bridge meters of {site_name}",
        location=config.location or site_name,
        address=config.address,
        bbmd_peers=tuple(config.bbmd_peers) if config.bbmd else None,
        foreign_device=foreign,
    )


def opcua_settings(config: OpcUaExposure, site_folder: Path, environ: Mapping[str, str] = os.environ) -> OpcUaSettings:
    users = {}
    for user in config.users:
        password = environ.get(user.password_env)
        if not password:
            raise MissingSecret(f"OPC UA user '{user.username}': environment variable {user.password_env} is not set")
        users[user.username] = password

    def resolve(path: str | None) -> Path | None:
        return None if path is None else (site_folder / path)

    return OpcUaSettings(
        endpoint=config.endpoint,
        server_name=config.server_name,
        namespace_uri=config.namespace,
        allow_anonymous=config.allow_anonymous,
        users=users,
        security_policies=tuple(config.security_policies),
        certificate=resolve(config.certificate),
        private_key=resolve(config.private_key),
    )
