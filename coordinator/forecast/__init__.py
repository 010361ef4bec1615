"""Load and PV forecasts per site over the planning horizon, and their measured errors."""

from coordinator.forecast._types import Forecast

__all__ = ["Forecast"]
