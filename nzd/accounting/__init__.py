"""Energy and water accounting: pure functions over series (counters, KPIs)."""

from nzd.accounting.allowance import AllowanceStatus, allowance_per_interval, intake_against_allowance
from nzd.accounting.balance import WaterBalance, balance_breaches, firm_balance, recycled_network_balance
from nzd.accounting.counter_rules import CleanCounter, CounterRules, clean_counter
from nzd.accounting.counters import (
    CounterIntervals,
    Spread,
    counter_increments,
    counter_intervals,
    counter_per_interval,
    energy_per_interval,
    interval_edges,
    volume_per_interval,
)
from nzd.accounting.kpis import (
    DistrictEnergyKpis,
    EnergyKpis,
    EnergySeries,
    SiteEnergyKpis,
    TariffSeries,
    allocate_by_shares,
    energy_kpis,
    hourly_shared_energy,
    tariff_series,
)
from nzd.accounting.water import (
    MeterReadings,
    Period,
    WaterKpis,
    district_water_kpis,
    period_change,
    period_edges,
    site_water_kpis,
    trend_per_period,
)

__all__ = [
    "AllowanceStatus",
    "CleanCounter",
    "CounterIntervals",
    "CounterRules",
    "DistrictEnergyKpis",
    "EnergyKpis",
    "EnergySeries",
    "MeterReadings",
    "Period",
    "SiteEnergyKpis",
    "Spread",
    "TariffSeries",
    "WaterBalance",
    "WaterKpis",
    "allocate_by_shares",
    "allowance_per_interval",
    "balance_breaches",
    "clean_counter",
    "counter_increments",
    "counter_intervals",
    "counter_per_interval",
    "district_water_kpis",
    "energy_kpis",
    "energy_per_interval",
    "firm_balance",
    "hourly_shared_energy",
    "intake_against_allowance",
    "interval_edges",
    "period_change",
    "period_edges",
    "recycled_network_balance",
    "site_water_kpis",
    "tariff_series",
    "trend_per_period",
    "volume_per_interval",
]
