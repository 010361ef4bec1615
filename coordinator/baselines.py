"""The day's plan against both baselines, on the same forecast: what the live coordinator stores.

Once a day, for the plan that starts at local midnight, the coordinator runs the fair
baseline (each firm planned alone, ending where the plan ends) and the do-nothing
counterfactual on the plan's own forecast and state, and stores the three days' hourly
grid flows per site and their costs as a BASELINE event. The API settles those flows
by the same rules as measured data and reports each firm's savings against both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from coordinator.counterfactual import Outcome, counterfactual, execute_plan
from coordinator.fair_baseline import end_levels, fair_baseline
from coordinator.forecast import Forecast
from coordinator.model import DistrictModel, FloatArray
from coordinator.optimiser import LiveState, Plan, PlanOptions

__all__ = ["baseline_document", "starts_local_day"]

HOUR_MS = 3_600_000


def starts_local_day(model: DistrictModel, start_ms: int) -> bool:
    """True for the plan whose first interval begins at local midnight."""
    local = datetime.fromtimestamp(start_ms / 1000, ZoneInfo(model.timezone))
    return local.hour == 0 and local.minute == 0


def _hourly_kwh(model: DistrictModel, kw: FloatArray, start_ms: int) -> tuple[list[int], list[list[float]]]:
    times = model.step_times_ms(start_ms, kw.shape[1])
    hours, index = np.unique(times // HOUR_MS, return_inverse=True)
    out = np.zeros((kw.shape[0], hours.size))
    np.add.at(out.T, index, (kw * model.step_h).T)
    return [int(h) * HOUR_MS for h in hours], [[round(float(v), 4) for v in row] for row in out]


def _flows(model: DistrictModel, outcome: Outcome, start_ms: int) -> dict[str, Any]:
    hours, imp = _hourly_kwh(model, outcome.grid_import_kw, start_ms)
    _, exp = _hourly_kwh(model, outcome.grid_export_kw, start_ms)
    return {"cost_eur": round(outcome.cost_eur, 4), "shared_kwh": round(outcome.shared_kwh, 4),
            "import_kwh": imp, "export_kwh": exp, "hour_start_ms": hours}


def baseline_document(model: DistrictModel, forecast: Forecast, state: LiveState, plan: Plan, *,
                      options: PlanOptions | None = None) -> dict[str, Any]:
    """The plan, the fair baseline and doing nothing over the plan's horizon, on its forecast."""
    fair = fair_baseline(model, forecast, forecast, state=state, end=end_levels(plan), options=options)
    flows = {"coordinated": _flows(model, execute_plan(model, plan, forecast), plan.start_ms),
             "fair": _flows(model, fair.outcome, plan.start_ms),
             "do_nothing": _flows(model, counterfactual(model, forecast, state), plan.start_ms)}
    hours = flows["coordinated"].pop("hour_start_ms")
    for f in flows.values():
        f.pop("hour_start_ms", None)
    return {"day_start_ms": plan.start_ms, "site_ids": list(model.site_ids), "hour_start_ms": hours,
            "forecast_method": forecast.method, "fair_statuses": fair.statuses, **flows}
