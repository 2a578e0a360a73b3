"""Users, API tokens and browser sessions, in the service's database (tables of migration 0006).

Passwords are hashed with argon2id (argon2-cffi). Tokens and session ids are 32 random bytes; only
their SHA-256 is stored, so a copy of the database opens no door. SHA-256 suffices there because
they are random, unlike passwords, which need a slow hash against guessing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bms_bridge.web.roles import Role
from metering.clock import Clock, utc_now
from metering.store import schema as t
from metering.store.timecodec import from_ms, to_ms

TOKEN_PREFIX = "bmsb_"


class UserError(ValueError):
    """A user cannot be created as asked (duplicate name, tenant role without tenant, ...)."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    tenant_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class UserStore:
    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now, hasher: PasswordHasher | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        # verified against when the name is unknown, so both cases cost the same time
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    # -- users ------------------------------------------------------------------------------------

    async def add(self, name: str, password: str, role: Role, tenant_id: str | None = None) -> User:
        if not name or len(name) > 100 or not name.isprintable() or name.strip() != name:
            raise UserError(f"invalid user name {name!r}")
        if len(password) < 8:
            raise UserError("the password needs at least 8 characters")
        if (role is Role.TENANT) != (tenant_id is not None):
            raise UserError("a tenant user needs --tenant, and only a tenant user has one")
        created = to_ms(self._clock())
        values: dict[str, Any] = {
            "name": name,
            "password_hash": self._hasher.hash(password),
            "role": role.value,
            "tenant_id": tenant_id,
            "created_at": created,
        }
        try:
            async with self._engine.begin() as conn:
                new_id = (await conn.execute(insert(t.users).values(values).returning(t.users.c.id))).scalar_one()
        except IntegrityError:
            raise UserError(f"a user named {name!r} already exists") from None
        return User(int(new_id), name, role, tenant_id, from_ms(created))

    async def list(self) -> list[User]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(t.users).order_by(t.users.c.name))).all()
        return [_user(row) for row in rows]

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(t.users))).scalar_one())

    async def by_name(self, name: str) -> User | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(t.users).where(t.users.c.name == name))).first()
        return _user(row) if row is not None else None

    async def authenticate(self, name: str, password: str) -> User | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(t.users).where(t.users.c.name == name))).first()
        try:
            self._hasher.verify(row.password_hash if row is not None else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return _user(row) if row is not None else None

    # -- API tokens -------------------------------------------------------------------------------

    async def create_token(self, user: User, label: str = "") -> str:
        """A new bearer token for `user`; the only time the token itself is seen."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        values = {"token_hash": _digest(token), "user_id": user.id, "label": label, "created_at": to_ms(self._clock())}
        async with self._engine.begin() as conn:
            await conn.execute(insert(t.api_tokens).values(values))
        return token

    async def user_for_token(self, token: str) -> User | None:
        query = (
            select(t.users)
            .join(t.api_tokens, t.api_tokens.c.user_id == t.users.c.id)
            .where(t.api_tokens.c.token_hash == _digest(token))
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _user(row) if row is not None else None

    # -- browser sessions -------------------------------------------------------------------------

    async def create_session(self, user: User, ttl: timedelta) -> tuple[str, Session]:
        """(cookie value, session); the cookie value is stored only as its hash."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(user, secrets.token_urlsafe(32), now + ttl)
        values = {
            "session_hash": _digest(session_id),
            "user_id": user.id,
            "csrf_token": session.csrf_token,
            "created_at": to_ms(now),
            "expires_at": to_ms(session.expires_at),
        }
        async with self._engine.begin() as conn:
            # expired sessions are swept here, so the table never grows without bound
            await conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at <= to_ms(now)))
            await conn.execute(insert(t.web_sessions).values(values))
        return session_id, session

    async def session(self, session_id: str) -> Session | None:
        s = t.web_sessions.c
        query = (
            select(t.users, s.csrf_token, s.expires_at)
            .join(t.web_sessions, s.user_id == t.users.c.id)
            .where(s.session_hash == _digest(session_id), s.expires_at > to_ms(self._clock()))
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Session(_user(row), row.csrf_token, from_ms(row.expires_at))

    async def end_session(self, session_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(t.web_sessions).where(t.web_sessions.c.session_hash == _digest(session_id)))


def _user(row: Row[Any]) -> User:
    return User(row.id, row.name, Role(row.role), row.tenant_id, from_ms(row.created_at))
