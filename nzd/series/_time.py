"""Time handling shared by the series: epoch seconds in, local calendar fields out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "Times", "as_epoch_s", "local_fields", "time_grid"]

FloatArray = npt.NDArray[np.float64]
Times = Sequence[float] | Sequence[datetime] | npt.NDArray[np.float64] | float | datetime


def as_epoch_s(times: Times) -> FloatArray:
    """Epoch seconds (UTC) as a float array; accepts floats, aware datetimes or arrays of either."""
    if isinstance(times, np.ndarray):
        return times.astype(np.float64)
    items: list[float | datetime] = [times] if isinstance(times, datetime | float | int) else list(times)
    out = np.empty(len(items), dtype=np.float64)
    for i, t in enumerate(items):
        if isinstance(t, datetime):
            if t.tzinfo is None:
                raise ValueError("datetimes must be timezone-aware (UTC or local with tzinfo)")
            out[i] = t.timestamp()
        else:
            out[i] = float(t)
    return out


def local_fields(epoch_s: FloatArray, tz: str) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray,
                                                       npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per time: local hour of day (fractional), weekday (1 = Monday .. 7 = Sunday),
    day of year (fractional, from 0), month and day of month."""
    import pandas as pd

    idx = pd.to_datetime(epoch_s, unit="s", utc=True).tz_convert(tz)
    hour = (idx.hour + idx.minute / 60.0 + idx.second / 3600.0).to_numpy(dtype=np.float64)
    weekday = (idx.day_of_week + 1).to_numpy(dtype=np.int64)
    doy = (idx.day_of_year - 1 + hour / 24.0).to_numpy(dtype=np.float64)
    return hour, weekday, doy, idx.month.to_numpy(dtype=np.int64), idx.day.to_numpy(dtype=np.int64)


def time_grid(start: datetime, *, hours: float, step_s: float) -> FloatArray:
    """Epoch seconds from ``start`` (aware) over ``hours`` every ``step_s`` (end excluded)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    n = round(hours * 3600.0 / step_s)
    return start.timestamp() + np.arange(n, dtype=np.float64) * step_s
