"""Measured energy per interval from the store's counters, shaped for nzd.accounting.kpis.

Counter readings keep the instant they were taken (api/counters.py: raw readings, or the first
and last reading of each 15-minute bucket over long periods); nzd.accounting.counters turns them
into energy per interval from the readings that bound it, rejecting bad readings
(nzd.accounting.counter_rules), and reports which intervals readings cover. Nothing here
integrates power.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from api.counters import DEFAULT_RAW_SPAN_MS, CounterReadings, counter_series
from api.kpi_cache import KpiCache
from nzd.accounting import EnergyKpis, EnergySeries, TariffSeries, energy_kpis, tariff_series
from nzd.accounting.counter_rules import CounterRules
from nzd.accounting.counters import counter_intervals, interval_edges
from nzd.config import DistrictConfig, MeterRole, SiteConfig
from nzd.config.district import PriceProfile
from nzd.store.base import TelemetryStore

__all__ = ["COUNTER_EVENTS", "MeasuredKpis", "aligned_period", "cached_kpis", "measured_energy",
           "measured_kpis"]

COUNTER_EVENTS = ("flagged", "noise", "excess", "reset", "rollover")
_QUANTITIES = ("energy_import_wh", "energy_export_wh", "pv_energy_wh", "battery_discharge_energy_wh",
               "battery_charge_energy_wh")
_KPI_QUANTITIES = ("import_kwh", "export_kwh", "pv_kwh", "battery_kwh")

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
                        start_ms: int, end_ms: int, period: str,
                        raw_span_ms: int = DEFAULT_RAW_SPAN_MS) -> MeasuredKpis:
    m = await _measure(store, district, sites, start_ms=start_ms, end_ms=end_ms, raw_span_ms=raw_span_ms)
    kpis = energy_kpis(m.series, m.tariff, period=period, timezone=district.timezone)
    return MeasuredKpis(kpis=kpis, start_ms=m.start_ms, end_ms=m.end_ms, covered=m.covered,
                        metered=m.metered, bounded=~np.isnan(m.series.import_kwh), events=m.events)


async def cached_kpis(cache: KpiCache[MeasuredKpis], store: TelemetryStore, district: DistrictConfig,
                      sites: list[SiteConfig], *, start_ms: int, end_ms: int, period: str,
                      raw_span_ms: int = DEFAULT_RAW_SPAN_MS) -> MeasuredKpis:
    """:func:`measured_kpis` through ``cache`` (api/kpi_cache.py): the same answer, computed
    again only after a reading that may change it. The answer's arrays are shared: read only."""
    key = (tuple(s.id for s in sites), start_ms, end_ms, period, raw_span_ms)
    found = cache.get(key)
    if found is not None:
        return found
    started_s = cache.started()
    m = await measured_kpis(store, district, sites, start_ms=start_ms, end_ms=end_ms, period=period,
                            raw_span_ms=raw_span_ms)
    cache.put(key, m, started_s=started_s)
    return m


async def measured_energy(store: TelemetryStore, district: DistrictConfig, sites: list[SiteConfig], *,
                          start_ms: int, end_ms: int,
                          raw_span_ms: int = DEFAULT_RAW_SPAN_MS) -> tuple[EnergySeries, TariffSeries]:
    """Measured energy per interval of ``sites`` and their tariffs, on the district's grid."""
    m = await _measure(store, district, sites, start_ms=start_ms, end_ms=end_ms, raw_span_ms=raw_span_ms)
    return m.series, m.tariff


@dataclass(frozen=True, slots=True)
class _Measured:
    series: EnergySeries
    tariff: TariffSeries
    start_ms: int
    end_ms: int
    covered: dict[str, BoolArray]
    metered: dict[str, BoolArray]
    events: list[dict[str, dict[str, list[int]]]]


async def _measure(store: TelemetryStore, district: DistrictConfig, sites: list[SiteConfig], *,
                   start_ms: int, end_ms: int, raw_span_ms: int) -> _Measured:
    step_ms = district.step_minutes * 60_000
    start_ms, end_ms = aligned_period(start_ms, end_ms, district.step_minutes)
    edges = interval_edges(start_ms=start_ms, end_ms=end_ms, step_ms=step_ms)
    n = edges.size - 1
    nan, none = np.full(n, np.nan), np.zeros(n, dtype=bool)
    energy: dict[str, list[npt.NDArray[np.float64]]] = {q: [] for q in _KPI_QUANTITIES}
    covered: dict[str, list[BoolArray]] = {q: [] for q in _KPI_QUANTITIES}
    metered: dict[str, list[bool]] = {q: [] for q in _KPI_QUANTITIES}
    events: list[dict[str, dict[str, list[int]]]] = []
    everything = await counter_series(store, district=district.district,
                                      site=sites[0].id if len(sites) == 1 else None,
                                      quantities=_QUANTITIES, devices=None, start_ms=start_ms,
                                      end_ms=end_ms, raw_span_ms=raw_span_ms)
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
        found = {"import_kwh": acc.kwh(MeterRole.GRID, "energy_import_wh"),
                 "export_kwh": acc.kwh(MeterRole.GRID, "energy_export_wh"), "pv_kwh": pv,
                 "battery_kwh": battery}
        for q, got in found.items():
            # Without a PV or battery meter a site has none: 0, not missing.
            missing_value = nan if q in ("import_kwh", "export_kwh") else np.zeros(n)
            energy[q].append(missing_value if got is None else got[0])
            covered[q].append(none if got is None else got[1])
            metered[q].append(got is not None)
        events.append(acc.events)
    series = EnergySeries(site_ids=tuple(s.id for s in sites), start_ms=start_ms,
                          step_minutes=district.step_minutes, import_kwh=np.vstack(energy["import_kwh"]),
                          export_kwh=np.vstack(energy["export_kwh"]),
                          pv_kwh=np.nan_to_num(np.vstack(energy["pv_kwh"])),
                          battery_net_kwh=np.nan_to_num(np.vstack(energy["battery_kwh"])))
    tz = ZoneInfo(district.timezone)
    local_hour = np.asarray([datetime.fromtimestamp(t / 1000, tz).hour for t in edges[:-1]], dtype=np.int64)
    tariffs = [district.tariff_for(s.id) for s in sites]
    tariff = tariff_series(
        import_eur_per_kwh=[_profile(t.import_eur_per_kwh) for t in tariffs],
        export_eur_per_kwh=[_profile(t.export_eur_per_kwh) for t in tariffs],
        emission_g_per_kwh=[_profile(t.emission_g_per_kwh) for t in tariffs],
        local_hour=local_hour, incentive_eur_per_mwh=district.tariff.incentive_eur_per_mwh,
        valorisation_eur_per_mwh=district.tariff.valorisation_eur_per_mwh)
    return _Measured(series=series, tariff=tariff, start_ms=start_ms, end_ms=end_ms,
                     covered={q: np.vstack(v) for q, v in covered.items()},
                     metered={q: np.asarray(v, dtype=bool) for q, v in metered.items()}, events=events)
