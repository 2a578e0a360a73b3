"""`bms-bridge poll SITE --once [--json]`: poll every Modbus device once; exit 1 if any device failed."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bms_bridge.commands.check import report_invalid
from bms_bridge.modbus.acquisition import PollResult, poll_once
from bms_bridge.sites import open_site
from metering.log_context import log_context
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite
from point_mapping.registers import point_measure


def describe(site: LoadedSite, result: PollResult) -> dict[str, Any]:
    """The poll result with each reading's meter and unit, which only the site model knows."""
    data = result.as_json()
    model = site.model
    for row in data["readings"]:
        point = model.point_by_id[row["point"]]
        measure = point_measure(model, point, site.profiles)
        row["meter"] = point.meter
        row["unit"] = measure.unit if measure else None
    return data


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    with log_context(site=site.model.site.id):
        result = asyncio.run(poll_once(site))
    data = describe(site, result)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for row in data["readings"]:
            print(f"{row['ts']}  {row['meter']:<16} {row['point']:<32} {row['value']:>14.3f} {row['unit']}")
        for device_id, errors in data["errors"].items():
            print(f"{device_id}: FAILED: {'; '.join(errors)}")
    return 0 if result.ok else 1
