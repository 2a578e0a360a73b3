"""How each field device has been answering: the state behind "online", back-off and status pages.

Pure transitions over a frozen value; the store persists the result and the pollers own the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """Last known communication state of one device (meter, gateway, controller, LPWAN sensor)."""

    device_id: str
    online: bool
    last_success: datetime | None
    last_attempt: datetime | None
    last_error: str | None
    error_count: int  # failures since the record was created
    consecutive_failures: int  # failures since the last success; drives back-off
    updated_at: datetime

    def __post_init__(self) -> None:
        for name in ("last_success", "last_attempt", "updated_at"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"health of {self.device_id}: {name} is naive {moment!r}")
        if self.error_count < 0 or self.consecutive_failures < 0:
            raise ValueError(f"health of {self.device_id}: negative failure counts")

    @classmethod
    def unknown(cls, device_id: str, at: datetime) -> DeviceHealth:
        """A device never polled yet: offline until it has answered once."""
        return cls(device_id, False, None, None, None, 0, 0, at)


def after_attempt(
    previous: DeviceHealth, at: datetime, error: str | None = None, *, offline_after: int = 1
) -> DeviceHealth:
    """State after one poll at `at`: success when `error` is None.

    `offline_after` consecutive failures mark the device offline, so one lost packet on a busy RS-485
    segment need not flip a BMS status flag.
    """
    if error is None:
        return replace(
            previous,
            online=True,
            last_success=at,
            last_attempt=at,
            last_error=None,
            consecutive_failures=0,
            updated_at=at,
        )
    failures = previous.consecutive_failures + 1
    return replace(
        previous,
        online=previous.online and failures < offline_after,
        last_attempt=at,
        last_error=error,
        error_count=previous.error_count + 1,
        consecutive_failures=failures,
        updated_at=at,
    )


def backoff_delay(failures: int, initial: float, maximum: float) -> float:
    """Seconds before retrying a device after `failures` unanswered attempts in a row (≥ 1)."""
    return min(initial * float(2 ** min(failures - 1, 62)), maximum)
