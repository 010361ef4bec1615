"""Which counter readings may bound an interval: bad readings, noise, resets, rollovers, spikes.

Applied to one device's readings sorted by time, each against the last accepted reading (the
reference):

- a reading whose quantity carries a quality flag (``nzd.messages.Quality``) is **flagged** and
  never used;
- a decrease is a **rollover** when the meter declares its register's modulus and
  ``v + modulus - ref`` is at most half of it; else a **reset** (meter replaced or cleared, the
  new value counted from zero) when the drop is at least ``reset_fraction`` of the reference;
  else it is **noise** (a meter's rounding), the reading is rejected and the reference stays;
- an increase above what the meter's rated power could deliver since the reference is
  **excess**: the reading is rejected (a spike). When the next reading confirms the new level
  (its own increase from the rejected one is plausible), the level shift is accepted but only
  the rated maximum is counted; the excess stays flagged.

Every rejected reading and every reset or rollover is counted with its time, so the API can
report them per device and period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["REJECT_REASONS", "CleanCounter", "CounterRules", "clean_counter"]

REJECT_REASONS = ("flagged", "noise", "excess")
_MS_PER_H = 3_600_000.0


@dataclass(frozen=True, slots=True)
class CounterRules:
    modulus: float | None = None
    """The register's rollover (e.g. ``2**32 * 0.1`` Wh for a 32-bit register scaled by 0.1)."""
    reset_fraction: float = 0.5
    """A drop of at least this fraction of the counter is a reset; a smaller one is noise."""
    max_rate_per_h: float | None = None
    """The most the counter can grow per hour (rated power in W for a Wh counter); None: no cap."""

    def __post_init__(self) -> None:
        if self.modulus is not None and not self.modulus > 0:
            raise ValueError(f"modulus must be positive, got {self.modulus}")
        if not 0 < self.reset_fraction <= 1:
            raise ValueError(f"reset_fraction must be in (0, 1], got {self.reset_fraction}")
        if self.max_rate_per_h is not None and not self.max_rate_per_h > 0:
            raise ValueError(f"max_rate_per_h must be positive, got {self.max_rate_per_h}")


@dataclass(slots=True)
class CleanCounter:
    times_ms: npt.NDArray[np.float64]
    """The accepted readings' times, strictly increasing."""
    cumulative: npt.NDArray[np.float64]
    """The counter's increase from the first accepted reading to each accepted reading."""
    events: dict[str, list[int]] = field(default_factory=dict)
    """``flagged``, ``noise``, ``excess``, ``reset``, ``rollover`` -> times of the readings."""

    def count(self, reason: str) -> int:
        return len(self.events.get(reason, []))


def _step(ref: float, v: float, rules: CounterRules) -> tuple[float, str | None]:
    """Increase from ``ref`` to ``v`` and its kind (None, 'rollover', 'reset' or 'noise')."""
    d = v - ref
    if d >= 0:
        return d, None
    if rules.modulus is not None:
        wrapped = v + rules.modulus - ref
        if 0 <= wrapped <= rules.modulus / 2:
            return wrapped, "rollover"
    if -d >= rules.reset_fraction * abs(ref):
        return max(v, 0.0), "reset"
    return 0.0, "noise"


def _all_accepted(t: npt.NDArray[np.float64], v: npt.NDArray[np.float64], bad: npt.NDArray[np.bool_],
                  rules: CounterRules) -> CleanCounter | None:
    """The common case in one pass of numpy: no flag, no decrease, no excess (every reading of
    a distinct time accepted). The same floats as the loop below (a sequential cumulative sum
    of the same differences); None when any reading needs the loop."""
    if bad.any():
        return None
    first = np.ones(t.shape, dtype=bool)
    first[1:] = t[1:] != t[:-1]  # a reading stored twice: the loop keeps the first
    t, v = t[first], v[first]
    d = np.diff(v)
    if not np.all(d >= 0):
        return None
    if rules.max_rate_per_h is not None and not np.all(d <= rules.max_rate_per_h * np.diff(t) / _MS_PER_H):
        return None
    cum = np.zeros(t.shape, dtype=np.float64)
    np.cumsum(d, out=cum[1:])
    return CleanCounter(t, cum, {})


def clean_counter(times_ms: npt.ArrayLike, values: npt.ArrayLike, flagged: npt.ArrayLike | None = None,
                  *, rules: CounterRules | None = None) -> CleanCounter:
    """The accepted readings and the counter's cumulative increase at each (see the module doc)."""
    rules = rules or CounterRules()
    t = np.asarray(times_ms, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    bad = np.zeros(t.shape, dtype=bool) if flagged is None else np.asarray(flagged, dtype=bool)
    if t.shape != v.shape or t.ndim != 1 or bad.shape != t.shape:
        raise ValueError("times_ms, values and flagged must be 1-D of equal length")
    keep = ~(np.isnan(t) | np.isnan(v))
    order = np.argsort(t[keep], kind="stable")
    t, v, bad = t[keep][order], v[keep][order], bad[keep][order]
    fast = _all_accepted(t, v, bad, rules)
    if fast is not None:
        return fast
    events: dict[str, list[int]] = {}
    out_t: list[float] = []
    out_c: list[float] = []
    ref_v = 0.0
    suspect: tuple[float, float] | None = None

    def cap(since_ms: float, until_ms: float) -> float:
        rate = rules.max_rate_per_h
        return math.inf if rate is None else rate * (until_ms - since_ms) / _MS_PER_H

    for ti, vi, bi in zip(t.tolist(), v.tolist(), bad.tolist(), strict=True):
        if bi:
            events.setdefault("flagged", []).append(int(ti))
            continue
        if not out_t:
            out_t.append(ti)
            out_c.append(0.0)
            ref_v = vi
            continue
        ref_t, ref_c = out_t[-1], out_c[-1]
        if ti == ref_t:
            continue  # the same reading stored twice
        inc, kind = _step(ref_v, vi, rules)
        if kind == "noise":
            events.setdefault("noise", []).append(int(ti))
            continue
        if inc > cap(ref_t, ti):
            if suspect is not None:
                s_inc, s_kind = _step(suspect[1], vi, rules)
                if s_kind is None and s_inc <= cap(suspect[0], ti):
                    # The level shift is real: count what the meter could deliver up to it.
                    out_t += [suspect[0], ti]
                    at_shift = ref_c + cap(ref_t, suspect[0])
                    out_c += [at_shift, at_shift + s_inc]
                    ref_v = vi
                    suspect = None
                    continue
            events.setdefault("excess", []).append(int(ti))
            suspect = (ti, vi)
            continue
        suspect = None
        if kind is not None:
            events.setdefault(kind, []).append(int(ti))
        out_t.append(ti)
        out_c.append(ref_c + inc)
        ref_v = vi
    return CleanCounter(np.asarray(out_t, dtype=np.float64), np.asarray(out_c, dtype=np.float64), events)
