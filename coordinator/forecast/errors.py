"""Forecast errors measured on held-out history: MAE and normalised MAE."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coordinator.forecast._forecast import Method, forecast_district
from coordinator.forecast._history import SiteHistory
from coordinator.model import DistrictModel, FloatArray

__all__ = ["ForecastError", "backtest", "mae", "nmae"]


def mae(forecast: FloatArray, actual: FloatArray) -> float:
    """Mean absolute error over the entries where the actual value is known."""
    ok = np.isfinite(actual)
    return float(np.abs(forecast[ok] - actual[ok]).mean()) if ok.any() else float("nan")


def nmae(forecast: FloatArray, actual: FloatArray) -> float:
    """MAE divided by the mean absolute actual value (0.2 = off by 20 % of a typical value)."""
    ok = np.isfinite(actual)
    scale = float(np.abs(actual[ok]).mean()) if ok.any() else 0.0
    return mae(forecast, actual) / scale if scale > 0 else float("nan")


@dataclass(frozen=True, slots=True)
class ForecastError:
    method: str
    days: int
    load_mae_kw: float
    load_nmae: float
    pv_mae_kw: float
    pv_nmae: float


def backtest(model: DistrictModel, history: SiteHistory, *, days: int = 7, method: Method = "auto"
             ) -> ForecastError:
    """Forecast each of the last ``days`` days from what was known before it; compare with the actuals."""
    if days < 1 or days * 86_400_000 >= history.end_ms - history.start_ms:
        raise ValueError(f"need more than {days} days of history to hold {days} out")
    steps = 1440 // model.step_minutes
    f_load, f_pv, a_load, a_pv = [], [], [], []
    for d in range(days, 0, -1):
        start = history.end_ms - d * 86_400_000
        fc = forecast_district(model, history.before(start), start_ms=start, steps=steps, method=method)
        load, pv = history.window(start, steps)
        f_load.append(fc.load_kw)
        f_pv.append(fc.pv_kw)
        a_load.append(load)
        a_pv.append(pv)
    fl, fp, al, ap = (np.concatenate(v, axis=1) for v in (f_load, f_pv, a_load, a_pv))
    return ForecastError(method=method, days=days, load_mae_kw=mae(fl, al), load_nmae=nmae(fl, al),
                         pv_mae_kw=mae(fp, ap), pv_nmae=nmae(fp, ap))
