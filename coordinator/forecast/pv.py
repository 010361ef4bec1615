"""PV forecast: each site's clear-sky output (pvlib) scaled by its recent yield."""

from __future__ import annotations

import warnings

import numpy as np

from coordinator.forecast._history import SiteHistory
from coordinator.model import DistrictModel, FloatArray, IntArray

__all__ = ["clear_sky_kw", "pv_forecast", "recent_yield"]

PERFORMANCE_RATIO = 0.86
"""AC output per kWp at 1000 W/m² on the modules (losses of inverter, wiring, heat, soiling)."""
DEFAULT_YIELD = 0.7
"""Share of the clear-sky output expected when a site has no PV history: a typical mix of days."""


def clear_sky_kw(model: DistrictModel, times_ms: IntArray) -> FloatArray:
    """[site, step] AC power of each site's PV under a clear sky, at the middle of each step."""
    import pandas as pd
    import pvlib

    mid = pd.to_datetime(np.asarray(times_ms) + model.step_minutes * 30_000, unit="ms", utc=True)
    out = np.zeros((model.n_sites, len(mid)))
    if model.pv.site_index.size == 0:
        return out
    location = pvlib.location.Location(model.latitude, model.longitude, tz="UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pvlib's own pandas deprecations
        solpos = location.get_solarposition(mid)
        # Simplified Solis needs no turbidity data file: nothing is fetched at run time.
        sky = location.get_clearsky(mid, model="simplified_solis", solar_position=solpos)
    zenith = solpos["apparent_zenith"].to_numpy()
    azimuth = solpos["azimuth"].to_numpy()
    ghi, dni, dhi = (np.nan_to_num(sky[c].to_numpy()) for c in ("ghi", "dni", "dhi"))
    pv = model.pv
    for tilt, az in {(float(t), float(a)) for t, a in zip(pv.tilt_deg, pv.azimuth_deg, strict=True)}:
        poa = pvlib.irradiance.get_total_irradiance(tilt, az, zenith, azimuth, dni, ghi, dhi,
                                                    model="isotropic")["poa_global"]
        per_kwp = np.clip(np.nan_to_num(np.asarray(poa, np.float64)), 0, None) / 1000.0 * PERFORMANCE_RATIO
        same = np.flatnonzero((pv.tilt_deg == tilt) & (pv.azimuth_deg == az))
        np.add.at(out, pv.site_index[same], pv.kwp[same][:, None] * np.minimum(per_kwp, 1.0)[None, :])
    return out


def recent_yield(model: DistrictModel, history: SiteHistory, *, end_ms: int, days: int = 3) -> FloatArray:
    """[site] measured PV energy over the last ``days`` days / clear-sky energy over the same
    intervals (only intervals with a measurement count); DEFAULT_YIELD without history."""
    start = end_ms - days * 86_400_000
    steps = days * 1440 // history.step_minutes
    _, measured = history.window(start, steps)
    times = start + np.arange(steps, dtype=np.int64) * history.step_ms
    clear = clear_sky_kw(model, times)
    ok = np.isfinite(measured)
    got = np.where(ok, measured, 0.0).sum(axis=1)
    expected = np.where(ok, clear, 0.0).sum(axis=1)
    ratio = np.divide(got, expected, out=np.full(model.n_sites, DEFAULT_YIELD), where=expected > 1e-6)
    return np.clip(ratio, 0.0, 1.2)


def pv_forecast(model: DistrictModel, history: SiteHistory | None, *, start_ms: int, steps: int,
                days: int = 3) -> FloatArray:
    """[site, step] clear-sky shape x recent yield."""
    times = model.step_times_ms(start_ms, steps)
    clear = clear_sky_kw(model, times)
    if history is None:
        return clear * DEFAULT_YIELD
    return clear * recent_yield(model, history, end_ms=start_ms, days=days)[:, None]
