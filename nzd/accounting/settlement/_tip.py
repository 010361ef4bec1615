"""The premium tariff (TIP) per MWh of shared energy, hour by hour (DM 414/2023, Annex 1)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nzd.config.settlement import Region, SettlementConfig

__all__ = ["grant_factor", "tip_eur_per_mwh"]

FloatArray = npt.NDArray[np.float64]


def grant_factor(capital_grant_pct: float, rules: SettlementConfig) -> float:
    """F in TIP x (1 - F): linear in the grant's share of the investment, up to the configured maximum."""
    if capital_grant_pct <= 0:
        return 0.0
    return rules.grant_reduction_at_max * min(1.0, capital_grant_pct / rules.grant_max_pct)


def tip_eur_per_mwh(zonal_price_eur_per_mwh: npt.ArrayLike, *, power_kw: float, rules: SettlementConfig,
                    region: Region | None = None, pv: bool = True,
                    capital_grant_pct: float = 0.0) -> FloatArray:
    """min(cap, base + max(0, 180 - Pz)) of the plant's power class, + the PV region bonus, x (1 - F).

    The bonus is added after the cap (a 150 kW PV plant in Tuscany gets up to 124 EUR/MWh).
    """
    if power_kw <= 0:
        raise ValueError(f"power_kw must be positive, got {power_kw}")
    pz = np.asarray(zonal_price_eur_per_mwh, dtype=np.float64)
    if np.isnan(pz).any():
        raise ValueError("the zonal price has gaps: fill them (the configured constant) before pricing")
    cls = next(c for c in rules.tip_classes if c.up_to_kw is None or power_kw <= c.up_to_kw)
    tip = np.minimum(cls.cap_eur_per_mwh,
                     cls.base_eur_per_mwh + np.maximum(0.0, rules.tip_reference_eur_per_mwh - pz))
    if pv:
        tip = tip + rules.region_bonus_eur_per_mwh.get(region or rules.region, 0.0)
    return np.asarray(tip * (1.0 - grant_factor(capital_grant_pct, rules)), dtype=np.float64)
