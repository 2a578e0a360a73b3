"""Field buses and the devices on them: Modbus TCP, Modbus RTU (serial or via a gateway), LPWAN, manual.

A device is one thing that is asked for values (a Modbus unit, an LPWAN end device, a person with a
notebook); it offers named registers. Meters (see `meters.py`) say which device reads them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import Field, PositiveInt, model_validator

from point_mapping.model.common import Duration, Frozen, Id, UnitSymbol
from point_mapping.units import CUMULATIVE_QUANTITIES, UNITS, unit_info

Host = Annotated[str, Field(min_length=1, max_length=253)]
Port = Annotated[int, Field(ge=1, le=65535)]
ModbusUnit = Annotated[int, Field(ge=0, le=247, description="Modbus device (slave/unit) id")]


class _SerialLine(Frozen):
    """Line settings shared by every RTU bus; a bus serialises its requests (one frame at a time)."""

    id: Id
    name: str = ""
    baudrate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    frame_gap: Duration = Field(default=timedelta(milliseconds=5), description="silence between frames")
    timeout: Duration = Field(default=timedelta(milliseconds=500))
    retries: int = Field(default=0, ge=0, le=3)


class RtuSerialBus(_SerialLine):
    kind: Literal["rtu-serial"]
    port: str = Field(min_length=1, description="serial device, e.g. /dev/ttyUSB0")


class RtuOverTcpBus(_SerialLine):
    """A transparent serial server: RTU frames tunnelled over TCP (e.g. a Moxa NPort in TCP server mode)."""

    kind: Literal["rtu-over-tcp"]
    host: Host
    port: Port


class ModbusTcpGatewayBus(_SerialLine):
    """A protocol gateway: Modbus TCP on the LAN side, an RS-485 RTU bus behind it (e.g. Moxa MGate)."""

    kind: Literal["modbus-tcp-gateway"]
    host: Host
    port: Port = 502


Bus = Annotated[RtuSerialBus | RtuOverTcpBus | ModbusTcpGatewayBus, Field(discriminator="kind")]


class ModbusTcpConnection(Frozen):
    kind: Literal["modbus-tcp"]
    host: Host
    port: Port = 502
    unit: ModbusUnit = 1


class ModbusRtuConnection(Frozen):
    kind: Literal["modbus-rtu"]
    bus: Id
    unit: Annotated[int, Field(ge=1, le=247)]


class _UplinkValue(Frozen):
    """A value an uplink carries: a running total only if its unit is one (energy, volume, pulses)."""

    @model_validator(mode="before")
    @classmethod
    def _derive_cumulative(cls, data: Any) -> Any:
        # like a register's `kind`: a temperature or a flow is never a running total unless told otherwise
        if isinstance(data, dict) and data.get("cumulative") is None:
            unit = data.get("unit")
            if isinstance(unit, str) and unit in UNITS:
                data = {**data, "cumulative": UNITS[unit].quantity in CUMULATIVE_QUANTITIES}
        return data

    @model_validator(mode="after")
    def _cumulative_unit(self) -> Self:
        unit: str = getattr(self, "unit")  # noqa: B009
        if getattr(self, "cumulative") and unit_info(unit).quantity not in CUMULATIVE_QUANTITIES:  # noqa: B009
            raise ValueError(f"a {unit!r} value cannot be cumulative; only running totals can")
        return self


class ByteField(_UplinkValue):
    """An integer at a byte offset of an uplink's binary payload."""

    name: Id
    offset: int = Field(ge=0)
    width: Literal[1, 2, 3, 4, 8]
    endianness: Literal["big", "little"] = "big"
    signed: bool = False
    scale: float = 1.0
    unit: UnitSymbol
    cumulative: bool = True


class ObjectField(_UplinkValue):
    """A value the network server already decoded (ChirpStack `object`, TTS `decoded_payload`)."""

    name: Id
    path: str = Field(min_length=1, description="dotted path inside the decoded object, e.g. 'meter.volume'")
    scale: float = 1.0
    unit: UnitSymbol
    cumulative: bool = True


class BytesDecoder(Frozen):
    kind: Literal["bytes"]
    fields: list[ByteField] = Field(min_length=1)


class ObjectDecoder(Frozen):
    kind: Literal["object"]
    fields: list[ObjectField] = Field(min_length=1)


Decoder = Annotated[BytesDecoder | ObjectDecoder, Field(discriminator="kind")]


class LpwanConnection(Frozen):
    kind: Literal["lpwan"]
    dev_eui: str = Field(pattern=r"^[0-9a-fA-F]{16}$", description="LoRaWAN DevEUI, 16 hex digits")
    decoder: Decoder
    expected_interval: Duration = Field(default=timedelta(hours=1))

    @property
    def eui(self) -> str:
        return self.dev_eui.lower()


class ManualConnection(Frozen):
    """Read by a person (CSV import or web form); offers one register, `reading`."""

    kind: Literal["manual"]
    unit: UnitSymbol


Connection = Annotated[
    ModbusTcpConnection | ModbusRtuConnection | LpwanConnection | ManualConnection,
    Field(discriminator="kind"),
]


class Device(Frozen):
    id: Id
    name: str = ""
    connection: Connection
    profile: Id | None = Field(default=None, description="register map (meter profile) of a Modbus device")
    poll_interval: Duration = Field(default=timedelta(seconds=60))
    timeout: Duration = Field(default=timedelta(seconds=2))
    max_registers_per_read: PositiveInt | None = Field(default=None, le=125)
    enabled: bool = True
    stale_after: Duration | None = Field(
        default=None, description="its values are stale when older; default: exposure.stale_factor × its interval"
    )

    @property
    def report_interval(self) -> timedelta | None:
        """How often a new value is due: the poll interval, an LPWAN device's expected uplink interval,
        None for a device read by a person (no rhythm to miss)."""
        if isinstance(self.connection, LpwanConnection):
            return self.connection.expected_interval
        if isinstance(self.connection, ManualConnection):
            return None
        return self.poll_interval

    @model_validator(mode="after")
    def _consistent(self) -> Device:
        is_modbus = isinstance(self.connection, ModbusTcpConnection | ModbusRtuConnection)
        if is_modbus and self.profile is None:
            raise ValueError("a Modbus device needs a 'profile' (its register map), e.g. 'eastron-sdm630'")
        if not is_modbus and self.profile is not None:
            raise ValueError(f"'profile' applies to Modbus devices only, not to {self.connection.kind}")
        if is_modbus and self.timeout >= self.poll_interval:
            raise ValueError(
                f"timeout ({self.timeout.total_seconds():g} s) must be shorter than poll_interval "
                f"({self.poll_interval.total_seconds():g} s)"
            )
        return self


__all__ = [
    "Bus",
    "ByteField",
    "Connection",
    "Device",
    "LpwanConnection",
    "ManualConnection",
    "ModbusRtuConnection",
    "ModbusTcpConnection",
    "ModbusTcpGatewayBus",
    "ObjectField",
    "RtuOverTcpBus",
    "RtuSerialBus",
]
