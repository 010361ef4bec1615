"""Minimum night flow (MNF) per meter and its rolling baseline: pure functions over arrays.

A night is the meter's quiet window (the firm's non-production hours, local time
of the district, possibly spanning midnight). Its minimum night flow is the lowest
mean flow over any rolling hour that lies entirely inside the window. A night is
flagged when its MNF exceeds the baseline (median MNF of the previous unflagged
nights, up to seven) by the margin. Flagged nights stay out of the baseline, so a
leak that persists does not become the new normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = ["NightFlow", "NightFlowSettings", "analyse_nights", "night_windows", "rolling_hour_minimum"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class NightFlowSettings:
    window_s: int = 3600
    """Length of the rolling window whose lowest mean is the night's minimum."""
    baseline_nights: int = 7
    min_baseline_nights: int = 3
    """Fewer clean nights than this: no baseline, no alert (a new meter learns first)."""
    margin_m3h: float = 0.2
    """Absolute margin: a quiet factory's baseline is near zero, so a relative one alone won't do."""
    margin_fraction: float = 0.25
    """Relative margin on top of the absolute one."""
    max_gap_s: int = 900
    """A rolling window with a longer gap between samples is not used."""

    def threshold_m3h(self, baseline_m3h: float) -> float:
        return baseline_m3h * (1.0 + self.margin_fraction) + self.margin_m3h


@dataclass(frozen=True, slots=True)
class NightFlow:
    night: date
    """The local date on which the quiet window starts."""
    start_s: float
    end_s: float
    min_flow_m3h: float | None
    """None when the night has no complete rolling window (missing data)."""
    baseline_m3h: float | None
    threshold_m3h: float | None
    leak: bool


def _parse_hhmm(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def night_windows(
    *, start_s: float, end_s: float, quiet_start: str, quiet_end: str, timezone: str
) -> list[tuple[date, float, float]]:
    """Quiet windows ``(night, start_s, end_s)`` that lie entirely within ``[start_s, end_s]``."""
    tz = ZoneInfo(timezone)
    t0, t1 = _parse_hhmm(quiet_start), _parse_hhmm(quiet_end)
    spans_midnight = t1 <= t0
    first = datetime.fromtimestamp(start_s, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_s, tz).date()
    out: list[tuple[date, float, float]] = []
    day = first
    while day <= last:
        w0 = datetime.combine(day, t0, tz).timestamp()
        w1 = datetime.combine(day + timedelta(days=1) if spans_midnight else day, t1, tz).timestamp()
        if w0 >= start_s and w1 <= end_s:
            out.append((day, w0, w1))
        day += timedelta(days=1)
    return out


def rolling_hour_minimum(
    times_s: FloatArray, flow_m3h: FloatArray, *, start_s: float, end_s: float,
    window_s: int = 3600, max_gap_s: int = 900,
) -> float | None:
    """Lowest mean flow over a ``window_s`` window inside ``[start_s, end_s]``; None without one.

    Samples are taken as they come (e.g. per-minute means); a window counts only if its
    samples reach from its start to its end without a gap longer than ``max_gap_s``.
    """
    sel = (times_s >= start_s) & (times_s <= end_s) & np.isfinite(flow_m3h)
    t = times_s[sel]
    f = flow_m3h[sel]
    if t.size < 2:
        return None
    order = np.argsort(t, kind="stable")
    t, f = t[order], f[order]
    csum = np.concatenate(([0.0], np.cumsum(f)))
    big_gap = np.concatenate(([0], np.cumsum(np.diff(t) > max_gap_s)))
    # Window ending at sample i holds the samples in (t_i - window_s, t_i].
    lo = np.searchsorted(t, t - window_s, side="right")
    idx = np.arange(t.size)
    count = idx - lo + 1
    complete = (t - window_s >= start_s - 1e-6) & (t[lo] - (t - window_s) <= max_gap_s)
    no_gap = big_gap[idx] - big_gap[lo] == 0
    valid = complete & no_gap & (count >= 2)
    if not valid.any():
        return None
    means = (csum[idx + 1] - csum[lo]) / count
    return float(means[valid].min())


def analyse_nights(
    times_s: FloatArray, flow_m3h: FloatArray, *, quiet_start: str, quiet_end: str, timezone: str,
    settings: NightFlowSettings | None = None,
) -> list[NightFlow]:
    """Every complete quiet window in the series, oldest first, with MNF, baseline and leak flag."""
    cfg = settings or NightFlowSettings()
    times_s = np.asarray(times_s, dtype=np.float64)
    flow_m3h = np.asarray(flow_m3h, dtype=np.float64)
    if times_s.shape != flow_m3h.shape:
        raise ValueError(f"times_s and flow_m3h differ in shape: {times_s.shape} vs {flow_m3h.shape}")
    if times_s.size == 0:
        return []
    windows = night_windows(start_s=float(times_s.min()), end_s=float(times_s.max()),
                            quiet_start=quiet_start, quiet_end=quiet_end, timezone=timezone)
    clean: list[float] = []
    out: list[NightFlow] = []
    for night, w0, w1 in windows:
        mnf = rolling_hour_minimum(times_s, flow_m3h, start_s=w0, end_s=w1,
                                   window_s=cfg.window_s, max_gap_s=cfg.max_gap_s)
        recent = clean[-cfg.baseline_nights:]
        baseline = float(np.median(recent)) if len(recent) >= cfg.min_baseline_nights else None
        threshold = cfg.threshold_m3h(baseline) if baseline is not None else None
        leak = mnf is not None and threshold is not None and mnf > threshold
        if mnf is not None and not leak:
            clean.append(mnf)
        out.append(NightFlow(night=night, start_s=w0, end_s=w1, min_flow_m3h=mnf,
                             baseline_m3h=baseline, threshold_m3h=threshold, leak=leak))
    return out
