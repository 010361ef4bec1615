"""Measured energy per interval of closed days, kept in memory, so that monthly and yearly
requests read a few arrays instead of a year of counter readings.

A day's energy per interval (api/energy.py) follows from the counter readings that bound its
intervals, so once the day is over, and ``close_after_s`` has passed for readings still on
their way, it does not change unless a reading within its reach arrives. The API's live
subscription sees every reading ingest stores, and :meth:`EnergyArchive.saw` drops the days a
reading may change (api/reading_reach.py: between the device's reading before last and this
one, or a week either side of a reading that arrives out of order, a gateway's replay). A day computed while a
reading in its reach was seen (or up to ``settle_s`` before, as ingest may not have stored it
yet) is used for that request but not kept. Nothing is kept while the subscription is down and
a reconnect clears everything: what it did not see may be in the store. :func:`keep_archived`
fills the last ``days`` days in the background and closes each day as it ends.

One archive per API process: a site's day is four float64 and four bool arrays of 96
intervals (about 4 KB), 50 firms for 400 days about 80 MB.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from api.reading_reach import REACH_MS
from nzd.clock import district_clock
from nzd.config import SiteConfig
from nzd.store.base import StoreError

__all__ = ["ARCHIVE_QUANTITIES", "Compute", "EnergyArchive", "SiteEnergy", "keep_archived", "local_days",
           "merge_events"]

log = logging.getLogger(__name__)

ARCHIVE_QUANTITIES = ("import_kwh", "export_kwh", "pv_kwh", "battery_kwh")
"""KPI quantities, in the order of :attr:`SiteEnergy.energy`'s rows."""
_Q = len(ARCHIVE_QUANTITIES)
_BLOCK = 8192
"""Intervals per storage block (85 days of 15 minutes)."""
_CHUNK_DAYS = 7
"""Days computed per store read: a week of 50 firms is a few seconds of the store's time."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Events = dict[str, dict[str, list[int]]]
Day = tuple[int, int]


@dataclass(slots=True)
class SiteEnergy:
    """One site's measured energy over consecutive intervals."""

    energy: FloatArray
    """[quantity, interval] kWh in ``ARCHIVE_QUANTITIES`` order, NaN where unknown."""
    covered: BoolArray
    """[quantity, interval]: readings cover the interval."""
    metered: BoolArray
    """[quantity]: the site had readings of a meter for it."""
    events: Events = field(default_factory=dict)
    """device -> counter event -> times of the readings (api/energy.py ``COUNTER_EVENTS``)."""

    @classmethod
    def blank(cls, intervals: int) -> SiteEnergy:
        return cls(np.full((_Q, intervals), np.nan), np.zeros((_Q, intervals), dtype=bool),
                   np.zeros(_Q, dtype=bool))

    def put(self, offset: int, part: SiteEnergy, *, first: int, n: int, lo_ms: int, hi_ms: int) -> None:
        """Copy ``n`` intervals of ``part`` from its interval ``first`` in at interval ``offset``,
        with its events in ``[lo_ms, hi_ms)``."""
        self.energy[:, offset:offset + n] = part.energy[:, first:first + n]
        self.covered[:, offset:offset + n] = part.covered[:, first:first + n]
        self.metered |= part.metered
        merge_events(self.events, part.events, lo_ms=lo_ms, hi_ms=hi_ms)


Compute = Callable[[Sequence[SiteConfig], int, int], Awaitable[list[SiteEnergy]]]
"""``(sites, start_ms, end_ms) -> each site's energy`` from the store's counters."""


def merge_events(into: Events, events: Events, *, lo_ms: int, hi_ms: int) -> None:
    for device, kinds in events.items():
        for kind, times in kinds.items():
            inside = [t for t in times if lo_ms <= t < hi_ms]
            if inside:
                into.setdefault(device, {}).setdefault(kind, []).extend(inside)


def local_days(start_ms: int, end_ms: int, timezone: str) -> list[Day]:
    """The local calendar days lying wholly in ``[start_ms, end_ms)`` (23 or 25 hours at DST)."""
    tz = ZoneInfo(timezone)
    day = datetime.fromtimestamp(start_ms / 1000, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    out: list[Day] = []
    while True:
        lo = int(day.timestamp() * 1000)
        day = (day + timedelta(days=1)).replace(tzinfo=tz)  # wall-clock: the next local midnight
        hi = int(day.timestamp() * 1000)
        if hi > end_ms:
            return out
        if lo >= start_ms:
            out.append((lo, hi))


@dataclass(slots=True)
class _Kept:
    end_ms: int
    metered: int
    """Bit q: the site had a meter for ``ARCHIVE_QUANTITIES[q]`` that day."""
    events: Events


class _SiteDays:
    """One site's archived days: values in blocks of intervals, validity and events per day."""

    def __init__(self, step_ms: int) -> None:
        self.step_ms = step_ms
        self.blocks: dict[int, tuple[FloatArray, BoolArray]] = {}
        self.days: dict[int, _Kept] = {}
        self.max_end_ms = 0
        self.recent: deque[tuple[float, int, int]] = deque()
        """(monotonic time seen, lo, hi) of readings that reached closed time."""

    def _spans(self, lo_ms: int, n: int) -> list[tuple[int, int, int, int]]:
        """(block, offset in block, offset in the run, length) covering ``n`` intervals from ``lo_ms``."""
        first = lo_ms // self.step_ms
        out, done = [], 0
        while done < n:
            block, off = divmod(first + done, _BLOCK)
            k = min(_BLOCK - off, n - done)
            out.append((block, off, done, k))
            done += k
        return out

    def write(self, lo_ms: int, part: SiteEnergy, first: int, n: int) -> None:
        for block, off, at, k in self._spans(lo_ms, n):
            if block not in self.blocks:
                self.blocks[block] = (np.full((_Q, _BLOCK), np.nan), np.zeros((_Q, _BLOCK), dtype=bool))
            values, covered = self.blocks[block]
            values[:, off:off + k] = part.energy[:, first + at:first + at + k]
            covered[:, off:off + k] = part.covered[:, first + at:first + at + k]

    def read(self, lo_ms: int, into: SiteEnergy, at: int, n: int) -> None:
        for block, off, done, k in self._spans(lo_ms, n):
            values, covered = self.blocks[block]
            into.energy[:, at + done:at + done + k] = values[:, off:off + k]
            into.covered[:, at + done:at + done + k] = covered[:, off:off + k]

    def drop(self, lo_ms: int, hi_ms: int) -> None:
        if lo_ms >= self.max_end_ms:
            return  # the common case: a reading after every archived day
        for start in [s for s, d in self.days.items() if s <= hi_ms and d.end_ms > lo_ms]:
            del self.days[start]

    def changed_since(self, since_s: float, lo_ms: int, hi_ms: int) -> bool:
        return any(seen >= since_s and lo <= hi_ms and hi >= lo_ms for seen, lo, hi in self.recent)


class EnergyArchive:
    def __init__(self, *, site_ids: Collection[str], timezone: str, step_minutes: int, days: int,
                 close_after_s: float, settle_s: float) -> None:
        self.site_ids = frozenset(site_ids)
        """The registry's sites: readings of others (refused by ingest) change nothing here."""
        self.timezone = timezone
        self.step_ms = step_minutes * 60_000
        self.days = days
        self.close_after_ms = int(close_after_s * 1000)
        self.settle_s = settle_s
        self.live = False
        self._sites: dict[str, _SiteDays] = {}
        self._lock = asyncio.Lock()
        self.computed_days = 0
        """Site-days read from the counters (a measure of the archive's use)."""

    @property
    def enabled(self) -> bool:
        return self.live and self.days > 0

    def set_live(self, live: bool) -> None:
        """The subscription (dis)connected: what it did not see may be in the store."""
        self.live = live
        self._sites.clear()

    def _site(self, site: str) -> _SiteDays:
        found = self._sites.get(site)
        if found is None:
            found = self._sites[site] = _SiteDays(self.step_ms)
        return found

    def saw(self, site: str, lo: int, hi: int) -> None:
        """A reading of ``site`` arrived that may change energy between ``lo`` and ``hi``
        (api/reading_reach.py): drop the days that overlaps."""
        if site not in self.site_ids:
            return
        if lo >= district_clock().now_ms() - self.close_after_ms:
            return  # only open days: nothing archived or about to be
        days = self._site(site)
        days.drop(lo, hi)
        now_s = time.monotonic()
        days.recent.append((now_s, lo, hi))
        while days.recent and days.recent[0][0] < now_s - self.settle_s - 3600.0:
            days.recent.popleft()

    def forget(self, start_ms: int, end_ms: int) -> int:
        """Readings of ``[start_ms, end_ms)`` reached the store unseen: drop every site's days
        they may change (and keep none being computed); how many site-days were dropped."""
        lo, hi = start_ms - REACH_MS, end_ms + REACH_MS
        now_s = time.monotonic()
        dropped = 0
        for kept in self._sites.values():
            held = len(kept.days)
            kept.drop(lo, hi)
            dropped += held - len(kept.days)
        for site in self.site_ids:  # refuse what is being computed now (the store has them already)
            self._site(site).recent.append((now_s - self.settle_s, lo, hi))
        return dropped

    def closed_days(self, start_ms: int, end_ms: int) -> list[Day]:
        """The local days wholly in ``[start_ms, end_ms)`` the archive may hold: over for
        ``close_after_s`` and within its ``days``."""
        if not self.enabled:
            return []
        now_ms = district_clock().now_ms()
        lo = max(start_ms, now_ms - self.days * 86_400_000)
        hi = min(end_ms, now_ms - self.close_after_ms)
        return local_days(lo, hi, self.timezone) if hi > lo else []

    async def energy(self, sites: Sequence[SiteConfig], days: list[Day], compute: Compute, *,
                     into: list[SiteEnergy] | None = None, offset: int = 0) -> list[SiteEnergy]:
        """Each site's energy over the consecutive ``days``: archived days as they are, the
        others computed (and kept unless a reading in their reach arrived meanwhile). Written
        into ``into`` (blank, the days from interval ``offset`` on) when given."""
        lo_ms = days[0][0] - offset * self.step_ms
        n = (days[-1][1] - days[0][0]) // self.step_ms
        out = into if into is not None else [SiteEnergy.blank(n) for _ in sites]
        missing = [self._copy(s.id, days, lo_ms, out[i]) for i, s in enumerate(sites)]
        if not any(missing):
            return out
        async with self._lock:  # one computation of a day at a time; others wait and reuse it
            missing = [self._copy(s.id, [d for d in days if d[0] in m], lo_ms, out[i])
                       for i, (s, m) in enumerate(zip(sites, missing, strict=True))]
            for first, last in self._runs(days, set().union(*missing)):
                run = days[first:last + 1]
                who = [i for i, m in enumerate(missing) if any(d[0] in m for d in run)]
                started_s = time.monotonic()
                got = await compute([sites[i] for i in who], run[0][0], run[-1][1])
                self.computed_days += len(who) * len(run)
                for i, part in zip(who, got, strict=True):
                    for start, end in run:
                        if start in missing[i]:
                            out[i].put((start - lo_ms) // self.step_ms, part,
                                       first=(start - run[0][0]) // self.step_ms,
                                       n=(end - start) // self.step_ms, lo_ms=start, hi_ms=end)
                    self._keep(sites[i].id, run, part, started_s)
        return out

    def _copy(self, site: str, days: list[Day], lo_ms: int, into: SiteEnergy) -> set[int]:
        """Copy the archived ones of ``days`` into ``into`` (interval 0 at ``lo_ms``); the starts
        of the others."""
        kept = self._sites.get(site)
        if kept is None:
            return {start for start, _ in days}
        missing: set[int] = set()
        run: list[int] = []  # [first start, last end] of the current run of archived days
        metered = 0

        def flush() -> None:
            if run:  # one copy per run of archived days
                kept.read(run[0], into, (run[0] - lo_ms) // self.step_ms, (run[1] - run[0]) // self.step_ms)
                run.clear()

        for start, end in days:
            day = kept.days.get(start)
            if day is None:
                flush()
                missing.add(start)
                continue
            run[:] = [run[0] if run else start, end]
            metered |= day.metered
            if day.events:
                merge_events(into.events, day.events, lo_ms=start, hi_ms=end)
        flush()
        into.metered |= np.asarray([bool(metered >> q & 1) for q in range(_Q)])
        return missing

    @staticmethod
    def _runs(days: list[Day], missing: set[int]) -> list[tuple[int, int]]:
        """Index ranges of consecutive missing days, at most ``_CHUNK_DAYS`` each."""
        runs: list[tuple[int, int]] = []
        for i, (start, _) in enumerate(days):
            if start not in missing:
                continue
            if runs and runs[-1][1] == i - 1 and i - runs[-1][0] < _CHUNK_DAYS:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
        return runs

    def _keep(self, site: str, run: list[Day], part: SiteEnergy, started_s: float) -> None:
        if not self.enabled:
            return
        kept = self._site(site)
        if kept.changed_since(started_s - self.settle_s, run[0][0], run[-1][1]):
            return
        horizon_ms = district_clock().now_ms() - self.days * 86_400_000
        for start, end in run:
            if start < horizon_ms:
                continue
            first = (start - run[0][0]) // self.step_ms
            kept.write(start, part, first, (end - start) // self.step_ms)
            events: Events = {}
            merge_events(events, part.events, lo_ms=start, hi_ms=end)
            kept.days[start] = _Kept(end, sum(1 << q for q in range(_Q) if part.metered[q]), events)
            kept.max_end_ms = max(kept.max_end_ms, end)
        self._forget_before(kept, horizon_ms)

    def _forget_before(self, kept: _SiteDays, horizon_ms: int) -> None:
        for start in [s for s, d in kept.days.items() if d.end_ms < horizon_ms]:
            del kept.days[start]
        first_block = horizon_ms // self.step_ms // _BLOCK
        for block in [b for b in kept.blocks if b < first_block]:
            del kept.blocks[block]

    def held_days(self, site: str) -> int:
        kept = self._sites.get(site)
        return 0 if kept is None else len(kept.days)


async def keep_archived(archive: EnergyArchive, sites: Sequence[SiteConfig], compute: Compute, *,
                        every_s: float, delay_s: float) -> None:
    """After ``delay_s``, keep the last ``archive.days`` closed days of every site archived,
    newest first, checking every ``every_s``, until cancelled. A failing store is retried then."""
    await asyncio.sleep(delay_s)
    while True:
        try:
            now_ms = district_clock().now_ms()
            days = archive.closed_days(now_ms - archive.days * 86_400_000, now_ms)
            for i in range(len(days), 0, -_CHUNK_DAYS):
                await archive.energy(sites, days[max(0, i - _CHUNK_DAYS):i], compute)
        except StoreError as exc:
            log.warning("could not archive closed days' energy: %s", exc)
        except Exception:  # a bug must not end the task: requests would read the counters for good
            log.exception("archiving closed days' energy failed")
        await asyncio.sleep(every_s)
