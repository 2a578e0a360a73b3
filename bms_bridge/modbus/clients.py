"""pymodbus clients, one per endpoint (serial port, TCP host:port), connected lazily and again after a loss.

Every client is made with `retries=0` and no automatic reconnection: pymodbus's defaults (3 s timeout,
3 retries, background reconnects) cost ~12 s of bus time per dead meter (docs/testing-peers.md). The poller owns
retry policy (back-off), the lanes own concurrency; a client only performs one request.
"""

from __future__ import annotations

import asyncio
import logging

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from bms_bridge.modbus.errors import GATEWAY_NO_ANSWER, BadResponse, DeviceRefused, DeviceUnreachable
from point_mapping.model import Bus
from point_mapping.model.devices import ModbusTcpGatewayBus, RtuOverTcpBus, RtuSerialBus

log = logging.getLogger(__name__)

# Extra time our own guard allows beyond the request timeout before it gives up on pymodbus (a hung
# connect or close); normally pymodbus's timeout, set to the request timeout, fires first.
GUARD_SECONDS = 0.5


def tcp_client(host: str, port: int, timeout: float) -> ModbusBaseClient:
    return AsyncModbusTcpClient(host, port=port, timeout=timeout, retries=0, reconnect_delay=0)


def bus_client(bus: Bus) -> ModbusBaseClient:
    """The client of a serial bus: a serial port, an RTU-over-TCP tunnel, or a TCP-to-RTU gateway."""
    timeout = bus.timeout.total_seconds()
    if isinstance(bus, RtuSerialBus):
        return AsyncModbusSerialClient(
            bus.port,
            framer=FramerType.RTU,
            baudrate=bus.baudrate,
            bytesize=bus.bytesize,
            parity=bus.parity,
            stopbits=bus.stopbits,
            timeout=timeout,
            retries=0,
            reconnect_delay=0,
        )
    if isinstance(bus, RtuOverTcpBus):
        # RTU frames (address + PDU + CRC) inside the TCP stream, no MBAP header.
        return AsyncModbusTcpClient(
            bus.host, port=bus.port, framer=FramerType.RTU, timeout=timeout, retries=0, reconnect_delay=0
        )
    assert isinstance(bus, ModbusTcpGatewayBus)
    return tcp_client(bus.host, bus.port, timeout)


class LazyClient:
    """One pymodbus client used by one request at a time (a lane or a pool guarantees that)."""

    def __init__(self, name: str, client: ModbusBaseClient) -> None:
        self.name = name
        self._client = client

    @property
    def connected(self) -> bool:
        return self._client.connected

    async def read(self, function_code: int, address: int, count: int, unit: int, reply_within: float) -> list[int]:
        """`count` registers (3 = holding, 4 = input) of `unit`, or an `AcquisitionError`."""
        what = f"{self.name} unit {unit} fc{function_code} @{address}+{count}"
        # Devices sharing a client may have different timeouts; requests on it never overlap, so
        # setting the timeout per request is safe. pymodbus reads it for each wait from its transaction
        # manager's own copy of the parameters (`ctx.comm_params`), not from `client.comm_params`.
        self._client.ctx.comm_params.timeout_connect = reply_within
        try:
            async with asyncio.timeout(reply_within + GUARD_SECONDS):
                if not self._client.connected and not await self._client.connect():
                    raise DeviceUnreachable(f"{what}: cannot connect")
                call = self._client.read_holding_registers if function_code == 3 else self._client.read_input_registers
                response = await call(address, count=count, device_id=unit)
        except TimeoutError:
            self.close()  # a late answer must not be taken for the next request's
            raise DeviceUnreachable(f"{what}: no answer within {reply_within:g} s") from None
        except ModbusIOException as exc:
            if "no response" in str(exc).lower():  # pymodbus's own timeout fired first
                raise DeviceUnreachable(f"{what}: no answer within {reply_within:g} s") from None
            raise DeviceUnreachable(f"{what}: {_first_line(exc)}") from None
        except (ConnectionException, OSError) as exc:
            raise DeviceUnreachable(f"{what}: {_first_line(exc)}") from None
        except ModbusException as exc:
            raise BadResponse(f"{what}: {_first_line(exc)}") from None
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            if code in GATEWAY_NO_ANSWER:
                raise DeviceUnreachable(str(DeviceRefused(code, what)))
            raise DeviceRefused(code, what)
        registers = list(getattr(response, "registers", []))
        if len(registers) != count:
            raise BadResponse(f"{what}: answer holds {len(registers)} registers")
        return registers

    def close(self) -> None:
        self._client.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
