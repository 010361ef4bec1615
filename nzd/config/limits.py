"""What a site's controllable assets accept as setpoints, from the district registry.

One entry per battery, flexible load and tank, under its gateway asset name (the registry
id when the registry names none): the quantity it takes and the range the registry allows.
The coordinator plans within these ranges; the API refuses manual setpoints outside them.
"""

from __future__ import annotations

from dataclasses import dataclass

from nzd.config.district import SiteConfig

__all__ = ["BATTERY_QUANTITY", "LOAD_QUANTITY", "PUMP_QUANTITY", "SetpointLimit", "setpoint_limits"]

BATTERY_QUANTITY = "battery_power_setpoint_w"
LOAD_QUANTITY = "load_power_setpoint_w"
PUMP_QUANTITY = "pump_flow_setpoint_m3h"


@dataclass(frozen=True, slots=True)
class SetpointLimit:
    asset: str
    quantity: str
    min_value: float
    max_value: float
    source: str
    """Where the range comes from in the registry, for error messages."""


def setpoint_limits(site: SiteConfig) -> dict[str, SetpointLimit]:
    found: list[SetpointLimit] = []
    for b in site.batteries:  # positive = discharging
        found.append(SetpointLimit(b.asset or b.id, BATTERY_QUANTITY, -b.charge_kw * 1000,
                                   b.discharge_kw * 1000, f"batteries[{b.id}].charge_kw/discharge_kw"))
    for f in site.flexible_loads:
        found.append(SetpointLimit(f.asset or f.id, LOAD_QUANTITY, 0.0,
                                   max([f.power_kw, *f.power_levels_kw]) * 1000,
                                   f"flexible_loads[{f.id}].power_kw/power_levels_kw"))
    for t in site.tanks:
        found.append(SetpointLimit(t.asset or t.id, PUMP_QUANTITY, 0.0, t.pump_max_m3h,
                                   f"tanks[{t.id}].pump_max_m3h"))
    return {limit.asset: limit for limit in found}
