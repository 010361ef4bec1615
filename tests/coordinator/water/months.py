"""A month of realistic 1-minute flow for leak tests: the simulator's series, made noisy.

``simulator_month`` takes nzd.series' industrial demand (two shifts on workdays, a
low base flow at night and at weekends) and adds meter noise and the odd burst of
night use (cleaning, a tank top-up); ``quiet_month`` is a plant whose nights drop
to zero. Both can carry a leak that starts at a given time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from nzd.series import water_flow_m3h

ROME = "Europe/Rome"
START = datetime(2026, 10, 5, tzinfo=ZoneInfo(ROME))  # a Monday, after the October DST change
FloatArray = npt.NDArray[np.float64]


def local_s(day: int, hour: float) -> float:
    """Epoch seconds of ``hour`` o'clock on day ``day`` (1 = START) of the month."""
    d = START.date() + timedelta(days=day - 1)
    base = datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(ROME))
    return base.timestamp() + hour * 3600


def _grid(days: int, step_s: int) -> FloatArray:
    return START.timestamp() + np.arange(days * 86_400 // step_s, dtype=np.float64) * step_s


def _bursts(t: FloatArray, rng: np.random.Generator, *, per_day: float, flow_m3h: float) -> FloatArray:
    """Short bursts (2-10 min) of extra flow at random times."""
    extra = np.zeros_like(t)
    step = float(t[1] - t[0])
    for start in rng.uniform(t[0], t[-1], size=int(per_day * (t[-1] - t[0]) / 86_400)):
        length = rng.uniform(120, 600)
        extra[(t >= start) & (t < start + max(length, step))] += flow_m3h
    return extra


def simulator_month(*, days: int = 30, step_s: int = 60, daily_m3: float = 240.0, leak_m3h: float = 0.0,
                    leak_from_s: float | None = None, seed: int = 7) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    t = _grid(days, step_s)
    flow = water_flow_m3h(t, daily_m3=daily_m3, pattern="industrial", tz=ROME)
    flow = flow * (1 + 0.08 * rng.standard_normal(t.size)) + _bursts(t, rng, per_day=3, flow_m3h=6.0)
    if leak_from_s is not None:
        flow[t >= leak_from_s] += leak_m3h
    return t, np.clip(flow, 0.0, None)


def quiet_month(*, days: int = 30, step_s: int = 60, leak_m3h: float = 0.0, leak_from_s: float | None = None,
                seed: int = 11) -> tuple[FloatArray, FloatArray]:
    """Production 06:00-22:00 on workdays at about 15 m3/h; nights and weekends near zero."""
    rng = np.random.default_rng(seed)
    t = _grid(days, step_s)
    local = [datetime.fromtimestamp(x, ZoneInfo(ROME)) for x in t[:: 3600 // step_s]]
    hourly_on = np.array([d.weekday() < 5 and 6 <= d.hour < 22 for d in local])
    on = np.repeat(hourly_on, 3600 // step_s)[: t.size]
    flow = np.where(on, 15.0 * (1 + 0.15 * rng.standard_normal(t.size)), rng.uniform(0, 0.03, t.size))
    flow = flow + _bursts(t, rng, per_day=1, flow_m3h=2.0)
    if leak_from_s is not None:
        flow[t >= leak_from_s] += leak_m3h
    return t, np.clip(flow, 0.0, None)
