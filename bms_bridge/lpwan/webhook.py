"""HTTP intake for uplinks POSTed by a network server (ChirpStack v4 HTTP integration, TTS v3 webhook).

`async with LpwanWebhook(intake) as hook:` serves `lpwan.webhook.path` on its host and port;
`webhook_app()` gives the bare aiohttp application for embedding in another server.

Formats: ChirpStack's HTTP integration posts every event to one URL with `?event=up|join|status|...`;
only `up` carries readings, the others are acknowledged with 204 and dropped. A body without an
`event` parameter is recognised by its keys (ChirpStack `deviceInfo`, TTS `end_device_ids`).

Authentication, with the secret read from the environment variable named in the site's YAML:
- `token`: the header (default `Authorization`) holds the secret, bare or as `Bearer <secret>`
  (both network servers let an integrator add fixed headers to their webhooks);
- `hmac-sha256`: the header (default `X-Signature`) holds the hex HMAC-SHA256 of the raw body, bare or
  as `sha256=<hex>`.
Comparisons are constant-time (`hmac.compare_digest`); a failure is 401 and nothing is read further.

Answers: 200 `{"duplicate": false, "readings": n}`; 200 `{"duplicate": true}` for a frame already
seen; 400 with the reason for a malformed uplink; 404 for an unknown DevEUI; 503 when the readings
could not be handed to the store (the network server may retry).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Mapping
from types import TracebackType

from aiohttp import web

from bms_bridge.lpwan.intake import UnknownDevice, UplinkIntake
from metering.failure_log import FailureLog
from metering.lpwan import Network, UplinkError
from point_mapping.model.services import Webhook, WebhookAuth

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # an uplink event is a few kB; anything much larger is not one
_HEX = frozenset("0123456789abcdefABCDEF")
_DEFAULT_HEADER = {"token": "Authorization", "hmac-sha256": "X-Signature"}


class LpwanConfigError(RuntimeError):
    """The LPWAN intake cannot start with the site's settings (missing section or secret)."""


def read_secret(env_name: str, environ: Mapping[str, str], where: str) -> bytes:
    secret = environ.get(env_name, "")
    if not secret:
        raise LpwanConfigError(f"environment variable {env_name} ({where}) is not set or empty; it holds the secret")
    return secret.encode()


class _Authenticator:
    def __init__(self, auth: WebhookAuth, secret: bytes) -> None:
        self.kind = auth.kind
        self.header = auth.header or _DEFAULT_HEADER[auth.kind]
        self._secret = secret

    def precheck(self, request: web.Request) -> str | None:
        """What can be refused before the body is read: no credential, a wrong token, a malformed
        signature. Only a request that may be authentic costs reading its body."""
        given = request.headers.get(self.header, "").strip()
        if not given:
            return f"missing {self.header} header"
        if self.kind == "token":
            token = given[7:].strip() if given[:7].lower() == "bearer " else given
            ok = hmac.compare_digest(token.encode(), self._secret)
            return None if ok else f"wrong token in {self.header}"
        signature = given[7:] if given[:7].lower() == "sha256=" else given
        if len(signature) != 64 or not _HEX.issuperset(signature):
            return f"{self.header} is not a hex HMAC-SHA256 (64 hex digits)"
        return None

    def check(self, request: web.Request, body: bytes) -> str | None:
        """None when the request is authentic, else why not (without revealing the secret)."""
        refused = self.precheck(request)
        if refused is not None or self.kind == "token":
            return refused
        given = request.headers[self.header].strip()
        signature = given[7:] if given[:7].lower() == "sha256=" else given
        expected = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(signature.lower().encode(), expected.encode())
        return None if ok else f"{self.header} is not the HMAC-SHA256 of the body"


_INTAKE_KEY = web.AppKey("uplink_intake", UplinkIntake)
_AUTH_KEY = web.AppKey("uplink_auth", _Authenticator)
_FAILURES_KEY = web.AppKey("store_failures", FailureLog)


def webhook_app(intake: UplinkIntake, auth: WebhookAuth, secret: bytes, path: str = "/uplink") -> web.Application:
    """An aiohttp application with one route, POST `path`, feeding `intake`."""
    app = web.Application(client_max_size=MAX_BODY)
    app[_INTAKE_KEY] = intake
    app[_AUTH_KEY] = _Authenticator(auth, secret)
    app[_FAILURES_KEY] = FailureLog(log, "storing LPWAN uplinks from the webhook")
    app.router.add_post(path, _receive)
    return app


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _receive(request: web.Request) -> web.StreamResponse:
    intake = request.app[_INTAKE_KEY]
    authenticator = request.app[_AUTH_KEY]
    refused = authenticator.precheck(request)
    if refused is not None:
        log.warning("webhook request from %s refused: %s", request.remote, refused)
        return _error(401, refused)
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _error(413, f"body larger than {MAX_BODY} bytes; an uplink event is a few kB")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"body larger than {MAX_BODY} bytes; an uplink event is a few kB")
    refused = authenticator.check(request, body)
    if refused is not None:
        log.warning("webhook request from %s refused: %s", request.remote, refused)
        return _error(401, refused)

    event = request.query.get("event")
    network: Network | None = None
    if event is not None:
        if event != "up":
            return web.Response(status=204)  # join, status, ack, log ... carry no readings
        network = "chirpstack"
    try:
        result = await intake.handle_bytes(body, network=network, transport="webhook")
    except UnknownDevice as exc:
        return _error(404, str(exc))
    except UplinkError as exc:
        return _error(400, str(exc))
    except Exception as exc:
        request.app[_FAILURES_KEY].failed(exc)
        return _error(503, "the readings could not be stored; try again later")
    request.app[_FAILURES_KEY].succeeded()
    if result.duplicate:
        return web.json_response({"duplicate": True, "dev_eui": result.dev_eui, "f_cnt": result.f_cnt})
    return web.json_response(
        {"duplicate": False, "dev_eui": result.dev_eui, "f_cnt": result.f_cnt, "readings": result.readings}
    )


class LpwanWebhook:
    """Serves the webhook of `lpwan.webhook` (or `settings`) for as long as the `async with` lasts."""

    def __init__(
        self,
        intake: UplinkIntake,
        settings: Webhook | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        found = settings if settings is not None else intake.site.model.lpwan.webhook
        if found is None:
            raise LpwanConfigError("the site has no 'lpwan: webhook:' section")
        self.settings = found
        self._intake = intake
        self._environ = environ if environ is not None else os.environ
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}{self.settings.path}"

    async def __aenter__(self) -> LpwanWebhook:
        secret = read_secret(self.settings.auth.secret_env, self._environ, "lpwan.webhook.auth.secret_env")
        app = webhook_app(self._intake, self.settings.auth, secret, self.settings.path)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.settings.host, self.settings.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("LPWAN webhook listening on %s (%s auth)", self.url, self.settings.auth.kind)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


__all__ = ["LpwanConfigError", "LpwanWebhook", "read_secret", "webhook_app"]
