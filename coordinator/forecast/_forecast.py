"""forecast_district: the forecast the planner uses, from history, with fallbacks and overrides."""

from __future__ import annotations

from typing import Literal

import numpy as np

from coordinator.forecast._history import SiteHistory
from coordinator.forecast._types import Forecast
from coordinator.forecast.profile import persistence, weekday_profile
from coordinator.forecast.pv import pv_forecast
from coordinator.model import DistrictModel, FloatArray

__all__ = ["Method", "forecast_district", "override"]

Method = Literal["auto", "persistence"]


def forecast_district(model: DistrictModel, history: SiteHistory | None, *, start_ms: int,
                      steps: int | None = None, method: Method = "auto") -> Forecast:
    """Load: same-weekday profile with recency weighting, persistence where it has no data.
    PV: clear-sky shape scaled by the recent yield. ``"persistence"``: yesterday for both."""
    steps = model.horizon_steps if steps is None else steps
    if history is not None:
        if history.load_kw.shape[0] != model.n_sites:
            raise ValueError(f"history has {history.load_kw.shape[0]} sites, the district {model.n_sites}")
        if history.step_minutes != model.step_minutes:
            raise ValueError(
                f"history step {history.step_minutes} min, district step {model.step_minutes} min")
    if history is None:
        load = np.zeros((model.n_sites, steps))
        return Forecast(start_ms=start_ms, step_minutes=model.step_minutes, load_kw=load,
                        pv_kw=pv_forecast(model, None, start_ms=start_ms, steps=steps), method="no-history")
    fallback = persistence(history, history.load_kw, start_ms=start_ms, steps=steps)
    if method == "persistence":
        pv = persistence(history, history.pv_kw, start_ms=start_ms, steps=steps)
        return Forecast(start_ms=start_ms, step_minutes=model.step_minutes, load_kw=np.maximum(fallback, 0.0),
                        pv_kw=np.maximum(pv, 0.0), method="persistence")
    profile = weekday_profile(history, history.load_kw, start_ms=start_ms, steps=steps)
    load = np.where(np.isnan(profile), fallback, profile)
    pv = pv_forecast(model, history, start_ms=start_ms, steps=steps)
    return Forecast(start_ms=start_ms, step_minutes=model.step_minutes, load_kw=np.maximum(load, 0.0),
                    pv_kw=pv, method="weekday-profile+clear-sky")


def override(forecast: Forecast, *, load_kw: FloatArray | None = None, pv_kw: FloatArray | None = None,
             source: str = "external") -> Forecast:
    """Replace the entries an external forecast gives (non-NaN) and keep the rest."""
    load = forecast.load_kw if load_kw is None else np.where(np.isnan(load_kw), forecast.load_kw, load_kw)
    pv = forecast.pv_kw if pv_kw is None else np.where(np.isnan(pv_kw), forecast.pv_kw, pv_kw)
    return Forecast(start_ms=forecast.start_ms, step_minutes=forecast.step_minutes, load_kw=load, pv_kw=pv,
                    method=f"{source}+{forecast.method}")
