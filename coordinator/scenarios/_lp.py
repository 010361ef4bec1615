"""The sizing LP: PV kWp per surface and battery kWh/kW per candidate together with their operation.

Minimises the district's yearly cost: capex annuities + O&M + energy bought - energy sold
- shared energy valued at the CER's hourly rate per configuration (docs/scenarios.md has
the equations). Built with the optimiser's vectorised :class:`LpBuilder`, solved by HiGHS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from coordinator.model import FloatArray, IntArray
from coordinator.optimiser._builder import LpBuilder, take
from coordinator.optimiser._highs import _new_highs
from coordinator.scenarios._inputs import SizingInputs, SizingOptions

__all__ = ["SizingError", "SizingResult", "size_district"]


class SizingError(RuntimeError):
    """The LP has no solution (options too tight) or the solver stopped without one."""


@dataclass(frozen=True, slots=True)
class SizingResult:
    kwp: FloatArray
    battery_kwh: FloatArray
    battery_kw: FloatArray
    import_kw: FloatArray
    export_kw: FloatArray
    charge_kw: FloatArray
    discharge_kw: FloatArray
    shared_kwh: FloatArray
    """[configuration, hour] (per occurrence of the hour; multiply by its weight for a year)."""
    annual_cost_eur: float
    """The objective: yearly capex annuities + O&M + energy - incentive."""
    solve_s: float
    status: str
    rows: int
    columns: int


def _previous_in_period(period: IntArray) -> IntArray:
    """Per step the step before it in its period, the period's last step for its first (cyclic)."""
    n = period.size
    prev = np.arange(n, dtype=np.int64) - 1
    starts = np.flatnonzero(np.r_[True, period[1:] != period[:-1]])
    ends = np.r_[starts[1:], n] - 1
    prev[starts] = ends
    return prev


def size_district(
    inp: SizingInputs, options: SizingOptions | None = None, *, threads: int | None = None
) -> SizingResult:
    """Solve the sizing LP; raises :class:`SizingError` when it has no optimal solution."""
    opts = options or SizingOptions()
    lp = LpBuilder()
    N, T, dt = inp.n_sites, inp.n_steps, inp.step_h
    w = inp.weight_of_step
    sf, bt = inp.surfaces, inp.batteries
    S, B = sf.count, bt.count

    pv_cost = inp.pv_annuity_eur_per_kwp()
    free = np.isnan(sf.fixed_kwp)
    kwp = lp.add_vars(
        (S,),
        lb=np.where(free, 0.0, np.nan_to_num(sf.fixed_kwp)),
        ub=np.where(free, sf.max_kwp, np.nan_to_num(sf.fixed_kwp)),
        cost=pv_cost,
    )
    e_cost, p_cost = inp.battery_annuity()
    kwh = lp.add_vars(
        (B,),
        lb=np.nan_to_num(bt.fixed_kwh),
        cost=e_cost,
        ub=np.where(np.isnan(bt.fixed_kwh), bt.max_kwh, np.nan_to_num(bt.fixed_kwh)),
    )
    kw = lp.add_vars(
        (B,),
        lb=np.nan_to_num(bt.fixed_kw),
        cost=p_cost,
        ub=np.where(np.isnan(bt.fixed_kw), bt.max_kw, np.nan_to_num(bt.fixed_kw)),
    )

    # Connection limits; a site whose load alone exceeds its import limit may draw its load.
    imp_ub = np.maximum(inp.import_limit_kw[:, None], inp.load_kw)
    imp = lp.add_vars((N, T), ub=imp_ub, cost=inp.import_eur_per_kwh * dt * w)
    exp = lp.add_vars(
        (N, T),
        ub=np.broadcast_to(inp.export_limit_kw[:, None], (N, T)),
        cost=-inp.export_eur_per_kwh * dt * w,
    )
    ch = lp.add_vars((B, T))
    dis = lp.add_vars((B, T))
    soc = lp.add_vars((B, T))

    # Site balance: import - export + PV + discharge - charge >= load - existing PV (surplus spilled).
    bal = lp.add_rows((N, T), lb=inp.load_kw - inp.existing_pv_kw)
    lp.add_terms(bal, imp, 1.0)
    lp.add_terms(bal, exp, -1.0)
    if S:
        lp.add_terms(bal[sf.site_index], kwp[:, None], sf.yield_kw_per_kwp)
    if B:
        lp.add_terms(bal[bt.site_index], dis, 1.0)
        lp.add_terms(bal[bt.site_index], ch, -1.0)
        for flow, size in ((ch, kw), (dis, kw), (soc, kwh)):
            rows = lp.add_rows((B, T), ub=0.0)
            lp.add_terms(rows, flow, 1.0)
            lp.add_terms(rows, size[:, None], -1.0)
        eta = np.sqrt(bt.round_trip_efficiency)[:, None]
        prev = _previous_in_period(inp.period_of_step)
        dyn = lp.add_rows((B, T), lb=0.0, ub=0.0)
        lp.add_terms(dyn, soc, 1.0)
        lp.add_terms(dyn, soc[:, prev], -1.0)
        lp.add_terms(dyn, ch, -eta * dt)
        lp.add_terms(dyn, dis, dt / eta)
        # Cycle life: what it may discharge in a year, spread over its life.
        cyc = lp.add_rows((B,), ub=0.0)
        lp.add_terms(cyc[:, None], dis, w[None, :] * dt)
        lp.add_terms(cyc, kwh, -bt.cycle_life / inp.money.battery_lifetime_years * inp.year_fraction)

    # A site exports at most its PV output: grid energy never passes through a meter (or a battery)
    # to earn the incentive (exact while export price + incentive < import price, docs/scenarios.md).
    gen = lp.add_rows((N, T), ub=inp.existing_pv_kw)
    lp.add_terms(gen, exp, 1.0)
    if S:
        lp.add_terms(gen[sf.site_index], kwp[:, None], -sf.yield_kw_per_kwp)

    # Shared energy per configuration and clock hour, valued at the hour's rate.
    C, H = inp.n_configurations, inp.n_hours
    hour_weight = np.zeros(H)
    hour_weight[inp.hour_of_step] = w
    shared = lp.add_vars((C, H), cost=-inp.shared_eur_per_kwh * hour_weight[None, :])
    cfg = inp.configuration_of_site
    for flow in (exp, imp):
        rows = lp.add_rows((C, H), ub=0.0)
        lp.add_terms(rows, shared, 1.0)
        lp.add_terms(rows[cfg][:, inp.hour_of_step], flow, -dt)

    _add_options(lp, inp, opts, kwp=kwp, kwh=kwh, kw=kw, imp=imp)

    t0 = time.perf_counter()
    x, status = _solve(lp, time_limit_s=opts.time_limit_s, threads=threads, solver=opts.solver)
    solve_s = time.perf_counter() - t0
    cost = float(lp.cost @ x)
    return SizingResult(
        kwp=_size(take(x, kwp)),
        battery_kwh=_size(take(x, kwh)),
        battery_kw=_size(take(x, kw)),
        import_kw=take(x, imp),
        export_kw=take(x, exp),
        charge_kw=take(x, ch),
        discharge_kw=take(x, dis),
        shared_kwh=take(x, shared),
        annual_cost_eur=cost,
        solve_s=solve_s,
        status=status,
        rows=lp.n_rows,
        columns=lp.n_vars,
    )


def _size(values: FloatArray) -> FloatArray:
    """Sizes without the solver's -0.0 and 1e-12 noise."""
    return np.where(np.abs(values) < 1e-7, 0.0, values)


def _add_options(
    lp: LpBuilder,
    inp: SizingInputs,
    opts: SizingOptions,
    *,
    kwp: IntArray,
    kwh: IntArray,
    kw: IntArray,
    imp: IntArray,
) -> None:
    w, dt = inp.weight_of_step, inp.step_h
    if opts.co2_cap_kg is not None:
        row = lp.add_rows((1,), ub=opts.co2_cap_kg)
        lp.add_terms(row[:, None, None], imp[None], (inp.emission_g_per_kwh * dt * w / 1000.0)[None])
    if opts.renewable_share_min is not None:
        consumption = float((inp.load_kw * w).sum() * dt)
        row = lp.add_rows((1,), ub=(1.0 - opts.renewable_share_min) * consumption)
        lp.add_terms(row[:, None, None], imp[None], (dt * w)[None, None, :])
    sf, bt = inp.surfaces, inp.batteries
    if opts.budget_eur is not None:
        row = lp.add_rows((1,), ub=opts.budget_eur)
        lp.add_terms(row, kwp, sf.capex_eur_per_kwp)
        lp.add_terms(row, kwh, bt.capex_eur_per_kwh)
        lp.add_terms(row, kw, bt.capex_eur_per_kw)
    for site, cap in opts.firm_budget_eur.items():
        row = lp.add_rows((1,), ub=cap)
        lp.add_terms(row, kwp, sf.capex_eur_per_kwp * (sf.site_index == site))
        lp.add_terms(row, kwh, bt.capex_eur_per_kwh * bt.owners[:, site])
        lp.add_terms(row, kw, bt.capex_eur_per_kw * bt.owners[:, site])


def _solve(lp: LpBuilder, *, time_limit_s: float, threads: int | None, solver: str) -> tuple[FloatArray, str]:
    h = _new_highs()
    if threads:
        h.setOptionValue("threads", threads)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("solver", solver)
    n = lp.n_vars
    h.addVars(n, lp.lb, lp.ub)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), lp.cost)
    a = lp.matrix()
    h.addRows(
        lp.n_rows,
        lp.row_lb,
        lp.row_ub,
        a.nnz,
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(np.float64),
    )
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SizingError(f"no optimal sizing: {h.modelStatusToString(status)}")
    return np.asarray(h.getSolution().col_value, np.float64), "optimal"
