"""The district-wide MILP: one plan for every site and asset, solved by HiGHS."""

from coordinator.optimiser._plan import AssetKind, AssetSchedule, Plan, SetpointValue
from coordinator.optimiser._solve import hourly_shared_kwh, plan_district
from coordinator.optimiser._types import AssetKey, LiveState, PlanOptions, PlanStatus

__all__ = [
    "AssetKey",
    "AssetKind",
    "AssetSchedule",
    "LiveState",
    "Plan",
    "PlanOptions",
    "PlanStatus",
    "SetpointValue",
    "hourly_shared_kwh",
    "plan_district",
]
