"""Load and PV forecasts per site over the planning horizon, and their measured errors.

Methods, robust and explainable first: the same weekday's profile with recent weeks
weighing more (load), a clear-sky shape scaled by the recent yield (PV),
persistence as the fallback. An external file can replace any entry.
"""

from coordinator.forecast._forecast import Method, forecast_district, override
from coordinator.forecast._history import SiteHistory
from coordinator.forecast._types import Forecast
from coordinator.forecast.errors import ForecastError, backtest, mae, nmae
from coordinator.forecast.external import ExternalForecastError, apply_external_file
from coordinator.forecast.profile import persistence, weekday_profile
from coordinator.forecast.pv import clear_sky_kw, pv_forecast, recent_yield

__all__ = [
    "ExternalForecastError",
    "Forecast",
    "ForecastError",
    "Method",
    "SiteHistory",
    "apply_external_file",
    "backtest",
    "clear_sky_kw",
    "forecast_district",
    "mae",
    "nmae",
    "override",
    "persistence",
    "pv_forecast",
    "recent_yield",
    "weekday_profile",
]
