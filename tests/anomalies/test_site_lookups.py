"""What the rules know about the demo site: what each water point contains, who pays, which meters pair up."""

from __future__ import annotations

from datetime import date

from bms_bridge.commands.demo import DEMO_SITE
from bms_bridge.sites import open_site
from metering.anomalies.after_hours import scopes
from metering.anomalies.site import contained_points, metered_groups, parent_point, tenants_of_point


def test_containment_follows_sub_meters_and_formulas() -> None:
    site = open_site(DEMO_SITE).model
    contains = contained_points(site)
    assert contains["cw.B-main"] == {"cw.B0-fit", "cw.B2-wc", "cw.B-1-wc"}
    # cw.B-common = cw.B-main - cw.B0-fit: the restrooms' water flows through it, the gym's does not
    assert contains["cw.B-common"] == {"cw.B-main", "cw.B2-wc", "cw.B-1-wc"}
    assert contains["cw.B2-wc"] == frozenset()
    assert parent_point(site, site.point_by_id["cw.B2-wc"]) == "cw.B-main"
    assert parent_point(site, site.point_by_id["el.A4-03"]) == "el.A-main"


def test_who_pays_and_what_is_judged_per_tenant() -> None:
    site = open_site(DEMO_SITE).model
    assert tenants_of_point(site, site.point_by_id["cw.B2-wc"], date(2026, 2, 1)) == ()  # a common restroom
    assert tenants_of_point(site, site.point_by_id["el.B2-03"], date(2026, 2, 1)) == ("media-nord",)
    nordlicht = next(s for s in scopes(site, date(2026, 2, 1)) if s.tenant == "nordlicht-it")
    # the server room's point is always on: judged are the two offices and their 1520 m²
    assert [p.id for p in nordlicht.points] == ["el.A3-01", "el.A3-02"] and nordlicht.area_m2 == 1520
    groups = {g.main: g.subs for g in metered_groups(site)}
    assert groups["cw.B-main"] == ("cw.B0-fit", "cw.B2-wc", "cw.B-1-wc")
    assert "el.A4-03" in groups["el.A-main"]
