"""Water demand: diurnal patterns for a process plant and for homes, and a night leak.

Hourly factors (mean 1.0 over a day) are typical values of the kind water
utilities publish for demand modelling: homes peak in the morning and evening,
a two-shift textile finishing plant draws from 06:00 to 22:00 on workdays. A
leak is a constant flow on top of demand; it shows in the night minimum.
"""

from __future__ import annotations

import numpy as np

from nzd.series._time import FloatArray, Times, as_epoch_s, local_fields

__all__ = ["WATER_PATTERNS", "cumulative_m3", "water_flow_m3h"]

_RESIDENTIAL = np.array([
    0.45, 0.35, 0.30, 0.30, 0.35, 0.60, 1.20, 1.75, 1.60, 1.35, 1.20, 1.15,
    1.20, 1.10, 1.00, 0.95, 1.00, 1.15, 1.40, 1.55, 1.40, 1.15, 0.85, 0.60,
])
_INDUSTRIAL_WORKDAY = np.array([
    0.15, 0.15, 0.15, 0.15, 0.15, 0.60, 1.50, 1.70, 1.70, 1.70, 1.65, 1.55,
    1.45, 1.60, 1.70, 1.70, 1.65, 1.60, 1.50, 1.45, 1.40, 1.20, 0.60, 0.20,
])
_INDUSTRIAL_WEEKEND = np.full(24, 0.15)

WATER_PATTERNS = ("industrial", "residential")


def _week_table(pattern: str) -> np.ndarray:
    """[weekday 0..6, hour] factors scaled so that the weekly mean is 1.0."""
    if pattern == "residential":
        table = np.tile(_RESIDENTIAL, (7, 1))
    elif pattern == "industrial":
        table = np.vstack([_INDUSTRIAL_WORKDAY] * 5 + [_INDUSTRIAL_WEEKEND] * 2)
    else:
        raise ValueError(f"unknown water pattern {pattern!r}; choose one of {', '.join(WATER_PATTERNS)}")
    return table / table.mean()


def water_flow_m3h(times: Times, *, daily_m3: float, pattern: str = "industrial",
                   leak_m3h: float = 0.0, leak_hours: tuple[float, float] | None = None,
                   tz: str = "Europe/Rome") -> FloatArray:
    """Flow in m³/h at ``times``: ``daily_m3`` on an average day (weekly mean) plus ``leak_m3h``.

    ``leak_hours`` (local, start and end, may wrap midnight, e.g. ``(22, 6)``) limits the
    leak to a window, such as a valve left open overnight; None: the leak never stops.
    Hourly factors are interpolated between hour centres so the flow is smooth.
    """
    if daily_m3 < 0 or leak_m3h < 0:
        raise ValueError("daily_m3 and leak_m3h must not be negative")
    table = _week_table(pattern)
    hour, weekday, _, _, _ = local_fields(as_epoch_s(times), tz)
    pos = hour - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    wd = weekday - 1
    factor = (1.0 - frac) * table[wd, np.mod(lo, 24)] + frac * table[wd, np.mod(lo + 1, 24)]
    leak = np.full_like(hour, leak_m3h)
    if leak_hours is not None:
        start, end = leak_hours
        inside = (hour >= start) & (hour < end) if start <= end else (hour >= start) | (hour < end)
        leak = np.where(inside, leak_m3h, 0.0)
    return np.asarray(factor * daily_m3 / 24.0 + leak, dtype=np.float64)


def cumulative_m3(times: Times, flow_m3h: FloatArray, *, start_m3: float = 0.0) -> FloatArray:
    """A totaliser: trapezoidal integral of ``flow_m3h`` over ``times`` from ``start_m3``."""
    t = as_epoch_s(times)
    flow = np.asarray(flow_m3h, dtype=np.float64)
    if t.shape != flow.shape:
        raise ValueError("times and flow_m3h must have the same length")
    if t.size == 0:
        return np.empty(0)
    steps = np.diff(t) / 3600.0 * (flow[1:] + flow[:-1]) / 2.0
    return start_m3 + np.concatenate(([0.0], np.cumsum(steps)))
