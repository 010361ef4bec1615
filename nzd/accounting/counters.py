"""Energy (or volume) per interval from cumulative counters.

A meter's energy or volume register only ever grows, except when it is reset
(replaced, cleared) or rolls over at the top of its register. Energy per interval
therefore comes from differences of the counter, never from integrating power.

Rules, applied to the readings sorted by time:

- A step between two consecutive readings adds ``v[i] - v[i-1]`` when it is not
  negative.
- A drop larger than ``reset_tolerance`` is either a **rollover** (when a
  ``modulus`` is given and ``v[i] + modulus - v[i-1]`` is at most half the
  modulus: the register wrapped, e.g. ``modulus = 2**32 * 0.1`` for a 32-bit
  register scaled by 0.1 Wh) or a **reset**: the new value counts from zero, so
  the step adds ``v[i]``.
- A drop within ``reset_tolerance`` is noise (float rounding in a meter) and adds 0.
- Readings with the same timestamp: their steps are summed, so a reading stored
  twice (at-least-once delivery) adds nothing.
- NaN readings are ignored.

Attribution to intervals (``spread``):

- ``"linear"`` (default): each step is spread over its time span in proportion
  to overlap, i.e. the counter is linearly interpolated at the interval edges.
  Across a gap (no reading for several intervals) the difference is shared by
  the intervals in the gap in proportion to their overlap; totals are kept.
- ``"end"``: the whole step counts in the interval where it appears, the one
  that holds the later reading; a reading exactly on an edge closes the
  interval before it, as a meter's quarter-hour register does. Exact when
  readings fall on interval edges; after a gap the whole difference lands in
  the interval of the first reading after it.

Energy before the first reading or after the last one is unknown and counts as
zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from nzd.accounting.counter_rules import CleanCounter, CounterRules, clean_counter

__all__ = [
    "CounterIntervals",
    "Spread",
    "counter_increments",
    "counter_intervals",
    "counter_per_interval",
    "energy_per_interval",
    "interval_edges",
    "volume_per_interval",
]

Spread = Literal["linear", "end"]

FloatArray = npt.NDArray[np.float64]


def interval_edges(*, start_ms: int, end_ms: int, step_ms: int) -> npt.NDArray[np.int64]:
    """Edges ``start_ms, start_ms + step_ms, ...`` up to and including ``end_ms``.

    ``end_ms - start_ms`` must be a positive multiple of ``step_ms``.
    """
    if step_ms <= 0:
        raise ValueError(f"step_ms must be positive, got {step_ms}")
    span = end_ms - start_ms
    if span <= 0 or span % step_ms:
        raise ValueError(
            f"end_ms - start_ms ({span}) must be a positive multiple of step_ms ({step_ms})"
        )
    return np.arange(start_ms, end_ms + 1, step_ms, dtype=np.int64)


def counter_increments(
    values: npt.ArrayLike, *, modulus: float | None = None, reset_tolerance: float = 0.0
) -> FloatArray:
    """Non-negative increment of each step ``values[i-1] -> values[i]`` (length n - 1)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError("values must be one-dimensional")
    if modulus is not None and not modulus > 0:
        raise ValueError(f"modulus must be positive, got {modulus}")
    if reset_tolerance < 0:
        raise ValueError(f"reset_tolerance must not be negative, got {reset_tolerance}")
    if v.size < 2:
        return np.zeros(0, dtype=np.float64)
    prev, cur = v[:-1], v[1:]
    d = cur - prev
    drop = d < -reset_tolerance
    noise = (d < 0) & ~drop
    inc = np.where(d > 0, d, 0.0)
    # A reset: the new value counted up from zero.
    reset_inc = np.maximum(cur, 0.0)
    if modulus is not None:
        wrapped = cur + modulus - prev
        is_rollover = drop & (wrapped >= 0) & (wrapped <= modulus / 2)
        inc = np.where(is_rollover, wrapped, inc)
        drop = drop & ~is_rollover
    inc = np.where(drop, reset_inc, inc)
    inc = np.where(noise, 0.0, inc)
    return np.asarray(inc, dtype=np.float64)


def counter_per_interval(
    times_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    edges_ms: npt.ArrayLike,
    *,
    modulus: float | None = None,
    reset_tolerance: float = 0.0,
    spread: Spread = "linear",
) -> FloatArray:
    """Counter increase in each interval between ``edges_ms[k]`` and ``edges_ms[k+1]``.

    Returns len(edges) - 1 values.

    ``times_ms`` and ``values`` are the counter readings, in any order; see the
    module docstring for resets, rollovers, gaps and ``spread``.
    """
    t = np.asarray(times_ms, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    edges = np.asarray(edges_ms, dtype=np.float64)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError(f"times_ms and values must be 1-D of equal length, got {t.shape} and {v.shape}")
    if edges.ndim != 1 or edges.size < 2:
        raise ValueError("edges_ms needs at least two edges")
    if np.any(np.diff(edges) <= 0):
        raise ValueError("edges_ms must be strictly increasing")
    if spread not in ("linear", "end"):
        raise ValueError(f"spread must be 'linear' or 'end', got {spread!r}")
    keep = ~(np.isnan(t) | np.isnan(v))
    t, v = t[keep], v[keep]
    n_intervals = edges.size - 1
    if t.size < 2:
        return np.zeros(n_intervals, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    cum = np.concatenate(([0.0], np.cumsum(counter_increments(v, modulus=modulus,
                                                              reset_tolerance=reset_tolerance))))
    # Collapse equal timestamps onto their last cumulative value, so that every
    # step between them counts and interpolation sees strictly increasing times.
    last_of_time = np.r_[t[1:] != t[:-1], True]
    t, cum = t[last_of_time], cum[last_of_time]
    if spread == "linear":
        at_edges = np.interp(edges, t, cum, left=0.0, right=float(cum[-1]))
    else:
        # Cumulative total of the steps whose later reading lies at or before each edge.
        idx = np.searchsorted(t, edges, side="right") - 1
        at_edges = np.where(idx >= 0, cum[np.clip(idx, 0, None)], 0.0)
    result = np.diff(at_edges)
    return np.asarray(np.maximum(result, 0.0), dtype=np.float64)


def energy_per_interval(
    times_ms: npt.ArrayLike,
    energy_wh: npt.ArrayLike,
    edges_ms: npt.ArrayLike,
    *,
    modulus_wh: float | None = None,
    reset_tolerance_wh: float = 0.0,
    spread: Spread = "linear",
) -> FloatArray:
    """Energy in Wh per interval from a cumulative energy counter in Wh."""
    return counter_per_interval(times_ms, energy_wh, edges_ms, modulus=modulus_wh,
                                reset_tolerance=reset_tolerance_wh, spread=spread)


def volume_per_interval(
    times_ms: npt.ArrayLike,
    volume_m3: npt.ArrayLike,
    edges_ms: npt.ArrayLike,
    *,
    modulus_m3: float | None = None,
    reset_tolerance_m3: float = 0.0,
    spread: Spread = "linear",
) -> FloatArray:
    """Volume in m³ per interval from a cumulative volume totaliser in m³."""
    return counter_per_interval(times_ms, volume_m3, edges_ms, modulus=modulus_m3,
                                reset_tolerance=reset_tolerance_m3, spread=spread)


@dataclass(frozen=True, slots=True)
class CounterIntervals:
    """A counter's increase per interval with its coverage and the readings it rejected."""

    amount: FloatArray
    """Increase per interval; NaN before the first or after the last accepted reading."""
    covered: npt.NDArray[np.bool_]
    """The interval lies between accepted readings at most ``max_gap_ms`` apart."""
    clean: CleanCounter


def counter_intervals(times_ms: npt.ArrayLike, values: npt.ArrayLike, edges_ms: npt.ArrayLike, *,
                      flagged: npt.ArrayLike | None = None, rules: CounterRules | None = None,
                      max_gap_ms: float | None = None) -> CounterIntervals:
    """Increase per interval from the readings that bound it, linear in time between readings.

    A reading belongs to the instant it was taken, so any subset of the readings that keeps, for
    every edge, the readings just before and just after it (e.g. the first and last reading of
    buckets that divide the intervals) gives the same result. Bad readings are handled by
    :func:`nzd.accounting.counter_rules.clean_counter`. ``max_gap_ms`` (default 1.5 intervals)
    is the longest gap between readings an interval may sit in and still count as covered.
    """
    edges = np.asarray(edges_ms, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges_ms needs at least two strictly increasing edges")
    clean = clean_counter(times_ms, values, flagged, rules=rules)
    n = edges.size - 1
    t, cum = clean.times_ms, clean.cumulative
    if t.size < 2:
        return CounterIntervals(np.full(n, np.nan), np.zeros(n, dtype=bool), clean)
    at_edges = np.interp(edges, t, cum)
    amount = np.diff(at_edges)
    outside = (edges[1:] <= t[0]) | (edges[:-1] >= t[-1])
    amount = np.where(outside, np.nan, amount)
    gap_limit = 1.5 * float(np.min(np.diff(edges))) if max_gap_ms is None else max_gap_ms
    long_gap = np.concatenate(([0], np.cumsum(np.diff(t) > gap_limit)))
    lo = np.searchsorted(t, edges[:-1], side="right") - 1
    hi = np.searchsorted(t, edges[1:], side="left")
    inside = (lo >= 0) & (hi < t.size)
    lo_c, hi_c = np.clip(lo, 0, t.size - 1), np.clip(hi, 0, t.size - 1)
    covered = inside & (long_gap[hi_c] == long_gap[lo_c])
    return CounterIntervals(np.asarray(amount, dtype=np.float64), covered, clean)
