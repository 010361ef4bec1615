"""The district as arrays: what the forecasts and the optimiser work on.

Built once from :class:`nzd.config.DistrictConfig`; every asset kind is a set of
parallel numpy arrays indexed by asset, with ``site_index`` pointing into
``site_ids``. Energy in kWh, power in kW, water in m³ and m³/h, prices in EUR/kWh.
A shared battery sits physically at the site that lists it (its power flows
through that site's meter); its ``shares`` only split its value for accounting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coordinator.water.drought import intake_cost_eur_per_m3, tank_level_min_pct
from nzd.accounting.settlement import settlement_rules
from nzd.config import DistrictConfig, TariffConfig, WaterSource

__all__ = [
    "BatteryArrays",
    "DistrictModel",
    "FlexibleLoadArrays",
    "FloatArray",
    "IntArray",
    "PvArrays",
    "TankArrays",
    "hourly_profile",
    "local_hours",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PvArrays:
    site_index: IntArray
    ids: tuple[str, ...]
    kwp: FloatArray
    tilt_deg: FloatArray
    azimuth_deg: FloatArray


@dataclass(frozen=True, slots=True)
class BatteryArrays:
    site_index: IntArray
    ids: tuple[str, ...]
    assets: tuple[str, ...]
    """Gateway asset that receives the power setpoint (the battery id when not set)."""
    capacity_kwh: FloatArray
    charge_kw: FloatArray
    discharge_kw: FloatArray
    charge_efficiency: FloatArray
    discharge_efficiency: FloatArray
    soc_min_kwh: FloatArray
    soc_max_kwh: FloatArray
    soc_initial_kwh: FloatArray
    wear_eur_per_kwh: FloatArray
    shares: FloatArray
    """[battery, site]: share of each site; an owned battery has 1 at its own site."""

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class FlexibleLoadArrays:
    site_index: IntArray
    ids: tuple[str, ...]
    assets: tuple[str, ...]
    energy_kwh: FloatArray
    power_kw: FloatArray
    earliest_start_min: IntArray
    """Minutes after local midnight."""
    deadline_min: IntArray
    interruptible: BoolArray
    min_run_minutes: FloatArray
    power_levels_kw: tuple[tuple[float, ...], ...] = ()
    """Per load: the powers a run may use, ``power_kw`` first; empty: ``power_kw`` only."""

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def max_power_kw(self) -> FloatArray:
        """Per load, the highest power it may run at."""
        return np.asarray([max(self.levels_kw(f)) for f in range(self.count)], dtype=np.float64)

    def levels_kw(self, f: int) -> tuple[float, ...]:
        """The powers load ``f`` may run at, its default ``power_kw`` first."""
        levels = self.power_levels_kw[f] if f < len(self.power_levels_kw) else ()
        return levels or (float(self.power_kw[f]),)


@dataclass(frozen=True, slots=True)
class TankArrays:
    site_index: IntArray
    ids: tuple[str, ...]
    assets: tuple[str, ...]
    volume_m3: FloatArray
    level_min_m3: FloatArray
    level_max_m3: FloatArray
    level_initial_m3: FloatArray
    pump_max_m3h: FloatArray
    pump_kw_per_m3h: FloatArray
    demand_m3h: FloatArray
    """Mean demand drawn from the tank (daily demand / 24)."""
    fresh_water_eur_per_m3: float = 0.0
    """Drought mode: the shadow price of a m3 of tank demand met from fresh (public) water
    instead; 0 (normal severity) adds no fresh-water fallback to the plan."""

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class DistrictModel:
    district: str
    timezone: str
    latitude: float
    longitude: float
    step_minutes: int
    horizon_steps: int
    site_ids: tuple[str, ...]
    import_limit_kw: FloatArray
    export_limit_kw: FloatArray
    pv: PvArrays
    batteries: BatteryArrays
    loads: FlexibleLoadArrays
    tanks: TankArrays
    import_eur_per_kwh: FloatArray
    """[site, 24]: price per local hour of day."""
    export_eur_per_kwh: FloatArray
    emission_g_per_kwh: FloatArray
    peak_eur_per_kw: FloatArray
    """[site]"""
    incentive_eur_per_kwh: float
    """TIP plus ARERA valorisation per kWh of shared energy (district tariff)."""
    load_profiles: tuple[str, ...] = ()
    """[site] BDEW profile of the inflexible load, for offline simulation."""
    annual_load_kwh: FloatArray | None = None
    """[site] annual inflexible consumption, for offline simulation."""
    configuration_of_site: IntArray | None = None
    """[site] the configuration (members under one primary substation) of each site; None: one."""
    shared_eur_per_kwh_by_hour: FloatArray | None = None
    """[configuration, local hour] what a kWh shared earns (the plants' TIP + valorisation,
    docs/settlement.md); None: ``incentive_eur_per_kwh`` everywhere."""

    @property
    def site_configuration(self) -> IntArray:
        if self.configuration_of_site is None:
            return np.zeros(self.n_sites, np.int64)
        return self.configuration_of_site

    @property
    def shared_eur_per_kwh(self) -> FloatArray:
        """[configuration, 24]"""
        if self.shared_eur_per_kwh_by_hour is not None:
            return self.shared_eur_per_kwh_by_hour
        n = int(self.site_configuration.max()) + 1 if self.n_sites else 1
        return np.full((n, 24), self.incentive_eur_per_kwh)

    def shared_rates(self, hour_start_ms: IntArray) -> FloatArray:
        """[configuration, hour] EUR per kWh shared in each hour."""
        return np.asarray(self.shared_eur_per_kwh[:, local_hours(hour_start_ms, self.timezone)], np.float64)

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def step_h(self) -> float:
        return self.step_minutes / 60.0

    @property
    def pv_kwp_per_site(self) -> FloatArray:
        total = np.bincount(self.pv.site_index, weights=self.pv.kwp, minlength=self.n_sites)
        return np.asarray(total, dtype=np.float64)

    def site_index(self, site_id: str) -> int:
        try:
            return self.site_ids.index(site_id)
        except ValueError:
            raise KeyError(f"unknown site {site_id!r}") from None

    def step_times_ms(self, start_ms: int, steps: int | None = None) -> IntArray:
        n = self.horizon_steps if steps is None else steps
        return start_ms + np.arange(n, dtype=np.int64) * self.step_minutes * 60_000

    def prices(self, times_ms: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Import price, export price (EUR/kWh) and emission factor (g/kWh) as [site, step]."""
        hours = local_hours(times_ms, self.timezone)
        return (self.import_eur_per_kwh[:, hours], self.export_eur_per_kwh[:, hours],
                self.emission_g_per_kwh[:, hours])

    @classmethod
    def from_config(cls, config: DistrictConfig) -> DistrictModel:
        return _build(config)


def hourly_profile(value: float | list[float]) -> FloatArray:
    """A constant or 24 hourly values as 24 floats."""
    if isinstance(value, int | float):
        return np.full(24, float(value))
    return np.asarray(value, dtype=np.float64)


def local_hours(times_ms: IntArray, timezone: str) -> IntArray:
    """Local hour of day (0..23) of each time."""
    import pandas as pd

    idx = pd.to_datetime(np.asarray(times_ms, dtype=np.int64), unit="ms", utc=True).tz_convert(timezone)
    return np.asarray(idx.hour, dtype=np.int64)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _f(values: list[float]) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _i(values: list[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def _build(config: DistrictConfig) -> DistrictModel:
    site_ids = tuple(s.id for s in config.sites)
    index = {sid: i for i, sid in enumerate(site_ids)}
    n = len(site_ids)

    pv = [(i, p) for i, s in enumerate(config.sites) for p in s.pv]
    bats = [(i, b) for i, s in enumerate(config.sites) for b in s.batteries]
    loads = [(i, f) for i, s in enumerate(config.sites) for f in s.flexible_loads]
    tanks = [(i, k) for i, s in enumerate(config.sites) for k in s.tanks]

    shares = np.zeros((len(bats), n))
    for j, (i, b) in enumerate(bats):
        if b.shares is None:
            shares[j, i] = 1.0
        else:
            for member, share in b.shares.items():
                shares[j, index[member]] = share

    tariffs: list[TariffConfig] = [s.tariff or config.tariff for s in config.sites]
    district_tariff = config.tariff
    rules = settlement_rules(config)
    # The planner values shared energy by the settlement rules only where the registry states them;
    # otherwise by the tariff's constant incentive, per configuration all the same.
    rates = rules.planning_rates_eur_per_kwh() if "settlement" in config.model_fields_set else None
    return DistrictModel(
        district=config.district,
        timezone=config.timezone,
        latitude=config.latitude,
        longitude=config.longitude,
        step_minutes=config.step_minutes,
        horizon_steps=config.horizon_hours * 60 // config.step_minutes,
        site_ids=site_ids,
        import_limit_kw=_f([s.grid_import_limit_kw for s in config.sites]),
        export_limit_kw=_f([s.grid_export_limit_kw for s in config.sites]),
        pv=PvArrays(
            site_index=_i([i for i, _ in pv]),
            ids=tuple(p.id for _, p in pv),
            kwp=_f([p.kwp for _, p in pv]),
            tilt_deg=_f([p.tilt_deg for _, p in pv]),
            azimuth_deg=_f([p.azimuth_deg for _, p in pv]),
        ),
        batteries=BatteryArrays(
            site_index=_i([i for i, _ in bats]),
            ids=tuple(b.id for _, b in bats),
            assets=tuple(b.asset or b.id for _, b in bats),
            capacity_kwh=_f([b.capacity_kwh for _, b in bats]),
            charge_kw=_f([b.charge_kw for _, b in bats]),
            discharge_kw=_f([b.discharge_kw for _, b in bats]),
            charge_efficiency=_f([b.charge_efficiency for _, b in bats]),
            discharge_efficiency=_f([b.discharge_efficiency for _, b in bats]),
            soc_min_kwh=_f([b.capacity_kwh * b.soc_min_pct / 100 for _, b in bats]),
            soc_max_kwh=_f([b.capacity_kwh * b.soc_max_pct / 100 for _, b in bats]),
            soc_initial_kwh=_f([b.capacity_kwh * b.soc_initial_pct / 100 for _, b in bats]),
            wear_eur_per_kwh=_f([b.wear_eur_per_kwh for _, b in bats]),
            shares=shares,
        ),
        loads=FlexibleLoadArrays(
            site_index=_i([i for i, _ in loads]),
            ids=tuple(f.id for _, f in loads),
            assets=tuple(f.asset or f.id for _, f in loads),
            energy_kwh=_f([f.energy_kwh for _, f in loads]),
            power_kw=_f([f.power_kw for _, f in loads]),
            earliest_start_min=_i([_minutes(f.earliest_start) for _, f in loads]),
            deadline_min=_i([_minutes(f.deadline) for _, f in loads]),
            interruptible=np.asarray([f.interruptible for _, f in loads], dtype=np.bool_),
            min_run_minutes=_f([f.min_run_minutes for _, f in loads]),
            power_levels_kw=tuple(tuple(dict.fromkeys([f.power_kw, *f.power_levels_kw]))
                                  for _, f in loads),
        ),
        tanks=TankArrays(
            site_index=_i([i for i, _ in tanks]),
            ids=tuple(k.id for _, k in tanks),
            assets=tuple(k.asset or k.id for _, k in tanks),
            volume_m3=_f([k.volume_m3 for _, k in tanks]),
            # Drought mode keeps recycled-water tanks fuller.
            level_min_m3=_f([k.volume_m3 * tank_level_min_pct(k, config.water_severity) / 100
                             for _, k in tanks]),
            level_max_m3=_f([k.volume_m3 * k.level_max_pct / 100 for _, k in tanks]),
            level_initial_m3=_f([k.volume_m3 * k.level_initial_pct / 100 for _, k in tanks]),
            pump_max_m3h=_f([k.pump_max_m3h for _, k in tanks]),
            pump_kw_per_m3h=_f([k.pump_kw_per_m3h for _, k in tanks]),
            demand_m3h=_f([k.demand_m3_per_day / 24.0 for _, k in tanks]),
            fresh_water_eur_per_m3=intake_cost_eur_per_m3(WaterSource.PUBLIC, config.water_severity),
        ),
        import_eur_per_kwh=np.stack([hourly_profile(t.import_eur_per_kwh) for t in tariffs]),
        export_eur_per_kwh=np.stack([hourly_profile(t.export_eur_per_kwh) for t in tariffs]),
        emission_g_per_kwh=np.stack([hourly_profile(t.emission_g_per_kwh) for t in tariffs]),
        peak_eur_per_kw=_f([t.peak_eur_per_kw for t in tariffs]),
        incentive_eur_per_kwh=(district_tariff.incentive_eur_per_mwh
                               + district_tariff.valorisation_eur_per_mwh) / 1000.0,
        load_profiles=tuple(s.load_profile for s in config.sites),
        # Without a figure, 30 % of the connection on average: a typical load factor for a small firm.
        annual_load_kwh=_f([s.annual_load_kwh if s.annual_load_kwh is not None
                            else 0.3 * s.grid_import_limit_kw * 8760 for s in config.sites]),
        configuration_of_site=rules.configuration_of_site, shared_eur_per_kwh_by_hour=rates,
    )
