"""When to try a delivery again, and what an answer from the billing system means.

Back-off is exponential with a cap, and jittered downwards so that many statements refused at the
same moment (the receiver was down) do not all come back at the same second. A 429 or 503 that says
`Retry-After` is honoured (RFC 9110 §10.2.3: seconds or an HTTP date), up to a bound, so a broken
header cannot park a statement for years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

from metering.health import backoff_delay


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx: the receiver took it; its answer is the receipt
    ALREADY_DELIVERED = "already-delivered"  # 409: the receiver has this idempotency key already
    RETRY = "retry"  # network error, timeout, 5xx, 408, 429: the same request later
    DEAD = "dead"  # any other answer: sending it again cannot help


# 408 Request Timeout and 429 Too Many Requests are the 4xx that a later, identical request can cure
_RETRYABLE_4XX = frozenset({408, 429})
_RETRY_AFTER_STATUSES = frozenset({429, 503})


def classify_response(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 409:
        return Outcome.ALREADY_DELIVERED
    if status >= 500 or status in _RETRYABLE_4XX:
        return Outcome.RETRY
    return Outcome.DEAD  # other 4xx, and 1xx/3xx: the URL or the request itself is wrong


def parse_retry_after(status: int, value: str | None, now: datetime) -> timedelta | None:
    """The wait a 429/503 asks for, or None when there is none (or it cannot be read)."""
    if status not in _RETRY_AFTER_STATUSES or value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives naive for "-0000"
        return None
    return max(when - now, timedelta(0))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delay before attempt n+1 after n failed attempts: the service's one back-off rule (initial × 2^(n-1),
    capped; `metering.health.backoff_delay`), minus up to `jitter` of it. `dead_after`: how long a
    statement may stay undelivered before it is dead-lettered."""

    initial: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.2
    retry_after_max: timedelta = timedelta(hours=6)
    dead_after: timedelta = timedelta(days=3)

    def __post_init__(self) -> None:
        if self.initial <= timedelta(0) or self.cap < self.initial:
            raise ValueError("retry policy: need 0 < initial <= cap")
        if not 0 <= self.jitter < 1:
            raise ValueError("retry policy: jitter is a fraction in [0, 1)")
        if self.dead_after <= timedelta(0):
            raise ValueError("retry policy: dead_after must be positive")

    def bounds(self, failures: int) -> tuple[timedelta, timedelta]:
        """The shortest and longest wait after `failures` failed attempts (1 or more)."""
        if failures < 1:
            raise ValueError("bounds are for one failed attempt or more")
        longest = backoff_delay(failures, self.initial.total_seconds(), self.cap.total_seconds())
        return timedelta(seconds=longest * (1 - self.jitter)), timedelta(seconds=longest)

    def delay(self, failures: int, draw: float, retry_after: timedelta | None = None) -> timedelta:
        """The wait after `failures` failed attempts; `draw` in [0, 1) picks the jitter (injected so tests
        choose it). A Retry-After longer than the back-off wins, up to `retry_after_max`."""
        if not 0 <= draw < 1:
            raise ValueError("draw must be in [0, 1)")
        shortest, longest = self.bounds(failures)
        wait = longest - (longest - shortest) * draw
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_max))
        return wait

    def expired(self, created_at: datetime, now: datetime) -> bool:
        """True once a statement has waited `dead_after` without being delivered."""
        return now - created_at >= self.dead_after
