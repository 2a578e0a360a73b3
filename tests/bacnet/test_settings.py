from __future__ import annotations

import pytest

from bms_bridge.bacnet import BacnetDeviceSettings, ForeignDeviceSettings


def test_defaults_are_loopback_with_mask() -> None:
    s = BacnetDeviceSettings(device_instance=1, device_name="gw")
    assert s.address == "127.0.0.1/8:47808"
    assert (s.host, s.port, s.unicast_address) == ("127.0.0.1", 47808, "127.0.0.1:47808")
    assert s.vendor_id == 999


@pytest.mark.parametrize(
    "kwargs",
    [
        {"device_instance": 4_194_303},  # the wildcard instance
        {"device_instance": -1},
        {"device_name": " "},
        {"vendor_id": 70_000},
        {"address": "127.0.0.1:47808"},  # no mask: no broadcast socket
        {"address": "host"},
        {"address": "127.0.0.1/8:0"},
        {"accumulator_decimals": 9},
        {"bbmd_peers": ("127.0.0.1:47809",), "foreign_device": ForeignDeviceSettings("127.0.0.1:47809")},
        {"bbmd_peers": ("nowhere",)},
    ],
)
def test_invalid_settings_fail_loudly(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"device_instance": 1, "device_name": "gw"}
    with pytest.raises(ValueError):
        BacnetDeviceSettings(**{**base, **kwargs})  # type: ignore[arg-type]


def test_foreign_device_settings_are_accepted_and_checked() -> None:
    fd = ForeignDeviceSettings(bbmd_address="127.0.0.1:47809", ttl_seconds=60)
    s = BacnetDeviceSettings(device_instance=1, device_name="gw", foreign_device=fd)
    assert s.foreign_device == fd
    with pytest.raises(ValueError):
        ForeignDeviceSettings(bbmd_address="127.0.0.1:47809", ttl_seconds=0)
    with pytest.raises(ValueError):
        ForeignDeviceSettings(bbmd_address="127.0.0.1/8:47809")
