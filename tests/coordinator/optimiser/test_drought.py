"""Drought mode in the district MILP: hand-computed plans at normal and high water severity (real HiGHS)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from coordinator.model import DistrictModel
from coordinator.optimiser import PlanStatus, plan_district
from nzd.config import DistrictConfig
from tests.coordinator.cases import DAY_MS, forecast

START_MS = DAY_MS + 10 * 3_600_000  # 10:00 UTC: the PV hours are the first five steps


def reuse_district(severity: str, **tank: Any) -> DistrictModel:
    config = DistrictConfig.model_validate({
        "district": "test", "timezone": "UTC", "step_minutes": 60, "horizon_hours": 24,
        "water_severity": severity,
        "tariff": {"import_eur_per_kwh": 0.30, "export_eur_per_kwh": 0.10, "incentive_eur_per_mwh": 0,
                   "valorisation_eur_per_mwh": 0},
        "sites": [{"id": "reuse", "name": "Reuse", "pv": [{"id": "roof", "kwp": 50}], "tanks": [{
            "id": "tank", "volume_m3": 100, "level_min_pct": 10, "level_max_pct": 100,
            "level_initial_pct": 20,
            "pump_max_m3h": 20, "pump_kw_per_m3h": 1.0, "demand_m3_per_day": 24, "asset": "pump", **tank}]}],
    })
    return DistrictModel.from_config(config)


def test_at_high_severity_the_tank_ends_at_its_raised_floor_and_no_fresh_water_is_used() -> None:
    plans = {}
    for severity in ("normal", "high"):
        model = reuse_district(severity)
        # 40 kW of PV for five hours, nothing else: 200 kWh that would otherwise be exported at 0.10.
        fc = forecast(model, pv={0: {t: 40.0 for t in range(5)}}, start_ms=START_MS)
        plans[severity] = plan_district(model, fc, start_ms=START_MS)
    normal, high = (plans[s].asset("reuse", "tank") for s in ("normal", "high"))
    for tank in (normal, high):
        assert tank.flow_m3h is not None and tank.level_pct is not None and tank.fresh_water_m3h is not None
    assert plans["normal"].status is PlanStatus.OPTIMAL and plans["high"].status is PlanStatus.OPTIMAL
    # Normal: the day's 24 m3 pumped on PV; the tank ends where it started (20 %), floor 10 %.
    assert normal.flow_m3h is not None and normal.level_pct is not None
    assert normal.flow_m3h[:5].sum() == pytest.approx(24.0)
    assert normal.level_pct[-1] == pytest.approx(20.0)
    assert plans["normal"].objective_eur == pytest.approx(-(200 - 24) * 0.10, abs=1e-4)
    # High: the floor is 10 + 20 = 30 %; the tank is filled to it on PV, 34 m3 in all, at 0.10 EUR
    # per m3 of export forgone; fresh water at 4 EUR/m3 is never the cheaper way.
    assert high.flow_m3h is not None and high.level_pct is not None and high.fresh_water_m3h is not None
    assert high.flow_m3h[:5].sum() == pytest.approx(34.0)
    assert high.flow_m3h[5:].sum() == pytest.approx(0.0, abs=1e-6)
    assert high.level_pct[-1] == pytest.approx(30.0)
    assert high.level_pct[-1] > normal.level_pct[-1]
    assert np.all(high.fresh_water_m3h == 0.0)
    assert plans["high"].objective_eur == pytest.approx(-(200 - 34) * 0.10, abs=1e-4)
    assert plans["high"].to_document()["assets"][0]["fresh_water_m3h"] == [0.0] * 24


def test_at_high_severity_fresh_water_covers_only_what_the_pump_cannot() -> None:
    # 10 m3/h of demand, a 1 m3/h pump: at normal severity no plan exists (safe mode, see the hand
    # cases); at high, fresh water covers the rest at its shadow price.
    model = reuse_district("high", volume_m3=10, level_min_pct=40, level_initial_pct=50, pump_max_m3h=1,
                           demand_m3_per_day=240)
    plan = plan_district(model, forecast(model, base_load_kw=3.0, start_ms=START_MS), start_ms=START_MS)
    assert plan.status is PlanStatus.OPTIMAL
    tank = plan.asset("reuse", "tank")
    assert tank.flow_m3h is not None and tank.fresh_water_m3h is not None and tank.level_pct is not None
    # The floor is 60 % (6 m3) and the tank starts at 5 m3: it may not drain, and ends at 6 m3.
    # The pump runs flat out (24 m3); fresh water covers 240 - 24 + 1 = 217 m3.
    assert tank.flow_m3h.sum() == pytest.approx(24.0)
    assert tank.fresh_water_m3h.sum() == pytest.approx(217.0)
    assert tank.level_pct[-1] == pytest.approx(60.0)
