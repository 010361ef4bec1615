"""Measured history per site on the planning grid, the input of every forecast."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coordinator.model import FloatArray, IntArray

__all__ = ["SiteHistory"]


@dataclass(frozen=True, slots=True)
class SiteHistory:
    """Mean power per step for each site: ``load_kw[s, i]`` over ``[start_ms + i*step, +step)``.

    NaN marks a missing interval. ``load_kw`` is the inflexible consumption (grid +
    PV + battery discharge - controlled loads and pumps).
    """

    start_ms: int
    step_minutes: int
    load_kw: FloatArray
    """[site, interval]"""
    pv_kw: FloatArray
    """[site, interval]"""
    grid_kw: FloatArray | None = None
    """[site, interval] mean grid import (negative: export), when measured: the month's peak."""

    def __post_init__(self) -> None:
        if self.load_kw.ndim != 2 or self.load_kw.shape != self.pv_kw.shape:
            raise ValueError(
                "load_kw and pv_kw must both be [site, interval]; "
                f"got {self.load_kw.shape}, {self.pv_kw.shape}"
            )

    @property
    def step_ms(self) -> int:
        return self.step_minutes * 60_000

    @property
    def intervals(self) -> int:
        return int(self.load_kw.shape[1])

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.intervals * self.step_ms

    @property
    def times_ms(self) -> IntArray:
        return self.start_ms + np.arange(self.intervals, dtype=np.int64) * self.step_ms

    def before(self, end_ms: int) -> SiteHistory:
        """Only what was known at ``end_ms`` (for back-testing)."""
        n = max(0, min(self.intervals, (end_ms - self.start_ms) // self.step_ms))
        return SiteHistory(self.start_ms, self.step_minutes, self.load_kw[:, :n], self.pv_kw[:, :n])

    def window(self, start_ms: int, steps: int) -> tuple[FloatArray, FloatArray]:
        """Load and PV over ``steps`` intervals from ``start_ms`` (NaN outside the history)."""
        idx = (start_ms - self.start_ms) // self.step_ms + np.arange(steps)
        return self.lookup(self.load_kw, idx), self.lookup(self.pv_kw, idx)

    def lookup(self, values: FloatArray, idx: np.ndarray) -> FloatArray:
        """``values[:, idx]`` with NaN where ``idx`` lies outside the history; idx may be 2-D."""
        ok = (idx >= 0) & (idx < self.intervals)
        out = values[:, np.clip(idx, 0, max(self.intervals - 1, 0))] if self.intervals else np.full(
            (values.shape[0], *np.shape(idx)), np.nan)
        return np.where(ok, out, np.nan)
