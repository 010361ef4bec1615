"""Each firm's part of the figures a scenario result publishes: what the public rule needs.

A result's district figures (the year, its months, the typical day, the cost-CO2 curve, the
money) are sums over firms. The API shows each to a viewer only when no firm it may not see can
be read from it (api/scenario_view.py, through api/public.py), and for that it needs every
firm's contribution to each quantity a figure is built from. They are stored with the result
under ``contributions``, each list in the order of ``result["sites"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coordinator.model import FloatArray
from coordinator.scenarios._inputs import SizingInputs
from coordinator.scenarios._lp import SizingResult
from coordinator.scenarios._results import YearFigures

__all__ = [
    "money_parts",
    "monthly_parts",
    "owned_sizes",
    "site_annuity_eur",
    "site_capex_eur",
    "sizing_parts",
    "typical_day_parts",
    "year_parts",
]


def _rest(consumption: FloatArray, imported: FloatArray, exported: FloatArray, pv: FloatArray) -> FloatArray:
    """What the energy balance leaves once consumption, import, export and PV are published: storage's
    net output. Its own part for the rule, rounded to 1e-6 (a mWh) because below
    that it is the sums' floating-point error, which would count as a firm contributing."""
    return np.round(consumption - imported + exported - pv, 6)


def _by_site(inp: SizingInputs, pv: FloatArray, battery: FloatArray) -> FloatArray:
    """Per site: its surfaces' values plus its shares of the batteries' values."""
    out = np.zeros(inp.n_sites)
    if inp.surfaces.count:
        np.add.at(out, inp.surfaces.site_index, pv)
    if inp.batteries.count:
        out += inp.batteries.owners.T @ battery
    return out


def owned_sizes(inp: SizingInputs, res: SizingResult) -> tuple[FloatArray, FloatArray]:
    """Per site: kWp on the surfaces it owns, and kWh of its shares of the batteries."""
    zero_b = np.zeros(inp.batteries.count)
    return _by_site(inp, res.kwp, zero_b), _by_site(inp, np.zeros(inp.surfaces.count), res.battery_kwh)


def site_capex_eur(inp: SizingInputs, pv_capex: FloatArray, battery_capex: FloatArray) -> FloatArray:
    """Per site: the investment it owns (its surfaces, its shares of the batteries)."""
    return _by_site(inp, pv_capex, battery_capex)


def site_annuity_eur(inp: SizingInputs, res: SizingResult) -> FloatArray:
    """Per site: the yearly annuity and O&M of what it owns, as the sizing LP counts them."""
    e_cost, p_cost = inp.battery_annuity()
    return _by_site(
        inp, res.kwp * inp.pv_annuity_eur_per_kwp(), res.battery_kwh * e_cost + res.battery_kw * p_cost
    )


def sizing_parts(inp: SizingInputs, res: SizingResult) -> dict[str, list[float]]:
    """Per site, of one sizing or dispatch weighted to a year: the LP's cost without the shared
    energy's value (annuities, O&M, energy at the tariffs), import, export, CO2 and sizes.

    The shared energy's value belongs to a configuration: it is built from its members' import
    and export, which is how the public rule names it.
    """
    w = inp.weight_of_step * inp.step_h
    cost_kw = res.import_kw * inp.import_eur_per_kwh - res.export_kw * inp.export_eur_per_kwh
    energy = (cost_kw * w).sum(axis=1)
    kwp, kwh = owned_sizes(inp, res)
    return {
        "cost_eur": (site_annuity_eur(inp, res) + energy).tolist(),
        "import_kwh": (res.import_kw * w).sum(axis=1).tolist(),
        "export_kwh": (res.export_kw * w).sum(axis=1).tolist(),
        "co2_t": ((res.import_kw * inp.emission_g_per_kwh * w).sum(axis=1) / 1e6).tolist(),
        "pv_kwp": kwp.tolist(),
        "battery_kwh": kwh.tolist(),
    }


def typical_day_parts(
    inp: SizingInputs, res: SizingResult, pv_kw: FloatArray, steps_per_day: int
) -> dict[str, Any]:
    """Per site, the year's mean day in kW: load, PV used or fed in, import, export."""

    def mean_day(values: FloatArray) -> list[list[float]]:
        out: list[list[float]] = values.reshape(values.shape[0], -1, steps_per_day).mean(axis=1).tolist()
        return out

    rest = _rest(inp.load_kw, res.import_kw, res.export_kw, pv_kw)
    return {
        "load_kw": mean_day(inp.load_kw),
        "pv_kw": mean_day(pv_kw),
        "import_kw": mean_day(res.import_kw),
        "export_kw": mean_day(res.export_kw),
        "balance_rest_kw": np.round(np.asarray(mean_day(rest)), 6).tolist(),
    }


def year_parts(fig: YearFigures) -> dict[str, list[float]]:
    """Per site, the year's energy, money and CO2 (the statute's incentive per member)."""
    return {
        "consumption_kwh": fig.site_consumption_kwh.tolist(),
        "import_kwh": fig.site_import_kwh.tolist(),
        "export_kwh": fig.site_export_kwh.tolist(),
        "pv_kwh": fig.site_pv_kwh.tolist(),
        "new_pv_kwh": fig.site_new_pv_kwh.tolist(),
        "energy_cost_eur": fig.site_energy_cost_eur.tolist(),
        "statute_incentive_eur": fig.site_incentive_eur.tolist(),
        "co2_t": fig.site_co2_t.tolist(),
        "balance_rest_kwh": _rest(
            fig.site_consumption_kwh, fig.site_import_kwh, fig.site_export_kwh, fig.site_pv_kwh
        ).tolist(),
    }


def monthly_parts(fig: YearFigures) -> dict[str, list[list[float]]]:
    """Per site, per month."""
    return {
        "consumption_kwh": fig.site_monthly_consumption_kwh.tolist(),
        "pv_kwh": fig.site_monthly_pv_kwh.tolist(),
        "import_kwh": fig.site_monthly_import_kwh.tolist(),
        "export_kwh": fig.site_monthly_export_kwh.tolist(),
        "balance_rest_kwh": _rest(
            fig.site_monthly_consumption_kwh,
            fig.site_monthly_import_kwh,
            fig.site_monthly_export_kwh,
            fig.site_monthly_pv_kwh,
        ).tolist(),
    }


def money_parts(
    inp: SizingInputs,
    res: SizingResult,
    fig: YearFigures,
    fig0: YearFigures,
    *,
    pv_capex: FloatArray,
    battery_capex: FloatArray,
) -> dict[str, list[float]]:
    """Per site: capex (PV, batteries), O&M, and the yearly benefit the lifetime figures are built
    from (net energy cost without minus with the new assets, less their O&M)."""
    sf, bt = inp.surfaces, inp.batteries
    pv_om = res.kwp * sf.om_eur_per_kwp_year
    bat_om = res.battery_kwh * bt.om_eur_per_kwh_year
    om = _by_site(inp, pv_om, bat_om)
    before = fig0.site_energy_cost_eur - fig0.site_incentive_eur
    after = fig.site_energy_cost_eur - fig.site_incentive_eur
    zero_b = np.zeros(bt.count)
    return {
        "capex_eur": site_capex_eur(inp, pv_capex, battery_capex).tolist(),
        "pv_capex_eur": _by_site(inp, pv_capex, zero_b).tolist(),
        "battery_capex_eur": _by_site(inp, np.zeros(sf.count), battery_capex).tolist(),
        "pv_om_eur": _by_site(inp, pv_om, zero_b).tolist(),
        "om_eur": om.tolist(),
        "benefit_eur": (before - after - om).tolist(),
    }
