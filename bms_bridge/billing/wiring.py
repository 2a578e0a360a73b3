"""The billing parts of the running service as one `async with`: delivery, and the schedules once the
service has something that closes periods and keeps statements (`BillingHooks`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from billing_export.outbox import OutboxEntry
from billing_export.outbox.selection import StatementFeed, select_for_delivery
from billing_export.outbox.store import OutboxStore
from billing_export.period import Period
from bms_bridge.billing.delivery import BillingDelivery, DeliveryConfig
from bms_bridge.billing.scheduler import BillingScheduler
from metering.clock import Clock
from metering.store import Store
from point_mapping.loader import LoadedSite

log = logging.getLogger(__name__)

AUTO_APPROVER = "auto-approve (billing_export.auto_approve)"


class PeriodCloser(Protocol):
    async def close(self, period: Period) -> None:
        """Freeze the period and produce its statements (idempotent: closing twice changes nothing)."""
        ...


@dataclass(frozen=True)
class BillingHooks:
    """What the schedules act on; supplied by the statement store."""

    closer: PeriodCloser
    statements: StatementFeed


class ScheduledBilling:
    """The schedules' actions: close through the closer; export queues approved statements and wakes delivery."""

    def __init__(
        self,
        hooks: BillingHooks,
        outbox: OutboxStore,
        delivery: BillingDelivery,
        clock: Clock,
        *,
        auto_approve: bool,
    ) -> None:
        self._hooks = hooks
        self._outbox = outbox
        self._delivery = delivery
        self._clock = clock
        self._auto_approve = auto_approve

    async def close(self, period: Period) -> None:
        await self._hooks.closer.close(period)

    async def export(self, period: Period, format: str) -> None:
        if format != "json":  # the model allows json only; files are the `export` command's job
            raise ValueError(f"scheduled delivery sends json, not {format}")
        selection = select_for_delivery(
            await self._hooks.statements.export_candidates(period), auto_approve=self._auto_approve
        )
        for candidate in selection.approve:
            await self._hooks.statements.approve(candidate, AUTO_APPROVER)
        added = await self._outbox.enqueue(selection.deliver, self._clock())
        if selection.held:
            log.info("%s: %d statements wait for approval", period, len(selection.held))
        log.info("%s: %d statement versions queued for the billing system", period, len(added))
        self._delivery.wake()


@contextlib.asynccontextmanager
async def billing_running(
    site: LoadedSite, store: Store, clock: Clock, hooks: BillingHooks | None = None
) -> AsyncIterator[BillingDelivery | None]:
    """Deliver the outbox and run the schedules while inside; nothing when the site has no `billing_export:`.

    Raises `DeliveryConfigError` (the service does not start) when the secret's variable is not set.
    """
    settings = site.model.billing_export
    if settings is None:
        yield None
        return
    config = DeliveryConfig.from_settings(settings)
    outbox = OutboxStore(store)
    on_delivered = None
    if hooks is not None:
        feed = hooks.statements

        async def on_delivered(entry: OutboxEntry, receipt: dict[str, Any]) -> None:
            await feed.exported(entry.statement_id, entry.version, receipt)

    async with contextlib.AsyncExitStack() as stack:
        delivery = await stack.enter_async_context(
            BillingDelivery(config, outbox, store.add_event, clock=clock, on_delivered=on_delivered)
        )
        if settings.schedules and hooks is None:
            log.warning("billing_export.schedules are set, but nothing keeps statements yet: schedules do not run")
        elif settings.schedules and hooks is not None:
            actions = ScheduledBilling(hooks, outbox, delivery, clock, auto_approve=settings.auto_approve)
            scheduler = BillingScheduler(
                settings, site.model.site.zone, actions, clock=clock, add_event=store.add_event
            )
            await stack.enter_async_context(scheduler)
        yield delivery
