"""OPC UA server facade: `async with OpcUaServer(settings, points, history) as server: await server.update(v)`."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from types import TracebackType

from asyncua import ua
from asyncua.server.server import Server

from bms_bridge.exposure.points import ExposedPoint, PointValue
from bms_bridge.opcua.access import PasswordUserManager, ReadOnlyAnonymousRuleset
from bms_bridge.opcua.errors import OpcUaServerError
from bms_bridge.opcua.history import (
    HistoryReader,
    HistorySource,
    PointHistoryStorage,
    history_reader,
    refuse_unhistorized,
)
from bms_bridge.opcua.nodes import AddressSpaceBuilder, initial_value
from bms_bridge.opcua.settings import OpcUaSettings
from bms_bridge.opcua.status import point_status_code
from bms_bridge.opcua.ua_values import ObjectIds, data_value, standard_node_id

_logger = logging.getLogger(__name__)

# What ServerCapabilities.ServerProfileArray claims (OPC 10000-7 profile URIs); docs/pics.md explains
# each and tests/exposure/test_pics.py checks the document against what the server publishes.
BASE_PROFILES = ("http://opcfoundation.org/UA-Profile/Server/MicroEmbeddedDevice2017",)
DATA_ACCESS = "http://opcfoundation.org/UA-Profile/Server/DataAccess"
HISTORICAL_RAW_DATA = "http://opcfoundation.org/UA-Profile/Server/HistoricalRawData"


class OpcUaServer:
    """Exposes points under Objects/<site>/<building>/<tenant>/<meter>/<point> and publishes their values."""

    def __init__(
        self,
        settings: OpcUaSettings,
        points: Iterable[ExposedPoint],
        history: HistorySource | HistoryReader | None = None,
    ) -> None:
        self._settings = settings
        self._initial_points = list(points)
        self._history = history_reader(history) if history is not None else None
        self._server: Server | None = None
        self._builder: AddressSpaceBuilder | None = None
        self._idx = 0
        self._node_ids: dict[str, ua.NodeId] = {}  # point_id -> NodeId
        self._points_by_node: dict[ua.NodeId, str] = {}  # NodeId -> point_id, for HistoryRead

    async def __aenter__(self) -> OpcUaServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def namespace_index(self) -> int:
        return self._idx

    def node_id(self, point_id: str) -> str:
        """The point's NodeId as a client writes it, e.g. "ns=2;s=B-A.M-1.energy"."""
        return self._node_ids[point_id].to_string()

    async def start(self) -> None:
        if self._server is not None:
            raise OpcUaServerError("OPC UA server already started")
        settings = self._settings
        users = PasswordUserManager(settings.users, settings.allow_anonymous)
        server = Server(user_manager=users)  # type: ignore[arg-type]  # duck-typed UserManager
        await server.init()
        self._server = server
        try:
            await self._configure(server)
            await self.add_points(self._initial_points)
        except BaseException:
            await self._forget(server.iserver.stop())
            raise
        try:
            await server.start()  # asyncua stops its internal server itself when this fails
        except OSError as exc:
            await self._forget(None)
            raise OpcUaServerError(f"cannot listen on {settings.endpoint}: {exc}") from exc
        except BaseException:
            await self._forget(None)
            raise
        _logger.info(
            "OPC UA server on %s: %d points in namespace %d (%s)",
            settings.endpoint,
            len(self._node_ids),
            self._idx,
            settings.namespace_uri,
        )

    async def _configure(self, server: Server) -> None:
        settings = self._settings
        server.set_endpoint(settings.endpoint)
        server.set_server_name(settings.server_name)
        await server.set_application_uri(settings.application_uri)
        server.set_security_policy(
            [getattr(ua.SecurityPolicyType, _policy_type(p)) for p in settings.security_policies],
            permission_ruleset=ReadOnlyAnonymousRuleset(),  # type: ignore[arg-type]
        )
        # Offer only the identity tokens we accept (Part 4 7.41 UserTokenPolicy); no X509 user tokens.
        tokens: list[type] = [ua.AnonymousIdentityToken] if settings.allow_anonymous else []
        if settings.users:
            tokens.append(ua.UserNameIdentityToken)
        server.set_identity_tokens(tokens)
        if settings.certificate is not None and settings.private_key is not None:
            try:
                await server.load_certificate(str(settings.certificate))
                await server.load_private_key(str(settings.private_key))
            except (OSError, ValueError) as exc:
                raise OpcUaServerError(f"cannot load the OPC UA certificate or key: {exc}") from exc
        if self._history is not None:
            server.iserver.history_manager.set_storage(PointHistoryStorage(self._history, self._points_by_node.get))
        historized = self._history is not None
        refuse_unhistorized(server.iserver.history_manager, lambda node: historized and node in self._points_by_node)
        profiles = [*BASE_PROFILES, DATA_ACCESS, *([HISTORICAL_RAW_DATA] if self._history is not None else [])]
        await server.write_attribute_value(
            standard_node_id(ObjectIds.Server_ServerCapabilities_ServerProfileArray),
            data_value(ua.Variant(profiles, ua.VariantType.String)),
        )
        self._idx = await server.register_namespace(settings.namespace_uri)
        self._builder = AddressSpaceBuilder(server, self._idx, historized=self._history is not None)

    async def _forget(self, stopping: Awaitable[None] | None) -> None:
        """After a failed start: drop the half-built server so start() can be tried again."""
        self._server, self._builder = None, None
        self._node_ids.clear()
        self._points_by_node.clear()
        if stopping is not None:
            try:
                await stopping
            except Exception:
                _logger.exception("while stopping a half-started OPC UA server")

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()
            _logger.info("OPC UA server on %s stopped", self._settings.endpoint)

    async def add_points(self, points: Iterable[ExposedPoint]) -> None:
        """Add points to the address space, before or after start (tenant totals, flags, ...)."""
        builder = self._require_builder()
        batch = list(points)
        seen_points: set[str] = set()
        seen_nodes = {str(node_id.Identifier) for node_id in self._points_by_node}
        for point in batch:
            if point.point_id in self._node_ids or point.point_id in seen_points:
                raise OpcUaServerError(f"point {point.point_id!r} is already exposed over OPC UA")
            if point.opcua_node_id in seen_nodes:
                raise OpcUaServerError(f"OPC UA node id {point.opcua_node_id!r} of {point.point_id!r} is taken")
            seen_points.add(point.point_id)
            seen_nodes.add(point.opcua_node_id)
        server = self._require_server()
        node_ids = await builder.add_points(batch)
        for point, node_id in zip(batch, node_ids, strict=True):
            self._node_ids[point.point_id] = node_id
            self._points_by_node[node_id] = point.point_id
            await server.write_attribute_value(node_id, initial_value(point))

    async def update(self, value: PointValue) -> None:
        """Publish a reading: value, the meter's SourceTimestamp and a StatusCode from PointStatus."""
        server = self._require_server()
        node_id = self._node_ids.get(value.point_id)
        if node_id is None:
            raise KeyError(f"point {value.point_id!r} is not exposed over OPC UA")
        if value.value is None:
            # nothing ever read: a Bad status and a null Variant, no source timestamp (Part 8 6.3.2:
            # Bad_NoCommunication has "no last known value available")
            dv = data_value(ua.Variant(), point_status_code(value.status, math.nan), server_timestamp=datetime.now(UTC))
        else:
            reading = float(value.value)
            dv = data_value(
                ua.Variant(reading, ua.VariantType.Double),
                point_status_code(value.status, reading),
                source_timestamp=value.timestamp,
                server_timestamp=datetime.now(UTC),
            )
        # Fast path (about 4x write_value): no Variant/DataValue rebuilding; still notifies subscriptions.
        await server.write_attribute_value(node_id, dv)

    async def update_many(self, values: Iterable[PointValue]) -> None:
        for value in values:
            await self.update(value)

    def _require_server(self) -> Server:
        if self._server is None:
            raise OpcUaServerError("OPC UA server is not running")
        return self._server

    def _require_builder(self) -> AddressSpaceBuilder:
        if self._builder is None or self._server is None:
            raise OpcUaServerError("OPC UA server is not running")
        return self._builder


def _policy_type(name: str) -> str:
    # Settings use asyncua's SecurityPolicyType names, except "None" which is a Python keyword there.
    return "NoSecurity" if name == "None" else name
