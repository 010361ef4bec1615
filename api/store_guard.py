"""A deadline on every store call the API makes.

The store retries on its own (right for writers such as ingest); a dashboard request
should rather fail fast with 503 than hang while InfluxDB is away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from nzd.messages import DeviceKind
from nzd.store.base import Aggregation, Event, EventKind, Reading, Series, StoreUnavailable, TelemetryStore

__all__ = ["DeadlineStore"]

T = TypeVar("T")


class DeadlineStore:
    """Delegates to ``inner``; a call that takes longer than ``timeout_s`` raises StoreUnavailable."""

    def __init__(self, inner: TelemetryStore, *, timeout_s: float) -> None:
        self.inner = inner
        self.timeout_s = timeout_s

    async def _within(self, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except TimeoutError:
            raise StoreUnavailable(f"no answer from the store within {self.timeout_s:g} s") from None

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> bool:
        try:
            return await self._within(self.inner.ping())
        except StoreUnavailable:
            return False

    async def write(self, readings: Sequence[Reading]) -> None:
        await self._within(self.inner.write(readings))

    async def latest(self, *, district: str, site: str | None = None,
                     device: str | None = None, since_ms: int | None = None) -> list[Reading]:
        return await self._within(self.inner.latest(district=district, site=site, device=device,
                                                    since_ms=since_ms))

    async def latest_silent(self, *, district: str, site: str | None = None,
                            since_ms: int) -> list[Reading]:
        return await self._within(self.inner.latest_silent(district=district, site=site, since_ms=since_ms))

    async def history(self, *, district: str, site: str | None = None, device: str | None = None,
                      kind: DeviceKind | None = None, quantities: Sequence[str], start_ms: int, end_ms: int,
                      every_s: int | None = None,
                      aggregation: Aggregation = Aggregation.MEAN) -> list[Series]:
        return await self._within(self.inner.history(
            district=district, site=site, device=device, kind=kind, quantities=quantities,
            start_ms=start_ms, end_ms=end_ms, every_s=every_s, aggregation=aggregation))

    async def counter_bounds(self, *, district: str, site: str | None = None, quantities: Sequence[str],
                             start_ms: int, end_ms: int, every_s: int | None = None) -> list[Series]:
        return await self._within(self.inner.counter_bounds(
            district=district, site=site, quantities=quantities, start_ms=start_ms, end_ms=end_ms,
            every_s=every_s))

    async def write_events(self, events: Sequence[Event]) -> None:
        await self._within(self.inner.write_events(events))

    async def events(self, kind: EventKind, *, district: str, site: str | None = None,
                     start_ms: int | None = None, end_ms: int | None = None,
                     limit: int = 1000) -> list[Event]:
        return await self._within(self.inner.events(kind, district=district, site=site, start_ms=start_ms,
                                                    end_ms=end_ms, limit=limit))
