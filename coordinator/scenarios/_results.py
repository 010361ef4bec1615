"""A dispatched year as figures: energy, money and CO2 for the district and, by the statute, per firm."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from coordinator.model import FloatArray, IntArray
from coordinator.scenarios._inputs import SizingInputs
from coordinator.scenarios._lp import SizingResult
from nzd.accounting.settlement import HourlyEnergy, Plant, settle, settlement_rules
from nzd.config import DistrictConfig

__all__ = ["YearFigures", "pv_used_kw", "year_figures"]


@dataclass(frozen=True, slots=True)
class YearFigures:
    consumption_kwh: float
    import_kwh: float
    export_kwh: float
    pv_kwh: float
    new_pv_kwh: float
    shared_kwh: float
    incentive_eur: float
    """Shared energy at the planning rate (what the sizing valued)."""
    energy_cost_eur: float
    """Imports - exports at the tariffs."""
    co2_t: float
    self_sufficiency: float
    """1 - imported / consumed."""
    # [site]
    site_energy_cost_eur: FloatArray
    site_incentive_eur: FloatArray
    """Each member's part of the configurations' incentive by the statute (nzd.accounting.settlement)."""
    site_pv_kwh: FloatArray
    site_new_pv_kwh: FloatArray
    site_consumption_kwh: FloatArray
    site_import_kwh: FloatArray
    site_export_kwh: FloatArray
    site_co2_t: FloatArray
    # [site, month] (the district's months are their sums)
    site_monthly_import_kwh: FloatArray
    site_monthly_export_kwh: FloatArray
    site_monthly_pv_kwh: FloatArray
    site_monthly_consumption_kwh: FloatArray
    # [month]
    monthly_import_kwh: FloatArray
    monthly_export_kwh: FloatArray
    monthly_pv_kwh: FloatArray
    monthly_consumption_kwh: FloatArray
    monthly_shared_kwh: FloatArray


def _per_hour(values: FloatArray, hour_of_step: IntArray, n_hours: int) -> FloatArray:
    out = np.zeros((values.shape[0], n_hours))
    np.add.at(out.T, hour_of_step, values.T)
    return out


def pv_used_kw(inp: SizingInputs, res: SizingResult) -> FloatArray:
    """[site, step] the PV a site used or fed in (the LP spills the rest): load + export + charge -
    discharge - import."""
    net_bat = np.zeros_like(inp.load_kw)
    if inp.batteries.count:
        np.add.at(net_bat, inp.batteries.site_index, res.charge_kw - res.discharge_kw)
    used: FloatArray = np.clip(inp.load_kw + res.export_kw + net_bat - res.import_kw, 0.0, None)
    return used


def year_figures(
    inp: SizingInputs,
    res: SizingResult,
    *,
    config: DistrictConfig,
    times_ms: IntArray,
    month_of_step: IntArray,
) -> YearFigures:
    """Figures of a full-year dispatch (weights 1, one step per ``times_ms``)."""
    dt = inp.step_h
    sf = inp.surfaces
    new_pv = np.zeros_like(inp.load_kw)
    if sf.count:
        np.add.at(new_pv, sf.site_index, res.kwp[:, None] * sf.yield_kw_per_kwp)
    pv_used = pv_used_kw(inp, res)
    pv_total = inp.existing_pv_kw + new_pv
    new_share = np.divide(new_pv, pv_total, out=np.zeros_like(pv_total), where=pv_total > 1e-9)

    H = inp.n_hours
    imp_h = _per_hour(res.import_kw * dt, inp.hour_of_step, H)
    exp_h = _per_hour(res.export_kw * dt, inp.hour_of_step, H)
    pv_h = _per_hour(pv_used * dt, inp.hour_of_step, H)
    cost_h = _per_hour(
        (res.import_kw * inp.import_eur_per_kwh - res.export_kw * inp.export_eur_per_kwh) * dt,
        inp.hour_of_step,
        H,
    )
    co2_h = _per_hour(res.import_kw * inp.emission_g_per_kwh * dt / 1000.0, inp.hour_of_step, H)
    hour_start_ms = times_ms[:: round(1 / dt)] if dt < 1 else times_ms
    energy = HourlyEnergy(
        site_ids=inp.site_ids,
        hour_start_ms=np.asarray(hour_start_ms[:H], np.int64),
        import_kwh=imp_h,
        export_kwh=exp_h,
        pv_kwh=pv_h,
        energy_cost_eur=cost_h,
        co2_kg=co2_h,
    )
    rules = settlement_rules(config)
    new_plants = tuple(
        Plant(
            site_index=int(sf.site_index[k]),
            plant_id=sf.ids[k],
            power_kw=float(res.kwp[k]),
            owners=np.eye(inp.n_sites)[int(sf.site_index[k])],
        )
        for k in range(sf.count)
        if res.kwp[k] > 1e-6
    )
    rules = replace(rules, plants=rules.plants + new_plants)
    statement = settle(energy, rules, period="year")

    shared_h = res.shared_kwh  # [configuration, hour]
    months = np.zeros(12)

    def monthly(values_kw: FloatArray) -> FloatArray:
        """[site, month] energy."""
        out = np.zeros((values_kw.shape[0], 12))
        np.add.at(out.T, month_of_step, values_kw.T * dt)
        return out

    m_imp, m_exp, m_pv, m_load = (monthly(v) for v in (res.import_kw, res.export_kw, pv_used, inp.load_kw))

    month_of_hour = month_of_step[:: round(1 / dt)] if dt < 1 else month_of_step
    monthly_shared = months.copy()
    np.add.at(monthly_shared, month_of_hour[:H], shared_h.sum(axis=0))
    consumption = float(inp.load_kw.sum() * dt)
    imported = float(res.import_kw.sum() * dt)
    return YearFigures(
        consumption_kwh=consumption,
        import_kwh=imported,
        export_kwh=float(res.export_kw.sum() * dt),
        pv_kwh=float(pv_used.sum() * dt),
        new_pv_kwh=float((pv_used * new_share).sum() * dt),
        shared_kwh=float(shared_h.sum()),
        incentive_eur=float((shared_h * inp.shared_eur_per_kwh).sum()),
        energy_cost_eur=float(cost_h.sum()),
        co2_t=float(co2_h.sum()) / 1000.0,
        self_sufficiency=1.0 - imported / consumption if consumption > 0 else 0.0,
        site_energy_cost_eur=cost_h.sum(axis=1),
        site_incentive_eur=statement.incentive_eur.sum(axis=1),
        site_pv_kwh=pv_h.sum(axis=1),
        site_new_pv_kwh=(pv_used * new_share).sum(axis=1) * dt,
        site_consumption_kwh=inp.load_kw.sum(axis=1) * dt,
        site_import_kwh=imp_h.sum(axis=1),
        site_export_kwh=exp_h.sum(axis=1),
        site_co2_t=co2_h.sum(axis=1) / 1000.0,
        site_monthly_import_kwh=m_imp,
        site_monthly_export_kwh=m_exp,
        site_monthly_pv_kwh=m_pv,
        site_monthly_consumption_kwh=m_load,
        monthly_import_kwh=m_imp.sum(axis=0),
        monthly_export_kwh=m_exp.sum(axis=0),
        monthly_pv_kwh=m_pv.sum(axis=0),
        monthly_consumption_kwh=m_load.sum(axis=0),
        monthly_shared_kwh=monthly_shared,
    )
