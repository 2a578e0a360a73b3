"""`bms-bridge run SITE [--simulate]`: the service until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import sys
from typing import Any

from bms_bridge.billing.wiring import BillingHooks
from bms_bridge.commands.check import report_invalid
from bms_bridge.service import Service, ServiceOptions
from bms_bridge.sites import database_url, open_site
from metering.store import StoreUnavailable
from point_mapping.errors import SiteInvalid
from point_mapping.identifiers import write_lock
from point_mapping.loader import LoadedSite


async def serve(site: LoadedSite, db_url: str, options: ServiceOptions, banner: str = "") -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with Service(site, db_url, options).running():
        # Everything alive after start-up (site model, protocol stacks) lives as long as the process:
        # taken out of the collector's view, it is not rescanned each time a large query (a year of
        # intervals for a chart) triggers a collection (docs/performance.md).
        gc.freeze()
        print(banner or f"bms-bridge running site {site.model.site.id}; Ctrl-C to stop", flush=True)
        await stop.wait()
    print("stopped", flush=True)


def startup_errors() -> tuple[type[BaseException], ...]:
    """Errors that stop the service from starting and that a person can fix (a port taken, a secret unset)."""
    from bms_bridge.bacnet.server import BacnetBindError
    from bms_bridge.billing.delivery import DeliveryConfigError
    from bms_bridge.bms_client.client import BmsClientError
    from bms_bridge.exposure.settings import MissingSecret
    from bms_bridge.lpwan.webhook import LpwanConfigError
    from bms_bridge.opcua.errors import OpcUaServerError

    return (
        BacnetBindError,
        BmsClientError,
        OpcUaServerError,
        LpwanConfigError,
        MissingSecret,
        StoreUnavailable,
        DeliveryConfigError,
        OSError,
    )


def serve_or_explain(site: LoadedSite, db_url: str, options: ServiceOptions, banner: str = "") -> int:
    try:
        asyncio.run(serve(site, db_url, options, banner))
    except startup_errors() as error:
        print(f"error: bms-bridge could not start: {error}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    write_lock(site.folder, site.identifiers)
    db_url = database_url(site, args.db)
    return serve_or_explain(site, db_url, service_options(site, db_url, simulate=args.simulate))


def service_options(site: LoadedSite, db_url: str, **options: Any) -> ServiceOptions:
    """The service's options with the billing schedules acting on the statements in the site's database."""
    from bms_bridge.billing.hooks import StoreBillingHooks

    built = ServiceOptions(**options)
    if site.model.billing_export is not None:
        hooks = StoreBillingHooks(site, db_url, built.clock)
        built.billing = BillingHooks(closer=hooks, statements=hooks)
    return built
