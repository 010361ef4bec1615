"""The issue's hand-computed plans, solved by real HiGHS."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.optimiser import AssetKind, LiveState, PlanOptions, PlanStatus, plan_district
from tests.coordinator.cases import DAY_MS, district, forecast


def test_flexible_load_moves_to_the_other_sites_noon_surplus() -> None:
    model = district([
        {"id": "pv-site", "pv": [{"id": "roof", "kwp": 100}]},
        {"id": "mill", "flexible_loads": [{"id": "batch", "energy_kwh": 40, "power_kw": 20,
                                           "earliest_start": "08:00", "deadline": "20:00",
                                           "min_run_minutes": 120}]},
    ])
    fc = forecast(model, pv={0: {12: 50.0, 13: 50.0}})
    plan = plan_district(model, fc, start_ms=DAY_MS)
    assert plan.status is PlanStatus.OPTIMAL
    batch = plan.asset("mill", "batch")
    assert batch.power_kw[12] == pytest.approx(20.0)
    assert batch.power_kw[13] == pytest.approx(20.0)
    assert batch.power_kw.sum() == pytest.approx(40.0)
    # Import 40 kWh at 0.25, export 100 kWh at 0.10, 40 kWh shared at 0.121 EUR/kWh.
    assert plan.shared_energy_kwh.sum() == pytest.approx(40.0)
    assert plan.incentive_eur == pytest.approx(4.84)
    assert plan.objective_eur == pytest.approx(10.0 - 10.0 - 4.84, abs=1e-4)
    assert plan.first_setpoints()[0].quantity == "load_power_setpoint_w"
    assert plan.first_setpoints()[0].value == 0.0


def _battery_site(**battery: float) -> dict[str, object]:
    return {"id": "plant", "pv": [{"id": "roof", "kwp": 60}], "batteries": [{
        "id": "bat", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50, "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0, "soc_min_pct": 0, "soc_max_pct": 100, "soc_initial_pct": 0,
        "wear_eur_per_kwh": 0.0, "asset": "bat-inverter", **battery}]}


def test_battery_charges_on_surplus_and_discharges_into_the_evening_peak() -> None:
    prices = [0.20] * 18 + [0.30] * 3 + [0.20] * 3
    model = district([_battery_site()], import_eur_per_kwh=prices, export_eur_per_kwh=0.05,
                     incentive_eur_per_mwh=0, valorisation_eur_per_mwh=0)
    fc = forecast(model, pv={0: {11: 50.0, 12: 50.0, 13: 50.0}}, load={0: {18: 20.0, 19: 20.0, 20: 20.0}})
    plan = plan_district(model, fc, start_ms=DAY_MS)
    bat = plan.asset("plant", "bat")
    assert bat.kind is AssetKind.BATTERY
    assert bat.power_kw[11:14].sum() == pytest.approx(-60.0)  # charged 60 kWh from the surplus
    assert bat.power_kw[18:21] == pytest.approx([20.0, 20.0, 20.0])  # covers the peak
    assert plan.grid_import_kw.sum() == pytest.approx(0.0, abs=1e-6)
    assert bat.level_pct is not None and bat.level_pct[14] == pytest.approx(60.0)
    assert plan.objective_eur == pytest.approx(-90 * 0.05, abs=1e-4)
    sp = bat.setpoint(18)
    assert (sp.asset, sp.quantity, sp.value) == ("bat-inverter", "battery_power_setpoint_w", 20_000.0)


def test_tank_is_pumped_at_noon_from_pv() -> None:
    model = district([{"id": "reuse", "pv": [{"id": "roof", "kwp": 50}], "tanks": [{
        "id": "tank", "volume_m3": 100, "level_min_pct": 10, "level_max_pct": 100, "level_initial_pct": 50,
        "pump_max_m3h": 20, "pump_kw_per_m3h": 1.0, "demand_m3_per_day": 24, "asset": "pump"}]}],
        import_eur_per_kwh=0.30, export_eur_per_kwh=0.0)
    fc = forecast(model, pv={0: {t: 40.0 for t in range(10, 15)}})
    plan = plan_district(model, fc, start_ms=DAY_MS)
    tank = plan.asset("reuse", "tank")
    assert tank.flow_m3h is not None and tank.level_pct is not None
    assert tank.flow_m3h[10:15].sum() == pytest.approx(24.0)
    assert tank.flow_m3h.sum() == pytest.approx(24.0)
    assert plan.grid_import_kw.sum() == pytest.approx(0.0, abs=1e-6)
    assert tank.level_pct[-1] == pytest.approx(50.0)
    assert tank.level_pct.min() >= 10.0 - 1e-6


def test_shared_energy_and_incentive_follow_the_hourly_rule() -> None:
    model = district([{"id": "a", "pv": [{"id": "pv", "kwp": 50}]}, {"id": "b"}],
                     step_minutes=15, incentive_eur_per_mwh=100, valorisation_eur_per_mwh=10)
    # Hour 12: A feeds in 40 kW in its first quarter (10 kWh), B draws 20 kW in its last (5 kWh).
    fc = forecast(model, pv={0: {48: 40.0}}, load={1: {51: 20.0, 60: 8.0}})
    plan = plan_district(model, fc, start_ms=DAY_MS)
    assert plan.shared_energy_kwh[12] == pytest.approx(5.0)
    assert plan.shared_energy_kwh.sum() == pytest.approx(5.0)
    assert plan.incentive_eur == pytest.approx(5.0 * 0.110)
    # 7 kWh imported at 0.25, 10 kWh exported at 0.10, 5 kWh shared at 0.11.
    assert plan.objective_eur == pytest.approx(7 * 0.25 - 10 * 0.10 - 0.55, abs=1e-4)


def test_no_simultaneous_import_and_export_even_when_the_incentive_would_pay_for_it() -> None:
    # Import 0.15 - export 0.10 < incentive 0.121: without binaries the LP would trade with itself.
    site = _battery_site(soc_initial_pct=50)
    model = district([site], import_eur_per_kwh=0.15)
    plan = plan_district(model, forecast(model, base_load_kw=5.0), start_ms=DAY_MS)
    both = np.minimum(plan.grid_import_kw, plan.grid_export_kw)
    assert both.max() == pytest.approx(0.0, abs=1e-6)
    bat = plan.asset("plant", "bat")
    assert bat.level_pct is not None and bat.level_pct[-1] >= 50.0 - 1e-6


def test_unavailable_battery_is_planned_idle_and_running_load_continues() -> None:
    model = district([_battery_site(soc_initial_pct=50),
                      {"id": "mill", "flexible_loads": [{"id": "batch", "energy_kwh": 40, "power_kw": 20,
                                                         "earliest_start": "00:00", "deadline": "12:00"}]}],
                     import_eur_per_kwh=[0.4] * 4 + [0.1] * 20)
    state = LiveState(unavailable=frozenset({("plant", "bat")}), load_running=frozenset({("mill", "batch")}),
                      load_delivered_kwh={("mill", "batch"): 0.0})
    start = DAY_MS + 3_600_000
    plan = plan_district(model, forecast(model, base_load_kw=5.0, start_ms=start), state, start_ms=start)
    assert np.all(plan.asset("plant", "bat").power_kw == 0.0)
    assert plan.asset("mill", "batch").power_kw[:2] == pytest.approx([20.0, 20.0])


def test_infeasible_district_still_gets_a_safe_plan() -> None:
    # Demand drains the tank faster than the pump can fill it: no feasible schedule.
    model = district([{"id": "reuse", "tanks": [{
        "id": "tank", "volume_m3": 10, "level_min_pct": 40, "level_initial_pct": 50,
        "pump_max_m3h": 1, "pump_kw_per_m3h": 1.0, "demand_m3_per_day": 240}]}])
    plan = plan_district(model, forecast(model, base_load_kw=3.0), start_ms=DAY_MS,
                         options=PlanOptions(time_limit_s=5))
    assert plan.status is PlanStatus.SAFE_MODE
    assert plan.asset("reuse", "tank").setpoint(0).value == pytest.approx(1.0)
    assert plan.grid_import_kw[0] == pytest.approx(np.full(24, 4.0))
    assert plan.to_document()["status"] == "safe_mode"


def test_forecast_for_other_sites_is_a_clear_error() -> None:
    model = district([{"id": "a"}, {"id": "b"}])
    other = district([{"id": "a"}])
    with pytest.raises(ValueError, match="forecast has 1 sites"):
        plan_district(model, forecast(other), start_ms=DAY_MS)


def test_a_load_above_the_connection_limit_still_gets_a_plan_that_keeps_the_limit_where_it_can() -> None:
    # The mill's inflexible load is forecast at 450 kW for 8 hours (its limit is 400 kW) and at
    # 360 kW after; its 40 kWh, 20 kW batch must run between 08:00 and 20:00. Before the limit was
    # soft, no plan existed and the whole district fell back to safe mode.
    model = district([{"id": "mill", "grid_import_limit_kw": 400, "flexible_loads": [
        {"id": "batch", "energy_kwh": 40, "power_kw": 20, "earliest_start": "08:00", "deadline": "20:00"}]}],
        import_eur_per_kwh=[0.1] * 12 + [0.4] * 12)
    fc = forecast(model, base_load_kw=360.0, load={0: {t: 450.0 for t in range(4, 12)}})
    plan = plan_district(model, fc, start_ms=DAY_MS)
    assert plan.status is PlanStatus.OPTIMAL
    batch = plan.asset("mill", "batch").power_kw
    # The cheap hours 08-11 are over the limit already: the batch runs two hours after 12:00 and
    # pays 0.4 (any two hours then cost the same).
    hours = np.flatnonzero(batch > 0).tolist()
    assert len(hours) == 2 and hours[1] == hours[0] + 1 and 12 <= hours[0] <= 18
    imports = plan.grid_import_kw[0]
    assert imports[4:12] == pytest.approx([450.0] * 8)  # not ours to fix
    assert imports.max(initial=0.0) <= 450.0 + 1e-6 and imports[12:].max() <= 400.0 + 1e-6
    # The penalty steering it is no cost anyone pays: 8 h x 450 + 16 h x 360 kWh at their prices.
    expected = 4 * 360 * 0.1 + 8 * 450 * 0.1 + 12 * 360 * 0.4 + 40 * 0.4
    assert plan.objective_eur == pytest.approx(expected, abs=1e-3)
