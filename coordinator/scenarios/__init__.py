"""Scenarios: what to build where (PV per surface, batteries), and what it earns over a year.

One LP sizes PV and storage together with their operation on representative days
(tsam), checked by dispatching the full year; results follow the settlement rules
(docs/scenarios.md).
"""

from coordinator.scenarios._finance import Finance, cash_flows, finance, payback_years
from coordinator.scenarios._inputs import (
    BatteryCandidates,
    Money,
    SizingInputs,
    SizingOptions,
    SurfaceCandidates,
    annuity_factor,
)
from coordinator.scenarios._lp import SizingError, SizingResult, size_district
from coordinator.scenarios._report import compare, write_report
from coordinator.scenarios._run import fixed_sizes, run_scenario
from coordinator.scenarios._spec import ScenarioSpec, load_scenario, scenario_schema
from coordinator.scenarios._typical import RepresentativeDays, representative_days
from coordinator.scenarios._year import ScenarioYear, scenario_year

__all__ = [
    "BatteryCandidates",
    "Finance",
    "Money",
    "RepresentativeDays",
    "ScenarioSpec",
    "ScenarioYear",
    "SizingError",
    "SizingInputs",
    "SizingOptions",
    "SizingResult",
    "SurfaceCandidates",
    "annuity_factor",
    "cash_flows",
    "compare",
    "finance",
    "fixed_sizes",
    "load_scenario",
    "payback_years",
    "representative_days",
    "run_scenario",
    "scenario_schema",
    "scenario_year",
    "size_district",
    "write_report",
]
