"""Energy and water accounting: pure functions over series (counters, KPIs)."""

from nzd.accounting.counters import (
    Spread,
    counter_increments,
    counter_per_interval,
    energy_per_interval,
    interval_edges,
    volume_per_interval,
)

__all__ = [
    "Spread",
    "counter_increments",
    "counter_per_interval",
    "energy_per_interval",
    "interval_edges",
    "volume_per_interval",
]
