"""Continuous-flow alarm: the flow has not dropped to zero for N hours (pure function).

A factory's water use stops at some point every day (night, weekend, a break
between batches); a meter that never reads zero for that long points to a leak,
a stuck valve or a running-over tank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ContinuousFlow", "ContinuousFlowSettings", "continuous_flow"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ContinuousFlowSettings:
    hours: float = 24.0
    """Alarm when the flow has stayed above ``zero_m3h`` for this long."""
    zero_m3h: float = 0.05
    """Flow at or below this counts as zero (meters creep and quantise)."""
    max_gap_s: int = 900
    """A longer gap between samples breaks the evidence: no alarm across it."""


@dataclass(frozen=True, slots=True)
class ContinuousFlow:
    flowing_since_s: float
    """Time of the first sample of the current uninterrupted run of flow."""
    hours: float
    """How long the run has lasted up to the last sample."""
    min_flow_m3h: float
    """The lowest flow seen during the run."""


def continuous_flow(
    times_s: FloatArray, flow_m3h: FloatArray, *, settings: ContinuousFlowSettings | None = None
) -> ContinuousFlow | None:
    """The run of non-zero flow that reaches the last sample, if it lasts ``hours`` or more."""
    cfg = settings or ContinuousFlowSettings()
    t = np.asarray(times_s, dtype=np.float64)
    f = np.asarray(flow_m3h, dtype=np.float64)
    if t.shape != f.shape:
        raise ValueError(f"times_s and flow_m3h differ in shape: {t.shape} vs {f.shape}")
    keep = np.isfinite(f) & np.isfinite(t)
    t, f = t[keep], f[keep]
    if t.size < 2:
        return None
    order = np.argsort(t, kind="stable")
    t, f = t[order], f[order]
    # The run starts after the last zero reading or the last gap, whichever is later.
    breaks = np.flatnonzero(f <= cfg.zero_m3h)
    start = int(breaks[-1]) + 1 if breaks.size else 0
    gaps = np.flatnonzero(np.diff(t) > cfg.max_gap_s)
    if gaps.size:
        start = max(start, int(gaps[-1]) + 1)
    if start >= t.size:
        return None
    hours = float(t[-1] - t[start]) / 3600.0
    if hours < cfg.hours:
        return None
    return ContinuousFlow(flowing_since_s=float(t[start]), hours=hours,
                          min_flow_m3h=float(f[start:].min()))
