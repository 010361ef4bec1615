"""Measured KPIs kept per request while their answer cannot have changed.

A KPI answer depends on the counter readings that bound the intervals of its period. The API's
live subscription sees every reading ingest stores, and for each the span of time whose energy
it may change (api/reading_reach.py: from the device's reading before last up to it, or a week
either side of a reading out of order); an entry of ``(sites, start, end, period)`` is dropped
as soon as a reading of one of its sites arrives whose span overlaps the period. A month in the
past stays cached while the firms report today; a window that includes the present lives only
until the site's next reading. Readings that reached the store unseen (``forget``) may change
anything within a week of them.

Readings reach the store a moment after the subscription sees them (ingest writes in batches), so
an answer is not kept when a reading in its range was seen less than ``settle_s`` before its
computation started or while it ran. Nothing is cached while the subscription is disconnected
(readings could reach the store unseen), and a reconnect clears everything.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Generic, TypeVar

from api.reading_reach import REACH_MS

__all__ = ["KpiCache", "KpiKey"]

T = TypeVar("T")
KpiKey = tuple[tuple[str, ...], int, int, str, int]
"""``(site ids, start_ms, end_ms, period, raw_span_ms)``."""


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T
    lo_ms: int
    hi_ms: int


class KpiCache(Generic[T]):
    def __init__(self, *, max_entries: int, settle_s: float) -> None:
        self.max_entries = max_entries
        self.settle_s = settle_s
        self.live = False
        self._entries: OrderedDict[KpiKey, _Entry[T]] = OrderedDict()
        self._by_site: dict[str, set[KpiKey]] = {}
        self._recent: dict[str, deque[tuple[float, int, int]]] = {}
        self.hits = 0
        self.misses = 0
        self._forgot_s = -1e18
        self.inflight: dict[KpiKey, asyncio.Future[T]] = {}
        """Answers being computed: a request for the same key waits for it instead of computing
        it again (16 clients asking at once for a month just dropped would each read it)."""

    @staticmethod
    def _range(key: KpiKey) -> tuple[int, int]:
        return key[1], key[2]

    def set_live(self, live: bool) -> None:
        """The subscription (dis)connected: what it did not see may be in the store."""
        self.live = live
        self.inflight.clear()
        self._entries.clear()
        self._by_site.clear()
        self._recent.clear()

    def saw(self, site: str, lo_ms: int, hi_ms: int) -> None:
        """A reading of ``site`` arrived that may change energy between ``lo_ms`` and ``hi_ms``
        (api/reading_reach.py): drop the answers whose period overlaps that."""
        now_s = time.monotonic()
        recent = self._recent.setdefault(site, deque())
        recent.append((now_s, lo_ms, hi_ms))
        while recent and recent[0][0] < now_s - self.settle_s:
            recent.popleft()
        for key in [k for k in self.inflight if site in k[0] and k[1] <= hi_ms and k[2] >= lo_ms]:
            del self.inflight[key]  # requests from now on compute it again
        keys = self._by_site.get(site)
        if not keys:
            return
        for key in [k for k in keys if k[1] <= hi_ms and k[2] >= lo_ms]:
            self._drop(key)

    def forget(self, start_ms: int, end_ms: int) -> int:
        """Readings of ``[start_ms, end_ms)`` reached the store unseen: drop the answers they may
        change, and refuse to keep those being computed; how many were dropped."""
        lo, hi = start_ms - REACH_MS, end_ms + REACH_MS
        keys = [k for k in self._entries if k[1] <= hi and k[2] >= lo]
        self.inflight.clear()
        for key in keys:
            self._drop(key)
        self._forgot_s = time.monotonic()
        return len(keys)

    def get(self, key: KpiKey) -> T | None:
        entry = self._entries.get(key) if self.live else None
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.value

    def started(self) -> float:
        """Call before reading the store; hand the result to :meth:`put`."""
        return time.monotonic()

    def put(self, key: KpiKey, value: T, *, started_s: float) -> bool:
        """Keep ``value`` unless a reading in its range was seen since ``started_s - settle_s``."""
        if not self.live:
            return False
        lo, hi = self._range(key)
        since = started_s - self.settle_s
        if started_s <= self._forgot_s:
            return False  # computed while readings reached the store unseen
        for site in key[0]:
            if any(seen_s >= since and a <= hi and b >= lo for seen_s, a, b in self._recent.get(site, ())):
                return False
        self._drop(key)
        self._entries[key] = _Entry(value, lo, hi)
        for site in key[0]:
            self._by_site.setdefault(site, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))
        return True

    def _drop(self, key: KpiKey) -> None:
        if self._entries.pop(key, None) is None:
            return
        for site in key[0]:
            keys = self._by_site.get(site)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_site[site]

    def __len__(self) -> int:
        return len(self._entries)
