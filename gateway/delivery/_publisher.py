"""Publish queued readings with QoS 1; delete each when ingest confirms it stored it.

The broker's PUBACK paces the stream (at most ``window`` readings in flight);
with confirmations on (``confirm_timeout_s``), a row leaves the queue only when
ingest confirms on ``…/confirm/{device}`` that the store has it. Rows published
and not confirmed are sent again, marked replayed, on the next connection and
after ``confirm_timeout_s`` (then twice as long each time) once ingest has
confirmed anything since they were sent. Without
confirmations a row is deleted at its PUBACK. Confirmed rows are deleted in
batches, one transaction per ``ACK_FLUSH_INTERVAL_S`` at most.

Replay policy (see docs/gateway.md): readings leave strictly in ``seq`` order,
so every device's readings reach subscribers in time order and a consumer that
takes "the last message" as the current state is never handed an old value
after a new one (a resend after the timeout is the exception: marked replayed).
What was queued when the connection came up (the backlog:
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
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt

from gateway.delivery._buffer import BufferedRow, ReadingBuffer
from gateway.delivery._executor import DiskWorker
from gateway.delivery._resend import Confirmations, SentChunks
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
    """Of those, readings that came out of the backlog or were sent again."""
    confirmed: int = 0
    """Rows deleted because ingest confirmed them stored."""
    resent: int = 0
    """Readings sent again because no confirmation came in time."""
    delete_errors: int = 0
    """Failed deletes of confirmed rows (a full disk), retried."""
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
                 replay_per_s: float, window: int = 256, confirm_timeout_s: float | None = None) -> None:
        self.buffer = buffer
        self.disk = disk
        self.topic_for = topic_for
        self.replay_per_s = replay_per_s
        self.window = window
        self.confirming = confirm_timeout_s is not None
        """True: rows leave at ingest's confirmation; False: at the broker's PUBACK."""
        self.stats = PublisherStats()
        self._wake = asyncio.Event()
        self._acked: list[int] = []
        self._confirmed = Confirmations()
        self._sent = SentChunks(timeout_s=confirm_timeout_s or 30.0)
        self._highest_sent = -1
        self._confirmed_s = 0.0
        """Monotonic time of the last confirmation: ingest is alive and confirming."""
        self._idle = asyncio.Event()

    def wake(self) -> None:
        """Call after appending readings: the publisher sends them at once."""
        self._wake.set()

    def confirm(self, device: str, ranges: list[list[int]]) -> None:
        """Ingest stored these seqs of ``device``: delete them (batched) and never send them again.

        Only seqs this process has published count: a confirmation queued by the
        broker for an older life of the queue cannot delete a reading never sent.
        """
        if self.confirming:
            self._confirmed.add(device, ranges, upto=self._highest_sent)
            self._confirmed_s = time.monotonic()
            self._wake.set()  # chunks waiting for a sign of life from ingest may now be due

    async def wait_idle(self, *, timeout_s: float) -> bool:
        """Wait until everything queued has been confirmed (clean shutdown)."""
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
        self._sent.clear()  # everything not confirmed goes again on this connection
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
                    due = self._sent.due(confirmed_s=self._confirmed_s) if self.confirming else None
                    if due is not None:
                        rows = await self.disk.run(self.buffer.fetch_range, first=due.first, last=due.last,
                                                   limit=due.last - due.first + 1)
                        attempt = due.attempt + 1
                        if rows:
                            self.stats.resent += len(rows)
                            log.info("%d readings (seq %d..%d) not confirmed in time: sending again",
                                     len(rows), rows[0].seq, rows[-1].seq)
                    else:
                        rows = await self.disk.run(self.buffer.fetch, after_seq=cursor,
                                                   limit=min(self.window, 500))
                        attempt = 1
                    rows = [r for r in rows if not self._confirmed.covers(r.device, r.seq)]
                    if not rows:
                        if due is None:
                            self._idle.set()
                            await self._sleep_until_work()
                        continue
                    for row in rows:
                        replayed = row.seq <= backlog_until or attempt > 1
                        if replayed:
                            await pacer.take()
                        await slots.acquire()
                        # Tasks start in creation order, so publish() reaches paho in seq order.
                        tg.create_task(self._publish(client, row, replayed=replayed, slot=slots))
                        if attempt == 1:
                            cursor = row.seq
                    self._highest_sent = max(self._highest_sent, rows[-1].seq)
                    if self.confirming:
                        self._sent.sent(rows[0].seq, rows[-1].seq, attempt=attempt)
        finally:
            # Rows acknowledged before the connection dropped must not be sent again.
            await asyncio.shield(self._flush_acks())

    async def _sleep_until_work(self) -> None:
        wait_s = 1.0
        next_due = self._sent.next_due_s(confirmed_s=self._confirmed_s) if self.confirming else None
        if next_due is not None:
            wait_s = max(0.01, min(wait_s, next_due - time.monotonic()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self._wake.wait()

    async def _publish(self, client: aiomqtt.Client, row: BufferedRow, *, replayed: bool,
                       slot: asyncio.Semaphore) -> None:
        try:
            payload = row.payload
            if replayed:
                payload = encode(decode(payload, Telemetry).model_copy(update={"replayed": True}))
            await client.publish(self.topic_for(row.device), payload, qos=1, timeout=PUBACK_TIMEOUT_S)
        finally:
            slot.release()
        if not self.confirming:
            self._acked.append(row.seq)
        self.stats.published += 1
        if replayed:
            self.stats.replayed += 1

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(ACK_FLUSH_INTERVAL_S)
            if self._acked or self._confirmed.pending:
                await self._flush_acks()

    async def _flush_acks(self) -> None:
        """Delete what the broker acknowledged (no confirmations) or ingest confirmed, in batches."""
        try:
            while self._acked:
                # Taken before the await: the flush loop and wait_idle may flush at the same time.
                batch, self._acked = self._acked[:ACK_FLUSH_ROWS], self._acked[ACK_FLUSH_ROWS:]
                try:
                    await self.disk.run(self.buffer.remove, batch)
                except sqlite3.Error:
                    self._acked = batch + self._acked
                    raise
            if self._confirmed.pending:
                ranges = self._confirmed.take()
                try:
                    self.stats.confirmed += await self.disk.run(self.buffer.remove_ranges, ranges)
                except sqlite3.Error:
                    self._confirmed.put_back(ranges)
                    raise
        except sqlite3.Error as exc:
            # A full disk refuses even deletes; the rows stay marked confirmed (never sent again)
            # and the delete is tried again at the next flush.
            self.stats.delete_errors += 1
            if self.stats.delete_errors in (1, 10, 100) or self.stats.delete_errors % 1000 == 0:
                log.error("cannot delete confirmed readings from the queue (%d failures): %s",
                          self.stats.delete_errors, exc)
            return
        if self.buffer.count == 0:
            self._idle.set()
