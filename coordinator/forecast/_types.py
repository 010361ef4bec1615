"""The forecast the optimiser plans against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coordinator.model import FloatArray

__all__ = ["Forecast"]


@dataclass(frozen=True, slots=True)
class Forecast:
    """Per site and step over the horizon, starting at ``start_ms``: mean power in kW.

    ``load_kw`` is the site's inflexible consumption (without batteries, flexible
    loads and pumps the coordinator controls); ``pv_kw`` its PV production.
    """

    start_ms: int
    step_minutes: int
    load_kw: FloatArray
    """[site, step]"""
    pv_kw: FloatArray
    """[site, step]"""
    method: str = "given"

    def __post_init__(self) -> None:
        if self.load_kw.ndim != 2 or self.load_kw.shape != self.pv_kw.shape:
            raise ValueError(
                "load_kw and pv_kw must both be [site, step]; "
                f"got {self.load_kw.shape} and {self.pv_kw.shape}"
            )
        if not (np.isfinite(self.load_kw).all() and np.isfinite(self.pv_kw).all()):
            raise ValueError("forecast values must be finite")
        if (self.pv_kw < 0).any():
            raise ValueError("pv_kw must not be negative")

    @property
    def steps(self) -> int:
        return int(self.load_kw.shape[1])

    @property
    def net_kw(self) -> FloatArray:
        return self.load_kw - self.pv_kw
