"""Intake against the drought allowance, as an ordinance means it.

- The allowance counts the sources of ``WaterConfig.allowance_sources``: fresh water
  (public network and wells) by default, so recycled water is not penalised.
- It is per local calendar day: a 23- or 25-hour DST day gets one day's allowance.
  An hour gets its day's allowance times its share of that day; a month the sum of
  its days.
- Each day is judged at the level in force that day (``nzd.accounting.water_calendar``).
- ``over`` is set on every interval: any counted intake above the allowance, a zero
  allowance included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nzd.accounting.water import FloatArray, Period, WaterKpis, period_edges
from nzd.config.district import WaterConfig, WaterSeverity

__all__ = ["AllowanceStatus", "allowance_per_interval", "intake_against_allowance"]


@dataclass(frozen=True, slots=True)
class AllowanceStatus:
    severity: WaterSeverity
    """The level of the last interval (the one in force now, for a report that ends now)."""
    severities: list[WaterSeverity]
    """The level each interval was judged at (the level of the day it starts in)."""
    counted_m3: FloatArray
    """The intake the allowance counts (fresh water by default) per interval."""
    allowance_m3: FloatArray | None
    """The allowance per interval; NaN where the site has none for that day's level; None if it
    has none at all."""
    used_fraction: FloatArray | None
    """Counted intake / allowance per interval; NaN where the allowance is zero or unknown."""
    over: npt.NDArray[np.bool_]
    """Counted intake above the allowance (False where there is no allowance)."""


def allowance_per_interval(
    edges_ms: npt.ArrayLike, *, day_edges_ms: npt.ArrayLike, daily_m3: npt.ArrayLike
) -> FloatArray:
    """Each interval's share of per-day allowances: sum over days of the day's allowance times the
    fraction of the day the interval covers (days as given by ``day_edges_ms``, 23-25 h long)."""
    edges = np.asarray(edges_ms, dtype=np.float64)
    days = np.asarray(day_edges_ms, dtype=np.float64)
    daily = np.asarray(daily_m3, dtype=np.float64)
    if daily.shape != (days.size - 1,):
        raise ValueError(f"daily_m3 needs one value per day ({days.size - 1}), got shape {daily.shape}")
    lo = np.maximum(edges[:-1, None], days[None, :-1])
    hi = np.minimum(edges[1:, None], days[None, 1:])
    share = np.clip(hi - lo, 0.0, None) / np.diff(days)[None, :]
    weighted = np.where(share > 0, share * daily[None, :], 0.0)  # a NaN day outside stays out
    touched_nan = ((share > 0) & ~np.isfinite(daily[None, :])).any(axis=1)
    return np.where(touched_nan, np.nan, weighted.sum(axis=1))


def intake_against_allowance(
    kpis: WaterKpis, *, water: WaterConfig, severity: WaterSeverity | str | Sequence[WaterSeverity],
    timezone: str,
) -> AllowanceStatus:
    """Each interval's counted intake against the site's allowance.

    ``severity`` is one level for every day, or one level per local day of the report (the days
    of ``period_edges(period=DAY)`` over the report's span, e.g. from
    :func:`nzd.accounting.water_calendar.severity_per_day`).
    """
    edges = kpis.edges_ms
    day_edges = period_edges(start_ms=int(edges[0]), end_ms=int(edges[-1]), period=Period.DAY,
                             timezone=timezone)
    n_days = day_edges.size - 1
    if isinstance(severity, str):
        levels = [WaterSeverity(severity)] * n_days
    else:
        levels = [WaterSeverity(s) for s in severity]
        if len(levels) != n_days:
            raise ValueError(f"severity needs one level per day ({n_days}), got {len(levels)}")
    counted = np.zeros(edges.size - 1, dtype=np.float64)
    for source in water.allowance_sources:
        if source in kpis.intake_by_source_m3:
            counted = counted + kpis.intake_by_source_m3[source]
    day_of = np.searchsorted(day_edges, edges[:-1], side="right") - 1
    per_interval = [levels[int(k)] for k in np.clip(day_of, 0, n_days - 1)]
    daily = np.asarray([water.allowance_m3_per_day.get(lvl, np.nan) for lvl in levels], dtype=np.float64)
    if not np.isfinite(daily).any():  # no allowance for any level of these days
        return AllowanceStatus(severity=per_interval[-1], severities=per_interval, counted_m3=counted,
                               allowance_m3=None, used_fraction=None, over=np.zeros(counted.size, dtype=bool))
    allowance = allowance_per_interval(edges, day_edges_ms=day_edges, daily_m3=daily)
    used = np.full(counted.shape, np.nan, dtype=np.float64)
    np.divide(counted, allowance, out=used, where=np.isfinite(allowance) & (allowance > 0))
    over = np.isfinite(allowance) & (counted > np.nan_to_num(allowance) + 1e-9)
    return AllowanceStatus(severity=per_interval[-1], severities=per_interval, counted_m3=counted,
                           allowance_m3=allowance, used_fraction=used, over=np.asarray(over))
