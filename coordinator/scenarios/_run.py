"""Run a scenario: size on representative days, check on the full year, figure what it earns."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from coordinator.scenarios._contributions import (
    money_parts,
    monthly_parts,
    sizing_parts,
    typical_day_parts,
    year_parts,
)
from coordinator.scenarios._dispatch import dispatch_year
from coordinator.scenarios._finance import cash_flows, finance
from coordinator.scenarios._inputs import SizingInputs, SizingOptions, annuity_factor
from coordinator.scenarios._lp import SizingError, SizingResult, size_district
from coordinator.scenarios._results import YearFigures, pv_used_kw, year_figures
from coordinator.scenarios._spec import ScenarioSpec
from coordinator.scenarios._typical import representative_days
from coordinator.scenarios._year import ScenarioYear, scenario_year

__all__ = ["Progress", "fixed_sizes", "run_scenario"]

Progress = Callable[[str, float], None]
"""Called with what is being done and the fraction done (0..1)."""


def fixed_sizes(inp: SizingInputs, *, kwp: np.ndarray, kwh: np.ndarray, kw: np.ndarray) -> SizingInputs:
    """The same inputs with every size given: the LP only dispatches."""
    return replace(
        inp,
        surfaces=replace(inp.surfaces, fixed_kwp=np.asarray(kwp, np.float64)),
        batteries=replace(
            inp.batteries, fixed_kwh=np.asarray(kwh, np.float64), fixed_kw=np.asarray(kw, np.float64)
        ),
    )


def _options(
    spec: ScenarioSpec, site_ids: tuple[str, ...], *, co2_cap_kg: float | None = None
) -> SizingOptions:
    o = spec.options
    cap = co2_cap_kg if co2_cap_kg is not None else (None if o.co2_cap_t is None else o.co2_cap_t * 1000.0)
    return SizingOptions(
        co2_cap_kg=cap,
        renewable_share_min=o.renewable_share_min,
        budget_eur=o.budget_eur,
        firm_budget_eur={site_ids.index(s): v for s, v in o.firm_budget_eur.items() if s in site_ids},
    )


def _co2_kg(inp: SizingInputs, res: SizingResult) -> float:
    return float((res.import_kw * inp.emission_g_per_kwh * inp.weight_of_step).sum() * inp.step_h / 1000.0)


def _capex(inp: SizingInputs, res: SizingResult) -> tuple[np.ndarray, np.ndarray]:
    """Per surface and per battery: the investment."""
    b = inp.batteries
    return (
        res.kwp * inp.surfaces.capex_eur_per_kwp,
        res.battery_kwh * b.capex_eur_per_kwh + res.battery_kw * b.capex_eur_per_kw,
    )


def run_scenario(
    spec: ScenarioSpec, *, progress: Progress | None = None, year: ScenarioYear | None = None
) -> dict[str, Any]:
    """Everything a report shows, as plain JSON-able data."""
    say = progress or (lambda _stage, _done: None)
    say("reading the year", 0.0)
    y = year or scenario_year(spec)
    full = y.inputs
    say("choosing representative days", 0.15)
    rd = representative_days(full, steps_per_day=y.steps_per_day, n_days=spec.representative_days)
    say("sizing", 0.25)
    opts = _options(spec, full.site_ids)
    sized = size_district(rd.inputs, opts)
    kwp, kwh, kw = sized.kwp, sized.battery_kwh, sized.battery_kw

    say("dispatching the full year", 0.4)
    t0 = time.perf_counter()
    checked = dispatch_year(fixed_sizes(full, kwp=kwp, kwh=kwh, kw=kw), steps_per_day=y.steps_per_day)
    check_s = time.perf_counter() - t0
    say("the year without new assets", 0.55)
    zero_s, zero_b = np.zeros(full.surfaces.count), np.zeros(full.batteries.count)
    base = dispatch_year(fixed_sizes(full, kwp=zero_s, kwh=zero_b, kw=zero_b), steps_per_day=y.steps_per_day)

    month = np.asarray(
        pd.to_datetime(y.times_ms, unit="ms", utc=True).tz_convert(y.config.timezone).month - 1, np.int64
    )
    fig = year_figures(full, checked, config=y.config, times_ms=y.times_ms, month_of_step=month)
    fig0 = year_figures(full, base, config=y.config, times_ms=y.times_ms, month_of_step=month)

    say("cost-CO2 curve", 0.7)
    curve, curve_parts = _co2_curve(spec, rd.inputs, sized, base_co2_kg=fig0.co2_t * 1000.0)
    say("money", 0.95)
    out = _summarise(spec, y, sized, checked, fig, fig0, check_s=check_s, curve=curve)
    out["representative_days"] = {"days": rd.days.tolist(), "weights": rd.weights.tolist()}
    out["typical_day"], typical_parts = _typical_day(full, checked, y.steps_per_day)
    pv_capex, bat_capex = _capex(full, sized)
    # Every firm's part of every district figure above: what the API's public rule needs.
    out["contributions"] = {
        "year": year_parts(fig),
        "baseline_year": year_parts(fig0),
        "monthly": monthly_parts(fig),
        "typical_day": typical_parts,
        "annual_cost": {
            "representative_days": sizing_parts(rd.inputs, sized),
            "full_year": sizing_parts(full, checked),
        },
        "money": money_parts(full, sized, fig, fig0, pv_capex=pv_capex, battery_capex=bat_capex),
        "co2_curve": curve_parts,
    }
    say("done", 1.0)
    # Plain JSON types (numpy scalars become floats and ints): the result goes to files and the store.
    plain: dict[str, Any] = json.loads(
        json.dumps(out, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    )
    return plain


def _co2_curve(
    spec: ScenarioSpec, rep: SizingInputs, sized: SizingResult, *, base_co2_kg: float
) -> tuple[list[dict[str, Any]], list[dict[str, list[float]] | None]]:
    """Sizing again with CO2 capped below the cost optimum's: yearly cost against tonnes of CO2.

    Also each point's parts per site (None for an infeasible cap)."""
    opt_co2 = _co2_kg(rep, sized)
    points: list[dict[str, Any]] = []
    parts: list[dict[str, list[float]] | None] = []
    for pct in sorted(set(spec.co2_sweep_pct) | {0.0}):
        cap = opt_co2 * (1.0 - pct / 100.0)
        try:
            res = sized if pct == 0 else size_district(rep, _options(spec, rep.site_ids, co2_cap_kg=cap))
        except SizingError:
            points.append({"reduction_pct": pct, "co2_t": cap / 1000.0, "feasible": False})
            parts.append(None)
            continue
        co2 = _co2_kg(rep, res)
        points.append(
            {
                "reduction_pct": pct,
                "co2_t": co2 / 1000.0,
                "annual_cost_eur": res.annual_cost_eur,
                "feasible": True,
                "pv_kwp": float(res.kwp.sum()),
                "battery_kwh": float(res.battery_kwh.sum()),
                "co2_avoided_t": (base_co2_kg - co2) / 1000.0,
            }
        )
        parts.append(sizing_parts(rep, res))
    feasible = [p for p in points if p["feasible"]]
    for p in feasible[1:]:
        d_co2 = feasible[0]["co2_t"] - p["co2_t"]
        d_cost = p["annual_cost_eur"] - feasible[0]["annual_cost_eur"]
        per_t: float | None = d_cost / d_co2 if d_co2 > 1e-9 else None
        p["eur_per_t_avoided"] = per_t
    return points, parts


def _typical_day(
    inp: SizingInputs, res: SizingResult, steps_per_day: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """The year's mean day, district totals in kW: load, PV used or fed in (as the year's: what was
    spilled is left out), import, export; and its parts per site."""

    def mean_day(values: np.ndarray) -> list[float]:
        return [float(v) for v in values.sum(axis=0).reshape(-1, steps_per_day).mean(axis=0)]

    pv = pv_used_kw(inp, res)
    totals = {
        "load_kw": mean_day(inp.load_kw),
        "pv_kw": mean_day(pv),
        "import_kw": mean_day(res.import_kw),
        "export_kw": mean_day(res.export_kw),
    }
    return totals, typical_day_parts(inp, res, pv, steps_per_day)


def _summarise(
    spec: ScenarioSpec,
    y: ScenarioYear,
    sized: SizingResult,
    checked: SizingResult,
    fig: YearFigures,
    fig0: YearFigures,
    *,
    check_s: float,
    curve: list[dict[str, Any]],
) -> dict[str, Any]:
    inp = y.inputs
    sf, bt, m = inp.surfaces, inp.batteries, spec.money
    pv_capex, bat_capex = _capex(inp, sized)
    pv_om = float((sized.kwp * sf.om_eur_per_kwp_year).sum())
    bat_om = float((sized.battery_kwh * bt.om_eur_per_kwh_year).sum())
    capex = float(pv_capex.sum() + bat_capex.sum())
    benefit = (
        (fig0.energy_cost_eur - fig0.site_incentive_eur.sum())
        - (fig.energy_cost_eur - fig.site_incentive_eur.sum())
        - pv_om
        - bat_om
    )
    flows = cash_flows(
        capex_eur=capex,
        yearly_benefit_eur=benefit,
        lifetime_years=m.lifetime_years,
        degradation=m.degradation_pct_per_year / 100.0,
        replacement_eur=float(bat_capex.sum()),
        replacement_every_years=m.battery_lifetime_years,
    )
    money = finance(
        flows,
        rate=m.discount_rate,
        pv_capex_eur=float(pv_capex.sum()),
        pv_om_eur_per_year=pv_om,
        pv_kwh_per_year=fig.new_pv_kwh,
        degradation=m.degradation_pct_per_year / 100.0,
    )
    crf_pv = annuity_factor(m.discount_rate, m.lifetime_years)
    crf_bat = annuity_factor(m.discount_rate, m.battery_lifetime_years)
    firms = []
    for i, site in enumerate(inp.site_ids):
        own_pv = sf.site_index == i
        share = bt.owners[:, i] if bt.count else np.zeros(0)
        annuity = float(
            (pv_capex[own_pv] * crf_pv + sized.kwp[own_pv] * sf.om_eur_per_kwp_year[own_pv]).sum()
            + (share * (bat_capex * crf_bat + sized.battery_kwh * bt.om_eur_per_kwh_year)).sum()
        )
        before = float(fig0.site_energy_cost_eur[i] - fig0.site_incentive_eur[i])
        after = float(fig.site_energy_cost_eur[i] - fig.site_incentive_eur[i]) + annuity
        firms.append(
            {
                "site": site,
                "capex_eur": float(pv_capex[own_pv].sum() + (share * bat_capex).sum()),
                "annuity_and_om_eur": annuity,
                "energy_cost_eur": float(fig.site_energy_cost_eur[i]),
                "incentive_eur": float(fig.site_incentive_eur[i]),
                "net_cost_before_eur": before,
                "net_cost_after_eur": after,
                "gain_eur_per_year": before - after,
            }
        )

    def year_block(f: YearFigures) -> dict[str, float]:
        return {
            "consumption_kwh": f.consumption_kwh,
            "import_kwh": f.import_kwh,
            "export_kwh": f.export_kwh,
            "pv_kwh": f.pv_kwh,
            "shared_kwh": f.shared_kwh,
            "incentive_eur": f.incentive_eur,
            "statute_incentive_eur": float(f.site_incentive_eur.sum()),
            "energy_cost_eur": f.energy_cost_eur,
            "co2_t": f.co2_t,
            "self_sufficiency": f.self_sufficiency,
        }

    years = m.lifetime_years
    return {
        "name": spec.name,
        "description": spec.description,
        "district": y.config.district,
        "sites": list(inp.site_ids),
        "step_minutes": spec.step_minutes,
        "surfaces": [
            {
                "id": sf.ids[k],
                "site": inp.site_ids[sf.site_index[k]],
                "kwp": float(sized.kwp[k]),
                "max_kwp": float(sf.max_kwp[k]),
                "capex_eur": float(pv_capex[k]),
            }
            for k in range(sf.count)
        ],
        "batteries": [
            {
                "id": bt.ids[k],
                "site": inp.site_ids[bt.site_index[k]],
                "kwh": float(sized.battery_kwh[k]),
                "kw": float(sized.battery_kw[k]),
                "capex_eur": float(bat_capex[k]),
                "owners": {inp.site_ids[j]: float(bt.owners[k, j]) for j in np.flatnonzero(bt.owners[k])},
            }
            for k in range(bt.count)
        ],
        "year": year_block(fig),
        "baseline_year": year_block(fig0),
        "co2_avoided_t_per_year": fig0.co2_t - fig.co2_t,
        "lifetime": {
            "years": years,
            "co2_avoided_t": (fig0.co2_t - fig.co2_t) * years,
            "shared_kwh": fig.shared_kwh * years,
            "incentive_eur": fig.incentive_eur * years,
        },
        "capex_eur": capex,
        "annual_cost_eur": {
            "representative_days": sized.annual_cost_eur,
            "full_year": checked.annual_cost_eur,
            "relative_difference": (sized.annual_cost_eur - checked.annual_cost_eur)
            / abs(checked.annual_cost_eur)
            if checked.annual_cost_eur
            else 0.0,
        },
        "solve_s": {"representative_days": sized.solve_s, "full_year_dispatch": check_s},
        "finance": {
            "yearly_benefit_eur": benefit,
            "npv_eur": money.npv_eur,
            "irr": money.irr,
            "simple_payback_years": money.simple_payback_years,
            "discounted_payback_years": money.discounted_payback_years,
            "lcoe_eur_per_kwh": money.lcoe_eur_per_kwh,
            "cash_flows_eur": [float(v) for v in money.cash_flows_eur],
        },
        "firms": firms,
        "co2_curve": curve,
        "monthly": {
            "consumption_kwh": fig.monthly_consumption_kwh.tolist(),
            "pv_kwh": fig.monthly_pv_kwh.tolist(),
            "import_kwh": fig.monthly_import_kwh.tolist(),
            "export_kwh": fig.monthly_export_kwh.tolist(),
            "shared_kwh": fig.monthly_shared_kwh.tolist(),
        },
    }
