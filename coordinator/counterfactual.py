"""The uncoordinated counterfactual, and settling any day's flows into money.

Counterfactual: nothing is coordinated. Each battery serves only its own site's
self-consumption (charges from the site's PV surplus, discharges into the site's
own deficit, never from or to the grid on purpose); flexible loads start as soon
as their window opens; pumps refill the tank at the rate it is drawn. Energy the
members happen to feed in and draw in the same hour still counts as shared: the
incentive is paid for it whether or not anyone planned it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from coordinator.forecast import Forecast
from coordinator.model import DistrictModel, FloatArray
from coordinator.optimiser import LiveState, Plan
from coordinator.optimiser._formulation import initial_levels
from coordinator.optimiser._shared import configuration_shared_kwh
from coordinator.optimiser._windows import earliest_schedule, load_runs

__all__ = ["Outcome", "counterfactual", "execute_plan", "settle"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened (or would have) over a period: flows and money."""

    grid_import_kw: FloatArray
    """[site, step]"""
    grid_export_kw: FloatArray
    battery_kw: FloatArray
    """[battery, step] positive = discharging."""
    shared_energy_kwh: FloatArray
    """[hour]"""
    import_cost_eur: float
    export_revenue_eur: float
    incentive_eur: float
    wear_eur: float
    battery_soc_end_pct: FloatArray | None = None
    """[battery] SOC at the end (counterfactual only: a plan's own schedule says it)."""

    @property
    def cost_eur(self) -> float:
        """Import cost - export revenue - incentive + battery wear."""
        return self.import_cost_eur - self.export_revenue_eur - self.incentive_eur + self.wear_eur

    @property
    def shared_kwh(self) -> float:
        return float(self.shared_energy_kwh.sum())


def settle(model: DistrictModel, *, start_ms: int, net_kw: FloatArray, battery_kw: FloatArray) -> Outcome:
    """Grid flows from each site's net demand (after its assets) and their money.

    Export above the connection limit is curtailed; import is whatever the site needs.
    """
    steps = net_kw.shape[1]
    dt = model.step_h
    times = model.step_times_ms(start_ms, steps)
    p_imp, p_exp, _ = model.prices(times)
    imp = np.maximum(net_kw, 0.0)
    exp = np.minimum(np.maximum(-net_kw, 0.0), model.export_limit_kw[:, None])
    hour_keys, hour = np.unique(times // 3_600_000, return_inverse=True)
    rates = model.shared_rates((hour_keys * 3_600_000).astype(np.int64))
    by_cfg = configuration_shared_kwh(imp, exp, hour.astype(np.int64), hour_keys.size, dt,
                                      model.site_configuration, rates.shape[0])
    shared = by_cfg.sum(axis=0)
    wear = float((np.maximum(battery_kw, 0.0) * dt * model.batteries.wear_eur_per_kwh[:, None]).sum())
    return Outcome(
        grid_import_kw=imp, grid_export_kw=exp, battery_kw=battery_kw, shared_energy_kwh=shared,
        import_cost_eur=float((imp * p_imp).sum() * dt), export_revenue_eur=float((exp * p_exp).sum() * dt),
        incentive_eur=float((rates * by_cfg).sum()), wear_eur=wear,
    )


def _local_loads_kw(model: DistrictModel, state: LiveState, *, start_ms: int, steps: int) -> FloatArray:
    """[site, step] flexible loads at earliest start plus pumps at the demand rate."""
    dt = model.step_h
    runs = load_runs(model, state, start_ms=start_ms, steps=steps)
    flex = earliest_schedule(runs, loads=model.loads.count, steps=steps, dt_h=dt)
    out = np.zeros((model.n_sites, steps))
    np.add.at(out, model.loads.site_index, flex)
    tanks = model.tanks
    flow = np.minimum(tanks.demand_m3h, tanks.pump_max_m3h)
    np.add.at(out, tanks.site_index, (flow * tanks.pump_kw_per_m3h)[:, None] * np.ones((1, steps)))
    return out


def counterfactual(model: DistrictModel, actual: Forecast, state: LiveState | None = None) -> Outcome:
    """Each site on its own: its battery only for its own self-consumption."""
    state = state or LiveState()
    steps = actual.steps
    dt = model.step_h
    net = actual.load_kw - actual.pv_kw + _local_loads_kw(model, state, start_ms=actual.start_ms, steps=steps)
    b = model.batteries
    soc, _ = initial_levels(model, state)
    battery = np.zeros((b.count, steps))
    # Batteries of one site take turns on the site's remaining net demand.
    rank = np.zeros(b.count, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, s in enumerate(b.site_index):
        rank[i] = seen.get(int(s), 0)
        seen[int(s)] = rank[i] + 1
    for level in range(int(rank.max()) + 1 if b.count else 0):
        idx = np.flatnonzero(rank == level)
        site = b.site_index[idx]
        for t in range(steps):
            need = net[site, t]
            dis = np.minimum(np.maximum(need, 0.0), np.minimum(
                b.discharge_kw[idx], np.maximum(soc[idx] - b.soc_min_kwh[idx], 0.0)
                * b.discharge_efficiency[idx] / dt))
            room_kwh = np.maximum(b.soc_max_kwh[idx] - soc[idx], 0.0)
            ch = np.minimum(np.maximum(-need, 0.0), np.minimum(
                b.charge_kw[idx], room_kwh / (b.charge_efficiency[idx] * dt)))
            soc[idx] += dt * (b.charge_efficiency[idx] * ch - dis / b.discharge_efficiency[idx])
            battery[idx, t] = dis - ch
            np.add.at(net[:, t], site, ch - dis)
    out = settle(model, start_ms=actual.start_ms, net_kw=net, battery_kw=battery)
    soc_pct = np.divide(100.0 * soc, b.capacity_kwh, out=np.zeros(b.count), where=b.capacity_kwh > 0)
    return replace(out, battery_soc_end_pct=soc_pct)


def execute_plan(model: DistrictModel, plan: Plan, actual: Forecast) -> Outcome:
    """The plan's asset schedules applied to what actually happened; the grid takes the difference."""
    if plan.start_ms != actual.start_ms or plan.steps != actual.steps:
        raise ValueError("the plan and the actual series must cover the same steps")
    net = actual.load_kw - actual.pv_kw
    b = model.batteries
    index = {(model.site_ids[s], bid): i for i, (s, bid) in enumerate(zip(b.site_index, b.ids, strict=True))}
    battery = np.zeros((b.count, plan.steps))
    for a in plan.assets:
        s = model.site_index(a.site)
        if a.kind == "battery":
            net[s] -= a.power_kw
            battery[index[(a.site, a.asset_id)]] = a.power_kw
        else:
            net[s] += a.power_kw
    return settle(model, start_ms=plan.start_ms, net_kw=net, battery_kw=battery)
