"""The delivery outbox: statement versions on their way to the billing system.

Pure parts (what to send, how to sign it, when to try again, when to give up) live here beside the
repository that keeps the outbox table; the HTTP client that sends is `bms_bridge.billing.delivery`.
See docs/billing-delivery.md.
"""

from __future__ import annotations

from billing_export.outbox.model import OutboxEntry, OutboxInput, OutboxState, idempotency_key
from billing_export.outbox.policy import Outcome, RetryPolicy, classify_response, parse_retry_after
from billing_export.outbox.signing import sign, signed_headers, verify

__all__ = [
    "OutboxEntry",
    "OutboxInput",
    "OutboxState",
    "Outcome",
    "RetryPolicy",
    "classify_response",
    "idempotency_key",
    "parse_retry_after",
    "sign",
    "signed_headers",
    "verify",
]
