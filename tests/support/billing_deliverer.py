"""The delivering side as a process of its own, so a test can kill it mid-request (SIGKILL, no clean-up):

    python -m tests.support.billing_deliverer --db URL [--schema S] --url URL --secret-env KEY --now ISO

It runs one delivery round over the outbox with the clock fixed at --now and exits.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta

from billing_export.outbox import RetryPolicy
from billing_export.outbox.store import OutboxStore
from bms_bridge.billing.delivery import BillingDelivery, DeliveryConfig
from metering.store import Store


async def deliver(args: argparse.Namespace) -> None:
    import os

    now = datetime.fromisoformat(args.now)
    options = {"schema": args.schema} if args.schema else {}
    async with Store.open(args.db, **options) as store:
        config = DeliveryConfig(
            args.url, os.environ[args.secret_env].encode(), timedelta(seconds=60), RetryPolicy(jitter=0.0)
        )
        async with BillingDelivery(
            config, OutboxStore(store), store.add_event, clock=lambda: now, draw=lambda: 0.0, background=False
        ) as delivery:
            await delivery.deliver_due()


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--db", "--url", "--secret-env", "--now"):
        parser.add_argument(name, required=True)
    parser.add_argument("--schema")
    asyncio.run(deliver(parser.parse_args()))


if __name__ == "__main__":
    main()
