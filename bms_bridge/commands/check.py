"""`bms-bridge check SITE`: validate a site; on success, record new BACnet instances in the lock file."""

from __future__ import annotations

import argparse
import sys

from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.identifiers import LOCK_FILE, write_lock
from point_mapping.loader import LoadedSite


def summary(site: LoadedSite) -> str:
    model = site.model
    spaces = sum(len(f.spaces) for b in model.buildings for f in b.floors)
    area = sum(b.area_m2 for b in model.buildings)
    virtual = sum(1 for p in model.points if p.is_virtual)
    return (
        f"{model.site.id}: OK — {len(model.buildings)} buildings, {spaces} spaces ({area:,.0f} m²), "
        f"{len(model.devices)} devices, {len(model.meters)} meters, {len(model.points)} points "
        f"({virtual} virtual), {len(model.tenants)} tenants, {len(model.contracts)} contracts"
    )


def report_invalid(error: SiteInvalid) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    count = len(error.problems)
    print(f"site is invalid: {count} problem{'s' if count != 1 else ''}; nothing was written", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    print(summary(site))
    if write_lock(site.folder, site.identifiers):
        print(f"updated {site.folder / LOCK_FILE}: commit it so BACnet instance numbers never change")
    return 0
