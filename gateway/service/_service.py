"""``nzd gateway run``: poll, queue on disk, publish, execute setpoints, report status.

Polling, the disk queue and the setpoint watchdog run whether the broker is
reachable or not; only the MQTT connection comes and goes (reconnected with
exponential backoff, a fresh client each time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import Counter, deque

import aiomqtt
from prometheus_client import REGISTRY

from gateway.control import SetpointController, SetpointStateStore
from gateway.delivery import DiskWorker, Reading, ReadingBuffer, TelemetryPublisher, make_client
from gateway.modbus import PollerGroup, PollResult, PollSettings
from gateway.service._metrics import ServiceCollector
from gateway.service._status import config_hash, status_message
from gateway.service._writer import GroupPointWriter
from nzd.config import GatewayConfig
from nzd.errors import ContractError
from nzd.messages import Ack, Confirm, decode, encode
from nzd.topics import TopicKind, ack_topic, parse_topic, site_filter, status_topic, telemetry_topic

__all__ = ["GatewayService"]

log = logging.getLogger(__name__)

_MAX_WRITE_BATCH = 2000


class GatewayService:
    def __init__(self, *, config: GatewayConfig, poll_settings: PollSettings | None = None,
                 reconnect_min_s: float = 0.5, reconnect_max_s: float = 10.0,
                 flush_timeout_s: float = 10.0, status_period_s: float = 30.0) -> None:
        self.config = config
        self.hash = config_hash(config)
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.flush_timeout_s = flush_timeout_s
        self.status_period_s = status_period_s
        # Profiles first: a config error must not leave an empty queue file behind.
        self.group = PollerGroup.from_config(config, on_result=self._on_result, settings=poll_settings)
        self.disk = DiskWorker()
        self.buffer = ReadingBuffer(path=config.buffer.path, max_bytes=config.buffer.max_bytes)
        self.setpoints = SetpointStateStore(path=config.buffer.path)
        self.publisher = TelemetryPublisher(
            buffer=self.buffer, disk=self.disk, topic_for=self._topic,
            replay_per_s=config.buffer.replay_per_s,
            confirm_timeout_s=config.buffer.confirm_timeout_s if config.buffer.confirm else None)
        self.controller = SetpointController(assets=config.assets, writer=GroupPointWriter(self.group),
                                             store=self.setpoints, disk=self.disk, send_ack=self._send_ack)
        self.counts: Counter[str] = Counter()
        self._incoming: asyncio.Queue[PollResult] = asyncio.Queue()
        self._client: aiomqtt.Client | None = None
        self._status_due = asyncio.Event()
        self._online: dict[str, bool] = {}
        self._topics: dict[str, str] = {}
        self._unsent_acks: deque[Ack] = deque(maxlen=1000)
        self._handling: set[asyncio.Task[None]] = set()
        self._status_topic = status_topic(district=config.district, site=config.site,
                                          gateway=config.gateway)
        self._confirm_filter = site_filter(TopicKind.CONFIRM, district=config.district, site=config.site)

    @property
    def connected(self) -> bool:
        return self._client is not None

    # -- the whole life ------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then shut down cleanly."""
        await self.controller.start()
        log.info("gateway %s starting: %d devices, %d readings queued, next seq %d", self.config.gateway,
                 len(self.group.pollers), self.buffer.count, self.buffer.next_seq)
        collector = ServiceCollector(self)
        REGISTRY.register(collector)
        writer = asyncio.create_task(self._write_loop(), name="buffer-writer")
        watchdog = asyncio.create_task(self.controller.watchdog(), name="setpoint-watchdog")
        link = asyncio.create_task(self._connection_loop(), name="mqtt")
        try:
            self.group.start()
            await stop.wait()
        finally:
            REGISTRY.unregister(collector)
            await self._shutdown(writer=writer, watchdog=watchdog, link=link)

    async def _shutdown(self, *, writer: asyncio.Task[None], watchdog: asyncio.Task[None],
                        link: asyncio.Task[None]) -> None:
        await self.group.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.flush_timeout_s):
                await self._incoming.join()
        for task in (writer, watchdog):
            task.cancel()
        client = self._client
        if client is not None:
            flushed = await self.publisher.wait_idle(timeout_s=self.flush_timeout_s)
            reason = "shutdown: everything delivered" if flushed else \
                f"shutdown: {self.buffer.count} readings left queued on disk"
            with contextlib.suppress(aiomqtt.MqttError):
                await self._publish_status(client, online=False, reason=reason)
        link.cancel()
        for task in (writer, watchdog, link):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("gateway %s stopped: %d readings queued", self.config.gateway, self.buffer.count)
        await self.disk.run(self.buffer.close)
        await self.disk.run(self.setpoints.close)
        self.disk.close()

    # -- readings ------------------------------------------------------------------------------
    async def _on_result(self, result: PollResult) -> None:
        self._incoming.put_nowait(result)
        online = self.group.pollers[result.device].status.online
        if self._online.get(result.device) != online:
            self._online[result.device] = online
            self._status_due.set()

    async def _write_loop(self) -> None:
        """Commit readings in groups: one fsync per group, whatever the number of devices."""
        while True:
            batch = [await self._incoming.get()]
            while not self._incoming.empty() and len(batch) < _MAX_WRITE_BATCH:
                batch.append(self._incoming.get_nowait())
            dropped_before = self.buffer.dropped
            try:
                readings = [r for r in map(_reading, batch) if r is not None]
                # A full disk is handled inside: the readings are lost, counted, and their seqs a gap.
                await self.disk.run(self.buffer.append, readings)
            except Exception:  # database damaged: say so loudly, keep polling
                self.counts["unqueued"] += len(batch)
                log.exception("%d readings could not be queued on disk", len(batch))
            finally:
                for _ in batch:
                    self._incoming.task_done()
            self.publisher.wake()
            if self.buffer.dropped != dropped_before:
                log.warning("%d readings dropped so far (%d of them for a full disk)", self.buffer.dropped,
                            self.buffer.disk_full)
                self._status_due.set()

    def _topic(self, device: str) -> str:
        topic = self._topics.get(device)
        if topic is None:
            topic = telemetry_topic(district=self.config.district, site=self.config.site, device=device)
            self._topics[device] = topic
        return topic

    # -- the broker ----------------------------------------------------------------------------
    def _will(self) -> aiomqtt.Will:
        """Registered at each connect, with the counts of that moment (MQTT 3.1.1 cannot update it)."""
        last = status_message(config=self.config, online=False, devices={}, buffered=self.buffer.count,
                              dropped=self.buffer.dropped, reason="connection lost", hash_=self.hash)
        return aiomqtt.Will(topic=self._status_topic, payload=encode(last), qos=1, retain=True)

    def _client_id(self) -> str:
        """Stable, so that the broker keeps the session (queued setpoints) across reconnects."""
        c = self.config
        return c.broker.client_id or f"nzd-gw-{c.district}.{c.site}.{c.gateway}"

    async def _connection_loop(self) -> None:
        delay_s = self.reconnect_min_s
        while True:
            client = make_client(self.config.broker, identifier=self._client_id(),
                                 will=self._will(), clean_session=False,
                                 max_inflight=self.publisher.window)
            try:
                async with client:
                    self._client = client
                    delay_s = self.reconnect_min_s
                    log.info("connected to %s:%d", self.config.broker.host, self.config.broker.port)
                    await self._publish_status(client, online=True)
                    await client.subscribe(site_filter(TopicKind.SETPOINT, district=self.config.district,
                                                       site=self.config.site), qos=1)
                    if self.publisher.confirming:
                        await client.subscribe(site_filter(TopicKind.CONFIRM, district=self.config.district,
                                                           site=self.config.site), qos=1)
                    await self._flush_acks(client)
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(self.publisher.run(client))
                        tg.create_task(self._listen(client))
                        tg.create_task(self._status_loop(client))
            except Exception as exc:  # MqttError, or its group from the tasks; never fatal
                self.counts["disconnects"] += 1
                log.warning("broker %s:%d unreachable or lost (%s); retrying in %.1f s",
                            self.config.broker.host, self.config.broker.port, _describe(exc), delay_s)
            finally:
                self._client = None
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, self.reconnect_max_s)

    async def _publish_status(self, client: aiomqtt.Client, *, online: bool,
                              reason: str | None = None) -> None:
        status = status_message(config=self.config, online=online, devices=self.group.status(),
                                buffered=self.buffer.count, dropped=self.buffer.dropped, reason=reason,
                                hash_=self.hash)
        await client.publish(self._status_topic, encode(status), qos=1, retain=True, timeout=10)

    async def _status_loop(self, client: aiomqtt.Client) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.status_period_s):
                    await self._status_due.wait()
            self._status_due.clear()
            await self._publish_status(client, online=True)

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload
            data = payload if isinstance(payload, bytes) else str(payload).encode()
            if message.topic.matches(self._confirm_filter):
                self._on_confirm(str(message.topic), data)
                continue
            # Shielded: a Modbus write already started finishes (and is acknowledged) even if the
            # connection drops meanwhile.
            task = asyncio.create_task(self.controller.handle(str(message.topic), data))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)
            await asyncio.shield(task)

    async def _send_ack(self, ack: Ack) -> None:
        client = self._client
        if client is None:
            self._unsent_acks.append(ack)
            return
        topic = ack_topic(district=self.config.district, site=self.config.site, asset=ack.asset)
        try:
            await client.publish(topic, encode(ack), qos=1, timeout=10)
        except aiomqtt.MqttError:
            self._unsent_acks.append(ack)

    async def _flush_acks(self, client: aiomqtt.Client) -> None:
        while self._unsent_acks:
            ack = self._unsent_acks[0]
            topic = ack_topic(district=self.config.district, site=self.config.site, asset=ack.asset)
            await client.publish(topic, encode(ack), qos=1, timeout=10)
            # Only now: if the publish fails the ack stays queued for the next connection.
            if self._unsent_acks and self._unsent_acks[0] is ack:
                self._unsent_acks.popleft()

    def _on_confirm(self, topic: str, payload: bytes) -> None:
        """Ingest confirms readings stored; other gateways' devices of the site are not ours."""
        try:
            device = parse_topic(topic).name
            confirm = decode(payload, Confirm)
            if confirm.device != device:
                raise ContractError(field="device", value=confirm.device, reason=f"differs from {device!r}")
        except ContractError as exc:
            self.counts["confirm_invalid"] += 1
            log.warning("invalid confirmation on %s: %s", topic, exc)
            return
        if device in self.group.pollers:
            self.publisher.confirm(device, confirm.ranges)


def _reading(result: PollResult) -> Reading | None:
    values = {k: float(v) for k, v in result.values.items() if math.isfinite(v)}
    if not values and not result.quality:
        return None
    return Reading(device=result.device, kind=result.kind, ts_ms=result.ts_ms, values=values,
                   quality=dict(result.quality))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"
