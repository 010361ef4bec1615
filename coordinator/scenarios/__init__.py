"""Scenarios: what to build where (PV per surface, batteries), and what it earns over a year.

One LP sizes PV and storage together with their operation on representative days
(tsam), checked by dispatching the full year; results follow the settlement rules
(docs/scenarios.md).
"""

from coordinator.scenarios._inputs import (
    BatteryCandidates,
    Money,
    SizingInputs,
    SizingOptions,
    SurfaceCandidates,
    annuity_factor,
)
from coordinator.scenarios._lp import SizingError, SizingResult, size_district

__all__ = [
    "BatteryCandidates",
    "Money",
    "SizingError",
    "SizingInputs",
    "SizingOptions",
    "SizingResult",
    "SurfaceCandidates",
    "annuity_factor",
    "size_district",
]
