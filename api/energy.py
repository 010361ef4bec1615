"""Measured energy per interval from the store's counters, shaped for nzd.accounting.kpis.

Up to two days the raw counter readings are used; over longer periods the store returns
the last counter value of each interval (``Aggregation.LAST``), taken as the value at
the interval's end. nzd.accounting.counters turns those into energy per interval
(resets handled), and nzd.accounting.kpis computes the KPIs. Nothing here integrates power.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from nzd.accounting import (
    EnergyKpis,
    EnergySeries,
    TariffSeries,
    energy_kpis,
    energy_per_interval,
    tariff_series,
)
from nzd.accounting.counters import interval_edges
from nzd.config import DistrictConfig, MeterRole, SiteConfig
from nzd.config.district import PriceProfile
from nzd.store.base import Aggregation, Series, TelemetryStore

__all__ = ["aligned_period", "measured_energy", "measured_kpis"]

_GRID = ("energy_import_wh", "energy_export_wh")
_PV = ("pv_energy_wh", "energy_export_wh")
_BATTERY = ("battery_discharge_energy_wh", "battery_charge_energy_wh")
_RAW_MAX_MS = 2 * 86_400_000


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


def _kwh(series: list[Series], quantity: str, edges: np.ndarray, shift_ms: int) -> np.ndarray | None:
    """Summed energy of ``quantity`` over the series that carry it; None when none does."""
    total: np.ndarray | None = None
    for s in series:
        values = s.values.get(quantity)
        if values is None:
            continue
        pairs = [(t + shift_ms, v) for t, v in zip(s.times_ms, values, strict=True)
                 if v is not None and math.isfinite(v)]
        if len(pairs) < 2:
            continue
        times, vals = zip(*pairs, strict=True)
        wh = energy_per_interval(list(times), list(vals), edges, spread="end")
        total = wh / 1000.0 if total is None else total + wh / 1000.0
    return total


def _profile(p: PriceProfile) -> list[float]:
    return [float(p)] * 24 if isinstance(p, int | float) else [float(x) for x in p]


async def measured_kpis(store: TelemetryStore, district: DistrictConfig, sites: list[SiteConfig], *,
                        start_ms: int, end_ms: int, period: str) -> EnergyKpis:
    series, tariff = await measured_energy(store, district, sites, start_ms=start_ms, end_ms=end_ms)
    return energy_kpis(series, tariff, period=period, timezone=district.timezone)


async def measured_energy(store: TelemetryStore, district: DistrictConfig, sites: list[SiteConfig], *,
                          start_ms: int, end_ms: int) -> tuple[EnergySeries, TariffSeries]:
    """Measured energy per interval of ``sites`` and their tariffs, on the district's grid."""
    step_ms = district.step_minutes * 60_000
    start_ms, end_ms = aligned_period(start_ms, end_ms, district.step_minutes)
    edges = interval_edges(start_ms=start_ms, end_ms=end_ms, step_ms=step_ms)
    n = edges.size - 1
    nan = np.full(n, np.nan)
    imports, exports, pvs, batteries = [], [], [], []
    raw = end_ms - start_ms <= _RAW_MAX_MS
    shift_ms = 0 if raw else step_ms
    for site in sites:
        history = await store.history(
            district=district.district, site=site.id, quantities=sorted({*_GRID, *_PV, *_BATTERY}),
            start_ms=start_ms - step_ms, end_ms=end_ms + (1 if raw else 0),
            every_s=None if raw else step_ms // 1000, aggregation=Aggregation.LAST)
        grid = [s for s in history if s.device in _devices(site, MeterRole.GRID)]
        pv = [s for s in history if s.device in _devices(site, MeterRole.PV)]
        bat = [s for s in history if s.device in _devices(site, MeterRole.BATTERY)]
        imp = _kwh(grid, "energy_import_wh", edges, shift_ms)
        exp = _kwh(grid, "energy_export_wh", edges, shift_ms)
        imports.append(nan if imp is None else imp)
        exports.append(nan if exp is None else exp)
        pv_kwh = _kwh(pv, "pv_energy_wh", edges, shift_ms)
        if pv_kwh is None:
            pv_kwh = _kwh(pv, "energy_export_wh", edges, shift_ms)
        pvs.append(np.zeros(n) if pv_kwh is None else pv_kwh)
        dis = _kwh(bat, "battery_discharge_energy_wh", edges, shift_ms)
        chg = _kwh(bat, "battery_charge_energy_wh", edges, shift_ms)
        batteries.append((np.zeros(n) if dis is None else dis) - (np.zeros(n) if chg is None else chg))
    series = EnergySeries(site_ids=tuple(s.id for s in sites), start_ms=start_ms,
                          step_minutes=district.step_minutes, import_kwh=np.vstack(imports),
                          export_kwh=np.vstack(exports), pv_kwh=np.vstack(pvs),
                          battery_net_kwh=np.vstack(batteries))
    tz = ZoneInfo(district.timezone)
    local_hour = np.asarray([datetime.fromtimestamp(t / 1000, tz).hour for t in edges[:-1]], dtype=np.int64)
    tariffs = [district.tariff_for(s.id) for s in sites]
    tariff = tariff_series(
        import_eur_per_kwh=[_profile(t.import_eur_per_kwh) for t in tariffs],
        export_eur_per_kwh=[_profile(t.export_eur_per_kwh) for t in tariffs],
        emission_g_per_kwh=[_profile(t.emission_g_per_kwh) for t in tariffs],
        local_hour=local_hour, incentive_eur_per_mwh=district.tariff.incentive_eur_per_mwh,
        valorisation_eur_per_mwh=district.tariff.valorisation_eur_per_mwh)
    return series, tariff
