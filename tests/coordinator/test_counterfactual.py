"""The uncoordinated counterfactual against the coordinated plan, on hand-checkable days."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.counterfactual import counterfactual, execute_plan
from coordinator.optimiser import plan_district
from tests.coordinator.cases import DAY_MS, district, forecast


def _two_firms():
    return district([
        {"id": "pv-site", "pv": [{"id": "roof", "kwp": 100}]},
        {"id": "mill", "batteries": [{"id": "bat", "capacity_kwh": 40, "charge_kw": 20, "discharge_kw": 20,
                                      "charge_efficiency": 1.0, "discharge_efficiency": 1.0, "soc_min_pct": 0,
                                      "soc_max_pct": 100, "soc_initial_pct": 0, "wear_eur_per_kwh": 0.0}],
         "flexible_loads": [{"id": "batch", "energy_kwh": 40, "power_kw": 20, "earliest_start": "08:00",
                             "deadline": "20:00", "min_run_minutes": 120}]},
    ], import_eur_per_kwh=[0.2] * 18 + [0.35] * 3 + [0.2] * 3)


def test_counterfactual_battery_serves_only_its_own_site() -> None:
    model = _two_firms()
    # The mill has no PV: on its own its battery never charges, whatever the neighbour exports.
    actual = forecast(model, pv={0: {12: 50.0, 13: 50.0}}, load={1: {19: 10.0}})
    cf = counterfactual(model, actual)
    assert np.all(cf.battery_kw == 0.0)
    # The batch starts at 08:00: 40 kWh drawn at 08-09 while nobody feeds in; 10 kWh at 19.
    assert cf.grid_import_kw[1, 8:10] == pytest.approx([20.0, 20.0])
    assert cf.shared_kwh == pytest.approx(0.0)
    assert cf.cost_eur == pytest.approx(40 * 0.2 + 10 * 0.35 - 100 * 0.10)


def test_counterfactual_self_consumption_with_own_pv() -> None:
    model = district([{"id": "plant", "pv": [{"id": "roof", "kwp": 50}], "batteries": [{
        "id": "bat", "capacity_kwh": 30, "charge_kw": 10, "discharge_kw": 10, "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0, "soc_min_pct": 0, "soc_max_pct": 100, "soc_initial_pct": 0,
        "wear_eur_per_kwh": 0.01}]}])
    actual = forecast(model, pv={0: {12: 25.0}}, load={0: {20: 15.0}})
    cf = counterfactual(model, actual)
    assert cf.battery_kw[0, 12] == pytest.approx(-10.0)  # charge limited to 10 kW
    assert cf.battery_kw[0, 20] == pytest.approx(10.0)  # discharge limited to 10 kW
    assert cf.grid_export_kw[0, 12] == pytest.approx(15.0)
    assert cf.grid_import_kw[0, 20] == pytest.approx(5.0)
    assert cf.wear_eur == pytest.approx(0.1)


def test_coordinated_plan_beats_the_counterfactual_and_shares_more() -> None:
    model = _two_firms()
    actual = forecast(model, pv={0: {12: 50.0, 13: 50.0}}, load={1: {19: 10.0}})
    plan = plan_district(model, actual, start_ms=DAY_MS)
    done = execute_plan(model, plan, actual)
    cf = counterfactual(model, actual)
    assert done.cost_eur == pytest.approx(plan.objective_eur, abs=1e-3)
    assert done.cost_eur < cf.cost_eur - 1.0
    assert done.shared_kwh > cf.shared_kwh + 40.0
