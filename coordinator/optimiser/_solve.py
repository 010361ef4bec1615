"""plan_district: build, solve with HiGHS, fall back, and always return a plan."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from dataclasses import replace

import numpy as np

from coordinator.forecast._types import Forecast
from coordinator.model import DistrictModel, FloatArray
from coordinator.optimiser._builder import put, take
from coordinator.optimiser._formulation import Problem, build_problem, initial_levels
from coordinator.optimiser._highs import HighsModel
from coordinator.optimiser._plan import AssetKind, AssetSchedule, Plan, limit_breaches
from coordinator.optimiser._shared import configuration_shared_kwh, hourly_shared_kwh
from coordinator.optimiser._types import LiveState, PlanOptions, PlanStatus
from coordinator.optimiser._windows import earliest_schedule

__all__ = ["hourly_shared_kwh", "plan_district"]

log = logging.getLogger(__name__)


def plan_district(model: DistrictModel, forecast: Forecast, state: LiveState | None = None, *,
                  start_ms: int | None = None, options: PlanOptions | None = None) -> Plan:
    """One plan for the whole district over the forecast's horizon.

    Never raises for a hard or infeasible problem: the status says whether the plan is
    optimal (within the requested gap of a bound on the real objective), the best found
    within the time limit, rounded from the LP relaxation, or every asset's safe local mode.
    Inconsistent inputs (a forecast for other sites or another step length) raise ValueError.
    """
    state = state or LiveState()
    options = options or PlanOptions()
    start = forecast.start_ms if start_ms is None else int(start_ms)
    if start != forecast.start_ms:
        raise ValueError(f"forecast starts at {forecast.start_ms}, the plan at {start}")
    t0 = time.perf_counter()
    problem = build_problem(model, forecast, state, start_ms=start, options=options)
    x, status, bound, message = _solve(problem, options, t0)
    if problem.trade_penalty_cols.size and status is not PlanStatus.SAFE_MODE and x is not None and (
            bound is None or _gap(_certified(problem, x), bound) > options.mip_rel_gap):
        # The penalty in place of import/export binaries could not certify the gap: solve the
        # exact problem with the time left, from its own relaxation's bound.
        exact = build_problem(model, forecast, state, start_ms=start,
                              options=replace(options, max_grid_binaries=sys.maxsize))
        x2, status2, bound2, message2 = _solve(exact, options, t0, start=_as_exact(problem, exact, x))
        if x2 is not None and status2 is not PlanStatus.SAFE_MODE and bound2 is not None and (
                bound is None or _gap(_certified(exact, x2), bound2) <= _gap(_certified(problem, x), bound)):
            problem, x, status, bound, message = exact, x2, status2, bound2, message2
    if x is None:
        x = _safe_solution(model, forecast, state, problem)
        status = PlanStatus.SAFE_MODE
        bound = None
    plan = _extract(model, forecast, problem, x, status=status, bound=bound, message=message,
                    solve_time_s=time.perf_counter() - t0)
    certified = plan.mip_gap is not None and plan.mip_gap <= options.mip_rel_gap + 1e-9
    if plan.status is PlanStatus.OPTIMAL and not certified:
        plan = replace(plan, status=PlanStatus.TIME_LIMIT)  # "optimal" only with its certificate
    log.info("plan %s: %s, objective %.2f EUR, bound %s, gap %s, %.3f s", plan.plan_id, plan.status,
             plan.objective_eur, plan.bound_eur, plan.mip_gap, plan.solve_time_s)
    return plan


def _gap(upper: float, lower: float) -> float:
    return max(0.0, upper - lower) / max(abs(upper), 1e-9)


def _real_cost(problem: Problem) -> FloatArray:
    """The solver's cost without the penalty that stands in for import/export binaries."""
    cost = problem.builder.cost.copy()
    if problem.trade_penalty_cols.size:
        np.subtract.at(cost, problem.trade_penalty_cols, problem.trade_penalty_eur)
    return cost


def _certified(problem: Problem, x: FloatArray) -> float:
    """The plan's real objective (EUR, penalties for import above a limit included), as the
    solver's objectives and bounds are (HiGHS carries ``constant_eur`` as its offset)."""
    return float(_real_cost(problem) @ x) + problem.constant_eur


def _status(problem: Problem, x: FloatArray, bound: float, options: PlanOptions,
            otherwise: PlanStatus) -> PlanStatus:
    within = _gap(_certified(problem, x), bound) <= options.mip_rel_gap + 1e-12
    return PlanStatus.OPTIMAL if within else otherwise


def _as_exact(penalised: Problem, exact: Problem, x: FloatArray) -> FloatArray | None:
    """The penalised plan in the exact problem's columns (the same, plus the import/export
    binaries added last): a starting incumbent for its branch and bound."""
    extra = exact.builder.n_vars - x.size
    if extra < 0 or exact.binaries.size < extra:
        return None
    out = np.concatenate([x, np.zeros(extra)])
    grid = exact.binaries[exact.binaries >= x.size]
    on, off = exact.binary_on[exact.binaries >= x.size], exact.binary_off[exact.binaries >= x.size]
    out[grid] = (out[on] >= out[off]).astype(np.float64)
    return out


def _solve(problem: Problem, options: PlanOptions, t0: float, *, start: FloatArray | None = None
           ) -> tuple[FloatArray | None, PlanStatus, float | None, str]:
    """The plan, its status, a lower bound on its real objective (EUR, penalties for
    import/export left out) and a message.

    LP relaxation first, rounded and re-solved (warm) with the integers fixed: when that plan
    is already within the gap of the bound (usual here: the relaxation is tight), it is optimal
    within the gap and the MILP is skipped. Otherwise HiGHS branches with the time left,
    starting from the rounded plan, which remains the fallback."""
    lp = problem.builder
    real = _real_cost(problem)
    penalised = problem.trade_penalty_cols.size > 0
    budget = options.fallback_time_limit_s or options.time_limit_s
    rounded: FloatArray | None = None
    bound: float | None = None
    note = ""
    try:
        highs = HighsModel(problem)
        relaxed = highs.solve_lp(time_limit_s=budget)
        note = relaxed.message
        if relaxed.x is not None and relaxed.optimal:
            bound = relaxed.objective
            if penalised:  # a bound on the real objective: the relaxation without the penalty
                highs.set_cost(real)
                unpenalised = highs.solve_lp(time_limit_s=budget)
                highs.set_cost(lp.cost)
                bound = unpenalised.objective if unpenalised.optimal else None
            if not highs.has_integers:
                if bound is None:
                    return relaxed.x, PlanStatus.TIME_LIMIT, None, note
                status = _status(problem, relaxed.x, bound, options, PlanStatus.TIME_LIMIT)
                return relaxed.x, status, bound, note
            lb2, ub2 = _round(problem, relaxed.x, lp.lb, lp.ub)
            fixed = highs.solve_lp(time_limit_s=budget, lb=lb2, ub=ub2)
            note = fixed.message
            if fixed.x is not None and fixed.optimal:
                rounded = fixed.x
        elif relaxed.x is not None and not highs.has_integers:
            return relaxed.x, PlanStatus.TIME_LIMIT, None, note
    except Exception as exc:  # HiGHS failing must not leave the district without a plan
        log.exception("LP relaxation failed")
        return None, PlanStatus.SAFE_MODE, None, f"LP relaxation failed: {exc}"
    if start is not None and _feasible(problem, start) and (
            rounded is None or _certified(problem, start) < _certified(problem, rounded)):
        rounded = start
    if bound is None:
        if rounded is not None:
            return rounded, PlanStatus.LP_FALLBACK, None, note
        return None, PlanStatus.SAFE_MODE, None, f"LP relaxation: {note}"
    if rounded is not None and _gap(_certified(problem, rounded), bound) <= options.mip_rel_gap:
        return rounded, PlanStatus.OPTIMAL, bound, "rounded LP relaxation within the gap of its bound"
    remaining = options.time_limit_s - (time.perf_counter() - t0)
    x: FloatArray | None = None
    message = note
    if remaining > 0.05:
        try:
            mip = highs.solve_mip(time_limit_s=remaining, gap=options.mip_rel_gap, start=rounded)
            x, message = mip.x, mip.message
            if mip.bound is not None and not penalised:  # the MIP's own bound is on the real problem
                bound = max(bound, mip.bound)
        except Exception as exc:
            log.exception("MILP solve failed")
            message = f"MILP failed: {exc}"
    if x is not None:
        best = x if rounded is None or _certified(problem, x) <= _certified(problem, rounded) else rounded
        return best, _status(problem, best, bound, options, PlanStatus.TIME_LIMIT), bound, message
    if rounded is not None:
        note = f"{message}; integers rounded from the LP relaxation"
        return rounded, PlanStatus.LP_FALLBACK, bound, note
    return None, PlanStatus.SAFE_MODE, None, message


def _feasible(problem: Problem, x: FloatArray, tol: float = 1e-6) -> bool:
    lp = problem.builder
    if np.any(x < lp.lb - tol) or np.any(x > lp.ub + tol):
        return False
    ax = problem.matrix @ x
    return bool(np.all(ax >= lp.row_lb - tol) and np.all(ax <= lp.row_ub + tol))


def _round(problem: Problem, x: FloatArray, lb: FloatArray, ub: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Fix every integer: each run starts where the relaxation put most of it."""
    lb, ub = lb.copy(), ub.copy()
    starts = problem.starts
    if starts.size:
        values = x[starts]
        chosen = np.zeros(starts.size, dtype=np.bool_)
        group_of = problem.runs.group[problem.start_run]
        for group in np.unique(group_of):  # one start per run, or per set of alternative levels
            members = np.flatnonzero(group_of == group)
            chosen[members[np.argmax(values[members])]] = True
        lb[starts] = ub[starts] = chosen.astype(np.float64)
    if problem.binaries.size:
        on = (x[problem.binary_on] >= x[problem.binary_off]).astype(np.float64)
        lb[problem.binaries] = ub[problem.binaries] = on
    return lb, ub


def _safe_solution(model: DistrictModel, forecast: Forecast, state: LiveState,
                   problem: Problem) -> FloatArray:
    """Every asset in its safe local mode: batteries idle, loads at earliest start, pumps at demand."""
    lp = problem.builder
    x = np.zeros(lp.n_vars)
    dt = model.step_h
    soc0, level0 = initial_levels(model, state)
    x[problem.soc] = soc0[:, None]
    flex = earliest_schedule(problem.runs, loads=problem.flex.shape[0], steps=problem.flex.shape[1], dt_h=dt)
    put(x, problem.flex, flex)
    tanks = model.tanks
    flow = np.minimum(tanks.demand_m3h, tanks.pump_max_m3h)[:, None] * np.ones((1, problem.steps))
    x[problem.pump] = flow
    x[problem.level] = level0[:, None] + np.concatenate(
        [np.zeros((tanks.count, 1)), np.cumsum(dt * (flow - tanks.demand_m3h[:, None]), axis=1)], axis=1)
    net = forecast.load_kw - forecast.pv_kw
    np.add.at(net, model.loads.site_index, flex)
    np.add.at(net, tanks.site_index, tanks.pump_kw_per_m3h[:, None] * flow)
    exp = np.minimum(np.maximum(-net, 0.0), model.export_limit_kw[:, None])
    put(x, problem.imp, np.maximum(net, 0.0))
    put(x, problem.exp, exp)
    put(x, problem.curt, np.maximum(-net, 0.0) - exp)
    return x


def _extract(model: DistrictModel, forecast: Forecast, problem: Problem, x: FloatArray, *,
             status: PlanStatus, bound: float | None, message: str, solve_time_s: float) -> Plan:
    dt = model.step_h
    imp = np.maximum(take(x, problem.imp), 0.0) + problem.fixed_import_kw
    exp = np.maximum(take(x, problem.exp), 0.0) + problem.fixed_export_kw
    by_cfg = configuration_shared_kwh(imp, exp, problem.hour_of_step, problem.hour_start_ms.size, dt,
                                      model.site_configuration, problem.shared_rates.shape[0])
    shared = by_cfg.sum(axis=0)
    incentive = float((problem.shared_rates * by_cfg).sum())
    cost = problem.builder.cost
    # The objective with shared energy by the hourly rule (a time-limited incumbent may under-claim it).
    under_claimed = float((problem.shared_rates * x[problem.shared]).sum()) - incentive
    penalty = float(problem.penalty_eur @ x[problem.penalty_cols]) if problem.penalty_cols.size else 0.0
    trade = (float(problem.trade_penalty_eur @ x[problem.trade_penalty_cols])
             if problem.trade_penalty_cols.size else 0.0)
    objective = float(cost @ x) - penalty + problem.constant_eur + under_claimed
    limit_penalty = penalty - trade  # import above a connection limit: reported apart
    bound_eur = bound
    gap = None if bound_eur is None else _gap(objective + limit_penalty, bound_eur)
    assets: list[AssetSchedule] = []
    b = model.batteries
    soc = x[problem.soc]
    power = x[problem.dis] - x[problem.ch]
    for i in range(b.count):
        assets.append(AssetSchedule(
            site=model.site_ids[b.site_index[i]], asset_id=b.ids[i], asset=b.assets[i],
            kind=AssetKind.BATTERY, power_kw=_clean(power[i]), level_pct=100.0 * soc[i] / b.capacity_kwh[i],
            shares=tuple((model.site_ids[s], float(b.shares[i, s])) for s in np.flatnonzero(b.shares[i]))))
    f = model.loads
    flex = take(x, problem.flex)
    for i in range(f.count):
        assets.append(AssetSchedule(
            site=model.site_ids[f.site_index[i]], asset_id=f.ids[i], asset=f.assets[i],
            kind=AssetKind.FLEXIBLE_LOAD, power_kw=_clean(flex[i])))
    k = model.tanks
    flow = x[problem.pump]
    level = x[problem.level]
    fresh = take(x, problem.fresh)
    for i in range(k.count):
        assets.append(AssetSchedule(
            site=model.site_ids[k.site_index[i]], asset_id=k.ids[i], asset=k.assets[i], kind=AssetKind.TANK,
            power_kw=_clean(flow[i] * k.pump_kw_per_m3h[i]), level_pct=100.0 * level[i] / k.volume_m3[i],
            flow_m3h=_clean(flow[i]), fresh_water_m3h=_clean(fresh[i])))
    return Plan(
        district=model.district, start_ms=problem.times_ms[0].item(), step_minutes=model.step_minutes,
        site_ids=model.site_ids, status=status, objective_eur=objective, mip_gap=gap,
        solve_time_s=solve_time_s, bound_eur=bound_eur, penalty_eur=limit_penalty,
        limit_breaches=limit_breaches(imp, problem.import_limit_kw, site_ids=model.site_ids),
        grid_import_kw=_clean(imp), grid_export_kw=_clean(exp), load_kw=forecast.load_kw.copy(),
        pv_kw=forecast.pv_kw.copy(),
        curtailment_kw=_clean(np.maximum(take(x, problem.curt), 0.0) + problem.fixed_curtail_kw),
        hour_start_ms=problem.hour_start_ms, shared_energy_kwh=shared,
        incentive_eur=incentive, assets=tuple(assets),
        message=message, plan_id=uuid.uuid4().hex[:12],
    )


def _clean(values: FloatArray) -> FloatArray:
    """Solver noise below a watt is not a setpoint."""
    out = np.where(np.abs(values) < 1e-6, 0.0, values)
    return np.asarray(out, dtype=np.float64)
