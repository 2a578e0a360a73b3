"""Secure endpoint with certificates, no anonymous access, points added after start, bind failure."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from bms_bridge.exposure.points import PointValue
from bms_bridge.opcua import OpcUaServer, OpcUaServerError, OpcUaSettings
from tests.opcua.conftest import BIN, CLIENTS, NS_URI, POINTS, USERS, Running, json_lines, point, run_client
from tests.support.services import free_tcp_port

pytestmark = pytest.mark.asyncio(loop_scope="package")
SERVER_URI = "urn:bms-bridge:test-server"
CLIENT_URI = "urn:freeopcua:client"  # asyncua's client application URI


@dataclass
class Secured:
    server: OpcUaServer
    url: str
    client_security: str  # uaread --security string


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Secured]:
    folder = tmp_path_factory.mktemp("pki")
    server_cert, server_key = folder / "server.der", folder / "server.pem"
    client_cert, client_key = folder / "client.der", folder / "client.pem"
    await setup_self_signed_certificate(
        server_key,
        server_cert,
        SERVER_URI,
        "localhost",
        [ExtendedKeyUsageOID.SERVER_AUTH],
        {"organizationName": "bms-bridge"},
    )
    await setup_self_signed_certificate(
        client_key,
        client_cert,
        CLIENT_URI,
        "localhost",
        [ExtendedKeyUsageOID.CLIENT_AUTH],
        {"organizationName": "tests"},
    )
    url = f"opc.tcp://127.0.0.1:{free_tcp_port()}"
    settings = OpcUaSettings(
        endpoint=url,
        namespace_uri=NS_URI,
        application_uri=SERVER_URI,
        allow_anonymous=False,
        users=USERS,
        security_policies=("Basic256Sha256_SignAndEncrypt",),
        certificate=server_cert,
        private_key=server_key,
    )
    async with OpcUaServer(settings, POINTS[:2]) as server:
        yield Secured(server, url, f"Basic256Sha256,SignAndEncrypt,{client_cert},{client_key}")


async def uaread(secured: Secured, node_id: str, *extra: str, stderr: bool = False) -> tuple[int, list[str]]:
    return await run_client(BIN / "uaread", "-u", secured.url, "-n", node_id, *extra, stderr=stderr)


async def test_encrypted_endpoint_with_password(secured: Secured) -> None:
    await secured.server.update(PointValue("active-energy", 55.5, datetime(2026, 3, 4, tzinfo=UTC)))
    user, password = next(iter(USERS.items()))
    node_id = secured.server.node_id("active-energy")
    login = ("--user", user, "--password", password)
    assert await uaread(secured, node_id, "--security", secured.client_security, *login) == (0, ["55.5"])
    rc, _ = await uaread(secured, node_id, *login)  # no SecurityPolicy#None endpoint offered
    assert rc != 0


async def test_anonymous_refused_when_disabled(secured: Secured) -> None:
    node_id = secured.server.node_id("active-energy")
    rc, lines = await uaread(secured, node_id, "--security", secured.client_security, stderr=True)
    assert rc != 0 and "BadIdentityTokenRejected" in "\n".join(lines)


async def test_points_added_after_start_are_browsable_and_updatable(secured: Secured) -> None:
    total = point("tenant-total", "kWh", meter="Totals")
    await secured.server.add_points([total])
    await secured.server.update(PointValue("tenant-total", 9876.0, datetime(2026, 3, 4, tzinfo=UTC)))
    user, password = next(iter(USERS.items()))
    login = ("--user", user, "--password", password, "--security", secured.client_security)
    assert await uaread(secured, secured.server.node_id("tenant-total"), *login) == (0, ["9876.0"])
    rc, lines = await run_client(
        BIN / "uals", "-u", secured.url, "-n", "ns=2;s=SiteA/B-A/IT-Co/Totals", "-l", "0", *login
    )
    assert rc == 0 and secured.server.node_id("tenant-total") in "\n".join(lines)
    with pytest.raises(OpcUaServerError, match="already exposed"):
        await secured.server.add_points([total])


async def test_endpoint_in_use_fails_loudly(opcua: Running) -> None:
    settings = OpcUaSettings(endpoint=opcua.url, namespace_uri=NS_URI)
    with pytest.raises(OpcUaServerError, match="cannot listen"):
        async with OpcUaServer(settings, POINTS[:1]):
            pass
    # The running server is untouched.
    rows = json_lines((await run_client(sys.executable, CLIENTS / "asyncua_probe.py", opcua.url, "tree", NS_URI))[1])
    assert rows


async def test_missing_certificate_fails_loudly_and_leaves_no_tasks(tmp_path: Path) -> None:
    settings = OpcUaSettings(
        endpoint=f"opc.tcp://127.0.0.1:{free_tcp_port()}",
        security_policies=("Basic256Sha256_SignAndEncrypt",),
        certificate=tmp_path / "missing.der",
        private_key=tmp_path / "missing.pem",
    )
    before = asyncio.all_tasks()
    with pytest.raises(OpcUaServerError, match="certificate"):
        async with OpcUaServer(settings, POINTS[:1]):
            pass
    assert asyncio.all_tasks() - before == set()
