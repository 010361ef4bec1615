"""What the sizing LP works on: series as arrays, candidates, money and options.

Arrays are ``[site, step]`` (or ``[surface, step]``); steps are of ``step_h`` hours and
each counts ``weight_of_step`` times in a year (1 for a full year, the number of days a
representative day stands for otherwise). ``period_of_step`` groups steps into periods
(days) whose storage ends where it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coordinator.model import FloatArray, IntArray

__all__ = [
    "BatteryCandidates",
    "Money",
    "SizingInputs",
    "SizingOptions",
    "SurfaceCandidates",
    "annuity_factor",
]


def annuity_factor(rate: float, years: int) -> float:
    """Capital recovery factor: the constant yearly payment that repays 1 EUR over ``years``."""
    if years <= 0:
        raise ValueError("years must be positive")
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


@dataclass(frozen=True, slots=True)
class SurfaceCandidates:
    ids: tuple[str, ...]
    site_index: IntArray
    max_kwp: FloatArray
    capex_eur_per_kwp: FloatArray
    om_eur_per_kwp_year: FloatArray
    yield_kw_per_kwp: FloatArray
    """[surface, step] AC output per kWp installed."""
    fixed_kwp: FloatArray
    """NaN: the LP chooses; a number: the size is given (evaluation)."""

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class BatteryCandidates:
    ids: tuple[str, ...]
    site_index: IntArray
    """Where its power flows (the meter it sits behind)."""
    owners: FloatArray
    """[battery, site] shares of its cost and value (1 at its site when owned by one firm)."""
    capex_eur_per_kwh: FloatArray
    capex_eur_per_kw: FloatArray
    om_eur_per_kwh_year: FloatArray
    round_trip_efficiency: FloatArray
    cycle_life: FloatArray
    """Full cycles over its life: bounds the energy it may discharge per year."""
    max_kwh: FloatArray
    max_kw: FloatArray
    fixed_kwh: FloatArray
    fixed_kw: FloatArray

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Money:
    discount_rate: float = 0.05
    lifetime_years: int = 20
    battery_lifetime_years: int = 10
    """Batteries are annualised over their own (shorter) life: replacement is in the annuity."""


@dataclass(frozen=True, slots=True)
class SizingOptions:
    co2_cap_kg: float | None = None
    """Upper bound on the district's yearly CO2 from grid imports (location-based)."""
    renewable_share_min: float | None = None
    """Lower bound on the share of the district's consumption not drawn from the grid (0..1)."""
    budget_eur: float | None = None
    """Upper bound on the total investment (capex)."""
    firm_budget_eur: dict[int, float] = field(default_factory=dict)
    """Per site index: upper bound on the investment that site owns."""
    time_limit_s: float = 600.0
    solver: str = "choose"
    """HiGHS's solver: "choose", "simplex" or "ipm" (interior point, for full-year LPs)."""


@dataclass(frozen=True, slots=True)
class SizingInputs:
    site_ids: tuple[str, ...]
    step_h: float
    load_kw: FloatArray
    existing_pv_kw: FloatArray
    """[site, step] output of the PV already installed (registry)."""
    import_eur_per_kwh: FloatArray
    export_eur_per_kwh: FloatArray
    emission_g_per_kwh: FloatArray
    import_limit_kw: FloatArray
    export_limit_kw: FloatArray
    configuration_of_site: IntArray
    hour_of_step: IntArray
    """Index of each step's clock hour (into the columns of ``shared_eur_per_kwh``)."""
    shared_eur_per_kwh: FloatArray
    """[configuration, hour] what a kWh shared earns (TIP + valorisation)."""
    weight_of_step: FloatArray
    period_of_step: IntArray
    surfaces: SurfaceCandidates
    batteries: BatteryCandidates
    money: Money = Money()
    year_fraction: float = 1.0
    """The part of a year the steps stand for (a block of a chunked dispatch): scales the cycle budget."""

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_steps(self) -> int:
        return int(self.load_kw.shape[1])

    @property
    def n_hours(self) -> int:
        return int(self.shared_eur_per_kwh.shape[1])

    @property
    def n_configurations(self) -> int:
        return int(self.shared_eur_per_kwh.shape[0])

    def pv_annuity_eur_per_kwp(self) -> FloatArray:
        crf = annuity_factor(self.money.discount_rate, self.money.lifetime_years)
        return np.asarray(
            self.surfaces.capex_eur_per_kwp * crf + self.surfaces.om_eur_per_kwp_year, np.float64
        )

    def battery_annuity(self) -> tuple[FloatArray, FloatArray]:
        """Yearly cost per kWh and per kW of each battery."""
        crf = annuity_factor(self.money.discount_rate, self.money.battery_lifetime_years)
        b = self.batteries
        return (
            np.asarray(b.capex_eur_per_kwh * crf + b.om_eur_per_kwh_year, np.float64),
            np.asarray(b.capex_eur_per_kw * crf, np.float64),
        )
