"""Measured history per site on the planning grid, from the store: the forecasts' input.

Per site and interval: PV = the PV meters' and inverters' ``pv_power_w``; load =
grid import (``active_power_w`` of the grid meters) + PV + battery discharge
(``battery_power_w`` of the battery meters), i.e. what the site consumed. An
interval without a grid reading is NaN (the forecast fills it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from coordinator.forecast._history import SiteHistory
from nzd.config import DistrictConfig, MeterRole, SiteConfig
from nzd.store.base import Aggregation, StoreError, TelemetryStore

__all__ = ["load_history", "month_peak_kw"]

log = logging.getLogger(__name__)
_QUANTITIES = ("active_power_w", "pv_power_w", "battery_power_w")


def _devices(site: SiteConfig) -> dict[str, set[str]]:
    """Quantity -> devices that measure it for the site balance."""
    out: dict[str, set[str]] = {q: set() for q in _QUANTITIES}
    for m in site.meters:
        if m.role is MeterRole.GRID:
            out["active_power_w"].add(m.device)
        elif m.role is MeterRole.PV:
            out["pv_power_w"].add(m.device)
        elif m.role is MeterRole.BATTERY:
            out["battery_power_w"].add(m.device)
    out["pv_power_w"].update(p.device for p in site.pv if p.device)
    return out


async def load_history(store: TelemetryStore, district: DistrictConfig, *, end_ms: int,
                       days: int) -> SiteHistory | None:
    """The last ``days`` before ``end_ms`` (whole intervals); None when nothing was measured."""
    step_ms = district.step_minutes * 60_000
    end = end_ms // step_ms * step_ms
    start = end - days * 86_400_000
    n = (end - start) // step_ms
    n_sites = len(district.sites)
    sums = {q: np.zeros((n_sites, n)) for q in _QUANTITIES}
    seen = {q: np.zeros((n_sites, n), dtype=bool) for q in _QUANTITIES}
    for s, site in enumerate(district.sites):
        wanted = _devices(site)
        if not any(wanted.values()):
            continue
        try:
            series = await store.history(district=district.district, site=site.id, quantities=_QUANTITIES,
                                         start_ms=start, end_ms=end, every_s=step_ms // 1000,
                                         aggregation=Aggregation.MEAN)
        except StoreError as exc:
            log.warning("no history for site %s: %s", site.id, exc)
            continue
        for ser in series:
            idx = (np.asarray(ser.times_ms, dtype=np.int64) - start) // step_ms
            ok = (idx >= 0) & (idx < n)
            for q in _QUANTITIES:
                if ser.device not in wanted[q] or q not in ser.values:
                    continue
                vals = np.array([np.nan if v is None else v for v in ser.values[q]], dtype=float)
                good = ok & np.isfinite(vals)
                np.add.at(sums[q][s], idx[good], vals[good])
                seen[q][s, idx[good]] = True
    if not seen["active_power_w"].any():
        return None
    grid_kw = np.where(seen["active_power_w"], sums["active_power_w"] / 1000.0, np.nan)
    pv_kw = sums["pv_power_w"] / 1000.0
    load_kw = grid_kw + pv_kw + sums["battery_power_w"] / 1000.0
    return SiteHistory(start_ms=start, step_minutes=district.step_minutes, load_kw=load_kw,
                       pv_kw=np.where(np.isnan(grid_kw), np.nan, pv_kw), grid_kw=grid_kw)


def month_peak_kw(history: SiteHistory | None, district: DistrictConfig, *, at_ms: int) -> dict[str, float]:
    """Site -> highest mean import of an interval so far in the local calendar month of ``at_ms``
    (the billing month of the peak charge), from the loaded history; sites without any: absent."""
    if history is None or history.grid_kw is None:
        return {}
    tz = ZoneInfo(district.timezone)
    local = datetime.fromtimestamp(at_ms / 1000, tz)
    month_start = int(local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    times = history.start_ms + np.arange(history.grid_kw.shape[1], dtype=np.int64) * history.step_ms
    in_month = (times >= month_start) & (times < at_ms)
    out: dict[str, float] = {}
    for s, site in enumerate(district.sites):
        values = history.grid_kw[s, in_month]
        values = values[np.isfinite(values)]
        if values.size:
            out[site.id] = max(float(values.max()), 0.0)
    return out
