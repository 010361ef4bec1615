"""The production planner: forecast, HiGHS, first interval as targets; excluded assets held idle."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from coordinator.dispatch import AssetKey
from coordinator.service import PlanRequest
from coordinator.service._optimiser import optimiser_planner
from coordinator.state import LiveState
from nzd.config import DistrictConfig

TZ = ZoneInfo("Europe/Rome")
START = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
START_MS = int(START.timestamp() * 1000)


def _district() -> DistrictConfig:
    # Exporting at 10:00-11:00 pays 0.60 EUR/kWh, recharging later costs 0.05: discharge now.
    imp, exp = [0.05] * 24, [0.0] * 24
    imp[10] = exp[10] = 0.60
    return DistrictConfig.model_validate({
        "district": "opt", "tariff": {"import_eur_per_kwh": imp, "export_eur_per_kwh": exp},
        "sites": [{"id": s, "name": s, "batteries": [
            {"id": "battery", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50,
             "soc_initial_pct": 80, "asset": f"bat-{s}"}]} for s in ("a", "b")],
    })


def _request(excluded: frozenset[AssetKey]) -> PlanRequest:
    district = _district()
    state = LiveState(district=district, stale_after_s=60)
    return PlanRequest(district=district, start_ms=START_MS, snapshot=state.snapshot(now_ms=START_MS),
                       excluded=excluded, plan_id="t")


def test_batteries_discharge_into_the_expensive_hour():
    outcome = optimiser_planner()(_request(frozenset()))
    assert outcome.status == "optimal"
    assert sorted((t.site, t.asset, t.quantity, t.value) for t in outcome.targets) == [
        ("a", "bat-a", "battery_power_setpoint_w", 50_000.0),
        ("b", "bat-b", "battery_power_setpoint_w", 50_000.0)]
    assert outcome.document["forecast_method"]


def test_an_excluded_battery_is_planned_idle():
    outcome = optimiser_planner()(_request(frozenset({AssetKey("a", "bat-a")})))
    values = {t.asset: t.value for t in outcome.targets}
    assert values == {"bat-a": 0.0, "bat-b": 50_000.0}


def test_the_plan_starting_at_local_midnight_carries_the_days_baselines():
    district = _district()
    midnight_ms = int(datetime(2026, 11, 25, 0, 0, tzinfo=TZ).timestamp() * 1000)
    state = LiveState(district=district, stale_after_s=60)
    request = PlanRequest(district=district, start_ms=midnight_ms,
                          snapshot=state.snapshot(now_ms=midnight_ms), excluded=frozenset(), plan_id="t")
    doc = optimiser_planner()(request).document["baselines"]
    assert doc["day_start_ms"] == midnight_ms and doc["site_ids"] == ["a", "b"]
    assert len(doc["hour_start_ms"]) == 24
    # Each firm alone would also sell into the 0.60 EUR/kWh hour; doing nothing would not.
    assert doc["coordinated"]["cost_eur"] <= doc["fair"]["cost_eur"] + 0.01
    assert doc["fair"]["cost_eur"] < doc["do_nothing"]["cost_eur"]
    assert sum(doc["coordinated"]["export_kwh"][0]) > 0 and sum(doc["do_nothing"]["export_kwh"][0]) == 0
    # 10:00 is not the day's first plan.
    assert "baselines" not in optimiser_planner()(_request(frozenset())).document
