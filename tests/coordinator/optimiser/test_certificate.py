"""What a plan reports is what it is: objective, bound and gap on the real objective, import
and export never at once whatever the battery option, soft-limit breaches listed, the peak
charge per billing month, and load windows that end at 24:00."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.model import DistrictModel
from coordinator.optimiser import LiveState, PlanOptions, PlanStatus, plan_district
from coordinator.optimiser._formulation import build_problem
from tests.coordinator.cases import DAY_MS, district, forecast


def _sharing_district() -> DistrictModel:
    """Cheap power (0.15 EUR/kWh against 0.10 for export): the spread is within the incentive
    (0.121 EUR/kWh), so trading with oneself would pay and must be forbidden everywhere."""
    bat = {"id": "bat", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50, "soc_initial_pct": 50}
    return district([{"id": "a", "batteries": [bat]}, {"id": "b", "batteries": [{**bat, "id": "bat-b"}]},
                     {"id": "c"}], import_eur_per_kwh=0.15)


def _fc(model: DistrictModel):  # type: ignore[no-untyped-def]
    return forecast(model, base_load_kw=5.0, pv={0: {t: 40.0 for t in range(9, 16)}},
                    load={2: {t: 30.0 for t in range(18, 23)}})


@pytest.mark.parametrize("gap", [0.01, 1e-4])
def test_objective_bound_and_gap_are_on_the_real_objective(gap: float) -> None:
    model = _sharing_district()
    fc = _fc(model)
    options = PlanOptions(max_grid_binaries=0, mip_rel_gap=gap)
    problem = build_problem(model, fc, LiveState(), start_ms=DAY_MS, options=options)
    assert problem.trade_penalty_cols.size > 0  # the export penalty is active here
    plan = plan_district(model, fc, start_ms=DAY_MS, options=options)
    exact = plan_district(model, fc, start_ms=DAY_MS,
                          options=PlanOptions(max_grid_binaries=10**6, mip_rel_gap=0))
    assert plan.penalty_eur == 0.0 and plan.bound_eur is not None and plan.mip_gap is not None
    # One certificate: the gap is (objective - bound) / |objective|, on what the plan costs...
    assert plan.mip_gap == pytest.approx((plan.objective_eur - plan.bound_eur) / abs(plan.objective_eur),
                                         rel=1e-9, abs=1e-12)
    # ...the bound is a true bound of the real problem...
    assert plan.bound_eur <= exact.objective_eur + 1e-6
    assert plan.objective_eur >= exact.objective_eur - 1e-6
    # ...and "optimal" means within the requested gap of it.
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.mip_gap <= gap + 1e-12
    assert plan.to_document()["bound_eur"] == pytest.approx(plan.bound_eur, abs=1e-4)


def test_never_battery_binaries_still_forbids_importing_and_exporting_at_once() -> None:
    model = _sharing_district()
    for binaries in (0, 10**6):
        plan = plan_district(model, _fc(model), start_ms=DAY_MS,
                             options=PlanOptions(battery_binaries="never", max_grid_binaries=binaries))
        assert plan.status is PlanStatus.OPTIMAL
        both = np.minimum(plan.grid_import_kw, plan.grid_export_kw)
        assert both.max() == pytest.approx(0.0, abs=1e-6)


def test_a_load_above_its_connection_limit_is_listed_as_a_breach() -> None:
    # 80 kW of inflexible load from 10:00 to 12:00 at two firms limited to 60 kW: one without
    # assets, one whose 5 kW battery can only shave 5 kW of it.
    bat = {"id": "bat", "capacity_kwh": 100, "charge_kw": 5, "discharge_kw": 5, "soc_initial_pct": 50}
    model = district([{"id": "a", "grid_import_limit_kw": 60},
                      {"id": "b", "grid_import_limit_kw": 60, "batteries": [bat]}])
    fc = forecast(model, base_load_kw=10.0, load={0: {10: 80.0, 11: 80.0}, 1: {10: 80.0, 11: 80.0}})
    plan = plan_district(model, fc, start_ms=DAY_MS)
    assert [(b.site, b.limit_kw, b.steps) for b in plan.limit_breaches] == [("a", 60.0, (10, 11)),
                                                                           ("b", 60.0, (10, 11))]
    assert plan.limit_breaches[0].kw_over == pytest.approx((20.0, 20.0), abs=1e-6)
    assert plan.limit_breaches[1].kw_over == pytest.approx((15.0, 15.0), abs=1e-6)
    # Penalised only where the plan decides (site b): 2 h x 15 kW x 10 EUR/kWh, not a cost.
    assert plan.penalty_eur == pytest.approx(2 * 15.0 * 10.0)
    assert plan.to_document()["limit_breaches"][1] == {
        "site": "b", "limit_kw": 60.0, "steps": [10, 11], "kw_over": [15.0, 15.0], "max_kw_over": 15.0}
    assert plan.status is PlanStatus.OPTIMAL and plan.bound_eur is not None and plan.mip_gap is not None
    total = plan.objective_eur + plan.penalty_eur
    assert plan.mip_gap == pytest.approx((total - plan.bound_eur) / abs(total), abs=1e-12)


def test_the_peak_charge_counts_only_above_the_months_peak_so_far() -> None:
    bat = {"id": "bat", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50, "soc_initial_pct": 50}
    model = district([{"id": "a", "batteries": [bat]}], import_eur_per_kwh=0.2, peak_eur_per_kw=10.0)
    fc = forecast(model, load={0: {18: 50.0}}, base_load_kw=10.0)
    shaved = plan_district(model, fc, start_ms=DAY_MS)
    assert shaved.grid_import_kw.max() < 15.0  # a new month: the evening peak is shaved
    # Later in a month that already saw 50 kW, the evening peak costs nothing more.
    later = plan_district(model, fc, LiveState(month_peak_kw={"a": 50.0}), start_ms=DAY_MS)
    assert later.grid_import_kw.max() == pytest.approx(50.0)
    assert later.objective_eur == pytest.approx(0.2 * (23 * 10.0 + 50.0), abs=1e-6)


def test_a_window_may_end_at_midnight() -> None:
    load = {"id": "batch", "energy_kwh": 10, "power_kw": 10, "earliest_start": "23:00", "deadline": "24:00",
            "min_run_minutes": 60}
    model = district([{"id": "a", "flexible_loads": [load]}])
    plan = plan_district(model, forecast(model, base_load_kw=1.0), start_ms=DAY_MS)
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.asset("a", "batch").power_kw[23] == pytest.approx(10.0)
