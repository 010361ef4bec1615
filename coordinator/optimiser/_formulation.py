"""The district MILP, built in numpy blocks (see docs/coordinator.md for the equations).

Per site s and step t the balance is
``import - export + (pv - curtail) + discharge - charge - flexible - pump = load``;
shared energy per clock hour h is bounded by the district's total export and
total import in that hour and rewarded with the incentive, so at the optimum it
equals their minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from coordinator.forecast._types import Forecast
from coordinator.model import BatteryArrays, DistrictModel, FloatArray, IntArray, TankArrays
from coordinator.optimiser._binaries import add_binaries
from coordinator.optimiser._builder import LpBuilder
from coordinator.optimiser._shared import add_shared_energy
from coordinator.optimiser._types import LiveState, PlanOptions
from coordinator.optimiser._windows import Runs, load_runs

__all__ = ["Problem", "build_problem", "initial_levels"]

@dataclass(slots=True)
class Problem:
    builder: LpBuilder
    matrix: sp.csr_array
    steps: int
    times_ms: IntArray
    hour_of_step: IntArray
    hour_start_ms: IntArray
    imp: IntArray
    exp: IntArray
    curt: IntArray
    ch: IntArray
    dis: IntArray
    soc: IntArray
    flex: IntArray
    pump: IntArray
    level: IntArray
    fresh: IntArray
    """[tank, step] fresh water meeting tank demand (drought mode only; -1 elsewhere)."""
    shared: IntArray
    """[configuration, hour]"""
    shared_rates: FloatArray
    """[configuration, hour] EUR per kWh shared."""
    starts: IntArray
    """Start binaries of non-interruptible runs."""
    start_run: IntArray
    start_step: IntArray
    binaries: IntArray
    """Charge/discharge and import/export binaries (rounded by the LP fallback)."""
    binary_on: IntArray
    binary_off: IntArray
    """For each binary, the flow it forbids when on's side wins: rounded on when ``x[on] >= x[off]``
    (net import, net charge), so a relaxation that imports and exports at once rounds to its net."""
    """For each binary, the continuous variable that decides its rounding (on when positive)."""
    runs: Runs
    penalty_cols: IntArray
    """Variables carrying a penalty, not a real cost: export against trading with oneself, import
    above the connection limit."""
    penalty_eur: FloatArray
    trade_penalty_cols: IntArray
    """The part of the penalties that stands in for import/export binaries: a device of the
    formulation, left out of the objective the plan is certified on."""
    trade_penalty_eur: FloatArray
    import_limit_kw: FloatArray
    """[site] the connection limits, soft in the model: plans list where they break them."""
    fixed_import_kw: FloatArray
    """[site, step] flows of sites without controllable assets (no variables for them)."""
    fixed_export_kw: FloatArray
    fixed_curtail_kw: FloatArray
    constant_eur: float
    """The cost of those fixed flows, not part of the solver's objective."""
    price_import: FloatArray
    price_export: FloatArray
    emission_g_per_kwh: FloatArray


def initial_levels(model: DistrictModel, state: LiveState) -> tuple[FloatArray, FloatArray]:
    """Battery SOC (kWh) and tank level (m³) at the start of the horizon."""
    b, k = model.batteries, model.tanks
    soc = b.soc_initial_kwh.copy()
    for i, bid in enumerate(b.ids):
        pct = state.battery_soc_pct.get((model.site_ids[b.site_index[i]], bid))
        if pct is not None:
            soc[i] = b.capacity_kwh[i] * float(pct) / 100.0
    level = k.level_initial_m3.copy()
    for i, kid in enumerate(k.ids):
        pct = state.tank_level_pct.get((model.site_ids[k.site_index[i]], kid))
        if pct is not None:
            level[i] = k.volume_m3[i] * float(pct) / 100.0
    return soc, level


def _end_floor(model: DistrictModel, targets: Mapping[tuple[str, str], float],
               assets: BatteryArrays | TankArrays, full: FloatArray, reach: FloatArray) -> FloatArray:
    """A lower bound on the level at the end of the horizon: the target, as far as it can be reached."""
    out = np.zeros(len(assets.ids))
    for i, asset in enumerate(assets.ids):
        pct = targets.get((model.site_ids[assets.site_index[i]], asset))
        if pct is not None:
            out[i] = min(full[i] * float(pct) / 100.0, float(reach[i]))
    return out


def _unavailable(model: DistrictModel, state: LiveState, site_index: IntArray,
                 ids: tuple[str, ...]) -> np.ndarray:
    keys = [(model.site_ids[s], a) for s, a in zip(site_index, ids, strict=True)]
    return np.asarray([k in state.unavailable for k in keys], dtype=np.bool_)


def build_problem(model: DistrictModel, forecast: Forecast, state: LiveState, *, start_ms: int,
                  options: PlanOptions) -> Problem:
    S, T = forecast.load_kw.shape
    if model.n_sites != S:
        raise ValueError(f"forecast has {S} sites, the district {model.n_sites}")
    if forecast.step_minutes != model.step_minutes:
        raise ValueError(f"forecast step {forecast.step_minutes} min, district step {model.step_minutes} min")
    dt = model.step_h
    lp = LpBuilder()
    times = model.step_times_ms(start_ms, T)
    p_imp, p_exp, ef = model.prices(times)
    p_imp_eff = p_imp + options.co2_eur_per_t * ef / 1e6
    # The highest rate a kWh shared may earn: where a self-trade could pay (binaries below).
    inc = float(model.shared_eur_per_kwh.max()) if model.shared_eur_per_kwh.size else 0.0
    bat, loads, tanks = model.batteries, model.loads, model.tanks
    B, F, K = bat.count, loads.count, tanks.count
    load, pv = forecast.load_kw, forecast.pv_kw

    # Site flows. Export cannot exceed what the site could produce: keeps the LP from
    # importing and exporting at once where no binary forbids it.
    dis_cap = np.bincount(bat.site_index, weights=bat.discharge_kw, minlength=S)[:, None]
    exp_ub = np.minimum(model.export_limit_kw[:, None], pv + dis_cap)
    # Import cannot exceed everything the site could consume: a tight big-M for the binaries.
    # The connection limit is soft (below): an inflexible load above it is not ours to fix, and
    # a batch or a pump that must run on top of it must not leave the district without a plan.
    consume_cap = (np.bincount(bat.site_index, weights=bat.charge_kw, minlength=S)
                   + np.bincount(loads.site_index, weights=loads.max_power_kw, minlength=S)
                   + np.bincount(tanks.site_index, weights=tanks.pump_max_m3h * tanks.pump_kw_per_m3h,
                                 minlength=S))
    imp_ub = np.maximum(load, 0.0) + consume_cap[:, None]
    # A site without controllable assets has no decision to make: its flows are constants.
    active = np.zeros(S, np.bool_)
    for site_index in (bat.site_index, loads.site_index, tanks.site_index):
        active[site_index] = True
    net0 = load - pv
    fixed_imp = np.where(active[:, None], 0.0, np.maximum(net0, 0.0))
    fixed_exp = np.where(active[:, None], 0.0, np.minimum(np.maximum(-net0, 0.0), exp_ub))
    fixed_curt = np.where(active[:, None], 0.0, np.maximum(-net0, 0.0) - fixed_exp)
    constant = float(dt * ((fixed_imp * p_imp_eff).sum() - (fixed_exp * p_exp).sum()
                           + options.curtailment_eur_per_kwh * fixed_curt.sum()))
    # The peak charge is billed per month: only a peak above the month's so far costs more.
    month_peak = np.asarray([float(state.month_peak_kw.get(s, 0.0)) for s in model.site_ids])
    if options.use_peak_charge:
        constant += float((model.peak_eur_per_kw
                           * np.maximum(fixed_imp.max(axis=1, initial=0.0) - month_peak, 0.0)).sum())
    # Curtailing pays only where the export limit could bind or exporting costs money.
    may_curtail = (pv > 0) & ((p_exp <= 0) | (pv + dis_cap - load > model.export_limit_kw[:, None] - 1e-6))
    act = active[:, None]
    imp = lp.add_vars((S, T), ub=imp_ub, cost=dt * p_imp_eff, mask=act & (imp_ub > 0))
    exp = lp.add_vars((S, T), ub=exp_ub, cost=-dt * p_exp, mask=act & (exp_ub > 0))
    curt = lp.add_vars((S, T), ub=pv, cost=dt * options.curtailment_eur_per_kwh, mask=act & may_curtail)
    # Import above the connection limit, where it could happen, at a price that no tariff pays back.
    limit = model.import_limit_kw[:, None] * np.ones((1, T))
    may_exceed = act & (imp_ub > limit + 1e-9)
    over = lp.add_vars((S, T), ub=np.maximum(imp_ub - limit, 0.0), cost=dt * options.over_limit_eur_per_kwh,
                       mask=may_exceed)
    oi, ot = np.nonzero(may_exceed)
    if oi.size:
        within = lp.add_rows((oi.size,), ub=limit[oi, ot])
        lp.add_terms(within, imp[oi, ot], 1.0)
        lp.add_terms(within, over[oi, ot], -1.0)

    # Batteries.
    soc0, level0 = initial_levels(model, state)
    off_b = _unavailable(model, state, bat.site_index, bat.ids)[:, None]
    ch = lp.add_vars((B, T), ub=np.where(off_b, 0.0, bat.charge_kw[:, None]))
    dis = lp.add_vars((B, T), ub=np.where(off_b, 0.0, bat.discharge_kw[:, None]),
                      cost=dt * bat.wear_eur_per_kwh[:, None])
    soc_lo = np.minimum(bat.soc_min_kwh, soc0)[:, None] * np.ones((1, T + 1))
    soc_hi = np.maximum(bat.soc_max_kwh, soc0)[:, None] * np.ones((1, T + 1))
    soc_lo[:, 0] = soc_hi[:, 0] = soc0
    if options.terminal_soc:
        soc_lo[:, T] = np.maximum(soc_lo[:, T], np.minimum(soc0, bat.soc_max_kwh))
    reach_b = np.minimum(soc0 + T * dt * bat.charge_kw * bat.charge_efficiency, soc_hi[:, T])
    end_b = _end_floor(model, state.battery_soc_end_min_pct, bat, bat.capacity_kwh, reach_b)
    soc_lo[:, T] = np.maximum(soc_lo[:, T], end_b)
    soc = lp.add_vars((B, T + 1), lb=soc_lo, ub=soc_hi)
    dyn = lp.add_rows((B, T), lb=0.0, ub=0.0)
    lp.add_terms(dyn, soc[:, 1:], 1.0)
    lp.add_terms(dyn, soc[:, :-1], -1.0)
    lp.add_terms(dyn, ch, -dt * bat.charge_efficiency[:, None])
    lp.add_terms(dyn, dis, dt / bat.discharge_efficiency[:, None])

    # Flexible loads.
    runs = load_runs(model, state, start_ms=start_ms, steps=T)
    flex_ub = np.zeros((F, T))
    for r in range(runs.count):
        span = flex_ub[runs.load[r], runs.first[r]:runs.stop[r]]
        np.maximum(span, runs.power_kw[r], out=span)
    flex = lp.add_vars((F, T), ub=flex_ub, mask=flex_ub > 0)
    inter = np.flatnonzero(runs.interruptible)
    if inter.size:
        rows = lp.add_rows((inter.size,), lb=runs.energy_kwh[inter], ub=runs.energy_kwh[inter])
        lens = runs.stop[inter] - runs.first[inter]
        rr = np.repeat(np.arange(inter.size), lens)
        tt = _ranges(runs.first[inter], lens)
        lp.add_terms(rows[rr], flex[runs.load[inter][rr], tt], dt)
    fixed = np.flatnonzero(~runs.interruptible)
    n_cand = np.where(runs.forced[fixed], 1, runs.stop[fixed] - runs.run_steps[fixed] - runs.first[fixed] + 1)
    n_cand = np.maximum(n_cand, 1)
    start_run = np.repeat(fixed, n_cand)
    start_step = _ranges(runs.first[fixed], n_cand)
    starts = lp.add_vars((start_run.size,), ub=1.0, integer=True,
                         lb=np.where(runs.forced[start_run], 1.0, 0.0))
    if fixed.size:
        # One start per group: a run, or one of a batch's alternative power levels.
        groups, group_row = np.unique(runs.group[fixed], return_inverse=True)
        one = lp.add_rows((groups.size,), lb=1.0, ub=1.0)
        lp.add_terms(one[np.repeat(group_row, n_cand)], starts, 1.0)
        # flex[f, t] equals the power of the run that covers t.
        covered = np.zeros((F, T), dtype=np.bool_)
        for fr_run in fixed:
            covered[runs.load[fr_run], runs.first[fr_run]:runs.stop[fr_run]] = True
        fr, ft = np.nonzero(covered)
        defn = lp.add_rows((fr.size,), lb=0.0, ub=0.0)
        row_of = np.full((F, T), -1, dtype=np.int64)
        row_of[fr, ft] = defn
        lp.add_terms(defn, flex[fr, ft], 1.0)
        lens = runs.run_steps[start_run]
        cand = np.repeat(np.arange(start_run.size), lens)
        tt = _ranges(start_step, lens)
        lp.add_terms(row_of[runs.load[start_run][cand], tt], starts[cand], -runs.power_kw[start_run][cand])
        # Blocks of an interruptible load keep their order and do not overlap:
        # start(r) >= start(previous) + length(previous), starts as sum_k k y[k].
        after = np.flatnonzero(runs.follows >= 0)
        if after.size:
            order = lp.add_rows((after.size,), lb=runs.run_steps[runs.follows[after]].astype(np.float64),
                                ub=np.inf)
            for i, block in enumerate(after.tolist()):
                for run, sign in ((block, 1.0), (int(runs.follows[block]), -1.0)):
                    members = np.flatnonzero(start_run == run)
                    lp.add_terms(np.full(members.size, order[i]), starts[members],
                                 sign * start_step[members].astype(np.float64))

    # Tanks: level[t+1] = level[t] + dt (flow[t] - demand).
    off_k = _unavailable(model, state, tanks.site_index, tanks.ids)
    fallback_flow = np.minimum(tanks.demand_m3h, tanks.pump_max_m3h)
    pump = lp.add_vars((K, T), lb=np.where(off_k, fallback_flow, 0.0)[:, None],
                       ub=np.where(off_k, fallback_flow, tanks.pump_max_m3h)[:, None])
    lvl_lo = np.minimum(tanks.level_min_m3, level0)[:, None] * np.ones((1, T + 1))
    lvl_hi = np.maximum(tanks.level_max_m3, level0)[:, None] * np.ones((1, T + 1))
    lvl_lo[:, 0] = lvl_hi[:, 0] = level0
    if options.terminal_soc:
        keep = np.minimum(level0, lvl_hi[:, T])
        lvl_lo[:, T] = np.maximum(lvl_lo[:, T], np.where(off_k, lvl_lo[:, T], keep))
    # Drought mode: fresh water may meet demand in the tank's place, at its shadow price; the tank
    # ends the horizon at least at its raised floor (as far as the pump can get it there).
    drought = tanks.fresh_water_eur_per_m3 > 0
    if drought and options.terminal_soc:
        reach = np.minimum(level0 + T * dt * tanks.pump_max_m3h, lvl_hi[:, T])
        floor = np.where(off_k, lvl_lo[:, T], np.minimum(tanks.level_min_m3, reach))
        lvl_lo[:, T] = np.maximum(lvl_lo[:, T], floor)
    fill = np.maximum(tanks.pump_max_m3h - tanks.demand_m3h, 0.0)
    reach_k = np.minimum(level0 + T * dt * fill, lvl_hi[:, T])
    end_k = _end_floor(model, state.tank_level_end_min_pct, tanks, tanks.volume_m3, reach_k)
    lvl_lo[:, T] = np.maximum(lvl_lo[:, T], end_k)
    level = lp.add_vars((K, T + 1), lb=lvl_lo, ub=lvl_hi)
    fresh = lp.add_vars((K, T), ub=tanks.demand_m3h[:, None], cost=dt * tanks.fresh_water_eur_per_m3,
                        mask=np.broadcast_to((tanks.demand_m3h > 0)[:, None] & drought, (K, T)))
    tdyn = lp.add_rows((K, T), lb=-dt * tanks.demand_m3h[:, None], ub=-dt * tanks.demand_m3h[:, None])
    lp.add_terms(tdyn, level[:, 1:], 1.0)
    lp.add_terms(tdyn, level[:, :-1], -1.0)
    lp.add_terms(tdyn, pump, -dt)
    lp.add_terms(tdyn, fresh, -dt)

    # Site balance (rows of passive sites stay empty: their flows are constants).
    bal = lp.add_rows((S, T), lb=np.where(act, net0, 0.0), ub=np.where(act, net0, 0.0))
    lp.add_terms(bal, imp, 1.0)
    lp.add_terms(bal, exp, -1.0)
    lp.add_terms(bal, curt, -1.0)
    lp.add_terms(bal[bat.site_index], dis, 1.0)
    lp.add_terms(bal[bat.site_index], ch, -1.0)
    lp.add_terms(bal[loads.site_index], flex, -1.0)
    lp.add_terms(bal[tanks.site_index], pump, -tanks.pump_kw_per_m3h[:, None])

    # Shared energy per configuration and clock hour.
    hour_start, hour_of_step = np.unique(times // 3_600_000, return_inverse=True)
    rates = model.shared_rates((hour_start * 3_600_000).astype(np.int64))
    shared = add_shared_energy(lp, model, imp=imp, exp=exp, fixed_import_kw=fixed_imp,
                               fixed_export_kw=fixed_exp, hour_of_step=hour_of_step.astype(np.int64),
                               rates=rates)

    # Optional peak charge on each site's highest import.
    if options.use_peak_charge and (model.peak_eur_per_kw > 0).any():
        sites = np.flatnonzero(model.peak_eur_per_kw > 0)
        peak = lp.add_vars((sites.size,), lb=month_peak[sites], ub=np.inf, cost=model.peak_eur_per_kw[sites])
        constant -= float(model.peak_eur_per_kw[sites] @ month_peak[sites])
        rows = lp.add_rows((sites.size, T), ub=0.0)
        lp.add_terms(rows, imp[sites], 1.0)
        lp.add_terms(rows, peak[:, None], -1.0)

    penalised: list[tuple[IntArray, FloatArray]] = []
    if oi.size:  # not a cost anyone pays: left out of the plan's objective
        penalised.append((over[oi, ot], np.full(oi.size, dt * options.over_limit_eur_per_kwh)))
    n_limit = len(penalised)
    binaries, binary_on, binary_off = add_binaries(lp, model, options, p_imp_eff, p_exp, inc, imp, exp,
                                                   imp_ub, exp_ub, ch, dis, penalised)
    trade = penalised[n_limit:]
    return Problem(
        builder=lp, matrix=lp.matrix(), steps=T, times_ms=times, hour_of_step=hour_of_step.astype(np.int64),
        hour_start_ms=(hour_start * 3_600_000).astype(np.int64), imp=imp, exp=exp, curt=curt, ch=ch, dis=dis,
        soc=soc, flex=flex, pump=pump, level=level, fresh=fresh, shared=shared, shared_rates=rates,
        starts=starts,
        start_run=start_run, start_step=start_step, binaries=binaries, binary_on=binary_on,
        binary_off=binary_off, runs=runs,
        penalty_cols=np.concatenate([c for c, _ in penalised]) if penalised else np.zeros(0, np.int64),
        penalty_eur=np.concatenate([e for _, e in penalised]) if penalised else np.zeros(0),
        trade_penalty_cols=np.concatenate([c for c, _ in trade]) if trade else np.zeros(0, np.int64),
        trade_penalty_eur=np.concatenate([e for _, e in trade]) if trade else np.zeros(0),
        import_limit_kw=model.import_limit_kw.astype(np.float64),
        fixed_import_kw=fixed_imp, fixed_export_kw=fixed_exp, fixed_curtail_kw=fixed_curt,
        constant_eur=constant,
        price_import=p_imp, price_export=p_exp, emission_g_per_kwh=ef,
    )


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenation of ``arange(s, s + n)`` for each pair, vectorised."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64), lengths) + offsets
