"""Why a Modbus request failed, in three kinds that the poller treats differently."""

from __future__ import annotations

# Modbus Application Protocol v1.1b3 §7: exception codes a device or gateway answers with.
EXCEPTION_NAMES: dict[int, str] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}
# A gateway answering 0x0A/0x0B speaks for a device behind it that is silent: that device is dead.
GATEWAY_NO_ANSWER = frozenset({10, 11})


class AcquisitionError(Exception):
    """A request that produced no usable registers; the text goes into the device's health record."""


class DeviceUnreachable(AcquisitionError):
    """No answer at all: timeout, connection refused or lost, gateway reporting a silent target.

    Only this kind drives back-off: a device that answers, even with an error, is alive.
    """


class DeviceRefused(AcquisitionError):
    """The device answered with a Modbus exception (e.g. 02 for an address it does not have)."""

    def __init__(self, code: int, what: str) -> None:
        self.code = code
        super().__init__(f"{what}: exception {code:02d} ({EXCEPTION_NAMES.get(code, 'unknown')})")


class BadResponse(AcquisitionError):
    """An answer that cannot be right: wrong register count, undecodable words."""
