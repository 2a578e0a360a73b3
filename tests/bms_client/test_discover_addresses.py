"""How `discover` reads --bacnet and --local: unicast or broadcast, and where our client binds."""

from __future__ import annotations

import pytest

from bms_bridge.commands.discover import Addresses, instance_range, plan_addresses


def test_a_controller_on_this_host_is_asked_from_port_47821() -> None:
    assert plan_addresses("127.0.0.1:47809", None) == Addresses("127.0.0.1:47809", "127.0.0.1/8:47821")
    assert plan_addresses("127.0.0.1", None) == Addresses("127.0.0.1:47808", "127.0.0.1/8:47821")
    assert plan_addresses("localhost:47809", None).who_is == "127.0.0.1:47809"


def test_a_controller_elsewhere_is_asked_unicast_from_the_given_interface() -> None:
    planned = plan_addresses("192.168.10.40", "192.168.10.7")
    assert planned == Addresses("192.168.10.40:47808", "192.168.10.7/24:47808") and not planned.broadcast
    assert plan_addresses("10.1.2.3:47900", "10.1.0.9/16:47821").local == "10.1.0.9/16:47821"


def test_the_subnets_broadcast_address_is_a_bacnet_broadcast_from_the_devices_port() -> None:
    # bacpypes3 sends a local broadcast to our own port: we must sit on the devices' port
    planned = plan_addresses("192.168.10.255", "192.168.10.7/24")
    assert planned == Addresses("*", "192.168.10.7/24:47808") and planned.broadcast
    assert plan_addresses("10.1.255.255:47900", "10.1.0.9/16").local == "10.1.0.9/16:47900"
    with pytest.raises(ValueError, match=r"only from that port: give --local 192\.168\.10\.7/24:47808"):
        plan_addresses("192.168.10.255", "192.168.10.7/24:47821")
    # .255 of a /16 is an ordinary host
    assert not plan_addresses("10.1.2.255", "10.1.0.9/16").broadcast
    assert plan_addresses("*", "10.1.0.9/16") == Addresses("*", "10.1.0.9/16:47808")


@pytest.mark.parametrize(
    ("target", "local", "message"),
    [
        ("*", None, "a broadcast '*' needs --local HOST/MASK:PORT"),
        ("nohost.invalid", None, "neither an IPv4 address nor a host name that resolves"),
        ("10.0.0.1:port", "10.0.0.2", "the port must be a number"),
        ("10.0.0.1", "10.0.0.2/99", "--local '10.0.0.2/99' is not HOST/MASK:PORT"),
    ],
)
def test_bad_addresses_say_what_is_wrong(target: str, local: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("*", r"\*")):
        plan_addresses(target, local)


def test_instance_ranges() -> None:
    assert instance_range("5001") == (5001, 5001)
    assert instance_range("5000-5099") == (5000, 5099)
    for bad in ("x", "9-1", "5000-", "-1", "4194304"):
        with pytest.raises(ValueError):
            instance_range(bad)
