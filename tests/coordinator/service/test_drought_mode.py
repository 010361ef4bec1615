"""Drought mode in the running service: the operator's stored level reaches the HiGHS plan each step."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from coordinator.service import CoordinatorService
from coordinator.service._optimiser import optimiser_planner
from coordinator.water import WATER_SEVERITY_KEY
from nzd.config import DistrictConfig
from nzd.store import Event, EventKind
from nzd.store.sqlite import SqliteStore
from tests.coordinator.service.helpers import running, settings_for
from tests.harness import MosquittoServer


def tank_district(name: str) -> DistrictConfig:
    # No PV and flat prices: the plan pumps exactly what it must, so the end level is hand-computable.
    return DistrictConfig.model_validate({
        "district": name, "tariff": {"import_eur_per_kwh": 0.25, "export_eur_per_kwh": 0.0},
        "sites": [{"id": "reuse", "name": "Reuse", "tanks": [{
            "id": "tank", "volume_m3": 100, "level_min_pct": 10, "level_max_pct": 100,
            "level_initial_pct": 20, "pump_max_m3h": 20, "pump_kw_per_m3h": 1.0,
            "demand_m3_per_day": 24, "asset": "pump"}]}],
    })


def _tank_end_pct(document: dict[str, object]) -> float:
    assets = document["assets"]
    assert isinstance(assets, list)
    (tank,) = [a for a in assets if a["asset_id"] == "tank"]
    return float(tank["level_pct"][-1])


async def test_the_operators_level_from_the_store_keeps_the_tank_fuller(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    name = f"drought-{uuid.uuid4().hex[:8]}"
    store = SqliteStore(path=tmp_path / "nzd.sqlite")
    await store.open()
    try:
        service = CoordinatorService(settings=settings_for(mosquitto.url, history_days=0),
                                     district=tank_district(name), planner=optimiser_planner(), store=store)
        async with running(service):
            first = await service.wait_for_plan()
            # As the API's PUT /district/water-severity stores it.
            await store.write_events([Event(EventKind.STATUS, name, "*", int(time.time() * 1000),
                                            WATER_SEVERITY_KEY, {"water_severity": "high", "user": "op"})])
            second = await service.plan_and_dispatch()
            await service.drain_events()
        assert (first.status, second.status) == ("optimal", "optimal")
        plans = {e.key: e.document for e in await store.events(EventKind.PLAN, district=name)}
        normal, high = plans[first.plan_id], plans[second.plan_id]
        assert (normal["water_severity"], high["water_severity"]) == ("normal", "high")
        # Normal: the tank ends where it started (20 %); high: at its raised floor, 10 + 20 = 30 %.
        assert abs(_tank_end_pct(normal) - 20.0) < 1e-3
        assert abs(_tank_end_pct(high) - 30.0) < 1e-3
        assert service.severity.level.value == "high"
    finally:
        await store.close()
