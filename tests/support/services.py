"""Shared test helpers: free loopback ports and the local PostgreSQL / MQTT services.

Tests that need a service skip with a message saying how to enable it, unless the environment says
the services are required (`.ci/run` sets BMS_BRIDGE_REQUIRE_SERVICES=1), in which case they fail.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
POSTGRES_URL = os.environ.get("BMS_BRIDGE_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def services_required() -> bool:
    return os.environ.get("BMS_BRIDGE_REQUIRE_SERVICES") == "1"


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int, how: str) -> None:
    """Skip (or fail under CI) when a service does not answer."""
    if port_answers(host, port):
        return
    message = f"{name} is not answering on {host}:{port}; start it with: {how}"
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> None:
    require_service(
        "PostgreSQL",
        POSTGRES_HOST,
        POSTGRES_PORT,
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    )


def require_mqtt() -> None:
    require_service("Mosquitto", MQTT_HOST, MQTT_PORT, "mosquitto -d -c /etc/mosquitto/mosquitto.conf")


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    """A UDP port free right now; bound plainly, without SO_REUSEPORT (see docs/testing-peers.md)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_tool(tool: str, package: str) -> str:
    """Path of an external command; skip (fail under CI) when it is not installed."""
    import shutil

    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} is not installed; install it with: apt-get install -y {package}"
    if services_required():
        pytest.fail(message)
    pytest.skip(message)
