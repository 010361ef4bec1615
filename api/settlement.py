"""Monthly statements from measured data: nzd.accounting.settlement over the store's counters.

The API never plans: statements are what the meters measured, settled by the registry's
rules (docs/settlement.md), at the stored hourly zonal prices (the registry's constant for
hours without one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from api.baselines import BaselineSettlements, baseline_settlements
from api.energy import measured_energy
from api.energy_archive import EnergyArchive
from api.problems import ProblemError
from nzd.accounting.settlement import Settlement, hourly_energy, settle, settlement_rules
from nzd.config import DistrictConfig
from nzd.prices import hourly_prices
from nzd.store.base import TelemetryStore

__all__ = ["MonthlySettlement", "month_bounds", "monthly_settlement"]

_MONTH = re.compile(r"^(20[0-9]{2}|21[0-9]{2})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class MonthlySettlement:
    month: str
    start_ms: int
    end_ms: int
    month_total: Settlement
    """One period: the month."""
    days: Settlement
    baselines: BaselineSettlements | None = None
    """The coordinator's daily plans against both baselines, settled (None: none stored)."""


def month_bounds(month: str, timezone: str) -> tuple[int, int]:
    """Local month ``YYYY-MM`` as [start_ms, end_ms); 422 on anything else."""
    m = _MONTH.fullmatch(month)
    if m is None:
        raise ProblemError(422, f"query.month: {month!r} is not a month like 2026-06")
    year, mon = int(m.group(1)), int(m.group(2))
    tz = ZoneInfo(timezone)
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


async def monthly_settlement(store: TelemetryStore, district: DistrictConfig, *, month: str,
                             archive: EnergyArchive | None = None) -> MonthlySettlement:
    """Every member's statement for a local month (all sites: shares depend on everyone's flows)."""
    start_ms, end_ms = month_bounds(month, district.timezone)
    series, tariff = await measured_energy(store, district, list(district.sites), start_ms=start_ms,
                                           end_ms=end_ms, archive=archive)
    energy = hourly_energy(series, tariff)
    rules = settlement_rules(district)
    pz = await hourly_prices(store, district=district.district, hour_start_ms=energy.hour_start_ms)
    stored = {int(t): float(v) for t, v in zip(energy.hour_start_ms, pz, strict=True) if np.isfinite(v)}
    baselines = await baseline_settlements(store, district, rules, start_ms=start_ms, end_ms=end_ms,
                                           zonal_price=stored)
    return MonthlySettlement(month=month, start_ms=start_ms, end_ms=end_ms,
                             month_total=settle(energy, rules, zonal_price_eur_per_mwh=pz, period="month"),
                             days=settle(energy, rules, zonal_price_eur_per_mwh=pz, period="day"),
                             baselines=baselines)
