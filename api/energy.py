"""Measured energy per interval from the store's counters, shaped for nzd.accounting.kpis.

Counter readings keep the instant they were taken (api/counters.py: raw readings, or the first
and last reading of each 15-minute bucket over long periods); nzd.accounting.counters turns them
into energy per interval from the readings that bound it, rejecting bad readings
(nzd.accounting.counter_rules), and reports which intervals readings cover. Nothing here
integrates power.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from api.counters import DEFAULT_RAW_SPAN_MS, CounterReadings, counter_series
from api.energy_archive import ARCHIVE_QUANTITIES, Compute, EnergyArchive, SiteEnergy, merge_events
from api.kpi_cache import KpiCache
from nzd.accounting import EnergyKpis, EnergySeries, TariffSeries, energy_kpis, tariff_series
from nzd.accounting.counter_rules import CounterRules
from nzd.accounting.counters import counter_intervals, interval_edges
from nzd.config import DistrictConfig, MeterRole, SiteConfig
from nzd.config.district import PriceProfile
from nzd.store.base import TelemetryStore

__all__ = ["COUNTER_EVENTS", "MeasuredKpis", "aligned_period", "archive_compute", "cached_kpis",
           "local_hours", "measured_energy", "measured_kpis"]

COUNTER_EVENTS = ("flagged", "noise", "excess", "reset", "rollover")
_QUANTITIES = ("energy_import_wh", "energy_export_wh", "pv_energy_wh", "battery_discharge_energy_wh",
               "battery_charge_energy_wh")

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class MeasuredKpis:
    kpis: EnergyKpis
    start_ms: int
    end_ms: int
    """The requested window, aligned to the interval grid."""
    covered: dict[str, BoolArray]
    """KPI quantity (``import_kwh``...) -> [site, interval]: covered by readings; absent where
    the site has no meter for it (those rows are [False])."""
    metered: dict[str, npt.NDArray[np.bool_]]
    """KPI quantity -> [site]: the site has a meter for it."""
    bounded: BoolArray
    """[site, interval]: grid energy is known (the interval lies between two grid readings, even
    across a gap); a period without any such interval has no data."""
    events: list[dict[str, dict[str, list[int]]]]
    """Per site: device -> event (``COUNTER_EVENTS``) -> times of the readings."""
    rendered: dict[str, Any] = field(default_factory=dict)
    """A route's answer built from these figures, when it depends on nothing else (kept with
    them in the KPI cache)."""


def aligned_period(start_ms: int, end_ms: int, step_minutes: int) -> tuple[int, int]:
    step_ms = step_minutes * 60_000
    start = start_ms // step_ms * step_ms
    end = -(-end_ms // step_ms) * step_ms
    return start, max(end, start + step_ms)


def _devices(site: SiteConfig, role: MeterRole) -> set[str]:
    found = {m.device for m in site.meters if m.role is role}
    if role is MeterRole.PV:
        found |= {p.device for p in site.pv if p.device}
    if role is MeterRole.BATTERY:
        found |= {b.device for b in site.batteries if b.device}
    return found


def _rules(district: DistrictConfig, site: SiteConfig, device: str) -> CounterRules:
    meter = next((m for m in site.meters if m.device == device), None)
    # Only a declared rating caps a counter: a connection limit is no meter's rating (and the
    # demo's accelerated clock runs counters many times faster than the wall clock).
    rated_kw = meter.rated_power_kw if meter is not None else None
    return CounterRules(modulus=None if meter is None else meter.rollover_wh,
                        reset_fraction=district.counter_reset_fraction,
                        max_rate_per_h=None if rated_kw is None else rated_kw * 1000.0)


class _Site:
    """One site's counters turned into kWh per interval, coverage and counter events."""

    def __init__(self, district: DistrictConfig, site: SiteConfig,
                 readings: dict[tuple[str, str], CounterReadings], edges: npt.NDArray[np.int64]) -> None:
        self.district, self.site, self.readings, self.edges = district, site, readings, edges
        self.events: dict[str, dict[str, list[int]]] = {}

    def kwh(self, role: MeterRole, quantity: str) -> tuple[npt.NDArray[np.float64], BoolArray] | None:
        """Summed energy over the role's devices that carry ``quantity``; None when none does."""
        total: npt.NDArray[np.float64] | None = None
        covered: BoolArray | None = None
        for device in sorted(_devices(self.site, role)):
            r = self.readings.get((device, quantity))
            if r is None:
                continue
            res = counter_intervals(r.times_ms, r.values, self.edges, flagged=r.flagged,
                                    rules=_rules(self.district, self.site, device))
            for kind, times in res.clean.events.items():
                self.events.setdefault(device, {}).setdefault(kind, []).extend(times)
            wh = res.amount / 1000.0
            total = wh if total is None else total + wh
            covered = res.covered if covered is None else covered & res.covered
        return None if total is None or covered is None else (total, covered)


def _profile(p: PriceProfile) -> list[float]:
    return [float(p)] * 24 if isinstance(p, int | float) else [float(x) for x in p]


async def measured_kpis(store: TelemetryStore, district: DistrictConfig, sites: list[SiteConfig], *,
                        start_ms: int, end_ms: int, period: str, raw_span_ms: int = DEFAULT_RAW_SPAN_MS,
                        archive: EnergyArchive | None = None) -> MeasuredKpis:
    m = await _measure(store, district, sites, start_ms=start_ms, end_ms=end_ms, raw_span_ms=raw_span_ms,
                       archive=archive)
    kpis = energy_kpis(m.series, m.tariff, period=period, timezone=district.timezone)
    return MeasuredKpis(kpis=kpis, start_ms=m.start_ms, end_ms=m.end_ms, covered=m.covered,
                        metered=m.metered, bounded=~np.isnan(m.series.import_kwh), events=m.events)


async def cached_kpis(cache: KpiCache[MeasuredKpis], store: TelemetryStore, district: DistrictConfig,
                      sites: list[SiteConfig], *, start_ms: int, end_ms: int, period: str,
                      raw_span_ms: int = DEFAULT_RAW_SPAN_MS,
                      archive: EnergyArchive | None = None) -> MeasuredKpis:
    """:func:`measured_kpis` through ``cache`` (api/kpi_cache.py): the same answer, computed
    again only after a reading that may change it. The answer's arrays are shared: read only."""
    key = (tuple(s.id for s in sites), start_ms, end_ms, period, raw_span_ms)
    found = cache.get(key)
    if found is not None:
        return found
    task = cache.inflight.get(key)
    if task is None:
        # One computation per key at a time, in its own task: a request that goes away does not
        # cancel it for the others waiting on it.
        started_s = cache.started()
        task = asyncio.ensure_future(measured_kpis(store, district, sites, start_ms=start_ms, end_ms=end_ms,
                                                   period=period, raw_span_ms=raw_span_ms, archive=archive))
        cache.inflight[key] = task

        def done(t: asyncio.Future[MeasuredKpis]) -> None:
            if cache.inflight.get(key) is t:
                del cache.inflight[key]
            if not t.cancelled() and t.exception() is None:  # an error reaches the waiting requests
                cache.put(key, t.result(), started_s=started_s)

        task.add_done_callback(done)
    return await asyncio.shield(task)


async def measured_energy(store: TelemetryStore, district: DistrictConfig, sites: list[SiteConfig], *,
                          start_ms: int, end_ms: int, raw_span_ms: int = DEFAULT_RAW_SPAN_MS,
                          archive: EnergyArchive | None = None) -> tuple[EnergySeries, TariffSeries]:
    """Measured energy per interval of ``sites`` and their tariffs, on the district's grid."""
    m = await _measure(store, district, sites, start_ms=start_ms, end_ms=end_ms, raw_span_ms=raw_span_ms,
                       archive=archive)
    return m.series, m.tariff


def archive_compute(store: TelemetryStore, district: DistrictConfig, *,
                    raw_span_ms: int = DEFAULT_RAW_SPAN_MS) -> Compute:
    """How the archive (api/energy_archive.py) reads days it does not hold: from the counters."""
    async def compute(sites: Sequence[SiteConfig], start_ms: int, end_ms: int) -> list[SiteEnergy]:
        return await _from_counters(store, district, sites, start_ms=start_ms, end_ms=end_ms,
                                    raw_span_ms=raw_span_ms)
    return compute


@dataclass(frozen=True, slots=True)
class _Measured:
    series: EnergySeries
    tariff: TariffSeries
    start_ms: int
    end_ms: int
    covered: dict[str, BoolArray]
    metered: dict[str, BoolArray]
    events: list[dict[str, dict[str, list[int]]]]


async def _from_counters(store: TelemetryStore, district: DistrictConfig, sites: Sequence[SiteConfig], *,
                         start_ms: int, end_ms: int, raw_span_ms: int) -> list[SiteEnergy]:
    """Each site's energy per interval of ``[start_ms, end_ms)`` (on the interval grid) from its counters."""
    edges = interval_edges(start_ms=start_ms, end_ms=end_ms, step_ms=district.step_minutes * 60_000)
    n = edges.size - 1
    everything = await counter_series(store, district=district.district,
                                      site=sites[0].id if len(sites) == 1 else None,
                                      quantities=_QUANTITIES, devices=None, start_ms=start_ms,
                                      end_ms=end_ms, raw_span_ms=raw_span_ms)
    out = []
    for site in sites:
        readings = {(d, q): r for (s, d, q), r in everything.items() if s == site.id}
        acc = _Site(district, site, readings, edges)
        pv = acc.kwh(MeterRole.PV, "pv_energy_wh") or acc.kwh(MeterRole.PV, "energy_export_wh")
        dis = acc.kwh(MeterRole.BATTERY, "battery_discharge_energy_wh")
        chg = acc.kwh(MeterRole.BATTERY, "battery_charge_energy_wh")
        battery = None
        if dis is not None or chg is not None:
            d = dis or (np.zeros(n), np.ones(n, dtype=bool))
            c = chg or (np.zeros(n), np.ones(n, dtype=bool))
            battery = (d[0] - c[0], d[1] & c[1])
        found = (acc.kwh(MeterRole.GRID, "energy_import_wh"), acc.kwh(MeterRole.GRID, "energy_export_wh"),
                 pv, battery)  # in ARCHIVE_QUANTITIES' order
        part = SiteEnergy.blank(n)
        for row, got in enumerate(found):
            if got is not None:
                part.energy[row], part.covered[row], part.metered[row] = got[0], got[1], True
        merge_events(part.events, acc.events, lo_ms=start_ms, hi_ms=end_ms)
        out.append(part)
    return out


async def _measure(store: TelemetryStore, district: DistrictConfig, sites: list[SiteConfig], *,
                   start_ms: int, end_ms: int, raw_span_ms: int, archive: EnergyArchive | None) -> _Measured:
    step_ms = district.step_minutes * 60_000
    start_ms, end_ms = aligned_period(start_ms, end_ms, district.step_minutes)
    n = (end_ms - start_ms) // step_ms
    days = [] if archive is None else archive.closed_days(start_ms, end_ms)
    # [site, quantity, interval]; every interval is written below (counters or archive).
    energy = np.empty((len(sites), len(ARCHIVE_QUANTITIES), n))
    covered = np.empty(energy.shape, dtype=bool)
    metered = np.zeros(energy.shape[:2], dtype=bool)
    parts = [SiteEnergy(energy[i], covered[i], metered[i]) for i in range(len(sites))]  # views

    # Closed days from the archive; the rest (a partial first or last day, today) from the counters.
    runs = [(start_ms, end_ms)] if not days else [(start_ms, days[0][0]), (days[-1][1], end_ms)]
    for lo, hi in runs:
        if hi > lo:
            got = await _from_counters(store, district, sites, start_ms=lo, end_ms=hi,
                                       raw_span_ms=raw_span_ms)
            for whole, part in zip(parts, got, strict=True):
                whole.put((lo - start_ms) // step_ms, part, first=0, n=(hi - lo) // step_ms,
                          lo_ms=lo, hi_ms=hi)
    if days and archive is not None:
        await archive.energy(sites, days, archive_compute(store, district, raw_span_ms=raw_span_ms),
                             into=parts, offset=(days[0][0] - start_ms) // step_ms)
    series = EnergySeries(site_ids=tuple(s.id for s in sites), start_ms=start_ms,
                          step_minutes=district.step_minutes, import_kwh=energy[:, 0],
                          export_kwh=energy[:, 1], pv_kwh=_zero_nan_in_place(energy[:, 2]),
                          battery_net_kwh=_zero_nan_in_place(energy[:, 3]))
    times = start_ms + np.arange(n, dtype=np.int64) * step_ms
    tariffs = [district.tariff_for(s.id) for s in sites]
    tariff = tariff_series(
        import_eur_per_kwh=[_profile(t.import_eur_per_kwh) for t in tariffs],
        export_eur_per_kwh=[_profile(t.export_eur_per_kwh) for t in tariffs],
        emission_g_per_kwh=[_profile(t.emission_g_per_kwh) for t in tariffs],
        local_hour=local_hours(times, district.timezone),
        incentive_eur_per_mwh=district.tariff.incentive_eur_per_mwh,
        valorisation_eur_per_mwh=district.tariff.valorisation_eur_per_mwh)
    return _Measured(series=series, tariff=tariff, start_ms=start_ms, end_ms=end_ms,
                     covered={q: covered[:, i] for i, q in enumerate(ARCHIVE_QUANTITIES)},
                     metered={q: metered[:, i] for i, q in enumerate(ARCHIVE_QUANTITIES)},
                     events=[p.events for p in parts])


def _zero_nan_in_place(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Without a PV or battery meter (or its readings) a site has none: 0, not unknown."""
    np.copyto(values, 0.0, where=np.isnan(values))
    return values


def local_hours(times_ms: npt.NDArray[np.int64], timezone: str) -> npt.NDArray[np.int64]:
    """The local hour of day of each instant; the zone's offset is looked up once per UTC day
    (and per instant only on days it changes)."""
    tz = ZoneInfo(timezone)
    day_ms = 86_400_000

    def offset_ms(t: int) -> int:
        off = datetime.fromtimestamp(t / 1000, tz).utcoffset()
        return 0 if off is None else int(off.total_seconds() * 1000)

    days, index = np.unique(times_ms // day_ms, return_inverse=True)
    at_start = np.asarray([offset_ms(int(d) * day_ms) for d in days], dtype=np.int64)
    at_end = np.asarray([offset_ms(int(d + 1) * day_ms - 1) for d in days], dtype=np.int64)
    offsets = at_start[index]
    for i in np.flatnonzero(at_start != at_end):  # a day with a change of offset
        inside = np.flatnonzero(index == i)
        offsets[inside] = [offset_ms(int(t)) for t in times_ms[inside]]
    return np.asarray((times_ms + offsets) // 3_600_000 % 24, dtype=np.int64)
