"""Shared energy per configuration (primary substation) and the hourly TIP in the objective."""

from __future__ import annotations

from typing import Any

import pytest

from coordinator.counterfactual import execute_plan
from coordinator.model import DistrictModel
from coordinator.optimiser import PlanStatus, plan_district
from nzd.config import DistrictConfig
from tests.coordinator.cases import DAY_MS, forecast

BATCH = {"id": "batch", "energy_kwh": 20, "power_kw": 20, "earliest_start": "08:00", "deadline": "20:00",
         "min_run_minutes": 60}


def _model(*, mill_substation: str = "cp-1", **settlement: Any) -> DistrictModel:
    doc: dict[str, Any] = {
        "district": "test", "timezone": "UTC", "step_minutes": 60, "horizon_hours": 24,
        "tariff": {"import_eur_per_kwh": 0.25, "export_eur_per_kwh": 0.10, "incentive_eur_per_mwh": 110,
                   "valorisation_eur_per_mwh": 11},
        "sites": [{"id": "pv-site", "name": "PV", "primary_substation": "cp-1",
                   "pv": [{"id": "roof", "kwp": 100}]},
                  {"id": "mill", "name": "Mill", "primary_substation": mill_substation,
                   "flexible_loads": [BATCH]}]}
    if settlement:
        doc["settlement"] = settlement
    return DistrictModel.from_config(DistrictConfig.model_validate(doc))


def test_the_batch_follows_the_hour_with_the_higher_tip() -> None:
    # Pz 250 EUR/MWh until 12:00 (TIP 80 + 4 in the centre), 90 after (min(120, 170) + 4 = 124).
    model = _model(zonal_price_eur_per_mwh=[250.0] * 12 + [90.0] * 12)
    fc = forecast(model, pv={0: {11: 50.0, 12: 50.0}})
    plan = plan_district(model, fc, start_ms=DAY_MS)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.asset("mill", "batch").power_kw[12] == pytest.approx(20.0)
    assert plan.shared_energy_kwh[12] == pytest.approx(20.0)
    assert plan.shared_energy_kwh.sum() == pytest.approx(20.0)
    assert plan.incentive_eur == pytest.approx(20 * (124 + 11) / 1000)
    # Settling the flows values them the same way.
    assert execute_plan(model, plan, fc).incentive_eur == pytest.approx(plan.incentive_eur)


def test_two_configurations_share_nothing_and_the_plan_does_not_pretend_they_do() -> None:
    fc = forecast(_model(), pv={0: {11: 50.0, 12: 50.0}})
    together = plan_district(_model(), fc, start_ms=DAY_MS)
    assert together.shared_energy_kwh.sum() == pytest.approx(20.0)
    apart_model = _model(mill_substation="cp-2")
    apart = plan_district(apart_model, fc, start_ms=DAY_MS)
    assert apart.status is PlanStatus.OPTIMAL
    assert apart.shared_energy_kwh.sum() == 0.0 and apart.incentive_eur == 0.0
    assert execute_plan(apart_model, apart, fc).shared_kwh == 0.0
