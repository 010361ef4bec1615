"""Drought mode: what the district's water-severity level means for planning.

The operator sets ``DistrictConfig.water_severity`` (normal, low, medium, high).
The optimiser turns it into costs: every m3 a site takes from the public network
or its wells instead of a recycled-water tank costs ``non_recycled_eur_per_m3``,
and recycled-water tanks are kept fuller (``tank_level_min_pct``) so that a dry
afternoon does not fall back on fresh water.
"""

from __future__ import annotations

from dataclasses import dataclass

from nzd.accounting.water_calendar import WATER_SEVERITY_KEY
from nzd.config import TankConfig, WaterSeverity, WaterSource
from nzd.store.base import EventKind, TelemetryStore

__all__ = [
    "DEFAULT_NON_RECYCLED_EUR_PER_M3",
    "DEFAULT_TANK_FLOOR_BOOST_PCT",
    "WATER_SEVERITY_KEY",
    "DroughtPolicy",
    "drought_policy",
    "intake_cost_eur_per_m3",
    "stored_water_severity",
    "tank_level_min_pct",
]

# The operator's level is stored (by the API's ``PUT /district/water-severity``) as a district-wide
# STATUS event (site "*") with WATER_SEVERITY_KEY and the document {"water_severity": level, "user": ...}.

DEFAULT_NON_RECYCLED_EUR_PER_M3: dict[WaterSeverity, float] = {
    WaterSeverity.NORMAL: 0.0,
    WaterSeverity.LOW: 0.5,
    WaterSeverity.MEDIUM: 1.5,
    WaterSeverity.HIGH: 4.0,
}
"""Shadow price of fresh water per severity, on top of the tariff: orders of magnitude
that make the planner move pump energy (0.4 kWh/m3 at 0.3 EUR/kWh is 0.12 EUR/m3)
without hiding the electricity cost."""

DEFAULT_TANK_FLOOR_BOOST_PCT: dict[WaterSeverity, float] = {
    WaterSeverity.NORMAL: 0.0,
    WaterSeverity.LOW: 5.0,
    WaterSeverity.MEDIUM: 10.0,
    WaterSeverity.HIGH: 20.0,
}


@dataclass(frozen=True, slots=True)
class DroughtPolicy:
    severity: WaterSeverity
    non_recycled_eur_per_m3: float
    """Penalty per m3 of intake that is not recycled water (public network, wells)."""
    tank_floor_boost_pct: float
    """Points added to every recycled-water tank's minimum level."""


def drought_policy(
    severity: WaterSeverity | str, *,
    costs_eur_per_m3: dict[WaterSeverity, float] | None = None,
    floor_boost_pct: dict[WaterSeverity, float] | None = None,
) -> DroughtPolicy:
    """The policy for ``severity``; raises ValueError naming the valid levels for an unknown one."""
    try:
        level = WaterSeverity(severity)
    except ValueError:
        valid = ", ".join(s.value for s in WaterSeverity)
        raise ValueError(f"unknown water-severity level {severity!r}; use one of {valid}") from None
    costs = costs_eur_per_m3 or DEFAULT_NON_RECYCLED_EUR_PER_M3
    boosts = floor_boost_pct or DEFAULT_TANK_FLOOR_BOOST_PCT
    return DroughtPolicy(severity=level, non_recycled_eur_per_m3=costs.get(level, 0.0),
                         tank_floor_boost_pct=boosts.get(level, 0.0))


def intake_cost_eur_per_m3(source: WaterSource | str, severity: WaterSeverity | str) -> float:
    """Shadow cost of one m3 taken from ``source`` at ``severity``: zero for recycled water."""
    if WaterSource(source) is WaterSource.RECYCLED:
        return 0.0
    return drought_policy(severity).non_recycled_eur_per_m3


def tank_level_min_pct(tank: TankConfig, severity: WaterSeverity | str) -> float:
    """The tank's minimum level raised for drought, kept 5 points below its maximum."""
    boosted = tank.level_min_pct + drought_policy(severity).tank_floor_boost_pct
    return min(boosted, max(tank.level_min_pct, tank.level_max_pct - 5.0))


async def stored_water_severity(*, store: TelemetryStore, district: str) -> WaterSeverity | None:
    """The newest level the operator set, or None when there is none (the registry's level stands).

    Raises :class:`nzd.store.StoreError` when the store cannot be read.
    """
    events = await store.events(EventKind.STATUS, district=district, site="*", limit=100)
    for event in events:  # newest first
        if event.key != WATER_SEVERITY_KEY:
            continue
        try:
            return WaterSeverity(str(event.document.get("water_severity")))
        except ValueError:  # another writer's bad document: the next older one may be good
            continue
    return None
