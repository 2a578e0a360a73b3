"""The site's exposure YAML becomes the servers' settings; secrets come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms_bridge.exposure.settings import MissingSecret, bacnet_settings, opcua_settings
from point_mapping.model.services import BacnetExposure, OpcUaExposure


def test_bacnet_bbmd_and_foreign_device() -> None:
    bbmd = BacnetExposure.model_validate(
        {"device_instance": 7, "device_name": "gw", "bbmd": True, "bbmd_peers": ["10.0.1.5:47808"]}
    )
    settings = bacnet_settings(bbmd, "Site")
    assert settings.bbmd_peers == ("10.0.1.5:47808",) and settings.foreign_device is None
    foreign = BacnetExposure.model_validate(
        {"device_instance": 7, "device_name": "gw", "foreign_device": {"bbmd": "10.0.0.5:47808", "ttl": "5m"}}
    )
    settings = bacnet_settings(foreign, "Site")
    assert settings.bbmd_peers is None
    assert settings.foreign_device is not None
    assert (settings.foreign_device.bbmd_address, settings.foreign_device.ttl_seconds) == ("10.0.0.5:47808", 300)


def test_opcua_passwords_come_from_the_environment(tmp_path: Path) -> None:
    config = OpcUaExposure.model_validate({"users": [{"username": "scada", "password_env": "SCADA_PW"}]})
    settings = opcua_settings(config, tmp_path, environ={"SCADA_PW": "s3cret"})
    assert dict(settings.users) == {"scada": "s3cret"}
    assert "s3cret" not in repr(settings)  # a logged settings object must not leak the password
    with pytest.raises(MissingSecret, match="SCADA_PW is not set"):
        opcua_settings(config, tmp_path, environ={})
