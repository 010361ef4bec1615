"""Load forecast: the same weekday's profile over recent weeks, recent weeks weighing more."""

from __future__ import annotations

import warnings

import numpy as np

from coordinator.forecast._history import SiteHistory
from coordinator.model import FloatArray

__all__ = ["persistence", "weekday_profile"]

_WEEK_MS = 7 * 86_400_000
_DAY_MS = 86_400_000


def weekday_profile(history: SiteHistory, values: FloatArray, *, start_ms: int, steps: int,
                    weeks: int = 4, decay: float = 0.6) -> FloatArray:
    """[site, step]: for each target time, the weighted mean of the same time 1..``weeks`` weeks
    earlier with weight ``decay**(k-1)``; NaN where none of them was measured.

    Weeks are taken in UTC, so across a DST change the profile is an hour off for a week.
    """
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    base = (start_ms - history.start_ms) // history.step_ms + np.arange(steps)
    k = np.arange(1, weeks + 1)
    idx = base[None, :] - (k * (_WEEK_MS // history.step_ms))[:, None]  # [week, step]
    past = history.lookup(values, idx)  # [site, week, step]
    w = (decay ** (k - 1))[None, :, None] * np.isfinite(past)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nansum(np.nan_to_num(past) * w, axis=1) / total
    return np.where(total > 0, mean, np.nan)


def persistence(history: SiteHistory, values: FloatArray, *, start_ms: int, steps: int) -> FloatArray:
    """[site, step]: the same time of day on the latest measured day (up to a week back),
    else the site's last measured value, else 0."""
    base = (start_ms - history.start_ms) // history.step_ms + np.arange(steps)
    out = np.full((values.shape[0], steps), np.nan)
    for days in range(1, 8):
        idx = base - days * (_DAY_MS // history.step_ms)
        # Only days already in the past at planning time.
        idx = np.where(idx < (start_ms - history.start_ms) // history.step_ms, idx, -1)
        out = np.where(np.isnan(out), history.lookup(values, idx), out)
    last = np.zeros(values.shape[0])
    for s in range(values.shape[0]):
        known = np.flatnonzero(np.isfinite(values[s]))
        if known.size:
            last[s] = values[s, known[-1]]
    return np.where(np.isnan(out), last[:, None], out)
