"""Deliver the outbox to the billing system: signed JSON POSTs, one statement version per request.

Each attempt is counted and its retry time committed before the request leaves (`OutboxStore.begin_attempt`),
and the outcome is committed after it. A crash in between leaves the entry pending; the retry carries the
same Idempotency-Key, so the receiver answers it as a duplicate (409) instead of booking it twice, and we
take that answer as delivered. A delivered entry is never sent again. docs/billing-delivery.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

import aiohttp

from billing_export.outbox import OutboxEntry, Outcome, RetryPolicy, classify_response, parse_retry_after
from billing_export.outbox.dead_letter import dead_letter_event
from billing_export.outbox.signing import signed_headers
from billing_export.outbox.store import OutboxStore
from bms_bridge.tasks import cancel_and_wait
from metering.clock import Clock, utc_now
from metering.events import Event
from point_mapping.model.billing_export import BillingExportSettings, delivery_url_problem

log = logging.getLogger(__name__)

AddEvent = Callable[[Event], Awaitable[int]]
OnDelivered = Callable[[OutboxEntry, dict[str, Any]], Awaitable[None]]
_ERROR_TEXT = 500  # characters of a refusal kept as the reason


class DeliveryConfigError(ValueError):
    """The billing_export settings cannot be used (URL not allowed, secret missing)."""


@dataclass(frozen=True)
class DeliveryConfig:
    url: str
    secret: bytes
    timeout: timedelta
    policy: RetryPolicy

    def __post_init__(self) -> None:
        problem = delivery_url_problem(self.url)
        if problem is not None:
            raise DeliveryConfigError(f"billing_export.url: {problem}")
        if not self.secret:
            raise DeliveryConfigError("billing_export: the HMAC key is empty")

    @classmethod
    def from_settings(cls, settings: BillingExportSettings, environ: Mapping[str, str] | None = None) -> DeliveryConfig:
        env = os.environ if environ is None else environ
        secret = env.get(settings.secret_env, "")
        if not secret:
            raise DeliveryConfigError(
                f"billing_export.secret_env: environment variable {settings.secret_env} is not set or empty; "
                "it must hold the HMAC key shared with the billing system"
            )
        policy = RetryPolicy(initial=settings.retry_initial, cap=settings.retry_max, dead_after=settings.dead_after)
        return cls(settings.url, secret.encode(), settings.timeout, policy)


@dataclass(frozen=True)
class _Answer:
    outcome: Outcome
    status: int | None  # None: no HTTP answer at all
    reason: str
    receipt: dict[str, Any] | None = None
    retry_after: timedelta | None = None


class BillingDelivery:
    """`async with BillingDelivery(...)`: a background task sends what is due; `wake()` after enqueueing."""

    def __init__(
        self,
        config: DeliveryConfig,
        outbox: OutboxStore,
        add_event: AddEvent,
        *,
        clock: Clock = utc_now,
        draw: Callable[[], float] = random.random,
        on_delivered: OnDelivered | None = None,
        idle_poll: timedelta = timedelta(seconds=30),
        batch: int = 50,
        background: bool = True,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self._add_event = add_event
        self._clock = clock
        self._draw = draw
        self._on_delivered = on_delivered
        self._idle_poll = idle_poll
        self._batch = batch
        self._background = background
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def __aenter__(self) -> BillingDelivery:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout.total_seconds())
        self._session = aiohttp.ClientSession(timeout=timeout)
        if self._background:
            self._task = asyncio.create_task(self._run(), name="billing-delivery")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await cancel_and_wait(self._task)
        if self._session is not None:
            await self._session.close()

    def wake(self) -> None:
        """New entries are queued: look now rather than at the next poll."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """One round: every entry due now gets one attempt. Returns how many were delivered."""
        delivered = 0
        while True:
            entries = await self.outbox.due(self._clock(), self._batch)
            if not entries:
                return delivered
            for entry in entries:
                delivered += await self._attempt(entry)

    async def _run(self) -> None:
        while True:
            try:
                await self.deliver_due()
                wait = self._idle_poll.total_seconds()
                due = await self.outbox.next_due()
                if due is not None:
                    wait = min(wait, max((due - self._clock()).total_seconds(), 0.0))
            except Exception:  # a database hiccup must not stop deliveries for good
                log.exception("billing delivery round failed; trying again")
                wait = self._idle_poll.total_seconds()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def _attempt(self, entry: OutboxEntry) -> int:
        policy, now = self.config.policy, self._clock()
        if policy.expired(entry.created_at, now):
            last = entry.last_error or "no answer"
            await self._dead(entry, f"undelivered after {policy.dead_after.days} days (last: {last})")
            return 0
        failures = entry.attempts + 1
        # committed before sending: if we die mid-request, this is when the same request is tried again
        in_flight_until = now + self.config.timeout + policy.delay(failures, self._draw())
        if not await self.outbox.begin_attempt(entry, in_flight_until):
            return 0  # taken meanwhile (another round) or no longer pending
        answer = await self._post(entry)
        now = self._clock()
        if answer.outcome in (Outcome.DELIVERED, Outcome.ALREADY_DELIVERED):
            receipt = answer.receipt or {"status": answer.status}
            if await self.outbox.mark_delivered(entry.id, receipt, now):
                log.info("statement %s delivered (HTTP %s)", entry.key, answer.status)
                await self._tell_delivered(entry, receipt)
                return 1
            return 0
        if answer.outcome is Outcome.DEAD:
            await self._dead(entry, answer.reason)
            return 0
        retry_at = now + policy.delay(failures, self._draw(), answer.retry_after)
        # never wait past the dead-letter moment: the event should appear when the window closes
        retry_at = min(retry_at, entry.created_at + policy.dead_after)
        log.warning("statement %s not delivered (%s); retry at %s", entry.key, answer.reason, retry_at.isoformat())
        await self.outbox.retry_later(entry.id, retry_at, answer.reason)
        return 0

    async def _tell_delivered(self, entry: OutboxEntry, receipt: dict[str, Any]) -> None:
        if self._on_delivered is None:
            return
        try:
            await self._on_delivered(entry, receipt)
        except Exception:  # delivered is committed; the statement's own state can be set again from the outbox
            log.exception("statement %s delivered, but recording it as exported failed", entry.key)

    async def _post(self, entry: OutboxEntry) -> _Answer:
        assert self._session is not None, "use BillingDelivery in async with"
        timestamp = int(self._clock().timestamp())
        headers = signed_headers(self.config.secret, timestamp, entry.key, entry.body)
        try:
            async with self._session.post(
                self.config.url, data=entry.body, headers=headers, allow_redirects=False
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
                retry_after = parse_retry_after(status, response.headers.get("Retry-After"), self._clock())
        except TimeoutError:
            return _Answer(Outcome.RETRY, None, f"no answer within {self.config.timeout.total_seconds():g} s")
        except (aiohttp.ClientError, OSError) as exc:
            return _Answer(Outcome.RETRY, None, f"{type(exc).__name__}: {exc}")
        outcome = classify_response(status)
        reason = f"HTTP {status}" + (f": {text[:_ERROR_TEXT]}" if text and outcome is not Outcome.DELIVERED else "")
        return _Answer(outcome, status, reason, _receipt(status, text), retry_after)

    async def _dead(self, entry: OutboxEntry, reason: str) -> None:
        # the event first: it is idempotent by key, so a crash before mark_dead repeats both, harmlessly
        await self._add_event(dead_letter_event(entry, reason, self._clock()))
        if await self.outbox.mark_dead(entry.id, reason):
            log.error("statement %s dead-lettered: %s", entry.key, reason)


def _receipt(status: int, text: str) -> dict[str, Any]:
    """The receiver's answer as stored: its JSON object, or the status and text when it sent none."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    return {"status": status, "text": text[:_ERROR_TEXT]}
