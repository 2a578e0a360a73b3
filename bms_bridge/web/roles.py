"""Roles and what each may do. Which *data* a user sees is the scope's business (`scope.py`)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything, including users
    OPERATOR = "operator"  # runs the building: every page, acknowledges events
    ENGINEER = "engineer"  # HVAC and energy engineer: every chart, devices
    ACCOUNTANT = "accountant"  # billing review
    INTEGRATOR = "integrator"  # point mappings, devices, the API
    TENANT = "tenant"  # one tenant's own contracts only


class Permission(StrEnum):
    VIEW_SITE = "view_site"  # charts and events of the whole site
    VIEW_DEVICES = "view_devices"  # devices, mapping status, YAML locations
    VIEW_BILLING = "view_billing"  # statements
    REVIEW_BILLING = "review_billing"  # review, adjust and approve statements
    VIEW_METRICS = "view_metrics"  # /metrics
    ACKNOWLEDGE = "acknowledge"  # events
    IMPORT_READINGS = "import_readings"  # manual meter readings from a CSV file


_ALL = frozenset(Permission)
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _ALL,
    Role.OPERATOR: frozenset(
        {
            Permission.VIEW_SITE,
            Permission.VIEW_DEVICES,
            Permission.VIEW_METRICS,
            Permission.ACKNOWLEDGE,
            Permission.IMPORT_READINGS,
        }
    ),
    Role.ENGINEER: frozenset({Permission.VIEW_SITE, Permission.VIEW_DEVICES, Permission.VIEW_METRICS}),
    Role.ACCOUNTANT: frozenset({Permission.VIEW_SITE, Permission.VIEW_BILLING, Permission.REVIEW_BILLING}),
    Role.INTEGRATOR: frozenset(
        {Permission.VIEW_SITE, Permission.VIEW_DEVICES, Permission.VIEW_METRICS, Permission.IMPORT_READINGS}
    ),
    # a tenant sees its own data through its scope; no site-wide permission at all
    Role.TENANT: frozenset({Permission.VIEW_BILLING}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]
