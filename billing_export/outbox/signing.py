"""Request signing for the billing system (docs/billing-delivery.md has the receiver's recipe).

signature = hex(HMAC-SHA256(key, f"{timestamp}.".encode() + body)), timestamp = Unix seconds.
Signing the timestamp with the body lets a receiver refuse replays of an old request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-BMS-Timestamp"
SIGNATURE_HEADER = "X-BMS-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, timestamp: int, key: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        IDEMPOTENCY_HEADER: key,
    }


def verify(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, now: int | None = None, tolerance: int = 300
) -> bool:
    """The receiver's check: a well-formed timestamp, a matching signature, and (when `now` is given) a
    timestamp no further than `tolerance` seconds from it. Compared in constant time."""
    stamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not stamp.isdigit() or not given:
        return False
    timestamp = int(stamp)
    if now is not None and abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), given.lower())
