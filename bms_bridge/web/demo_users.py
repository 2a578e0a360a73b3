"""The demo's logins, one per role, created on the demo's first start (when there are no users yet).

Demo only: the passwords are printed in the banner. A real site adds its users with `bms-bridge users add`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bms_bridge.web.roles import Role
from bms_bridge.web.users import UserStore
from metering.store import Store


@dataclass(frozen=True)
class DemoLogin:
    name: str
    password: str
    role: Role
    tenant: str | None = None


DEMO_LOGINS = (
    DemoLogin("admin", "demo-admin", Role.ADMIN),
    DemoLogin("operator", "demo-operator", Role.OPERATOR),
    DemoLogin("engineer", "demo-engineer", Role.ENGINEER),
    DemoLogin("accountant", "demo-accountant", Role.ACCOUNTANT),
    DemoLogin("integrator", "demo-integrator", Role.INTEGRATOR),
    DemoLogin("nordlicht", "demo-tenant", Role.TENANT, "nordlicht-it"),  # offices and a 24/7 server room
    DemoLogin("lindenhof", "demo-tenant", Role.TENANT, "lindenhof"),  # the restaurant
)


async def ensure_demo_users(db_url: str) -> int:
    """Create the demo logins in an empty users table; returns how many were created."""
    async with Store.open(db_url) as store:
        users = UserStore(store.engine)
        if await users.count():
            return 0
        for login in DEMO_LOGINS:
            await users.add(login.name, login.password, login.role, login.tenant)
    return len(DEMO_LOGINS)


def banner_lines(url: str) -> list[str]:
    lines = [f"  Web app     {url}  (API: {url}/api/v1/, {url}/api/openapi.json)", "  Logins      user / password"]
    for login in DEMO_LOGINS:
        who = f"{login.role.value} {login.tenant}" if login.tenant else login.role.value
        lines.append(f"              {login.name} / {login.password}  ({who})")
    return lines
