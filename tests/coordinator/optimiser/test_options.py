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


def test_peak_charge_makes_the_battery_shave_the_evening_peak() -> None:
    bat = {"id": "bat", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50, "soc_initial_pct": 50}
    fc_load = {0: {18: 50.0}}
    flat = district([{"id": "a", "batteries": [bat]}], import_eur_per_kwh=0.2)
    plan = plan_district(flat, forecast(flat, load=fc_load, base_load_kw=10.0), start_ms=DAY_MS)
    assert plan.grid_import_kw.max() == pytest.approx(50.0)
    peaky = district([{"id": "a", "batteries": [bat]}], import_eur_per_kwh=0.2, peak_eur_per_kw=10.0)
    shaved = plan_district(peaky, forecast(peaky, load=fc_load, base_load_kw=10.0), start_ms=DAY_MS)
    assert shaved.grid_import_kw.max() < 15.0
    assert shaved.asset("a", "bat").power_kw[18] > 35.0


def test_carbon_price_moves_a_load_to_the_cleaner_hour() -> None:
    site = {"id": "a", "flexible_loads": [{"id": "batch", "energy_kwh": 10, "power_kw": 10,
                                           "earliest_start": "00:00", "deadline": "23:00",
                                           "min_run_minutes": 60}]}
    emission = [400.0] * 24
    emission[3] = 100.0
    prices = [0.20] * 24
    prices[5] = 0.19
    model = district([site], import_eur_per_kwh=prices, emission_g_per_kwh=emission)
    cheap = plan_district(model, forecast(model), start_ms=DAY_MS)
    assert cheap.asset("a", "batch").power_kw[5] == pytest.approx(10.0)
    # 300 g/kWh less at 03:00 is worth 0.03 EUR/kWh at 100 EUR/t: more than the 0.01 price difference.
    green = plan_district(model, forecast(model), start_ms=DAY_MS, options=PlanOptions(co2_eur_per_t=100))
    assert green.asset("a", "batch").power_kw[3] == pytest.approx(10.0)


def test_without_time_to_branch_the_rounded_lp_plan_is_used() -> None:
    # A relaxation would run half the batch at 11:00 and half at 13:00 to share more:
    # the rounded plan is a real, feasible plan with an honest gap to that bound.
    model = district([
        {"id": "pv-site", "pv": [{"id": "roof", "kwp": 50}]},
        {"id": "mill", "flexible_loads": [{"id": "batch", "energy_kwh": 40, "power_kw": 20,
                                           "earliest_start": "08:00", "deadline": "20:00",
                                           "min_run_minutes": 120}]},
    ])
    fc = forecast(model, pv={0: {t: 10.0 for t in range(11, 15)}})
    plan = plan_district(model, fc, start_ms=DAY_MS,
                         options=PlanOptions(time_limit_s=0.001, fallback_time_limit_s=10.0))
    assert plan.status is PlanStatus.LP_FALLBACK
    batch = plan.asset("mill", "batch").power_kw
    assert batch.sum() == pytest.approx(40.0)
    assert sorted(np.flatnonzero(batch).tolist()) in ([11, 12], [12, 13], [13, 14])
    assert plan.mip_gap is not None and plan.mip_gap > 0.01
    full = plan_district(model, fc, start_ms=DAY_MS)
    assert full.status is PlanStatus.OPTIMAL
    assert full.objective_eur == pytest.approx(plan.objective_eur, abs=1e-6)
