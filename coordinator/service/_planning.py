"""What the service asks of a planner, and the plan it can always fall back on.

The service runs the planner in a worker thread (solving is CPU-bound) and
dispatches the first interval of whatever it returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coordinator.dispatch import AssetKey, Target, controllable_assets
from coordinator.state import StateSnapshot
from nzd.config import DistrictConfig

if TYPE_CHECKING:
    from coordinator.forecast._history import SiteHistory

__all__ = ["PlanOutcome", "PlanRequest", "Planner", "new_plan_id", "safe_mode_outcome"]


@dataclass(frozen=True, slots=True)
class PlanRequest:
    district: DistrictConfig
    """The registry with each battery's and tank's initial value set from live telemetry."""
    start_ms: int
    """Start of the first planning interval."""
    snapshot: StateSnapshot
    excluded: frozenset[AssetKey]
    """Assets (by gateway asset name) to hold at their fallback: they rejected or did not answer."""
    plan_id: str
    history: SiteHistory | None = None
    """Measured load and PV per site from the store, when there is a store and it has some."""


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    status: str
    """optimal, time_limit, lp_fallback, safe_mode or error."""
    targets: list[Target]
    """The first interval's value per controllable asset."""
    document: dict[str, Any] = field(default_factory=dict)
    """What the store keeps of the plan (schedules, objective, forecast method)."""


Planner = Callable[[PlanRequest], PlanOutcome]


def new_plan_id(start_ms: int) -> str:
    return f"{start_ms}-{uuid.uuid4().hex[:8]}"


def safe_mode_outcome(district: DistrictConfig, *, status: str = "safe_mode",
                      reason: str = "") -> PlanOutcome:
    """Every controllable asset at its safe local mode: there is always a plan.

    Assets whose safe mode only their gateway knows get no setpoint: when the one in force
    ends, the gateway falls back on its own.
    """
    targets = [Target(a.key.site, a.key.asset, a.quantity, a.fallback_value)
               for a in controllable_assets(district) if a.fallback_value is not None]
    return PlanOutcome(status=status, targets=targets, document={"reason": reason} if reason else {})
