"""The planner the service runs in production: forecast, then the district MILP (HiGHS).

Kept apart from the service so that the service can be tested with any planner,
and imported lazily (numpy, scipy) by :func:`optimiser_planner`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from coordinator.baselines import baseline_document, starts_local_day
from coordinator.dispatch import Target, controllable_assets
from coordinator.forecast import Forecast
from coordinator.model import DistrictModel
from coordinator.optimiser import LiveState, PlanOptions, plan_district
from coordinator.service._history import month_peak_kw
from coordinator.service._planning import Planner, PlanOutcome, PlanRequest

__all__ = ["Forecaster", "history_forecast", "optimiser_planner", "persistence_forecast"]

Forecaster = Callable[[DistrictModel, PlanRequest], Forecast]
"""Load and PV per site over the horizon starting at ``request.start_ms``."""


def persistence_forecast(model: DistrictModel, request: PlanRequest) -> Forecast:
    """The fallback forecast: each site's current grid import held flat, no PV counted on.

    Crude on purpose: it needs nothing but the live meters, so there is a plan even
    before any history is stored.
    """
    load = np.zeros((model.n_sites, model.horizon_steps))
    for site, power_w in request.snapshot.grid_power_w.items():
        if site in model.site_ids:
            load[model.site_index(site)] = max(power_w, 0.0) / 1000.0
    return Forecast(start_ms=request.start_ms, step_minutes=model.step_minutes, load_kw=load,
                    pv_kw=np.zeros_like(load), method="persistence")


def history_forecast(model: DistrictModel, request: PlanRequest) -> Forecast:
    """Same-weekday load profile and clear-sky PV from the stored history
    (:func:`coordinator.forecast.forecast_district`); without history, the live grid
    import held flat stands in for the load."""
    from coordinator.forecast import forecast_district, override

    forecast = forecast_district(model, request.history, start_ms=request.start_ms)
    if request.history is None and request.snapshot.grid_power_w:
        live = persistence_forecast(model, request)
        known = np.zeros(model.n_sites, dtype=bool)
        for site in request.snapshot.grid_power_w:
            if site in model.site_ids:
                known[model.site_index(site)] = True
        load = np.where(known[:, None], live.load_kw, np.nan)
        forecast = override(forecast, load_kw=load, source="live-persistence")
    return forecast


def optimiser_planner(*, options: PlanOptions | None = None, forecaster: Forecaster = history_forecast,
                      baselines: bool = True) -> Planner:
    """A :data:`Planner` that forecasts and solves one district MILP per request; with ``baselines``,
    the plan starting at local midnight also carries the day's baselines (coordinator/baselines.py)."""
    opts = options or PlanOptions()

    def plan(request: PlanRequest) -> PlanOutcome:
        model = DistrictModel.from_config(request.district)
        forecast = forecaster(model, request)
        registry_id = {a.key: (a.key.site, a.registry_id) for a in controllable_assets(request.district)}
        state = LiveState(
            battery_soc_pct=dict(request.snapshot.battery_soc_pct),
            tank_level_pct=dict(request.snapshot.tank_level_pct),
            load_delivered_kwh=dict(request.snapshot.load_delivered_kwh),
            load_running=request.snapshot.load_running,
            load_power_kw=dict(request.snapshot.load_power_kw),
            load_run_kwh=dict(request.snapshot.load_run_kwh),
            unavailable=frozenset(registry_id[k] for k in request.excluded if k in registry_id),
            month_peak_kw=month_peak_kw(request.history, request.district, at_ms=request.start_ms),
        )
        result = plan_district(model, forecast, state, start_ms=request.start_ms, options=opts)
        targets = [Target(v.site, v.asset, v.quantity, v.value) for v in result.first_setpoints()]
        document = result.to_document()
        document["forecast_method"] = forecast.method
        document["optimiser_plan_id"] = document.pop("plan_id", "")
        if baselines and starts_local_day(model, request.start_ms):
            # Once a day: the plan against both baselines on the same forecast (the service stores it).
            document["baselines"] = baseline_document(model, forecast, state, result, options=opts)
        return PlanOutcome(status=str(result.status), targets=targets, document=document)

    return plan
