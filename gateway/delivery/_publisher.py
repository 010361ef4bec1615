"""Publish queued readings with QoS 1 and delete each only after its PUBACK.

Replay policy (see docs/gateway.md): readings leave strictly in ``seq`` order,
so every device's readings reach subscribers in time order and a consumer that
takes "the last message" as the current state is never handed an old value
after a new one. What was queued when the connection came up (the backlog:
readings taken while the broker was unreachable, or before a restart) is sent
with ``replayed=true`` at no more than ``replay_per_s``; readings taken after
the connection came up are sent as soon as they reach the head of the queue,
unpaced. With the default 500/s and a 10-device 1 Hz gateway the backlog drains
50 times faster than it grows, so a 1 minute outage is caught up in about 1.2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt

from gateway.delivery._buffer import BufferedRow, ReadingBuffer
from gateway.delivery._executor import DiskWorker
from nzd.messages import Telemetry, decode, encode

__all__ = ["PublisherStats", "TelemetryPublisher"]

log = logging.getLogger(__name__)

#: How long a publish may wait for its PUBACK before the connection is treated as dead.
PUBACK_TIMEOUT_S = 30.0
#: Acknowledged rows are deleted in one transaction at most this often.
ACK_FLUSH_INTERVAL_S = 0.05
ACK_FLUSH_ROWS = 1000


@dataclass
class PublisherStats:
    published: int = 0
    """PUBACKs received (includes replayed)."""
    replayed: int = 0
    """Of those, readings that came out of the backlog."""
    connections: int = 0


class _Pacer:
    """Token bucket for the replay rate; a small burst keeps the link busy."""

    def __init__(self, rate_per_s: float) -> None:
        self.rate = rate_per_s
        self.burst = max(1.0, rate_per_s * 0.1)
        self.tokens = self.burst
        self.last = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self.tokens) / self.rate)


class TelemetryPublisher:
    """Drains a :class:`ReadingBuffer` over one MQTT connection at a time."""

    def __init__(self, *, buffer: ReadingBuffer, disk: DiskWorker, topic_for: Callable[[str], str],
                 replay_per_s: float, window: int = 256) -> None:
        self.buffer = buffer
        self.disk = disk
        self.topic_for = topic_for
        self.replay_per_s = replay_per_s
        self.window = window
        self.stats = PublisherStats()
        self._wake = asyncio.Event()
        self._acked: list[int] = []
        self._idle = asyncio.Event()

    def wake(self) -> None:
        """Call after appending readings: the publisher sends them at once."""
        self._wake.set()

    async def wait_idle(self, *, timeout_s: float) -> bool:
        """Wait until everything queued has been acknowledged (clean shutdown)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while True:
                    await self._flush_acks()
                    if self.buffer.count == 0:
                        return True
                    self._idle.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.2):
                            await self._idle.wait()
        return self.buffer.count == 0

    async def run(self, client: aiomqtt.Client) -> None:
        """Publish until the connection fails (raises :class:`aiomqtt.MqttError`) or cancelled."""
        self.stats.connections += 1
        backlog_until = await self.disk.run(self.buffer.last_seq)
        if backlog_until >= 0:
            log.info("replaying a backlog of %d readings (up to seq %d) at up to %g/s",
                     self.buffer.count, backlog_until, self.replay_per_s)
        pacer = _Pacer(self.replay_per_s)
        slots = asyncio.Semaphore(self.window)
        cursor = -1
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._flush_loop())
                while True:
                    self._wake.clear()
                    rows = await self.disk.run(self.buffer.fetch, after_seq=cursor,
                                               limit=min(self.window, 500))
                    if not rows:
                        self._idle.set()
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(1.0):
                                await self._wake.wait()
                        continue
                    for row in rows:
                        replayed = row.seq <= backlog_until
                        if replayed:
                            await pacer.take()
                        await slots.acquire()
                        # Tasks start in creation order, so publish() reaches paho in seq order.
                        tg.create_task(self._publish(client, row, replayed=replayed, slot=slots))
                        cursor = row.seq
        finally:
            # Rows acknowledged before the connection dropped must not be sent again.
            await asyncio.shield(self._flush_acks())

    async def _publish(self, client: aiomqtt.Client, row: BufferedRow, *, replayed: bool,
                       slot: asyncio.Semaphore) -> None:
        try:
            payload = row.payload
            if replayed:
                payload = encode(decode(payload, Telemetry).model_copy(update={"replayed": True}))
            await client.publish(self.topic_for(row.device), payload, qos=1, timeout=PUBACK_TIMEOUT_S)
        finally:
            slot.release()
        self._acked.append(row.seq)
        self.stats.published += 1
        if replayed:
            self.stats.replayed += 1

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(ACK_FLUSH_INTERVAL_S)
            if self._acked:
                await self._flush_acks()

    async def _flush_acks(self) -> None:
        while self._acked:
            batch, self._acked = self._acked[:ACK_FLUSH_ROWS], self._acked[ACK_FLUSH_ROWS:]
            await self.disk.run(self.buffer.remove, batch)
        if self.buffer.count == 0:
            self._idle.set()
