"""Address-space building: folders from ExposedPoint.path and one AnalogItemType variable per point."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server

from bms_bridge.exposure.points import ExposedPoint, PointStatus
from bms_bridge.opcua.errors import OpcUaServerError
from bms_bridge.opcua.status import point_status_code
from bms_bridge.opcua.ua_values import ObjectIds, data_value, standard_node_id, string_node_id
from point_mapping.units import unece_unit_id, unit_info

# Part 8 5.6.3: EUInformation.namespaceUri for UNECE Rec. 20 codes.
UNECE_NAMESPACE_URI = "http://www.opcfoundation.org/UA/units/un/cefact"
# Part 3 5.6.2 AccessLevel bits.
_READ = ua.AccessLevel.CurrentRead.mask
_WRITE = ua.AccessLevel.CurrentWrite.mask
_HISTORY_READ = ua.AccessLevel.HistoryRead.mask
# No known range: the mandatory EURange (Part 8 5.3.2.4) says "unbounded" rather than inventing one.
_UNBOUNDED = (-math.inf, math.inf)


def engineering_units(unit: str) -> ua.EUInformation:
    """Part 8 5.6.3 EUInformation from a unit symbol of point_mapping.units."""
    info = unit_info(unit)
    return ua.EUInformation(
        NamespaceUri=UNECE_NAMESPACE_URI,
        UnitId=unece_unit_id(info.unece),
        DisplayName=ua.LocalizedText(info.symbol, "en"),
        Description=ua.LocalizedText(info.description, "en"),
    )


def folder_node_id(path: tuple[str, ...], idx: int) -> ua.NodeId:
    # Stable across restarts (clients may store it); "/" keeps it apart from dotted point ids.
    return string_node_id("/".join(path), idx)


def initial_value(point: ExposedPoint) -> ua.DataValue:
    status = PointStatus.OUT_OF_SERVICE if point.out_of_service else PointStatus.NO_VALUE
    return data_value(
        ua.Variant(math.nan, ua.VariantType.Double),
        point_status_code(status, math.nan),
        server_timestamp=datetime.now(UTC),
    )


class AddressSpaceBuilder:
    """Creates each folder once and each point as an AnalogItemType instance (Part 8 5.3.2.4).

    The nodes are what `instantiate(folder, AnalogItemType, instantiate_optional=False)` makes — the
    variable with HasTypeDefinition AnalogItemType and its mandatory EURange as a namespace-0 property
    "<id>.EURange" — plus the optional EngineeringUnits property, also under its namespace-0 browse name
    so generic clients find it. They are added in one AddNodes batch instead: instantiate() browses the
    type hierarchy for every instance (~10 ms a point, nearly a minute for 5,000 points).
    """

    def __init__(self, server: Server, idx: int, historized: bool) -> None:
        self._server = server
        self._idx = idx
        self._historized = historized
        self._folders: dict[tuple[str, ...], Node] = {(): server.nodes.objects}

    async def folder(self, path: tuple[str, ...]) -> Node:
        node = self._folders.get(path)
        if node is None:
            parent = await self.folder(path[:-1])
            node = await parent.add_folder(folder_node_id(path, self._idx), ua.QualifiedName(path[-1], self._idx))
            self._folders[path] = node
        return node

    async def add_points(self, points: list[ExposedPoint]) -> list[ua.NodeId]:
        items: list[ua.AddNodesItem] = []
        for point in points:
            parent = await self.folder(point.path)
            items.extend(self._point_items(parent.nodeid, point))
        results = await self._server.nodes.objects.session.add_nodes(items)
        for item, result in zip(items, results, strict=True):
            if not result.StatusCode.is_good():
                raise OpcUaServerError(
                    f"cannot add node {item.RequestedNewNodeId.to_string()}: {result.StatusCode.name}"
                )
        return [string_node_id(point.opcua_node_id, self._idx) for point in points]

    def _point_items(self, parent: ua.NodeId, point: ExposedPoint) -> list[ua.AddNodesItem]:
        node_id = string_node_id(point.opcua_node_id, self._idx)
        access = _READ | (_HISTORY_READ if self._historized else 0) | (_WRITE if point.writable else 0)
        attrs = ua.VariableAttributes()
        attrs.DisplayName = ua.LocalizedText(point.name)
        attrs.Description = ua.LocalizedText(point.description)
        attrs.Value = ua.Variant(math.nan, ua.VariantType.Double)
        attrs.DataType = standard_node_id(ObjectIds.Double)
        attrs.ValueRank = ua.ValueRank.Scalar
        attrs.AccessLevel = access
        attrs.UserAccessLevel = access
        attrs.Historizing = self._historized
        attrs.MinimumSamplingInterval = 0.0
        attrs.WriteMask = 0
        attrs.UserWriteMask = 0
        variable = ua.AddNodesItem(
            ParentNodeId=parent,
            ReferenceTypeId=standard_node_id(ObjectIds.Organizes),  # Part 5 6.6 FolderType organizes
            RequestedNewNodeId=node_id,
            BrowseName=ua.QualifiedName(point.name, self._idx),
            NodeClass=ua.NodeClass.Variable,
            NodeAttributes=attrs,
            TypeDefinition=standard_node_id(ObjectIds.AnalogItemType),
        )
        low, high = point.eu_range if point.eu_range is not None else _UNBOUNDED
        return [
            variable,
            _property(node_id, "EURange", ua.Range(Low=low, High=high), ObjectIds.Range),
            _property(node_id, "EngineeringUnits", engineering_units(point.unit), ObjectIds.EUInformation),
        ]


def _property(parent: ua.NodeId, name: str, value: object, data_type: int) -> ua.AddNodesItem:
    """A namespace-0 property of a point, with the string id "<point id>.<name>" instantiate() gives."""
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = ua.LocalizedText(name)
    attrs.Value = ua.Variant(value)
    attrs.DataType = standard_node_id(data_type)
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.AccessLevel = _READ
    attrs.UserAccessLevel = _READ
    attrs.WriteMask = 0
    attrs.UserWriteMask = 0
    return ua.AddNodesItem(
        ParentNodeId=parent,
        ReferenceTypeId=standard_node_id(ObjectIds.HasProperty),
        RequestedNewNodeId=string_node_id(f"{parent.Identifier!s}.{name}", parent.NamespaceIndex),
        BrowseName=ua.QualifiedName(name, 0),
        NodeClass=ua.NodeClass.Variable,
        NodeAttributes=attrs,
        TypeDefinition=standard_node_id(ObjectIds.PropertyType),
    )
