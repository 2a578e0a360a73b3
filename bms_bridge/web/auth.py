"""Who is asking: browser sessions (cookie + CSRF token) and API bearer tokens; login and logout.

- A session cookie is HttpOnly (no script reads it), SameSite=Lax (not sent with cross-site posts)
  and Secure; every state-changing request made with it must also carry the session's CSRF token
  (form field `csrf_token` or header `X-CSRF-Token`).
- The login form, before there is a session, uses a double-submit token: a random value in a cookie
  and in the form, which another site can neither read nor set.
- A bearer token (`Authorization: Bearer bmsb_...`) is not sent by browsers on their own, so API
  calls made with one need no CSRF token.
- Failed logins are rate-limited per client address and user name (`ratelimit.py`).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from bms_bridge.web.context import context
from bms_bridge.web.scope import Forbidden, Scope
from bms_bridge.web.users import Session, User

log = logging.getLogger(__name__)

SESSION_COOKIE = "bms_session"
LOGIN_CSRF_COOKIE = "bms_login_csrf"
PUBLIC_PATHS = frozenset({"/login", "/api/openapi.json", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

USER = web.RequestKey("user", User)
SCOPE = web.RequestKey("scope", Scope)
SESSION = web.RequestKey("session", Session)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/metrics"


def user_of(request: web.Request) -> User:
    return request[USER]


def scope_of(request: web.Request) -> Scope:
    return request[SCOPE]


def session_of(request: web.Request) -> Session | None:
    return request.get(SESSION)


def current_user(request: web.Request) -> User | None:
    return request.get(USER)


def _unauthorized(request: web.Request, message: str) -> web.StreamResponse:
    if is_api(request):
        return web.json_response({"error": message}, status=401, headers={"WWW-Authenticate": "Bearer"})
    target = request.path_qs if request.method in SAFE_METHODS else "/"
    raise web.HTTPFound(f"/login?next={quote(target, safe='')}")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    ctx = context(request)
    header = request.headers.get("Authorization", "")
    if header:
        kind, _, token = header.partition(" ")
        user = await ctx.users.user_for_token(token.strip()) if kind.lower() == "bearer" else None
        if user is None:
            return _unauthorized(request, "invalid bearer token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        session = await ctx.users.session(cookie) if cookie else None
        if session is None:
            return _unauthorized(request, "log in or send an API token")
        if request.method not in SAFE_METHODS and not await _csrf_ok(request, session.csrf_token):
            raise Forbidden("missing or wrong CSRF token")  # a page for a browser, JSON for the API
        request[SESSION] = session
        user = session.user
    request[USER] = user
    request[SCOPE] = Scope.for_user(user, ctx.site.model)
    return await handler(request)


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    given = request.headers.get("X-CSRF-Token")
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get("csrf_token")
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given, expected)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://...` (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: web.Request, *, error: str = "", status: int = 200, name: str = "", next_path: str | None = None
) -> web.Response:
    # One token per browser, kept while its cookie lives: two tabs (or a background request that
    # lands on the login page) must not invalidate each other's form.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    target = _safe_next(next_path if next_path is not None else request.query.get("next"))
    response = aiohttp_jinja2.render_template(
        "login.html", request, {"login_csrf": token, "error": error, "name": name, "next": target}, status=status
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=context(request).settings.secure_cookies,
        path="/login",
    )
    return response


async def login_form(request: web.Request) -> web.Response:
    return _login_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    given, expected = str(form.get("csrf_token", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    next_path = str(form.get("next", "")) or None
    if not expected or not hmac.compare_digest(given, expected):
        return _login_page(
            request, error="The form expired; please try again.", status=403, name=name, next_path=next_path
        )
    address = request.remote or "?"
    wait = ctx.limiter.retry_after(address, name)
    if wait is not None:
        ctx.metrics.logins_refused.inc()
        seconds = max(1, int(wait.total_seconds()))
        response = _login_page(
            request,
            error=f"Too many failed logins; try again in {seconds} s.",
            status=429,
            name=name,
            next_path=next_path,
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    user = await ctx.users.authenticate(name, password)
    if user is None:
        ctx.limiter.failed(address, name)
        ctx.metrics.login_failures.inc()
        log.warning("failed login for %r from %s", name, address)
        return _login_page(request, error="Wrong user name or password.", status=401, name=name, next_path=next_path)
    ctx.limiter.succeeded(address, name)
    session_id, _session = await ctx.users.create_session(user, ctx.settings.session_ttl)
    log.info("%s (%s) logged in from %s", user.name, user.role.value, address)
    response = web.HTTPFound(_safe_next(next_path))
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="Lax",
        secure=ctx.settings.secure_cookies,
        path="/",
        max_age=int(ctx.settings.session_ttl.total_seconds()),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await context(request).users.end_session(cookie)
    response = web.HTTPFound("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
