"""MQTT intake: subscribe to the network server's uplink topic and feed every message to the intake.

ChirpStack v4 publishes on `application/<appId>/device/<devEui>/event/up` (docs/testing-peers.md); a topic
filter with wildcards may also match other events (`.../event/join`, `.../event/status`), which are
skipped. A message that cannot be used is logged with the reason and counted by the intake; it never
stops the loop. A lost broker connection is retried with exponential back-off, reset once connected.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from types import TracebackType

import aiomqtt

from bms_bridge.lpwan.intake import UplinkIntake
from bms_bridge.lpwan.webhook import LpwanConfigError
from bms_bridge.tasks import cancel_and_wait
from metering.failure_log import FailureLog
from metering.lpwan import UplinkError
from point_mapping.model.services import MqttIntake

log = logging.getLogger(__name__)


def is_uplink_topic(topic: str) -> bool:
    """False for ChirpStack events other than `up`; other layouts (TTS `.../up`) are taken as uplinks."""
    parts = topic.split("/")
    if len(parts) >= 2 and parts[-2] == "event":
        return parts[-1] == "up"
    return True


class LpwanMqtt:
    """`async with LpwanMqtt(intake) as client:` keeps a subscription to `lpwan.mqtt.topic` alive."""

    def __init__(
        self,
        intake: UplinkIntake,
        settings: MqttIntake | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        found = settings if settings is not None else intake.site.model.lpwan.mqtt
        if found is None:
            raise LpwanConfigError("the site has no 'lpwan: mqtt:' section")
        if backoff_initial <= 0 or backoff_max < backoff_initial:
            raise ValueError("need 0 < backoff_initial <= backoff_max")
        self.settings = found
        self._intake = intake
        self._environ = environ if environ is not None else os.environ
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()  # set while subscribed
        self.connections = 0  # successful subscriptions, so tests can see a reconnect
        self.errors = 0  # messages that failed for a reason other than a bad uplink (e.g. the store)
        self._failures = FailureLog(log, "storing LPWAN uplinks from MQTT")
        self.skipped = 0  # messages on non-uplink topics

    def _credential(self, env_name: str | None, where: str) -> str | None:
        if env_name is None:
            return None
        value = self._environ.get(env_name)
        if value is None:
            raise LpwanConfigError(f"environment variable {env_name} ({where}) is not set")
        return value

    async def __aenter__(self) -> LpwanMqtt:
        if self._task is not None:
            raise RuntimeError("an LpwanMqtt can be started once")
        username = self._credential(self.settings.username_env, "lpwan.mqtt.username_env")
        password = self._credential(self.settings.password_env, "lpwan.mqtt.password_env")
        self._task = asyncio.create_task(self._run(username, password), name="lpwan-mqtt")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await cancel_and_wait(self._task)
        self.connected.clear()

    async def _run(self, username: str | None, password: str | None) -> None:
        s = self.settings
        delay = self._backoff_initial
        while True:
            try:
                # A persistent session (clean_session False, stable client id) makes the broker keep
                # QoS 1 uplinks published while we are down or restarting, and redeliver them.
                async with aiomqtt.Client(
                    s.host,
                    s.port,
                    identifier=s.client_id,
                    username=username,
                    password=password,
                    timeout=10,
                    clean_session=False,
                ) as client:
                    # Acknowledge only once stored (MQTT 3.1.1 §4.3.2): aiomqtt does not expose paho's
                    # manual acknowledgement, so it is switched on on the paho client underneath.
                    paho = client._client
                    paho.manual_ack_set(True)
                    await client.subscribe(s.topic, qos=1)
                    self.connections += 1
                    self.connected.set()
                    delay = self._backoff_initial
                    log.info("subscribed to %s on %s:%d", s.topic, s.host, s.port)
                    async for message in client.messages:
                        if not await self._handle(message.topic.value, message.payload):
                            # not stored: drop the connection so the broker redelivers it
                            raise aiomqtt.MqttError("an uplink could not be stored; reconnecting for redelivery")
                        if message.qos > 0:
                            paho.ack(message.mid, message.qos)
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                log.warning("MQTT broker %s:%d: %s; reconnecting in %.0f s", s.host, s.port, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_max)

    async def _handle(self, topic: str, payload: object) -> bool:
        """Hand one message to the intake; False only when it could be stored later (store error)."""
        if not is_uplink_topic(topic):
            self.skipped += 1
            return True
        if isinstance(payload, str):
            body = payload.encode()
        elif isinstance(payload, bytes | bytearray):
            body = bytes(payload)
        else:
            body = b""  # an empty or numeric payload: the intake rejects it as not an uplink
        try:
            await self._intake.handle_bytes(body, transport=f"mqtt {topic}")
        except UplinkError:
            return True  # logged and counted by the intake; a bad uplink never becomes storable
        except Exception as exc:
            self.errors += 1
            self._failures.failed(exc)
            return False
        self._failures.succeeded()
        return True


__all__ = ["LpwanMqtt", "is_uplink_topic"]
