"""Plans, setpoints and acknowledgements on their way to the store.

Writes happen in the background so that a slow or absent store never delays
dispatch. While the store is unavailable events wait (bounded, oldest dropped
and counted); events the store refuses for good are dropped and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from coordinator.service._metrics import CoordinatorMetrics
from nzd.store.base import Event, StoreError, StoreRejected, StoreUnavailable, TelemetryStore

__all__ = ["EventWriter"]

log = logging.getLogger(__name__)


class EventWriter:
    def __init__(self, *, store: TelemetryStore | None, metrics: CoordinatorMetrics,
                 max_queued: int = 20_000, batch_size: int = 500,
                 retry_min_s: float = 0.5, retry_max_s: float = 30.0) -> None:
        self._store = store
        self._metrics = metrics
        self._queue: deque[Event] = deque()
        self._max_queued = max_queued
        self._batch_size = batch_size
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.opened = asyncio.Event()
        """Set once the store can be used (opened here, or handed over open)."""

    def put(self, event: Event) -> None:
        if self._store is None:
            return
        if len(self._queue) >= self._max_queued:
            self._queue.popleft()
            self._metrics.store_errors.labels(reason="queue_full").inc()
        self._queue.append(event)
        self._idle.clear()
        self._wake.set()

    async def drained(self) -> None:
        """Wait until every event put so far is written or dropped."""
        await self._idle.wait()

    async def _open(self) -> None:
        """Open the store, however long it takes; events queue meanwhile."""
        assert self._store is not None
        delay_s = self._retry_min_s
        while True:
            try:
                await self._store.open()
                return
            except (StoreError, OSError) as exc:
                self._metrics.store_errors.labels(reason="unavailable").inc()
                log.error("cannot open the store, retrying in %.1f s: %s", delay_s, exc)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, self._retry_max_s)

    async def run(self, *, open_store: bool = False) -> None:
        """Write events until cancelled; ``open_store`` opens the store first."""
        if self._store is None:
            await asyncio.Event().wait()  # nothing to write, ever
        if open_store:
            await self._open()
        self.opened.set()
        delay_s = self._retry_min_s
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
            assert self._store is not None
            try:
                await self._store.write_events(batch)
            except StoreUnavailable as exc:
                self._metrics.store_errors.labels(reason="unavailable").inc()
                log.warning("store unavailable (%s); %d events wait, retry in %.1f s",
                            exc, len(self._queue), delay_s)
                # Back to the front, in order; what no longer fits is the oldest and goes.
                room = self._max_queued - len(self._queue)
                if room < len(batch):
                    self._metrics.store_errors.labels(reason="queue_full").inc(len(batch) - max(room, 0))
                self._queue.extendleft(reversed(batch[len(batch) - max(room, 0):]))
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, self._retry_max_s)
                continue
            except StoreRejected as exc:
                self._metrics.store_errors.labels(reason="rejected").inc()
                log.error("store refused %d events: %s", len(batch), exc)
            except Exception:
                self._metrics.store_errors.labels(reason="error").inc()
                log.exception("writing %d events failed; they are dropped", len(batch))
            delay_s = self._retry_min_s
