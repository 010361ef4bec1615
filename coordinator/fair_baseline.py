"""The fair baseline: each firm plans alone, with the same optimiser and forecasts, on its own assets.

What a firm would do without the district: the same planner, on its own site only, with
no community incentive in its objective (alone it shares with nobody), and ending the
day with its batteries and tanks where the coordinated plan ended them (so neither side
gains by emptying storage). The district's flows of that baseline are then settled by the
same rules: energy that happens to be shared is still paid. A shared battery is planned
by the site that hosts it. The do-nothing counterfactual (coordinator/counterfactual.py)
is kept beside it; savings are reported against both, named.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from coordinator.counterfactual import Outcome, settle
from coordinator.forecast import Forecast
from coordinator.model import DistrictModel, FloatArray
from coordinator.optimiser import AssetKind, LiveState, Plan, PlanOptions, plan_district

__all__ = ["FairBaseline", "end_levels", "fair_baseline", "site_model"]


@dataclass(frozen=True, slots=True)
class FairBaseline:
    outcome: Outcome
    battery_soc_end_pct: dict[tuple[str, str], float]
    tank_level_end_pct: dict[tuple[str, str], float]
    statuses: dict[str, str]
    """Site id -> the status of its own plan."""


def _select(arrays: Any, idx: np.ndarray) -> Any:
    """One asset kind's arrays restricted to ``idx``, all on site 0 of a one-site model."""
    count = len(arrays.ids)
    changes: dict[str, object] = {}
    for f in fields(arrays):
        value = getattr(arrays, f.name)
        if f.name == "site_index":
            changes[f.name] = np.zeros(idx.size, np.int64)
        elif f.name == "shares":
            changes[f.name] = np.ones((idx.size, 1))  # planned by its host alone
        elif isinstance(value, np.ndarray) and value.shape[:1] == (count,):
            changes[f.name] = value[idx]
        elif isinstance(value, tuple) and len(value) == count:
            changes[f.name] = tuple(value[i] for i in idx)
    return replace(arrays, **changes)


def site_model(model: DistrictModel, site: int) -> DistrictModel:
    """The district reduced to one firm and its own assets, with no community incentive."""
    keep = slice(site, site + 1)
    return replace(
        model, site_ids=(model.site_ids[site],),
        import_limit_kw=model.import_limit_kw[keep], export_limit_kw=model.export_limit_kw[keep],
        pv=_select(model.pv, np.flatnonzero(model.pv.site_index == site)),
        batteries=_select(model.batteries, np.flatnonzero(model.batteries.site_index == site)),
        loads=_select(model.loads, np.flatnonzero(model.loads.site_index == site)),
        tanks=_select(model.tanks, np.flatnonzero(model.tanks.site_index == site)),
        import_eur_per_kwh=model.import_eur_per_kwh[keep], export_eur_per_kwh=model.export_eur_per_kwh[keep],
        emission_g_per_kwh=model.emission_g_per_kwh[keep], peak_eur_per_kw=model.peak_eur_per_kw[keep],
        incentive_eur_per_kwh=0.0, configuration_of_site=np.zeros(1, np.int64),
        shared_eur_per_kwh_by_hour=np.zeros((1, 24)),
        load_profiles=model.load_profiles[keep] if model.load_profiles else (),
        annual_load_kwh=None if model.annual_load_kwh is None else model.annual_load_kwh[keep],
    )


def end_levels(plan: Plan) -> LiveState:
    """Where a plan leaves each battery and tank, as end targets for another plan."""
    bats = {(a.site, a.asset_id): float(np.clip(a.level_pct[-1], 0, 100)) for a in plan.assets
            if a.kind is AssetKind.BATTERY and a.level_pct is not None}
    tanks = {(a.site, a.asset_id): float(np.clip(a.level_pct[-1], 0, 100)) for a in plan.assets
             if a.kind is AssetKind.TANK and a.level_pct is not None}
    return LiveState(battery_soc_end_min_pct=bats, tank_level_end_min_pct=tanks)


def fair_baseline(model: DistrictModel, forecast: Forecast, actual: Forecast, *,
                  state: LiveState | None = None, end: LiveState | None = None,
                  options: PlanOptions | None = None) -> FairBaseline:
    """Each firm's own plan on ``forecast`` executed against ``actual``; ``end`` holds the end targets."""
    state = state or LiveState()
    if end is not None:
        state = replace(state, battery_soc_end_min_pct=end.battery_soc_end_min_pct,
                        tank_level_end_min_pct=end.tank_level_end_min_pct)
    net: FloatArray = actual.load_kw - actual.pv_kw
    b = model.batteries
    battery = np.zeros((b.count, actual.steps))
    socs: dict[tuple[str, str], float] = {}
    levels: dict[tuple[str, str], float] = {}
    statuses: dict[str, str] = {}
    active = np.zeros(model.n_sites, np.bool_)
    for index in (b.site_index, model.loads.site_index, model.tanks.site_index):
        active[index] = True
    for s in np.flatnonzero(active):
        sub = site_model(model, int(s))
        fc = replace(forecast, load_kw=forecast.load_kw[s:s + 1], pv_kw=forecast.pv_kw[s:s + 1])
        plan = plan_district(sub, fc, state, start_ms=forecast.start_ms, options=options)
        statuses[model.site_ids[s]] = str(plan.status)
        for a in plan.assets:
            key = (a.site, a.asset_id)
            if a.kind is AssetKind.BATTERY:
                net[s] -= a.power_kw
                i = next(i for i in range(b.count) if b.ids[i] == a.asset_id and b.site_index[i] == s)
                battery[i] = a.power_kw
                socs[key] = float(np.clip(a.level_pct[-1], 0, 100))  # type: ignore[index]
            else:
                net[s] += a.power_kw
                if a.kind is AssetKind.TANK:
                    levels[key] = float(np.clip(a.level_pct[-1], 0, 100))  # type: ignore[index]
    outcome = settle(model, start_ms=actual.start_ms, net_kw=net, battery_kw=battery)
    return FairBaseline(outcome=outcome, battery_soc_end_pct=socs, tank_level_end_pct=levels,
                        statuses=statuses)
