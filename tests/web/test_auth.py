"""Logins, sessions, CSRF, the login rate limit and API tokens, against a real server on loopback."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie

from yarl import URL

from bms_bridge.web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.web.conftest import PASSWORD, WebWorld, log_in, login_token, serve


async def test_login_sets_a_secure_httponly_samesite_session_cookie(world: WebWorld) -> None:
    async with serve(world) as client:
        response = await log_in(client, "ops")
        assert response.status == 302
        assert response.headers["Location"] == "/"
        cookie = SimpleCookie(next(v for v in response.headers.getall("Set-Cookie") if SESSION_COOKIE in v))
        morsel = cookie[SESSION_COOKIE]
        assert morsel["httponly"] and morsel["secure"]
        assert morsel["samesite"] == "Lax"
        assert morsel["path"] == "/"
        page = await client.get("/")
        assert page.status == 200
        assert "ops (operator)" in await page.text()


async def test_login_form_without_its_csrf_token_is_refused(world: WebWorld) -> None:
    async with serve(world) as client:
        await client.get("/login")  # sets the login CSRF cookie
        response = await client.post(
            "/login", data={"name": "ops", "password": PASSWORD, "csrf_token": "guessed"}, allow_redirects=False
        )
        assert response.status == 403
        assert SESSION_COOKIE not in client.session.cookie_jar.filter_cookies(client.make_url("/"))


async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(world: WebWorld) -> None:
    async with serve(world) as client:
        wrong_password = await log_in(client, "ops", "not the password")
        unknown_user = await log_in(client, "nobody", PASSWORD)
        assert wrong_password.status == unknown_user.status == 401
        assert "Wrong user name or password." in await wrong_password.text()
        assert "Wrong user name or password." in await unknown_user.text()


async def test_pages_redirect_to_login_and_the_api_answers_401(world: WebWorld) -> None:
    async with serve(world) as client:
        page = await client.get("/points/main.power/load?from=2025-06-01", allow_redirects=False)
        assert page.status == 302
        location = URL(page.headers["Location"])
        assert location.path == "/login"
        assert location.query["next"] == "/points/main.power/load?from=2025-06-01"
        api = await client.get("/api/v1/points")
        assert api.status == 401
        assert (await api.json()) == {"error": "log in or send an API token"}
        assert (await client.get("/metrics")).status == 401


async def test_login_returns_to_the_page_asked_for_but_never_to_another_site(world: WebWorld) -> None:
    async with serve(world) as client:
        for given, expected in [("/devices", "/devices"), ("//evil.example/x", "/"), ("https://evil.example", "/")]:
            page = await client.get("/login", params={"next": given})
            response = await client.post(
                "/login",
                data={"name": "ops", "password": PASSWORD, "csrf_token": login_token(await page.text()), "next": given},
                allow_redirects=False,
            )
            assert response.headers["Location"] == expected


async def test_logout_needs_the_session_csrf_token(world: WebWorld) -> None:
    async with serve(world) as client:
        await log_in(client, "ops")
        refused = await client.post("/logout", data={"csrf_token": "forged"}, allow_redirects=False)
        assert refused.status == 403
        assert "missing or wrong CSRF token" in await refused.text()  # as a page: a browser posted it
        assert (await client.get("/", allow_redirects=False)).status == 200  # still logged in
        token = login_token(await (await client.get("/")).text())
        done = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
        assert done.status == 302
        assert (await client.get("/", allow_redirects=False)).status == 302


async def test_a_stolen_cookie_is_useless_after_logout(world: WebWorld) -> None:
    async with serve(world) as client:
        await log_in(client, "ops")
        cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
        token = login_token(await (await client.get("/")).text())
        await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    async with serve(world) as other:
        response = await other.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        assert response.status == 401


async def test_sessions_expire(world: WebWorld) -> None:
    async with serve(world, session_ttl=timedelta(hours=12)) as client:
        await log_in(client, "ops")
        world.clock.advance(timedelta(hours=11, minutes=59))
        assert (await client.get("/api/v1/me")).status == 200
        world.clock.advance(timedelta(minutes=1))
        assert (await client.get("/api/v1/me")).status == 401


async def test_failed_logins_are_rate_limited_per_address_and_user(world: WebWorld) -> None:
    async with serve(world, login_max_failures=5, login_window=timedelta(minutes=15)) as client:
        for _ in range(5):
            assert (await log_in(client, "ops", "guess")).status == 401
        # the sixth attempt is refused even with the right password
        refused = await log_in(client, "ops", PASSWORD)
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "900"
        assert "Too many failed logins" in await refused.text()
        # another user from the same address is not locked out by someone guessing at "ops"
        assert (await log_in(client, "admin", PASSWORD)).status == 302
        world.clock.advance(timedelta(minutes=14))
        assert (await log_in(client, "ops", PASSWORD)).status == 429
        world.clock.advance(timedelta(minutes=1))
        assert (await log_in(client, "ops", PASSWORD)).status == 302


async def test_one_address_trying_many_names_is_stopped_too(world: WebWorld) -> None:
    async with serve(world, login_max_failures=2) as client:
        for index in range(8):  # 2 per name, 4 x 2 per address
            assert (await log_in(client, f"name{index // 2}", "guess")).status == 401
        assert (await log_in(client, "admin", PASSWORD)).status == 429


async def test_api_tokens_authenticate_and_bad_tokens_do_not(world: WebWorld) -> None:
    ops = await world.users.by_name("ops")
    assert ops is not None
    token = await world.users.create_token(ops, "prometheus")
    assert token.startswith("bmsb_")
    async with serve(world) as client:
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert (await me.json()) == {"name": "ops", "role": "operator", "tenant": None}
        bad = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
        assert bad.status == 401
        assert bad.headers["WWW-Authenticate"] == "Bearer"
        metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert metrics.status == 200


async def test_the_login_csrf_cookie_is_scoped_to_the_login_form(world: WebWorld) -> None:
    async with serve(world) as client:
        page = await client.get("/login")
        cookie = SimpleCookie(page.headers["Set-Cookie"])[LOGIN_CSRF_COOKIE]
        assert cookie["path"] == "/login" and cookie["httponly"] and cookie["samesite"] == "Strict"
        assert page.headers["X-Frame-Options"] == "DENY"
