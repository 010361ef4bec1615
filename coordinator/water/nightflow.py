"""Minimum night flow (MNF) per meter and its rolling baseline: pure functions over arrays.

A night is the meter's quiet window (the firm's non-production hours, local time
of the district, possibly spanning midnight). Its minimum night flow is the lowest
mean flow over any rolling hour that lies entirely inside the window. A night is
flagged when its MNF exceeds the baseline (median MNF of the previous unflagged
nights of the same type, up to seven) by the margin. Flagged nights stay out of the
baseline, so a leak that persists does not become the new normal.

Nights come in three types, each with its own baseline: weekday nights, weekend
nights (starting on a Friday or Saturday: no production the morning after) and
declared night shifts. A weekend night without a baseline of its own yet is judged
against the weekday one; a night shift is not judged (unless ``judge_shift_nights``,
then against the shift baseline once it has one) and never enters the other baselines.
As in UKWIR's minimum-night-flow practice, the night leakage is the MNF less the
legitimate night use, times an hour-day factor.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = [
    "NightFlow",
    "NightFlowSettings",
    "NightType",
    "analyse_nights",
    "leakage_m3_per_day",
    "night_type",
    "night_windows",
    "rolling_hour_minimum",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class NightFlowSettings:
    window_s: int = 3600
    """Length of the rolling window whose lowest mean is the night's minimum."""
    baseline_nights: int = 7
    min_baseline_nights: int = 3
    """Fewer clean nights than this: no baseline, no alert (a new meter learns first)."""
    margin_m3h: float = 0.1
    """Absolute margin: a quiet factory's baseline is near zero, so a relative one alone won't do.
    0.1 m3/h (876 m3 a year) is half the smallest leak to find (0.2 m3/h) and about ten times the
    night-to-night spread of a quiet firm's MNF (docs/water.md)."""
    margin_fraction: float = 0.25
    """Relative margin on top of the absolute one."""
    max_gap_s: int = 900
    """A rolling window with a longer gap between samples is not used."""
    judge_shift_nights: bool = False
    """Judge declared night shifts against their own baseline (once three are learnt). Off by
    default: a shift's flow follows its production, so its nights are excluded instead."""
    early_warning_h: float = 3.0
    """During a night, warn once the quiet window has run this long and the lowest hour so far is
    above the threshold: the flow has not come down for three hours, so the night's MNF will
    not be below it by more than what the rest of the night can still show."""

    def threshold_m3h(self, baseline_m3h: float) -> float:
        return baseline_m3h * (1.0 + self.margin_fraction) + self.margin_m3h


class NightType(StrEnum):
    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    SHIFT = "shift"
    """A declared night shift (production at night)."""


def night_type(night: date, *, shifts: Collection[date] = ()) -> NightType:
    """The type of the night starting on ``night``: a declared shift, a weekend night (starting on
    a Friday or Saturday) or a weekday night."""
    if night in shifts:
        return NightType.SHIFT
    return NightType.WEEKEND if night.weekday() in (4, 5) else NightType.WEEKDAY


def leakage_m3_per_day(min_flow_m3h: float, *, legit_night_use_m3h: float, hour_day_factor_h: float) -> float:
    """Estimated leakage per day: (MNF - legitimate night use) x hour-day factor, never negative."""
    return max(0.0, min_flow_m3h - legit_night_use_m3h) * hour_day_factor_h


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
    night_type: NightType = NightType.WEEKDAY
    leakage_m3_per_day: float | None = None
    """(MNF - legitimate night use) x hour-day factor; None without an MNF."""
    in_progress: bool = False
    """The night is not over: MNF and flag are those of the part seen so far (early warning)."""


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
    settings: NightFlowSettings | None = None, shift_nights: Collection[date] = (),
    legit_night_use_m3h: float = 0.0, hour_day_factor_h: float = 24.0, now_s: float | None = None,
) -> list[NightFlow]:
    """Every complete quiet window in the series, oldest first, with MNF, baseline and leak flag.

    With ``now_s`` inside a quiet window that has run ``early_warning_h`` or longer, that night
    is appended too, judged on its part so far (``in_progress``).
    """
    cfg = settings or NightFlowSettings()
    times_s = np.asarray(times_s, dtype=np.float64)
    flow_m3h = np.asarray(flow_m3h, dtype=np.float64)
    if times_s.shape != flow_m3h.shape:
        raise ValueError(f"times_s and flow_m3h differ in shape: {times_s.shape} vs {flow_m3h.shape}")
    if times_s.size == 0:
        return []
    first_s = float(times_s.min())
    windows = [(n, w0, w1, False) for n, w0, w1 in night_windows(
        start_s=first_s, end_s=float(times_s.max()) if now_s is None else max(now_s, float(times_s.max())),
        quiet_start=quiet_start, quiet_end=quiet_end, timezone=timezone)]
    if now_s is not None:
        windows = [w for w in windows if w[2] <= now_s]
        current = [(n, w0, now_s, True) for n, w0, w1 in night_windows(
            start_s=first_s, end_s=now_s + 86_400.0, quiet_start=quiet_start, quiet_end=quiet_end,
            timezone=timezone) if w0 + cfg.early_warning_h * 3600 <= now_s < w1]
        windows += current[:1]
    clean: dict[NightType, list[float]] = {t: [] for t in NightType}
    out: list[NightFlow] = []
    for night, w0, w1, in_progress in windows:
        kind = night_type(night, shifts=shift_nights)
        mnf = rolling_hour_minimum(times_s, flow_m3h, start_s=w0, end_s=w1,
                                   window_s=cfg.window_s, max_gap_s=cfg.max_gap_s)
        judged = kind is not NightType.SHIFT or cfg.judge_shift_nights
        baseline = _baseline(clean[kind], cfg) if judged else None
        if baseline is None and kind is NightType.WEEKEND:
            baseline = _baseline(clean[NightType.WEEKDAY], cfg)
        threshold = cfg.threshold_m3h(baseline) if baseline is not None else None
        leak = mnf is not None and threshold is not None and mnf > threshold
        if mnf is not None and not leak and not in_progress:
            clean[kind].append(mnf)
        leakage = None if mnf is None else leakage_m3_per_day(
            mnf, legit_night_use_m3h=legit_night_use_m3h, hour_day_factor_h=hour_day_factor_h)
        out.append(NightFlow(night=night, start_s=w0, end_s=w1, min_flow_m3h=mnf,
                             baseline_m3h=baseline, threshold_m3h=threshold, leak=leak, night_type=kind,
                             leakage_m3_per_day=leakage, in_progress=in_progress))
    return out


def _baseline(history: list[float], cfg: NightFlowSettings) -> float | None:
    recent = history[-cfg.baseline_nights:]
    return float(np.median(recent)) if len(recent) >= cfg.min_baseline_nights else None
