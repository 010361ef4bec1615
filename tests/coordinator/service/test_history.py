"""History for the forecasts, read back from a real SQLite store."""

from __future__ import annotations

import math

import numpy as np

from coordinator.forecast import forecast_district
from coordinator.model import DistrictModel
from coordinator.service._history import load_history
from nzd.config import DistrictConfig
from nzd.messages import DeviceKind
from nzd.store import Reading, SqliteStore

STEP_MS = 15 * 60_000
T0 = 1_790_000_000_000 // STEP_MS * STEP_MS


def _district() -> DistrictConfig:
    return DistrictConfig.model_validate({
        "district": "hist",
        "sites": [
            {"id": "a", "name": "A", "meters": [{"device": "grid", "role": "grid"},
                                                {"device": "bat", "role": "battery"}],
             "pv": [{"id": "roof", "kwp": 50, "device": "inv"}]},
            {"id": "b", "name": "B"},  # nothing metered
        ],
    })


async def test_load_is_grid_plus_pv_plus_battery_discharge(tmp_path):
    store = SqliteStore(path=tmp_path / "h.sqlite")
    await store.open()
    try:
        readings = []
        for i in range(4):  # two readings in each of the first two intervals
            ts = T0 + i * STEP_MS // 2
            readings += [
                Reading("hist", "a", "grid", DeviceKind.ELECTRICITY_METER, ts, i, {"active_power_w": 10e3}),
                Reading("hist", "a", "inv", DeviceKind.PV_INVERTER, ts, i, {"pv_power_w": 4_000.0}),
                Reading("hist", "a", "bat", DeviceKind.BATTERY, ts, i, {"battery_power_w": -2_000.0}),
            ]
        await store.write(readings)
        history = await load_history(store, _district(), end_ms=T0 + 3 * STEP_MS, days=1)
    finally:
        await store.close()
    assert history is not None
    assert history.end_ms == T0 + 3 * STEP_MS
    load, pv = history.window(T0, 3)
    assert load[0, :2].tolist() == [12.0, 12.0]  # 10 kW import + 4 kW PV - 2 kW charging
    assert pv[0, :2].tolist() == [4.0, 4.0]
    assert math.isnan(load[0, 2]) and np.isnan(load[1]).all()
    # The forecasts take it as it is.
    forecast = forecast_district(DistrictModel.from_config(_district()), history, start_ms=T0 + 3 * STEP_MS)
    assert forecast.load_kw.shape == (2, 96)


async def test_an_empty_store_gives_no_history(tmp_path):
    store = SqliteStore(path=tmp_path / "h.sqlite")
    await store.open()
    try:
        assert await load_history(store, _district(), end_ms=T0, days=7) is None
    finally:
        await store.close()
