"""Lifetime cash flows of an investment and their figures (numpy-financial)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy_financial as npf

from coordinator.model import FloatArray

__all__ = ["Finance", "cash_flows", "finance", "payback_years"]


@dataclass(frozen=True, slots=True)
class Finance:
    cash_flows_eur: FloatArray
    """Year 0 (the investment) .. lifetime."""
    npv_eur: float
    irr: float | None
    """None when the flows never change sign (no rate makes the NPV zero)."""
    simple_payback_years: float | None
    discounted_payback_years: float | None
    lcoe_eur_per_kwh: float | None
    """The new PV's cost per kWh it produces over its life (capex and O&M, discounted)."""


def cash_flows(
    *,
    capex_eur: float,
    yearly_benefit_eur: float,
    lifetime_years: int,
    degradation: float = 0.0,
    replacement_eur: float = 0.0,
    replacement_every_years: int = 0,
) -> FloatArray:
    """-capex in year 0, then the benefit (energy saved + incentive - O&M) each year, shrinking by
    ``degradation`` a year; ``replacement_eur`` again every ``replacement_every_years`` (not in the last)."""
    flows = np.zeros(lifetime_years + 1)
    flows[0] = -capex_eur
    years = np.arange(1, lifetime_years + 1)
    flows[1:] = yearly_benefit_eur * (1.0 - degradation) ** (years - 1)
    if replacement_every_years and replacement_eur:
        for y in range(replacement_every_years, lifetime_years, replacement_every_years):
            flows[y] -= replacement_eur
    return flows


def payback_years(flows: FloatArray) -> float | None:
    """Years until the cumulative flows turn non-negative (interpolated within the year); None: never."""
    cum = np.cumsum(flows)
    if cum[0] >= 0:
        return 0.0
    after = np.flatnonzero(cum >= 0)
    if after.size == 0:
        return None
    y = int(after[0])
    return float(y - 1 + (-cum[y - 1]) / flows[y])


def finance(
    flows: FloatArray,
    *,
    rate: float,
    pv_capex_eur: float = 0.0,
    pv_om_eur_per_year: float = 0.0,
    pv_kwh_per_year: float = 0.0,
    degradation: float = 0.0,
) -> Finance:
    npv = float(npf.npv(rate, flows))
    irr_value = float(npf.irr(flows)) if (flows > 0).any() and (flows < 0).any() else math.nan
    discount = (1.0 + rate) ** -np.arange(flows.size)
    lcoe = None
    if pv_kwh_per_year > 0:
        years = np.arange(1, flows.size)
        energy = pv_kwh_per_year * (1.0 - degradation) ** (years - 1)
        lcoe = float(
            (pv_capex_eur + (pv_om_eur_per_year * discount[1:]).sum()) / (energy * discount[1:]).sum()
        )
    return Finance(
        cash_flows_eur=flows,
        npv_eur=npv,
        irr=None if math.isnan(irr_value) else irr_value,
        simple_payback_years=payback_years(flows),
        discounted_payback_years=payback_years(flows * discount),
        lcoe_eur_per_kwh=lcoe,
    )
