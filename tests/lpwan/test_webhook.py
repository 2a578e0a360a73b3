"""The webhook on a real aiohttp server, spoken to by a real HTTP client."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bms_bridge.lpwan import LpwanConfigError, LpwanWebhook
from metering.readings import Quality
from metering.store import ReadingWriter, Store
from tests.lpwan.conftest import Rig, make_rig
from tests.lpwan.messages import chirpstack_up, tts_up, water_payload
from tests.lpwan.sites import HEAT_EUI, TOKEN_ENV, WATER_EUI, write_site
from tests.support.services import free_tcp_port

SECRET = "s3cret-token"


def _site_yaml(port: int, kind: str) -> str:
    return f"webhook: {{port: {port}, path: /lpwan/up, auth: {{kind: {kind}, secret_env: {TOKEN_ENV}}}}}\n"


async def _serve(tmp_path: Path, store: Store, kind: str) -> AsyncIterator[tuple[Rig, LpwanWebhook]]:
    site = write_site(tmp_path / "site", webhook=_site_yaml(free_tcp_port(), kind))
    rig = make_rig(site, store)
    async with LpwanWebhook(rig.intake, environ={TOKEN_ENV: SECRET}) as hook:
        yield rig, hook


@pytest.fixture
async def token_hook(tmp_path: Path, store: Store) -> AsyncIterator[tuple[Rig, LpwanWebhook]]:
    async for served in _serve(tmp_path, store, "token"):
        yield served


@pytest.fixture
async def hmac_hook(tmp_path: Path, store: Store) -> AsyncIterator[tuple[Rig, LpwanWebhook]]:
    async for served in _serve(tmp_path, store, "hmac-sha256"):
        yield served


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _post(
    http: aiohttp.ClientSession,
    url: str,
    message: Any,
    *,
    headers: dict[str, str] | None = None,
    event: str | None = "up",
) -> tuple[int, Any]:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    params = {"event": event} if event else {}
    hdrs = {"Authorization": f"Bearer {SECRET}"} if headers is None else headers
    async with http.post(url, data=body, params=params, headers=hdrs) as response:
        payload = await response.json() if response.content_type == "application/json" else None
        return response.status, payload


def _water(f_cnt: int, litres: int, time: str = "2025-03-04T10:15:00Z") -> dict[str, Any]:
    return chirpstack_up(WATER_EUI.upper(), f_cnt, water_payload(litres, 2150), time)


# -- formats ----------------------------------------------------------------------------------------


async def test_chirpstack_uplink_is_stored_at_device_time(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = token_hook
    status, answer = await _post(http, hook.url, _water(10, 12345, "2025-03-04T10:15:00.123456789Z"))
    assert status == 200
    assert answer == {"duplicate": False, "dev_eui": WATER_EUI, "f_cnt": 10, "readings": 2}
    [volume] = await rig.readings("WM-1.volume")
    assert volume.value == pytest.approx(12.345)
    assert volume.ts == datetime(2025, 3, 4, 10, 15, 0, 123000, tzinfo=UTC)  # device time, ms precision
    assert volume.source == f"lpwan:{WATER_EUI}"
    [temp] = await rig.readings("WM-1.temp")
    assert temp.value == pytest.approx(21.5)


async def test_tts_uplink_is_detected_without_event_parameter(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = token_hook
    message = tts_up(HEAT_EUI, 7, {"meter": {"energy": 1234}}, "2025-03-04T10:00:00Z")
    status, answer = await _post(http, hook.url, message, event=None)
    assert status == 200 and answer["readings"] == 1
    [energy] = await rig.readings("HM-1.energy")
    assert energy.value == pytest.approx(1.234)  # kWh from the device, MWh in the point
    assert energy.ts == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


async def test_other_chirpstack_events_are_acknowledged_and_ignored(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = token_hook
    status, _ = await _post(http, hook.url, {"deviceInfo": {"devEui": WATER_EUI}}, event="join")
    assert status == 204
    assert rig.intake.stats.accepted == 0 and rig.intake.stats.rejected == 0


# -- authentication ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": SECRET + "x"}, {"X-Other": SECRET}],
    ids=["missing", "wrong-bearer", "wrong-bare", "wrong-header"],
)
async def test_bad_token_is_refused_and_nothing_stored(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    rig, hook = token_hook
    status, answer = await _post(http, hook.url, _water(10, 1), headers=headers)
    assert status == 401
    assert "Authorization" in answer["error"]
    assert SECRET not in answer["error"]
    assert await rig.readings("WM-1.volume") == []


async def test_bare_token_is_accepted(token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession) -> None:
    _, hook = token_hook
    status, _ = await _post(http, hook.url, _water(10, 1), headers={"Authorization": SECRET})
    assert status == 200


def _sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_hmac_signature_over_the_raw_body(
    hmac_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = hmac_hook
    body = json.dumps(_water(1, 100)).encode()
    status, _ = await _post(http, hook.url, body, headers={"X-Signature": _sign(body)})
    assert status == 200
    body2 = json.dumps(_water(2, 200, "2025-03-04T10:30:00Z")).encode()
    status, _ = await _post(http, hook.url, body2, headers={"X-Signature": "sha256=" + _sign(body2).upper()})
    assert status == 200
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1, 0.2])


@pytest.mark.parametrize("case", ["other-body", "other-secret", "token-instead", "missing"])
async def test_bad_hmac_is_refused(hmac_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession, case: str) -> None:
    rig, hook = hmac_hook
    body = json.dumps(_water(1, 100)).encode()
    headers = {
        "other-body": {"X-Signature": _sign(body + b" ")},
        "other-secret": {"X-Signature": _sign(body, "guess")},
        "token-instead": {"X-Signature": SECRET, "Authorization": f"Bearer {SECRET}"},
        "missing": {},
    }[case]
    status, answer = await _post(http, hook.url, body, headers=headers)
    assert status == 401 and "X-Signature" in answer["error"]
    assert await rig.readings("WM-1.volume") == []


async def test_missing_secret_stops_start_up(tmp_path: Path, store: Store) -> None:
    site = write_site(tmp_path / "site", webhook=_site_yaml(free_tcp_port(), "token"))
    with pytest.raises(LpwanConfigError, match=f"{TOKEN_ENV} .* is not set"):
        async with LpwanWebhook(make_rig(site, store).intake, environ={}):
            pass


# -- duplicates, order, errors ----------------------------------------------------------------------


async def test_duplicate_frame_is_answered_but_not_stored_again(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = token_hook
    assert (await _post(http, hook.url, _water(10, 100)))[0] == 200
    rig.clock.advance(timedelta(minutes=2))
    # same frame counter, even with other content (a retry must never overwrite the first delivery)
    status, answer = await _post(http, hook.url, _water(10, 999, "2025-03-04T10:16:00Z"))
    assert (status, answer["duplicate"]) == (200, True)
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1])
    assert rig.intake.stats.duplicates == 1


async def test_a_rejoin_with_a_new_session_restarts_the_counter(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = token_hook
    await _post(http, hook.url, _water(0, 100))
    rig.clock.advance(timedelta(minutes=20))  # the device rejoined: new device address, counter from 0
    rejoined = chirpstack_up(WATER_EUI, 0, water_payload(150, 2150), "2025-03-04T10:35:00Z", devAddr="0018abcd")
    status, answer = await _post(http, hook.url, rejoined)
    assert (status, answer["duplicate"]) == (200, False)
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1, 0.15])


async def test_a_replay_of_a_stored_frame_is_refused_however_late(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = token_hook
    assert (await _post(http, hook.url, _water(5, 100)))[0] == 200
    rig.clock.advance(timedelta(days=30))  # same session, same counter: a replay, not a rejoin
    status, answer = await _post(http, hook.url, _water(5, 900, "2025-04-03T10:15:00Z"))
    assert (status, answer["duplicate"]) == (200, True)
    # the network server's own uplink id is recognised too, whatever the frame counter says
    again = chirpstack_up(WATER_EUI, 6, water_payload(900, 2150), "2025-04-03T10:30:00Z")
    again["deduplicationId"] = _water(5, 100)["deduplicationId"]
    assert (await _post(http, hook.url, again))[1]["duplicate"] is True
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1])


async def test_late_and_out_of_order_uplinks_are_accepted(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    rig, hook = token_hook
    for f_cnt, litres, time in [(12, 300, "10:45"), (10, 100, "10:15"), (11, 200, "10:30")]:
        status, _ = await _post(http, hook.url, _water(f_cnt, litres, f"2025-03-04T{time}:00Z"))
        assert status == 200
    stored = await rig.readings("WM-1.volume")
    assert [r.ts.strftime("%H:%M") for r in stored] == ["10:15", "10:30", "10:45"]
    assert [r.value for r in stored] == pytest.approx([0.1, 0.2, 0.3])


async def test_unknown_device_is_404(token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession) -> None:
    rig, hook = token_hook
    status, answer = await _post(http, hook.url, chirpstack_up("0102030405060708", 1, b"", "2025-03-04T10:00:00Z"))
    assert status == 404
    assert "no device in site 'test-site' has dev_eui 0102030405060708" in answer["error"]
    assert rig.intake.stats.unknown_devices == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "the body is not JSON"),
        (b"[1, 2]", "the message must be a JSON object, got a list"),
        ({"deviceInfo": {"devEui": WATER_EUI}, "data": "%%%"}, "data is not valid base64"),
        ({"deviceInfo": {"tenantId": "t"}}, "deviceInfo.devEui is missing"),
        (tts_up(HEAT_EUI, 1, {}, "2025-03-04T10:00:00Z"), "deviceInfo is missing"),
        ({"deviceInfo": {"devEui": WATER_EUI}, "fCnt": 1.5}, "fCnt must be an integer 0..4294967295"),
        ({"deviceInfo": {"devEui": WATER_EUI}, "fCnt": 10, "data": "AAE="}, "field 'volume' needs payload bytes"),
        # signed bodies that can never be stored: answered 4xx, so the network server stops retrying
        (b'{"a":' + b"[" * 20_000 + b"]" * 20_000 + b"}", "the body nests too deeply to be an uplink"),
        ({"deviceInfo": {"devEui": WATER_EUI}, "fCnt": 2**63, "data": "AAE="}, "a 32-bit frame counter"),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "bad-base64",
        "no-deveui",
        "tts-as-chirpstack",
        "float-fcnt",
        "short-payload",
        "deep-nesting",
        "fcnt-beyond-32-bits",
    ],
)
async def test_malformed_uplink_is_400_with_the_reason_and_nothing_stored(
    token_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession, body: Any, reason: str
) -> None:
    rig, hook = token_hook
    status, answer = await _post(http, hook.url, body)
    assert status == 400
    assert reason in answer["error"]
    assert await rig.readings("WM-1.volume") == []
    # a rejected frame is not remembered: the corrected delivery of frame 10 is stored
    status, answer = await _post(http, hook.url, _water(10, 100))
    assert (status, answer["duplicate"]) == (200, False)


async def test_credentials_are_checked_before_the_body_is_read(
    token_hook: tuple[Rig, LpwanWebhook], hmac_hook: tuple[Rig, LpwanWebhook], http: aiohttp.ClientSession
) -> None:
    (_, token), (_, signed) = token_hook, hmac_hook
    huge = b"x" * (1024 * 1024)  # beyond the body limit: refused for its credentials, not its size
    assert (await _post(http, token.url, huge, headers={}))[0] == 401
    assert (await _post(http, token.url, huge, headers={"Authorization": "Bearer wrong"}))[0] == 401
    status, answer = await _post(http, signed.url, huge, headers={"X-Signature": "not-hex"})
    assert (status, answer["error"]) == (401, "X-Signature is not a hex HMAC-SHA256 (64 hex digits)")
    assert (await _post(http, token.url, huge))[0] == 413  # authentic, but no uplink is a megabyte


class _Failing:
    """The real store behind a switch: a database that is down, then back (a fault a peer cannot cause)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.down = True

    async def put_many(self, readings: list[Any]) -> None:
        if self.down:
            raise OSError("disk I/O error")
        await self._store.insert_readings(readings)

    async def flush(self) -> None:
        """`put_many` committed already."""


async def test_a_failing_store_is_logged_once_with_a_count_not_per_uplink(
    tmp_path: Path, store: Store, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    site = write_site(tmp_path / "site", webhook=_site_yaml(free_tcp_port(), "token"))
    sink = _Failing(store)
    rig = make_rig(site, store, sink)
    async with LpwanWebhook(rig.intake, environ={TOKEN_ENV: SECRET}) as hook:
        with caplog.at_level(logging.WARNING, logger="bms_bridge.lpwan.webhook"):
            for f_cnt in range(10, 15):
                assert (await _post(http, hook.url, _water(f_cnt, 100)))[0] == 503
            sink.down = False
            assert (await _post(http, hook.url, _water(15, 100)))[0] == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "bms_bridge.lpwan.webhook"]
    assert messages == [
        "storing LPWAN uplinks from the webhook failed: OSError: disk I/O error (logged once until it recovers)",
        "storing LPWAN uplinks from the webhook works again after 5 failures",
    ]
    assert all(r.exc_info is None for r in caplog.records)  # no traceback


class _FailingOnce:
    """Stores through the real store, except that the first hand-over fails (a fault a peer cannot cause)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.failures = 0

    async def put_many(self, readings: list[Any]) -> None:
        if self.failures == 0:
            self.failures += 1
            raise OSError("database is locked")
        await self._store.insert_readings(readings)

    async def flush(self) -> None:
        """`put_many` committed already."""


async def test_a_delivery_answered_503_is_stored_when_the_network_server_retries(
    tmp_path: Path, store: Store, http: aiohttp.ClientSession
) -> None:
    site = write_site(tmp_path / "site", webhook=_site_yaml(free_tcp_port(), "token"))
    sink = _FailingOnce(store)
    rig = make_rig(site, store, sink)
    async with LpwanWebhook(rig.intake, environ={TOKEN_ENV: SECRET}) as hook:
        assert (await _post(http, hook.url, _water(10, 100)))[0] == 503
        rig.clock.advance(timedelta(seconds=30))
        status, answer = await _post(http, hook.url, _water(10, 100))  # the network server's retry
    assert (status, answer["duplicate"], answer["readings"]) == (200, False, 2)
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1])


async def test_a_200_answer_means_the_readings_are_committed(
    tmp_path: Path, store: Store, http: aiohttp.ClientSession
) -> None:
    # Through the real batched writer, which would otherwise hold readings up to its flush interval:
    # the webhook answers only once they are in the database.
    site = write_site(tmp_path / "site", webhook=_site_yaml(free_tcp_port(), "token"))
    async with ReadingWriter(store, flush_interval=60.0) as writer:
        rig = make_rig(site, store, writer)
        async with LpwanWebhook(rig.intake, environ={TOKEN_ENV: SECRET}) as hook:
            assert (await _post(http, hook.url, _water(11, 100)))[0] == 200
            assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1])


async def test_a_crash_after_the_commit_leaves_the_frame_unknown_so_redelivery_is_stored(
    tmp_path: Path, store: Store, http: aiohttp.ClientSession
) -> None:
    # The process dies after the readings were committed but before the frame was remembered (a
    # fault a peer cannot cause): the redelivery is not refused as a duplicate, and stores nothing twice.
    site = write_site(tmp_path / "site", webhook=_site_yaml(free_tcp_port(), "token"))

    class DiesBeforeRemembering(Store):
        async def remember_frame(self, *args: Any, **kwargs: Any) -> bool:
            raise OSError("killed")

    dying = DiesBeforeRemembering(store.engine)
    rig = make_rig(site, dying, None)
    async with LpwanWebhook(rig.intake, environ={TOKEN_ENV: SECRET}) as hook:
        assert (await _post(http, hook.url, _water(12, 100)))[0] == 503
    rig = make_rig(site, store, None)
    async with LpwanWebhook(rig.intake, environ={TOKEN_ENV: SECRET}) as hook:
        status, answer = await _post(http, hook.url, _water(12, 100))
        assert (status, answer["duplicate"]) == (200, False)
        assert (await _post(http, hook.url, _water(12, 100)))[1]["duplicate"] is True
    assert [r.value for r in await rig.readings("WM-1.volume")] == pytest.approx([0.1])


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2062-03-01T00:00:00Z"])
async def test_an_uplink_stamped_outside_the_time_bounds_is_stored_at_its_receive_time_and_flagged(
    tmp_path: Path, store: Store, http: aiohttp.ClientSession, stamp: str
) -> None:
    site = write_site(tmp_path / "site", webhook=_site_yaml(free_tcp_port(), "token"))
    rig = make_rig(site, store, None)
    async with LpwanWebhook(rig.intake, environ={TOKEN_ENV: SECRET}) as hook:
        assert (await _post(http, hook.url, _water(13, 100, time=stamp)))[0] == 200
    [reading] = await rig.readings("WM-1.volume")
    assert (reading.ts, reading.quality) == (rig.clock.now, Quality.QUESTIONABLE)
    assert rig.intake.stats.clock_faults == 1
