"""The coordinator's broker connection: subscribe, hand messages on, reconnect with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Sequence

import aiomqtt

from coordinator.service._metrics import CoordinatorMetrics
from coordinator.settings import CoordinatorSettings
from nzd.settings import parse_mqtt_url

__all__ = ["MqttLink", "NotConnected"]

log = logging.getLogger(__name__)
_PUBLISH_TIMEOUT_S = 10.0
_CONNECT_TIMEOUT_S = 10.0

MessageHandler = Callable[[str, bytes], Awaitable[None]]


class NotConnected(ConnectionError):
    """The broker is not reachable right now; the message was not published."""


class MqttLink:
    def __init__(self, *, settings: CoordinatorSettings, subscriptions: Sequence[tuple[str, int]],
                 on_message: MessageHandler, metrics: CoordinatorMetrics) -> None:
        self._settings = settings
        self._subscriptions = list(subscriptions)
        self._on_message = on_message
        self._metrics = metrics
        self._client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()

    def _make_client(self) -> aiomqtt.Client:
        s = self._settings
        url = parse_mqtt_url(s.mqtt_url)
        password = s.mqtt_password.get_secret_value() if s.mqtt_password else url.password
        tls_context = None
        if url.tls:
            tls_context = ssl.create_default_context(cafile=str(s.mqtt_ca_file) if s.mqtt_ca_file else None)
        return aiomqtt.Client(
            url.host, url.port,
            username=s.mqtt_username or url.username, password=password,
            identifier=s.mqtt_client_id,
            # A persistent session: acknowledgements sent while we reconnect are queued for us.
            clean_session=False,
            keepalive=30, timeout=_CONNECT_TIMEOUT_S, tls_context=tls_context,
        )

    async def run(self) -> None:
        """Stay connected until cancelled; each lost connection waits a growing, jittered delay."""
        delay_s = self._settings.reconnect_min_s
        while True:
            client = self._make_client()
            try:
                async with client:
                    for topic, qos in self._subscriptions:
                        await client.subscribe(topic, qos=qos)
                    self._client = client
                    self.connected.set()
                    self._metrics.mqtt_connected.set(1)
                    log.info("connected to the broker")
                    delay_s = self._settings.reconnect_min_s
                    async for message in client.messages:
                        payload = message.payload
                        data = payload if isinstance(payload, bytes) else str(payload or "").encode()
                        try:
                            await self._on_message(message.topic.value, data)
                        except Exception:  # a bug in handling one message must not end the service
                            self._metrics.bad_messages.labels(kind="error").inc()
                            log.exception("handling a message on %s failed", message.topic.value)
            except aiomqtt.MqttError as exc:
                log.warning("broker connection lost or refused: %s; retrying in %.1f s", exc, delay_s)
            finally:
                self._client = None
                self.connected.clear()
                self._metrics.mqtt_connected.set(0)
            self._metrics.mqtt_reconnects.inc()
            await asyncio.sleep(delay_s * random.uniform(0.8, 1.2))
            delay_s = min(delay_s * 2, self._settings.reconnect_max_s)

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1) -> None:
        client = self._client
        if client is None:
            raise NotConnected("not connected to the broker")
        try:
            await client.publish(topic, payload, qos=qos, timeout=_PUBLISH_TIMEOUT_S)
        except aiomqtt.MqttError as exc:
            raise NotConnected(str(exc)) from exc
