"""One ingest worker: MQTT telemetry in, batches into the store, acknowledgement after storing.

End to end, ingest confirms to each gateway the readings the store has
(:mod:`coordinator.ingest.confirm`); the gateway keeps a reading on its disk
until then, so whatever the broker loses is sent again.

Delivery guarantee (at least once): paho-mqtt runs with ``manual_ack=True`` and a
persistent session (fixed client id; MQTT 3.1.1 ``clean_session=False`` or MQTT 5
``clean_start=False`` with a session expiry). A message is acknowledged only after the batch that holds it is
stored, or after it was dead-lettered. Whatever was not acknowledged when a
worker dies is redelivered by the broker; rewriting a reading overwrites the
same point, so redelivery never duplicates data.

Flow control: at ``ingest_max_backlog`` messages received and not acknowledged
the worker stops reading from its socket (with MQTT 5 the broker is also told
this receive maximum); while the store is down it keeps retrying its batch,
acknowledges nothing, and the broker holds the rest of the stream in the session.
Deliveries of a previous connection that were not being written yet are dropped
on reconnect: the broker redelivers them.

paho-mqtt runs on the asyncio loop itself (:mod:`coordinator.ingest.mqtt_loop`).
While one batch is being written the next is received.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from coordinator.ingest.confirm import CONFIRM_INTERVAL_S, Confirmer
from coordinator.ingest.deadletter import dead_letter, wait_published
from coordinator.ingest.inbound import Inbound, parse_reading, shared_subscription
from coordinator.ingest.limits import LimitSettings, Refusal, SiteLimits
from coordinator.ingest.logs import RateLimitedLog
from coordinator.ingest.metrics import IngestMetrics
from coordinator.ingest.mqtt_loop import LoopDriver, connect_client, make_client
from coordinator.ingest.settings import IngestSettings
from nzd.clock import district_clock
from nzd.errors import ContractError
from nzd.messages import Alert, encode
from nzd.store import Event, EventKind, Reading, StoreError, StoreRejected, StoreUnavailable, TelemetryStore
from nzd.topics import alert_topic

__all__ = ["IngestWorker", "shared_subscription"]

log = logging.getLogger("nzd.ingest")


class _Stopping(Exception):
    """The worker was asked to stop while its batch was not stored: leave it unacknowledged."""


class IngestWorker:
    def __init__(self, *, settings: IngestSettings, store: TelemetryStore, metrics: IngestMetrics) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self._inbox: collections.deque[Inbound] = collections.deque()
        self._generation = 0
        self._connected = False
        self._subscribed = False
        self._store_error: str | None = None
        self._in_flight = 0
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: mqtt.Client | None = None
        self._driver: LoopDriver | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._fatal: BaseException | None = None
        self._abandoned = False
        self._invalid_log = RateLimitedLog(log)
        self._limited_log = RateLimitedLog(log)
        self.limits = SiteLimits(LimitSettings(
            max_devices=settings.ingest_site_max_devices, max_quantities=settings.ingest_site_max_quantities,
            messages_per_s=settings.ingest_site_messages_per_s, burst=settings.ingest_site_burst,
            alert_every_s=settings.ingest_limit_alert_every_s))
        self.written = 0
        self.confirmer = Confirmer(publish=self._publish_confirm)

    # -- status ------------------------------------------------------------------------------
    @property
    def backlog(self) -> int:
        return len(self._inbox) + self._in_flight

    def health(self) -> dict[str, Any]:
        return {
            "healthy": self._connected and self._subscribed and self._store_error is None,
            "mqtt_connected": self._connected,
            "subscribed": self._subscribed,
            "store_ok": self._store_error is None,
            "store_error": self._store_error,
            "backlog": self.backlog,
            "written": self.written,
            "client_id": self.settings.ingest_client_id,
        }

    def note_store_failure(self, reason: str) -> None:
        """A write attempt failed (the store retries it): unhealthy from the first failure."""
        if self._store_error is None:
            log.error("store write failed, retrying: %s", reason)
        self._store_error = reason
        self.metrics.store_up.set(0)

    # -- paho callbacks (on the asyncio loop) --------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                    reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self._generation += 1
        # What the previous connection delivered and is not being written yet can no longer be
        # acknowledged; the broker redelivers it on this connection, so it is dropped here.
        stale = len(self._inbox)
        if stale:
            self._inbox.clear()
            log.info("dropped %d unacknowledged messages of the previous connection; "
                     "the broker redelivers them", stale)
        if self.backlog >= self.settings.ingest_max_backlog and self._driver is not None:
            self._driver.pause()
        self._connected = True
        self.metrics.mqtt_connected.set(1)
        client.subscribe(shared_subscription(self.settings.ingest_share_group), qos=1)
        log.info("connected to the broker (session present: %s)", flags.session_present)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: list[Any],
                      properties: Any) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("broker refused the subscription: %s", failed)
            return
        self._subscribed = True

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self._connected = False
        self._subscribed = False
        self.metrics.mqtt_connected.set(0)
        if not self._stopping:
            log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.append(Inbound(self._generation, msg.mid, msg.qos, msg.topic, msg.payload,
                                    time.monotonic()))
        if len(self._inbox) >= self.settings.ingest_batch_size:
            self._wakeup.set()
        if self.backlog >= self.settings.ingest_max_backlog and self._driver is not None:
            self._driver.pause()  # TCP back-pressure: the broker keeps the rest in the session

    def _resume_reading(self) -> None:
        if self._driver is not None and self.backlog <= self.settings.ingest_max_backlog * 3 // 4:
            self._driver.resume()

    # -- asyncio side ------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Ingest until ``stop`` is set; then store what was received if the store allows."""
        self._loop = asyncio.get_running_loop()
        client = self._client = make_client(self.settings)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._driver = LoopDriver(client, connect=functools.partial(connect_client, settings=self.settings))
        connection = self._driver.start()
        stop_task = asyncio.ensure_future(self._watch_stop(stop))
        confirming = asyncio.create_task(self._confirm_loop())
        try:
            while not self._stopping:
                batch = await self._next_batch()
                if batch:
                    await self._start_write(batch)
            # Store what had arrived when asked to stop; later arrivals are redelivered.
            size = self.settings.ingest_batch_size
            await self._drain_writes()
            if self._fatal is None and not self._abandoned:
                for _ in range(-(-len(self._inbox) // size)):
                    await self._start_write(self._take())
                await self._drain_writes()
            if self._connected:
                self.confirmer.flush()  # a confirmation lost here costs the gateway a resend, nothing more
        finally:
            confirming.cancel()
            stop_task.cancel()
            for task in list(self._writes):
                task.cancel()
            connection.cancel()
            await self._driver.disconnect()
            self._connected = False
        if self._abandoned:
            log.info("stopped with %d messages not stored; the broker will redeliver them", self.backlog)
        if self._fatal is not None:
            raise self._fatal

    async def _confirm_loop(self) -> None:
        while True:
            await asyncio.sleep(CONFIRM_INTERVAL_S)
            if self._connected:  # else kept until the connection is back
                self.confirmer.flush()

    def _publish_confirm(self, topic: str, payload: bytes) -> None:
        assert self._client is not None
        self._client.publish(topic, payload, qos=1)

    async def _start_write(self, batch: list[Inbound]) -> None:
        """Process a batch in the background; at most two batches are being written at once."""
        while len(self._writes) >= 2:
            await asyncio.wait(set(self._writes), return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(self._process(batch))
        self._writes.add(task)
        task.add_done_callback(self._write_done)

    def _write_done(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, _Stopping):
            self._abandoned = True
        elif exc is not None:
            # A bug, not bad data: stop (unacknowledged messages are redelivered to the restarted worker).
            log.error("ingest failed", exc_info=exc)
            self._fatal = exc
            self._stopping = True
            self._wakeup.set()

    async def _drain_writes(self) -> None:
        if self._writes:
            await asyncio.wait(set(self._writes))

    async def _watch_stop(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._stopping = True
        self._wakeup.set()

    async def _next_batch(self) -> list[Inbound]:
        size = self.settings.ingest_batch_size
        age_s = self.settings.ingest_batch_age_ms / 1000
        while not self._stopping:
            if len(self._inbox) >= size:
                break
            wait_s = age_s
            if self._inbox:
                wait_s = age_s - (time.monotonic() - self._inbox[0].received_s)
                if wait_s <= 0:
                    break
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait_s)
            except TimeoutError:
                pass
        return self._take()

    def _take(self) -> list[Inbound]:
        n = min(self.settings.ingest_batch_size, len(self._inbox))
        batch = [self._inbox.popleft() for _ in range(n)]
        self._in_flight += n
        self.metrics.received.inc(n)
        self.metrics.backlog.set(self.backlog)
        return batch

    async def _process(self, batch: list[Inbound]) -> None:
        started = time.monotonic()
        readings: list[Reading] = []
        stored_items: list[Inbound] = []
        alerts: list[tuple[str, Alert]] = []
        letters: list[tuple[Inbound, mqtt.MQTTMessageInfo]] = []
        limited: list[tuple[Reading, Inbound]] = []
        for item in batch:
            try:
                reading = parse_reading(item)
            except ContractError as exc:
                self.metrics.invalid.labels(reason="contract").inc()
                self._invalid_log.warning("invalid message on %s: %s", item.topic, exc)
                letters.append((item, self._dead_letter(item, f"invalid message: {exc}")))
                continue
            refusal = self.limits.admit(reading)
            if refusal is not None:
                letters.append((item, self._refuse(item, reading, refusal, alerts)))
                limited.append((reading, item))
                continue
            readings.append(reading)
            stored_items.append(item)
        refused: list[tuple[Inbound, str]] = []
        if readings:
            refused = await self._store(readings, stored_items)
            for item, reason in refused:
                self.metrics.rejected.inc()
                log.error("store refused the reading on %s: %s", item.topic, reason)
                letters.append((item, self._dead_letter(item, f"store refused it: {reason}")))
        # The original is acknowledged only once the broker has its dead letter (PUBACK).
        unsent = {id(item) for item, info in letters
                  if not await wait_published(info, timeout_s=30.0, alive=self._same_connection(item))}
        if unsent:
            log.warning("%d dead letters not confirmed by the broker; their messages stay "
                        "unacknowledged and come again", len(unsent))
        self._ack([item for item in batch if id(item) not in unsent])
        # Stored or dead-lettered (the dead letter keeps it): the gateway may let it go.
        self.confirmer.add(r for r, item in [*zip(readings, stored_items, strict=True), *limited]
                           if id(item) not in unsent)
        if alerts:
            await self._store_alerts(alerts)
        now_s = district_clock().now_s()
        live = [r.ts_ms for r in readings if not r.replayed]
        if live:
            self.metrics.lag.set(max(0.0, now_s - min(live) / 1000))
        self.metrics.written.inc(len(readings) - len(refused))
        self.written += len(readings) - len(refused)
        self.metrics.batch_size.observe(len(batch))
        self.metrics.batch_latency.observe(time.monotonic() - started)
        self._in_flight -= len(batch)
        self.metrics.backlog.set(self.backlog)
        self._resume_reading()

    def _same_connection(self, item: Inbound) -> Callable[[], bool]:
        return lambda: self._connected and self._generation == item.generation

    async def _store(self, readings: list[Reading], items: list[Inbound]) -> list[tuple[Inbound, str]]:
        """Store the readings; returns those the store refused for good, found by halving the batch."""
        try:
            await self._write_until_stored(readings)
            return []
        except StoreRejected as exc:
            if len(readings) == 1:
                return [(items[0], str(exc))]
        half = len(readings) // 2
        return (await self._store(readings[:half], items[:half])
                + await self._store(readings[half:], items[half:]))

    async def _write_until_stored(self, readings: list[Reading]) -> None:
        delay_s = 0.5
        while True:
            try:
                await self.store.write(readings)
            except StoreUnavailable as exc:
                self.metrics.retries.inc()
                if self._store_error is None:
                    log.error("store unavailable, holding %d messages unacknowledged: %s", self.backlog, exc)
                self.note_store_failure(str(exc))
                if self._stopping:
                    raise _Stopping() from exc
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, self.settings.ingest_retry_backoff_max_s)
                continue
            if self._store_error is not None:
                log.info("store available again; writing resumes")
            self._store_error = None
            self.metrics.store_up.set(1)
            return

    def _refuse(self, item: Inbound, reading: Reading, refusal: Refusal,
                alerts: list[tuple[str, Alert]]) -> mqtt.MQTTMessageInfo:
        """Over a site's limits: dead-lettered and counted; the first of a flood raises an alert."""
        self.metrics.limited.labels(limit=refusal.limit.value).inc()
        self._limited_log.warning("refused on %s: %s", item.topic, refusal.reason)
        letter = self._dead_letter(item, refusal.reason)
        if refusal.alert is not None and self._client is not None:
            log.error("site %s/%s is over its %s limit: %s", reading.district, reading.site,
                      refusal.limit.value, refusal.reason)
            topic = alert_topic(district=reading.district, site=reading.site, alert_id=refusal.alert.id)
            self._client.publish(topic, encode(refusal.alert), qos=1)
            alerts.append((reading.district, refusal.alert))
        return letter

    async def _store_alerts(self, alerts: list[tuple[str, Alert]]) -> None:
        """Alerts also go to the store's event log, which the API serves (as the coordinator's do)."""
        events = [Event(kind=EventKind.ALERT, district=district, site=a.site, ts_ms=a.ts, key=a.id,
                        document=a.model_dump(mode="json", exclude_none=True)) for district, a in alerts]
        try:
            await self.store.write_events(events)
        except StoreError as exc:  # the alert went out on MQTT; the store may be the victim
            log.error("could not store %d limit alerts: %s", len(events), exc)

    def _dead_letter(self, item: Inbound, reason: str) -> mqtt.MQTTMessageInfo:
        assert self._client is not None
        payload = dead_letter(reason=reason, topic=item.topic, payload=item.payload,
                              worker=self.settings.ingest_client_id, ts_ms=district_clock().now_ms())
        return self._client.publish(self.settings.ingest_deadletter_topic, payload, qos=1)

    def _ack(self, batch: list[Inbound]) -> None:
        assert self._client is not None
        generation = self._generation
        for item in batch:
            # After a reconnect the broker redelivers what this connection did not acknowledge.
            if item.generation == generation and item.qos > 0:
                self._client.ack(item.mid, item.qos)
