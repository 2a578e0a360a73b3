"""`bms-bridge users add SITE NAME --role R [--tenant T] [--password-stdin]`, `users list SITE`,
`users token SITE NAME [--label L]`: the web app's accounts and API tokens.

The password is read from standard input (one line), or asked twice at a terminal; it never goes on
the command line, where other users of the machine could read it in the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys

from bms_bridge.commands.check import report_invalid
from bms_bridge.sites import database_url, open_site
from bms_bridge.web.roles import Role
from bms_bridge.web.users import UserError, UserStore
from metering.store import Store
from point_mapping.errors import SiteInvalid
from point_mapping.loader import LoadedSite


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


async def _add(site: LoadedSite, db_url: str, args: argparse.Namespace) -> int:
    role = Role(args.role)
    if args.tenant is not None and args.tenant not in site.model.tenant_by_id:
        print(f"error: no tenant {args.tenant!r} in {site.folder}", file=sys.stderr)
        return 1
    password = _password(args.password_stdin)
    async with Store.open(db_url) as store:
        user = await UserStore(store.engine).add(args.name, password, role, args.tenant)
    print(f"added {user.name} ({user.role.value}{': ' + user.tenant_id if user.tenant_id else ''})")
    return 0


async def _list(db_url: str, as_json: bool) -> int:
    async with Store.open(db_url) as store:
        users = await UserStore(store.engine).list()
    if as_json:
        rows = [
            {"name": u.name, "role": u.role.value, "tenant": u.tenant_id, "created_at": u.created_at.isoformat()}
            for u in users
        ]
        print(json.dumps(rows, indent=2))
    else:
        for u in users:
            print(f"{u.name:24} {u.role.value:11} {u.tenant_id or ''}")
    return 0


async def _token(db_url: str, name: str, label: str) -> int:
    async with Store.open(db_url) as store:
        users = UserStore(store.engine)
        user = await users.by_name(name)
        if user is None:
            print(f"error: no user {name!r}", file=sys.stderr)
            return 1
        token = await users.create_token(user, label)
    print(token)  # shown once: only its hash is stored
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.site)
    except SiteInvalid as error:
        return report_invalid(error)
    db_url = database_url(site, args.db)
    try:
        if args.users_command == "add":
            return asyncio.run(_add(site, db_url, args))
        if args.users_command == "token":
            return asyncio.run(_token(db_url, args.name, args.label))
        return asyncio.run(_list(db_url, args.json))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
