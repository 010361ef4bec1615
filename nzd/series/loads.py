"""Electricity consumption from the BDEW standard load profiles that demandlib ships.

The 1999 BDEW profiles (h0 household, g0-g6 commercial, l0-l2 agriculture) give a
quarter-hour shape per season (winter, transition, summer) and day type. We read
demandlib's table directly so that a value at any instant costs an array lookup,
and interpolate between quarter-hour centres so that second-resolution series
are smooth. g1 (workdays 8-18) and g3 (continuous) fit small factories.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Collection
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from nzd.series._time import FloatArray, Times, as_epoch_s, local_fields

__all__ = ["LOAD_PROFILES", "load_profile_w", "load_shape"]

LOAD_PROFILES = ("h0", "g0", "g1", "g2", "g3", "g4", "g5", "g6", "l0", "l1", "l2")
_PERIODS = {"winter": 0, "transition": 1, "summer": 2}
_REFERENCE_YEAR = 2025


def _data_file() -> Path:
    import demandlib.bdew

    return Path(demandlib.bdew.__file__).parent / "bdew_data" / "selp_series.csv"


@functools.cache
def _table() -> dict[str, np.ndarray]:
    """profile -> array [period, weekday 0..6 (Mon..Sun), quarter hour 0..95]."""
    tables = {p: np.zeros((3, 7, 96)) for p in LOAD_PROFILES}
    with _data_file().open(newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            stamp = row[""]
            quarter = int(stamp[11:13]) * 4 + int(stamp[14:16]) // 15
            period = _PERIODS[row["period"]]
            weekday = int(row["weekday"]) - 1
            for p in LOAD_PROFILES:
                tables[p][period, weekday, quarter] = float(row[p])
    return tables


def _period(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    md = month * 100 + day
    summer = (md >= 515) & (md <= 914)
    transition = ((md >= 321) & (md <= 514)) | ((md >= 915) & (md <= 1031))
    return np.where(summer, 2, np.where(transition, 1, 0))


def _h0_dynamisation(doy: np.ndarray) -> np.ndarray:
    t = doy + 1.0
    return -3.916649251e-10 * t**4 + 3.2e-7 * t**3 - 7.02e-5 * t**2 + 0.0021 * t + 1.24


def _raw(profile: str, epoch_s: FloatArray, tz: str, holidays: Collection[date]) -> FloatArray:
    table = _table()[profile]
    hour, weekday, doy, month, day = local_fields(epoch_s, tz)
    if holidays:
        import pandas as pd

        local_dates = pd.to_datetime(epoch_s, unit="s", utc=True).tz_convert(tz).date
        is_holiday = np.array([d in holidays for d in local_dates], dtype=bool)
        weekday = np.where(is_holiday, 7, weekday)
    period = _period(month, day)
    # quarter-hour values are means over their quarter: interpolate between centres
    pos = hour * 4.0 - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    lo_i = np.mod(lo, 96)
    hi_i = np.mod(lo + 1, 96)
    wd = weekday - 1
    values = (1.0 - frac) * table[period, wd, lo_i] + frac * table[period, wd, hi_i]
    if profile == "h0":
        values = values * _h0_dynamisation(doy)
    return np.asarray(values, dtype=np.float64)


@functools.cache
def _annual_mean(profile: str) -> float:
    start = datetime(_REFERENCE_YEAR, 1, 1, 0, 7, 30)
    quarters = np.arange(365 * 96, dtype=np.float64) * 900.0
    # UTC calendar for the reference year: the normalisation does not depend on a zone
    epoch = (start - datetime(1970, 1, 1)) / timedelta(seconds=1) + quarters
    return float(_raw(profile, epoch, "UTC", ()).mean())


def load_shape(profile: str, times: Times, *, tz: str = "Europe/Rome",
               holidays: Collection[date] = ()) -> FloatArray:
    """The profile's value at ``times`` relative to its annual mean (mean 1.0 over a year)."""
    if profile not in LOAD_PROFILES:
        raise ValueError(f"unknown load profile {profile!r}; choose one of {', '.join(LOAD_PROFILES)}")
    epoch_s = as_epoch_s(times)
    return _raw(profile, epoch_s, tz, holidays) / _annual_mean(profile)


def load_profile_w(profile: str, times: Times, *, annual_kwh: float, tz: str = "Europe/Rome",
                   holidays: Collection[date] = ()) -> FloatArray:
    """Active power in W of a consumer with ``annual_kwh`` per year following BDEW ``profile``.

    ``times`` are epoch seconds or aware datetimes; ``holidays`` (local dates) count as Sundays.
    """
    if annual_kwh < 0:
        raise ValueError("annual_kwh must not be negative")
    mean_w = annual_kwh * 1000.0 / 8760.0
    return load_shape(profile, times, tz=tz, holidays=holidays) * mean_w
