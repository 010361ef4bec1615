"""Planner options: the penalty in place of binaries for large districts, fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.optimiser import PlanOptions, PlanStatus, plan_district
from tests.coordinator.cases import DAY_MS, district, forecast


def _battery_district():
    bat = {"id": "bat", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50, "soc_initial_pct": 50}
    return district([{"id": "a", "batteries": [bat]}, {"id": "b"}], import_eur_per_kwh=0.15)


@pytest.mark.parametrize("max_grid_binaries", [0, 5000])
def test_no_self_trading_with_binaries_or_penalty(max_grid_binaries: int) -> None:
    model = _battery_district()
    plan = plan_district(model, forecast(model, base_load_kw=5.0), start_ms=DAY_MS,
                         options=PlanOptions(max_grid_binaries=max_grid_binaries))
    assert plan.status is PlanStatus.OPTIMAL
    both = np.minimum(plan.grid_import_kw, plan.grid_export_kw)
    assert both.max() == pytest.approx(0.0, abs=1e-6)


def test_penalty_is_not_reported_as_cost() -> None:
    model = _battery_district()
    fc = forecast(model, base_load_kw=5.0)
    exact = plan_district(model, fc, start_ms=DAY_MS, options=PlanOptions(mip_rel_gap=0.0))
    fast = plan_district(model, fc, start_ms=DAY_MS,
                         options=PlanOptions(max_grid_binaries=0, mip_rel_gap=0.0))
    assert fast.objective_eur >= exact.objective_eur - 1e-6
    assert fast.objective_eur == pytest.approx(exact.objective_eur, rel=0.05)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="mip_rel_gap"):
        PlanOptions(mip_rel_gap=1.5)
    with pytest.raises(ValueError, match="time_limit_s"):
        PlanOptions(time_limit_s=0)
