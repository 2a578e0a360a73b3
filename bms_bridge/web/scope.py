"""What a user may see, derived once from the user: the one place tenant isolation is decided.

Every query of the web app and the API goes through a `Scope` (see `queries.py`): it names the
points a user sees and, per point, the time windows they see it in. For a tenant that is the points
of its own contracts, each within the lease of the contract that bills it (move-in to move-out, in
the site's local time); events that concern the tenant or its points during a lease; and, when
statements are stored, its own statements. Anything outside the scope is `NotVisible`, which the
web layer answers with 404, exactly as for an id that does not exist: a tenant cannot even learn
which other ids are there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bms_bridge.web.roles import Permission, Role, allows
from bms_bridge.web.users import User
from metering.events import EvidenceSample
from metering.store import Event
from point_mapping.model import Contract, Point, SiteModel, Tenant

Window = tuple[datetime, datetime]  # [start, end), aware UTC

FOREVER = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


class NotVisible(LookupError):
    """The thing asked for does not exist for this user (whether or not it exists at all)."""


class Forbidden(PermissionError):
    """The user's role may not do this (a page or action, not a piece of data)."""


def lease_window(contract: Contract, zone: ZoneInfo) -> Window:
    """[move-in, move-out) of a contract as UTC instants; an open-ended lease runs to FOREVER."""
    start = datetime.combine(contract.start, contract.move_in or time(0), tzinfo=zone).astimezone(UTC)
    if contract.end is None:
        return start, FOREVER[1]
    if contract.move_out is None:
        end = datetime.combine(contract.end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    else:
        end = datetime.combine(contract.end, contract.move_out, tzinfo=zone).astimezone(UTC)
    return start, end


def _merge(windows: Iterable[Window]) -> tuple[Window, ...]:
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True)
class Scope:
    """The data one user sees. Build with `Scope.for_user`."""

    site: SiteModel
    role: Role
    tenant_id: str | None  # None: the whole site
    # point id -> windows it is visible in; None means every point, all the time
    _windows: dict[str, tuple[Window, ...]] | None

    @classmethod
    def for_user(cls, user: User, site: SiteModel) -> Scope:
        if user.role is not Role.TENANT:
            return cls(site, user.role, None, None)
        zone = site.site.zone
        per_point: dict[str, list[Window]] = {}
        for contract in site.contracts:
            if contract.tenant != user.tenant_id:
                continue
            window = lease_window(contract, zone)
            for share in contract.points:
                per_point.setdefault(share.point, []).append(window)
        return cls(site, user.role, user.tenant_id, {p: _merge(w) for p, w in per_point.items()})

    @property
    def whole_site(self) -> bool:
        return self._windows is None

    def allows(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.allows(permission):
            raise Forbidden(f"the {self.role.value} role may not {permission.value.replace('_', ' ')}")

    # -- points and time --------------------------------------------------------------------------

    def points(self) -> list[Point]:
        """Visible points, in YAML order."""
        if self._windows is None:
            return list(self.site.points)
        return [p for p in self.site.points if p.id in self._windows]

    def point(self, point_id: str) -> Point:
        point = self.site.point_by_id.get(point_id)
        if point is None or (self._windows is not None and point_id not in self._windows):
            raise NotVisible(f"no point {point_id!r}")
        return point

    def windows(self, point_id: str) -> tuple[Window, ...]:
        self.point(point_id)
        return (FOREVER,) if self._windows is None else self._windows[point_id]

    def clip(self, point_id: str, start: datetime, end: datetime) -> list[Window]:
        """The parts of [start, end) in which `point_id` is visible (possibly none); NotVisible for a
        point outside the scope."""
        parts = []
        for lo, hi in self.windows(point_id):
            a, b = max(lo, start.astimezone(UTC)), min(hi, end.astimezone(UTC))
            if a < b:
                parts.append((a, b))
        return parts

    def visible_at(self, point_id: str, moment: datetime) -> bool:
        return any(lo <= moment < hi for lo, hi in self.windows(point_id))

    # -- tenants, events, statements ---------------------------------------------------------------

    def tenants(self) -> list[Tenant]:
        if self.tenant_id is None:
            return list(self.site.tenants)
        return [t for t in self.site.tenants if t.id == self.tenant_id]

    def tenant(self, tenant_id: str) -> Tenant:
        tenant = self.site.tenant_by_id.get(tenant_id)
        if tenant is None or (self.tenant_id is not None and tenant_id != self.tenant_id):
            raise NotVisible(f"no tenant {tenant_id!r}")
        return tenant

    def contracts(self, tenant_id: str) -> list[Contract]:
        self.tenant(tenant_id)
        return [c for c in self.site.contracts if c.tenant == tenant_id]

    def sees_event(self, event: Event) -> bool:
        """A tenant sees events naming it, or about one of its points while that point is its."""
        if self._windows is None:
            return True
        if self.tenant_id in event.tenants:
            return True
        windows = self._windows.get(event.subject)
        return windows is not None and any(lo <= event.started_at < hi for lo, hi in windows)

    def redact_event(self, event: Event) -> Event:
        """What a tenant may read of an event it sees: other tenants' names and the values of other
        tenants' metering points are taken out; free-form details are not shown at all."""
        if self._windows is None:
            return event
        visible = self._windows

        def keep(key: str) -> bool:  # BMS values (valves, temperatures) are no tenant's meter data
            return key not in self.site.point_by_id or key in visible

        evidence = tuple(
            EvidenceSample(sample.ts, {k: v for k, v in sample.values.items() if keep(k)}) for sample in event.evidence
        )
        tenants = tuple(t for t in event.tenants if t == self.tenant_id)
        return replace(event, tenants=tenants, evidence=evidence, details={})

    @property
    def peer_names_visible(self) -> bool:
        """Whether a comparison with similar tenants may name them (and show fewer than three);
        a tenant sees only anonymous figures (see `peers.py`)."""
        return self._windows is None

    def sees_statement(self, tenant_id: str) -> bool:
        """Whether the caller may see a statement of `tenant_id` (a tenant: its own only)."""
        if not self.allows(Permission.VIEW_BILLING):
            return False
        return self.tenant_id is None or tenant_id == self.tenant_id
