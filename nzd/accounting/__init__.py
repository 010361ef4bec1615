"""Energy and water accounting: pure functions over series (counters, KPIs)."""

from nzd.accounting.counters import (
    Spread,
    counter_increments,
    counter_per_interval,
    energy_per_interval,
    interval_edges,
    volume_per_interval,
)
from nzd.accounting.water import (
    AllowanceStatus,
    MeterReadings,
    Period,
    WaterKpis,
    district_water_kpis,
    intake_against_allowance,
    period_change,
    period_edges,
    site_water_kpis,
    trend_per_period,
)

__all__ = [
    "AllowanceStatus",
    "MeterReadings",
    "Period",
    "Spread",
    "WaterKpis",
    "counter_increments",
    "counter_per_interval",
    "district_water_kpis",
    "energy_per_interval",
    "intake_against_allowance",
    "interval_edges",
    "period_change",
    "period_edges",
    "site_water_kpis",
    "trend_per_period",
    "volume_per_interval",
]
