"""Energy KPIs from measured data, per site and for the district, per hour, day or month.

Pure functions over series on a common interval grid (energy per interval, from the
counters). Definitions, per site s and interval i:

- consumption = import - export + PV production + battery discharge - battery charge
- self-consumption = PV production - export (at least 0): PV used on site, batteries included
- self-consumption ratio = self-consumption / PV production
- self-sufficiency = 1 - import / consumption: consumption met by the site's own PV and storage
- shared energy received = for each clock hour, the district's shared energy times the site's
  part of the members' imports in that hour
- self-sufficiency with sharing = 1 - (import - shared received) / consumption
- cost = import x import price - export x export price (EUR); CO2 = import x the
  location-based grid factor (kg); peak demand = the highest mean import power of an interval

For the district, shared energy follows the Italian CER rule: for each clock hour,
min(total energy fed in, total energy drawn) over the members. Incentive = shared
energy x (TIP + ARERA valorisation); district cost = the members' costs - incentive;
district self-sufficiency = 1 - import / consumption (the members' own PV and storage);
district self-sufficiency with sharing = 1 - (import - shared) / consumption, i.e. the part
of consumption met by the members' own PV or by energy shared within the hour. Ratios are 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nzd.accounting.water import Period, period_edges

__all__ = ["DistrictEnergyKpis", "EnergyKpis", "EnergySeries", "SiteEnergyKpis", "TariffSeries",
           "allocate_by_shares", "energy_kpis", "hourly_shared_energy", "tariff_series", "zero_nan"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class EnergySeries:
    """Measured energy per interval ``[start_ms + i*step, +step)``, [site, interval], kWh; NaN = missing."""

    site_ids: tuple[str, ...]
    start_ms: int
    step_minutes: int
    import_kwh: FloatArray
    export_kwh: FloatArray
    pv_kwh: FloatArray
    battery_net_kwh: FloatArray | None = None
    """Discharge - charge of the site's batteries; None when it has none."""

    def __post_init__(self) -> None:
        if self.step_minutes <= 0 or 60 % self.step_minutes:
            raise ValueError(
                f"step_minutes must divide an hour (shared energy is hourly), got {self.step_minutes}")
        if self.start_ms % (self.step_minutes * 60_000):
            raise ValueError("start_ms must fall on an interval edge")
        shape = (len(self.site_ids), self.import_kwh.shape[-1] if self.import_kwh.ndim == 2 else -1)
        for name in ("import_kwh", "export_kwh", "pv_kwh", "battery_net_kwh"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != shape:
                raise ValueError(f"{name} must be [site, interval] = {shape}, got {arr.shape}")

    @property
    def intervals(self) -> int:
        return int(self.import_kwh.shape[1])

    @property
    def times_ms(self) -> IntArray:
        return self.start_ms + np.arange(self.intervals, dtype=np.int64) * self.step_minutes * 60_000

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.intervals * self.step_minutes * 60_000


@dataclass(frozen=True, slots=True)
class TariffSeries:
    """Prices per site and interval, as [site, interval]."""

    import_eur_per_kwh: FloatArray
    export_eur_per_kwh: FloatArray
    emission_g_per_kwh: FloatArray
    incentive_eur_per_mwh: float
    valorisation_eur_per_mwh: float

    @property
    def shared_eur_per_kwh(self) -> float:
        return (self.incentive_eur_per_mwh + self.valorisation_eur_per_mwh) / 1000.0


@dataclass(frozen=True, slots=True)
class SiteEnergyKpis:
    """[site, period] each."""

    consumption_kwh: FloatArray
    pv_kwh: FloatArray
    import_kwh: FloatArray
    export_kwh: FloatArray
    self_consumption_kwh: FloatArray
    self_consumption_ratio: FloatArray
    """NaN without PV production."""
    self_sufficiency: FloatArray
    """NaN without consumption."""
    shared_kwh: FloatArray
    """Shared energy the site received (its part of each hour's shared energy, by import)."""
    self_sufficiency_with_sharing: FloatArray
    cost_eur: FloatArray
    co2_kg: FloatArray
    peak_kw: FloatArray
    missing_intervals: IntArray


@dataclass(frozen=True, slots=True)
class DistrictEnergyKpis:
    """[period] each."""

    consumption_kwh: FloatArray
    pv_kwh: FloatArray
    import_kwh: FloatArray
    export_kwh: FloatArray
    shared_kwh: FloatArray
    incentive_eur: FloatArray
    cost_eur: FloatArray
    co2_kg: FloatArray
    peak_kw: FloatArray
    """Highest district import (sum over members) of an interval."""
    self_sufficiency: FloatArray
    self_sufficiency_with_sharing: FloatArray


@dataclass(frozen=True, slots=True)
class EnergyKpis:
    period: Period
    period_start_ms: IntArray
    site_ids: tuple[str, ...]
    sites: SiteEnergyKpis
    district: DistrictEnergyKpis


def hourly_shared_energy(import_kwh: FloatArray, export_kwh: FloatArray, *, start_ms: int,
                         step_minutes: int) -> tuple[IntArray, FloatArray]:
    """Start of each clock hour touched and min(total fed in, total drawn) in it (NaN counts 0)."""
    times = start_ms + np.arange(import_kwh.shape[1], dtype=np.int64) * step_minutes * 60_000
    hours, index = np.unique(times // 3_600_000, return_inverse=True)
    fed = np.bincount(index, weights=np.nansum(export_kwh, axis=0), minlength=hours.size)
    drawn = np.bincount(index, weights=np.nansum(import_kwh, axis=0), minlength=hours.size)
    return (hours * 3_600_000).astype(np.int64), np.minimum(fed, drawn)


def allocate_by_shares(values: FloatArray, shares: FloatArray) -> FloatArray:
    """[site, interval]: each shared asset's values ([asset, interval], e.g. a community
    battery's discharged kWh) split among its owners by ``shares[asset, site]`` (rows add up to 1)."""
    values = np.asarray(values, dtype=np.float64)
    shares = np.asarray(shares, dtype=np.float64)
    if values.ndim != 2 or shares.ndim != 2 or shares.shape[0] != values.shape[0]:
        raise ValueError(f"values [asset, interval] {values.shape} and shares [asset, site] {shares.shape} "
                         "must have the same assets")
    if not np.allclose(shares.sum(axis=1), 1.0):
        raise ValueError("each asset's shares must add up to 1")
    return np.asarray(shares.T @ np.nan_to_num(values), dtype=np.float64)


def tariff_series(*, import_eur_per_kwh: list[list[float]] | FloatArray,
                  export_eur_per_kwh: list[list[float]] | FloatArray,
                  emission_g_per_kwh: list[list[float]] | FloatArray, local_hour: IntArray,
                  incentive_eur_per_mwh: float, valorisation_eur_per_mwh: float) -> TariffSeries:
    """From [site, 24] hourly profiles and each interval's local hour of day."""
    def pick(profile: list[list[float]] | FloatArray) -> FloatArray:
        return np.asarray(profile, dtype=np.float64)[:, np.asarray(local_hour)]

    return TariffSeries(pick(import_eur_per_kwh), pick(export_eur_per_kwh), pick(emission_g_per_kwh),
                        incentive_eur_per_mwh, valorisation_eur_per_mwh)


def zero_nan(values: FloatArray) -> FloatArray:
    """NaN (unknown energy) as 0: a copy, or ``values`` itself when it has none (read only)."""
    nan = np.isnan(values)
    return np.where(nan, 0.0, values) if nan.any() else values


def _reduce_by(ufunc: np.ufunc, values: FloatArray, index: IntArray, n: int) -> FloatArray:
    """[row, group]: ``ufunc`` over each row's values of each group (0 for a group without any).
    ``index`` (the group of each column) is sorted on a time grid: one ``reduceat`` per run."""
    out = np.zeros((values.shape[0], n))
    if index.size == 0:
        return out
    if np.all(index[1:] >= index[:-1]):
        starts = np.flatnonzero(np.concatenate(([True], index[1:] != index[:-1])))
        out[:, index[starts]] = ufunc.reduceat(values, starts, axis=1)
    else:
        ufunc.at(out.T, index, values.T)
    return out


def _sum_by(values: FloatArray, index: IntArray, n: int) -> FloatArray:
    """Sums per group of finite values (the callers' NaN are already 0)."""
    return _reduce_by(np.add, values, index, n)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 1e-12)


def energy_kpis(series: EnergySeries, tariff: TariffSeries, *, period: Period | str,
                timezone: str) -> EnergyKpis:
    """KPIs per site and for the district per local hour, day or month."""
    if tariff.import_eur_per_kwh.shape != series.import_kwh.shape:
        raise ValueError(f"tariff is {tariff.import_eur_per_kwh.shape}, the series {series.import_kwh.shape}")
    kind = Period(period)
    edges = period_edges(start_ms=series.start_ms, end_ms=series.end_ms, period=kind, timezone=timezone)
    n = edges.size - 1
    idx = np.searchsorted(edges, series.times_ms, side="right") - 1
    imp, exp, pv = (zero_nan(a) for a in (series.import_kwh, series.export_kwh, series.pv_kwh))
    bat = np.zeros_like(imp) if series.battery_net_kwh is None else zero_nan(series.battery_net_kwh)
    self_use = np.clip(pv - exp, 0.0, None)
    step_h = series.step_minutes / 60.0
    missing = np.isnan(series.import_kwh)
    missing |= np.isnan(series.export_kwh)

    # Sums per period first: a year of 15-minute data of 50 firms is 1.75 M values per array.
    s_pv, s_imp, s_exp, s_bat, s_self = (_sum_by(v, idx, n) for v in (pv, imp, exp, bat, self_use))
    s_cons = s_imp - s_exp + s_pv + s_bat  # consumption = import - export + PV + battery
    s_cost = _sum_by(imp * tariff.import_eur_per_kwh - exp * tariff.export_eur_per_kwh, idx, n)
    s_co2 = _sum_by(imp * tariff.emission_g_per_kwh, idx, n) / 1000.0
    peak = np.maximum(_reduce_by(np.maximum, imp, idx, n), 0.0) / step_h
    hour_start, shared_h = hourly_shared_energy(imp, exp, start_ms=series.start_ms,
                                                step_minutes=series.step_minutes)
    hidx = np.searchsorted(edges, hour_start, side="right") - 1
    shared = np.asarray(np.bincount(hidx, weights=shared_h, minlength=n)[:n], dtype=np.float64)
    # Each member's part of an hour's shared energy: its part of the members' imports that hour.
    _, hour_of = np.unique(series.times_ms // 3_600_000, return_inverse=True)
    imp_h = _sum_by(imp, hour_of.astype(np.int64), hour_start.size)
    part = np.divide(imp_h, imp_h.sum(axis=0), out=np.zeros_like(imp_h), where=imp_h.sum(axis=0) > 0)
    s_shared = _sum_by(part * shared_h, hidx.astype(np.int64), n)
    sites = SiteEnergyKpis(
        consumption_kwh=s_cons, pv_kwh=s_pv, import_kwh=s_imp, export_kwh=s_exp, self_consumption_kwh=s_self,
        self_consumption_ratio=_ratio(s_self, s_pv), self_sufficiency=1.0 - _ratio(s_imp, s_cons),
        shared_kwh=s_shared, self_sufficiency_with_sharing=1.0 - _ratio(s_imp - s_shared, s_cons),
        cost_eur=s_cost, co2_kg=s_co2, peak_kw=peak,
        missing_intervals=_reduce_by(np.add, missing.astype(np.int64), idx, n).astype(np.int64),
    )
    incentive = shared * tariff.shared_eur_per_kwh
    d_peak = np.maximum(_reduce_by(np.maximum, imp.sum(axis=0)[np.newaxis], idx, n)[0], 0.0) / step_h
    d_cons, d_imp = s_cons.sum(axis=0), s_imp.sum(axis=0)
    district = DistrictEnergyKpis(
        consumption_kwh=d_cons, pv_kwh=s_pv.sum(axis=0), import_kwh=d_imp, export_kwh=s_exp.sum(axis=0),
        shared_kwh=shared, incentive_eur=incentive, cost_eur=s_cost.sum(axis=0) - incentive,
        co2_kg=s_co2.sum(axis=0), peak_kw=d_peak, self_sufficiency=1.0 - _ratio(d_imp, d_cons),
        self_sufficiency_with_sharing=1.0 - _ratio(d_imp - shared, d_cons),
    )
    return EnergyKpis(period=kind, period_start_ms=edges[:-1], site_ids=series.site_ids, sites=sites,
                      district=district)
