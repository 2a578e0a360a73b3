"""`bms-bridge measures SITE [--json]`: the energy-saving measures recorded in the site's YAML."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import open_site
from point_mapping.errors import SiteInvalid
from point_mapping.model import Measure


def as_json(measure: Measure) -> dict[str, Any]:
    return {
        "id": measure.id,
        "date": measure.date.isoformat(),
        "scope": measure.scope,
        "points": list(measure.points),
        "tenants": list(measure.tenants),
        "building": measure.building,
        "resource": measure.resource.value if measure.resource else None,
        "description": measure.description,
        "expected_saving_pct": measure.expected_saving_pct,
    }


def scope_text(measure: Measure) -> str:
    if measure.scope == "building":
        return f"building {measure.building}"
    return f"{measure.scope} " + ", ".join(measure.points if measure.scope == "points" else measure.tenants)


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    measures = sorted(site.model.measures, key=lambda m: (m.date, m.id))
    if args.json:
        print(json.dumps([as_json(m) for m in measures], indent=2))
        return 0
    for measure in measures:
        print(f"{measure.date}  {measure.id:<24} {scope_text(measure)}")
        print(f"            {measure.description}")
    print(f"{len(measures)} measures")
    return 0
