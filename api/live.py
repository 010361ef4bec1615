"""The live stream: MQTT readings, status changes, setpoints, plans and alerts, fanned out
to server-sent-event clients, each filtered by the viewer's scope.

Every client has its own bounded queue. The MQTT loop only ever does a non-blocking
put; a client whose queue is full is dropped at once, so a slow client never slows the
broker subscription or the other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass, field

import aiomqtt
import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.auth.principal import MIN_PUBLIC_SITES, Principal
from api.deadletters import DeadLetters
from api.energy import MeasuredKpis
from api.energy_archive import EnergyArchive
from api.kpi_cache import KpiCache
from api.latest_cache import LatestTable
from api.metrics import ApiMetrics
from api.reading_reach import ReadingReach
from api.settings import ApiSettings
from nzd.config import DistrictConfig
from nzd.errors import ContractError
from nzd.messages import Alert, GatewayStatus, Message, Setpoint, Telemetry, decode, encode
from nzd.settings import parse_mqtt_url
from nzd.store.base import Reading
from nzd.topics import DEADLETTER_TOPIC, TopicKind, parse_topic, setpoint_topic, site_filter

__all__ = ["LiveClient", "LiveHub", "LiveStreamResponse", "MqttUnavailable"]

log = logging.getLogger("api.live")

_KEEPALIVE_S = 15.0
_PUBLIC_EVERY_S = 1.0
_MODELS: dict[TopicKind, type[Telemetry] | type[GatewayStatus] | type[Setpoint] | type[Alert]] = {
    TopicKind.TELEMETRY: Telemetry,
    TopicKind.STATUS: GatewayStatus,
    TopicKind.SETPOINT: Setpoint,
    TopicKind.ALERT: Alert,
}
_EVENT_NAMES = {TopicKind.TELEMETRY: "reading", TopicKind.STATUS: "status",
                TopicKind.SETPOINT: "setpoint", TopicKind.ALERT: "alert"}


def _decode(kind: TopicKind, payload: bytes) -> Message:
    if kind is TopicKind.TELEMETRY:
        return decode(payload, Telemetry)
    if kind is TopicKind.STATUS:
        return decode(payload, GatewayStatus)
    if kind is TopicKind.SETPOINT:
        return decode(payload, Setpoint)
    return decode(payload, Alert)


class MqttUnavailable(RuntimeError):
    """The broker is not connected; nothing was published."""


_YIELD_EVERY = 50
"""MQTT messages handled in a row at most before the event loop serves requests."""


def sse_frame(event: str, data: object) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@dataclass(eq=False)
class LiveClient:
    principal: Principal
    queue: asyncio.Queue[bytes]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, site: str | None) -> bool:
        """``site`` None marks a district aggregate, the only thing the public sees."""
        if site is None:
            return True
        return self.principal.may_see_site(site)


class LiveHub:
    def __init__(self, *, settings: ApiSettings, district: DistrictConfig, metrics: ApiMetrics,
                 latest: LatestTable) -> None:
        self.settings = settings
        self.district = district
        self.metrics = metrics
        self.latest = latest
        self.clients: set[LiveClient] = set()
        self.connected = asyncio.Event()
        self.statuses: dict[tuple[str, str], GatewayStatus] = {}
        self._plans_seen: set[str] = set()
        self._client: aiomqtt.Client | None = None
        self._last_public_s = 0.0
        self.deadletters = DeadLetters()
        self.kpis: KpiCache[MeasuredKpis] = KpiCache(max_entries=settings.kpi_cache_entries,
                                                     settle_s=settings.kpi_cache_settle_s)
        """Measured KPIs, dropped by the readings this subscription sees (api/kpi_cache.py)."""
        self.reach = ReadingReach()
        """Each device's last reading times: the span a new reading may change (api/reading_reach.py)."""
        self.archive = EnergyArchive(site_ids=[s.id for s in district.sites], timezone=district.timezone,
                                     step_minutes=district.step_minutes, days=settings.archive_days,
                                     close_after_s=settings.archive_close_after_s,
                                     settle_s=settings.kpi_cache_settle_s)
        """Closed days' energy per interval, dropped by the readings it may change (api/energy_archive.py)."""

    # clients -------------------------------------------------------------

    def subscribe(self, principal: Principal) -> LiveClient:
        client = LiveClient(principal, asyncio.Queue(maxsize=self.settings.live_queue_size))
        self.clients.add(client)
        self.metrics.live_clients.set(len(self.clients))
        return client

    def unsubscribe(self, client: LiveClient) -> None:
        self.clients.discard(client)
        self.metrics.live_clients.set(len(self.clients))

    def dispatch(self, event: str, site: str | None, frame: bytes) -> None:
        """Hand ``frame`` to every client that may see ``site``; drop those that are full."""
        self.metrics.live_events.labels(event).inc()
        for client in list(self.clients):
            if client.wants(site):
                self._put(client, frame)

    def _put(self, client: LiveClient, frame: bytes) -> None:
        try:
            client.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.unsubscribe(client)
            client.dropped.set()
            self.metrics.live_dropped.inc()
            log.info("live client %s dropped: %d events behind", client.principal.name, client.queue.qsize())

    # MQTT ----------------------------------------------------------------

    def _handle(self, topic_text: str, payload: bytes) -> None:
        try:
            topic = parse_topic(topic_text)
            if topic.kind not in _MODELS or topic.district != self.district.district:
                return
            message: Message = _decode(topic.kind, payload)
        except ContractError as exc:
            self.metrics.mqtt_invalid.inc()
            log.warning("refused MQTT message on %s: %s", topic_text, exc)
            return
        self.metrics.mqtt_messages.labels(topic.kind.value).inc()
        site = topic.site
        data = {"site": site, **message.model_dump(mode="json", exclude_none=True)}
        self.dispatch(_EVENT_NAMES[topic.kind], site, sse_frame(_EVENT_NAMES[topic.kind], data))
        if isinstance(message, GatewayStatus):
            self.statuses[(site, message.gateway)] = message
        elif isinstance(message, Setpoint) and message.plan_id and message.plan_id not in self._plans_seen:
            if len(self._plans_seen) > 10_000:
                self._plans_seen.clear()
            self._plans_seen.add(message.plan_id)
            self.dispatch("plan", site, sse_frame("plan", {"site": site, "plan_id": message.plan_id}))
        elif isinstance(message, Telemetry):
            if message.device == topic.name:  # as ingest: a reading on another device's topic is not stored
                lo, hi = self.reach.span(site, message.device, message.ts)
                self.kpis.saw(site, lo, hi)
                self.archive.saw(site, lo, hi)
                self.latest.update(Reading(
                    district=topic.district, site=site, device=message.device, kind=message.kind,
                    ts_ms=message.ts, seq=message.seq, values=message.values, replayed=message.replayed,
                    quality={q: flag.value for q, flag in message.quality.items()}))
            self._maybe_public_update()

    def _maybe_public_update(self) -> None:
        # At most once a second: the district view needs the trend, not every reading.
        now_s = time.monotonic()
        if now_s - self._last_public_s < _PUBLIC_EVERY_S:
            return
        self._last_public_s = now_s
        few = self.latest.sites_reporting() < MIN_PUBLIC_SITES  # a "district" total of one firm is its data
        site_ids = self.latest.site_ids()
        frames: dict[tuple[int, ...] | None, bytes] = {}
        self.metrics.live_events.labels("district").inc()
        for client in list(self.clients):
            if few and client.principal.district_only:
                continue
            # Each viewer gets what GET /district/flows gives them: plain totals for the operator,
            # the public rule on the firms they may not see for everyone else (api/public.py).
            hidden = client.principal.hidden_indexes(site_ids)
            frame = frames.get(hidden)
            if frame is None:
                flows, _, _ = self.latest.district_flows(hidden=hidden)
                frame = frames[hidden] = sse_frame("district", flows.model_dump(exclude_none=True))
            self._put(client, frame)

    def _client_args(self) -> dict[str, object]:
        url = parse_mqtt_url(self.settings.mqtt_url)
        password = self.settings.mqtt_password.get_secret_value() if self.settings.mqtt_password else None
        args: dict[str, object] = {
            "hostname": url.host, "port": url.port,
            "username": self.settings.mqtt_username or url.username,
            "password": password or url.password,
            "identifier": self.settings.mqtt_client_id,
        }
        if url.tls:
            ctx = ssl.create_default_context(cafile=str(self.settings.mqtt_ca_file)
                                             if self.settings.mqtt_ca_file else None)
            args["tls_context"] = ctx
        return args

    async def run(self) -> None:
        """Subscribe and fan out until cancelled; reconnect after a broker outage."""
        d = self.district.district
        filters = [site_filter(k, district=d) for k in _MODELS]
        reconnecting = False
        while True:
            try:
                async with aiomqtt.Client(**self._client_args()) as client:  # type: ignore[arg-type]
                    for f in filters:
                        await client.subscribe(f, qos=1)
                    await client.subscribe(DEADLETTER_TOPIC, qos=1)  # for the operator only
                    self._client = client
                    if reconnecting:
                        self.latest.refresh_soon.set()
                    reconnecting = True
                    self.kpis.set_live(True)
                    self.reach.clear()
                    self.archive.set_live(True)
                    self.connected.set()
                    self.metrics.mqtt_connected.set(1)
                    log.info("subscribed to the live topics of %s", d)
                    handled = 0
                    async for message in client.messages:
                        handled += 1
                        if handled % _YIELD_EVERY == 0:
                            # aiomqtt's queue hands out a backlog without ever suspending: let the
                            # requests in (a flood of thousands of messages held them for seconds).
                            await asyncio.sleep(0)
                        payload = message.payload
                        if not isinstance(payload, bytes | bytearray):
                            continue
                        if message.topic.value == DEADLETTER_TOPIC:
                            self.deadletters.add(bytes(payload))
                        else:
                            self._handle(str(message.topic), bytes(payload))
            except aiomqtt.MqttError as exc:
                log.warning("MQTT connection lost (%s); reconnecting in 2 s", exc)
            finally:
                self._client = None
                self.kpis.set_live(False)
                self.archive.set_live(False)
                self.connected.clear()
                self.metrics.mqtt_connected.set(0)
            await asyncio.sleep(2.0)

    async def publish_setpoint(self, site: str, setpoint: Setpoint) -> None:
        client = self._client
        if client is None:
            raise MqttUnavailable("the API is not connected to the MQTT broker")
        topic = setpoint_topic(district=self.district.district, site=site, asset=setpoint.asset)
        try:
            await client.publish(topic, encode(setpoint), qos=1)
        except aiomqtt.MqttError as exc:
            raise MqttUnavailable(f"publishing to the MQTT broker failed: {exc}") from exc
        self.metrics.setpoints.inc()


class LiveStreamResponse(Response):
    """An SSE response fed by one :class:`LiveClient`; ends when the client leaves or is dropped."""

    media_type = "text/event-stream"

    def __init__(self, hub: LiveHub, client: LiveClient) -> None:
        super().__init__(headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        # An endless body: no Content-Length, so the server sends it chunked.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.hub = hub
        self.client = client

    async def _pump(self, send: Send) -> None:
        hello = {"role": self.client.principal.role.value, "user": self.client.principal.name,
                 "sites": sorted(self.client.principal.sites), "district": self.hub.district.district}
        await send({"type": "http.response.body", "body": sse_frame("hello", hello), "more_body": True})
        queue = self.client.queue
        while True:
            try:
                frame = await asyncio.wait_for(queue.get(), _KEEPALIVE_S)
            except TimeoutError:
                frame = b": keepalive\n\n"
            await send({"type": "http.response.body", "body": frame, "more_body": True})

    async def _expired(self) -> None:
        """Return when the caller's credentials end (a JWT's expiry); never for an API token."""
        expires_at_s = self.client.principal.expires_at_s
        if expires_at_s is None:
            await asyncio.Event().wait()
            return
        await asyncio.sleep(max(0.0, expires_at_s - time.time()))

    @staticmethod
    async def _disconnected(receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        expired = asyncio.create_task(self._expired())
        tasks = {asyncio.create_task(self._pump(send)), asyncio.create_task(self._disconnected(receive)),
                 asyncio.create_task(self.client.dropped.wait()), expired}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await t
            self.hub.unsubscribe(self.client)
        if self.client.dropped.is_set():
            # A dropped client's socket is full; finishing the body would wait on it, so the
            # server closes the connection instead.
            return
        with contextlib.suppress(OSError):
            if expired.done() and not expired.cancelled():
                # The token ended: say so, so that the dashboard logs in again rather than reconnecting.
                await send({"type": "http.response.body", "more_body": True,
                            "body": sse_frame("expired", {"detail": "the access token has expired"})})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
