"""Water balances: what went in against what came out, and the unexplained part.

- The recycled-water network: the reuse plant's metered output (``supply`` meters)
  against the sum of the firms' metered recycled intake. The difference is the
  network's loss (leaks, unmetered draw-offs, meter error).
- A firm: its intake against its discharge plus its declared process use (water that
  leaves neither through the discharge meter: evaporation, water in the product).

A balance is judged per complete local day: an alert when the unexplained part is
above a share of what went in (``threshold_pct``) and above ``min_m3`` (so a near-idle
day's rounding does not alarm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nzd.accounting.allowance import allowance_per_interval
from nzd.accounting.water import FloatArray, Period, WaterKpis, period_edges
from nzd.config.district import WaterConfig, WaterSource

__all__ = ["WaterBalance", "balance_breaches", "firm_balance", "recycled_network_balance"]


@dataclass(frozen=True, slots=True)
class WaterBalance:
    edges_ms: npt.NDArray[np.int64]
    in_m3: FloatArray
    """What went in: the plant's output (network) or the firm's intake."""
    explained_m3: FloatArray
    """What is accounted for: the firms' recycled intake, or discharge plus declared use."""

    @property
    def unexplained_m3(self) -> FloatArray:
        """In minus explained: the network's loss, or the firm's unexplained use (>0: missing)."""
        return self.in_m3 - self.explained_m3

    @property
    def unexplained_pct(self) -> FloatArray:
        out = np.full(self.in_m3.shape, np.nan, dtype=np.float64)
        np.divide(100.0 * self.unexplained_m3, self.in_m3, out=out, where=self.in_m3 > 0)
        return out


def recycled_network_balance(sites: Sequence[WaterKpis]) -> WaterBalance | None:
    """The recycled network over the district's sites (same edges); None without a supply meter."""
    if not sites:
        raise ValueError("no sites")
    edges = sites[0].edges_ms
    supplies = [s.supply_m3 for s in sites if s.supply_m3 is not None]
    if not supplies:
        return None
    n = edges.size - 1
    intake = np.zeros(n, dtype=np.float64)
    for s in sites:
        if not np.array_equal(s.edges_ms, edges):
            raise ValueError("sites' KPIs must share the same interval edges")
        intake = intake + s.intake_by_source_m3.get(WaterSource.RECYCLED, np.zeros(n))
    return WaterBalance(edges_ms=edges, in_m3=np.sum(supplies, axis=0).astype(np.float64),
                        explained_m3=intake)


def firm_balance(kpis: WaterKpis, *, water: WaterConfig, timezone: str) -> WaterBalance:
    """A firm's intake against discharge plus declared use (a share of the intake plus a volume
    per local calendar day, shared by the intervals of the day)."""
    edges = kpis.edges_ms
    day_edges = period_edges(start_ms=int(edges[0]), end_ms=int(edges[-1]), period=Period.DAY,
                             timezone=timezone)
    per_day = np.full(day_edges.size - 1, water.declared_use_m3_per_day, dtype=np.float64)
    declared = allowance_per_interval(edges, day_edges_ms=day_edges, daily_m3=per_day)
    intake = kpis.intake_m3
    return WaterBalance(edges_ms=edges, in_m3=intake,
                        explained_m3=kpis.discharge_m3 + water.declared_use_fraction * intake + declared)


def balance_breaches(
    balance: WaterBalance, *, threshold_pct: float, min_m3: float = 1.0
) -> npt.NDArray[np.bool_]:
    """Intervals whose unexplained part is above ``threshold_pct`` of what went in and ``min_m3``."""
    lost = balance.unexplained_m3
    return np.asarray((lost > threshold_pct / 100.0 * balance.in_m3) & (lost > min_m3) & (balance.in_m3 > 0))
